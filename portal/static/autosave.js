/* Draft autosave for any long text a member writes (a personal report, a self-assessment, …): a copy in
 * localStorage on every keystroke (restored after a reload or a dropped connection) and a draft at the
 * portal, sent a few seconds after typing stops and when the page is hidden (phones kill background tabs).
 * Without JavaScript the form still sends the text; only the autosave is missing.
 *
 * Driven only by data attributes on the <form data-autosave> (no page-specific code, no inline script: CSP):
 *   data-autosave-field   name of the textarea; also the JSON key its text is sent under ("body", "text")
 *   data-autosave-extra   optional, space-separated names of further fields sent with it: a checkbox sends
 *                         its checked state, another field its value, a field missing from the page null
 *   data-autosave-status  optional, id of the element that shows the messages below
 *   data-storage-key      localStorage key of this page's copy (per member and per thing written)
 *   data-draft-url        where the JSON draft is POSTed (with the CSRF header); absent: no server draft,
 *                         the text is kept on this device only
 *   data-server-saved     when the server's draft was saved (ms since the epoch, 0 if none): an older
 *                         local copy is not restored
 *   data-saved-text       "… %(time)s" shown when the portal kept the draft (time from its answer)
 *   data-restored-text    shown when the local copy was restored
 *   data-offline-text     shown when the portal could not be reached
 * The form gets data-saved="1" once the portal has kept the current text, and data-autosave-ready="1" once
 * this script listens to it (what a browser test waits for before typing). */
(function () {
  "use strict";
  var DELAY_MS = 3000;

  function attach(form) {
    var field = form.getAttribute("data-autosave-field");
    var box = field ? form.elements.namedItem(field) : null;
    var key = form.getAttribute("data-storage-key");
    if (!box || !key) { return; }
    var extras = (form.getAttribute("data-autosave-extra") || "").split(/\s+/).filter(Boolean);
    var state = document.getElementById(form.getAttribute("data-autosave-status") || "");
    var tokenInput = form.querySelector("input[name=csrf_token]");
    var token = tokenInput ? tokenInput.value : "";
    var sentText = box.value;
    var beaconText = null;
    var submitted = false;
    var timer = null;

    function store(value) {
      try {
        window.localStorage.setItem(key, JSON.stringify({ text: value, at: Date.now() }));
      } catch (e) { /* private mode: the server draft remains */ }
    }
    function stored() {
      try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
    }
    function forget() {
      try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
    }
    function tell(text) { if (state && text) { state.textContent = text; } }

    function payload(text) {
      var data = {};
      data[field] = text;
      extras.forEach(function (name) {
        var input = form.elements.namedItem(name);
        if (!input) { data[name] = null; } else if (input.type === "checkbox") { data[name] = input.checked; } else {
          data[name] = input.value;
        }
      });
      return JSON.stringify(data);
    }
    function post(text, keepalive) {
      return fetch(form.getAttribute("data-draft-url"), { method: "POST", keepalive: keepalive,
        credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: payload(text) });
    }
    function save(useBeacon) {
      timer = null;
      var text = box.value;
      // no draft URL (e.g. a submitted self-assessment): kept on this device until submitted again
      if (submitted || text === sentText || !form.getAttribute("data-draft-url") || !window.fetch) { return; }
      if (useBeacon === true) {
        // keepalive lets the request finish while the page is being hidden or closed;
        // visibilitychange and pagehide both fire when leaving: send that text once
        if (text === beaconText) { return; }
        beaconText = text;
        post(text, true);
        return;
      }
      post(text, false)
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
        .then(function (data) {
          sentText = text;
          form.setAttribute("data-saved", "1");
          tell((form.getAttribute("data-saved-text") || "").replace("%(time)s", data.saved_at));
        })
        .catch(function () { tell(form.getAttribute("data-offline-text")); });
    }
    function schedule() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY_MS);
    }

    // A local copy typed after the portal's draft was saved (the save did not go through) wins;
    // an older one (this device, before writing on another) does not.
    var local = stored();
    var serverSaved = parseInt(form.getAttribute("data-server-saved") || "0", 10) || 0;
    if (local && typeof local.text === "string" && local.text.length && local.text !== box.value &&
        local.at > serverSaved) {
      box.value = local.text;
      tell(form.getAttribute("data-restored-text"));
      schedule();
    }
    box.addEventListener("input", function () {
      store(box.value);
      beaconText = null;
      form.removeAttribute("data-saved");
      schedule();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { save(true); } else { beaconText = null; }
    });
    window.addEventListener("pagehide", function () { save(true); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { submitted = false; beaconText = null; }  // back to the form (page cache)
    });
    form.addEventListener("submit", function () {
      submitted = true;
      if (timer) { clearTimeout(timer); timer = null; }
      forget();
    });
    form.setAttribute("data-autosave-ready", "1");
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-autosave]"), attach);
})();

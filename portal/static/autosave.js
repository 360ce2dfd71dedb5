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
 * Without data-autosave-field the form is kept whole on this device (a care request: every field but hidden
 * and file inputs; no server draft): restored after a reload into the fields the member has not touched since
 * the page came (typing before this script arrived wins), not over a page the portal sent back with errors.
 * A <form data-autosave-discard="<storage key>"> (the portal's "discard the draft") forgets that copy too.
 * The form gets data-saved="1" once the portal has kept the current text, and data-autosave-ready="1" once
 * this script listens to it (what a browser test waits for before typing).
 * A submit that offline-queue.js keeps for later (prevented) keeps the copy: it is dropped once sent. */
(function () {
  "use strict";
  var DELAY_MS = 3000;

  var SKIP = { hidden: true, file: true, submit: true, button: true, reset: true };

  function store(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* private mode or full: the server draft remains */ }
  }
  function stored(key) {
    try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
  }
  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  function teller(form) {
    var state = document.getElementById(form.getAttribute("data-autosave-status") || "");
    return function (text) { if (state && text) { state.textContent = text; } };
  }

  // -- a whole form, on this device only ------------------------------------------------------------------------
  function kept(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP[el.type] && el.name !== "csrf_token";
    });
  }
  function slotOf(el) {  // a radio or checkbox is kept per value: a group shares its name
    return el.type === "checkbox" || el.type === "radio" ? el.name + "=" + el.value : el.name;
  }
  // What the server rendered (defaultValue / defaultChecked / defaultSelected): a field that differs was typed
  // into before this script arrived (slow phone), and those keystrokes fired no event we heard.
  function touched(el) {
    if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
    if (el.tagName === "SELECT") {
      var found = Array.prototype.findIndex.call(el.options, function (opt) { return opt.defaultSelected; });
      return el.selectedIndex !== Math.max(found, 0);
    }
    return el.value !== el.defaultValue;
  }
  function attachFields(form, key) {
    var tell = teller(form);
    function save() {
      var fields = {};
      kept(form).forEach(function (el) {
        fields[slotOf(el)] = el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
      });
      store(key, { fields: fields, at: Date.now() });
    }
    function restore() {
      var local = stored(key);
      if (!local || !local.fields) { return false; }
      var fresh = {};  // names the member changed already: a whole radio group is theirs then
      kept(form).forEach(function (el) { if (touched(el)) { fresh[el.name] = true; } });
      var restored = false;
      kept(form).forEach(function (el) {
        var value = local.fields[slotOf(el)];
        if (value === undefined || fresh[el.name]) { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.checked !== !!value) { el.checked = !!value; restored = true; }
        } else if (typeof value === "string" && value !== el.value) {
          el.value = value;
          restored = true;
        }
      });
      return restored;
    }
    var early = kept(form).some(touched);
    // errors rendered by the portal show what was posted: those values win over the stored copy
    if (!form.querySelector(".has-error") && restore()) { tell(form.getAttribute("data-restored-text")); }
    if (early) { save(); }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function (event) { if (!event.defaultPrevented) { forget(key); } });
    form.setAttribute("data-autosave-ready", "1");
  }

  // -- one long text, with a draft at the portal ----------------------------------------------------------------
  function attach(form) {
    var field = form.getAttribute("data-autosave-field");
    var key = form.getAttribute("data-storage-key");
    if (!key) { return; }
    if (!field) { attachFields(form, key); return; }
    var box = form.elements.namedItem(field);
    if (!box) { return; }
    var extras = (form.getAttribute("data-autosave-extra") || "").split(/\s+/).filter(Boolean);
    var tell = teller(form);
    var tokenInput = form.querySelector("input[name=csrf_token]");
    var token = tokenInput ? tokenInput.value : "";
    var sentText = box.value;
    var beaconText = null;
    var submitted = false;
    var timer = null;

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
    var local = stored(key);
    var serverSaved = parseInt(form.getAttribute("data-server-saved") || "0", 10) || 0;
    if (local && typeof local.text === "string" && local.text.length && local.text !== box.value &&
        local.at > serverSaved) {
      box.value = local.text;
      tell(form.getAttribute("data-restored-text"));
      schedule();
    }
    box.addEventListener("input", function () {
      store(key, { text: box.value, at: Date.now() });
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
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }  // kept to be sent later: still being written, as far as drafts go
      submitted = true;
      if (timer) { clearTimeout(timer); timer = null; }
      forget(key);
    });
    form.setAttribute("data-autosave-ready", "1");
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-autosave]"), attach);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-autosave-discard]"), function (form) {
    form.addEventListener("submit", function () { forget(form.getAttribute("data-autosave-discard")); });
  });
})();

/* The report writing page keeps the text while the member writes: a copy in localStorage on every
 * keystroke (restored after a reload or a dropped connection) and a draft at the portal, sent a few
 * seconds after typing stops and when the page is hidden (phones kill background tabs).
 * Without JavaScript the form still sends the report; only the autosave is missing. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var box = form.querySelector("textarea[name=body]");
  var state = document.getElementById("draft-state");
  var key = form.getAttribute("data-storage-key");
  var token = form.querySelector("input[name=csrf_token]").value;
  var share = form.querySelector("input[name=share_with_host]");
  var sentText = box.value;
  var timer = null;
  var DELAY_MS = 3000;

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
  function tell(text) { if (state) { state.textContent = text; } }

  // A local copy typed after the portal's draft was saved (the save did not go through) wins;
  // an older one (this device, before writing on another) does not.
  var local = stored();
  var serverSaved = parseInt(form.getAttribute("data-server-saved") || "0", 10);
  if (local && typeof local.text === "string" && local.text.length && local.text !== box.value &&
      local.at > serverSaved) {
    box.value = local.text;
    tell(form.getAttribute("data-restored-text"));
    schedule();
  }
  function save(useBeacon) {
    timer = null;
    var text = box.value;
    if (text === sentText) { return; }
    var body = JSON.stringify({ body: text, share_with_host: share ? share.checked : null });
    if (useBeacon && window.fetch) {
      // keepalive lets the request finish while the page is being hidden or closed
      fetch(form.getAttribute("data-draft-url"), { method: "POST", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: body });
      return;
    }
    fetch(form.getAttribute("data-draft-url"), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: body })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (data) {
        sentText = text;
        form.setAttribute("data-saved", "1");
        tell(form.getAttribute("data-saved-text").replace("%(time)s", data.saved_at));
      })
      .catch(function () { tell(form.getAttribute("data-offline-text")); });
  }
  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY_MS);
  }
  box.addEventListener("input", function () {
    store(box.value);
    form.removeAttribute("data-saved");
    schedule();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  form.addEventListener("submit", function () { forget(); });
})();

/* Save each answer as it is given (PUT to the API, idempotent per question) through the portal's offline
   queue (offline-queue.js, loaded first): without a connection the latest answer to each question is kept
   on this phone, put back into the form after a reload, and sent when the connection returns.
   Without JavaScript the form still saves on "next". */
(function () {
  "use strict";
  var form = document.querySelector("form[data-save-url]");
  var queue = window.PortalOfflineQueue;
  if (!form || !queue) { return; }
  var url = form.getAttribute("data-save-url");
  var slot = "quiz-answer:" + url;
  var qtype = form.getAttribute("data-qtype");
  var status = form.querySelector(".save-status");
  var timer = null;
  var pending = null;
  // The words come translated from the page (the template's gettext), not from this file.
  var words = {saving: form.getAttribute("data-saving"), saved: form.getAttribute("data-saved-text"),
               failed: form.getAttribute("data-failed"), waiting: form.getAttribute("data-waiting-text")};

  function answer() {
    var data = new FormData(form);
    if (qtype === "multi") { return data.getAll("answer"); }
    if (qtype === "matching") {
      var out = {};
      form.querySelectorAll("select").forEach(function (sel) { out[sel.name.replace(/^answer-/, "")] = sel.value; });
      return out;
    }
    var value = data.get("answer");
    if (qtype === "truefalse") { return value === null ? null : value === "true"; }
    return value;
  }

  function shown(result) {
    if (result.state === "sent") { status.textContent = words.saved; form.setAttribute("data-saved", "1"); return; }
    if (result.state === "waiting" || result.state === "login") { status.textContent = words.waiting; return; }
    pending = null;
    status.textContent = result.message || words.failed;
    if (result.status === 409) { window.location.reload(); }  // the attempt is over: show where it stands
  }

  function fields() {
    var out = [];
    new FormData(form).forEach(function (value, name) { if (typeof value === "string") { out.push([name, value]); } });
    return out;
  }

  function save() {
    var body = JSON.stringify({answer: answer()});
    if (body === pending) { return; }
    pending = body;
    status.textContent = words.saving;
    form.removeAttribute("data-saved");
    queue.send(slot, {url: url, method: "PUT", body: body, fields: fields()}, shown);
  }

  // Server-rendered state: defaultChecked / defaultSelected / defaultValue. On a slow phone a
  // person may answer before this script arrives; those answers fired no event we heard.
  function renderedIndex(select) {  // with no option marked selected the browser shows the first
    var found = Array.prototype.findIndex.call(select.options, function (opt) { return opt.defaultSelected; });
    return Math.max(found, 0);
  }

  function changedBeforeLoad() {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "radio" || el.type === "checkbox") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") { return el.selectedIndex !== renderedIndex(el); }
      if (el.tagName === "TEXTAREA" || el.type === "text" || !el.type) { return el.value !== el.defaultValue; }
      return false;
    });
  }

  form.addEventListener("change", function () { clearTimeout(timer); save(); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text" || !event.target.type || event.target.inputMode === "decimal") {
      clearTimeout(timer);
      timer = setTimeout(save, 600);
    }
  });

  var waiting = queue.waiting(slot);
  if (changedBeforeLoad()) {
    save();
  } else if (waiting) {  // answered offline before a reload: that answer shows, and is on its way
    if (waiting.fields) { queue.fill(form, waiting.fields); }
    pending = waiting.body;
    status.textContent = words.waiting;
    queue.listen(slot, shown);
  }
  // Tests (and anything else) wait for this instead of guessing how long loading takes.
  document.documentElement.dataset.autosave = "ready";

  var clock = document.querySelector(".timer[data-remaining]");
  if (clock) {
    var left = parseInt(clock.getAttribute("data-remaining"), 10);
    var tick = function () {
      if (left <= 0) { clock.textContent = "0:00"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      clock.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      left -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  }
}());

/* Keeps a half-written care request in this browser (localStorage) so a reload loses nothing.
 * Progressive enhancement: without JavaScript, "Save as draft" stores it on the server.
 * The key names the account, so another person logging in on the same phone does not see it;
 * the draft is removed when the form is submitted (sent or saved on the server). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-key]");
  if (!form || !window.localStorage) { return; }
  var key = form.getAttribute("data-draft-key");
  var skip = { csrf_token: true, action: true };

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !skip[el.name] && el.type !== "file" && el.type !== "hidden" &&
        el.type !== "submit" && el.type !== "button";
    });
  }

  function save() {
    var data = {};
    fields().forEach(function (el) {
      data[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try { localStorage.setItem(key, JSON.stringify({ saved: Date.now(), data: data })); } catch (e) { /* full or blocked */ }
  }

  // What the server rendered (defaultValue / defaultChecked / defaultSelected): a field that differs
  // was typed into before this script arrived (slow phone), and those keystrokes fired no event we heard.
  function touched(el) {
    if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
    if (el.tagName === "SELECT") {
      var found = Array.prototype.findIndex.call(el.options, function (opt) { return opt.defaultSelected; });
      return el.selectedIndex !== Math.max(found, 0);
    }
    return el.value !== el.defaultValue;
  }

  function restore() {
    var raw;
    try { raw = localStorage.getItem(key); } catch (e) { return; }
    if (!raw) { return; }
    var stored;
    try { stored = JSON.parse(raw); } catch (e) { localStorage.removeItem(key); return; }
    if (!stored || !stored.data) { return; }
    var restored = false;
    fields().forEach(function (el) {
      if (!(el.name in stored.data) || touched(el)) { return; }  // fresh input wins over the stored copy
      var value = stored.data[el.name];
      if (el.type === "checkbox") {
        if (el.checked !== !!value) { el.checked = !!value; restored = true; }
      } else if (typeof value === "string" && value !== el.value) {
        el.value = value;
        restored = true;
      }
    });
    if (restored) {
      var note = form.querySelector(".care-draft-note");
      if (note) { note.setAttribute("data-restored", "1"); note.classList.add("flash"); }
    }
  }

  // Errors rendered by the server show what was posted: those values win over the stored copy.
  var early = fields().some(touched);
  if (!form.querySelector(".has-error")) { restore(); }
  if (early) { save(); }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", function () {
    try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
  });
  // Tests (and anything else) wait for this instead of guessing how long loading takes.
  document.documentElement.dataset.autosave = "ready";
}());

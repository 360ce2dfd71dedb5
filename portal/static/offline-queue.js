/* Sending later: what a member sends without a connection is kept on this phone and sent when it returns.
 * The one way for every page (forms, and answers a script saves as they are given). Without JavaScript the
 * browser sends forms as usual; only the waiting is missing.
 *
 * Included with  <script src="offline-queue.js" data-account="<account id>" defer>  (macro offline_script):
 * what waits is kept in localStorage per account ("portal-outbox:<account>:<slot>", one waiting copy per slot)
 * and only the account that wrote it sends it, so another person on a shared phone never sends it.
 *
 * Forms: <form data-offline-send="<slot>"> with the texts of the macro offline_send (data-waiting-text,
 * data-sent-text, data-refused-text with %(reason)s, data-login-text, data-files-text, data-open-text,
 * data-dismiss-text, data-login-url). Submitted while the phone is offline, the form's fields (its CSRF
 * token included) are kept with an Idempotency-Key made once for this submission, and a "waiting to send"
 * box shows. Sent with fetch when the browser is online again and on every page load (the CSRF token of the
 * page then, in case the session was renewed), with the same Idempotency-Key: the portal runs it once.
 * The portal's answer to a form: a redirect without an error or warning message is "sent" (the box shows the
 * portal's message and a link); a page with an error, or a redirect with an error or warning, is "refused":
 * shown, not sent again, the text kept in the box to copy and in the form to correct; a server error or no
 * connection stays waiting; the login page waits for the member to log in again. Sent: the copy and the
 * page's draft (data-storage-key, autosave.js) are dropped.
 *
 * Scripts: PortalOfflineQueue.send(slot, {url, method, body (JSON text), fields, texts}, handler) keeps
 * the latest request per slot, sends it now, and again when the connection returns; handler(result) gets
 * {state: "sent" | "waiting" | "login" | "refused", status, message}. PortalOfflineQueue.waiting(slot) is
 * what still waits there, PortalOfflineQueue.fill(form, fields) puts kept fields back into a form.
 * <html data-offline-queue="ready"> once it listens (what a browser test waits for). */
(function () {
  "use strict";
  if (window.PortalOfflineQueue || !window.fetch) { return; }
  var script = document.currentScript;
  var account = script ? script.getAttribute("data-account") || "" : "";
  if (!account) { return; }
  var PREFIX = "portal-outbox:" + account + ":";
  var SKIP = { hidden: true, file: true, submit: true, button: true, reset: true };
  var TEXTS = ["waiting", "sent", "refused", "login", "files", "open", "dismiss"];
  var busy = {};      // storage key → a send is on its way
  var again = {};     // storage key → a newer copy was kept meanwhile: send once more
  var handlers = {};  // storage key → the page script's handler
  var RETRY_MS = 30000;
  var retry = null;

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
  }
  function write(key, item) {
    try { window.localStorage.setItem(key, JSON.stringify(item)); return true; } catch (e) { return false; }
  }
  function drop(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  function storedKeys() {
    var out = [];
    try {
      for (var i = 0; i < window.localStorage.length; i += 1) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(PREFIX) === 0) { out.push(key); }
      }
    } catch (e) { /* storage blocked: nothing waits */ }
    return out;
  }
  function newKey() {  // getRandomValues works on plain http too (randomUUID needs a secure page)
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function pageToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }
  function textsOf(form) {
    var texts = { loginUrl: form.getAttribute("data-login-url") || "" };
    TEXTS.forEach(function (name) { texts[name] = form.getAttribute("data-" + name + "-text") || ""; });
    return texts;
  }

  function request(item) {
    var token = pageToken();
    var headers = { "Idempotency-Key": item.key };
    var body;
    if (item.json) {
      headers["Content-Type"] = "application/json";
      headers.Accept = "application/json";
      if (token) { headers["X-CSRFToken"] = token; }
      body = item.body;
    } else {
      body = new FormData();
      item.fields.forEach(function (pair) {
        body.append(pair[0], pair[0] === "csrf_token" && token ? token : pair[1]);
      });
    }
    return fetch(item.url, { method: item.method, headers: headers, body: body, credentials: "same-origin" });
  }

  function textOf(nodes) {
    return Array.prototype.map.call(nodes, function (el) { return el.textContent.trim(); })
      .filter(Boolean).join(" ");
  }
  function samePath(a, b) {
    return !!b && new URL(a, window.location.href).pathname === new URL(b, window.location.href).pathname;
  }
  // What the portal answered, as the member should read it.
  function outcome(item, res) {
    var base = { status: res.status, url: res.url };
    if (res.status >= 500) { return Promise.resolve({ state: "waiting", status: res.status }); }
    if (item.json) {
      if (res.ok) { base.state = "sent"; return Promise.resolve(base); }
      if (res.status === 401) { base.state = "login"; return Promise.resolve(base); }
      return res.json().catch(function () { return null; }).then(function (data) {
        base.state = "refused";
        base.message = (data && data.error && data.error.message) || "";
        return base;
      });
    }
    if (res.redirected && samePath(res.url, item.texts.loginUrl)) { base.state = "login"; return Promise.resolve(base); }
    return res.text().then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var flashes = doc.querySelectorAll("main > .flash[role=status]");
      var bad = doc.querySelectorAll("main > .flash.error[role=status], main > .flash.warning[role=status]");
      if (res.ok && res.redirected && !bad.length) {
        base.state = "sent";
        base.message = textOf(flashes);
        return base;
      }
      base.state = "refused";
      base.message = textOf(bad) || textOf(doc.querySelectorAll("main [role=alert], main .field .error")) ||
        textOf(doc.querySelectorAll("main h1"));
      return base;
    });
  }

  function send(key) {
    if (busy[key]) { again[key] = true; return; }
    var item = read(key);
    if (!item || item.state !== "waiting") { return; }
    // the browser knows it is offline: "online" sends it (a try now could only fail, or, through a service
    // worker a test's offline switch does not reach, pretend a connection the phone has not)
    if (navigator.onLine === false) { settle(key, item, { state: "waiting" }); return; }
    busy[key] = true;
    request(item)
      .then(function (res) { return outcome(item, res); }, function () { return { state: "waiting" }; })
      .then(function (result) { settle(key, item, result); })
      .catch(function () { /* an unreadable answer: it stays waiting */ })
      .then(function () {
        busy[key] = false;
        if (again[key]) { again[key] = false; send(key); }
      });
  }

  function settle(key, item, result) {
    var now = read(key);
    var current = !!now && now.rev === item.rev;  // not replaced by a newer copy while on its way
    if (current && result.state === "sent") {
      drop(key);
      if (item.draftKey) { drop(item.draftKey); }
      var form = item.fields && !item.json ? formFor(item.slot) : null;
      if (form) { form.reset(); }  // the page still shows the form: sending it again would be a second one
    } else if (current && result.state === "refused" && !(item.texts && item.texts.waiting)) {
      drop(key);  // a script's request: its page tells the member, and the answer is still in its form
    } else if (current && result.state === "refused") {
      item.state = "refused";
      item.message = result.message || "";
      write(key, item);
    }
    if (handlers[key]) { handlers[key](result); } else { show(key, item, result); }
    // online by the browser's word, yet nothing came through (a weak signal): try again a little later
    if (result.state === "waiting" && navigator.onLine !== false && !retry) { retry = setTimeout(sendAll, RETRY_MS); }
  }

  // -- what the member sees ---------------------------------------------------------------------------------
  function formFor(slot) {
    return Array.prototype.filter.call(document.querySelectorAll("form[data-offline-send]"), function (form) {
      return form.getAttribute("data-offline-send") === slot;
    })[0] || null;
  }
  function boxFor(key, slot) {
    var id = "offline-" + key.replace(/[^A-Za-z0-9_-]/g, "-");
    var box = document.getElementById(id);
    if (box) { return box; }
    box = document.createElement("div");
    box.id = id;
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    var form = formFor(slot);
    var main = document.querySelector("main") || document.body;
    if (form) { form.appendChild(box); } else { main.insertBefore(box, main.firstChild); }
    return box;
  }
  function line(box, text) {
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    return p;
  }
  function show(key, item, result) {
    var texts = item.texts || {};
    if (!texts.waiting) { return; }  // a script's request without texts: its page says it
    var box = boxFor(key, item.slot);
    var state = result.state;
    box.textContent = "";
    box.className = "flash offline-state " + (state === "sent" ? "success" : state === "refused" ? "error" : "warning");
    box.setAttribute("data-offline-state", state);
    if (state === "sent") {
      var p = line(box, (texts.sent + " " + (result.message || "")).trim() + " ");
      if (result.url && !samePath(result.url, window.location.href)) {
        var link = document.createElement("a");
        link.href = result.url;
        link.textContent = texts.open;
        p.appendChild(link);
      }
    } else if (state === "refused") {
      line(box, texts.refused.replace("%(reason)s", result.message || item.message || ""));
      if (item.copy) {
        var copy = document.createElement("textarea");
        copy.readOnly = true;
        copy.rows = 4;
        copy.value = item.copy;
        copy.setAttribute("aria-label", texts.refused.replace("%(reason)s", ""));
        box.appendChild(copy);
      }
      var dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "link";
      dismiss.textContent = texts.dismiss;
      dismiss.addEventListener("click", function () { drop(key); box.parentNode.removeChild(box); });
      box.appendChild(dismiss);
    } else {
      line(box, state === "login" ? texts.login : texts.waiting);
    }
  }

  // -- forms ----------------------------------------------------------------------------------------------------
  function fill(form, fields) {
    var values = {};
    fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.type] || el.name === "csrf_token") { return; }
      var got = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = got.indexOf(el.value) >= 0; } else if (got.length) {
        el.value = got[0];
      }
    });
  }
  function copyText(form) {  // what is worth copying when the portal refuses it: the text the member wrote
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el.tagName === "TEXTAREA" || el.type === "text") && el.value.trim();
    }).map(function (el) { return el.value; }).join("\n\n");
  }
  function keep(key, item) {
    var old = read(key);
    // a waiting submission written again is the same submission: the portal must not run both
    item.key = old && old.state === "waiting" && old.key ? old.key : newKey();
    item.rev = newKey();
    item.state = "waiting";
    return write(key, item);
  }
  function queueForm(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    var fields = [];
    var files = false;
    data.forEach(function (value, name) {
      if (typeof value === "string") { fields.push([name, value]); } else if (value && value.size) { files = true; }
    });
    var slot = form.getAttribute("data-offline-send");
    var key = PREFIX + slot;
    // the attribute, not form.action: a field named "action" (a care request's buttons) hides that property
    var url = new URL(form.getAttribute("action") || "", window.location.href).href;
    var item = { slot: slot, url: url, method: "POST", fields: fields, texts: textsOf(form),
      draftKey: form.getAttribute("data-storage-key") || "", copy: copyText(form) };
    if (files) {
      var box = boxFor(key, slot);
      box.className = "flash offline-state warning";
      box.setAttribute("data-offline-state", "files");
      box.textContent = item.texts.files;
      return true;  // not kept: the files cannot be; the page stays as it is
    }
    if (!keep(key, item)) { return false; }
    show(key, item, { state: "waiting" });
    return true;
  }

  // Capture: runs before a form's own submit listeners (autosave.js keeps its draft when this one waits).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-offline-send") || navigator.onLine !== false) { return; }
    if (queueForm(form, event.submitter)) { event.preventDefault(); }
  }, true);

  function restoreAndSend() {
    storedKeys().forEach(function (key) {
      var item = read(key);
      if (!item) { return; }
      var form = item.fields ? formFor(item.slot) : null;
      if (form) { fill(form, item.fields); }
      if (item.state === "refused") { show(key, item, { state: "refused", message: item.message }); return; }
      if (!handlers[key]) { show(key, item, { state: "waiting" }); }
      send(key);
    });
  }
  function sendAll() {
    if (retry) { clearTimeout(retry); }
    retry = null;
    storedKeys().forEach(function (key) {
      var item = read(key);
      if (item && item.state === "waiting") { send(key); }
    });
  }

  window.PortalOfflineQueue = {
    send: function (slot, spec, handler) {
      var key = PREFIX + slot;
      handlers[key] = handler;
      var item = { slot: slot, url: spec.url, method: spec.method || "POST", json: true, body: spec.body,
        fields: spec.fields || null, texts: spec.texts || {} };
      if (!keep(key, item)) { handler({ state: "refused", message: "" }); return; }
      send(key);
    },
    waiting: function (slot) {
      var item = read(PREFIX + slot);
      return item && item.state === "waiting" ? item : null;
    },
    listen: function (slot, handler) { handlers[PREFIX + slot] = handler; },
    fill: fill
  };

  window.addEventListener("online", sendAll);
  restoreAndSend();
  document.documentElement.setAttribute("data-offline-queue", "ready");
})();

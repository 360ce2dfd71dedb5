/* Reading time: while the lesson page is visible and focused, tell the server every few
   seconds ("beat"); when it is hidden, blurred or left, say so ("pause"). The server credits
   the time between a member's events to one lesson at a time and caps it (services.py,
   "reading time"), so this script can only report, never grant. Without JavaScript the time
   between lesson requests counts instead. */
(function () {
  "use strict";
  var clock = document.getElementById("reading-clock");
  if (!clock || !window.FormData) { return; }
  var url = clock.getAttribute("data-reading-url");
  var token = clock.getAttribute("data-csrf");
  var every = Math.max(1, parseInt(clock.getAttribute("data-interval"), 10) || 15) * 1000;
  var timer = null;

  function send(state) {
    var body = new FormData();
    body.append("csrf_token", token);
    body.append("state", state);
    // A page being hidden or closed may not finish a fetch: a beacon still goes out.
    if (state === "pause" && navigator.sendBeacon && navigator.sendBeacon(url, body)) { return; }
    if (window.fetch) {
      fetch(url, {method: "POST", body: body, credentials: "same-origin", keepalive: true}).catch(function () {});
    }
  }

  function inFront() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  function update() {
    if (inFront() && timer === null) {
      send("beat");
      timer = window.setInterval(function () { if (inFront()) { send("beat"); } else { update(); } }, every);
    } else if (!inFront() && timer !== null) {
      window.clearInterval(timer);
      timer = null;
      send("pause");
    }
  }

  document.addEventListener("visibilitychange", update);
  window.addEventListener("focus", update);
  window.addEventListener("blur", update);
  window.addEventListener("pagehide", function () {
    if (timer !== null) { window.clearInterval(timer); timer = null; send("pause"); }
  });
  update();
}());

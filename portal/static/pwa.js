/* The portal as an app on the phone (every page loads this, deferred; no inline script: CSP).
 *
 * - registers the service worker (/sw.js: pages a member reads stay readable without signal);
 * - shows a note while the phone is offline (the page is then the copy saved on the phone);
 * - offers "Install on this phone" when the browser allows it (Android Chrome's beforeinstallprompt);
 * - on the offline page, lists the pages saved on this phone ([data-saved-pages]).
 * Driven by data attributes of <div id="pwa">: data-sw (the worker's URL), data-offline-text,
 * data-install-text; of [data-saved-pages]: data-empty-text.
 * <html> gets data-offline-ready="1" once the worker controls the page and has answered whether the page is
 * saved, and data-offline-saved="1" when it is (what a browser test waits for before going offline). */
(function () {
  "use strict";
  var root = document.getElementById("pwa");
  if (!root) { return; }
  var html = document.documentElement;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = text || "";
    return node;
  }

  var note = element("p", "offline-note", root.getAttribute("data-offline-text"));
  note.setAttribute("role", "status");
  note.hidden = navigator.onLine !== false;
  root.appendChild(note);
  window.addEventListener("offline", function () { note.hidden = false; });
  window.addEventListener("online", function () { note.hidden = true; });

  var installButton = element("button", "install", root.getAttribute("data-install-text"));
  var installPrompt = null;
  installButton.type = "button";
  installButton.hidden = true;
  root.appendChild(installButton);
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // the browser's own bar would cover the page: our button asks instead
    installPrompt = event;
    installButton.hidden = false;
  });
  installButton.addEventListener("click", function () {
    installButton.hidden = true;
    if (installPrompt) { installPrompt.prompt(); installPrompt = null; }
  });
  window.addEventListener("appinstalled", function () { installButton.hidden = true; });

  function pageTitle(text) {
    var title = new DOMParser().parseFromString(text, "text/html").title;
    var cut = title.lastIndexOf(" · ");  // "<page> · <site name>"
    return cut > 0 ? title.slice(0, cut) : title;
  }
  function listSavedPages(list) {
    caches.keys().then(function (names) {
      var pages = names.filter(function (name) { return name.indexOf("portal-pages-") === 0; });
      return pages.length ? caches.open(pages[0]) : null;
    }).then(function (cache) {
      return cache ? cache.keys().then(function (requests) {
        return Promise.all(requests.reverse().map(function (request) {  // most recently saved first
          return cache.match(request).then(function (response) { return response.text(); })
            .then(function (text) { return { url: request.url, title: pageTitle(text) }; });
        }));
      }) : [];
    }).then(function (pages) {
      pages.forEach(function (page) {
        var item = document.createElement("li");
        var link = element("a", "", page.title || page.url);
        link.href = page.url;
        item.appendChild(link);
        list.appendChild(item);
      });
      if (!pages.length) { list.parentNode.insertBefore(element("p", "muted", list.getAttribute("data-empty-text")), list); }
    });
  }
  var savedList = document.querySelector("[data-saved-pages]");
  if (savedList && window.caches) { listSavedPages(savedList); }

  if (!("serviceWorker" in navigator)) { return; }
  var openedBefore = !navigator.serviceWorker.controller;  // loaded before the worker ran: not saved yet

  function controlled() {
    return new Promise(function (resolve) {
      if (navigator.serviceWorker.controller) { resolve(); return; }
      navigator.serviceWorker.addEventListener("controllerchange", function () { resolve(); });
    });
  }
  function askSaved() {
    var channel = new MessageChannel();
    channel.port1.onmessage = function (event) {
      if (event.data && event.data.saved) { html.setAttribute("data-offline-saved", "1"); }
      html.setAttribute("data-offline-ready", "1");
    };
    navigator.serviceWorker.controller.postMessage(
      { type: "saved?", path: window.location.pathname, fetch: openedBefore }, [channel.port2]);
  }
  // without signal the registration's update check fails; the worker already installed still answers
  navigator.serviceWorker.register(root.getAttribute("data-sw")).catch(function () { /* works online as before */ });
  navigator.serviceWorker.ready.then(controlled).then(askSaved);
})();

/* The portal's service worker (served at /sw.js by portal/pwa.py, which writes CONFIG in).
 *
 * Static files (CONFIG.static prefixes): cache-first in "portal-static-<version>", the version being a
 * hash of every static file, so a deployment with new files starts a new cache and the old one is deleted.
 * Pages a member reads (CONFIG.pages: dashboard, course outline, lessons, daily quiz, own data): network
 * first; a copy of each successful GET is kept in "portal-pages-<account key>" and shown when the network
 * fails or is slower than TIMEOUT_MS; any other page without network shows CONFIG.offline.
 * Nothing else is touched: POSTs, /api/, downloads (attachments, PDFs) and every other request go to the
 * network as if there were no worker, and are never stored.
 * One account's pages only: the account key comes with each page (CONFIG.keyHeader); another key, a page
 * without one (nobody signed in) or a logout deletes the pages kept for the previous account. */
/* eslint-env serviceworker */
"use strict";

var CONFIG = /*CONFIG*/{"version": "source", "static": ["/static/"], "pages": [], "offline": "/offline",
  "logout": "/logout", "keyHeader": "X-Portal-Cache-Key", "precache": []}/*CONFIG*/;
var STATIC_CACHE = "portal-static-" + CONFIG.version;
var PAGES_PREFIX = "portal-pages-";
var TIMEOUT_MS = 4000;
var MAX_PAGES = 60;
var PAGE_PATTERNS = CONFIG.pages.map(function (source) { return new RegExp(source); });
var saving = {};  // path -> the promise of its copy being stored (answers "is this page saved?")
var pagesQueue = Promise.resolve();

/* Changes to the saved pages run one after the other, in the order the pages came: a logout
 * clicked while the previous page is being stored deletes that copy too. */
function inTurn(task) {
  pagesQueue = pagesQueue.then(task, task);
  return pagesQueue;
}

function isStatic(path) {
  return CONFIG.static.some(function (prefix) { return path.indexOf(prefix) === 0; });
}
function isReadOffline(path) {
  return PAGE_PATTERNS.some(function (pattern) { return pattern.test(path); });
}
function nothing() { return undefined; }

function pageCacheNames() {
  return caches.keys().then(function (names) {
    return names.filter(function (name) { return name.indexOf(PAGES_PREFIX) === 0; });
  });
}
/* Delete every account's pages but `keep`'s (all of them when keep is empty). */
function forgetPagesBut(keep) {
  return pageCacheNames().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== PAGES_PREFIX + keep; })
      .map(function (name) { return caches.delete(name); }));
  });
}
function savedPage(path) {
  return pageCacheNames().then(function (names) {
    // at most one: a new account's first page deleted the others
    return names.length ? caches.open(names[0]).then(function (cache) { return cache.match(path); }) : undefined;
  });
}
function trim(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.slice(0, Math.max(0, requests.length - MAX_PAGES))
      .map(function (request) { return cache.delete(request); }));
  });
}
function offlinePage() {
  return caches.match(CONFIG.offline, { cacheName: STATIC_CACHE }).then(function (page) {
    return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}
/* The offline page follows the member's language: fetched again when a page comes in another one. */
function followLanguage(language) {
  if (!language) { return undefined; }
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(CONFIG.offline).then(function (page) {
      if (page && page.headers.get("Content-Language") === language) { return undefined; }
      return cache.add(new Request(CONFIG.offline, { credentials: "same-origin" }));
    });
  });
}

/* After a page came from the network: switch accounts if needed, keep a copy if it is one read offline. */
function remember(path, response) {
  // redirects, errors of the server and downloads (PDFs, exports) say nothing about whose pages to keep
  if (response.type !== "basic" || response.status >= 500 ||
      (response.headers.get("Content-Type") || "").indexOf("text/html") !== 0) { return undefined; }
  var key = response.headers.get(CONFIG.keyHeader) || "";
  var language = response.headers.get("Content-Language");
  return inTurn(function () {
    return forgetPagesBut(key).then(function () {
      if (!key || response.status !== 200 || !isReadOffline(path)) { return undefined; }
      return caches.open(PAGES_PREFIX + key).then(function (cache) {
        return cache.put(path, response).then(function () { return trim(cache); });
      });
    });
  }).then(function () { return followLanguage(language); }).catch(nothing);
}

function navigate(event, path) {
  var stored = Promise.resolve();
  var network = fetch(event.request).then(function (response) {
    stored = remember(path, response.clone());  // cloned before the page reads the body
    return response;
  });
  var saved = saving[path] = network.then(function () { return stored; }, nothing).then(function () {
    if (saving[path] === saved) { delete saving[path]; }  // stored: the cache answers from now on
  });
  event.waitUntil(saved);
  event.respondWith(new Promise(function (resolve) {
    var answered = false;
    function answer(response) { if (!answered && response) { answered = true; resolve(response); } }
    var slow = setTimeout(function () { savedPage(path).then(answer); }, TIMEOUT_MS);
    network.then(function (response) { clearTimeout(slow); answer(response); }, function () {
      clearTimeout(slow);
      savedPage(path).then(function (page) { return page || offlinePage(); }).then(answer);
    });
  }));
}

function cacheFirst(event) {
  event.respondWith(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(event.request).then(function (hit) {
      return hit || fetch(event.request).then(function (response) {
        if (response.ok && response.type === "basic") { event.waitUntil(cache.put(event.request, response.clone())); }
        return response;
      });
    });
  }));
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(CONFIG.precache.concat([CONFIG.offline]).map(function (url) {
      return new Request(url, { credentials: "same-origin" });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("portal-static-") === 0 && name !== STATIC_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method !== "GET") {
    // never stored; a logout (even one that fails offline) deletes the member's pages at once
    if (url.pathname === CONFIG.logout) { event.waitUntil(inTurn(function () { return forgetPagesBut(""); })); }
    return;
  }
  if (isStatic(url.pathname)) {
    cacheFirst(event);
  } else if (request.mode === "navigate") {
    navigate(event, url.pathname);
  }
});

/* pwa.js asks whether its page is saved ({path, fetch}); `fetch`: it was opened before this worker ran,
 * so it is fetched now. The answer ({saved}) comes once any copy being stored is stored. */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  if (data.type !== "saved?" || !port || typeof data.path !== "string") { return; }
  var path = data.path;
  var ready = saving[path] || Promise.resolve();
  if (data.fetch && isReadOffline(path)) {
    ready = fetch(path, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) { return remember(path, response); }, nothing);
  }
  event.waitUntil(ready.then(function () { return savedPage(path); }).then(function (page) {
    port.postMessage({ saved: Boolean(page) });
  }));
});

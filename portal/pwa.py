"""The portal on a phone's home screen and without signal: manifest, service worker, offline page.

``/manifest.webmanifest`` makes the portal installable; ``/sw.js`` (``static/sw.js`` with this
app's settings written in) keeps static files cache-first in a cache named after a hash of every
static file, and keeps the pages a member reads (:data:`OFFLINE_PAGES`) network-first in a cache
of their own account; ``/offline`` is what a page never opened shows without signal
(``static/pwa.js`` lists the saved pages on it).

A page's account reaches the service worker as the :data:`CACHE_KEY_HEADER` of every HTML
response to a signed-in account (an HMAC of the account id: opaque, stable): when it changes, or
an anonymous page comes back, or the member logs out, the saved pages of the previous account
are deleted, so a shared phone never shows them to the next person.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from werkzeug.routing import Rule

from portal.web.formatting import html_lang
from portal.web.templating import site_name

bp = Blueprint("pwa", __name__)

#: Pages saved for reading offline when opened online (endpoints; those of a missing plugin are skipped).
OFFLINE_PAGES = ("web.dashboard", "web.me", "courses.course", "courses.lesson", "quizzes.daily")
#: Response header naming the account an HTML page belongs to (read only by the service worker).
CACHE_KEY_HEADER = "X-Portal-Cache-Key"
#: Theme and background colours of the installed app (portal.css: ``--red``, ``--bg``).
THEME_COLOR, BACKGROUND_COLOR = "#b71c1c", "#f6f6f4"
_CONFIG_MARK = re.compile(r"/\*CONFIG\*/.*?/\*CONFIG\*/", re.S)
_RULE_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: named in the organization's language, opening on the dashboard."""
    locale = current_app.config["DEFAULT_LOCALE"]
    with force_locale(locale):
        name = site_name()
    icons = [{"src": url_for("static", filename=f"icons/{file}"), "sizes": sizes, "type": "image/png",
              "purpose": purpose}
             for file, sizes, purpose in (("icon-192.png", "192x192", "any"), ("icon-512.png", "512x512", "any"),
                                          ("icon-maskable-512.png", "512x512", "maskable"))]
    body = {"name": name, "short_name": name, "lang": locale.replace("_", "-"), "dir": "ltr",
            "start_url": url_for("web.dashboard"), "scope": url_for("web.home"), "display": "standalone",
            "theme_color": THEME_COLOR, "background_color": BACKGROUND_COLOR, "icons": icons}
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.public = True  # the same for everyone: no personal data
    response.cache_control.max_age = 3600
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker script, with this app's cache version and URLs written in; never cached by HTTP."""
    with open(os.path.join(current_app.static_folder, "sw.js"), encoding="utf-8") as source:
        script = source.read()
    config = json.dumps(worker_config(), separators=(",", ":"))
    response = Response(_CONFIG_MARK.sub(lambda _match: config, script, count=1), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # public: the script holds nothing personal; no-cache: the browser asks every time, so a new version
    # (new static files, a plugin enabled) is seen at the next page
    response.cache_control.public = True
    response.cache_control.no_cache = True
    response.cache_control.max_age = 0
    return response


@bp.get("/offline")
def offline() -> str:
    """What a page not saved on the phone shows without signal (precached by the service worker).

    Nothing of an account is on it (no navigation, flashes or forms): one copy serves whoever uses the phone.
    """
    return render_template("web/offline.html", shell_only=True)


def worker_config() -> dict:
    """What ``sw.js`` needs to know about this app (written into it when served)."""
    static_prefixes = sorted({_static_prefix(rule) for rule in current_app.url_map.iter_rules()
                              if rule.endpoint == "static" or rule.endpoint.endswith(".static")})
    return {
        "version": static_version(current_app),
        "static": static_prefixes,
        "pages": offline_page_patterns(),
        "offline": url_for("pwa.offline"),
        "logout": url_for("auth.logout"),
        "keyHeader": CACHE_KEY_HEADER,
        "precache": [url_for("static", filename=name) for name in ("portal.css", "pwa.js", "favicon.svg")],
    }


def offline_page_patterns() -> list[str]:
    """Regular expressions (JavaScript and Python alike) of the paths in :data:`OFFLINE_PAGES`."""
    rules = [rule for rule in current_app.url_map.iter_rules() if rule.endpoint in OFFLINE_PAGES]
    return sorted(_rule_pattern(rule) for rule in rules)


def _rule_pattern(rule: Rule) -> str:
    parts, position = [], 0
    for match in _RULE_ARGUMENT.finditer(rule.rule):
        parts.append(re.escape(rule.rule[position:match.start()]))
        parts.append(r"\d+" if match.group(1) == "int" else r"[^/]+")
        position = match.end()
    parts.append(re.escape(rule.rule[position:]))
    return "^" + "".join(parts) + "$"


def _static_prefix(rule: Rule) -> str:
    return rule.rule.split("<", 1)[0]


def static_version(app: Flask) -> str:
    """A short hash of every static file of the core and the plugins (computed once per app)."""
    version = app.extensions.get("pwa_static_version")
    if version is None:
        digest = hashlib.sha256()
        folders = [app.static_folder] + [app.blueprints[name].static_folder for name in sorted(app.blueprints)]
        for folder in dict.fromkeys(filter(None, folders)):  # the core's first, then by blueprint name
            for root, dirs, files in os.walk(folder):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(root, name)
                    digest.update(os.path.relpath(path, folder).encode())
                    with open(path, "rb") as handle:
                        digest.update(hashlib.sha256(handle.read()).digest())
        version = app.extensions["pwa_static_version"] = digest.hexdigest()[:16]
    return version


def cache_key(account_id: int) -> str:
    """The opaque name of an account's offline pages (stable; reveals nothing without the secret key)."""
    secret = current_app.config["SECRET_KEY"]
    return _cache_key(secret if isinstance(secret, bytes) else str(secret).encode(), account_id)


@functools.lru_cache(maxsize=4096)
def _cache_key(secret: bytes, account_id: int) -> str:
    """Kept per process: every page a logged-in member reads sends it."""
    return hmac.new(secret, f"offline-pages:{account_id}".encode(), hashlib.sha256).hexdigest()[:24]


@bp.after_app_request
def _tell_the_service_worker(response: Response) -> Response:
    """Name the account and the language of every HTML page (the service worker keys and refreshes by them)."""
    if request.method != "GET" or response.mimetype != "text/html" or response.status_code != 200:
        # the worker keeps only pages read with GET; a redirect, an empty 204 (a heartbeat) or an error page says
        # nothing about them, and a 5xx must not touch the account (it may be what failed)
        return response
    response.headers.setdefault("Content-Language", html_lang())
    user = current_user._get_current_object()
    if user is not None and user.is_authenticated:
        response.headers[CACHE_KEY_HEADER] = cache_key(user.id)
    return response

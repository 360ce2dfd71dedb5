"""The portal on the phone (issue 21): manifest, service worker script, offline page, first-load weight.

What the worker does in a browser (a lesson read offline, the offline page) is tests/browser/test_offline_lesson.py.
"""
from __future__ import annotations

import io
import json
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from portal import pwa
from portal_courses.models import Course
from portal_courses.sync import sync_directory
from tests.conftest import api_token, login

BUDGET_BYTES = 100_000


def _css_variable(app, name: str) -> str:
    with open(f"{app.static_folder}/portal.css", encoding="utf-8") as css:
        return re.search(rf"--{name}:(#[0-9a-fA-F]+)", css.read()).group(1)


def _worker_config(client) -> dict:
    script = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"var CONFIG = (\{.*?\});\n", script, re.S).group(1))


# -- manifest ---------------------------------------------------------------------------

def test_manifest_names_the_app_in_the_organizations_language(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "zh_CN")
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == manifest["short_name"] == "流动党员之家" and manifest["lang"] == "zh-CN"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/dashboard", "/", "standalone")
    assert manifest["theme_color"] == _css_variable(app, "red")
    assert manifest["background_color"] == _css_variable(app, "bg")
    monkeypatch.setitem(app.config, "SITE_NAME", "Harbour Branch")
    assert client.get("/manifest.webmanifest").json["name"] == "Harbour Branch"


def test_manifest_icons_are_served_pngs_of_their_size(client):
    icons = client.get("/manifest.webmanifest").json["icons"]
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in icons if icon["purpose"] == "any"}
    assert any(icon["purpose"] == "maskable" for icon in icons)
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200 and response.mimetype == "image/png", icon
        image = Image.open(io.BytesIO(response.data))
        assert image.format == "PNG" and "x".join(map(str, image.size)) == icon["sizes"]


# -- service worker ---------------------------------------------------------------------

def test_service_worker_is_served_at_the_root_uncached(client, org):
    for signed_in in (False, True):
        if signed_in:
            login(client, "member1")
        response = client.get("/sw.js")
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.headers["Service-Worker-Allowed"] == "/"
        assert "no-cache" in response.headers["Cache-Control"] and "no-store" not in response.headers["Cache-Control"]
        assert "/*CONFIG*/" not in response.get_data(as_text=True)  # this app's settings were written in


def test_service_worker_knows_this_apps_urls(app, client):
    config = _worker_config(client)
    assert {"/static/", "/courses-static/", "/quizzes/static/"} <= set(config["static"])
    assert not any(prefix.startswith("/api/") for prefix in config["static"])
    assert (config["offline"], config["logout"], config["keyHeader"]) == ("/offline", "/logout", pwa.CACHE_KEY_HEADER)
    assert "/static/pwa.js" in config["precache"] and "/static/portal.css" in config["precache"]
    assert config["version"] == pwa.static_version(app)


def test_static_version_follows_the_static_files(app, tmp_path, monkeypatch):
    before = pwa.static_version(app)
    copy = tmp_path / "static"
    shutil.copytree(app.static_folder, copy)
    monkeypatch.setattr(app, "static_folder", str(copy))
    monkeypatch.delitem(app.extensions, "pwa_static_version")
    assert pwa.static_version(app) == before  # same files, same version
    (copy / "portal.css").write_text((copy / "portal.css").read_text() + "\n.new{color:red}\n")
    monkeypatch.delitem(app.extensions, "pwa_static_version")
    assert pwa.static_version(app) != before


@pytest.mark.parametrize("path, kept", [
    ("/dashboard", True), ("/me", True), ("/courses/staying-connected", True),
    ("/courses/staying-connected/lessons/12", True), ("/quizzes/daily", True),
    ("/login", False), ("/logout", False), ("/api/v1/me", False), ("/api/v1/courses/staying-connected", False),
    ("/me/export.json", False), ("/courses/staying-connected/lessons/12/complete", False),
    ("/courses/staying-connected/files/map.png", False), ("/care/3/attachments/1", False),
    ("/mobility/outflows/1/certificate.pdf", False), ("/inbox", False), ("/units/1", False),
    ("/courses/staying-connected/lessons/x", False), ("/dashboard/x", False),
])
def test_only_pages_a_member_reads_are_kept(client, path, kept):
    patterns = [re.compile(source) for source in _worker_config(client)["pages"]]
    assert any(pattern.search(path) for pattern in patterns) is kept


def test_worker_script_never_stores_other_methods():
    """A static look at sw.js (the browser test is the real proof): a non-GET request is left to the network."""
    with open("portal/static/sw.js", encoding="utf-8") as source:
        script = source.read()
    branch = script[script.index('if (request.method !== "GET") {'):]
    branch = branch[:branch.index("return;")]
    assert "put(" not in branch and "respondWith" not in branch and "forgetPagesBut(\"\")" in branch
    # stored: a page of the reading list, a static file, the offline page and the precached shell; nothing else
    assert script.count("cache.put(") == 2 and script.count("cache.add(") == 1 and script.count("cache.addAll(") == 1
    assert "cache.add(new Request(CONFIG.offline" in script


# -- account key, offline page ----------------------------------------------------------

def test_pages_carry_an_opaque_key_of_their_account(client, org):
    assert pwa.CACHE_KEY_HEADER not in client.get("/login").headers
    login(client, "member1")
    first = client.get("/dashboard").headers[pwa.CACHE_KEY_HEADER]
    assert client.get("/me").headers[pwa.CACHE_KEY_HEADER] == first
    assert str(org.member1.account_id) != first and len(first) == 24
    assert pwa.CACHE_KEY_HEADER not in client.get("/manifest.webmanifest").headers  # HTML pages only
    client.post("/logout")
    login(client, "member2")
    assert client.get("/dashboard").headers[pwa.CACHE_KEY_HEADER] not in (first, None)
    assert pwa.CACHE_KEY_HEADER not in client.get("/api/v1/me", headers=api_token(client, "member2")).headers


def test_offline_page_holds_nothing_of_the_account(app, client, org):
    login(client, "member1")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Waiting for the next page")]
    response = client.get("/offline")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-saved-pages" in page and "data-empty-text" in page
    assert org.member1.account.display_name not in page and "csrf_token" not in page and "/logout" not in page
    assert "Waiting for the next page" not in page
    assert "Waiting for the next page" in client.get("/dashboard").get_data(as_text=True)  # not consumed
    client.post("/logout")
    anonymous = client.get("/offline")
    assert anonymous.status_code == 200 and pwa.CACHE_KEY_HEADER not in anonymous.headers


def test_app_shell_is_reachable_before_a_forced_password_change(client, db, org):
    org.member1.account.must_change_password = True
    db.session.commit()
    login(client, "member1")
    assert client.get("/dashboard").status_code == 302  # the rest waits for the new password
    for path in ("/sw.js", "/offline", "/manifest.webmanifest"):
        assert client.get(path).status_code == 200, path


def test_every_page_registers_the_worker_and_links_the_manifest(client, org):
    login(client, "member1")
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<script src="/static/pwa.js" defer></script>' in page
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert re.search(r'<div id="pwa" class="pwa" data-sw="/sw.js" data-offline-text="[^"]+" data-install-text="[^"]+">',
                     page)
    assert "<script>" not in page  # no inline script: CSP


# -- first-load budget ------------------------------------------------------------------

class _Assets(HTMLParser):
    """The same-origin files a browser fetches on first load: stylesheets, icons, manifest, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "link" and {"stylesheet", "icon", "manifest"} & set((attributes.get("rel") or "").split()):
            self.urls.append(attributes["href"])
        elif tag in ("script", "img") and attributes.get("src"):
            self.urls.append(attributes["src"])


def _first_load_bytes(client, path: str) -> tuple[int, list[str]]:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = _Assets()
    parser.feed(response.get_data(as_text=True))
    total, fetched = len(response.data), []
    for url in dict.fromkeys(parser.urls):
        parts = urlsplit(url)
        assert not parts.netloc, f"{url}: a page loads nothing from another site"
        asset = client.get(parts.path)
        assert asset.status_code == 200, url
        total += len(asset.data)
        fetched.append(url)
    return total, fetched


def test_first_load_stays_under_100_kb(app, db, client, org):
    sync_directory()
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    login(client, "member1")
    outline = f"/courses/{course.slug}"
    for path in ("/dashboard", outline, f"{outline}/lessons/{course.active_lessons[0].id}"):
        total, fetched = _first_load_bytes(client, path)
        assert "/static/pwa.js" in fetched and "/static/portal.css" in fetched
        assert total < BUDGET_BYTES, f"{path} weighs {total} bytes on first load ({fetched})"

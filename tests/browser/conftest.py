"""Browser tests: Playwright driving Debian's Chromium against a live portal on 127.0.0.1.

The live server is a second app (CSRF on, as in production) on the same
database as the test session's app, served from a thread.
"""
from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_test_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which("chromium") and not __import__("os").path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Service workers blocked: page.route() cannot hold a request the portal's worker answers from its cache.
    # A test of the worker itself asks for it: pytest.mark.browser_context_args(service_workers="allow").
    return {**browser_context_args, "viewport": PHONE, "locale": "en-US", "device_scale_factor": 1, "is_mobile": True,
            "has_touch": True, "service_workers": "block"}


@pytest.fixture(scope="session")
def live_server(app, tmp_path_factory):
    """``base_url`` of a portal served on 127.0.0.1 (same database as ``app``)."""
    live = make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], WTF_CSRF_ENABLED=True,
                         SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"], UPLOAD_DIR=app.config["UPLOAD_DIR"])
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def browser_login(page, base_url: str, username: str, password: str = "pass-1234") -> None:
    """Log in through the form like a person would."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

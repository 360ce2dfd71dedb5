"""Filing a care request on a phone: the half-written text survives a reload (the core autosave.js), then it is sent."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal_care.models import CareRequest
from tests.browser.conftest import browser_login

READY = "form.care-form[data-autosave-ready]"  # autosave.js listens to the form
DESCRIPTION = "包工头拖欠三月份工资 6800 元，电话不接。"


def test_half_written_request_survives_reload_and_is_sent(page, live_server, db, org, tmp_path):
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/care/new")
    page.wait_for_selector(READY, state="attached")  # the draft script listens before we type
    page.select_option("select[name=category]", "wages")
    page.fill("input[name=title]", "三月份工资被拖欠")
    page.fill("textarea[name=description]", DESCRIPTION)
    page.select_option("select[name=where]", "host")
    page.check("input[name=consent_host]")
    page.reload()
    page.wait_for_selector(READY, state="attached")
    # restored from this browser's localStorage by the core autosave script
    assert page.input_value("input[name=title]") == "三月份工资被拖欠"
    assert page.input_value("textarea[name=description]") == DESCRIPTION
    assert page.input_value("select[name=where]") == "host"
    assert page.is_checked("input[name=consent_host]")
    # fits a 360 px phone: no horizontal scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "care-new.png"), full_page=True)
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "/care/requests/" in page.url
    assert page.locator("h1").inner_text() == "三月份工资被拖欠"
    page.screenshot(path=str(tmp_path / "care-detail.png"), full_page=True)
    db.session.commit()  # end this session's snapshot: the live server wrote in another connection
    req = db.session.scalar(select(CareRequest))
    assert (req.description, req.unit_id) == (DESCRIPTION, org.host.id)
    # the stored copy is gone once sent: a new form starts empty
    page.goto(f"{live_server}/care/new")
    assert page.input_value("input[name=title]") == ""


# The script must come over the network late (held): a service worker would serve it from its cache at once.
@pytest.mark.browser_context_args(service_workers="block")
def test_text_typed_before_the_draft_script_loaded_is_kept(page, live_server, db, org):
    """Issue 14: typing before autosave.js arrives is stored too, and an older stored draft does not overwrite it."""
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/care/new")
    page.wait_for_selector(READY, state="attached")
    page.fill("input[name=title]", "旧的草稿")
    held = []  # the script's request, kept waiting until the person has typed
    page.route("**/autosave.js*", lambda route: held.append(route))
    page.goto(f"{live_server}/care/new", wait_until="commit")
    page.fill("input[name=title]", "新写的标题")
    assert held and page.locator(READY).count() == 0
    held[0].continue_()
    page.unroute("**/autosave.js*")  # later loads fetch it at once
    page.wait_for_selector(READY, state="attached")
    assert page.input_value("input[name=title]") == "新写的标题"  # the stored older copy did not win
    page.reload()
    page.wait_for_selector(READY, state="attached")
    assert page.input_value("input[name=title]") == "新写的标题"

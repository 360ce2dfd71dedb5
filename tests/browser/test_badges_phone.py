"""A member's badges on a 360 px phone (issue 21): the page fits the screen (long checking addresses wrap)
and the baked PNG downloads."""
from __future__ import annotations

from playwright.sync_api import expect

from portal import toolkit as tk
from tests.browser.conftest import browser_login


def test_my_badges_fit_the_phone_and_download(page, live_server, db, org):
    assertion = tk.issue_badge(org.member1, key="course:staying-connected", plugin="courses", name="保持联系",
                               description="学完全部课时。", criteria_narrative="学完全部课时。",
                               source="certificate:browser-test")
    db.session.commit()
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/me/badges")
    link = page.locator(f"a[href$='/badges/assertions/{assertion.uid}']")
    expect(link).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_download() as download:
        page.locator(f"a[href$='/badges/assertions/{assertion.uid}/baked.png']").click()
    assert download.value.suggested_filename.endswith(".png")

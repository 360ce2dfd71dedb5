"""Issue 13: "My data" on a 360 px phone, with records in every plugin, never scrolls sideways."""
from __future__ import annotations

from tests.browser.conftest import browser_login
from tests.test_personal_data import member_with_everything  # noqa: F401 (the fixture)


def test_my_data_fits_a_phone(page, live_server, member_with_everything, tmp_path):  # noqa: F811
    browser_login(page, live_server, "member1")
    page.click("footer button[value=zh_CN]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/me")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "我的数据"
    assert page.locator("section.personal-section").count() >= 10
    page.screenshot(path=str(tmp_path / "me-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page must not scroll sideways"
    # every wide table scrolls inside its own container instead
    assert page.evaluate("""[...document.querySelectorAll('table')].every(
        t => getComputedStyle(t.parentElement).overflowX === 'auto')""")

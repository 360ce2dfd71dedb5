"""member1 writes a personal report on a 360 px phone: the draft is kept at the portal while typing, the
page is reloaded in the middle (what was typed since the last save comes back from the device), the
report is sent, and the home branch's secretary finds it in the inbox. No page scrolls sideways."""
from __future__ import annotations

from sqlalchemy import select

from portal_reports import schedule
from portal_reports.models import Report
from tests.browser.conftest import browser_login

FIRST = "这个季度我参加了三次线上组织生活。"
MORE = " 我在深圳的工作也很顺利，下季度想多参加志愿服务。"


def _no_side_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def _is_draft_save(response) -> bool:
    return response.url.endswith("/draft") and response.request.method == "POST"


def test_member_writes_a_report_with_a_reload_in_the_middle(page, live_server, db, org, tmp_path):
    period = schedule.writable_periods(org.member1)[0]
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/reports/")
    assert _no_side_scroll(page)
    page.locator(f"#period-{period} a").click()
    page.wait_for_selector("#report-form[data-autosave-ready='1'] textarea[name=body]")
    box = page.locator("#report-form textarea[name=body]")

    # typing: a few seconds later the draft is kept at the portal
    with page.expect_response(_is_draft_save) as saved:
        box.fill(FIRST)
    assert saved.value.ok
    page.wait_for_selector("#report-form[data-saved='1']")
    db.session.commit()  # a fresh snapshot: the live server wrote in another connection
    draft = db.session.scalar(select(Report).where(Report.member_id == org.member1.id))
    assert (draft.status, draft.body) == ("draft", FIRST)

    # more typing, then the page is reloaded before the next save is due: nothing is lost
    box.fill(FIRST + MORE)
    page.reload()
    page.wait_for_selector("#report-form[data-autosave-ready='1'] textarea[name=body]")
    assert page.locator("#report-form textarea[name=body]").input_value() == FIRST + MORE
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "reports-write.png"), full_page=True)

    page.locator("#report-form button[type=submit]").click()
    page.wait_for_selector(".flash")
    assert page.url.endswith("/reports/")
    assert page.evaluate(f"window.localStorage.getItem('report-draft:{org.member1.id}:{period}')") is None
    db.session.commit()
    report = db.session.scalar(select(Report).where(Report.member_id == org.member1.id))
    assert (report.status, report.body) == ("submitted", FIRST + MORE)
    assert page.locator(f"#report-{report.id}").count() == 1

    # the secretary's inbox lists it
    page.context.clear_cookies()
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/reports/inbox")
    page.wait_for_selector(f"#report-{report.id}")
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "reports-inbox.png"), full_page=True)
    page.locator(f"#report-{report.id} a").click()
    page.wait_for_selector("#report-body")
    assert page.locator("#report-body").inner_text() == FIRST + MORE
    assert _no_side_scroll(page)

"""The development case pages on a 360 px phone: the home secretary opens the case list and a case, records the
talk with the applicant from the case page and sees the step taken and the next one open. No page scrolls
sideways."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_development.models import DevCase, StepRecord
from tests.browser.conftest import browser_login


def _no_side_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_secretary_records_a_step_on_a_phone(page, live_server, db, org, factory, tmp_path):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="applicant")
    applied = tk.local_today(tk.utcnow()) - timedelta(days=20)
    case = DevCase(member_id=person.id, unit_id=org.home.id, stage="applicant", applied_on=applied,
                   household_place="河北省保定市清苑区东闾乡东闾村", workplace="保定市某某机械制造有限公司")
    db.session.add(case)
    db.session.flush()
    db.session.add(StepRecord(case_id=case.id, code="application", taken_on=applied, data={}, unit_id=org.home.id))
    db.session.commit()
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/development/?unit={org.home.id}")
    assert page.locator(f"#case-{case.id}").count() == 1
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "development-unit.png"), full_page=True)

    page.goto(f"{live_server}/development/cases/{case.id}")
    assert page.locator("#step-talk").get_attribute("data-state") == "next"
    assert page.locator("#step-activist_decision").get_attribute("data-state") == "locked"
    assert _no_side_scroll(page)
    talk = page.locator("#step-talk")
    talk.locator("summary").click()
    talk.locator("textarea[name='talk-notes']").fill("谈了入党动机。")
    talk.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#step-talk").get_attribute("data-state") == "taken"
    assert page.locator("#step-activist_decision").get_attribute("data-state") == "next"
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "development-case.png"), full_page=True)

    db.session.commit()  # end this session's snapshot: the live server wrote in another connection
    record = db.session.scalar(select(StepRecord).where(StepRecord.case_id == case.id, StepRecord.code == "talk"))
    assert record.notes == "谈了入党动机。" and record.taken_on == tk.local_today(tk.utcnow())

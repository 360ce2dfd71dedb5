"""The secretary's register on a 360 px phone: tick a member present of a held meeting and see the counts change."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import meetings
from portal_meetings.models import Attendee
from tests.browser.conftest import browser_login


def _held_meeting(db, org):
    start = tk.utcnow() - timedelta(hours=1)
    local = lambda at: tk.to_local(at).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    meeting = meetings.create_meeting(org.home, {
        "kind": "theme_day", "topic": "十一月主题党日", "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=2)), "place": "村委会", "mode": "hybrid"}, by=None, now=tk.utcnow())
    meetings.mark_held(meeting, by=None, now=tk.utcnow())
    db.session.commit()
    return meeting


def test_secretary_ticks_a_member_present_on_a_phone(page, live_server, db, org, tmp_path):
    meeting = _held_meeting(db, org)
    listed = len(meeting.attendees)
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/meetings/manage/{meeting.id}/register")
    assert page.locator("[data-count=present]").inner_text() == "0"
    assert page.locator("[data-count=absent]").inner_text() == str(listed)  # started: nobody recorded yet
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "meetings-register.png"), full_page=True)
    page.locator(f"#member-{org.member2.id} button[value=present]").click()
    page.wait_for_load_state()
    assert page.locator("[data-count=present]").inner_text() == "1"
    assert page.locator("[data-count=absent]").inner_text() == str(listed - 1)
    assert page.locator(f"#member-{org.member2.id} button[value=present]").get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.commit()  # end this session's snapshot: the live server wrote in another connection
    row = db.session.scalar(select(Attendee).where(Attendee.member_id == org.member2.id))
    assert (row.status, row.method) == ("present", "register") and row.activity_id is not None

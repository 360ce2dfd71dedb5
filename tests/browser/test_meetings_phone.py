"""On a 360 px phone: member1 scans the host branch's check-in QR code, logs in, taps the one big button
and sees the attendance counted — once, and for the home branch."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from portal_meetings.models import Attendee


def _local(at) -> str:
    return tk.to_local(at).strftime("%Y-%m-%dT%H:%M")


def test_member_scans_the_code_and_is_counted(page, live_server, db, org, tmp_path):
    now = tk.utcnow()
    meeting = meetings.create_meeting(org.host, {
        "kind": "theme_day", "topic": "主题党日：学习流动党员管理办法", "mode": "onsite", "place": "深圳党群服务中心",
        "starts_at": _local(now - timedelta(minutes=5)), "ends_at": _local(now + timedelta(hours=1))}, by=org.host_sec)
    org.member1.account.locale = "zh_CN"  # member1 reads the portal in Chinese
    db.session.commit()
    assert meeting.status == "notified"
    # what the QR code on the projector carries, opened by the phone's camera before logging in
    page.goto(f"{live_server}{attendance.checkin_path(meeting, attendance.current_code(meeting))}")
    page.fill("input[name=login]", "member1")
    page.fill("input[name=password]", "pass-1234")
    page.click("main form button[type=submit]")
    page.wait_for_selector("button.meetings-big")  # back on the check-in page: one big button
    assert f"/meetings/{meeting.id}/checkin?code=" in page.url
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator("main button[type=submit]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "meetings-checkin.png"), full_page=True)
    db.session.commit()  # end this session's snapshot: nothing was written by opening the link
    assert db.session.scalar(select(Attendee.status).where(Attendee.meeting_id == meeting.id,
                                                           Attendee.member_id == org.member1.id)) == "expected"

    page.click("button.meetings-big")
    page.wait_for_selector(".meetings-counted[data-status=present]")
    assert page.url.endswith(f"/meetings/{meeting.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "meetings-counted.png"), full_page=True)
    db.session.commit()  # the live server wrote in another connection
    row = db.session.scalar(select(Attendee).where(Attendee.meeting_id == meeting.id,
                                                   Attendee.member_id == org.member1.id))
    assert (row.status, row.method, row.role) == ("present", "qr", "hosted")
    activities = db.session.scalars(select(tk.Activity).where(tk.Activity.actor_id == org.member1.id,
                                                              tk.Activity.verb == "meeting.attended")).all()
    assert len(activities) == 1 and activities[0].home_unit_id == org.home.id  # counts for the home branch

    # my meetings: the host branch's meeting, marked as such, with my status; still no sideways scrolling
    page.click("a[href$='/meetings/']")
    page.wait_for_selector(".meetings-item .meetings-att-present")
    assert page.locator(".meetings-item .meetings-host").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "meetings-mine.png"), full_page=True)

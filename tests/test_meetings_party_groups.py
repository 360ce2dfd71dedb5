"""A branch's members include those kept in its party groups: its meetings expect them, its notices to the
branch reach them, and a group member at the branch's meeting is at home (not "at the host") in the activity
and in the review's evidence."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import attendance, meetings, notices, personal
from portal_meetings.models import NoticeReceipt

#: 11:00 local on 1 December 2026; the meeting runs 19:30–21:00 local.
NOW = datetime(2026, 12, 1, 3, 0)
DURING = datetime(2026, 12, 1, 11, 40)
DATA = {"kind": "assembly", "topic": "Quarterly assembly", "starts_at": "2026-12-01T19:30",
        "ends_at": "2026-12-01T21:00", "mode": "hybrid", "place": "Village hall"}


def _grouped(org, factory):
    org.group = factory.unit("East Ridge Group One", "group", org.home)
    org.grouped = factory.member(org.group, "grouped", name="周敏")
    org.grouped_away = factory.member(org.group, "grouped-away", name="吴刚", host=org.host)


def _meeting(org, unit=None, by=None):
    meeting = meetings.create_meeting(unit or org.home, DATA, by=by or org.home_sec, now=NOW)
    tk.db.session.commit()
    return meeting


def test_the_branch_meeting_expects_its_groups_members(db, org, factory):
    _grouped(org, factory)
    expected = {row.member_id for row in _meeting(org).attendees}
    assert {org.grouped.id, org.grouped_away.id, org.member2.id} <= expected


def test_a_notice_to_the_branch_reaches_its_groups_members(db, org, factory):
    _grouped(org, factory)
    notice = notices.send_notice(org.home, {"title": "Branch assembly", "body": "Come.", "audience": "unit"},
                                 by=org.home_sec, now=NOW)
    tk.db.session.commit()
    readers = set(tk.db.session.scalars(select(NoticeReceipt.member_id).where(NoticeReceipt.notice_id == notice.id)))
    assert {org.grouped.id, org.grouped_away.id, org.member2.id} <= readers
    assert org.outsider.id not in readers


def test_a_notice_of_the_host_reaches_members_placed_in_its_groups(db, org, factory):
    group = factory.unit("Shenzhen Group", "group", org.host)
    placed = factory.member(org.home, "placed", host=group)
    notice = notices.send_notice(org.host, {"title": "Branch assembly", "body": "Come.", "audience": "unit"},
                                 by=org.host_sec, now=NOW)
    tk.db.session.commit()
    readers = set(tk.db.session.scalars(select(NoticeReceipt.member_id).where(NoticeReceipt.notice_id == notice.id)))
    assert placed.id in readers


def test_a_group_member_at_the_branch_meeting_is_at_home(db, org, factory):
    _grouped(org, factory)
    meeting = _meeting(org)
    attendance.check_in(meeting, org.grouped, attendance.current_code(meeting, DURING), now=DURING)
    db.session.commit()
    activity = db.session.scalar(select(tk.Activity).where(tk.Activity.actor_id == org.grouped.id,
                                                           tk.Activity.verb == "meeting.attended"))
    assert activity.extras["at_host"] is False
    evidence = personal.review_evidence(org.grouped, date(2026, 1, 1), date(2026, 12, 31))
    assert evidence["figures"]["attended"] == 1 and evidence["figures"]["attended_at_host"] == 0
    # at the host branch's meeting the member away is at the host
    host_meeting = _meeting(org, org.host, org.host_sec)
    attendance.check_in(host_meeting, org.grouped_away, attendance.current_code(host_meeting, DURING),
                        now=DURING + timedelta(minutes=1))
    db.session.commit()
    away = personal.review_evidence(org.grouped_away, date(2026, 1, 1), date(2026, 12, 31))
    assert away["figures"]["attended_at_host"] == 1

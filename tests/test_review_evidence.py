"""The annual review's evidence: each plugin's figures for a member's year (on data made here), a disabled
plugin's key absent, the sections in order, and the year's document (年度纪实)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal_care.models import CareRequest
from portal_courses.models import Course, Enrollment
from portal_dues import money, payments, profiles
from portal_meetings.models import Attendee, Meeting
from portal_points.models import PointsEntry
from portal_reports.models import Report
from portal_review import evidence
from portal_review.models import ReviewEntry, ReviewRound
from portal_standing import clock

YEAR = 2025
TODAY = date(2026, 11, 30)  # the year is over: until = 31 December
SALARIED = {"category": "salaried", "monthly_base": "4400.00", "insurance_deduction": "400.00"}  # 40.00 a month
PLUGINS = ("points", "meetings", "dues", "reports", "courses", "care", "standing", "mobility")


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """The naive-UTC instant of local ``day`` at ``hour:minute``."""
    return tk.local_day_bounds(day)[0] + timedelta(hours=hour, minutes=minute)


def _meeting(db, unit, member, starts_at: datetime, status: str) -> None:
    meeting = Meeting(unit_id=unit.id, kind="theme_day", topic="主题党日", starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=2), status="held", checkin_secret="s" * 32)
    db.session.add(meeting)
    db.session.flush()
    db.session.add(Attendee(meeting_id=meeting.id, member_id=member.id, status=status))


def _meetings(db, org) -> None:
    """member1: present at the host branch, online at home, present at 00:30 local on 1 January (inside the year),
    nothing recorded once (missed), on leave once; outside the year: 31 December 2024 and 00:30 on 1 January 2026."""
    m1 = org.member1
    _meeting(db, org.host, m1, _local(date(2025, 4, 10), 9), "present")
    _meeting(db, org.home, m1, _local(date(2025, 5, 10), 9), "online")
    _meeting(db, org.home, m1, _local(date(2025, 1, 1), 0, 30), "present")
    _meeting(db, org.home, m1, _local(date(2025, 6, 10), 9), "expected")
    _meeting(db, org.home, m1, _local(date(2025, 7, 10), 9), "leave")
    _meeting(db, org.home, m1, _local(date(2024, 12, 31), 23), "present")
    _meeting(db, org.host, m1, _local(date(2026, 1, 1), 0, 30), "present")


def _dues(org) -> None:
    """member1 owes 40.00 from January 2025 and paid January to September (confirmed)."""
    first = date(2025, 1, 1)
    profiles.set_profile(org.member1, {**SALARIED, "valid_from": money.month_key(first)}, by=org.home_sec,
                         now=_local(first, 10))
    for quarter in range(3):  # a quarter at a time, at its last month
        months = [money.month_key(money.add_months(first, 3 * quarter + n)) for n in range(3)]
        paid = money.add_months(first, 3 * quarter + 2).replace(day=20)
        payments.record_payment(org.member1, {"months": months, "amount": "120.00", "channel": "cash",
                                              "paid_on": paid.isoformat()}, by=org.home_sec, now=_local(paid, 10))


def _reports(db, org) -> None:
    """member1 (away: quarterly) sent Q1 and Q3, left Q2 a draft, sent Q4 of 2024 (outside)."""
    tk.set_setting("reports", "frequency_away", "quarterly")
    for period, status in (("2025-Q1", "submitted"), ("2025-Q2", "draft"), ("2025-Q3", "submitted"),
                           ("2024-Q4", "submitted")):
        db.session.add(Report(member_id=org.member1.id, home_unit_id=org.home.id, stage="full", period=period,
                              body="汇报", status=status,
                              submitted_at=None if status == "draft" else _local(date(2025, 10, 1), 10)))


def _points(db, org) -> None:
    """8 points in 2025 (on its first and last local day), 150 outside it."""
    for day, points in ((date(2025, 1, 1), 5), (date(2025, 12, 31), 3), (date(2024, 12, 31), 100),
                        (date(2026, 1, 1), 50)):
        db.session.add(PointsEntry(member_id=org.member1.id, points=points, kind="manual", reason="测试",
                                   occurred_at=_local(day, 10), day_key=day.year * 10000 + day.month * 100 + day.day))


def _courses(db, org) -> None:
    """One course completed in 2025, one in 2026."""
    for slug, done in (("c2025", _local(date(2025, 6, 1), 10)), ("c2026", _local(date(2026, 2, 1), 10))):
        course = Course(slug=slug, titles={"zh_CN": slug})
        db.session.add(course)
        db.session.flush()
        db.session.add(Enrollment(member_id=org.member1.id, course_id=course.id, completed_at=done))


def _care(db, org) -> None:
    """One request filed and two micro-wishes fulfilled in 2025; one more wish fulfilled in 2026."""
    db.session.add(CareRequest(member_id=org.member1.id, category="life", title="求助", unit_id=org.home.id,
                               created_at=_local(date(2025, 3, 1), 10), respond_due_at=_local(date(2025, 3, 2), 10),
                               resolve_due_at=_local(date(2025, 3, 9), 10)))
    for n, day in enumerate((date(2025, 2, 1), date(2025, 8, 1), date(2026, 1, 5))):
        db.session.add(tk.Activity(idempotency_key=f"wish-{n}", actor_id=org.member1.id, verb="wish.fulfilled",
                                   object_type="care_wish", object_id=str(n), created_at=_local(day, 10)))


@pytest.fixture
def year_data(db, org):
    _meetings(db, org)
    _dues(org)
    _reports(db, org)
    _points(db, org)
    _courses(db, org)
    _care(db, org)
    db.session.commit()
    return org


def test_each_plugins_figures_for_the_year(year_data):
    org = year_data
    figures = evidence.collect(org.member1, YEAR, TODAY)
    assert set(PLUGINS) <= set(figures)
    assert figures["points"] == 8
    assert figures["meetings"] == {"attended": 3, "missed": 1, "attended_at_host": 1}
    assert figures["dues"] == {"paid_months": 9, "owed_months": 3}
    assert figures["reports"] == {"submitted": 2, "missing": 2}
    assert figures["courses"]["completed"] == 1
    assert figures["care"]["requests"] == 1 and figures["care"]["wishes_fulfilled"] == 2
    assert figures["mobility"] == {"away": True, "host_unit": org.host.name, "checkins": 0}
    standing = clock.standing_of(org.member1, tk.local_day_bounds(date(2025, 12, 31))[1] - timedelta(seconds=1))
    assert figures["standing"]["step"] == standing.step
    assert figures["standing"]["months_without"] == {k: v for k, v in standing.months_without.items() if v is not None}


def test_a_year_still_running_counts_up_to_today(year_data):
    org = year_data
    figures = evidence.collect(org.member1, YEAR, date(2025, 11, 15))
    assert figures["dues"] == {"paid_months": 9, "owed_months": 1}  # October is over, November not yet
    assert figures["reports"] == {"submitted": 2, "missing": 1}  # Q4 is not over
    assert figures["points"] == 5  # the entry of 31 December is after today


def test_another_member_has_none_of_it(year_data):
    org = year_data
    figures = evidence.collect(org.member2, YEAR, TODAY)
    assert figures["points"] == 0
    assert figures["meetings"] == {"attended": 0, "missed": 0, "attended_at_host": 0}
    assert figures["dues"] == {"paid_months": 0, "owed_months": 0}  # no dues profile: nothing owed
    assert figures["reports"] == {"submitted": 0, "missing": 1}  # full at home: yearly
    assert figures["mobility"] == {"away": False, "host_unit": None, "checkins": 0}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_disabled_plugins_key_is_absent(db, org, plugin):
    manager = get_manager()
    assert plugin in evidence.collect(org.member1, YEAR, TODAY)
    manager.set_enabled(plugin, False)
    db.session.commit()
    manager.forget_states()
    try:
        figures = evidence.collect(org.member1, YEAR, TODAY)
        assert plugin not in figures
        assert set(PLUGINS) - {plugin} <= set(figures)
        assert plugin not in [section.key for section in evidence.sections(org.member1, YEAR, TODAY)]
    finally:
        manager.set_enabled(plugin, True)
        db.session.commit()
        manager.forget_states()


def test_sections_are_in_order_with_lines(year_data):
    org = year_data
    sections = evidence.sections(org.member1, YEAR, TODAY)
    keys = [section.key for section in sections]
    assert keys[:8] == list(evidence.ORDER)
    meetings = sections[0]
    assert [(str(label), value) for label, value in meetings.lines] == [
        ("Meetings attended", 3), ("Meetings missed", 1), ("Meetings attended at the host branch", 1)]
    assert all(section.lines for section in sections)


def test_year_pdf_and_the_grade_once_reported(year_data, db):
    org = year_data
    pdf = evidence.year_pdf(org.member1, YEAR, TODAY)
    assert pdf.startswith(b"%PDF")
    assert evidence._grade_line(org.member1, YEAR) is None  # no round
    round_ = ReviewRound(unit_id=org.home.id, year=YEAR, status="grading")
    db.session.add(round_)
    db.session.flush()
    db.session.add(ReviewEntry(round_id=round_.id, member_id=org.member1.id, grade="excellent"))
    db.session.commit()
    assert evidence._grade_line(org.member1, YEAR) is None  # decided but not reported: not shown yet
    round_.status = "reported"
    db.session.commit()
    assert evidence._grade_line(org.member1, YEAR) == "Grade: Excellent"
    assert evidence.year_pdf(org.member1, YEAR, TODAY).startswith(b"%PDF")

"""The meetings demo: a quarter of meetings in the demo branches, attendance as activities (some at the Shenzhen
host branch), a meeting called for next week, a cancelled one, a notice waiting to be signed for — built twice."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_meetings import demo
from portal_meetings.models import Attendee, Meeting, Notice, NoticeReceipt
from tests.helpers.demo import demo_built_twice

#: 2026-11-20 12:00 local: the fourth quarter has October and most of November behind it.
NOW = datetime(2026, 11, 20, 4, 0)


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) at a fixed clock, built twice (once for the module, wiped afterwards).

    Returns the counts after the first run."""
    yield from demo_built_twice(app, lambda: _counts(tk.db), NOW)


@pytest.fixture
def db(app, built):
    """Reads of the module's demo in an app context (nothing is wiped between these tests)."""
    with app.app_context():
        yield tk.db
        tk.db.session.remove()


def _counts(db) -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(table)) for table in (
        Meeting, Attendee, Notice, NoticeReceipt)) + (db.session.scalar(select(func.count(tk.Activity.id)).where(
            tk.Activity.verb.like("meeting.%"))),)


def _unit(name: str) -> tk.OrgUnit:
    return tk.db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == name))


def test_schedule_is_this_quarter_up_to_yesterday():
    held = demo._schedule(date(2026, 11, 20))
    assert sorted(kind for kind, _day, _topic in held) == ["assembly", "committee", "committee", "lecture",
                                                           "theme_day", "theme_day"]
    assert all(date(2026, 10, 1) <= day < date(2026, 11, 20) for _kind, day, _topic in held)
    assert dict((kind, day) for kind, day, _t in held)["lecture"] == date(2026, 11, 19)  # the 24th is still ahead
    # two days into a quarter: the month's meetings were held yesterday; on its first day nothing yet
    assert {day for _k, day, _t in demo._schedule(date(2027, 1, 3))} == {date(2027, 1, 2)}
    assert demo._schedule(date(2027, 1, 1)) == []


def test_demo_builds_twice_without_duplicates(built, db):
    assert _counts(db) == built
    assert built[0] == 3 * 6 + 2  # three branches × six meetings, plus the upcoming and the cancelled one


def test_demo_has_the_quarter_of_meetings_in_each_branch(built, db):
    for name in ("东岭村党支部", "青山县驻深圳流动党员党支部", "青山县驻杭州流动党员党支部"):
        rows = db.session.execute(select(Meeting.kind, Meeting.status).where(
            Meeting.unit_id == _unit(name).id, Meeting.status.in_(("held", "minuted", "archived")))).all()
        kinds = sorted(kind for kind, _status in rows)
        assert kinds == ["assembly", "committee", "committee", "lecture", "theme_day", "theme_day"], name
        assert {status for _kind, status in rows} == {"held", "minuted", "archived"}  # yesterday's is not minuted yet
    home = _unit("东岭村党支部")
    upcoming = db.session.scalars(select(Meeting).where(Meeting.unit_id == home.id,
                                                        Meeting.status == "notified")).all()
    assert len(upcoming) == 1 and upcoming[0].starts_at > NOW and upcoming[0].attendees
    cancelled = db.session.scalar(select(Meeting).where(Meeting.status == "cancelled"))
    assert cancelled.unit_id == home.id and cancelled.cancel_reason


def test_demo_attendance_is_activities_and_counts_at_host_for_home(built, db):
    shenzhen = _unit("青山县驻深圳流动党员党支部")
    member1 = db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == "member1"))
    activities = db.session.scalars(select(tk.Activity).where(tk.Activity.actor_id == member1.id,
                                                              tk.Activity.verb.like("meeting.attended%"))).all()
    at_host = [a for a in activities if a.extras.get("unit_id") == shenzhen.id]
    assert at_host and all(a.extras["at_host"] is True for a in at_host)
    assert all(a.home_unit_id == member1.home_unit_id for a in at_host)  # counted for the home branch
    # every counted row has its one activity; most of the list came, some stayed away, one was on leave
    rows = db.session.execute(select(Attendee.status, Attendee.activity_id, Attendee.method)
                              .join(Meeting).where(Meeting.status != "cancelled", Meeting.status != "notified")).all()
    statuses = [status for status, _a, _m in rows]
    assert all(activity for status, activity, _m in rows if status in ("present", "online"))
    assert statuses.count("present") > len(statuses) / 2
    assert statuses.count("leave") == 1 and statuses.count("online") >= 1 and statuses.count("absent") >= 1
    assert {method for _s, _a, method in rows} >= {"qr", "register", "online"}
    assert db.session.scalar(select(func.count(tk.Activity.id)).where(tk.Activity.verb.like("meeting.attended%"))) \
        == statuses.count("present") + statuses.count("online")
    leave = db.session.scalar(select(Attendee).where(Attendee.status == "leave"))
    assert leave.member_id == member1.id and leave.leave_state == "approved" and leave.leave_reason


def test_demo_notice_waits_for_sign_off(built, db):
    notice = db.session.scalar(select(Notice))
    assert notice.requires_ack and notice.unit_id == _unit("东岭村党支部").id
    assert timedelta(days=2, hours=23) < notice.deadline - NOW <= timedelta(days=3)
    receipts = db.session.scalars(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id)).all()
    assert len([r for r in receipts if r.read_at]) == 2
    assert len([r for r in receipts if r.acknowledged_at]) == 1
    assert len(receipts) > 2  # the rest have not read it yet

"""The 6-month rule: months without per dimension (OR), leave pausing the count, the scan telling each step once,
cases opened once and resolved by activity, and the records people make (leave, work, talks, decisions, approval)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from portal import alerts as core_alerts
from portal import toolkit as tk
from portal.notify.models import Notification
from portal.plugins.manager import get_manager
from portal_standing import clock, records, steps
from portal_standing.models import Case, Leave, StepNotice
from tests.helpers.query_counter import count_queries

_serial = count(1)


def _utc(year, month, day, hour=10) -> datetime:
    """A local (Asia/Shanghai, UTC+8) wall-clock time as the naive UTC the database stores."""
    return datetime(year, month, day, hour) - timedelta(hours=8)


NOW = _utc(2026, 11, 15)
JOINED = date(2025, 1, 1)


def _act(member, verb: str, day: date) -> None:
    tk.record_activity(member, verb, "test", next(_serial), at=_utc(day.year, day.month, day.day))


def _monthly(member, verb: str, months=range(1, 12)) -> None:
    for month in months:
        _act(member, verb, date(2026, month, 3))


def _active(member, *, dues_until: date | None = date(2026, 11, 3)) -> None:
    """Branch life and work every month of 2026; dues paid up to ``dues_until`` (None: never)."""
    member.joined_on = JOINED
    _monthly(member, "meeting.attended")
    _monthly(member, "work.done")
    if dues_until is not None:
        _act(member, "dues.paid", dues_until)
    tk.db.session.commit()


def _told(kind: str) -> list[int]:
    return sorted(tk.db.session.scalars(select(Notification.account_id).where(Notification.kind == f"alert.{kind}")))


# -- the clock ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "today", "months"), [
    (date(2026, 5, 15), date(2026, 6, 14), 0), (date(2026, 5, 15), date(2026, 6, 15), 1),
    (date(2026, 5, 10), date(2026, 11, 15), 6), (date(2026, 1, 31), date(2026, 2, 28), 1),
    (date(2026, 1, 31), date(2026, 2, 27), 0), (date(2026, 12, 1), date(2026, 11, 15), 0),
])
def test_whole_calendar_months(start, today, months):
    assert clock.whole_months(start, today) == months


def test_verbs_are_merged_from_every_enabled_plugin(app, db):
    declared = clock.verbs()
    assert {"meeting.attended", "meeting.attended_online"} <= declared["branch_life"]
    assert "dues.paid" in declared["dues"]
    assert {"work.done", "wish.fulfilled"} <= declared["work"]
    assert clock.dimensions() == ("branch_life", "dues", "work")


def test_the_or_rule_meetings_every_month_but_six_months_without_dues_is_a_case(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    standing = clock.standing_of(org.member2, NOW)
    assert standing.months_without == {"branch_life": 0, "dues": 6, "work": 0}
    assert standing.step == "case" and standing.since == date(2026, 5, 10)
    assert clock.standing_of(org.member2, _utc(2026, 11, 9)).step == "notice"  # one day short of six months


def test_a_member_keeping_every_dimension_up_is_in_good_standing(app, db, org):
    _active(org.member2)
    standing = clock.standing_of(org.member2, NOW)
    assert standing.step == "none" and standing.longest == 0


@pytest.mark.parametrize(("dues_until", "step"), [
    (date(2026, 10, 10), "reminder"), (date(2026, 8, 10), "talk"), (date(2026, 6, 10), "notice"),
])
def test_each_step_at_its_months(app, db, org, dues_until, step):
    _active(org.member2, dues_until=dues_until)
    assert clock.standing_of(org.member2, NOW).step == step


def test_the_start_is_the_later_of_joining_and_the_last_act(app, db, org):
    _active(org.member2, dues_until=None)  # never paid, joined 2025: counted from joining
    assert clock.standing_of(org.member2, NOW).months_without["dues"] == 22
    org.member2.joined_on = date(2026, 9, 1)
    tk.db.session.commit()
    assert clock.standing_of(org.member2, NOW).months_without["dues"] == 2


def test_approved_leave_pauses_the_count(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    tk.db.session.add(Leave(member_id=org.member2.id, starts_on=date(2026, 6, 1), ends_on=date(2026, 8, 31),
                            reason="Hospital"))
    tk.db.session.commit()
    standing = clock.standing_of(org.member2, NOW)
    # 92 days of leave move the gap's start from 10 May to 10 August: three months, the talk
    assert standing.months_without["dues"] == 3 and standing.step == "talk"
    assert standing.since == date(2026, 5, 10)  # the gap itself still started then


def test_open_leave_stops_the_count_until_it_ends(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    tk.db.session.add(Leave(member_id=org.member2.id, starts_on=date(2026, 5, 11), ends_on=None, reason="Illness"))
    tk.db.session.commit()
    assert clock.standing_of(org.member2, NOW).months_without["dues"] == 0


def test_a_dimension_nobody_declares_is_null_and_never_counts(app, db, org):
    _active(org.member2, dues_until=date(2025, 1, 1))
    assert clock.standing_of(org.member2, NOW).step == "case"
    manager = get_manager()
    manager.set_enabled("dues", False)
    tk.db.session.commit()
    manager.forget_states()
    try:
        standing = clock.standing_of(org.member2, NOW)
        assert clock.dimensions() == ("branch_life", "work")
        assert standing.months_without["dues"] is None and standing.step == "none"
    finally:
        manager.set_enabled("dues", True)
        tk.db.session.commit()
        manager.forget_states()


def test_activists_and_applicants_are_not_counted(app, db, org):
    org.member2.stage = "activist"
    tk.db.session.commit()
    assert clock.standing_of(org.member2, NOW) is None


def test_a_units_standing_stays_at_a_fixed_number_of_queries(app, db, org):
    clock.standing_in_unit(org.township, NOW)  # the settings load once: not what is measured
    with count_queries() as few:
        small = clock.standing_in_unit(org.township, NOW)
    for n in range(30):
        tk.db.session.add(tk.Member(name=f"成员{n:03d}", home_unit_id=org.foreign.id, stage="full", joined_on=JOINED))
    tk.db.session.commit()
    assert org.township.path  # reloaded after the commit: not what is measured
    with count_queries() as many:
        large = clock.standing_in_unit(org.township, NOW)
    assert len(large) == len(small) + 30
    assert len(many) == len(few) <= 4, many.report()


# -- the scan -------------------------------------------------------------------------------------------------------


def test_the_scan_tells_each_step_once_to_the_right_people(app, db, org):
    member = org.member1  # home branch, hosted at the host branch; member2 is the contact person
    member.contact_member_id = org.member2.id
    _active(member, dues_until=date(2026, 5, 10))
    for other in (org.member2, org.home_sec.member, org.host_sec.member, org.foreign_sec.member, org.outsider):
        _active(other)
    core_alerts.scan(_utc(2026, 6, 12))  # one month: the reminder, to the member
    assert _told("standing.reminder") == [member.account_id]
    core_alerts.scan(_utc(2026, 6, 20))
    assert _told("standing.reminder") == [member.account_id]  # told once
    core_alerts.scan(_utc(2026, 8, 12))  # three months: the talk, to the home branch
    assert _told("standing.talk") == [org.home_sec.id]
    core_alerts.scan(_utc(2026, 10, 12))  # five: the written notice, to the member, both branches, the contact
    assert set(_told("standing.notice")) == {member.account_id, org.home_sec.id, org.host_sec.id,
                                             org.member2.account_id}
    assert tk.db.session.scalars(select(Case)).all() == []
    core_alerts.scan(_utc(2026, 11, 12))  # six: a case for the branch assembly, opened once
    core_alerts.scan(_utc(2026, 11, 20))
    cases = tk.db.session.scalars(select(Case)).all()
    assert [(c.member_id, c.unit_id, c.since, c.state, c.reasons) for c in cases] == [
        (member.id, org.home.id, date(2026, 5, 10), "open", {"dues": 6})]
    assert _told("standing.case") == [org.home_sec.id]


def test_the_first_scan_tells_only_the_highest_step(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    steps.scan(NOW)
    tk.db.session.commit()
    told = {row.step for row in tk.db.session.scalars(select(StepNotice).where(StepNotice.member_id == org.member2.id))}
    assert told == {"reminder", "talk", "notice", "case"}
    alerts = [alert for alert in steps.scan(NOW) if alert.member_id == org.member2.id]
    assert alerts == []  # marked, never told late


def test_a_new_act_ends_the_gap_and_the_case_is_resolved_by_activity(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    steps.scan(NOW)
    tk.db.session.commit()
    case = tk.db.session.scalar(select(Case).where(Case.member_id == org.member2.id))
    assert not records.resolved_by_activity(case, clock.standing_of(org.member2, NOW))
    _act(org.member2, "dues.paid", date(2026, 11, 16))
    tk.db.session.commit()
    later = _utc(2026, 11, 20)
    assert clock.standing_of(org.member2, later).step == "none"
    assert records.resolved_by_activity(case, clock.standing_of(org.member2, later))
    assert case.state == "open"  # stays until a secretary closes it
    records.close_case(case, "Paid everything", by=org.home_sec, now=later)
    assert case.state == "closed" and not records.resolved_by_activity(case, None)


# -- records --------------------------------------------------------------------------------------------------------


def test_recording_work_done_is_a_work_act_on_that_day(app, db, org):
    _active(org.member2)
    org.member1.joined_on = JOINED
    records.record_work(org.member1, {"done_on": "2026-11-02", "description": "Visited elders"}, by=org.home_sec,
                        now=NOW)
    tk.db.session.commit()
    assert clock.standing_of(org.member1, NOW).months_without["work"] == 0


def test_records_refuse_bad_fields_and_ones_own_record(app, db, org):
    with pytest.raises(tk.Invalid) as refused:
        records.record_leave(org.member2, {"starts_on": "2026-09-01", "ends_on": "2026-08-01", "reason": ""},
                             by=org.home_sec, now=NOW)
    assert set(refused.value.field_errors) == {"ends_on", "reason"}
    with pytest.raises(tk.Invalid):
        records.record_talk(org.member2, {"held_on": "2026-12-01", "notes": "Later"}, by=org.home_sec, now=NOW)
    with pytest.raises(tk.Forbidden):
        records.record_leave(org.home_sec.member, {"starts_on": "2026-09-01", "reason": "Mine"}, by=org.home_sec)
    with pytest.raises(tk.NotFound):
        records.record_talk(org.outsider, {"held_on": "2026-11-01", "notes": "Hi"}, by=org.home_sec, now=NOW)


def test_the_decision_is_the_branchs_and_the_approval_the_committee_aboves(app, db, org):
    _active(org.member2, dues_until=date(2026, 5, 10))
    steps.scan(NOW)
    case = tk.db.session.scalar(select(Case).where(Case.member_id == org.member2.id))
    with pytest.raises(tk.Conflict):
        records.approve_case(case, {"approval": "Agreed"}, by=org.organizer, now=NOW)  # not decided yet
    records.decide_case(case, {"decision": "Persuade to leave", "decided_on": "2026-11-14"}, by=org.home_sec, now=NOW)
    assert case.state == "decided"
    with pytest.raises(tk.NotFound):  # the branch's secretary is not the committee above it
        records.approve_case(case, {"approval": "Agreed"}, by=org.home_sec, now=NOW)
    records.approve_case(case, {"approval": "Agreed"}, by=org.organizer, now=NOW)
    assert (case.state, case.approved_on, case.approved_by_account_id) == ("approved", date(2026, 11, 15),
                                                                           org.organizer.id)


def test_counting_from_keeps_a_go_live_day_from_making_everyone_a_case(app, db, org):
    """Members who joined long ago with nothing in the stream are not cases on the portal's first day."""
    org.member2.joined_on = JOINED
    db.session.commit()
    assert clock.standing_of(org.member2, NOW).step == "case"
    tk.set_setting("standing", "counting_from", (NOW - timedelta(days=40)).date().isoformat())
    db.session.commit()
    standing = clock.standing_of(org.member2, NOW)
    assert standing.step == "reminder" and max(standing.months_without.values()) == 1


def test_standing_on_a_past_day_ignores_later_acts(app, db, org):
    """The annual review asks for the standing at a year's end: dues paid after it do not count then."""
    member = org.member2
    _active(member, dues_until=date(2026, 5, 10))
    _act(member, "dues.paid", date(2026, 11, 3))  # paid again after the day asked about
    tk.db.session.commit()
    day_end = _utc(2026, 8, 31, 23)
    past = clock.standing_of(member, day_end, until=tk.local_day_bounds(date(2026, 8, 31))[1])
    assert past.months_without["dues"] == 3 and past.step == "talk"
    assert clock.standing_of(member, day_end).months_without["dues"] == 0  # pages count every act recorded

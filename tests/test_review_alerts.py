"""Review reminders (``alerts.scan``): when the self-assessment and mutual-assessment windows open and
``remind_days`` before they close, each member who has not done it, once; the host branch's opinion due soon
and overdue, once each, to the host branch's secretaries."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from portal import toolkit as tk
from portal_review import alerts, ratings, rounds, selfassess
from portal_review.models import ReviewEntry

OPEN = date(2026, 11, 2)
DATES = {"self_from": OPEN + timedelta(days=1), "self_until": OPEN + timedelta(days=10),
         "mutual_from": OPEN + timedelta(days=11), "mutual_until": OPEN + timedelta(days=20)}


def _now(day: date) -> datetime:
    return tk.local_day_bounds(day)[0] + timedelta(hours=2)


def _scan(day: date) -> list[tk.Alert]:
    found = alerts.scan(_now(day))
    tk.db.session.commit()
    return found


def _round(org):
    round_ = rounds.open_round(org.home, 2026, actor=None, now=_now(OPEN), dates=DATES)
    rounds.move(round_, "self", actor=None)
    return round_


def _entry(round_, member) -> ReviewEntry:
    return next(entry for entry in round_.entries if entry.member_id == member.id)


def _who(found: list[tk.Alert], kind: str) -> set[int]:
    return {alert.member_id for alert in found if alert.kind == kind}


def test_self_assessment_reminders_once_and_only_for_those_who_have_not(db, org):
    round_ = _round(org)
    everyone = {org.member1.id, org.member2.id, org.home_sec.member.id}
    assert _scan(OPEN) == []  # the window has not opened
    opened = _scan(DATES["self_from"])
    assert _who(opened, "review.self_open") == everyone
    assert all(alert.account_ids for alert in opened if alert.kind == "review.self_open")
    assert _scan(DATES["self_from"] + timedelta(days=1)) == []  # told once
    selfassess.submit(_entry(round_, org.member2), "我的自我评价。")
    db.session.commit()
    closing = _scan(DATES["self_until"] - timedelta(days=3))
    assert _who(closing, "review.self_end") == everyone - {org.member2.id}
    assert _scan(DATES["self_until"]) == []
    assert _scan(DATES["self_until"] + timedelta(days=1)) == []  # past the window: nothing


def test_mutual_reminders_skip_who_rated_everyone(db, org):
    round_ = _round(org)
    rounds.move(round_, "mutual", actor=None)
    day = DATES["mutual_from"]
    for other in (org.member1, org.home_sec.member):
        ratings.rate(round_, org.member2, other.id, "qualified", "", today=day)
    ratings.rate(round_, org.member1, org.member2.id, "qualified", "", today=day)  # one of two
    db.session.commit()
    found = _scan(day)
    assert _who(found, "review.mutual_open") == {org.member1.id, org.home_sec.member.id}
    assert _scan(day) == []
    assert _who(_scan(DATES["mutual_until"] - timedelta(days=1)), "review.mutual_end") == {
        org.member1.id, org.home_sec.member.id}


def test_host_opinion_due_soon_then_overdue_once_each(db, org):
    _round(org)
    due = DATES["mutual_until"]
    host_alerts = lambda found: [a for a in found if a.kind.startswith("review.host")]  # noqa: E731
    assert host_alerts(_scan(due - timedelta(days=4))) == []
    soon = host_alerts(_scan(due - timedelta(days=3)))
    assert [(a.kind, a.unit_id, a.member_id, a.permission) for a in soon] == [
        ("review.host_soon", org.host.id, org.member1.id, "review.manage")]
    assert host_alerts(_scan(due)) == []
    late = host_alerts(_scan(due + timedelta(days=1)))
    assert [a.kind for a in late] == ["review.host_late"]
    assert host_alerts(_scan(due + timedelta(days=2))) == []

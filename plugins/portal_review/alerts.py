"""Reminders of the annual review (``portal alerts scan``).

Members: when the self-assessment or the mutual-assessment step opens, and ``remind_days`` before its window
closes, each member who has not done it yet (self: not submitted; mutual: rated fewer than all the others).
Host branches: an opinion due within ``remind_days``, and again once it is overdue. Each is told once: a
:class:`ReminderMarker` per (round, member, step).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import insert, select

from portal import toolkit as tk
from portal_review import ratings
from portal_review.models import HostOpinion, ReminderMarker, ReviewEntry, ReviewRound
from portal_review.settings import setting

db = tk.db


def scan(now: datetime) -> list[tk.Alert]:
    """The reminders due at ``now``; records a marker for each (the caller commits)."""
    today = tk.local_today(now)
    days = int(setting("remind_days"))
    alerts: list[tk.Alert] = []
    markers: list[dict] = []
    for round_ in db.session.scalars(select(ReviewRound).where(ReviewRound.status.in_(("self", "mutual")))):
        alerts += _member_reminders(round_, today, days, now, markers)
    alerts += _host_reminders(today, days, now, markers)
    if markers:  # one statement for every marker
        db.session.execute(insert(ReminderMarker), markers)
    return alerts


def _window(round_: ReviewRound) -> tuple[date | None, date | None]:
    if round_.status == "self":
        return round_.self_from, round_.self_until
    return round_.mutual_from, round_.mutual_until


def _due_step(round_: ReviewRound, today: date, days: int) -> str | None:
    """``self_open``/``self_end``/``mutual_open``/``mutual_end`` when one is due today, else None."""
    start, until = _window(round_)
    if (start is not None and today < start) or (until is not None and today > until):
        return None
    if until is not None and (until - today).days <= days:
        return f"{round_.status}_end"
    return f"{round_.status}_open"


def _told(round_ids: list[int], steps: tuple[str, ...]) -> set[tuple[int, int, str]]:
    return {tuple(row) for row in db.session.execute(
        select(ReminderMarker.round_id, ReminderMarker.member_id, ReminderMarker.step)
        .where(ReminderMarker.round_id.in_(round_ids), ReminderMarker.step.in_(steps)))}


def _undone(round_: ReviewRound, entry: ReviewEntry) -> bool:
    if round_.status == "self":
        return entry.self_submitted_at is None
    if not round_.ballot_secret:
        return False
    rated, of = ratings.progress(round_, entry.member)
    return rated < of


def _member_reminders(round_: ReviewRound, today: date, days: int, now: datetime,
                      markers: list[dict]) -> list[tk.Alert]:
    step = _due_step(round_, today, days)
    if step is None:
        return []
    told = _told([round_.id], (step,))
    alerts = []
    for entry in round_.entries:
        member = entry.member
        if member.account_id is None or (round_.id, member.id, step) in told or not _undone(round_, entry):
            continue
        markers.append({"round_id": round_.id, "member_id": member.id, "step": step, "created_at": now})
        alerts.append(_member_alert(round_, member, step))
    return alerts


def _member_alert(round_: ReviewRound, member: tk.Member, step: str) -> tk.Alert:
    _start, until = _window(round_)
    day = until.isoformat() if until is not None else ""
    if round_.status == "self":
        message = (_l("Annual review %(year)s: write and submit your self-assessment by %(day)s.", year=round_.year,
                      day=day) if until else
                   _l("Annual review %(year)s: write and submit your self-assessment.", year=round_.year))
        url = tk.path_for("review.self_assessment", round_id=round_.id)
    else:
        message = (_l("Annual review %(year)s: rate the other members of your branch by %(day)s.", year=round_.year,
                      day=day) if until else
                   _l("Annual review %(year)s: rate the other members of your branch.", year=round_.year))
        url = tk.path_for("review.rate_page", round_id=round_.id)
    return tk.Alert(f"review.{step}", round_.unit_id, member.id, message, url, account_ids=(member.account_id,))


def _host_reminders(today: date, days: int, now: datetime, markers: list[dict]) -> list[tk.Alert]:
    """Opinions not yet submitted, due within ``days`` (``host_soon``) or overdue (``host_late``)."""
    rows = db.session.execute(
        select(HostOpinion, ReviewEntry).join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
        .join(ReviewRound, ReviewRound.id == ReviewEntry.round_id)
        .where(HostOpinion.submitted_at.is_(None), HostOpinion.due_on.is_not(None),
               HostOpinion.due_on <= today + timedelta(days=days),
               ReviewRound.status.in_(("study", "self", "mutual", "grading")))).all()
    told = _told(list({entry.round_id for _o, entry in rows}), ("host_soon", "host_late")) if rows else set()
    alerts = []
    for opinion, entry in rows:
        step = "host_late" if opinion.due_on < today else "host_soon"
        if (entry.round_id, entry.member_id, step) in told:
            continue
        markers.append({"round_id": entry.round_id, "member_id": entry.member_id, "step": step, "created_at": now})
        values = {"name": entry.member.name, "day": opinion.due_on.isoformat()}
        message = (_l("Annual review: the host branch's opinion on %(name)s was due on %(day)s.", **values)
                   if step == "host_late" else
                   _l("Annual review: the host branch's opinion on %(name)s is due by %(day)s.", **values))
        alerts.append(tk.Alert(f"review.{step}", opinion.host_unit_id, entry.member_id, message,
                               tk.path_for("review_manage.owed"), permission="review.manage"))
    return alerts

"""Reminders of development deadlines (``portal alerts scan``): every deadline told once, to the side that acts.

A deadline (:func:`rules.deadlines`) is told when it is at most ``remind_days`` away or already passed, once
per case, kind, side and day (an :class:`AlertMarker`): a deadline that moves (a new assessment, an
extension) is a new day and is told again. Who is told:

* ``branch`` — the leading branch's secretaries (``development.manage``): the branch keeping the case, or the
  host branch of a worker away when the setting ``lead_place`` is ``host``;
* ``home`` / ``host`` — that side's branch (vetting parts, notices of that place);
* ``committee`` — ``development.approve`` on the branch's parent (the branch itself when it has none);
* ``mentor`` — the active mentors who have an account (else the branch);
* ``person`` — the person, when they have an account (else the branch).

Open cases are read in batches and their facts loaded per batch (:func:`rules.facts_for`): a fixed number of
statements per batch, never one per case.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import insert, select

from portal import toolkit as tk
from portal.toolkit import lazy_gettext as _l
from portal_development import rules
from portal_development.models import AlertMarker, DevCase
from portal_development.settings import setting

db = tk.db
BATCH = 500
MANAGE, APPROVE = "development.manage", "development.approve"


def scan(now: datetime) -> list[tk.Alert]:
    """The alerts due at ``now`` over every open case; records a marker for each (the caller commits)."""
    today = tk.local_today(now)
    horizon = today + timedelta(days=int(setting("remind_days")))
    alerts: list[tk.Alert] = []
    last_id = 0
    while True:
        cases = list(db.session.scalars(select(DevCase).where(DevCase.closed_on.is_(None), DevCase.id > last_id)
                                        .order_by(DevCase.id).limit(BATCH)).unique())
        if not cases:
            return alerts
        alerts.extend(_batch(cases, today, horizon, now))
        last_id = cases[-1].id


def _batch(cases: list[DevCase], today: date, horizon: date, now: datetime) -> list[tk.Alert]:
    facts = rules.facts_for(cases, files=False)
    told = {tuple(row) for row in db.session.execute(
        select(AlertMarker.case_id, AlertMarker.kind, AlertMarker.due_on)
        .where(AlertMarker.case_id.in_([case.id for case in cases])))}
    mentors = _mentor_accounts(facts)
    alerts, markers = [], []
    for case in cases:
        for deadline in rules.deadlines(facts[case.id], today):
            key = (case.id, f"{deadline.kind}:{deadline.side}", deadline.due_on)
            if deadline.due_on > horizon or key in told:
                continue
            told.add(key)
            markers.append({"case_id": case.id, "kind": key[1], "due_on": deadline.due_on, "created_at": now})
            alerts.append(_alert(case, deadline, mentors.get(case.id, ())))
    if markers:  # one statement for the batch, not one per alert
        db.session.execute(insert(AlertMarker), markers)
    return alerts


def _mentor_accounts(facts: dict[int, rules.Facts]) -> dict[int, tuple[int, ...]]:
    """The accounts of each case's active mentors (the mentors' members are loaded with them)."""
    return {case_id: tuple(mentor.member.account_id for mentor in fact.active_mentors() if mentor.member.account_id)
            for case_id, fact in facts.items()}


def _alert(case: DevCase, deadline: rules.Deadline, mentor_accounts: tuple[int, ...]) -> tk.Alert:
    """One alert of ``deadline`` to the side that must act."""
    values = {"name": case.member.name, "what": deadline.label, "day": deadline.due_on.isoformat()}
    message = (_l("Development of %(name)s: “%(what)s” was due on %(day)s.", **values) if deadline.overdue
               else _l("Development of %(name)s: “%(what)s” is due by %(day)s.", **values))
    kind = f"development.{deadline.kind}"
    side = deadline.side
    url = tk.path_for("development.case", case_id=case.id)
    if side == "mentor" and mentor_accounts:
        return tk.Alert(kind, case.unit_id, case.member_id, message, url, account_ids=mentor_accounts)
    if side == "person" and case.member.account_id:
        return tk.Alert(kind, case.unit_id, case.member_id, message, tk.path_for("development.mine"),
                        account_ids=(case.member.account_id,))
    if side == "committee":
        return tk.Alert(kind, case.unit.parent_id or case.unit_id, case.member_id, message, url, permission=APPROVE)
    return tk.Alert(kind, _branch_for(case, side), case.member_id, message, url, permission=MANAGE)


def _branch_for(case: DevCase, side: str) -> int:
    """The branch told of a branch-side deadline: the side's own branch, or the leading one for ``branch``."""
    if side == "host" and case.host_unit_id:
        return case.host_unit_id
    if side == "branch" and case.host_unit_id and setting("lead_place") == "host":
        return case.host_unit_id
    return case.unit_id

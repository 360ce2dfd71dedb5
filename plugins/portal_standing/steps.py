"""The daily scan of the 6-month rule: tell each step of each gap once, open cases at the case step.

Each (member, ``since``, step) is told once (a ``StepNotice``); ``since`` is the start of the
member's longest gap, so any qualifying act that ends the gap starts a new count and new notices.
When a gap has passed several untold steps at once (the first scan, leave ending), only the highest
is told and the lower ones are marked as told. Who hears (BRANCH-LIFE.md (b)):

- reminder → the member;
- talk → the home branch's ``standing.manage`` holders, who record the talk (``records.record_talk``);
- notice → the member, the home branch, the host branch and the contact person;
- case → a ``Case`` is opened (once per member and ``since``), listed for the branch assembly, and the
  home branch is told. Nothing is decided here.
"""
from __future__ import annotations

from datetime import date, datetime

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import insert, select

from portal import toolkit as tk
from portal_standing import clock
from portal_standing.models import Case, StepNotice

db = tk.db


def scan(now: datetime) -> list[tk.Alert]:
    """The alerts of every gap that reached a step not yet told; cases opened at the case step. Grouped queries."""
    found = clock.standings(clock.counted_members(), now)
    limits = clock.thresholds()
    reached = {member_id: clock.reached_steps(standing.longest, limits) for member_id, standing in found.items()}
    reached = {member_id: steps for member_id, steps in reached.items() if steps}
    if not reached:
        return []
    told = set(db.session.execute(
        select(StepNotice.member_id, StepNotice.since, StepNotice.step)
        .where(StepNotice.since.in_({found[member_id].since for member_id in reached}))).all())
    markers, to_tell = [], {}
    for member_id, steps in reached.items():
        since = found[member_id].since
        untold = [step for step in steps if (member_id, since, step) not in told]
        markers += [{"member_id": member_id, "since": since, "step": step, "created_at": now} for step in untold]
        if steps[-1] in untold:
            to_tell[member_id] = steps[-1]
    if markers:  # one statement for every marker (a whole county on the first scan)
        db.session.execute(insert(StepNotice), markers)
    who = tk.member_contacts(sorted(to_tell))
    alerts = []
    for member_id, step in to_tell.items():
        standing = found[member_id]
        if step == "case":
            open_case(member_id, who[member_id].home_unit_id, standing, now)
        alerts += _step_alerts(member_id, who[member_id], step, standing)
    return alerts


def open_case(member_id: int, unit_id: int, standing: clock.Standing, now: datetime) -> Case:
    """The case of the gap since ``standing.since`` (opened once per member and ``since``)."""
    case = db.session.scalar(select(Case).where(Case.member_id == member_id, Case.since == standing.since))
    if case is None:
        case = Case(member_id=member_id, unit_id=unit_id, since=standing.since, reasons=standing.reasons(),
                    state="open", opened_at=now)
        db.session.add(case)
        db.session.flush()
    return case


def _step_alerts(member_id: int, who: tk.MemberContacts, step: str, standing: clock.Standing) -> list[tk.Alert]:
    values = {"name": who.name, "months": standing.longest, "since": (standing.since or date.min).isoformat()}
    mine, book = tk.path_for("standing.me"), tk.path_for("standing.unit", unit=who.home_unit_id)
    kind = f"standing.{step}"
    if step == "reminder":
        if who.account_id is None:  # nobody to remind online; the branch hears at the talk
            return []
        message = _l("You have gone %(months)s months without branch life, dues or assigned work (since %(since)s). "
                     "Please take part again.", **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, mine, (who.account_id,))]
    if step == "talk":
        message = _l("%(name)s has gone %(months)s months without branch life, dues or assigned work (since "
                     "%(since)s): a talk is due; please record it.", **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, book, permission="standing.manage")]
    if step == "case":
        message = _l("%(name)s has gone %(months)s months without branch life, dues or assigned work (since "
                     "%(since)s): a case for the branch assembly under the six-month rule.", **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, book, permission="standing.manage")]
    return _notice_alerts(member_id, who, kind, values, mine, book)


def _notice_alerts(member_id: int, who: tk.MemberContacts, kind: str, values: dict, mine: str, book: str) -> list[tk.Alert]:
    """The written notice: to the member, the home branch, the host branch and the contact person."""
    to_member = _l("Written notice: you have gone %(months)s months without branch life, dues or assigned work "
                   "(since %(since)s). At six months the branch assembly must consider your case.", **values)
    to_branch = _l("Written notice to %(name)s: %(months)s months without branch life, dues or assigned work "
                   "(since %(since)s).", **values)
    return tk.written_notice_alerts(kind, member_id, who, to_member=to_member, to_branch=to_branch,
                                    member_url=mine, branch_url=book, home_permission="standing.manage",
                                    host_permission="members.view")

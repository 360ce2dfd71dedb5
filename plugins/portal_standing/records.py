"""What people record for the 6-month rule: approved leave, assigned work done, talks, and cases.

Every record is made by someone holding ``standing.manage`` on the member's home branch, never on their
own record (``tk.require_acting_on``). Recording work done is a ``work.done`` activity dated the day the
work was done, so the clock counts it like any other act. A case is opened by the scan
(``steps.open_case``); its decision by the branch assembly and the upper committee's approval (which
needs ``standing.approve`` on the parent of the member's home branch) are recorded here, never
decided automatically. A case whose gap ended (a new act) is *resolved by activity* but stays open
until a secretary closes it with a reason.
"""
from __future__ import annotations

from datetime import date, datetime

from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_standing import clock
from portal_standing.models import Case, Leave, Talk, WorkDone

db = tk.db
TEXT_MAX = 2000


def _day(data: dict, name: str, errors: dict, *, required: bool = True) -> date | None:
    value = data.get(name)
    if value in (None, "") and not required:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def _text(data: dict, name: str, errors: dict) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = _("This field is required.")
        return ""
    if len(value) > TEXT_MAX:
        errors[name] = _("At most %(n)d characters.", n=TEXT_MAX)
    return value.strip()


def _not_future(day: date | None, name: str, errors: dict, now: datetime | None) -> None:
    if day is not None and day > tk.local_today(now):
        errors[name] = _("The date cannot be in the future.")


def _check(errors: dict) -> None:
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)


def record_leave(member: tk.Member, data: dict, *, by: tk.Account | None, now: datetime | None = None) -> Leave:
    """Approved leave ``{starts_on, ends_on (optional: until further notice), reason}``: its days do not count."""
    tk.require_acting_on(member, "standing.manage", account=by)
    errors: dict = {}
    starts_on, ends_on = _day(data, "starts_on", errors), _day(data, "ends_on", errors, required=False)
    reason = _text(data, "reason", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The end cannot be before the start.")
    _check(errors)
    leave = Leave(member_id=member.id, starts_on=starts_on, ends_on=ends_on, reason=reason,
                  approved_by_account_id=by.id if by else None, created_at=now or tk.utcnow())
    db.session.add(leave)
    db.session.flush()
    tk.audit("standing.leave", "member", member.id, unit_id=member.home_unit_id, actor_account_id=by.id if by else None,
             leave_id=leave.id)
    return leave


def record_work(member: tk.Member, data: dict, *, by: tk.Account | None, now: datetime | None = None) -> WorkDone:
    """Assigned work the member did ``{done_on, description}``: one ``work.done`` activity on that day."""
    tk.require_acting_on(member, "standing.manage", account=by)
    errors: dict = {}
    done_on, description = _day(data, "done_on", errors), _text(data, "description", errors)
    _not_future(done_on, "done_on", errors, now)
    _check(errors)
    work = WorkDone(member_id=member.id, done_on=done_on, description=description,
                    recorded_by_account_id=by.id if by else None, created_at=now or tk.utcnow())
    db.session.add(work)
    db.session.flush()
    # dated the day the work was done (its local start), so the clock counts it on that day
    tk.record_activity(member, "work.done", "standing_work", work.id, at=tk.local_day_bounds(done_on)[0])
    return work


def record_talk(member: tk.Member, data: dict, *, by: tk.Account | None, now: datetime | None = None) -> Talk:
    """The record of a talk at the talk step ``{held_on, notes}`` (it does not reset any count)."""
    tk.require_acting_on(member, "standing.manage", account=by)
    errors: dict = {}
    held_on, notes = _day(data, "held_on", errors), _text(data, "notes", errors)
    _not_future(held_on, "held_on", errors, now)
    _check(errors)
    talk = Talk(member_id=member.id, held_on=held_on, notes=notes, by_account_id=by.id if by else None,
                created_at=now or tk.utcnow())
    db.session.add(talk)
    db.session.flush()
    return talk


def get_case(case_id: int) -> Case:
    """The case, or 404."""
    case = db.session.get(Case, case_id) if 0 < case_id <= tk.MAX_ID else None
    if case is None:
        raise tk.NotFound(_("Not found."))
    return case


def decide_case(case: Case, data: dict, *, by: tk.Account | None, now: datetime | None = None) -> Case:
    """The branch assembly's decision ``{decision, decided_on}`` on an open case (the home branch records it)."""
    tk.require_acting_on(case.member, "standing.manage", account=by)
    if case.state != "open":
        raise tk.Conflict(_("Only an open case can be decided."))
    errors: dict = {}
    decision, decided_on = _text(data, "decision", errors), _day(data, "decided_on", errors)
    _not_future(decided_on, "decided_on", errors, now)
    _check(errors)
    case.decision, case.decided_on, case.state = decision, decided_on, "decided"
    case.decided_by_account_id = by.id if by else None
    tk.audit("standing.case_decided", "standing_case", case.id, unit_id=case.unit_id,
             actor_account_id=by.id if by else None)
    return case


def approve_case(case: Case, data: dict, *, by: tk.Account | None, now: datetime | None = None) -> Case:
    """The upper committee's approval ``{approval, approved_on (default today)}`` of a decided case.

    Needs ``standing.approve`` on the parent of the member's home branch (the committee above it).
    """
    home = db.session.get(tk.OrgUnit, case.member.home_unit_id)
    parent = db.session.get(tk.OrgUnit, home.parent_id) if home.parent_id else home
    tk.require_acting_on(case.member, "standing.approve", parent, account=by)
    if case.state != "decided":
        raise tk.Conflict(_("Only a decided case can be approved."))
    errors: dict = {}
    approval = _text(data, "approval", errors)
    approved_on = _day(data, "approved_on", errors, required=False) or tk.local_today(now)
    _not_future(approved_on, "approved_on", errors, now)
    if case.decided_on and approved_on < case.decided_on:
        errors["approved_on"] = _("The approval cannot be before the decision.")
    _check(errors)
    case.approval, case.approved_on, case.state = approval, approved_on, "approved"
    case.approved_by_account_id = by.id if by else None
    tk.audit("standing.case_approved", "standing_case", case.id, unit_id=case.unit_id,
             actor_account_id=by.id if by else None)
    return case


def close_case(case: Case, reason: str, *, by: tk.Account | None, now: datetime | None = None) -> Case:
    """Close a case that is not yet closed, with a ``reason`` (e.g. resolved by activity)."""
    tk.require_acting_on(case.member, "standing.manage", account=by)
    if case.state == "closed":
        raise tk.Conflict(_("The case is already closed."))
    errors: dict = {}
    reason = _text({"reason": reason}, "reason", errors)
    _check(errors)
    case.closed_reason, case.closed_at, case.state = reason, now or tk.utcnow(), "closed"
    tk.audit("standing.case_closed", "standing_case", case.id, unit_id=case.unit_id,
             actor_account_id=by.id if by else None)
    return case


def resolved_by_activity(case: Case, standing: clock.Standing | None) -> bool:
    """Has the gap of an unclosed case ended (a new act: the longest gap now starts later, or is below a case)?"""
    if case.state == "closed":
        return False
    if standing is None:
        return True
    return standing.since != case.since or standing.step != "case"


def cases_in_unit(unit: tk.OrgUnit, *, include_closed: bool = False) -> list[Case]:
    """The cases of the members of ``unit``'s subtree (by the unit the case is listed for), newest first."""
    query = select(Case).where(Case.unit_id.in_(select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))))
    if not include_closed:
        query = query.where(Case.state != "closed")
    return list(db.session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc())))


def case_json(case: Case, standing: clock.Standing | None = None) -> dict:
    """A case for the API (``resolved_by_activity`` when ``standing`` is given)."""
    return {"id": case.id, "member_id": case.member_id, "unit_id": case.unit_id, "since": case.since.isoformat(),
            "reasons": case.reasons, "state": case.state, "decision": case.decision,
            "decided_on": case.decided_on.isoformat() if case.decided_on else None, "approval": case.approval,
            "approved_on": case.approved_on.isoformat() if case.approved_on else None,
            "closed_reason": case.closed_reason,
            "resolved_by_activity": resolved_by_activity(case, standing) if standing is not None else None}


def leaves_of(member: tk.Member) -> list[Leave]:
    """The member's approved leave, newest first (their own page and the API's ``/standing/me``)."""
    return list(db.session.scalars(select(Leave).where(Leave.member_id == member.id)
                                   .order_by(Leave.starts_on.desc(), Leave.id.desc())))


def leave_json(leave: Leave) -> dict:
    """Approved leave for the API."""
    return {"id": leave.id, "member_id": leave.member_id, "starts_on": leave.starts_on.isoformat(),
            "ends_on": leave.ends_on.isoformat() if leave.ends_on else None, "reason": leave.reason}


def work_json(work: WorkDone) -> dict:
    """Work done for the API."""
    return {"id": work.id, "member_id": work.member_id, "done_on": work.done_on.isoformat(),
            "description": work.description}


def talk_json(talk: Talk) -> dict:
    """A talk for the API."""
    return {"id": talk.id, "member_id": talk.member_id, "held_on": talk.held_on.isoformat(), "notes": talk.notes}

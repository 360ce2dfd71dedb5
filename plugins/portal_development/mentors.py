"""Mentors (培养联系人) and introducers (入党介绍人).

An activist gets two mentors, full members who are not relatives: one at home and one where the person
works (``MENTOR_PLACES``). The first assignment records step ``mentors_assigned``. Mentors may record
assessments, and they read the person's personal reports (the reports plugin asks
``portal_report_mentors``, answered by :func:`mentor_accounts`).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from portal.toolkit import gettext as _, lazy_gettext as _l

from portal import toolkit as tk
from portal_development import rules
from portal_development.models import MENTOR_PLACES, DevCase, Mentor

db = tk.db
#: At most this many active mentors per case (one per place).
MAX_MENTORS = len(MENTOR_PLACES)


def _full_member(member: tk.Member | None, case: DevCase, field: str) -> tk.Member:
    """``member`` when it is a full member other than the person; ``tk.Invalid`` on ``field`` otherwise."""
    if member is None:
        raise tk.Invalid(_("No such member."), field=field)
    if member.id == case.member_id:
        raise tk.Invalid(_("The person cannot be their own mentor or introducer."), field=field)
    if member.stage != "full":
        raise tk.Invalid(_("%(name)s is not a full member.", name=member.name), field=field)
    return member


def assign(case: DevCase, member: tk.Member | None, place: str, *, actor, on: date,
           not_relative: bool) -> Mentor:
    """Make ``member`` a mentor of ``case`` at ``place``; the first assignment records ``mentors_assigned``.

    Refused: the case is closed or has no activist decision yet (Conflict), another active mentor at that
    place or two in all (Conflict), not a full member, the person, a relative (Invalid). The caller commits.
    """
    from portal_development import cases

    cases.require_actor(case, "mentors_assigned", actor)
    if case.closed_on is not None:
        raise tk.Conflict(_("The case is closed."))
    if case.activist_on is None:
        missing = {"code": "activist_decision", "message": _("No decision on the person as an activist yet.")}
        raise tk.Conflict(missing["message"], code="requirements_missing", details={"missing": [missing]})
    if place not in MENTOR_PLACES:
        raise tk.Invalid(_("Choose where the mentor is."), field="place")
    member = _full_member(member, case, "member_id")
    if not not_relative:
        raise tk.Invalid(_("A mentor may not be a relative of the person: confirm they are not."),
                         field="not_relative")
    rules.check_day(on, case.activist_on)  # mentors are assigned to an activist
    active = [mentor for mentor in case.mentors if mentor.ended_on is None]
    if any(mentor.member_id == member.id for mentor in active):
        raise tk.Conflict(_("%(name)s already mentors this person.", name=member.name))
    if any(mentor.place == place for mentor in active) or len(active) >= MAX_MENTORS:
        raise tk.Conflict(_("End the current mentor at this place first (at most one per place, two in all)."))
    mentor = _mentor_row(case, member, place, on)
    if not any(step.code == "mentors_assigned" for step in case.steps):
        cases.write_step(case, "mentors_assigned", on, actor=actor, notes="", data={}, unit=case.unit)
    tk.audit("development.mentor", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), member_id=member.id, place=place)
    if member.account_id:
        tk.notify([member.account_id], _l("You mentor a person applying for membership"),
                  _l("You were named a mentor on a development case."), kind="development")
    return mentor


def _mentor_row(case: DevCase, member: tk.Member, place: str, on: date) -> Mentor:
    """A new mentor row, or the member's ended one taken up again (one row per case and member)."""
    mentor = next((row for row in case.mentors if row.member_id == member.id), None)
    if mentor is None:
        mentor = Mentor(case=case, member_id=member.id, member=member)
        db.session.add(mentor)
    mentor.place, mentor.not_relative, mentor.assigned_on, mentor.ended_on = place, True, on, None
    db.session.flush()
    return mentor


def end(mentor: Mentor, *, actor, on: date) -> Mentor:
    """End a mentor's assignment on ``on`` (not before it began); the caller commits."""
    from portal_development import cases

    case = mentor.case
    cases.require_actor(case, "mentors_assigned", actor)
    if mentor.ended_on is not None:
        raise tk.Conflict(_("This mentor's assignment has already ended."))
    rules.check_day(on, mentor.assigned_on)
    mentor.ended_on = on
    tk.audit("development.mentor_end", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), member_id=mentor.member_id)
    return mentor


def mentor_accounts(member: tk.Member) -> list[int]:
    """Account ids of the active mentors of ``member``'s open case (one query)."""
    return list(dict.fromkeys(db.session.scalars(
        db.select(tk.Member.account_id)
        .join(Mentor, Mentor.member_id == tk.Member.id)
        .join(DevCase, DevCase.id == Mentor.case_id)
        .where(DevCase.member_id == member.id, DevCase.closed_on.is_(None), Mentor.ended_on.is_(None),
               tk.Member.account_id.is_not(None))
        .order_by(Mentor.id))))


def cases_mentored(account) -> list[DevCase]:
    """The open cases ``account`` mentors (through their member record), by the person's name."""
    if account is None:
        return []
    return list(db.session.scalars(
        db.select(DevCase)
        .join(Mentor, Mentor.case_id == DevCase.id)
        .join(tk.Member, tk.Member.id == Mentor.member_id)
        .where(tk.Member.account_id == account.id, Mentor.ended_on.is_(None), DevCase.closed_on.is_(None))
        .order_by(DevCase.applied_on, DevCase.id)).unique())


def clean_introducers(data: Any, case: DevCase) -> dict[str, list[int]]:
    """``{"introducers": [id, id]}``: two distinct full members, neither of them the person."""
    given = data.get("introducers") if isinstance(data, dict) else None
    if not isinstance(given, (list, tuple)) or len(given) != 2:
        raise tk.Invalid(_("Name two introducers."), field="introducers")
    ids = []
    for value in given:
        if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) > tk.MAX_ID:
            raise tk.Invalid(_("Name two introducers."), field="introducers")
        ids.append(int(value))
    if ids[0] == ids[1]:
        raise tk.Invalid(_("The two introducers must be different people."), field="introducers")
    for member_id in ids:
        _full_member(db.session.get(tk.Member, member_id), case, "introducers")
    return {"introducers": ids}

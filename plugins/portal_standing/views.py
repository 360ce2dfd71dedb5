"""The standing pages: a unit's (and its subtree's) members by step, sortable; one member's standing with the
forms for leave, work done and a talk; a case with the assembly's decision, the upper committee's approval and
closing; the member's own standing and what would reset it.

Thin views: parse input, check permission, call ``clock`` (the months and the step) or ``records`` (every
write, with its field rules and the self-exclusion rule), render.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_standing import clock, records, vocabulary
from portal_standing.forms import ApprovalForm, CloseForm, DecisionForm, LeaveForm, TalkForm, WorkForm
from portal_standing.models import DIMENSIONS, STEPS, Case, Leave, Talk, WorkDone

bp = Blueprint("standing", __name__, url_prefix="/standing", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
db = tk.db
PERMISSION = "standing.manage"
APPROVE = "standing.approve"
#: The unit page's sort keys; ``step`` (the furthest step first) is the default.
SORTS = ("step", "name", *DIMENSIONS)
#: What each write reads from its form (the rules live in ``records``).
LEAVE_FIELDS = ("starts_on", "ends_on", "reason")
WORK_FIELDS = ("done_on", "description")
TALK_FIELDS = ("held_on", "notes")


def _now() -> datetime:
    return tk.utcnow()


def _fields(names: tuple[str, ...]) -> dict:
    return {name: request.form.get(name, "") for name in names}


@dataclass
class Row:
    """One line of the unit page: the member and their standing (``clock.Standing``)."""

    member: tk.Member
    standing: clock.Standing


def _months(standing: clock.Standing, dimension: str) -> int:
    """The months without ``dimension``; -1 when it is not counted, so it sorts after 0."""
    months = standing.months_without.get(dimension)
    return -1 if months is None else months


def _sort_key(sort: str):
    """The key of ``sort`` for a row; the furthest first for the step and the months (uncounted months last)."""
    if sort == "name":
        return lambda row: (row.member.name, row.member.id)
    if sort in DIMENSIONS:
        return lambda row: (-_months(row.standing, sort), row.member.name, row.member.id)
    return lambda row: (-STEPS.index(row.standing.step), -row.standing.longest, row.member.name, row.member.id)


def _rows_in(unit: tk.OrgUnit, sort: str) -> list[Row]:
    """The counted members of the unit's subtree with their standing, sorted (two loads: members, standings)."""
    members = clock.members_in(unit)
    standings = clock.standings(members, now=_now())
    people = db.session.scalars(select(tk.Member).where(tk.Member.id.in_(members)))
    return sorted((Row(member, standings[member.id]) for member in people if member.id in standings),
                  key=_sort_key(sort))


def _managed_member(member_id: int) -> tk.Member:
    """The member, if the account manages standing in their home unit (404 otherwise, as outside one's scope)."""
    member = db.session.get(tk.Member, member_id) if member_id <= tk.MAX_ID else None
    if member is None:
        abort(404)
    tk.require(PERMISSION, member.home_unit)
    return member


def _case(case_id: int) -> Case:
    """The case, if the account manages its unit or may approve above it (404 otherwise)."""
    case = db.session.get(Case, case_id) if case_id <= tk.MAX_ID else None
    if case is None or not (tk.can(PERMISSION, case.member.home_unit) or _may_approve(case)):
        abort(404)
    return case


def _may_approve(case: Case) -> bool:
    """Approval belongs to the committee above the member's home unit (``standing.approve`` on the parent)."""
    parent = case.member.home_unit.parent
    return parent is not None and tk.can(APPROVE, parent)


# -- the unit's page -----------------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def unit():
    """The members (full, probationary) of the unit and every unit below it: step, months without each, why."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    sort = request.args.get("sort", "step")
    if sort not in SORTS:
        sort = "step"
    rows = _rows_in(unit, sort)
    by_member = {row.member.id: row.standing for row in rows}
    cases = [(case, records.resolved_by_activity(case, by_member.get(case.member_id)))
             for case in records.cases_in_unit(unit)]
    return render_template("standing/unit.html", unit=unit, units=tk.unit_choices(PERMISSION), rows=rows,
                           sort=sort, sorts=SORTS, cases=cases, counted=clock.verbs())


# -- one member ----------------------------------------------------------------------------------------------------


def _render_member(member: tk.Member, *, leave_form=None, work_form=None, talk_form=None, status: int = 200):
    now = _now()
    today = tk.local_today(now).isoformat()
    return render_template(
        "standing/member.html", member=member, standing=clock.standing_of(member, now=now),
        counted=clock.verbs(), acting_on_self=member.account_id == current_user.id,
        leave_form=leave_form or LeaveForm(formdata=None, data={"starts_on": today}),
        work_form=work_form or WorkForm(formdata=None, data={"done_on": today}),
        talk_form=talk_form or TalkForm(formdata=None, data={"held_on": today}),
        leaves=_rows(Leave, Leave.starts_on, member), work=_rows(WorkDone, WorkDone.done_on, member),
        talks=_rows(Talk, Talk.held_on, member),
        cases=list(db.session.scalars(select(Case).where(Case.member_id == member.id).order_by(Case.opened_at.desc()))),
    ), status


def _rows(model, day, member: tk.Member) -> list:
    """The member's records of one kind, newest first."""
    return list(db.session.scalars(select(model).where(model.member_id == member.id).order_by(day.desc(),
                                                                                               model.id.desc())))


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    """One member's standing: the months, the step, leave, work done, talks and cases, with the forms."""
    return _render_member(_managed_member(member_id))


def _record(member_id: int, form_class, fields: tuple[str, ...], write, success: str, form_name: str):
    """Run one of the member page's forms through ``tk.form_post``; a refused form comes back with its errors."""
    member = _managed_member(member_id)
    form = form_class()
    return tk.form_post(
        lambda: write(member, _fields(fields), by=current_user, now=_now()),
        form=form, success=success, redirect_to=url_for("standing.member", member_id=member.id),
        on_error=lambda error: _render_member(_managed_member(member_id), status=error.status, **{form_name: form}))


@bp.post("/members/<int:member_id>/leave")
@login_required
def leave(member_id: int):
    """Record approved leave: the months it covers do not count."""
    return _record(member_id, LeaveForm, LEAVE_FIELDS, records.record_leave,
                   _("The leave was recorded: its months do not count."), "leave_form")


@bp.post("/members/<int:member_id>/work")
@login_required
def work(member_id: int):
    """Record work the branch assigned and the member did (it counts as assigned work)."""
    return _record(member_id, WorkForm, WORK_FIELDS, records.record_work, _("The work was recorded."), "work_form")


@bp.post("/members/<int:member_id>/talk")
@login_required
def talk(member_id: int):
    """Record a talk with the member."""
    return _record(member_id, TalkForm, TALK_FIELDS, records.record_talk, _("The talk was recorded."), "talk_form")


# -- cases ---------------------------------------------------------------------------------------------------------


def _render_case(case: Case, *, decision_form=None, approval_form=None, close_form=None, status: int = 200):
    today = tk.local_today(_now()).isoformat()
    return render_template(
        "standing/case.html", case=case, manages=tk.can(PERMISSION, case.member.home_unit),
        may_approve=_may_approve(case), acting_on_self=case.member.account_id == current_user.id,
        resolved=records.resolved_by_activity(case, clock.standing_of(case.member, now=_now())),
        decision_form=decision_form or DecisionForm(formdata=None, data={"decided_on": today}),
        approval_form=approval_form or ApprovalForm(formdata=None),
        close_form=close_form or CloseForm(formdata=None),
    ), status


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    """A case for the branch assembly: why, whether activity since resolved it, the decision and the approval."""
    return _render_case(_case(case_id))


def _case_post(case_id: int, form, permission_check, write, success: str, form_name: str):
    case = _case(case_id)
    if not permission_check(case):
        abort(404)
    return tk.form_post(
        lambda: write(case, by=current_user, now=_now()),
        form=form, success=success, redirect_to=url_for("standing.case", case_id=case.id),
        on_error=lambda error: _render_case(_case(case_id), status=error.status, **{form_name: form}))


@bp.post("/cases/<int:case_id>/decision")
@login_required
def decide(case_id: int):
    """Record the branch assembly's decision on the case."""
    form = DecisionForm()
    return _case_post(case_id, form, lambda case: tk.can(PERMISSION, case.member.home_unit),
                      lambda case, **kw: records.decide_case(case, _fields(("decision", "decided_on")), **kw),
                      _("The decision was recorded; the upper committee approves it."), "decision_form")


@bp.post("/cases/<int:case_id>/approval")
@login_required
def approve(case_id: int):
    """Record the upper committee's approval of the decision."""
    form = ApprovalForm()
    return _case_post(case_id, form, _may_approve,
                      lambda case, **kw: records.approve_case(case, _fields(("approval",)), **kw),
                      _("The approval was recorded."), "approval_form")


@bp.post("/cases/<int:case_id>/close")
@login_required
def close(case_id: int):
    """Close the case with a reason (e.g. resolved by activity since)."""
    form = CloseForm()
    return _case_post(case_id, form, lambda case: tk.can(PERMISSION, case.member.home_unit),
                      lambda case, **kw: records.close_case(case, request.form.get("reason", ""), **kw),
                      _("The case was closed."), "close_form")


# -- my standing ---------------------------------------------------------------------------------------------------


@bp.get("/me")
@tk.login_required_member
def me():
    """My months without each, my step, what would reset each, and my approved leave."""
    member = tk.current_member()
    return render_template("standing/me.html", member=member, standing=clock.standing_of(member, now=_now()),
                           counted=clock.verbs(), leaves=records.leaves_of(member))

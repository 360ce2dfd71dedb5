"""The case pages under /development: a unit's cases, a new application, one case with the 25 steps grouped by
stage (taken, next, or locked with what is missing), its deadlines, mentors, vetting, notices, votes and files,
and a form for each next step; the person's own progress and, for mentors, the people they mentor.

Thin views: parse input, find the case through ``cases.visible_case`` (404 outside its scope, the read audited),
call the service that owns the write (``cases``, ``mentors``, ``vetting``, ``notices``) and render. A refusal
re-renders the page with the missing list in the reader's language and the typed values kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _
from sqlalchemy import or_, select

from portal import toolkit as tk
from portal_development import cases, mentors, notices, rules, training, vetting, vocabulary
from portal_development.forms import (TALLY_FIELDS, CaseForm, CloseForm, EndMentorForm, FindingsForm, MentorForm,
                                      NoticeForm, ObjectionForm, ResolveForm, StepForm, TransferForm,
                                      VettingRequestForm)
from portal_development.models import (MENTOR_PLACES, PLACES, STAGES, VETTING_PARTS, DevCase, Mentor, Objection,
                                       PublicNotice, StepFile, Vetting)

bp = Blueprint("development", __name__, url_prefix="/development", template_folder="templates",
               static_folder="static", static_url_path="/static")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
db = tk.db
MANAGE = "development.manage"
APPROVE = "development.approve"
#: Steps written by their own form, not by the step form (the first mentor writes ``mentors_assigned``).
OWN_FORM_STEPS = {"mentors_assigned"}
#: Steps whose time limit has a longer "special circumstances" variant.
SPECIAL_STEPS = {"admission_approval", "conversion_approval"}
#: Units that keep members: where a case may be kept or transferred to, or where a person may work away.
BRANCH_KINDS = ("branch", "general_branch")


def _now() -> datetime:
    return tk.utcnow()


def _today() -> date:
    return tk.local_today(_now())


def _day(value: str | None, name: str, *, required: bool = True) -> date | None:
    """A ``YYYY-MM-DD`` field as a day; Invalid under the field when it is not one."""
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise tk.Invalid(_("Enter a day as YYYY-MM-DD."), field=name) from None


def _get(model, object_id: int):
    """The row, or 404 (ids beyond the database's range too)."""
    row = db.session.get(model, object_id) if object_id <= tk.MAX_ID else None
    if row is None:
        abort(404)
    return row


def _visible(case_id: int) -> DevCase:
    """The case if the account may see it (404 otherwise; ``cases.visible_case`` audits the read)."""
    if case_id > tk.MAX_ID:
        abort(404)
    try:
        return cases.visible_case(case_id, current_user)
    except tk.NotFound:
        abort(404)


def _member_choices(unit_ids: list[int], exclude: int | None = None) -> list[tuple[str, str]]:
    """Full members of the branches ``unit_ids`` (their party groups included) for a picker (mentors, introducers)."""
    kept = [tk.Member.home_unit_id.in_(tk.own_units_select(tk.branch_of(db.session.get(tk.OrgUnit, unit_id))))
            for unit_id in unit_ids]
    rows = db.session.execute(select(tk.Member.id, tk.Member.name).where(
        or_(*kept), tk.Member.stage == "full").order_by(tk.Member.name, tk.Member.id))
    return [("", "—")] + [(str(mid), name) for mid, name in rows if mid != exclude]


def _int_or_text(value: str) -> int | str:
    """A typed count as an int, or the text as typed so the service's cleaner refuses it under its field."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


# -- who may do what on a case -------------------------------------------------------------------------------------


@dataclass
class Powers:
    """What the reader may do on a case (the services check again; this only chooses which forms to show)."""

    person: bool
    branch: bool
    home: bool
    host: bool
    committee: bool
    mentor: bool

    def may(self, actor: str) -> bool:
        """May the reader record a step of ``actor`` (``vocabulary.Step.actor``)?"""
        if self.person:
            return False
        return {"branch": self.branch, "committee": self.committee, "mentor": self.mentor or self.branch}[actor]


def _powers(case: DevCase, mentors: list[Mentor]) -> Powers:
    home = tk.can(MANAGE, case.unit)
    host = case.host_unit is not None and tk.can(MANAGE, case.host_unit)
    mentor = current_user.member is not None and any(
        m.member_id == current_user.member.id and m.ended_on is None for m in mentors)
    return Powers(person=case.member.account_id == current_user.id, branch=home or host, home=home, host=host,
                  committee=tk.can(APPROVE, case.unit.parent or case.unit), mentor=mentor)


# -- the case page -------------------------------------------------------------------------------------------------


@dataclass
class StepRow:
    """One of the 25 steps on the case page: its records, whether it can be taken now, what is missing."""

    step: vocabulary.Step
    records: list
    missing: list = field(default_factory=list)
    form: Any = None

    @property
    def state(self) -> str:
        """``taken`` (once-only and recorded), ``next`` (may be recorded now) or ``locked``."""
        if self.records and not self.step.repeatable and self.step.code not in ("admission_vote", "conversion_vote"):
            return "taken"
        return "locked" if self.missing else "next"


def _step_form(case: DevCase, code: str, formdata: Any = None) -> StepForm:
    """The step form of ``code`` with its pickers filled; ``formdata=None`` for an empty one dated today."""
    kwargs = {} if formdata is not None else {"formdata": None, "data": {"on": _today().isoformat()}}
    form = StepForm(prefix=code, **kwargs)
    if code == "introducers":
        units = [case.unit_id] + ([case.host_unit_id] if case.host_unit_id else [])
        form.introducer_1.choices = form.introducer_2.choices = _member_choices(units, exclude=case.member_id)
    if code == "training":
        form.class_id.choices = [("", "—")] + [(str(c.id), f"{c.title} ({c.hours} h)")
                                               for c in training.classes_for(case.unit)]
    return form


def _step_data(code: str, form: StepForm) -> dict | None:
    """What the step carries, from its form (the service's cleaner checks it)."""
    if code in ("admission_vote", "conversion_vote"):
        return {"tally": {name: _int_or_text(form[name].data) for name in TALLY_FIELDS}}
    if code == "training":
        for name in ("class_id", "hours", "days"):
            if (form[name].data or "").strip():
                return {name: _int_or_text(form[name].data)}
        return {}
    if code == "introducers":
        return {"introducers": [_int_or_text(form.introducer_1.data), _int_or_text(form.introducer_2.data)]}
    if code == "political_review":
        methods = [m.strip() for m in (form.methods.data or "").replace("，", ",").split(",") if m.strip()]
        return {"conclusion": form.conclusion.data or "", "methods": methods}
    if code == "conversion_approval":
        data: dict = {"outcome": form.outcome.data}
        if form.outcome.data == "extend":
            data["months"] = _int_or_text(form.months.data)
        return data
    return None


def _step_rows(case: DevCase, facts, powers: Powers, forms: dict) -> dict[str, list[StepRow]]:
    """The 25 steps grouped by stage, each with its records and, for the open ones, what is missing today."""
    by_code: dict[str, list] = {}
    for record in facts.steps:
        by_code.setdefault(record.code, []).append(record)
    today = _today()
    grouped: dict[str, list[StepRow]] = {stage: [] for stage in STAGES}
    for step in vocabulary.STEPS:
        row = StepRow(step, by_code.get(step.code, []))
        if case.closed_on is None and (not row.records or row.state != "taken"):
            row.missing = rules.missing_for(facts, step.code, today)
            if step.code in forms:  # a refused form comes back as typed, even when the step is locked
                row.form = forms[step.code]
            elif (not powers.person and row.state == "next" and step.code not in OWN_FORM_STEPS
                    and powers.may(step.actor)):
                row.form = _step_form(case, step.code)
        grouped[step.stage].append(row)
    return grouped


def _render_case(case: DevCase, *, status: int = 200, refused: Any = None, forms: dict | None = None):
    """The case page; ``refused`` (a ServiceError) shows its missing list, ``forms`` the forms typed in."""
    forms = forms or {}
    facts = rules.facts_for([case])[case.id]
    powers = _powers(case, facts.mentors)
    today = _today()
    deadlines = rules.deadlines(facts, today) if case.closed_on is None else []
    # The page shows what the rules read: one load for both (no second query per kind).
    vettings = sorted(facts.vettings, key=lambda v: (v.side, v.id))
    notice_rows, votes = facts.notices, facts.votes
    blank = {"formdata": None, "data": {"on": today.isoformat()}}
    mentor_form = forms.get("mentor") or MentorForm(**blank)
    mentor_form.member_id.choices = _member_choices(
        [case.unit_id] + ([case.host_unit_id] if case.host_unit_id else []), exclude=case.member_id)
    mentor_form.place.choices = [(p, vocabulary.MENTOR_PLACE_LABELS[p]) for p in MENTOR_PLACES]
    vetting_form = forms.get("vetting") or VettingRequestForm(**blank)
    sides = [s for s in PLACES if s == "home" or case.host_unit_id]
    vetting_form.side.choices = [(s, vocabulary.PLACE_LABELS[s]) for s in sides]
    vetting_form.parts.choices = [(p, vocabulary.VETTING_PART_LABELS[p]) for s in sides for p in VETTING_PARTS[s]]
    notice_form = forms.get("notice") or NoticeForm(formdata=None, data={"starts_on": today.isoformat()})
    notice_form.place.choices = [(s, vocabulary.PLACE_LABELS[s]) for s in sides]
    transfer_form = forms.get("transfer") or TransferForm(**blank)
    transfer_form.unit_id.choices = [(str(i), n) for i, n in tk.unit_choices(kinds=BRANCH_KINDS,
                                                                             exclude=(case.unit_id,))]
    close_form = forms.get("close") or CloseForm(**blank)
    close_form.outcome.choices = [(o, vocabulary.OUTCOME_LABELS[o]) for o in ("withdrawn", "not_admitted")]
    missing = (refused.details.get("missing") or []) if refused is not None else []
    return render_template(
        "development/case.html", case=case, mentors=facts.mentors, powers=powers, today=today, deadlines=deadlines,
        groups=_step_rows(case, facts, powers, forms), vettings=vettings, notices=notice_rows, votes=votes,
        mentor_form=mentor_form, vetting_form=vetting_form, notice_form=notice_form, transfer_form=transfer_form,
        close_form=close_form, end_form=EndMentorForm(**blank), findings_forms=forms.get("findings", {}),
        objection_forms=forms.get("objection", {}), resolve_forms=forms.get("resolve", {}), refused=refused,
        missing=missing, special_steps=SPECIAL_STEPS, typed=set(forms), findings_form=lambda v: FindingsForm(prefix=f"v{v.id}", **blank),
        objection_form=lambda n: ObjectionForm(prefix=f"n{n.id}", formdata=None,
                                               data={"received_on": today.isoformat()}),
        resolve_form=lambda o: ResolveForm(prefix=f"o{o.id}", **blank),
    ), status


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    """One case: the stage, the 25 steps with dates or what is missing, deadlines, mentors, vetting, notices,
    votes and files, and a form for each step that can be taken now."""
    return _render_case(_visible(case_id))


def _case_post(case: DevCase, action: Callable[[DevCase], Any], *, success: str, form: Any, form_key: str,
               anchor: str, sub: Any = None):
    """Run one write on a visible case through ``tk.form_post``; a refusal re-renders the page (read again after
    the rollback) with the form as typed."""
    def on_error(error: tk.ServiceError):
        typed: dict = {form_key: {sub: form}} if sub is not None else {form_key: form}
        return _render_case(_visible(case.id), status=error.status, refused=error, forms=typed)

    return tk.form_post(lambda: action(case), form=form, success=success, on_error=on_error,
                        redirect_to=url_for("development.case", case_id=case.id, _anchor=anchor))


@bp.post("/cases/<int:case_id>/steps/<code>")
@login_required
def record_step(case_id: int, code: str):
    """Record one step with its day, notes, documents and data; refused with the missing list while a step or a
    waiting time before it is missing."""
    if code not in vocabulary.STEP_BY_CODE or code in OWN_FORM_STEPS:
        abort(404)
    case = _visible(case_id)
    form = _step_form(case, code, formdata=request.form)
    return _case_post(case, lambda case: cases.record_step(
        case, code, _day(form.on.data, "on"), actor=current_user, notes=form.notes.data or "",
        data=_step_data(code, form), uploads=request.files.getlist(f"{code}-files"),
        special=code in SPECIAL_STEPS and bool(form.special.data)),
        success=_("The step was recorded."), form=form, form_key=code, anchor="steps")


@bp.post("/cases/<int:case_id>/mentors")
@login_required
def assign_mentor(case_id: int):
    """Assign a mentor at home or where the person works."""
    form = MentorForm()

    def action(case: DevCase):
        member_id = _int_or_text(form.member_id.data)
        member = db.session.get(tk.Member, member_id) if isinstance(member_id, int) and member_id <= tk.MAX_ID \
            else None
        return mentors.assign(case, member, form.place.data, actor=current_user, on=_day(form.on.data, "on"),
                              not_relative=bool(form.not_relative.data))

    return _case_post(_visible(case_id), action, success=_("The mentor was assigned."), form=form, form_key="mentor",
                      anchor="mentors")


@bp.post("/mentors/<int:mentor_id>/end")
@login_required
def end_mentor(mentor_id: int):
    """End a mentor's assignment."""
    mentor = _get(Mentor, mentor_id)
    form = EndMentorForm()
    return _case_post(_visible(mentor.case_id), lambda case: mentors.end(mentor, actor=current_user,
                                                               on=_day(form.on.data, "on")),
                      success=_("The mentor's assignment was ended."), form=form, form_key="end", anchor="mentors")


@bp.post("/cases/<int:case_id>/vetting")
@login_required
def request_vetting(case_id: int):
    """Ask one side (home or host) for parts of the two-place vetting."""
    form = VettingRequestForm()
    return _case_post(_visible(case_id), lambda case: vetting.request(case, form.side.data, list(form.parts.data or []),
                                                            actor=current_user, on=_day(form.on.data, "on")),
                      success=_("The vetting was asked for."), form=form, form_key="vetting", anchor="vetting")


@bp.post("/vetting/<int:vetting_id>")
@login_required
def record_findings(vetting_id: int):
    """Record the findings of one part of the vetting (by the side asked)."""
    part = _get(Vetting, vetting_id)
    form = FindingsForm(prefix=f"v{part.id}")
    return _case_post(_visible(part.case_id), lambda case: vetting.record(part, form.findings.data or "", actor=current_user,
                                                                on=_day(form.on.data, "on")),
                      success=_("The findings were recorded."), form=form, form_key="findings", sub=part.id,
                      anchor="vetting")


@bp.post("/cases/<int:case_id>/notices")
@login_required
def open_notice(case_id: int):
    """Post a public notice of the candidate in one place."""
    form = NoticeForm()
    return _case_post(_visible(case_id), lambda case: notices.open_notice(
        case, form.place.data, _day(form.starts_on.data, "starts_on"), actor=current_user,
        ends_on=_day(form.ends_on.data, "ends_on", required=False), posted_at=form.posted_at.data or ""),
        success=_("The public notice was recorded."), form=form, form_key="notice", anchor="notices")


@bp.post("/notices/<int:notice_id>/objections")
@login_required
def add_objection(notice_id: int):
    """Record an objection received during a public notice."""
    notice = _get(PublicNotice, notice_id)
    form = ObjectionForm(prefix=f"n{notice.id}")
    return _case_post(_visible(notice.case_id), lambda case: notices.add_objection(
        notice, _day(form.received_on.data, "received_on"), form.body.data or "", actor=current_user),
        success=_("The objection was recorded."), form=form, form_key="objection", sub=notice.id, anchor="notices")


@bp.post("/objections/<int:objection_id>/resolve")
@login_required
def resolve_objection(objection_id: int):
    """Record how an objection was resolved."""
    objection = _get(Objection, objection_id)
    form = ResolveForm(prefix=f"o{objection.id}")
    return _case_post(_visible(objection.notice.case_id), lambda case: notices.resolve(
        objection, form.resolution.data or "", actor=current_user, on=_day(form.on.data, "on")),
        success=_("The objection was resolved."), form=form, form_key="resolve", sub=objection.id,
        anchor="notices")


@bp.post("/cases/<int:case_id>/transfer")
@login_required
def transfer(case_id: int):
    """Move the case to another branch; every date is kept."""
    form = TransferForm()

    def action(case: DevCase):
        unit_id = _int_or_text(form.unit_id.data)
        unit = db.session.get(tk.OrgUnit, unit_id) if isinstance(unit_id, int) and unit_id <= tk.MAX_ID else None
        if unit is None:
            raise tk.Invalid(_("Choose the new branch."), field="unit_id")
        return cases.transfer(case, unit, actor=current_user, on=_day(form.on.data, "on"),
                              reason=form.reason.data or "")

    return _case_post(_visible(case_id), action, success=_("The case was transferred."), form=form, form_key="transfer",
                      anchor="top")


@bp.post("/cases/<int:case_id>/close")
@login_required
def close(case_id: int):
    """Close the case before full membership (withdrawn, not admitted), with the reason."""
    form = CloseForm()
    return _case_post(_visible(case_id), lambda case: cases.close(case, form.outcome.data, actor=current_user,
                                                        on=_day(form.on.data, "on"), reason=form.reason.data or ""),
                      success=_("The case was closed."), form=form, form_key="close", anchor="top")


@bp.get("/files/<int:file_id>")
@login_required
def file(file_id: int):
    """Download a step's document (for whoever may see the case)."""
    stored = _get(StepFile, file_id)
    _visible(stored.step.case_id)
    return tk.send_upload("development", stored.stored_name, download_name=stored.filename,
                          mimetype=stored.content_type)


# -- a unit's cases and a new application --------------------------------------------------------------------------


@bp.get("/")
@login_required
def unit():
    """The open (or all) cases kept in the unit and every unit below it, or worked at there, by stage."""
    unit = tk.unit_from_arg(request.args.get("unit"), MANAGE)
    include_closed = request.args.get("closed") == "1"
    rows = cases.cases_for_unit(unit, current_user, include_closed=include_closed)
    return render_template("development/unit.html", unit=unit, units=tk.unit_choices(MANAGE), rows=rows,
                           include_closed=include_closed, stages=STAGES)


def _case_form(unit: tk.OrgUnit, form: CaseForm | None = None) -> CaseForm:
    form = form or CaseForm(formdata=None, data={"applied_on": _today().isoformat()})
    form.host_unit_id.choices = [("", "—")] + [(str(i), n) for i, n in tk.unit_choices(kinds=BRANCH_KINDS,
                                                                                          exclude=(unit.id,))]
    return form


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case():
    """Open a case on a written application: the person by name and ID number (an existing member record with
    that number is used), where they are registered and work, and the branch they work at away if any."""
    unit = tk.unit_from_arg(request.values.get("unit"), MANAGE)
    if request.method == "GET":
        return render_template("development/new.html", unit=unit, case_form=_case_form(unit))
    form = _case_form(unit, CaseForm())

    def action() -> DevCase:
        host_id = _int_or_text(form.host_unit_id.data)
        host = db.session.get(tk.OrgUnit, host_id) if isinstance(host_id, int) and host_id <= tk.MAX_ID else None
        return cases.open_case(
            unit, _day(form.applied_on.data, "applied_on"), actor=current_user, name=form.name.data or "",
            id_number=form.id_number.data or "", phone=form.phone.data or "",
            household_place=form.household_place.data or None, workplace=form.workplace.data or None,
            host_unit=host)

    return tk.form_post(action, form=form, success=_("The case was opened."),
                        redirect_to=lambda case: url_for("development.case", case_id=case.id),
                        on_error=lambda error: (render_template("development/new.html", unit=unit, case_form=form),
                                                error.status))


# -- my development ------------------------------------------------------------------------------------------------


@bp.get("/mine")
@login_required
def mine():
    """My own progress (steps and dates, what comes next, my mentors) and, for a mentor, the people I mentor."""
    own = cases.own_case(current_user)
    deadlines: list = []
    if own is not None:
        own = cases.visible_case(own.id, current_user)
        deadlines = cases.person_deadlines(own, _today())
    mentored = mentors.cases_mentored(current_user)
    return render_template("development/mine.html", own=own, deadlines=deadlines, mentored=mentored,
                           steps=vocabulary.STEPS)

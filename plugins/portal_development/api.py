"""Development JSON API under ``/api/v1/development`` (blueprint ``development_api``).

Opening a case, advancing it a stage, recording any of the 25 steps (a refused step answers 409 with
``{"error": {"message", "missing": [{"code", "message"}…]}}``, each unmet requirement named), reading a
case (stage, steps, deadlines, mentors) and its record PDF, a unit's cases and pipeline board, mentors,
two-place vetting, public notices with objections, closing and transferring. Dates are ``YYYY-MM-DD``
local days. Bad fields answer 422, a case outside the caller's scope 404, acting on one's own case 403.
The services (``cases``, ``rules``, ``mentors``, ``vetting``, ``notices``, ``board``) check who acts.
"""
from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_development import board, cases, mentors, notices, rules, vetting
from portal_development.models import (MENTOR_PLACES, OUTCOMES, PLACES, STAGES, VETTING_PARTS, DevCase, Mentor,
                                       Objection, PublicNotice, StepFile, StepRecord, Vetting)
from portal_development.vocabulary import ADVANCE_STEP, STEP_BY_CODE, STEP_CODES

bp = Blueprint("development_api", __name__, url_prefix="/api/v1/development")
db = tk.db
#: Longest notes, reasons, findings and objections the API accepts.
TEXT_MAX = 4000
#: How a case may be closed by hand (``cancelled`` and ``full`` come from the conversion approval).
CLOSE_OUTCOMES = ("withdrawn", "not_admitted")
#: What the API takes of a person without a member record.
PERSON_FIELDS = ("name", "id_number", "phone")
#: Step data the person does not see on their own case (vote tallies, review conclusions).
PRIVATE_STEPS = frozenset({"admission_vote", "conversion_vote", "political_review"})


# --- reading the request ---------------------------------------------------------------------------------

def _refuse(field: str, message: str) -> NoReturn:
    raise tk.Invalid(_("Please correct the marked fields."), {field: message})


def _day(data: dict, field: str, *, required: bool = True) -> date | None:
    """A ``YYYY-MM-DD`` field (422 on the field when missing or not a date)."""
    raw = data.get(field)
    if raw in (None, "") and not required:
        return None
    if not isinstance(raw, str):
        _refuse(field, _("Enter a date like 2026-12-01."))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        _refuse(field, _("Enter a date like 2026-12-01."))


def _text(data: dict, field: str, *, required: bool = False) -> str:
    """A text field, stripped (422 when not text, too long, or missing while required)."""
    raw = data.get(field, "")
    if raw is None:
        raw = ""
    if not isinstance(raw, str) or len(raw) > TEXT_MAX:
        _refuse(field, _("Enter text of at most %(n)d characters.", n=TEXT_MAX))
    if required and not raw.strip():
        _refuse(field, _("This field is required."))
    return raw.strip()


def _choice(data: dict, field: str, choices) -> str:
    """One of ``choices`` (422 on the field otherwise)."""
    value = data.get(field)
    if not isinstance(value, str) or value not in choices:
        _refuse(field, _("Choose one of: %(choices)s.", choices=", ".join(choices)))
    return value


def _flag(data: dict, field: str) -> bool:
    """A boolean field, false when absent (422 when not a boolean)."""
    value = data.get(field, False)
    if not isinstance(value, bool):
        _refuse(field, _("Enter true or false."))
    return value


def _data(data: dict) -> dict | None:
    """The step's ``data`` object, or None (422 when not an object)."""
    value = data.get("data")
    if value is not None and not isinstance(value, dict):
        _refuse("data", _("Enter an object."))
    return value


def _person(value: Any) -> dict[str, str]:
    """The ``person`` object of a new case: ``name``, ``id_number``, ``phone`` as text (422 otherwise)."""
    if not isinstance(value, dict):
        _refuse("person", _("Give the person (name, ID number, phone) or a member_id."))
    unknown = sorted(set(value) - set(PERSON_FIELDS))
    if unknown:
        _refuse("person", _("Unknown fields: %(names)s.", names=", ".join(unknown)))
    return {field: _text(value, field) for field in PERSON_FIELDS}


def _get(model, object_id: int):
    """The row, or 404."""
    row = db.session.get(model, object_id) if 0 < object_id <= tk.MAX_ID else None
    if row is None:
        raise tk.NotFound(_("Not found."))
    return row


def _unit(value: Any, field: str) -> tk.OrgUnit:
    """The unit a body field names (422 not an id, 404 none)."""
    return _get(tk.OrgUnit, tk.api_id(value, field))


def _unit_arg() -> tk.OrgUnit:
    """The unit ``?unit=`` names, which the caller keeps or approves for (422 not a number, 404 outside scope)."""
    raw = request.args.get("unit", "")
    if not raw.isdigit() or int(raw) == 0:
        _refuse("unit", _("Enter a number."))
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    account = tk.current_account()
    if unit is None or not (tk.can("development.manage", unit, account)
                            or tk.can("development.approve", unit, account)):
        raise tk.NotFound(_("Not found."))
    return unit


def _case(case_id: int) -> DevCase:
    """The case, when the caller may see it (404 otherwise; the read is audited)."""
    return cases.visible_case(case_id, tk.current_account())


def _is_person(case: DevCase, account) -> bool:
    member = getattr(account, "member", None)
    return member is not None and member.id == case.member_id


# --- answers ---------------------------------------------------------------------------------------------

def step_json(step: StepRecord, *, private: bool = False) -> dict:
    """One recorded step: its number, code, day, notes and data (``private``: data left out)."""
    return {"id": step.id, "number": STEP_BY_CODE[step.code].number, "code": step.code,
            "on": step.taken_on.isoformat(), "notes": step.notes or "",
            "data": {} if private and step.code in PRIVATE_STEPS else (step.data or {}),
            "files": [{"id": f.id, "filename": f.filename, "size": f.size} for f in step.files]}


def mentor_json(mentor: Mentor) -> dict:
    """An active or past mentor of a case."""
    return {"id": mentor.id, "member_id": mentor.member_id, "name": mentor.member.name, "place": mentor.place,
            "assigned_on": mentor.assigned_on.isoformat(), "ended_on": tk.isoformat(mentor.ended_on)}


def case_json(case: DevCase, account, *, today: date | None = None) -> dict:
    """The API's view of a case: stage, dates, steps, open deadlines and active mentors."""
    today = today or tk.local_today()
    facts = rules.facts_for([case])[case.id]
    dates = ("applied_on", "activist_on", "candidate_on", "admitted_on", "probation_ends_on", "full_on", "closed_on")
    private = _is_person(case, account)
    return {
        "id": case.id, "stage": case.stage, "outcome": case.outcome, "unit_id": case.unit_id,
        "host_unit_id": case.host_unit_id,
        "person": {"name": case.member.name, "member_id": case.member_id},
        **{name: tk.isoformat(getattr(case, name)) for name in dates},
        "extended_months": case.extended_months, "closed_reason": case.closed_reason,
        "steps": [step_json(step, private=private) for step in facts.steps],
        "deadlines": [deadline_json(d) for d in rules.deadlines(facts, today)] if case.closed_on is None else [],
        "mentors": [mentor_json(m) for m in facts.active_mentors()],
    }


def deadline_json(deadline, case_id: int | None = None) -> dict:
    """A deadline: its kind, day, the side that owes it and whether it has passed."""
    body = {"kind": deadline.kind, "due_on": deadline.due_on.isoformat(), "side": deadline.side,
            "label": str(deadline.label), "overdue": deadline.overdue}
    return body if case_id is None else {"case_id": case_id, **body}


def summary_json(case: DevCase) -> dict:
    """A case in a list."""
    return {"id": case.id, "stage": case.stage, "outcome": case.outcome, "unit_id": case.unit_id,
            "host_unit_id": case.host_unit_id, "person": {"name": case.member.name, "member_id": case.member_id},
            "applied_on": case.applied_on.isoformat(), "probation_ends_on": tk.isoformat(case.probation_ends_on)}


def vetting_json(row: Vetting) -> dict:
    """One part of two-place vetting."""
    return {"id": row.id, "case_id": row.case_id, "side": row.side, "part": row.part,
            "requested_on": row.requested_on.isoformat(), "due_on": row.due_on.isoformat(),
            "findings": row.findings, "recorded_on": tk.isoformat(row.recorded_on)}


def objection_json(row: Objection) -> dict:
    """An objection to a public notice and its resolution."""
    return {"id": row.id, "notice_id": row.notice_id, "received_on": row.received_on.isoformat(), "body": row.body,
            "resolution": row.resolution, "resolved_on": tk.isoformat(row.resolved_on)}


def notice_json(row: PublicNotice) -> dict:
    """A public notice with its objections."""
    return {"id": row.id, "case_id": row.case_id, "place": row.place, "starts_on": row.starts_on.isoformat(),
            "ends_on": row.ends_on.isoformat(), "posted_at": row.posted_at or "",
            "objections": [objection_json(o) for o in row.objections]}


def _case_answer(case: DevCase, status: int = 200):
    db.session.commit()
    return jsonify(case_json(case, tk.current_account())), status


# --- cases -----------------------------------------------------------------------------------------------

@bp.post("/cases")
@tk.api_login_required
def open_case():
    """Open a case in a branch for a person (``person`` without a member record, or ``member_id``) → 201."""
    data = tk.api_json()
    unit = _unit(data.get("unit_id"), "unit_id")
    member, person = None, {}
    if data.get("member_id") is not None:
        member = _get(tk.Member, tk.api_id(data.get("member_id"), "member_id"))
    else:
        person = _person(data.get("person"))
    host = _unit(data["host_unit_id"], "host_unit_id") if data.get("host_unit_id") is not None else None
    case = cases.open_case(unit, _day(data, "applied_on"), actor=tk.current_account(), member=member, **person,
                           household_place=_text(data, "household_place"), workplace=_text(data, "workplace"),
                           host_unit=host)
    return _case_answer(case, 201)


@bp.get("/cases")
@tk.api_login_required
def list_cases():
    """The open cases (``closed=1``: all) kept in, or hosted in, the unit's subtree."""
    unit = _unit_arg()
    found = cases.cases_for_unit(unit, tk.current_account(), include_closed=request.args.get("closed") == "1")
    return jsonify({"cases": [summary_json(case) for case in found]})


@bp.get("/cases/<int:case_id>")
@tk.api_login_required
def get_case(case_id: int):
    """The case: stage, dates, steps, deadlines, mentors (the person: their own progress, tallies left out)."""
    case = _case(case_id)
    db.session.commit()  # the audited read
    return jsonify(case_json(case, tk.current_account()))


@bp.get("/mine")
@tk.api_login_required
def mine():
    """The caller's own case as on the web's ``/development/mine`` (stage, dates, steps, the deadlines they owe,
    mentors; null without one) and the open cases they mentor."""
    account = tk.current_account()
    own = cases.own_case(account)
    body = None
    if own is not None:
        own = cases.visible_case(own.id, account)
        today = tk.local_today()
        body = {**case_json(own, account, today=today),
                "deadlines": [deadline_json(d) for d in cases.person_deadlines(own, today)]}
    return jsonify({"case": body, "mentored": [summary_json(case) for case in mentors.cases_mentored(account)]})


@bp.get("/files/<int:file_id>")
@tk.api_login_required
def file(file_id: int):
    """A step's document, for whoever may see its case (the read is audited as the case's)."""
    stored = _get(StepFile, file_id)
    cases.visible_case(stored.step.case_id, tk.current_account())
    db.session.commit()  # the audited read
    return tk.send_upload("development", stored.stored_name, download_name=stored.filename,
                          mimetype=stored.content_type)


@bp.get("/cases/<int:case_id>/record.pdf")
@tk.api_login_required
def record_pdf(case_id: int):
    """The per-person record (纪实表) as PDF, for those who keep or approve the case (the person: 403)."""
    case = cases.printable_case(case_id, tk.current_account())
    db.session.commit()
    return tk.pdf_response(board.record_pdf(case), _("Development record %(name)s.pdf", name=case.member.name))


@bp.post("/cases/<int:case_id>/advance")
@tk.api_login_required
def advance(case_id: int):
    """Move the case to the next stage ``to`` on ``on`` (records the step that does it) → 200, or 409 with missing."""
    case = _case(case_id)
    data = tk.api_json()
    to = _choice(data, "to", tuple(ADVANCE_STEP))
    case = cases.advance(case, to, _day(data, "on"), actor=tk.current_account(), data=_data(data),
                         special=_flag(data, "special"))
    return _case_answer(case)


@bp.post("/cases/<int:case_id>/steps")
@tk.api_login_required
def record_step(case_id: int):
    """Record one step ``{step, on, notes, data?, special?}`` → 201, or 409 naming each unmet requirement."""
    case = _case(case_id)
    data = tk.api_json()
    code = _choice(data, "step", STEP_CODES)
    step = cases.record_step(case, code, _day(data, "on"), actor=tk.current_account(), notes=_text(data, "notes"),
                             data=_data(data), special=_flag(data, "special"))
    db.session.commit()
    return jsonify({**step_json(step), "step": step.code, "case_id": case.id, "stage": case.stage}), 201


@bp.post("/cases/<int:case_id>/close")
@tk.api_login_required
def close(case_id: int):
    """Close the case ``{outcome: withdrawn|not_admitted, on, reason}``."""
    case = _case(case_id)
    data = tk.api_json()
    case = cases.close(case, _choice(data, "outcome", CLOSE_OUTCOMES), actor=tk.current_account(),
                       on=_day(data, "on"), reason=_text(data, "reason", required=True))
    return _case_answer(case)


@bp.post("/cases/<int:case_id>/transfer")
@tk.api_login_required
def transfer(case_id: int):
    """Move the case to another branch ``{unit_id, on, reason}``; every date (the clock) is kept."""
    case = _case(case_id)
    data = tk.api_json()
    unit = _unit(data.get("unit_id"), "unit_id")
    case = cases.transfer(case, unit, actor=tk.current_account(), on=_day(data, "on"),
                          reason=_text(data, "reason", required=True))
    return _case_answer(case)


# --- mentors, vetting, notices ---------------------------------------------------------------------------

@bp.post("/cases/<int:case_id>/mentors")
@tk.api_login_required
def assign_mentor(case_id: int):
    """Assign a full member as a mentor ``{member_id, place: home|work, on, not_relative: true}`` → 201."""
    case = _case(case_id)
    data = tk.api_json()
    # an unknown member is a bad field here (422 on member_id), as the service says
    member = db.session.get(tk.Member, tk.api_id(data.get("member_id"), "member_id"))
    mentor = mentors.assign(case, member, _choice(data, "place", MENTOR_PLACES), actor=tk.current_account(),
                            on=_day(data, "on"), not_relative=_flag(data, "not_relative"))
    db.session.commit()
    return jsonify(mentor_json(mentor)), 201


@bp.post("/cases/<int:case_id>/vetting")
@tk.api_login_required
def request_vetting(case_id: int):
    """Ask one side for parts of two-place vetting ``{side, parts, on}`` → 201 with the parts (due days set)."""
    case = _case(case_id)
    data = tk.api_json()
    side = _choice(data, "side", PLACES)
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts or any(part not in VETTING_PARTS[side] for part in parts):
        _refuse("parts", _("Choose parts of that side: %(parts)s.", parts=", ".join(VETTING_PARTS[side])))
    rows = vetting.request(case, side, list(dict.fromkeys(parts)), actor=tk.current_account(), on=_day(data, "on"))
    db.session.commit()
    return jsonify({"vetting": [vetting_json(row) for row in rows]}), 201


@bp.post("/vetting/<int:vetting_id>")
@tk.api_login_required
def record_vetting(vetting_id: int):
    """Record a side's findings on one vetting part ``{findings, on}`` (that side's branch)."""
    row = _get(Vetting, vetting_id)
    _case(row.case_id)
    data = tk.api_json()
    vetting.record(row, _text(data, "findings", required=True), actor=tk.current_account(), on=_day(data, "on"))
    db.session.commit()
    return jsonify(vetting_json(row))


@bp.post("/cases/<int:case_id>/notices")
@tk.api_login_required
def open_notice(case_id: int):
    """Post a public notice in one place ``{place, starts_on, ends_on?, posted_at?}`` → 201."""
    case = _case(case_id)
    data = tk.api_json()
    notice = notices.open_notice(case, _choice(data, "place", PLACES), _day(data, "starts_on"),
                                 actor=tk.current_account(), ends_on=_day(data, "ends_on", required=False),
                                 posted_at=_text(data, "posted_at"))
    db.session.commit()
    return jsonify(notice_json(notice)), 201


@bp.post("/notices/<int:notice_id>/objections")
@tk.api_login_required
def add_objection(notice_id: int):
    """Record an objection received during a notice ``{received_on, body}`` → 201."""
    notice = _get(PublicNotice, notice_id)
    _case(notice.case_id)
    data = tk.api_json()
    objection = notices.add_objection(notice, _day(data, "received_on"), _text(data, "body", required=True),
                                      actor=tk.current_account())
    db.session.commit()
    return jsonify(objection_json(objection)), 201


@bp.post("/objections/<int:objection_id>/resolve")
@tk.api_login_required
def resolve_objection(objection_id: int):
    """Record how an objection was resolved ``{resolution, on}``."""
    objection = _get(Objection, objection_id)
    _case(objection.notice.case_id)
    data = tk.api_json()
    notices.resolve(objection, _text(data, "resolution", required=True), actor=tk.current_account(),
                    on=_day(data, "on"))
    db.session.commit()
    return jsonify(objection_json(objection))


# --- the board -------------------------------------------------------------------------------------------

@bp.get("/board")
@tk.api_login_required
def board_counts():
    """A unit's subtree: cases per stage, overdue deadlines, vetting waiting for the other place, probation endings."""
    unit = _unit_arg()
    pipeline = board.pipeline(unit, tk.local_today())
    return jsonify({
        "unit_id": unit.id, "stages": {stage: pipeline.stages.get(stage, 0) for stage in STAGES},
        "overdue": [deadline_json(d, case.id) for case, d in pipeline.overdue],
        "waiting": [deadline_json(d, case.id) for case, d in pipeline.waiting],
        "probation_endings": [{"case_id": case.id, "name": case.member.name,
                               "probation_ends_on": tk.isoformat(case.probation_ends_on)}
                              for case in pipeline.probation_endings],
        "admitted_this_year": pipeline.admitted_this_year,
        "plan": ({"year": pipeline.plan.year, "target": pipeline.plan.target}
                 if pipeline.plan is not None else None),
    })


# --- the OpenAPI document --------------------------------------------------------------------------------

def _body(required: list[str], properties: dict) -> dict:
    return tk.openapi_json_body({"type": "object", "required": required, "additionalProperties": False,
                                 "properties": properties})


_DATE = {"type": "string", "format": "date"}
_NDATE = {"type": ["string", "null"], "format": "date"}
_TEXT = {"type": "string", "maxLength": TEXT_MAX}
_INT = {"type": "integer"}
_NINT = {"type": ["integer", "null"]}
_STAGE = {"type": "string", "enum": list(STAGES)}
_STEP_CODE = {"type": "string", "enum": list(STEP_CODES),
              "description": "One of the 25 steps of BRANCH-LIFE.md (d), in order."}
_UNIT = [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}}]


def _id(name: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


_PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "member_id": _INT}}
_STEP = {"type": "object", "properties": {
    "id": _INT, "number": {"type": "integer", "minimum": 1, "maximum": len(STEP_CODES)}, "code": _STEP_CODE,
    "on": _DATE, "notes": {"type": "string"}, "data": {"type": "object"},
    "files": {"type": "array", "items": {"type": "object"}}}}
_SIDE = {"type": "string", "enum": ["branch", "host", "home", "committee", "mentor", "person"]}
_DEADLINE = {"type": "object", "properties": {
    "kind": {"type": "string"}, "due_on": _DATE, "side": _SIDE, "label": {"type": "string"},
    "overdue": {"type": "boolean"}}}
_CASE_DEADLINE = {"type": "object", "properties": {"case_id": _INT, **_DEADLINE["properties"]}}
_MENTOR = {"type": "object", "properties": {
    "id": _INT, "member_id": _INT, "name": {"type": "string"}, "place": {"type": "string", "enum": list(MENTOR_PLACES)},
    "assigned_on": _DATE, "ended_on": _NDATE}}
_CASE = {"type": "object", "required": ["id", "stage"], "properties": {
    "id": _INT, "stage": _STAGE, "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
    "unit_id": _INT, "host_unit_id": _NINT, "person": _PERSON, "applied_on": _DATE,
    **{name: _NDATE for name in ("activist_on", "candidate_on", "admitted_on", "probation_ends_on", "full_on",
                                 "closed_on")},
    "extended_months": _NINT, "closed_reason": {"type": ["string", "null"]},
    "steps": {"type": "array", "items": _STEP}, "deadlines": {"type": "array", "items": _DEADLINE},
    "mentors": {"type": "array", "items": _MENTOR}}}
_SUMMARY = {"type": "object", "properties": {
    "id": _INT, "stage": _STAGE, "outcome": {"type": ["string", "null"]}, "unit_id": _INT, "host_unit_id": _NINT,
    "person": _PERSON, "applied_on": _DATE, "probation_ends_on": _NDATE}}
_VETTING = {"type": "object", "properties": {
    "id": _INT, "case_id": _INT, "side": {"type": "string", "enum": list(PLACES)}, "part": {"type": "string"},
    "requested_on": _DATE, "due_on": _DATE, "findings": {"type": ["string", "null"]}, "recorded_on": _NDATE}}
_OBJECTION = {"type": "object", "properties": {
    "id": _INT, "notice_id": _INT, "received_on": _DATE, "body": {"type": "string"},
    "resolution": {"type": ["string", "null"]}, "resolved_on": _NDATE}}
_NOTICE = {"type": "object", "properties": {
    "id": _INT, "case_id": _INT, "place": {"type": "string", "enum": list(PLACES)}, "starts_on": _DATE,
    "ends_on": _DATE, "posted_at": {"type": "string"}, "objections": {"type": "array", "items": _OBJECTION}}}
_TAGS = ["development"]
_CASE_WRITE = ("401", "403", "404", "409", "422")


def _post(summary: str, required: list[str], properties: dict, *, path_id: str | None = "case_id",
          ok: str = "200", schema: dict = _CASE) -> dict:
    operation = {"summary": summary, "tags": _TAGS, "requestBody": _body(required, properties),
                 "responses": tk.openapi_responses(*_CASE_WRITE, ok=ok, description=summary, schema=schema)}
    if path_id is not None:
        operation["parameters"] = _id(path_id)
    return {"post": operation}


_PERSON_IN = {"type": "object", "required": ["name", "id_number"], "additionalProperties": False, "properties": {
    "name": {"type": "string", "maxLength": 100}, "id_number": {"type": "string", "minLength": 18, "maxLength": 18},
    "phone": {"type": "string", "maxLength": 30}}}
_STEP_DATA = {"type": "object", "description": (
    "What the step carries: admission_vote/conversion_vote {tally: {entitled, present, by_video, ballots_issued, "
    "ballots_returned, yes, no, abstain, written_yes, written_no, written_abstain}}; training {hours} or {days} or "
    "{class_id}; introducers {introducers: [member_id, member_id]}; political_review {conclusion, methods}; "
    "conversion_approval {outcome: convert|extend|cancel, months}.")}
_MISSING = {"description": "A step is refused: error.missing names each unmet requirement {code, message}.",
            "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {
                "type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "missing": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}}}}}}}}

API_PATHS = {
    "/api/v1/development/cases": {
        "post": {"summary": "Open a case for a person (with or without a member record)", "tags": _TAGS,
                 "requestBody": _body(["unit_id", "applied_on"], {
                     "unit_id": _INT, "member_id": _INT, "person": _PERSON_IN, "applied_on": _DATE,
                     "household_place": _TEXT, "workplace": _TEXT, "host_unit_id": _INT}),
                 "responses": tk.openapi_responses(*_CASE_WRITE, ok="201", description="The case", schema=_CASE)},
        "get": {"summary": "Cases kept in or hosted in a unit's subtree", "tags": _TAGS,
                "parameters": [*_UNIT, {"name": "closed", "in": "query", "schema": {"type": "integer",
                                                                                     "enum": [0, 1]}}],
                "responses": tk.openapi_responses("401", "404", "422", description="cases", schema={
                    "type": "object", "properties": {"cases": {"type": "array", "items": _SUMMARY}}})}},
    "/api/v1/development/cases/{case_id}": {"get": {
        "summary": "A case: stage, steps with dates, deadlines, mentors", "tags": _TAGS, "parameters": _id("case_id"),
        "responses": tk.openapi_responses("401", "404", description="The case", schema=_CASE)}},
    "/api/v1/development/mine": {"get": {
        "summary": "One's own case (the deadlines one owes; null without a case) and the open cases one mentors",
        "tags": _TAGS, "responses": tk.openapi_responses("401", description="My development", schema={
            "type": "object", "properties": {"case": {"oneOf": [_CASE, {"type": "null"}]},
                                             "mentored": {"type": "array", "items": _SUMMARY}}})}},
    "/api/v1/development/files/{file_id}": {"get": {
        "summary": "A step's document (whoever may see its case)", "tags": _TAGS, "parameters": _id("file_id"),
        "responses": tk.openapi_responses("401", "404", description="The file", content="*/*",
                                          schema={"type": "string", "format": "binary"})}},
    "/api/v1/development/cases/{case_id}/record.pdf": {"get": {
        "summary": "The per-person record (纪实表) as PDF", "tags": _TAGS, "parameters": _id("case_id"),
        "responses": tk.openapi_responses("401", "403", "404", description="PDF", content="application/pdf",
                                schema={"type": "string", "format": "binary"})}},
    "/api/v1/development/cases/{case_id}/advance": _post(
        "Move the case to the next stage (records the step that does it)", ["to", "on"],
        {"to": {"type": "string", "enum": list(ADVANCE_STEP)}, "on": _DATE, "data": _STEP_DATA,
         "special": {"type": "boolean", "description": "a special case: the longer approval limit"}}),
    "/api/v1/development/cases/{case_id}/steps": _post(
        "Record one of the 25 steps", ["step", "on"],
        {"step": _STEP_CODE, "on": _DATE, "notes": _TEXT, "data": _STEP_DATA, "special": {"type": "boolean"}},
        ok="201", schema={**_STEP, "properties": {**_STEP["properties"], "step": _STEP_CODE, "case_id": _INT,
                                                   "stage": _STAGE}}),
    "/api/v1/development/cases/{case_id}/close": _post(
        "Close the case (withdrawn, not admitted)", ["outcome", "on", "reason"],
        {"outcome": {"type": "string", "enum": list(CLOSE_OUTCOMES)}, "on": _DATE, "reason": _TEXT}),
    "/api/v1/development/cases/{case_id}/transfer": _post(
        "Move the case to another branch, keeping its clock", ["unit_id", "on", "reason"],
        {"unit_id": _INT, "on": _DATE, "reason": _TEXT}),
    "/api/v1/development/cases/{case_id}/mentors": _post(
        "Assign a mentor (a full member, not a relative)", ["member_id", "place", "on", "not_relative"],
        {"member_id": _INT, "place": {"type": "string", "enum": list(MENTOR_PLACES)}, "on": _DATE,
         "not_relative": {"type": "boolean"}}, ok="201", schema=_MENTOR),
    "/api/v1/development/cases/{case_id}/vetting": _post(
        "Ask one side for parts of two-place vetting", ["side", "parts", "on"],
        {"side": {"type": "string", "enum": list(PLACES)},
         "parts": {"type": "array", "minItems": 1, "items": {
             "type": "string", "enum": sorted({p for parts in VETTING_PARTS.values() for p in parts})}},
         "on": _DATE}, ok="201",
        schema={"type": "object", "properties": {"vetting": {"type": "array", "items": _VETTING}}}),
    "/api/v1/development/vetting/{vetting_id}": _post(
        "Record a side's findings on one vetting part", ["findings", "on"], {"findings": _TEXT, "on": _DATE},
        path_id="vetting_id", schema=_VETTING),
    "/api/v1/development/cases/{case_id}/notices": _post(
        "Post a public notice in one place", ["place", "starts_on"],
        {"place": {"type": "string", "enum": list(PLACES)}, "starts_on": _DATE, "ends_on": _DATE,
         "posted_at": _TEXT}, ok="201", schema=_NOTICE),
    "/api/v1/development/notices/{notice_id}/objections": _post(
        "Record an objection received during a public notice", ["received_on", "body"],
        {"received_on": _DATE, "body": _TEXT}, path_id="notice_id", ok="201", schema=_OBJECTION),
    "/api/v1/development/objections/{objection_id}/resolve": _post(
        "Record how an objection was resolved", ["resolution", "on"], {"resolution": _TEXT, "on": _DATE},
        path_id="objection_id", schema=_OBJECTION),
    "/api/v1/development/board": {"get": {
        "summary": "A unit's pipeline: cases per stage, overdue deadlines, vetting waiting, probation endings",
        "tags": _TAGS, "parameters": _UNIT,
        "responses": tk.openapi_responses("401", "404", "422", description="The board", schema={
            "type": "object", "properties": {
                "unit_id": _INT, "stages": {"type": "object", "properties": {s: _INT for s in STAGES}},
                "overdue": {"type": "array", "items": _CASE_DEADLINE},
                "waiting": {"type": "array", "items": _CASE_DEADLINE},
                "probation_endings": {"type": "array", "items": {"type": "object", "properties": {
                    "case_id": _INT, "name": {"type": "string"}, "probation_ends_on": _NDATE}}},
                "admitted_this_year": _INT,
                "plan": {"type": ["object", "null"]}}})}},
}
for _path in ("/cases/{case_id}/advance", "/cases/{case_id}/steps"):
    API_PATHS["/api/v1/development" + _path]["post"]["responses"]["409"] = _MISSING

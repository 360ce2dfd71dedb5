"""Standing JSON API under ``/api/v1/standing`` (blueprint ``standing_api``).

A unit's members with their months without each dimension and their step; the caller's own standing
and what would reset it; recording leave, work done and talks; the cases with the branch assembly's
decision, the upper committee's approval and closing. Dates are ``YYYY-MM-DD`` (local days).
A dimension no enabled plugin counts is ``null``.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_standing import clock, records
from portal_standing.models import DIMENSIONS
from portal_standing.vocabulary import RESET_LABELS

bp = Blueprint("standing_api", __name__, url_prefix="/api/v1/standing")
db = tk.db
PERMISSION = "standing.manage"


def _unit_arg() -> tk.OrgUnit:
    """The unit ``?unit=`` names, on which the caller holds ``standing.manage`` (422 not a number, 404 outside scope)."""
    raw = request.args.get("unit", "")
    if not raw.isdigit() or int(raw) == 0:
        raise tk.Invalid(_("Please correct the marked fields."), {"unit": _("Enter a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None or not tk.can(PERMISSION, unit, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    return unit


def _member(data: dict) -> tk.Member:
    """The member ``member_id`` names (404 when none; the services check the caller's scope)."""
    member = db.session.get(tk.Member, tk.api_id(data.get("member_id"), "member_id"))
    if member is None:
        raise tk.NotFound(_("Not found."))
    return member


def _fields(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "member_id"}


@bp.get("")
@tk.api_login_required
def unit_standing():
    """The members (full, probationary) of the unit's subtree: months without each dimension and the step."""
    rows = clock.standing_in_unit(_unit_arg(), tk.utcnow())
    return jsonify({"members": [clock.standing_json(row) for row in rows]})


@bp.get("/me")
@tk.api_login_required
def me():
    """The caller's own standing and, for each counted dimension, what would reset it."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    standing = clock.standing_of(member, tk.utcnow())
    counted = clock.dimensions()
    body = (clock.standing_json(standing) if standing is not None else
            {"member_id": member.id, "months_without": dict.fromkeys(DIMENSIONS), "step": "none", "since": None})
    body["applies"] = standing is not None
    body["resets"] = {dim: str(RESET_LABELS[dim]) for dim in counted}
    body["leaves"] = [records.leave_json(leave) for leave in records.leaves_of(member)]
    return jsonify(body)


def _record(write, to_json):
    data = tk.api_json()
    record = write(_member(data), _fields(data), by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(to_json(record)), 201


@bp.post("/leaves")
@tk.api_login_required
def post_leave():
    """Record approved leave for a member of one's branch → 201 (its days do not count)."""
    return _record(records.record_leave, records.leave_json)


@bp.post("/work")
@tk.api_login_required
def post_work():
    """Record assigned work a member did → 201 (a ``work.done`` act on that day)."""
    return _record(records.record_work, records.work_json)


@bp.post("/talks")
@tk.api_login_required
def post_talk():
    """Record a talk held with a member → 201."""
    return _record(records.record_talk, records.talk_json)


@bp.get("/cases")
@tk.api_login_required
def cases():
    """The unit's subtree's cases not closed (``closed=1``: all), each saying whether activity since resolved it."""
    unit = _unit_arg()
    found = records.cases_in_unit(unit, include_closed=request.args.get("closed") == "1")
    standings = clock.standings(sorted({case.member_id for case in found}), tk.utcnow())
    return jsonify({"cases": [records.case_json(case, standings.get(case.member_id)) for case in found]})


def _case_answer(case):
    db.session.commit()
    return jsonify(records.case_json(case, clock.standing_of(case.member, tk.utcnow())))


def _case(case_id: int):
    """The case, if the caller may see it (its home branch's ``standing.manage`` or the ``standing.approve`` above)."""
    case = records.get_case(case_id)
    if not (tk.can_see_member(case.member, PERMISSION, tk.current_account())
            or tk.can_see_member(case.member, "standing.approve", tk.current_account())):
        raise tk.NotFound(_("Not found."))
    return case


@bp.post("/cases/<int:case_id>/decision")
@tk.api_login_required
def decide(case_id: int):
    """Record the branch assembly's decision ``{decision, decided_on}`` on an open case."""
    case = records.decide_case(_case(case_id), tk.api_json(), by=tk.current_account(), now=tk.utcnow())
    return _case_answer(case)


@bp.post("/cases/<int:case_id>/approval")
@tk.api_login_required
def approve(case_id: int):
    """Record the upper committee's approval ``{approval, approved_on}`` of a decided case."""
    case = records.approve_case(_case(case_id), tk.api_json(), by=tk.current_account(), now=tk.utcnow())
    return _case_answer(case)


@bp.post("/cases/<int:case_id>/close")
@tk.api_login_required
def close(case_id: int):
    """Close a case with a ``{reason}`` (e.g. resolved by activity)."""
    reason = tk.api_json().get("reason")
    case = records.close_case(_case(case_id), reason if isinstance(reason, str) else "", by=tk.current_account(),
                              now=tk.utcnow())
    return _case_answer(case)


_DATE = {"type": "string", "format": "date"}
_TEXT = {"type": "string", "maxLength": records.TEXT_MAX}
_UNIT = [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}}]
_ID = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_MONTHS = {"type": "object", "properties": {dim: {"type": ["integer", "null"]} for dim in DIMENSIONS}}
_STANDING = {"type": "object", "properties": {
    "member_id": {"type": "integer"}, "months_without": _MONTHS,
    "step": {"type": "string", "enum": ["none", "reminder", "talk", "notice", "case"]},
    "since": {"type": ["string", "null"]}}}
_CASE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "member_id": {"type": "integer"}, "unit_id": {"type": "integer"},
    "since": {"type": "string"}, "reasons": {"type": "object"}, "state": {"type": "string"},
    "decision": {"type": ["string", "null"]}, "decided_on": {"type": ["string", "null"]},
    "approval": {"type": ["string", "null"]}, "approved_on": {"type": ["string", "null"]},
    "closed_reason": {"type": ["string", "null"]}, "resolved_by_activity": {"type": ["boolean", "null"]}}}


def _record_path(summary: str, required: list[str], properties: dict) -> dict:
    return {"post": {"summary": summary, "tags": ["standing"], "requestBody": tk.openapi_json_body({
        "type": "object", "required": ["member_id", *required], "additionalProperties": False,
        "properties": {"member_id": {"type": "integer"}, **properties}}),
        "responses": tk.openapi_responses("401", "403", "404", "422", ok="201", description="Recorded")}}


def _case_path(summary: str, required: list[str], properties: dict) -> dict:
    return {"post": {"summary": summary, "tags": ["standing"], "parameters": _ID, "requestBody": tk.openapi_json_body({
        "type": "object", "required": required, "additionalProperties": False, "properties": properties}),
        "responses": tk.openapi_responses("401", "403", "404", "409", "422", description="The case", schema=_CASE)}}


API_PATHS = {
    "/api/v1/standing": {"get": {
        "summary": "Members of a unit's subtree: months without branch life, dues, assigned work; the step",
        "tags": ["standing"], "parameters": _UNIT,
        "responses": tk.openapi_responses("401", "404", "422", description="members", schema={
            "type": "object", "properties": {"members": {"type": "array", "items": _STANDING}}})}},
    "/api/v1/standing/me": {"get": {
        "summary": "The caller's standing, what would reset each dimension, and their approved leave", "tags": ["standing"],
        "responses": tk.openapi_responses("401", "403", description="My standing", schema={**_STANDING, "properties": {
            **_STANDING["properties"], "applies": {"type": "boolean"}, "resets": {"type": "object"},
            "leaves": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                "reason": {"type": "string"}}}}}})}},
    "/api/v1/standing/leaves": _record_path("Record approved leave (its days do not count)", ["starts_on", "reason"],
                                            {"starts_on": _DATE, "ends_on": {**_DATE, "description": "none: open"},
                                             "reason": _TEXT}),
    "/api/v1/standing/work": _record_path("Record assigned work a member did", ["done_on", "description"],
                                          {"done_on": _DATE, "description": _TEXT}),
    "/api/v1/standing/talks": _record_path("Record a talk held with a member", ["held_on", "notes"],
                                           {"held_on": _DATE, "notes": _TEXT}),
    "/api/v1/standing/cases": {"get": {
        "summary": "Cases of a unit's subtree for the branch assembly", "tags": ["standing"],
        "parameters": [*_UNIT, {"name": "closed", "in": "query", "schema": {"type": "integer", "enum": [0, 1]}}],
        "responses": tk.openapi_responses("401", "404", "422", description="cases", schema={
            "type": "object", "properties": {"cases": {"type": "array", "items": _CASE}}})}},
    "/api/v1/standing/cases/{case_id}/decision": _case_path(
        "Record the branch assembly's decision on a case", ["decision", "decided_on"],
        {"decision": _TEXT, "decided_on": _DATE}),
    "/api/v1/standing/cases/{case_id}/approval": _case_path(
        "Record the upper committee's approval of a decided case", ["approval"],
        {"approval": _TEXT, "approved_on": _DATE}),
    "/api/v1/standing/cases/{case_id}/close": _case_path("Close a case with a reason", ["reason"], {"reason": _TEXT}),
}

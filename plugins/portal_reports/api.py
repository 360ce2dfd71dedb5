"""Personal reports JSON API under ``/api/v1/reports`` (blueprint ``reports_api``).

A member submits a report for a period (``2026-Q4``, ``2026-H2`` or ``2026``, as their frequency has it);
a second one for the same period is refused (409) unless the first was returned, then it is resubmitted.
Secretaries list a unit's reports and who is missing; readers open one (audited) and comment or return it.
A report the caller may not read answers 404.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_reports import reading, schedule, writing
from portal_reports.models import Report

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
db = tk.db


def _caller_member() -> tk.Member:
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    return member


def _summary(report: Report) -> dict:
    """A report in a list: no body (listing is not reading)."""
    return {"id": report.id, "member_id": report.member_id, "period": report.period, "stage": report.stage,
            "status": report.status, "submitted_at": tk.isoformat(report.submitted_at)}


@bp.post("")
@tk.api_login_required
def post_report():
    """The caller submits their report for a period → 201; 409 when already submitted and not returned."""
    data = tk.api_json()
    member = _caller_member()
    report = writing.submit(member, data.get("period"), data.get("body"), share_with_host=data.get("share_with_host"),
                            now=tk.utcnow())
    db.session.commit()
    return jsonify({"id": report.id, "status": report.status, "period": report.period}), 201


@bp.get("")
@tk.api_login_required
def list_reports():
    """A unit's reports for a period (its subtree, by home unit) and the members still owing one."""
    raw = request.args.get("unit", "")
    errors = {}
    if not raw.isdigit() or int(raw) == 0:
        errors["unit"] = _("Enter a number.")
    period = schedule.parse_period(request.args.get("period"))
    if period is None:
        errors["period"] = _("Give the period as a quarter (2026-Q4), a half year (2026-H2) or a year (2026).")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None or not tk.can("reports.read", unit, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    overview = reading.unit_overview(unit, period.key)
    return jsonify({"period": period.key, "submitted": [_summary(report) for report in overview["submitted"]],
                    "missing": [member.id for member in overview["missing"]]})


@bp.get("/mine")
@tk.api_login_required
def mine():
    """The caller's reports (newest period first, paged) and the periods they may write for now (the web's
    ``/reports/``): each with its report's id and status, or null before anything was kept."""
    member = _caller_member()
    page = tk.api_page(writing.reports_of(member), _summary, key="reports")
    periods = []
    for period in schedule.writable_periods(member, tk.utcnow()):
        report = writing.get_report(member, period)
        periods.append({"period": period, "report_id": report.id if report else None,
                        "status": report.status if report else None})
    return jsonify({**page, "writable_periods": periods})


def _draft_json(member: tk.Member, period: str) -> dict:
    report = writing.get_report(member, period)
    return {"period": period, "report_id": report.id if report else None,
            "status": report.status if report else None, "body": report.body if report else "",
            "share_with_host": bool(report and report.share_with_host),
            "saved_at": tk.isoformat(report.updated_at) if report else None,
            "editable": report is None or report.status in ("draft", "returned")}


@bp.get("/drafts/<period>")
@tk.api_login_required
def get_draft(period: str):
    """The caller's text for ``period`` as kept (a draft, a returned report, or what was sent: ``editable`` false);
    422 for a period they may not write for now."""
    member = _caller_member()
    period = schedule.check_period(member, period, tk.local_today()).key
    return jsonify(_draft_json(member, period))


@bp.put("/drafts/<period>")
@tk.api_login_required
def put_draft(period: str):
    """``{"body", "share_with_host"?}``: keep the caller's draft for ``period`` (the writing page's autosave);
    409 once the report was submitted (unless it was returned)."""
    data = tk.api_json()
    member = _caller_member()
    share = data.get("share_with_host")
    if share is not None and not isinstance(share, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"share_with_host": _("Enter true or false.")})
    report = writing.save_draft(member, period, data.get("body"), share_with_host=share, now=tk.utcnow())
    db.session.commit()
    return jsonify(_draft_json(member, report.period))


@bp.get("/<int:report_id>")
@tk.api_login_required
def get_report(report_id: int):
    """One report with its comments: the author, or a reader (audited; the first read marks it read)."""
    account = tk.current_account()
    report = reading.get_readable(report_id, account)
    reading.open_report(report, account, now=tk.utcnow())
    db.session.commit()
    return jsonify(writing.report_json(report))


@bp.post("/<int:report_id>/comments")
@tk.api_login_required
def post_comment(report_id: int):
    """A reader comments → 201; ``"return": true`` sends it back to the member for more."""
    data = tk.api_json()
    account = tk.current_account()
    report = reading.get_readable(report_id, account)
    note = reading.comment(report, account, data.get("body"), returned=data.get("return", False), now=tk.utcnow())
    db.session.commit()
    return jsonify({"id": note.id, "report_id": report.id, "returned": note.returned,
                    "report_status": report.status}), 201


_PERIOD = {"type": "string", "pattern": r"^\d{4}(-Q[1-4]|-H[12])?$", "description": "2026-Q4, 2026-H2 or 2026"}
_ID = [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_SUMMARY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "member_id": {"type": "integer"}, "period": {"type": "string"},
    "stage": {"type": "string"}, "status": {"type": "string", "enum": ["submitted", "read", "commented", "returned"]},
    "submitted_at": {"type": ["string", "null"]}}}
_REPORT = {"type": "object", "properties": {
    **_SUMMARY["properties"], "body": {"type": "string"}, "share_with_host": {"type": "boolean"},
    "comments": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "body": {"type": "string"}, "returned": {"type": "boolean"},
        "created_at": {"type": "string"}}}}}}

_PERIOD_PATH = [{"name": "period", "in": "path", "required": True, "schema": _PERIOD}]
_DRAFT = {"type": "object", "properties": {
    "period": {"type": "string"}, "report_id": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
    "status": {"oneOf": [{"type": "string"}, {"type": "null"}]}, "body": {"type": "string"},
    "share_with_host": {"type": "boolean"}, "saved_at": {"oneOf": [{"type": "string"}, {"type": "null"}]},
    "editable": {"type": "boolean", "description": "false once submitted (until it is returned)"}}}
_MINE = {**tk.openapi_page("reports", {**_SUMMARY, "properties": {**_SUMMARY["properties"], "status": {
    "type": "string", "enum": ["draft", "submitted", "read", "commented", "returned"]}}})}
_MINE["properties"] = {**_MINE["properties"], "writable_periods": {"type": "array", "items": {
    "type": "object", "properties": {"period": {"type": "string"},
                                     "report_id": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
                                     "status": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}}}

API_PATHS = {
    "/api/v1/reports": {
        "post": {"summary": "Submit one's personal report for a period (resubmit it after a return)",
                 "tags": ["reports"],
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["period", "body"], "properties": {
                     "period": {**_PERIOD, "description": "the current or the previous period of one's frequency"},
                     "body": {"type": "string", "maxLength": writing.BODY_MAX},
                     "share_with_host": {"type": "boolean", "description": "send a copy to the host branch"}}}),
                 "responses": tk.openapi_responses("403", "409", "422", ok="201", schema={"type": "object", "properties": {
                     "id": {"type": "integer"}, "status": {"type": "string"}, "period": {"type": "string"}}})},
        "get": {"summary": "A unit's reports for a period and the members still owing one (reports.read)",
                "tags": ["reports"],
                "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}},
                               {"name": "period", "in": "query", "required": True, "schema": _PERIOD}],
                "responses": tk.openapi_responses("404", "422", schema={"type": "object", "properties": {
                    "period": {"type": "string"}, "submitted": {"type": "array", "items": _SUMMARY},
                    "missing": {"type": "array", "items": {"type": "integer"}}}})},
    },
    "/api/v1/reports/mine": {
        "get": {"summary": "One's own reports (paged) and the periods one may write for now", "tags": ["reports"],
                "parameters": tk.OPENAPI_PAGE_PARAMETERS,
                "responses": tk.openapi_responses("400", "403", schema=_MINE)},
    },
    "/api/v1/reports/drafts/{period}": {
        "get": {"summary": "One's text for a period as kept (draft, returned, or sent)", "tags": ["reports"],
                "parameters": _PERIOD_PATH, "responses": tk.openapi_responses("403", "422", schema=_DRAFT)},
        "put": {"summary": "Keep one's draft for a period (autosave); submit it with POST /api/v1/reports",
                "tags": ["reports"], "parameters": _PERIOD_PATH,
                "requestBody": tk.openapi_json_body({"type": "object", "required": ["body"], "properties": {
                    "body": {"type": "string", "maxLength": writing.BODY_MAX},
                    "share_with_host": {"type": "boolean", "description": "send a copy to the host branch"}}}),
                "responses": tk.openapi_responses("403", "409", "422", schema=_DRAFT)},
    },
    "/api/v1/reports/{report_id}": {
        "get": {"summary": "One report with its comments (the author or a reader; every read by a reader is audited)",
                "tags": ["reports"], "parameters": _ID, "responses": tk.openapi_responses("404", schema=_REPORT)},
    },
    "/api/v1/reports/{report_id}/comments": {
        "post": {"summary": "Comment on a report; return it to the member for more", "tags": ["reports"],
                 "parameters": _ID,
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["body"], "properties": {
                     "body": {"type": "string", "maxLength": reading.COMMENT_MAX},
                     "return": {"type": "boolean", "default": False}}}),
                 "responses": tk.openapi_responses("403", "404", "409", "422", ok="201", schema={"type": "object", "properties": {
                     "id": {"type": "integer"}, "report_id": {"type": "integer"}, "returned": {"type": "boolean"},
                     "report_status": {"type": "string"}}})},
    },
}

"""Meetings JSON API under ``/api/v1/meetings`` (blueprint ``meetings_api``).

Calling a meeting, reading it (its managers also get the check-in code the QR carries now),
checking in, asking for leave, the register and the attendance summary, lists and compliance.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import attendance, calendar, meetings
from portal_meetings.models import KINDS, MODES, STATUSES, Attendee, Meeting

bp = Blueprint("meetings_api", __name__, url_prefix="/api/v1/meetings")
db = tk.db


def meeting_json(meeting: Meeting, account, *, now=None) -> dict:
    """The API's view of a meeting for ``account`` (managers also get the current check-in code and URL)."""
    body = {
        "id": meeting.id, "unit_id": meeting.unit_id, "unit": {"id": meeting.unit.id, "name": meeting.unit.name},
        "kind": meeting.kind, "topic": meeting.topic, "starts_at": tk.isoformat(meeting.starts_at),
        "ends_at": tk.isoformat(meeting.ends_at), "mode": meeting.mode, "place": meeting.place,
        "online_url": meeting.online_url, "status": meeting.status, "agenda": meeting.agenda,
        "host_name": meeting.host_name, "recorder_name": meeting.recorder_name,
        "lecturer_name": meeting.lecturer_name, "cancel_reason": meeting.cancel_reason,
        "url": meetings.meeting_url(meeting),
    }
    if meeting.status in ("minuted", "archived"):
        body.update(minutes=meeting.minutes, decisions=meeting.decisions)
    member = getattr(account, "member", None)
    row = attendance.attendee_of(meeting, member) if member is not None else None
    body["my_attendance"] = attendance_json(row) if row is not None else None
    if meetings.can_manage(meeting, account):
        code = attendance.current_code(meeting, now)
        body.update(checkin_code=code, checkin_open=attendance.is_open(meeting, now),
                    checkin_url=request.host_url.rstrip("/") + attendance.checkin_path(meeting, code))
    return body


def attendance_json(row: Attendee) -> dict:
    """One row of the list: the member's status and how it was taken."""
    return {"meeting_id": row.meeting_id, "member_id": row.member_id, "role": row.role, "status": row.status,
            "method": row.method, "checked_in_at": tk.isoformat(row.checked_in_at),
            "leave_state": row.leave_state, "leave_reason": row.leave_reason, "activity_id": row.activity_id}


def _visible(meeting_id: int, account) -> Meeting:
    meeting = meetings.get_meeting(meeting_id)
    if not meetings.can_view(meeting, account):
        raise tk.NotFound(_("Not found."))
    return meeting


def _member_of(account) -> tk.Member:
    if account.member is None:
        raise tk.Forbidden(_("Only members can do this."))
    return account.member


def _unit_arg() -> tk.OrgUnit | None:
    raw = request.args.get("unit")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise tk.Invalid(_("Please correct the marked fields."), {"unit": _("Enter a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None:
        raise tk.NotFound(_("Not found."))
    return unit


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise tk.Invalid(_("Please correct the marked fields."), {name: _("Enter a date like 2026-12-01.")}) from None


@bp.post("")
@tk.api_login_required
def create():
    """Create (and call, unless ``draft``) a meeting of a unit the caller manages → 201."""
    account = tk.current_account()
    data = tk.api_json()
    unit = db.session.get(tk.OrgUnit, tk.api_id(data.get("unit_id"), "unit_id"))
    if unit is None:
        raise tk.NotFound(_("Not found."))
    draft = data.get("draft")
    if draft is not None and not isinstance(draft, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"draft": _("Enter true or false.")})
    fields = {key: value for key, value in data.items() if key not in ("unit_id", "draft")}
    meeting = meetings.create_meeting(unit, fields, by=account, now=tk.utcnow(), call=not draft)
    db.session.commit()
    return jsonify(meeting_json(meeting, account)), 201


@bp.get("")
@tk.api_login_required
def list_meetings():
    """Meetings of ``unit`` (managers and its members) or, without it, the caller's own, from/to local dates
    (newest first, paged by ``tk.api_page``)."""
    account = tk.current_account()
    unit, since, until = _unit_arg(), _date_arg("from"), _date_arg("to")
    start = tk.local_day_bounds(since)[0] if since else None
    end = tk.local_day_bounds(until)[1] if until else None
    if unit is not None:
        manager = tk.can("meetings.manage", unit, account)
        if not manager and not meetings.is_member_there(unit, account.member):
            raise tk.NotFound(_("Not found."))
        statuses = None if manager else tuple(s for s in STATUSES if s != "draft")
        query = meetings.meetings_of_unit(unit, since=start, until=end, statuses=statuses)
    else:
        if account.member is not None:
            query = meetings.member_meetings(account.member)
        else:
            query = (select(Meeting).join(tk.OrgUnit, tk.OrgUnit.id == Meeting.unit_id)
                     .where(tk.unit_scope("meetings.manage", account))
                     .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))
        query = query.where(Meeting.starts_at >= start) if start else query
        query = query.where(Meeting.starts_at < end) if end else query
    return jsonify(tk.api_page(query, _list_item, key="meetings"))


def _list_item(meeting: Meeting) -> dict:
    return {"id": meeting.id, "unit_id": meeting.unit_id, "kind": meeting.kind, "topic": meeting.topic,
            "starts_at": tk.isoformat(meeting.starts_at), "ends_at": tk.isoformat(meeting.ends_at),
            "mode": meeting.mode, "place": meeting.place, "status": meeting.status,
            "url": meetings.meeting_url(meeting)}


@bp.get("/compliance")
@tk.api_login_required
def compliance_of_unit():
    """Required vs held per kind for ``unit`` in ``period`` (``2026-11``, ``2026-Q4``, ``2026``)."""
    from portal_meetings import compliance

    account = tk.current_account()
    unit = _unit_arg()
    if unit is None:
        raise tk.Invalid(_("Please correct the marked fields."), {"unit": _("Choose a unit.")})
    if not tk.can("meetings.manage", unit, account) and not meetings.is_member_there(unit, account.member):
        raise tk.NotFound(_("Not found."))
    period = compliance.parse_period(request.args.get("period") or compliance.current_period().key)
    rows = compliance.unit_compliance(unit, period)
    return jsonify({"unit_id": unit.id, "period": period.key, "kinds": [
        {"kind": row["kind"], "required": row["required"], "held": row["held"], "frequency": row.get("frequency"),
         "window": row.get("window")} for row in rows]})


@bp.get("/<int:meeting_id>")
@tk.api_login_required
def get(meeting_id: int):
    """One meeting; 404 unless the caller manages it, is listed or belongs (or is hosted) below its unit."""
    account = tk.current_account()
    return jsonify(meeting_json(_visible(meeting_id, account), account))


@bp.get("/<int:meeting_id>.ics")
@tk.api_login_required
def ics(meeting_id: int):
    """One meeting as an iCalendar file for the phone's calendar (the web's ``meetings.ics``)."""
    meeting = _visible(meeting_id, tk.current_account())
    return calendar.ics_response([meeting], base_url=request.host_url, filename=f"meeting-{meeting.id}.ics")


@bp.get("/calendar.ics")
@tk.api_login_required
def calendar_feed():
    """The caller's upcoming meetings (home and host branch, cancelled ones marked) as one calendar."""
    member = _member_of(tk.current_account())
    return calendar.ics_response(meetings.upcoming_for_member(member), base_url=request.host_url,
                                 filename="meetings.ics", name=_("My meetings"))


@bp.post("/<int:meeting_id>/checkin")
@tk.api_login_required
def checkin(meeting_id: int):
    """``{"code"}`` → 201 with the attendance the first time, 200 on a repeat; online meetings need no code."""
    account = tk.current_account()
    data = tk.api_json()
    code = data.get("code")
    if code is not None and not isinstance(code, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"code": _("Enter the code as text.")})
    meeting = meetings.get_meeting(meeting_id)
    # A valid code proves the member is in the room, so an unlisted member may check in with it (drafts stay hidden).
    if not meetings.can_view(meeting, account) and (not code or meeting.status == "draft"):
        raise tk.NotFound(_("Not found."))
    member = _member_of(account)
    row, created = attendance.check_in(meeting, member, code or None, now=tk.utcnow())
    db.session.commit()
    return jsonify(attendance_json(row)), 201 if created else 200


@bp.post("/<int:meeting_id>/leave")
@tk.api_login_required
def leave(meeting_id: int):
    """``{"reason"}`` → 201: the caller asks for leave before the meeting starts."""
    account = tk.current_account()
    data = tk.api_json()
    meeting = _visible(meeting_id, account)
    member = _member_of(account)
    row = attendance.request_leave(meeting, member, data.get("reason"), now=tk.utcnow())
    db.session.commit()
    return jsonify(attendance_json(row)), 201


def _listed_member(meeting: Meeting, member_id) -> tk.Member:
    member = db.session.get(tk.Member, tk.api_id(member_id, "member_id"))
    if member is None:
        raise tk.NotFound(_("Not found."))
    return member


@bp.post("/<int:meeting_id>/leave/<int:member_id>")
@tk.api_login_required
def decide_leave(meeting_id: int, member_id: int):
    """``{"approve": true|false}`` → 200: a manager decides a member's leave request."""
    account = tk.current_account()
    data = tk.api_json()
    meeting = meetings.get_meeting(meeting_id)
    if not meetings.can_manage(meeting, account):
        raise tk.NotFound(_("Not found."))
    approve = data.get("approve")
    if not isinstance(approve, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"approve": _("Enter true or false.")})
    row = attendance.decide_leave(meeting, _listed_member(meeting, member_id), approve, by=account, now=tk.utcnow())
    db.session.commit()
    return jsonify(attendance_json(row))


@bp.post("/<int:meeting_id>/register")
@tk.api_login_required
def register(meeting_id: int):
    """``{"member_id", "status"}`` → 200: a manager ticks the register (a counted attendance stays counted)."""
    account = tk.current_account()
    data = tk.api_json()
    meeting = meetings.get_meeting(meeting_id)
    if not meetings.can_manage(meeting, account):
        raise tk.NotFound(_("Not found."))
    status = data.get("status")
    member = _listed_member(meeting, data.get("member_id"))
    row = attendance.mark(meeting, member, status if isinstance(status, str) else "", by=account, now=tk.utcnow())
    db.session.commit()
    return jsonify(attendance_json(row))


@bp.get("/<int:meeting_id>/attendance")
@tk.api_login_required
def attendance_summary(meeting_id: int):
    """Counts and statuses: managers see everyone, a home-branch secretary only their own members."""
    account = tk.current_account()
    meeting = meetings.get_meeting(meeting_id)
    if attendance.visible_rows(meeting, account) is None:
        raise tk.NotFound(_("Not found."))
    return jsonify(attendance.summary(meeting, account=account))


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_TIME = {"type": "string", "description": "local time, e.g. 2026-12-01T19:30 (or with an offset)"}
MEETING_BODY = {"type": "object", "required": ["unit_id", "kind", "topic", "starts_at", "ends_at"], "properties": {
    "unit_id": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
    "topic": {"type": "string", "maxLength": meetings.TOPIC_MAX}, "starts_at": _TIME, "ends_at": _TIME,
    "mode": {"type": "string", "enum": list(MODES)},
    "place": {"type": "string", "maxLength": meetings.PLACE_MAX, "description": "required on site and hybrid"},
    "online_url": {"type": "string", "maxLength": meetings.URL_MAX}, "agenda": {"type": "string"},
    "host_name": {"type": "string"}, "recorder_name": {"type": "string"}, "lecturer_name": {"type": "string"},
    "draft": {"type": "boolean", "description": "keep as a draft instead of calling it (members are not told)"}}}
_MEETING = {"type": "object", "properties": {
    "id": {"type": "integer"}, "unit_id": {"type": "integer"}, "kind": {"type": "string"},
    "topic": {"type": "string"}, "starts_at": {"type": "string"}, "ends_at": {"type": "string"},
    "status": {"type": "string"}, "checkin_code": {"type": "string", "description": "managers only"},
    "checkin_url": {"type": "string", "description": "managers only"}}}
_LIST_ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"}, "unit_id": {"type": "integer"}, "kind": {"type": "string"}, "topic": {"type": "string"},
    "starts_at": {"type": "string", "description": "local time with its offset"}, "ends_at": {"type": "string"},
    "mode": {"type": "string"}, "place": {"oneOf": [{"type": "string"}, {"type": "null"}]},
    "status": {"type": "string"}, "url": {"type": "string"}}}
_SUMMARY = {"type": "object", "properties": {
    **{name: {"type": "integer"} for name in ("expected", "present", "online", "leave", "absent")},
    "members": {"type": "array", "items": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "status": {"type": "string"}}}}}}
_DATE = {"type": "string", "format": "date"}

API_PATHS = {
    "/api/v1/meetings": {
        "post": {"summary": "Call (or draft) a meeting of a unit the caller manages", "tags": ["meetings"],
                 "requestBody": tk.openapi_json_body(MEETING_BODY),
                 "responses": {"201": {"description": "Created", "content": {"application/json": {
                     "schema": _MEETING}}}, "401": tk.openapi_error_ref(), "403": tk.openapi_error_ref(), "404": tk.openapi_error_ref(),
                     "422": tk.openapi_error_ref()}},
        "get": {"summary": "Meetings of a unit, or the caller's own upcoming and past meetings (newest first, paged)",
                "tags": ["meetings"],
                "parameters": [{"name": "unit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "from", "in": "query", "schema": _DATE, "description": "local date"},
                               {"name": "to", "in": "query", "schema": _DATE, "description": "local date, inclusive"},
                               *tk.OPENAPI_PAGE_PARAMETERS],
                "responses": tk.openapi_responses("400", "401", "404", "422", description="Meetings",
                                                  schema=tk.openapi_page("meetings", _LIST_ITEM))},
    },
    "/api/v1/meetings/calendar.ics": {"get": {
        "summary": "The caller's upcoming meetings as one iCalendar file (cancelled ones marked)",
        "tags": ["meetings"], "responses": tk.openapi_responses("401", "403", description="text/calendar",
                                                                 content="text/calendar",
                                                                 schema={"type": "string"})}},
    "/api/v1/meetings/{id}.ics": {"get": {
        "summary": "One meeting as an iCalendar file for the phone's calendar", "tags": ["meetings"],
        "parameters": _ID, "responses": tk.openapi_responses("401", "404", description="text/calendar",
                                                              content="text/calendar", schema={"type": "string"})}},
    "/api/v1/meetings/compliance": {"get": {
        "summary": "Required vs held meetings per kind of a unit in a period", "tags": ["meetings"],
        "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}},
                       {"name": "period", "in": "query", "schema": {"type": "string"},
                        "description": "2026-11, 2026-Q4 or 2026 (default: this quarter)"}],
        "responses": tk.openapi_responses("401", "404", "422", description="Per kind: kind, required, held")}},
    "/api/v1/meetings/{id}": {"get": {
        "summary": "One meeting (managers also get the check-in code the QR carries now)", "tags": ["meetings"],
        "parameters": _ID, "responses": {"200": {"description": "The meeting", "content": {"application/json": {
            "schema": _MEETING}}}, "401": tk.openapi_error_ref(), "404": tk.openapi_error_ref()}}},
    "/api/v1/meetings/{id}/checkin": {"post": {
        "summary": "Check in with the scanned code; join an online or hybrid meeting without one (then open its "
                   "online_url)", "tags": ["meetings"],
        "parameters": _ID, "requestBody": tk.openapi_json_body({"type": "object", "properties": {
            "code": {"type": "string", "description": "the value of the meeting's QR code"}}}),
        "responses": {"201": {"description": "Checked in"}, "200": {"description": "Already checked in"},
                      **{code: tk.openapi_error_ref() for code in ("401", "403", "404", "409", "422")}}}},
    "/api/v1/meetings/{id}/leave": {"post": {
        "summary": "Ask for leave before the meeting starts", "tags": ["meetings"], "parameters": _ID,
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["reason"], "properties": {
            "reason": {"type": "string", "maxLength": attendance.REASON_MAX}}}),
        "responses": tk.openapi_responses("401", "403", "404", "409", "422", ok="201", description="Requested")}},
    "/api/v1/meetings/{id}/leave/{member_id}": {"post": {
        "summary": "Approve or refuse a member's leave request", "tags": ["meetings"],
        "parameters": _ID + [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["approve"], "properties": {
            "approve": {"type": "boolean"}}}),
        "responses": tk.openapi_responses("401", "403", "404", "409", "422", description="Decided")}},
    "/api/v1/meetings/{id}/register": {"post": {
        "summary": "Tick a member present, online, on leave or absent", "tags": ["meetings"], "parameters": _ID,
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["member_id", "status"], "properties": {
            "member_id": {"type": "integer"}, "status": {"type": "string", "enum": list(attendance.REGISTER_STATUSES)}}}),
        "responses": tk.openapi_responses("401", "403", "404", "409", "422", description="Recorded")}},
    "/api/v1/meetings/{id}/attendance": {"get": {
        "summary": "Attendance counts and statuses (a home-branch secretary: their members only)",
        "tags": ["meetings"], "parameters": _ID,
        "responses": {"200": {"description": "Summary", "content": {"application/json": {"schema": _SUMMARY}}},
                      "401": tk.openapi_error_ref(), "404": tk.openapi_error_ref()}}},
}

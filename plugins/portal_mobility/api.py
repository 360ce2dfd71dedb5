"""JSON API under ``/api/v1/mobility`` (session or bearer token)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk

from sqlalchemy import select

from . import certificates, checkins, common, moves, outflows, photos, returns, statistics, transfers
from .models import Certificate, CheckIn, Outflow, Transfer

bp = Blueprint("mobility_api", __name__, url_prefix="/api/v1/mobility")
db = tk.db


def _int(value, field: str) -> int:
    """An id from the JSON body; past ``tk.MAX_ID`` it names nothing (0: ``db.session.get`` finds None)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise tk.BadRequest(_("Please correct the marked fields."), {field: _("Send a number.")})
    return int(value) if int(value) <= tk.MAX_ID else 0


@bp.post("/outflows")
@tk.api_login_required
def create_outflow():
    """Register an outflow for the caller (or, for the home side, for ``member_id``)."""
    data = tk.api_json()
    account = tk.current_account()
    if data.get("member_id") not in (None, ""):
        member = db.session.get(tk.Member, _int(data["member_id"], "member_id"))
        if member is None or (member.account_id != account.id and not tk.can("mobility.manage", member.home_unit)):
            abort(404)
    else:
        member = account.member
        if member is None:
            return tk.api_error(403, "forbidden", _("This account has no member profile."))
    outflow = outflows.register_outflow(member, data, by_account=account)
    db.session.commit()
    return jsonify({"id": outflow.id, "status": outflow.status}), 201


@bp.post("/outflows/<int:outflow_id>/approve")
@tk.api_login_required
def approve(outflow_id: int):
    """The home secretary approves; the answer carries the new certificate."""
    outflow = db.session.get(Outflow, outflow_id)
    if outflow is None or not tk.can("mobility.manage", outflow.member.home_unit):
        abort(404)
    data = request.get_json(silent=True) or {}
    certificate = outflows.approve_outflow(outflow, by_account=tk.current_account(),
                                           note=data.get("note") if isinstance(data, dict) else None)
    db.session.commit()
    return jsonify({"id": outflow.id, "status": outflow.status, "certificate": {
        "number": certificate.number, "valid_until": certificate.valid_until.isoformat(),
        "verify_url": certificates.verify_url(certificate)}})


@bp.post("/checkins")
@tk.api_login_required
def create_checkin():
    """The caller checks in at ``host_unit_id``."""
    data = tk.api_json()
    member = tk.current_account().member
    if member is None:
        return tk.api_error(403, "forbidden", _("This account has no member profile."))
    host = db.session.get(tk.OrgUnit, _int(data.get("host_unit_id"), "host_unit_id"))
    checkin = checkins.request_checkin(member, host, by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": checkin.id, "status": checkin.status, "host_unit_id": checkin.host_unit_id}), 201


@bp.post("/checkins/<int:checkin_id>/confirm")
@tk.api_login_required
def confirm_checkin(checkin_id: int):
    """The host secretary confirms a check-in."""
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or not tk.can("mobility.host", checkin.host_unit):
        abort(404)
    checkins.confirm_checkin(checkin, by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": checkin.id, "status": checkin.status, "host_unit_id": checkin.host_unit_id,
                    "member_id": checkin.member_id})


@bp.get("/stats")
@tk.api_login_required
def stats():
    """Counts for ``?unit=<id>``'s subtree (members only) by province, age band, education, gender, duration,
    month — and the report ``table`` (outgoing and incoming rows) — as of ``?on=YYYY-MM-DD`` (default today)."""
    raw = request.args.get("unit", "")
    if not raw.isdigit():
        return tk.api_error(400, "bad_request", _("Send ?unit=<id>."), {"unit": _("Send a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None:
        abort(404)
    tk.require("mobility.stats", unit)
    raw_day = request.args.get("on", "")
    day = common.parse_date(raw_day) if raw_day else None
    if raw_day and day is None:
        return tk.api_error(400, "bad_request", _("Send ?on=YYYY-MM-DD."), {"on": _("Enter a date as YYYY-MM-DD.")})
    return jsonify(statistics.unit_stats(unit, on=min(day, tk.local_today()) if day else None))


# -- the member's side ---------------------------------------------------------


def _own_member() -> tk.Member:
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("This account has no member profile."))
    return member


def _unit_ref(unit) -> dict | None:
    return {"id": unit.id, "name": unit.name} if unit is not None else None


def outflow_json(outflow: Outflow) -> dict:
    """An outflow as the member's phone shows it."""
    return {"id": outflow.id, "status": outflow.status, "home_unit": _unit_ref(outflow.home_unit),
            "destination": outflow.destination, "current_place": outflow.current_place,
            "employer": outflow.employer, "industry": outflow.industry, "start_date": outflow.start_date.isoformat(),
            "expected_months": outflow.expected_months, "reason": outflow.reason,
            "decided_at": tk.isoformat(outflow.decided_at), "decision_note": outflow.decision_note,
            "last_confirmed_at": tk.isoformat(outflow.last_confirmed_at),
            "returned_on": outflow.returned_on.isoformat() if outflow.returned_on else None,
            "created_at": tk.isoformat(outflow.created_at)}


def checkin_json(checkin: CheckIn) -> dict:
    return {"id": checkin.id, "status": checkin.status, "host_unit": _unit_ref(checkin.host_unit),
            "requested_at": tk.isoformat(checkin.requested_at), "confirmed_at": tk.isoformat(checkin.confirmed_at),
            "ended_at": tk.isoformat(checkin.ended_at)}


def certificate_json(certificate: Certificate) -> dict:
    """The certificate's facts, its state today and where to check it (the QR code's URL) and print it."""
    return {"id": certificate.id, "number": certificate.number, "holder": certificate.member.name,
            "issuing_unit": _unit_ref(certificate.issuing_unit), "outflow_id": certificate.outflow_id,
            "issued_at": tk.isoformat(certificate.issued_at), "valid_until": certificate.valid_until.isoformat(),
            "status": certificate.status, "state": certificates.certificate_status(certificate),
            "closed_at": tk.isoformat(certificate.closed_at), "closed_note": certificate.closed_note,
            "verify_url": certificates.verify_url(certificate),
            "pdf": f"/api/v1/mobility/certificates/{certificate.id}/certificate.pdf",
            "reviews": [{"outcome": r.outcome, "note": r.note, "reviewed_at": tk.isoformat(r.reviewed_at)}
                        for r in certificates.reviews_of(certificate)]}


@bp.get("/me")
@tk.api_login_required
def me():
    """The caller's open outflow with its check-ins, the active certificate and whether a confirmation is due."""
    member = _own_member()
    outflow = outflows.open_outflow(member)
    outflow_checkins = db.session.scalars(select(CheckIn).where(CheckIn.outflow_id == outflow.id)
                                          .order_by(CheckIn.id.desc())).all() if outflow else []
    certificate = certificates.active_certificate(member)
    return jsonify({"away": member.is_away, "host_unit": _unit_ref(member.host_unit),
                    "outflow": outflow_json(outflow) if outflow else None,
                    "checkins": [checkin_json(c) for c in outflow_checkins],
                    "certificate": certificate_json(certificate) if certificate else None,
                    "confirm_due": moves.confirmation_due(member, tk.utcnow(), outflow=outflow),
                    "details": {key: value for key, value in moves.current_details(member).items() if key != "place"}})


def _away_member() -> tuple[tk.Member, Outflow]:
    member = _own_member()
    outflow = outflows.active_outflow(member)
    if outflow is None:
        raise tk.Conflict(_("You are not registered as away."))
    return member, outflow


@bp.post("/report")
@tk.api_login_required
def report():
    """A change of place, employer or contact (the web's "report a change") → 201 with what changed."""
    data = tk.api_json()  # a malformed body is refused first, whatever the caller's state
    member, _outflow = _away_member()
    move = moves.report_move(member, data, by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": move.id, "late": move.late, "changed_on": move.changed_on.isoformat(),
                    "changed": move.new_values}), 201


@bp.post("/confirm")
@tk.api_login_required
def confirm():
    """"Nothing has changed": the member confirms place, employer and contact."""
    move = moves.confirm_details(_own_member(), by_account=tk.current_account())
    db.session.commit()
    return jsonify({"id": move.id, "confirmed_at": tk.isoformat(move.reported_at)})


@bp.post("/outflows/<int:outflow_id>/return")
@tk.api_login_required
def record_return(outflow_id: int):
    """The member (or the home side) registers the return: the certificate is closed, the check-in ended."""
    outflow = db.session.get(Outflow, outflow_id)
    if outflow is None or not common.may_act_for(outflow.member, tk.current_account()):
        abort(404)
    returns.record_return(outflow, tk.api_json())
    db.session.commit()
    return jsonify(outflow_json(outflow))


def _outflow(outflow_id: int, allowed) -> Outflow:
    """The outflow when ``allowed(member)`` holds for the caller, else 404."""
    outflow = db.session.get(Outflow, outflow_id)
    if outflow is None or not allowed(outflow.member):
        abort(404)
    return outflow


def _acting(member) -> bool:
    return common.may_act_for(member, tk.current_account())


@bp.get("/outflows/<int:outflow_id>")
@tk.api_login_required
def get_outflow(outflow_id: int):
    """One registration with its check-ins and certificates (the member, the home and the host side)."""
    outflow = _outflow(outflow_id, common.may_view)
    outflow_checkins = db.session.scalars(select(CheckIn).where(CheckIn.outflow_id == outflow.id)
                                          .order_by(CheckIn.id.desc())).all()
    outflow_certificates = db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)
                                              .order_by(Certificate.id.desc())).all()
    return jsonify({**outflow_json(outflow), "checkins": [checkin_json(c) for c in outflow_checkins],
                    "certificates": [certificate_json(c) for c in outflow_certificates],
                    "has_photo": outflow.photo_file is not None})


@bp.put("/outflows/<int:outflow_id>")
@tk.api_login_required
def update_outflow(outflow_id: int):
    """Correct a registration that waits or was sent back (the web's edit form); it goes back to the home branch."""
    outflow = _outflow(outflow_id, _acting)
    outflows.update_outflow(outflow, tk.api_json())
    db.session.commit()
    return jsonify(outflow_json(outflow))


@bp.post("/outflows/<int:outflow_id>/withdraw")
@tk.api_login_required
def withdraw(outflow_id: int):
    """Withdraw a registration that was not approved yet."""
    outflow = _outflow(outflow_id, _acting)
    outflows.withdraw_outflow(outflow)
    db.session.commit()
    return jsonify(outflow_json(outflow))


@bp.post("/outflows/<int:outflow_id>/photo")
@tk.api_login_required
def upload_photo(outflow_id: int):
    """Multipart ``photo`` (JPEG or PNG, checked by content) for the certificate → 201."""
    outflow = _outflow(outflow_id, _acting)
    photos.save_photo(outflow, request.files.get("photo"))
    db.session.commit()
    return jsonify({"id": outflow.id, "has_photo": True}), 201


@bp.get("/outflows/<int:outflow_id>/photo")
@tk.api_login_required
def photo(outflow_id: int):
    """The stored photo (those who may see the member's mobility record)."""
    outflow = _outflow(outflow_id, common.may_view)
    return tk.send_upload(common.PLUGIN, outflow.photo_file)


def transfer_json(transfer: Transfer) -> dict:
    return {"id": transfer.id, "number": transfer.number, "status": transfer.status,
            "from_unit": _unit_ref(transfer.from_unit), "to_unit": _unit_ref(transfer.to_unit),
            "reason": transfer.reason, "requested_at": tk.isoformat(transfer.requested_at),
            "from_approved_at": tk.isoformat(transfer.from_approved_at),
            "to_approved_at": tk.isoformat(transfer.to_approved_at),
            "completed_at": tk.isoformat(transfer.completed_at), "decision_note": transfer.decision_note,
            "letter": f"/api/v1/mobility/transfers/{transfer.id}/letter.pdf"}


@bp.post("/transfers")
@tk.api_login_required
def create_transfer():
    """``{"to_unit_id", "reason"}``: the member asks to move their membership; both branches approve → 201."""
    member = _own_member()
    data = tk.api_json()
    to_unit = db.session.get(tk.OrgUnit, _int(data.get("to_unit_id"), "to_unit_id"))
    transfer = transfers.request_transfer(member, to_unit, data.get("reason") or "", by_account=tk.current_account())
    db.session.commit()
    return jsonify(transfer_json(transfer)), 201


def _visible_transfer(transfer_id: int) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or not transfers.may_view_transfer(transfer, tk.current_account()):
        abort(404)
    return transfer


@bp.get("/transfers/<int:transfer_id>")
@tk.api_login_required
def get_transfer(transfer_id: int):
    """A transfer (the member and both branches' secretaries)."""
    return jsonify(transfer_json(_visible_transfer(transfer_id)))


@bp.get("/transfers/<int:transfer_id>/letter.pdf")
@tk.api_login_required
def letter(transfer_id: int):
    """The letter of introduction with its return slip."""
    transfer = _visible_transfer(transfer_id)
    return tk.pdf_response(transfers.letter_pdf(transfer), f"{transfer.number}.pdf", inline=True)


def _visible_certificate(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not common.may_view(certificate.member):
        abort(404)
    return certificate


@bp.get("/certificates/<int:certificate_id>")
@tk.api_login_required
def certificate(certificate_id: int):
    """A certificate (its holder, the home and the host side, as on the web)."""
    return jsonify(certificate_json(_visible_certificate(certificate_id)))


@bp.get("/certificates/<int:certificate_id>/certificate.pdf")
@tk.api_login_required
def certificate_pdf(certificate_id: int):
    """The printable card (the web's PDF)."""
    certificate = _visible_certificate(certificate_id)
    return tk.pdf_response(certificates.certificate_pdf(certificate), f"{certificate.number}.pdf", inline=True)


@bp.get("/branches")
@tk.api_login_required
def branches():
    """Host branches to check in at, by ``?city=`` (default: the caller's current city), as the web's check-in page."""
    member = _own_member()
    term = (request.args.get("city") or member.current_city or "").strip()[:50]
    if not term:
        raise tk.BadRequest(_("Send ?city=<name of the city>."), {"city": _("Enter a city.")})
    query = checkins.host_units_query(term, exclude_unit_id=member.home_unit_id)
    return jsonify({**tk.api_page(query, lambda unit: {
        "id": unit.id, "name": unit.name, "province": unit.province, "city": unit.city,
        "mobile_branch": unit.is_mobile_branch}, key="branches"), "city": term})


_ERR = {"$ref": "#/components/responses/Error"}
_JSON = "application/json"


def _body(schema: dict) -> dict:
    return {"required": True, "content": {_JSON: {"schema": schema}}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_STATUS = {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_DAY = {"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
_TIME = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
_TEXT = {"oneOf": [{"type": "string"}, {"type": "null"}]}
_UNIT = {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]}
_OUTFLOW = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "home_unit": _UNIT, "destination": {"type": "string"},
    "current_place": {"type": "string"}, "employer": _TEXT, "industry": _TEXT,
    "start_date": {"type": "string", "format": "date"}, "expected_months": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
    "reason": {"type": "string"}, "decided_at": _TIME, "decision_note": _TEXT, "last_confirmed_at": _TIME,
    "returned_on": _DAY, "created_at": {"type": "string", "format": "date-time"}}}
_CHECKIN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "host_unit": _UNIT, "requested_at": _TIME,
    "confirmed_at": _TIME, "ended_at": _TIME}}
_CERTIFICATE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "holder": {"type": "string"}, "issuing_unit": _UNIT,
    "outflow_id": {"type": "integer"}, "issued_at": {"type": "string", "format": "date-time"},
    "valid_until": {"type": "string", "format": "date"}, "status": {"type": "string", "enum": ["active", "closed"]},
    "state": {"type": "string", "enum": ["valid", "revoked", "expired"]}, "closed_at": _TIME, "closed_note": _TEXT,
    "verify_url": {"type": "string"}, "pdf": {"type": "string"},
    "reviews": {"type": "array", "items": {"type": "object"}}}}
_TRANSFER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string"}, "from_unit": _UNIT,
    "to_unit": _UNIT, "reason": {"type": "string"}, "requested_at": _TIME, "from_approved_at": _TIME,
    "to_approved_at": _TIME, "completed_at": _TIME, "decision_note": _TEXT, "letter": {"type": "string"}}}
_OUTFLOW_BODY = {"type": "object", "required": ["destination_province", "destination_city", "start_date", "reason"],
                 "properties": {"destination_province": {"type": "string"}, "destination_city": {"type": "string"},
                                "destination_district": {"type": "string"}, "employer": {"type": "string"},
                                "industry": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
                                "expected_months": {"type": "integer"}, "reason": {"type": "string"},
                                "contact_there": {"type": "string"}}}
_STRINGS = {key: {"type": "string", "maxLength": 200} for key in ("employer", "industry", "phone")}
_PLACE_TEXT = {key: {"type": "string", "maxLength": 50} for key in ("current_province", "current_city", "district")}

MEMBER_PATHS = {
    "/api/v1/mobility/me": {"get": {
        "summary": "The caller's open outflow, its check-ins, the active certificate and whether a confirmation is due",
        "responses": tk.openapi_responses("403", schema={"type": "object", "properties": {
            "away": {"type": "boolean"}, "host_unit": _UNIT, "outflow": {"oneOf": [_OUTFLOW, {"type": "null"}]},
            "checkins": {"type": "array", "items": _CHECKIN},
            "certificate": {"oneOf": [_CERTIFICATE, {"type": "null"}]}, "confirm_due": {"type": "boolean"},
            "details": {"type": "object"}}})}},
    "/api/v1/mobility/report": {"post": {
        "summary": "Report a change of place (place: a place name or code; or the province/city/district text), "
                   "employer or contact (the member, while away)",
        "description": "422 names the fields (changed_on: a day up to today; nothing changed); 409 when the caller "
                       "is not registered as away.",
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["changed_on"], "properties": {
            "changed_on": {"type": "string", "format": "date"}, "place": {"type": "string", "maxLength": 50},
            **_PLACE_TEXT, **_STRINGS, "note": {"type": "string", "maxLength": 2000}}}),
        "responses": tk.openapi_responses("403", "409", ok="201", description="Recorded", schema={
            "type": "object", "properties": {"id": {"type": "integer"}, "late": {"type": "boolean"},
                                             "changed_on": {"type": "string", "format": "date"},
                                             "changed": {"type": "object"}}})}},
    "/api/v1/mobility/confirm": {"post": {
        "summary": "Confirm that place, employer and contact are unchanged (the member, while away)",
        "responses": tk.openapi_responses("403", "409", description="Confirmed", schema={
            "type": "object", "properties": {"id": {"type": "integer"},
                                             "confirmed_at": {"type": "string", "format": "date-time"}}})}},
    "/api/v1/mobility/outflows/{id}/return": {"post": {
        "summary": "Register the return home (the member or the home secretary): certificate closed, check-in ended",
        "parameters": [_ID],
        "requestBody": tk.openapi_json_body({"type": "object", "properties": {
            "returned_on": {"type": "string", "format": "date"}, "certificate_returned": {"type": "boolean"},
            "note": {"type": "string", "maxLength": 2000}}}),
        "responses": tk.openapi_responses("409", description="The outflow, returned", schema=_OUTFLOW)}},
    "/api/v1/mobility/outflows/{id}": {
        "get": {"summary": "One registration with its check-ins and certificates (the member, the home and the host "
                           "side)", "parameters": [_ID],
                "responses": tk.openapi_responses(schema={"allOf": [_OUTFLOW, {"type": "object", "properties": {
                    "checkins": {"type": "array", "items": _CHECKIN},
                    "certificates": {"type": "array", "items": _CERTIFICATE}, "has_photo": {"type": "boolean"}}}]})},
        "put": {"summary": "Correct a registration that waits or was sent back (the member or the home secretary)",
                "parameters": [_ID], "requestBody": tk.openapi_json_body(_OUTFLOW_BODY),
                "responses": tk.openapi_responses("409", description="Saved", schema=_OUTFLOW)},
    },
    "/api/v1/mobility/outflows/{id}/withdraw": {"post": {
        "summary": "Withdraw a registration that was not approved yet", "parameters": [_ID],
        "responses": tk.openapi_responses("409", description="Withdrawn", schema=_OUTFLOW)}},
    "/api/v1/mobility/outflows/{id}/photo": {
        "post": {"summary": "The member's photo for the certificate (JPEG or PNG, checked by content)",
                 "parameters": [_ID],
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["photo"],
                     "properties": {"photo": {"type": "string", "format": "binary"}}}}}},
                 "responses": tk.openapi_responses("413", "422", ok="201", description="Stored", schema={
                     "type": "object", "properties": {"id": {"type": "integer"}, "has_photo": {"type": "boolean"}}})},
        "get": {"summary": "The stored photo (those who may see the member's mobility record)", "parameters": [_ID],
                "responses": tk.openapi_responses(schema={"type": "string", "format": "binary"},
                                                  content="application/octet-stream")},
    },
    "/api/v1/mobility/transfers": {"post": {
        "summary": "Ask to move one's membership to another branch (both branches approve)",
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["to_unit_id", "reason"], "properties": {
            "to_unit_id": {"type": "integer"}, "reason": {"type": "string", "maxLength": 2000}}}),
        "responses": tk.openapi_responses("403", "409", ok="201", description="Requested", schema=_TRANSFER)}},
    "/api/v1/mobility/transfers/{id}": {"get": {
        "summary": "A transfer (the member and both branches' secretaries)", "parameters": [_ID],
        "responses": tk.openapi_responses(schema=_TRANSFER)}},
    "/api/v1/mobility/transfers/{id}/letter.pdf": {"get": {
        "summary": "The letter of introduction with its return slip", "parameters": [_ID],
        "responses": tk.openapi_responses(schema={"type": "string", "format": "binary"}, content="application/pdf")}},
    "/api/v1/mobility/certificates/{id}": {"get": {
        "summary": "An activity certificate (its holder, the home and the host side)", "parameters": [_ID],
        "responses": tk.openapi_responses(schema=_CERTIFICATE)}},
    "/api/v1/mobility/certificates/{id}/certificate.pdf": {"get": {
        "summary": "The printable activity certificate", "parameters": [_ID],
        "responses": tk.openapi_responses(schema={"type": "string", "format": "binary"}, content="application/pdf")}},
    "/api/v1/mobility/branches": {"get": {
        "summary": "Branches to check in at whose city, name or province contains ?city= (default: the caller's "
                   "current city), mobile members' branches first, paged",
        "parameters": [{"name": "city", "in": "query", "schema": {"type": "string", "maxLength": 50}},
                       {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "responses": tk.openapi_responses("400", "403", schema={"type": "object", "properties": {
            "branches": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "province": _TEXT, "city": _TEXT,
                "mobile_branch": {"type": "boolean"}}}},
            "city": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "next": _TEXT}})}},
}

OPENAPI_PATHS = {
    **MEMBER_PATHS,
    "/api/v1/mobility/outflows": {"post": {
        "summary": "Register an outflow (外出登记) for the caller, or for member_id (home secretary)",
        "requestBody": _body({"type": "object", "required": ["destination_province", "destination_city", "start_date",
                                                             "reason"],
                              "properties": {"destination_province": {"type": "string"},
                                             "destination_city": {"type": "string"},
                                             "destination_district": {"type": "string"},
                                             "employer": {"type": "string"}, "industry": {"type": "string"},
                                             "start_date": {"type": "string", "format": "date"},
                                             "expected_months": {"type": "integer"}, "reason": {"type": "string"},
                                             "contact_there": {"type": "string"}, "member_id": {"type": "integer"}}}),
        "responses": {"201": _ok("Created", _STATUS), "401": _ERR, "404": _ERR, "409": _ERR, "422": _ERR}}},
    "/api/v1/mobility/outflows/{id}/approve": {"post": {
        "summary": "Approve an outflow and issue the activity certificate (home secretary)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _ok("Approved", {"type": "object", "properties": {
            "id": {"type": "integer"}, "status": {"type": "string"},
            "certificate": {"type": "object", "properties": {"number": {"type": "string"},
                                                             "valid_until": {"type": "string", "format": "date"},
                                                             "verify_url": {"type": "string"}}}}}),
            "401": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/mobility/checkins": {"post": {
        "summary": "Check in at a host branch (报到)",
        "requestBody": _body({"type": "object", "required": ["host_unit_id"],
                              "properties": {"host_unit_id": {"type": "integer"}}}),
        "responses": {"201": _ok("Waiting for the host secretary", _STATUS), "400": _ERR, "401": _ERR, "409": _ERR,
                      "422": _ERR}}},
    "/api/v1/mobility/checkins/{id}/confirm": {"post": {
        "summary": "Confirm a check-in (host secretary)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _ok("Confirmed", _STATUS), "401": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/mobility/stats": {"get": {
        "summary": "Mobility statistics of a unit's subtree",
        "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}},
                       {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": _ok("Counts", {"type": "object", "properties": {
            "on": {"type": "string", "format": "date"}, "others_away": {"type": "integer"},
            "table": {"type": "object"},
            "members": {"type": "integer"}, "outgoing": {"type": "integer"}, "incoming": {"type": "integer"},
            "in_province": {"type": "integer"}, "out_of_province": {"type": "integer"},
            "by_province": _COUNTS, "age_band": _COUNTS, "education": _COUNTS, "gender": _COUNTS,
            "duration": _COUNTS, "trend": {"type": "array", "items": {"type": "object"}}}}),
            "400": _ERR, "401": _ERR, "404": _ERR}}},
}

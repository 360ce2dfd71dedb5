"""Care JSON API under ``/api/v1/care`` (blueprint ``care_api``)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_care import access, attachments, filing, sla, vocabulary, workflow
from portal_care.models import CareRequest

bp = Blueprint("care_api", __name__, url_prefix="/api/v1/care")
db = tk.db


def _not_found():
    return tk.api_error(404, "not_found", _("Not found."))


def request_json(req: CareRequest, account) -> dict:
    """The API's view of a request for ``account`` (internal notes only for staff and handlers)."""
    roles = access.roles_on(req, account)
    return {
        "id": req.id, "title": req.title, "description": req.description, "category": req.category,
        "category_label": vocabulary.category_label(req.category), "urgency": req.urgency, "where": req.where,
        "contact_pref": req.contact_pref, "consent_host": req.consent_host, "status": req.status,
        "unit": {"id": req.unit.id, "name": req.unit.name}, "routed_by": req.routed_by,
        "handler": ({"id": req.handler.id, "name": req.handler.display_name} if req.handler else None),
        "created_at": tk.isoformat(req.created_at), "due_at": tk.isoformat(sla.due_at(req)),
        "respond_due_at": tk.isoformat(req.respond_due_at), "resolve_due_at": tk.isoformat(req.resolve_due_at),
        "first_response_at": tk.isoformat(req.first_response_at), "resolved_at": tk.isoformat(req.resolved_at),
        "reject_reason": req.reject_reason, "resolution_summary": req.resolution_summary,
        "support_kind": req.support_kind,
        "support_amount": str(req.support_amount) if req.support_amount is not None else None,
        "rating": req.rating, "rating_comment": req.rating_comment,
        "allowed_transitions": workflow.allowed_moves(req, account), "roles": sorted(roles),
        "events": [{"id": e.id, "kind": e.kind, "internal": e.internal, "body": e.body, "from": e.from_status,
                    "to": e.to_status, "by": e.account.display_name if e.account else None,
                    "at": tk.isoformat(e.created_at)} for e in workflow.timeline(req, account)],
        "attachments": [{"id": a.id, "name": a.original_name, "size": a.size,
                         "url": f"{vocabulary.URL_PREFIX}/attachments/{a.id}"}
                        for a in attachments.visible_attachments(req, account)],
    }


@bp.post("/requests")
@tk.api_login_required
def create_request():
    """File a request for oneself, or (``member_id``) for a member in the secretary's scope."""
    account = tk.current_account()
    data = tk.api_json()
    member = account.member
    if data.get("member_id") is not None:
        member_id = data["member_id"]
        valid = isinstance(member_id, int) and not isinstance(member_id, bool) and 0 < member_id <= tk.MAX_ID
        target = db.session.get(tk.Member, member_id) if valid else None
        if target is None or not tk.can_see_member(target, "care.file_for", account):
            return _not_found()
        member = target
    if member is None:
        return tk.api_error(403, "forbidden", _("Only members can file care requests."))
    req = filing.file_request(member, data, filed_by=account, now=tk.utcnow())
    db.session.commit()
    return jsonify({"id": req.id, "status": req.status, "unit": {"id": req.unit.id, "name": req.unit.name},
                    "due_at": tk.isoformat(req.respond_due_at)}), 201


@bp.get("/requests")
@tk.api_login_required
def list_requests():
    """A member's own requests (and those they handle), or for a secretary those routed to their units."""
    account = tk.current_account()
    condition = access.status_condition(request.args.get("status"))
    query = select(CareRequest).where(access.list_condition(account))
    if condition is not None:
        query = query.where(condition)
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    rows = db.session.scalars(query.order_by(CareRequest.created_at.desc(), CareRequest.id.desc()).limit(limit))
    return jsonify({"requests": [
        {"id": r.id, "title": r.title, "status": r.status, "category": r.category,
         "due_at": tk.isoformat(sla.due_at(r)),
         "unit": {"id": r.unit.id, "name": r.unit.name}, "created_at": tk.isoformat(r.created_at)} for r in rows]})


@bp.get("/requests/<int:request_id>")
@tk.api_login_required
def get_request(request_id: int):
    """One request; 404 unless the caller is the requester, a handler or a secretary of the routing unit."""
    account = tk.current_account()
    req = access.get_visible(request_id, account)
    if req is None:
        return _not_found()
    access.record_view(req, account, via="api")
    db.session.commit()
    return jsonify(request_json(req, account))


@bp.post("/requests/<int:request_id>/transitions")
@tk.api_login_required
def post_transition(request_id: int):
    """``{"to", "comment", …}`` → 200 with the request, 409 when the move is not allowed from the current state."""
    account = tk.current_account()
    req = access.get_visible(request_id, account)
    if req is None:
        return _not_found()
    data = tk.api_json()
    to = data.get("to")
    if not isinstance(to, str):
        return tk.api_error(422, "invalid", _("Please correct the marked fields."), {"to": _("Not a valid status.")})
    workflow.transition(req, account, to, now=tk.utcnow(), comment=_text(data.get("comment")),
                        reason=_text(data.get("reason")), summary=_text(data.get("summary")),
                        support_kind=data.get("support_kind"), support_amount=data.get("support_amount"),
                        rating=data.get("rating"), rating_comment=_text(data.get("rating_comment")))
    db.session.commit()
    return jsonify(request_json(req, account))


@bp.post("/requests/<int:request_id>/comments")
@tk.api_login_required
def post_comment(request_id: int):
    """``{"body", "internal"}`` → 201."""
    account = tk.current_account()
    req = access.get_visible(request_id, account)
    if req is None:
        return _not_found()
    data = tk.api_json()
    event = workflow.add_comment(req, account, _text(data.get("body")) or "", now=tk.utcnow(),
                                 internal=data.get("internal") is True)
    db.session.commit()
    return jsonify({"id": event.id}), 201


def _text(value):
    return value if isinstance(value, str) else None


REQUEST_BODY = {"type": "object", "required": ["category", "title", "description", "where"], "properties": {
    "category": {"type": "string"}, "title": {"type": "string", "maxLength": vocabulary.TITLE_MAX},
    "description": {"type": "string", "maxLength": vocabulary.TEXT_MAX},
    "urgency": {"type": "string", "enum": list(vocabulary.URGENCIES)},
    "where": {"type": "string", "enum": list(vocabulary.WHERE)},
    "contact_pref": {"type": "string", "enum": list(vocabulary.CONTACT_PREFS)},
    "contact_detail": {"type": "string"}, "consent_host": {"type": "boolean"},
    "member_id": {"type": "integer", "description": "file on behalf of this member (secretaries)"}}}

API_PATHS = {
    "/api/v1/care/requests": {
        "post": {"summary": "File a care request", "tags": ["care"],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST_BODY}}},
                 "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {
                     "type": "object", "properties": {"id": {"type": "integer"}}}}}},
                     "401": tk.openapi_error_ref(), "403": tk.openapi_error_ref(),
                     "404": tk.openapi_error_ref(),  # member_id names no member in the caller's scope
                     "422": tk.openapi_error_ref()}},
        "get": {"summary": "Care requests: one's own and handled ones, or those routed to one's units", "tags": ["care"],
                "parameters": [{"name": "status", "in": "query", "schema": {"type": "string"},
                                "description": "open, all, or a status: " + ", ".join(vocabulary.STATUSES)}],
                "responses": {"200": {"description": "Requests", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"requests": {"type": "array", "items": {
                        "type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                                         "status": {"type": "string"}, "category": {"type": "string"},
                                                         "due_at": {"type": "string", "nullable": True}}}}}}}}},
                    "401": tk.openapi_error_ref(), "422": tk.openapi_error_ref()}},
    },
    "/api/v1/care/requests/{id}": {"get": {
        "summary": "One care request (404 unless visible to the caller)", "tags": ["care"],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The request"}, "401": tk.openapi_error_ref(), "404": tk.openapi_error_ref()}}},
    "/api/v1/care/requests/{id}/transitions": {"post": {
        "summary": "Move a request through the workflow", "tags": ["care"],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["to"], "properties": {
                "to": {"type": "string", "enum": list(vocabulary.STATUSES)}, "comment": {"type": "string"},
                "reason": {"type": "string", "description": "required to reject"},
                "summary": {"type": "string", "description": "required to resolve"},
                "support_kind": {"type": "string", "enum": list(vocabulary.SUPPORT_KINDS)},
                "support_amount": {"type": "string", "description": "required when support_kind is money"},
                "rating": {"type": "integer", "minimum": 1, "maximum": 5,
                           "description": "required when the member confirms (resolved → closed)"},
                "rating_comment": {"type": "string"}}}}}},
        "responses": {"200": {"description": "The request after the move"}, "401": tk.openapi_error_ref(),
                      "403": tk.openapi_error_ref(), "404": tk.openapi_error_ref(), "409": tk.openapi_error_ref(), "422": tk.openapi_error_ref()}}},
    "/api/v1/care/requests/{id}/comments": {"post": {
        "summary": "Comment on a request (internal notes for secretaries and handlers)", "tags": ["care"],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["body"], "properties": {"body": {"type": "string"},
                                                                   "internal": {"type": "boolean"}}}}}},
        "responses": {"201": {"description": "Added"}, "401": tk.openapi_error_ref(), "403": tk.openapi_error_ref(),
                      "404": tk.openapi_error_ref(), "422": tk.openapi_error_ref()}}},
}

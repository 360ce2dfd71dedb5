"""Care JSON API under ``/api/v1/care`` (blueprint ``care_api``)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_care import access, attachments, filing, microwishes, sla, vocabulary, workflow
from portal_care.models import CareAttachment, CareRequest, CareWish

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
        "attachments": [attachment_json(a) for a in attachments.visible_attachments(req, account)],
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
    query = query.order_by(CareRequest.created_at.desc(), CareRequest.id.desc())
    return jsonify(tk.api_page(query, lambda r: {
        "id": r.id, "title": r.title, "status": r.status, "category": r.category, "due_at": tk.isoformat(sla.due_at(r)),
        "unit": {"id": r.unit.id, "name": r.unit.name}, "created_at": tk.isoformat(r.created_at)}, key="requests"))


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


def attachment_json(item: CareAttachment) -> dict:
    """An attachment: its page URL (``url``, the web route) and its API download (``download``)."""
    return {"id": item.id, "name": item.original_name, "size": item.size,
            "url": f"{vocabulary.URL_PREFIX}/attachments/{item.id}",
            "download": f"/api/v1/care/requests/{item.request_id}/attachments/{item.id}"}


@bp.post("/requests/<int:request_id>/attachments")
@tk.api_login_required
def upload_attachments(request_id: int):
    """Multipart ``attachments`` (one or more files), optional ``body`` and ``internal``: added as a comment → 201."""
    account = tk.current_account()
    req = access.get_visible(request_id, account)
    if req is None:
        return _not_found()
    files = [f for f in request.files.getlist("attachments") if f.filename]
    if not files:
        raise tk.Invalid(_("Choose a file to upload."), {"attachments": _("Choose a file to upload.")})
    event = workflow.add_comment(req, account, request.form.get("body", ""), now=tk.utcnow(),
                                 internal=request.form.get("internal") in ("1", "true", "on", "y"), files=files)
    db.session.commit()
    rows = db.session.scalars(select(CareAttachment).where(CareAttachment.event_id == event.id)
                              .order_by(CareAttachment.id)).all()
    return jsonify({"event_id": event.id, "attachments": [attachment_json(a) for a in rows]}), 201


@bp.get("/requests/<int:request_id>/attachments/<int:attachment_id>")
@tk.api_login_required
def download_attachment(request_id: int, attachment_id: int):
    """The file, after the web route's permission check (internal ones only for staff and handlers)."""
    account = tk.current_account()
    item = attachments.attachment_for(attachment_id, account, request_id=request_id)
    if item is None:
        return _not_found()
    response = attachments.send_attachment(item)
    access.record_view(item.request, account, via=f"attachment:{item.id}")
    db.session.commit()
    return response


# -- micro-wishes -------------------------------------------------------------

WISH_LISTS = ("board", "mine", "claimed", "pending")


def wish_json(wish: CareWish, account) -> dict:
    """A wish as ``account`` sees it, with the steps the caller's member may take (``actions``)."""
    own = account.member is not None and account.member.id == wish.member_id
    return {"id": wish.id, "title": wish.title, "description": wish.description, "status": wish.status,
            "wisher": wish.member.name if wish.member else None, "own": own,
            "visible_to": {"id": wish.visible_unit.id, "name": wish.visible_unit.name} if wish.visible_unit else None,
            "claimer": wish.claimer.name if wish.claimer else None,
            "reject_reason": wish.reject_reason if own or microwishes.wish_reviewer(wish, account) else None,
            "created_at": tk.isoformat(wish.created_at), "claimed_at": tk.isoformat(wish.claimed_at),
            "fulfilled_at": tk.isoformat(wish.fulfilled_at), "confirmed_at": tk.isoformat(wish.confirmed_at),
            "actions": microwishes.member_actions(wish, account.member)}


def _wish_query(which: str, account):
    """The query of one of the lists of the web's wishes page."""
    if which == "pending":
        return microwishes.pending_wishes_query(account)
    member = account.member
    if member is None:
        return select(CareWish).where(CareWish.id.is_(None))
    return {"board": microwishes.open_wishes_query, "mine": microwishes.own_wishes_query,
            "claimed": microwishes.claimed_wishes_query}[which](member)


@bp.get("/wishes")
@tk.api_login_required
def list_wishes():
    """``?list=board`` (open wishes near me, the default), ``mine``, ``claimed`` or ``pending`` (to approve), paged."""
    which = request.args.get("list", "board")
    if which not in WISH_LISTS:
        raise tk.BadRequest(_("list must be one of: %(names)s.", names=", ".join(WISH_LISTS)))
    account = tk.current_account()
    return jsonify(tk.api_page(_wish_query(which, account), lambda wish: wish_json(wish, account), key="wishes"))


@bp.post("/wishes")
@tk.api_login_required
def create_wish():
    """``{"title", "description"}`` → 201; the home branch's secretary approves it before others see it."""
    account = tk.current_account()
    if account.member is None:
        raise tk.Forbidden(_("Only members can post micro-wishes."))
    wish = microwishes.create_wish(account.member, tk.api_json(), now=tk.utcnow())
    db.session.commit()
    return jsonify(wish_json(wish, account)), 201


def _visible_wish(wish_id: int, account) -> CareWish:
    wish = microwishes.get_visible_wish(wish_id, account) if wish_id <= tk.MAX_ID else None
    if wish is None:
        raise tk.NotFound(_("Not found."))
    return wish


@bp.get("/wishes/<int:wish_id>")
@tk.api_login_required
def get_wish(wish_id: int):
    """One wish (404 unless the caller may see it, as on the web)."""
    account = tk.current_account()
    return jsonify(wish_json(_visible_wish(wish_id, account), account))


@bp.post("/wishes/<int:wish_id>/<any(claim, unclaim, fulfil, confirm):action>")
@tk.api_login_required
def wish_action(wish_id: int, action: str):
    """claim / unclaim / fulfil (the helper), confirm (the wisher) → the wish; 409 when the wish's state forbids it."""
    account = tk.current_account()
    wish = _visible_wish(wish_id, account)
    microwishes.act_on_wish(wish, account.member, action, now=tk.utcnow())
    db.session.commit()
    return jsonify(wish_json(wish, account))


REQUEST_BODY = {"type": "object", "required": ["category", "title", "description", "where"], "properties": {
    "category": {"type": "string"}, "title": {"type": "string", "maxLength": vocabulary.TITLE_MAX},
    "description": {"type": "string", "maxLength": vocabulary.TEXT_MAX},
    "urgency": {"type": "string", "enum": list(vocabulary.URGENCIES)},
    "where": {"type": "string", "enum": list(vocabulary.WHERE)},
    "contact_pref": {"type": "string", "enum": list(vocabulary.CONTACT_PREFS)},
    "contact_detail": {"type": "string"}, "consent_host": {"type": "boolean"},
    "member_id": {"type": "integer", "description": "file on behalf of this member (secretaries)"}}}

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_NULLABLE_TIME = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
_PAGE = {"page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
         "next": {"oneOf": [{"type": "string"}, {"type": "null"}]}}
ATTACHMENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "size": {"type": "integer"}, "url": {"type": "string"},
    "download": {"type": "string"}}}
WISH_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
    "status": {"type": "string", "enum": list(vocabulary.WISH_STATUSES)},
    "wisher": {"oneOf": [{"type": "string"}, {"type": "null"}]}, "own": {"type": "boolean"},
    "visible_to": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
    "claimer": {"oneOf": [{"type": "string"}, {"type": "null"}]},
    "reject_reason": {"oneOf": [{"type": "string"}, {"type": "null"}]},
    "created_at": {"type": "string", "format": "date-time"}, "claimed_at": _NULLABLE_TIME,
    "fulfilled_at": _NULLABLE_TIME, "confirmed_at": _NULLABLE_TIME,
    "actions": {"type": "array", "items": {"type": "string", "enum": list(microwishes.WISH_ACTIONS)}}}}
_WISH_ACTION_SUMMARIES = {
    "claim": "Offer to fulfil an open wish (not one's own)", "unclaim": "Give a claimed wish back",
    "fulfil": "Mark a wish one claimed as fulfilled", "confirm": "The wisher confirms the wish came true"}

API_PATHS = {
    "/api/v1/care/requests/{id}/attachments": {"post": {
        "summary": "Attach files to a request (added as a comment; internal ones for secretaries and handlers)",
        "description": "Files are checked by content (type and size from the care settings); 422 names the bad "
                       "file in error.fields.attachments and nothing is stored.",
        "tags": ["care"], "parameters": [_ID],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["attachments"], "properties": {
                "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "body": {"type": "string", "maxLength": vocabulary.TEXT_MAX},
                "internal": {"type": "string", "enum": ["0", "1"]}}}}}},
        "responses": tk.openapi_responses("403", "409", "413", "422", ok="201", description="Stored", schema={
            "type": "object", "properties": {"event_id": {"type": "integer"},
                                             "attachments": {"type": "array", "items": ATTACHMENT_SCHEMA}}})}},
    "/api/v1/care/requests/{id}/attachments/{attachment_id}": {"get": {
        "summary": "Download an attachment (same permission as the request; internal ones for staff and handlers)",
        "tags": ["care"], "parameters": [_ID, {"name": "attachment_id", "in": "path", "required": True,
                                               "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The file", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}}}},
    "/api/v1/care/wishes": {
        "get": {"summary": "Micro-wishes: the board near me (list=board), my own (mine), those I claimed (claimed), "
                           "those waiting for my approval (pending), paged", "tags": ["care"],
                "parameters": [{"name": "list", "in": "query", "schema": {"type": "string", "enum": list(WISH_LISTS)}},
                               *_PAGING],
                "responses": tk.openapi_responses("400", schema={"type": "object", "properties": {
                    "wishes": {"type": "array", "items": WISH_SCHEMA}, **_PAGE}})},
        "post": {"summary": "Post a micro-wish; the home branch's secretary approves it", "tags": ["care"],
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["title"], "properties": {
                     "title": {"type": "string", "maxLength": vocabulary.TITLE_MAX},
                     "description": {"type": "string", "maxLength": 2000}}}),
                 "responses": tk.openapi_responses("403", "422", ok="201", description="Posted", schema=WISH_SCHEMA)},
    },
    "/api/v1/care/wishes/{id}": {"get": {
        "summary": "One micro-wish (404 unless the caller may see it)", "tags": ["care"], "parameters": [_ID],
        "responses": tk.openapi_responses(schema=WISH_SCHEMA)}},
    **{f"/api/v1/care/wishes/{{id}}/{action}": {"post": {
        "summary": summary, "tags": ["care"], "parameters": [_ID],
        "responses": tk.openapi_responses("403", "409", description="The wish after the step", schema=WISH_SCHEMA)}}
       for action, summary in _WISH_ACTION_SUMMARIES.items()},
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
                                "description": "open, all, or a status: " + ", ".join(vocabulary.STATUSES)}, *_PAGING],
                "responses": {"200": {"description": "Requests, paged", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"requests": {"type": "array", "items": {
                        "type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                                         "status": {"type": "string"}, "category": {"type": "string"},
                                                         "due_at": {"type": "string", "nullable": True}}}},
                        **_PAGE}}}}},
                    "400": tk.openapi_error_ref(), "401": tk.openapi_error_ref(), "422": tk.openapi_error_ref()}},
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

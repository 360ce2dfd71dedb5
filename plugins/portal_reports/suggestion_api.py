"""Suggestion box JSON API under ``/api/v1/suggestions`` (blueprint ``reports_suggestions_api``).

Sending is :func:`portal.toolkit.unrecorded_post`: an ``Idempotency-Key`` row would keep the sender's
account with the answer (the id and the reply token), which would undo an anonymous suggestion.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_reports import suggestions
from portal_reports.models import SUGGESTION_STATUSES, SUGGESTION_TARGETS

bp = Blueprint("reports_suggestions_api", __name__, url_prefix="/api/v1/suggestions")
db = tk.db


def _unit_arg() -> tk.OrgUnit:
    raw = request.args.get("unit", "")
    if not raw.isdigit() or int(raw) == 0:
        raise tk.Invalid(_("Please correct the marked fields."), {"unit": _("Enter a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None:
        raise tk.NotFound(_("Not found."))
    return unit


def _answerer_json(suggestion) -> dict:
    return suggestions.suggestion_json(suggestion, with_author=True)


@bp.post("")
@tk.unrecorded_post
@tk.api_login_required
def post_suggestion():
    """Send a suggestion → 201 ``{"id", "reply_token"}`` (keep the token: it reads the reply)."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    suggestion, token = suggestions.submit(member, tk.api_json(), now=tk.utcnow())
    db.session.commit()
    return jsonify({"id": suggestion.id, "reply_token": token}), 201


@bp.get("")
@tk.api_login_required
def list_suggestions():
    """The suggestions sent to a unit (its answerers); an anonymous one shows no author at all."""
    unit = _unit_arg()
    if not tk.can(suggestions.PERMISSION, unit, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    return jsonify({"suggestions": [_answerer_json(s) for s in suggestions.unit_suggestions(unit)]})


@bp.get("/mine")
@tk.api_login_required
def mine():
    """The caller's named suggestions, newest first (paged)."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    return jsonify(tk.api_page(suggestions.mine_query(member), _answerer_json, key="suggestions"))


@bp.get("/digest")
@tk.api_login_required
def digest():
    """The unit's public digest of answered suggestions (its members), without authors, newest first (paged)."""
    unit = _unit_arg()
    if not suggestions.can_see_digest(unit, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    return jsonify(tk.api_page(suggestions.digest_query(unit),
                               lambda suggestion: suggestions.suggestion_json(suggestion, with_author=False),
                               key="suggestions"))


@bp.get("/token/<token>")
def by_token(token: str):
    """The suggestion and its reply, for whoever holds the reply token (no login: the token is the proof)."""
    return jsonify(suggestions.suggestion_json(suggestions.by_token(token), with_author=False))


@bp.get("/<int:suggestion_id>")
@tk.api_login_required
def get_suggestion(suggestion_id: int):
    """One suggestion: its answerers or its named author."""
    return jsonify(_answerer_json(suggestions.visible_suggestion(suggestion_id, tk.current_account())))


@bp.post("/<int:suggestion_id>/assign")
@tk.api_login_required
def assign(suggestion_id: int):
    """The caller takes the suggestion on (submitted → assigned)."""
    account = tk.current_account()
    suggestion = suggestions.assign(suggestions.answerable(suggestion_id, account), by=account)
    db.session.commit()
    return jsonify(_answerer_json(suggestion))


@bp.post("/<int:suggestion_id>/reply")
@tk.api_login_required
def reply(suggestion_id: int):
    """Answer it ``{"reply", "digest": false}`` (→ replied)."""
    account = tk.current_account()
    data = tk.api_json()
    suggestion = suggestions.reply(suggestions.answerable(suggestion_id, account), data.get("reply"), by=account,
                                   digest=data.get("digest", False), now=tk.utcnow())
    db.session.commit()
    return jsonify(_answerer_json(suggestion))


@bp.post("/<int:suggestion_id>/close")
@tk.api_login_required
def close(suggestion_id: int):
    """Close an answered suggestion."""
    suggestion = suggestions.close(suggestions.answerable(suggestion_id, tk.current_account()), now=tk.utcnow())
    db.session.commit()
    return jsonify(_answerer_json(suggestion))


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


_ID = [{"name": "suggestion_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_UNIT = [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}}]
_NULLABLE = {"oneOf": [{"type": "string"}, {"type": "null"}]}
_SUGGESTION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "target": {"type": "string", "enum": list(SUGGESTION_TARGETS)},
    "unit_id": {"type": "integer"}, "anonymous": {"type": "boolean"},
    "author": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "name": {"type": "string"}}}],
        "description": "null for an anonymous suggestion, and in the digest and token views"},
    "body": {"type": "string"}, "status": {"type": "string", "enum": list(SUGGESTION_STATUSES)},
    "submitted_on": {"type": "string", "description": "local date (no time of day is kept)"},
    "reply_due": _NULLABLE, "reply": _NULLABLE, "replied_at": _NULLABLE, "in_digest": {"type": "boolean"}}}
_LIST = _json({"type": "object", "properties": {"suggestions": {"type": "array", "items": _SUGGESTION}}})
_PAGE = _json(tk.openapi_page("suggestions", _SUGGESTION))
_ONE = {"200": {"description": "The suggestion", "content": _json(_SUGGESTION)}}
_UNIT_ERRORS = {"404": {"description": "The unit is missing or outside the caller's scope"},
                "422": {"description": "unit is not a number"}}

API_PATHS = {
    "/api/v1/suggestions": {
        "post": {
            "summary": "Send a suggestion to the home branch, the host branch or the committee above, named or "
                       "anonymous (nothing stored names an anonymous sender)", "tags": ["suggestions"],
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["target", "body"], "properties": {
                    "target": {"type": "string", "enum": list(SUGGESTION_TARGETS)},
                    "anonymous": {"type": "boolean"}, "body": {"type": "string"}}})},
            "responses": {"201": {"description": "Sent; keep the reply token", "content": _json({
                "type": "object", "properties": {"id": {"type": "integer"}, "reply_token": {"type": "string"}}})},
                "422": {"description": "Invalid, or no host branch / committee"}}},
        "get": {"summary": "The suggestions sent to a unit (its answerers)", "tags": ["suggestions"],
                "parameters": _UNIT, "responses": {"200": {"description": "Suggestions", "content": _LIST},
                                                   **_UNIT_ERRORS}},
    },
    "/api/v1/suggestions/mine": {"get": {
        "summary": "The caller's named suggestions, newest first (paged)", "tags": ["suggestions"],
        "parameters": tk.OPENAPI_PAGE_PARAMETERS,
        "responses": {"200": {"description": "Suggestions", "content": _PAGE}, "400": tk.openapi_error_ref()}}},
    "/api/v1/suggestions/digest": {"get": {
        "summary": "A unit's digest of answered suggestions, without authors (its members; paged)",
        "tags": ["suggestions"], "parameters": _UNIT + tk.OPENAPI_PAGE_PARAMETERS,
        "responses": {"200": {"description": "Suggestions", "content": _PAGE}, "400": tk.openapi_error_ref(),
                      **_UNIT_ERRORS}}},
    "/api/v1/suggestions/token/{token}": {"get": {
        "summary": "The suggestion and its reply, for the holder of the reply token", "tags": ["suggestions"],
        "security": [],
        "parameters": [{"name": "token", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"}}],
        "responses": {**_ONE, "404": {"description": "No suggestion has this reply token"}}}},
    "/api/v1/suggestions/{suggestion_id}": {"get": {
        "summary": "One suggestion (its answerers or its named author)", "tags": ["suggestions"], "parameters": _ID,
        "responses": _ONE}},
    "/api/v1/suggestions/{suggestion_id}/assign": {"post": {
        "summary": "Take the suggestion on", "tags": ["suggestions"], "parameters": _ID, "responses": _ONE}},
    "/api/v1/suggestions/{suggestion_id}/reply": {"post": {
        "summary": "Answer the suggestion", "tags": ["suggestions"], "parameters": _ID,
        "requestBody": {"required": True, "content": _json({"type": "object", "required": ["reply"], "properties": {
            "reply": {"type": "string"}, "digest": {"type": "boolean"}}})},
        "responses": _ONE}},
    "/api/v1/suggestions/{suggestion_id}/close": {"post": {
        "summary": "Close an answered suggestion", "tags": ["suggestions"], "parameters": _ID, "responses": _ONE}},
}

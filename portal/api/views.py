"""Core API v1: tokens, the current account, the OpenAPI document."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, make_response, request
from flask_babel import gettext as _
from sqlalchemy import select

from portal import ratelimit
from portal.accounts import services as accounts
from portal.audit.services import audit
from portal.errors import BadRequest, NotFound
from portal.api.util import api_error, api_json, api_login_required, current_account
from portal.extensions import db
from portal.notify import services as inbox
from portal.notify.models import Notification
from portal.org.personal import export_document
from portal.plugins.manager import call_each
from portal.timeutil import isoformat
from portal.web.pagination import api_page

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CORE_PATHS = {
    "/api/v1/auth/token": {"post": {
        "summary": "Exchange username (or phone) and password for a bearer token",
        "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"},
                           "label": {"type": "string", "maxLength": 64,
                                     "description": "What to call the token on the account page (e.g. the phone's name)"}}}}}},
        "responses": {"200": {"description": "A token", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"token": {"type": "string"}}}}}},
            "401": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/me/password": {"post": {
        "summary": "Change one's own password; every other session and API token is revoked (this token stays valid)",
        "description": "422: wrong current password (error.fields.current) or an unacceptable new one (error.fields.new).",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["current", "new"],
            "properties": {"current": {"type": "string"}, "new": {"type": "string"}}}}}},
        "responses": {"204": {"description": "Changed"},
                      "400": {"$ref": "#/components/responses/Error"},
                      "401": {"$ref": "#/components/responses/Error"},
                      "422": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/me": {"get": {
        "summary": "The current account and member",
        "responses": {"200": {"description": "The account", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "username": {"type": "string"}, "display_name": {"type": "string"},
                "email": {"oneOf": [{"type": "string"}, {"type": "null"}]},
                "home_branch": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
                "host_branch": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
                "roles": {"type": "array", "items": {"type": "object"}}}}}}},
            "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                     "responses": {"200": {"description": "OpenAPI 3 document"}}}},
}

#: One inbox message as the API shows it (title and body in the caller's language).
MESSAGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
    "url": {"oneOf": [{"type": "string"}, {"type": "null"}]},
    "created_at": {"type": "string", "format": "date-time"},
    "read_at": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}}}
_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_UNREAD = {"type": "object", "properties": {"unread": {"type": "integer"}}}

CORE_PATHS.update({
    "/api/v1/me/export": {"get": {
        "summary": "Everything the portal holds about the caller (the web's /me/export.json: machine keys, codes, "
                   "ISO times and a schema)",
        "responses": {"200": {"description": "The personal data document", "content": {"application/json": {
            "schema": {"type": "object"}}}}}}},
    "/api/v1/inbox": {"get": {
        "summary": "The caller's inbox, newest first, paged, with the number of unread messages",
        "parameters": _PAGING,
        "responses": {"200": {"description": "A page of messages", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "messages": {"type": "array", "items": MESSAGE_SCHEMA}, "unread": {"type": "integer"},
                "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
                "next": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}}}},
            "400": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/inbox/{id}/read": {"post": {
        "summary": "Mark one of the caller's messages read (again: no change); 404 for another account's message",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The message, read", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"message": MESSAGE_SCHEMA, "unread": {"type": "integer"}}}}}}}}},
    "/api/v1/inbox/read-all": {"post": {
        "summary": "Mark every message of the caller read",
        "responses": {"200": {"description": "Done", "content": {"application/json": {"schema": _UNREAD}}}}}},
})


@bp.post("/auth/token")
def token():
    """Username (or phone) and password in, bearer token out (``label``: optional, e.g. the phone's name)."""
    ratelimit.limit("token", request.remote_addr or "unknown", current_app.config["RATE_LIMIT_TOKEN"])
    data = api_json()
    username, password, label = data.get("username"), data.get("password"), data.get("label", "")
    if not isinstance(username, str) or not isinstance(password, str) or not isinstance(label, str):
        raise BadRequest(_("Send \"username\" and \"password\" as strings."))
    try:
        account = accounts.authenticate(username, password, request.remote_addr)
    except accounts.LoginError as error:
        db.session.commit()
        response = make_response(api_error(error.status, "too_many_requests" if error.status == 429 else "unauthorized",
                                           error.message))
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    value = accounts.issue_token(account, label.strip())
    db.session.commit()
    return jsonify({"token": value})


@bp.post("/me/password")
@api_login_required
def change_password():
    """``{"current", "new"}``: change one's own password → 204. Every other session and token ends."""
    data = api_json()
    current, new = data.get("current"), data.get("new")
    if not isinstance(current, str) or not isinstance(new, str):
        raise BadRequest(_("Send \"current\" and \"new\" as strings."))
    account = current_account()
    fields = {}
    if not accounts.check_password(account, current):
        fields["current"] = _("The current password is wrong.")
    elif problem := accounts.password_problem(new, account.username):
        fields["new"] = problem
    elif new == current:
        fields["new"] = _("Choose a password different from the current one.")
    if fields:
        return api_error(422, "invalid", _("The password was not changed."), fields)
    accounts.set_password(account, new)
    audit("account.password_changed", "account", account.id)
    db.session.commit()
    return "", 204


def _unit_ref(unit):
    return {"id": unit.id, "name": unit.name} if unit is not None else None


@bp.get("/me")
@api_login_required
def me():
    """The current account, its member profile's branches and its roles."""
    account = current_account()
    member = account.member
    return jsonify({
        "username": account.username,
        "display_name": account.display_name,
        "email": account.email,
        "home_branch": _unit_ref(member.home_unit) if member else None,
        "host_branch": _unit_ref(member.host_unit) if member else None,
        "roles": [{"role": r.role, "unit": _unit_ref(r.unit)} for r in account.roles],
    })


def _message_json(note: Notification) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "title": note.display_title, "body": note.display_body, "url": note.url,
            "created_at": isoformat(note.created_at), "read_at": isoformat(note.read_at)}


CORE_PATHS["/api/v1/me/email"] = {"put": {
    "summary": "Set one's own e-mail address (for messages by e-mail), or remove it with null or \"\"",
    "description": "422: not an e-mail address (error.fields.email); nothing is changed.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["email"],
        "properties": {"email": {"oneOf": [{"type": "string", "maxLength": 254}, {"type": "null"}]}}}}}},
    "responses": {"200": {"description": "The address now kept", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"email": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}}}}}}}


@bp.put("/me/email")
@api_login_required
def change_email():
    """``{"email": "..." | null}``: set or remove one's own address (as the account page does) → ``{"email"}``."""
    data = api_json()
    email = data.get("email")
    if "email" not in data or not (email is None or isinstance(email, str)):
        raise BadRequest(_("Send \"email\" as a string, or null to remove it."))
    kept = accounts.set_email(current_account(), email)
    db.session.commit()
    return jsonify({"email": kept})


@bp.get("/me/export")
@api_login_required
def me_export():
    """Everything the portal holds about the caller, as the web's ``/me/export.json`` (docs/architecture.md)."""
    account = current_account()
    # Serialized as the web's download is, so both carry the same text (str() for the few non-JSON values).
    body = json.dumps(export_document(account.member, account), ensure_ascii=False, default=str)
    return Response(body, mimetype="application/json")


@bp.get("/inbox")
@api_login_required
def inbox_list():
    """The caller's messages, newest first (``tk.api_page``), and how many are unread."""
    account = current_account()
    query = (select(Notification).where(Notification.account_id == account.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return jsonify({**api_page(query, _message_json, key="messages"), "unread": inbox.unread_count(account.id)})


@bp.post("/inbox/<int:notification_id>/read")
@api_login_required
def inbox_read(notification_id: int):
    """Mark one message read (the web's ``inbox.open_message`` without the redirect)."""
    account = current_account()
    note = db.session.get(Notification, notification_id)
    if note is None or note.account_id != account.id:
        raise NotFound(_("Not found."))
    inbox.mark_read(account.id, note.id)
    db.session.commit()
    return jsonify({"message": _message_json(note), "unread": inbox.unread_count(account.id)})


@bp.post("/inbox/read-all")
@api_login_required
def inbox_read_all():
    """Mark every message read (the web's ``inbox.read_all``)."""
    account = current_account()
    inbox.mark_read(account.id)
    db.session.commit()
    return jsonify({"unread": inbox.unread_count(account.id)})


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A random key per intended action: a repeat (a retry after a lost response) gets the first "
                   "response again instead of acting twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200}}


def api_paths() -> dict[str, dict[str, Any]]:
    """Every API path (core, search, enabled plugins) as documented, completed with the shared refusals.

    Request bodies that are objects refuse unknown fields (``additionalProperties:
    false``) unless their schema says otherwise: :func:`portal.api.util.api_json`
    answers 422 for a field the document does not name.
    """
    from portal.badges.api import API_PATHS as BADGES_PATHS
    from portal.search.views import API_PATHS as SEARCH_PATHS
    from portal.xapi.api import API_PATHS as XAPI_PATHS

    paths = {**CORE_PATHS, **SEARCH_PATHS, **BADGES_PATHS, **XAPI_PATHS}
    for _name, plugin_paths in call_each("portal_api_paths"):
        paths.update(plugin_paths)
    return {path: {method: _completed(path, method, operation) for method, operation in operations.items()}
            for path, operations in paths.items()}


def _completed(path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    """``operation`` with the refusals every view may answer documented, and its JSON body closed."""
    error = {"$ref": "#/components/responses/Error"}
    shared = []
    if operation.get("security") != []:
        shared += ["401", "403"]  # no or a revoked token; a role or scope refusal (tk.Forbidden)
    if "{" in path:
        shared.append("404")  # no such object, or not visible to the caller
    schema = request_schema(operation)
    if schema is not None:
        shared += ["400", "422"]  # not a JSON object; invalid or unknown fields (tk.Invalid)
    operation = {**operation, "responses": {**{code: error for code in shared}, **operation["responses"]}}
    if method == "post" and operation.get("security") != []:
        # portal.idempotency: a repeat replays the first answer; the key on another request is 422,
        # and 409 while the first one still runs.
        operation["parameters"] = [*operation.get("parameters", []), IDEMPOTENCY_KEY]
        operation["responses"] = {"409": error, "422": error, **operation["responses"]}
    if schema is None or schema.get("type") != "object" or "additionalProperties" in schema:
        return operation
    closed = {**schema, "additionalProperties": False}
    return {**operation, "requestBody": {**operation["requestBody"], "content": {
        **operation["requestBody"]["content"], "application/json": {
            **operation["requestBody"]["content"]["application/json"], "schema": closed}}}}


def request_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON request body schema of an OpenAPI operation, if it has one."""
    return operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of every API route (core and enabled plugins)."""
    paths = api_paths()
    return jsonify({
        "openapi": "3.0.3",
        "info": {"title": "Mobile member portal API", "version": "1"},
        "servers": [{"url": request.host_url.rstrip("/")}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"UnitRef": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                        "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                            "code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}}}},
            "responses": {"Error": {"description": "An error", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })

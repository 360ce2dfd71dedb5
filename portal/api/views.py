"""Core API v1: tokens, the current account, the OpenAPI document."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, request
from flask_babel import gettext as _

from portal import ratelimit
from portal.accounts import services as accounts
from portal.audit.services import audit
from portal.errors import BadRequest
from portal.api.util import api_error, api_json, api_login_required, current_account
from portal.extensions import db
from portal.plugins.manager import call_each

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
                "home_branch": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
                "host_branch": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
                "roles": {"type": "array", "items": {"type": "object"}}}}}}},
            "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                     "responses": {"200": {"description": "OpenAPI 3 document"}}}},
}


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
        "home_branch": _unit_ref(member.home_unit) if member else None,
        "host_branch": _unit_ref(member.host_unit) if member else None,
        "roles": [{"role": r.role, "unit": _unit_ref(r.unit)} for r in account.roles],
    })


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
    from portal.search.views import API_PATHS as SEARCH_PATHS

    paths = {**CORE_PATHS, **SEARCH_PATHS}
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

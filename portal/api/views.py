"""Core API v1: tokens, the current account, the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from portal.accounts import services as accounts
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
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
        "responses": {"200": {"description": "A token", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"token": {"type": "string"}}}}}},
            "401": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/me": {"get": {
        "summary": "The current account and member",
        "responses": {"200": {"description": "The account", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "username": {"type": "string"}, "display_name": {"type": "string"},
                "home_branch": {"$ref": "#/components/schemas/UnitRef"},
                "host_branch": {"oneOf": [{"$ref": "#/components/schemas/UnitRef"}, {"type": "null"}]},
                "roles": {"type": "array", "items": {"type": "object"}}}}}}},
            "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                     "responses": {"200": {"description": "OpenAPI 3 document"}}}},
}


@bp.post("/auth/token")
def token():
    """Username (or phone) and password in, bearer token out."""
    data = api_json()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest(_("Send \"username\" and \"password\" as strings."))
    try:
        account = accounts.authenticate(username, password, request.remote_addr)
    except accounts.LoginError as error:
        db.session.commit()
        return api_error(error.status, "too_many_requests" if error.status == 429 else "unauthorized", error.message)
    value = accounts.issue_token(account)
    db.session.commit()
    return jsonify({"token": value})


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


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of every API route (core and enabled plugins)."""
    from portal.search.views import API_PATHS as SEARCH_PATHS

    paths = {**CORE_PATHS, **SEARCH_PATHS}
    for _name, plugin_paths in call_each("portal_api_paths"):
        paths.update(plugin_paths)
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

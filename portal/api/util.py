"""Helpers every API view uses: JSON errors, login, body parsing, OpenAPI paths."""
from __future__ import annotations

import re
from functools import wraps
from typing import Any, Callable

from flask import Flask, jsonify, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from portal.errors import BadRequest, Invalid
from portal.ratelimit import RateLimited
from portal.web.pagination import API_MAX_PER_PAGE

API_PREFIX = "/api/"
#: a path parameter, Flask's ``<int:id>`` or OpenAPI's ``{id}``
_PARAMETER = re.compile(r"<[^>]+>|\{[^}]+\}")


def api_error(status: int, code: str, message: str, fields: dict | None = None, **details: Any):
    """A JSON error response; ``details`` are extra keys of the error object (e.g. ``seconds_left``)."""
    body: dict[str, Any] = {"error": {**details, "code": code, "message": str(message)}}
    if fields:
        body["error"]["fields"] = {key: str(value) for key, value in fields.items()}
    return jsonify(body), status


def current_account():
    """The authenticated account (session or bearer token), or None."""
    return current_user if current_user and current_user.is_authenticated else None


def api_login_required(view: Callable) -> Callable:
    """401 JSON unless authenticated."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_account() is None:
            return api_error(401, "unauthorized", _("Log in or send a valid bearer token."))
        return view(*args, **kwargs)

    return wrapper


def api_id(value: Any, field: str) -> int:
    """An id sent in a JSON body: a positive integer (422 on the field otherwise); past ``MAX_ID`` it names nothing (404)."""
    from portal.database import MAX_ID
    from portal.errors import NotFound

    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Invalid(_("Please correct the marked fields."), {field: _("Enter a number.")})
    if value > MAX_ID:
        raise NotFound(_("Not found."))
    return value


def api_json() -> dict[str, Any]:
    """The request body as a JSON object, or raise :class:`portal.errors.BadRequest` (400)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    unknown = sorted(set(data) - known) if (known := _documented_fields()) is not None else []
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s.", names=", ".join(unknown)),
                      {name: _("This field is not part of the API.") for name in unknown}, code="unknown_fields")
    return data


def _documented_fields() -> set[str] | None:
    """The fields the OpenAPI document names for this route's JSON body (None: not a closed object)."""
    from portal.api.views import api_paths, request_schema

    if request.url_rule is None:
        return None
    route = _PARAMETER.sub("{}", request.url_rule.rule)
    for path, operations in api_paths().items():
        operation = operations.get(request.method.lower())
        if operation is not None and _PARAMETER.sub("{}", path) == route:
            schema = request_schema(operation) or {}
            return set(schema.get("properties", {})) if schema.get("additionalProperties") is False else None
    return None


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests"}


def init_api_errors(app: Flask) -> None:
    """Answer HTTP errors under ``/api/`` as JSON, everything else with HTML pages.

    Service refusals (:class:`portal.errors.ServiceError`) are answered by
    :func:`portal.errors.init_service_errors` in the same JSON shape.
    """

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(API_PREFIX):
            code = _STATUS_CODES.get(exc.code or 500, "error")
            message = exc.description if code == "bad_request" and "CSRF" in str(exc.description) else _error_message(exc.code)
            if isinstance(exc, RateLimited):
                message = exc.description  # says how long to wait
            response = make_response(api_error(exc.code or 500, code, message))
        else:
            from portal.web.views import render_error

            response = make_response(render_error(exc))
        # Retry-After (429), Allow (405)...: the error's own headers survive the rendering.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response


def _error_message(status: int | None) -> str:
    messages = {
        400: _("The request was not understood."),
        401: _("Log in or send a valid bearer token."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _("The upload is too large."),
        429: _("Too many requests. Try again later."),
    }
    return messages.get(status or 500, _("Something went wrong."))


def openapi_error_ref() -> dict[str, str]:
    """The OpenAPI reference to the shared error response (``{"error": {"code", "message", …}}``)."""
    return {"$ref": "#/components/responses/Error"}


def openapi_responses(*codes: str, ok: str = "200", description: str = "OK", schema: dict | None = None,
                      content: str = "application/json") -> dict[str, Any]:
    """An operation's ``responses``: the success ``ok`` (with its ``schema`` when given) and the error ``codes``."""
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {content: {"schema": schema}}
    return {ok: body, **{code: openapi_error_ref() for code in codes}}


def openapi_json_body(schema: dict) -> dict[str, Any]:
    """A required JSON ``requestBody`` with ``schema``."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}



def openapi_page(key: str, item: dict[str, Any]) -> dict[str, Any]:
    """The schema of one page of an API list as :func:`portal.web.pagination.api_page` answers it:
    ``{key: [item…], "page", "per_page", "total", "next"}`` (``next``: the next page's URL, null on the last)."""
    return {"type": "object", "required": [key, "page", "per_page", "total", "next"], "properties": {
        key: {"type": "array", "items": item}, "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1}, "total": {"type": "integer", "minimum": 0},
        "next": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}


#: The query parameters of every paged API list (:func:`portal.web.pagination.api_page`).
OPENAPI_PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "from 1"},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": API_MAX_PER_PAGE},
     "description": f"rows per page (default PER_PAGE, at most {API_MAX_PER_PAGE})"}]

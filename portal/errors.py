"""The one family of refusals services raise: :class:`ServiceError` and its kinds.

A service raises ``Invalid`` (bad input, 422, optionally per-field messages),
``Forbidden`` (403), ``NotFound`` (404), ``Conflict`` (409, a wrong state) or
``BadRequest`` (400, a malformed API request). The caller never maps them by
hand: :func:`init_service_errors` answers them app-wide — JSON in the API's
error shape under ``/api/``; on web pages the error page for 403/404 (there is
nothing to correct) and otherwise a flashed message and a redirect back — and
:func:`portal.web.forms.form_post` re-renders forms with them.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue

from portal.extensions import db


class ServiceError(Exception):
    """A refused action: ``status``, API ``code``, a translated ``message`` and ``field_errors``.

    ``message`` may be a lazy string; ``field_errors`` maps form/JSON field names
    to messages shown next to the field (``field="x"`` is short for
    ``{"x": message}``). ``code`` refines the API error code (e.g. ``too_soon``)
    and ``details`` adds machine-readable keys to the API error object.
    """

    status: int = 422
    code: str = "invalid"

    def __init__(self, message: Any, field_errors: dict[str, Any] | None = None, *, field: str | None = None,
                 status: int | None = None, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field_errors: dict[str, Any] = dict(field_errors or {})
        if field:
            self.field_errors[field] = message
        self.details: dict[str, Any] = dict(details or {})
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class BadRequest(ServiceError):
    """The request itself is malformed (not JSON, a parameter of the wrong type): 400."""

    status, code = 400, "bad_request"


class Invalid(ServiceError):
    """Input the rules refuse, usually with per-field messages: 422."""

    status, code = 422, "invalid"


class Forbidden(ServiceError):
    """The acting account may not do this (e.g. act on their own record): 403."""

    status, code = 403, "forbidden"


class NotFound(ServiceError):
    """The object does not exist or lies outside the account's scope: 404."""

    status, code = 404, "not_found"


class Conflict(ServiceError):
    """The object is in a state where this action does not exist: 409."""

    status, code = 409, "conflict"


def init_service_errors(app: Flask) -> None:
    """Answer an unhandled :class:`ServiceError`: JSON under ``/api/``; on pages the error page or flash + back."""
    from portal.api.util import API_PREFIX, api_error

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        # The action failed half-way: nothing it wrote may be committed later in this request.
        db.session.rollback()
        if request.path.startswith(API_PREFIX):
            return api_error(error.status, error.code, error.message, error.field_errors or None, **error.details)
        if is_refusal(error):
            return error_page(error)
        flash(str(error.message), "error")
        return redirect(back_url(), 303)


def is_refusal(error: ServiceError) -> bool:
    """A 403/404: the account may not act here, so there is no form to correct."""
    return isinstance(error, (Forbidden, NotFound))


def error_page(error: ServiceError) -> ResponseReturnValue:
    """The HTML error page with the service's message and status."""
    return render_template("web/error.html", code=error.status, message=error.message), error.status


def back_url() -> str:
    """Where a refused web request returns: the page it came from when that is ours, else home."""
    from portal.web.ui import safe_next_url

    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return "/"
    return safe_next_url(referrer.path + (f"?{referrer.query}" if referrer.query else ""))

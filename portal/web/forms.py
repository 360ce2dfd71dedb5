"""The one way a view runs a form's action: :func:`form_post`.

Views used to copy the same block: try the service, on its error roll back and
flash, else commit, flash success and redirect. ``form_post`` is that block
once, for every :class:`portal.errors.ServiceError`.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import flash, redirect
from flask.typing import ResponseReturnValue

from portal.errors import ServiceError, back_url, error_page, is_refusal
from portal.extensions import csrf, db

T = TypeVar("T")
V = TypeVar("V", bound=Callable[..., Any])


def csrf_exempt(view: V) -> V:
    """Leave ``view`` out of the CSRF check: only for a server-to-server callback (a payment provider's
    notification) that acts for no session and proves itself, e.g. by a signature the view checks."""
    return csrf.exempt(view)


def form_post(action: Callable[[], T], *, success: Any | Callable[[T], Any] | None,
              redirect_to: str | Callable[[T], str],
              on_error: str | Callable[[ServiceError], ResponseReturnValue] | None = None,
              form: Any = None) -> ResponseReturnValue:
    """Run ``action``; commit, flash ``success`` and redirect to ``redirect_to``, or answer its refusal.

    ``success`` and ``redirect_to`` may be callables of the action's result.
    On a :class:`ServiceError` the session is rolled back. A refusal (403,
    404) answers the error page: there is nothing to correct. Otherwise its
    ``field_errors`` are put on ``form``'s fields (a WTForm, when given), the message is
    flashed unless it already shows under a field, and then ``on_error`` is
    called to re-render the page (pass ``error.status``: 422 for a refused
    form), or when it is a URL the browser goes there (303); without it the
    browser goes back where it came from.
    """
    try:
        result = action()
    except ServiceError as error:
        db.session.rollback()
        if is_refusal(error):
            return error_page(error)
        shown = _put_field_errors(form, error) if form is not None else False
        if not shown:
            flash(str(error.message), "error")
        if callable(on_error):
            return on_error(error)
        return redirect(on_error or back_url(), 303)
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(str(message), "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def _put_field_errors(form: Any, error: ServiceError) -> bool:
    """Show each per-field message under its field; True when the main message is among them."""
    shown = False
    for name, message in error.field_errors.items():
        if name in form:
            form[name].errors = [*(form[name].errors or []), str(message)]
            shown = shown or str(message) == str(error.message)
    return shown

"""Double submissions: one-time web form tokens and the API's ``Idempotency-Key`` header.

Web forms carry a hidden ``submission_token`` (the ``csrf()`` and ``form()``
macros render it); a form sent later by ``static/offline-queue.js`` (written
offline) carries an ``Idempotency-Key`` header instead, claimed the same way. The first POST with a token claims it inside the request's
own transaction, so the claim commits together with whatever the view wrote;
a repeated POST (double click, reload, a retry after a lost response) is not
run again: it is redirected where the first one went, with a flash. A POST
without a token runs as before (old pages, scripts, tests).

API POSTs may send ``Idempotency-Key``: the first response (status and body)
is stored per account and key and replayed for the same method, path and
body; the same key with another request answers 422. Concurrent duplicates
block on the claim's unique constraint, then wait for the first response and
replay it (409 if it does not come in time).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime
from typing import Callable, TypeVar

from flask import Flask, Response, abort, current_app, flash, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.api.util import API_PREFIX, api_error
from portal.database import read_intent, utcnow
from portal.extensions import db

FIELD = "submission_token"
HEADER = "Idempotency-Key"
WAIT_SECONDS = 15.0  # how long a duplicate waits for the first request's response
POLL_SECONDS = 0.05
_UNRECORDED = "_portal_unrecorded_post"
V = TypeVar("V", bound=Callable)


class SubmissionToken(db.Model):
    """A web form's one-time token, claimed by its first POST; ``location`` is where that POST redirected."""

    __tablename__ = "submission_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None]
    location: Mapped[str | None] = mapped_column(String(500))


class IdempotencyKey(db.Model):
    """An API request's ``Idempotency-Key`` with the first response to it (``status`` None while it runs)."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_api_idempotency_key_account_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)


def unrecorded_post(view: V) -> V:
    """Leave ``view`` out of the one-time token and ``Idempotency-Key`` records.

    Both rows keep the account with where the request went (and, for the API, its whole answer): for a route
    whose sender must stay unknown (an anonymous suggestion) they would name the sender. Such a route gives
    up the protection against double submissions.
    """
    setattr(view, _UNRECORDED, True)
    return view


def _is_unrecorded() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _UNRECORDED, False))


def submission_field() -> Markup:
    """The hidden one-time token input every POST form carries (rendered by the form macros)."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, secrets.token_urlsafe(24))


def _account_id() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def _claim(row: db.Model) -> bool:
    """Insert ``row`` in the request's transaction; False when an equal claim exists (unique constraint)."""
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _wait_for(query) -> db.Model | None:
    """The finished first claim (``status`` set), or None if it vanished or did not finish in time."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        # Each round reads in a fresh snapshot without the write lock: on SQLite, pollers taking it
        # (BEGIN IMMEDIATE) would queue ahead of the first request's commit and starve it.
        db.session.rollback()
        with read_intent():
            row = db.session.scalar(query)
            if row is not None:
                db.session.expunge(row)  # keep its loaded fields through the rollback
            db.session.rollback()
        if row is None or row.status is not None or time.monotonic() > deadline:
            return row
        time.sleep(POLL_SECONDS)


def _web_token() -> str:
    """The form's claim: an ``Idempotency-Key`` header (a page sending a form written offline) wins over the field.

    The header's value is chosen by the browser, so it is kept per account (hashed with the account id): two
    accounts sending the same key never meet. A form token is random and single-use already.
    """
    key = request.headers.get(HEADER, "").strip()
    if key:
        return hashlib.sha256(f"{_account_id()}|{key}".encode()).hexdigest()
    return request.form.get(FIELD, "")[:64]


def _web_before():
    token = _web_token()
    if not token:
        return None
    query = select(SubmissionToken).where(SubmissionToken.token == token)
    while True:
        if _claim(SubmissionToken(token=token, account_id=_account_id())):
            g.submission_token = token
            return None
        first = _wait_for(query)
        if first is None:
            continue  # the first attempt failed and released the token: run this one
        if first.status is None or first.location is None:
            abort(409)  # the first one is still running after WAIT_SECONDS
        flash(_("This form was already sent; it was not sent again."), "info")
        return redirect(first.location, 303)


def _web_after(response: Response) -> Response:
    token = g.pop("submission_token", None)
    if token is None:
        return response
    row = db.session.scalar(select(SubmissionToken).where(SubmissionToken.token == token))
    if response.status_code in (301, 302, 303, 307, 308) and response.location:
        # Success: the token stays spent, and repeats go where this one went.
        row = row or SubmissionToken(token=token, account_id=_account_id())
        row.status, row.location = response.status_code, response.location[:500]
        db.session.add(row)
    elif row is not None:
        db.session.delete(row)  # refused or re-rendered: the same token may be sent again
    _commit_quietly()
    return response


def _body_hash() -> str:
    """What makes two API requests "the same body": the bytes, but for an upload its fields and files.

    A multipart body's boundary is drawn anew by the client on every send, so a retried upload
    (a phone sending again after a lost answer) differs in its bytes while its content is the same.
    """
    if request.mimetype != "multipart/form-data":
        return hashlib.sha256(request.get_data()).hexdigest()
    digest = hashlib.sha256()
    for name, value in sorted(request.form.items(multi=True), key=lambda item: tuple(map(str, item))):
        digest.update(f"field|{name}|{value}\n".encode())
    for name, upload in request.files.items(multi=True):
        content = hashlib.sha256(upload.stream.read()).hexdigest()
        upload.stream.seek(0)  # the view reads it again
        digest.update(f"file|{name}|{upload.filename}|{content}\n".encode())
    return digest.hexdigest()


def _api_before():
    from portal.api.util import current_account

    key = request.headers.get(HEADER, "").strip()
    account = current_account()
    if not key or account is None:
        return None
    if len(key) > 200:
        return api_error(422, "invalid", _("The Idempotency-Key header is too long (at most 200 characters)."))
    body_hash = _body_hash()
    query = select(IdempotencyKey).where(IdempotencyKey.account_id == account.id, IdempotencyKey.key == key)
    while True:
        row = IdempotencyKey(account_id=account.id, key=key, method=request.method, path=request.path[:500],
                             body_hash=body_hash)
        if _claim(row):
            g.idempotency_key = (account.id, key, body_hash)
            return None
        first = _wait_for(query)
        if first is None:
            continue
        if (first.method, first.path, first.body_hash) != (request.method, request.path[:500], body_hash):
            return api_error(422, "idempotency_key_reused",
                             _("This Idempotency-Key was used for a different request."))
        if first.status is None:
            return api_error(409, "conflict", _("A request with this Idempotency-Key is still running."))
        replay = Response(first.body or "", status=first.status, content_type=first.content_type)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay


def _api_after(response: Response) -> Response:
    claim = g.pop("idempotency_key", None)
    if claim is None:
        return response
    account_id, key, body_hash = claim
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                         IdempotencyKey.key == key))
    if response.status_code >= 500 or response.direct_passthrough:
        if row is not None:
            db.session.delete(row)  # a server error is not an answer: a retry runs again
    else:
        row = row or IdempotencyKey(account_id=account_id, key=key, method=request.method,
                                    path=request.path[:500], body_hash=body_hash)
        row.status, row.content_type = response.status_code, response.content_type
        row.body = response.get_data(as_text=True)
        db.session.add(row)
    _commit_quietly()
    return response


def _commit_quietly() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent duplicate recorded the same claim first
        db.session.rollback()


def init_idempotency(app: Flask) -> None:
    """Check submission tokens and Idempotency-Keys on every POST; record first responses."""
    app.jinja_env.globals["submission_field"] = submission_field

    @app.before_request
    def _check_repeat():
        if request.method != "POST" or _is_unrecorded():
            return None
        return _api_before() if request.path.startswith(API_PREFIX) else _web_before()

    @app.after_request
    def _record_first(response: Response) -> Response:
        if request.method == "POST":
            response = _api_after(_web_after(response))
        return response

    @app.teardown_request
    def _release(_error: BaseException | None) -> None:
        # An unhandled exception skipped _record_first: its claim rolls back with the request.
        g.pop("submission_token", None)
        g.pop("idempotency_key", None)

"""Database engine behaviour shared by every dialect, and SQLite's special needs.

SQLite: WAL journal, foreign keys, a busy timeout, and transactions that begin
explicitly so SAVEPOINTs work (pysqlite's own transaction handling breaks
them). Requests that write (POST/PUT/PATCH/DELETE) take the write lock at BEGIN
(``BEGIN IMMEDIATE``) so two writers queue instead of failing with "database is
locked" when one upgrades a read snapshot.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.routing import IntegerConverter

from portal.extensions import db

#: The largest id every supported database stores (PostgreSQL ``integer``); larger ids exist nowhere.
MAX_ID = 2**31 - 1
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_write_intent: ContextVar[bool] = ContextVar("portal_write_intent", default=False)
_read_intent: ContextVar[bool] = ContextVar("portal_read_intent", default=False)


@contextmanager
def write_intent() -> Iterator[None]:
    """Mark transactions begun inside this block as writers (SQLite: ``BEGIN IMMEDIATE``).

    Requests with a writing method get this automatically; CLI commands and
    worker threads that read then write should use it.
    """
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only values a database integer column can hold.

    A larger number cannot be an id, and handing it to the database fails
    (SQLite: overflow past 2**63, PostgreSQL: past 2**31), so the URL does not
    match and the answer is 404. The bound lives in the regex, not only in
    ``max``: werkzeug answers 405 when a value fails conversion on a path that
    another method's rule shares.
    """

    def __init__(self, map, *args, max: int = MAX_ID, **kwargs) -> None:  # noqa: A002 - werkzeug's names
        super().__init__(map, *args, max=max, **kwargs)
        self.regex = ("-?" if self.signed else "") + _digits_at_most(max)


def _digits_at_most(bound: int) -> str:
    """A regex for the decimal numbers from 0 to ``bound`` (leading zeros only below its length)."""
    digits = str(bound)
    options = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            options.append(digits[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


@contextmanager
def read_intent() -> Iterator[None]:
    """Mark transactions begun inside this block as readers (SQLite: a plain ``BEGIN``), even in a POST.

    For polling inside a writing request: a poller that took the write lock at
    each round would compete with the very writer it waits for.
    """
    token = _read_intent.set(True)
    try:
        yield
    finally:
        _read_intent.reset(token)


def in_write_intent() -> bool:
    """Whether transactions begun now are writers (inside :func:`write_intent`)."""
    return _write_intent.get()


def has_written(session: Session) -> bool:
    """Whether ``session``'s current transaction has already written (flushed) something.

    On SQLite such a transaction holds the write lock, so writing more cannot
    fail with "database is locked"; a reader that starts writing can.
    """
    return bool(session.info.get(_WROTE))


def is_reading_request() -> bool:
    """A GET-like request whose transaction has only read so far.

    Turning such a reader into a writer fails on SQLite when another request
    wrote since it began; small writes it must make (an audit entry of a view,
    a rate-limit count) go to a short transaction of their own instead. A
    request that wrote already holds the write lock and writes in its own
    transaction.
    """
    return (has_request_context() and request.method not in WRITE_METHODS and not in_write_intent()
            and not has_written(db.session()))


_WROTE = "portal_wrote"


def _mark_written(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (how every timestamp is stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def lock(row) -> None:
    """Re-read ``row`` with a row lock (``SELECT … FOR UPDATE`` on PostgreSQL) so concurrent decisions on it queue.

    SQLite writers queue anyway (``BEGIN IMMEDIATE``, see :func:`write_intent`).
    Only the row's own table is locked (``FOR UPDATE OF``): PostgreSQL refuses to lock the
    nullable side of the outer joins that eager-loaded relationships add.
    """
    db.session.refresh(row, with_for_update={"of": type(row)})


def install_sqlite_behaviour() -> None:
    """Register the SQLite connection hooks and the written-transaction tracking once per process."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
    if not event.contains(Session, "after_flush", _mark_written):
        event.listen(Session, "after_flush", _mark_written)
        event.listen(Session, "after_transaction_end", _forget_written)


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL", "case_sensitive_like=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _on_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    immediate = not _read_intent.get() and (_write_intent.get() or (
        has_request_context() and request.method in WRITE_METHODS
    ))
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

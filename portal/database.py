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

from portal.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_write_intent: ContextVar[bool] = ContextVar("portal_write_intent", default=False)


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


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (how every timestamp is stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def lock(row) -> None:
    """Re-read ``row`` with a row lock (``SELECT … FOR UPDATE`` on PostgreSQL) so concurrent decisions on it queue.

    SQLite writers queue anyway (``BEGIN IMMEDIATE``, see :func:`write_intent`).
    """
    db.session.refresh(row, with_for_update=True)


def install_sqlite_behaviour() -> None:
    """Register the SQLite connection hooks once per process."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)


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
    immediate = _write_intent.get() or (
        has_request_context() and request.method in WRITE_METHODS
    )
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

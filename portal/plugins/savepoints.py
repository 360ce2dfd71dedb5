"""The SAVEPOINT each hook implementation runs in, opened only once it touches the session.

Most implementations answer from memory (nav items, most widgets on a cache
hit), yet a ``begin_nested()`` + ``commit()`` costs ~50 µs of Python per
implementation and per page (a dozen plugins' nav items on every page). So the
savepoint is *promised* when the implementation starts and opened by the first
thing that would need it, from session events:

* ``do_orm_execute`` — any statement through the session (queries, ``text()``,
  lazy loads), before it autoflushes;
* ``before_attach`` — an object added to the session, before it is pending;
* ``before_flush`` — changes to objects loaded earlier, flushed without a query.

A promise is only made when the session is clean (no pending changes): they
would be the caller's, and ``begin_nested()`` flushes them outside the plugin's
try, as an eager savepoint does. A promise made while an outer implementation's
promise is still unkept keeps the outer one first, so savepoints nest as the
calls do. A ``commit()`` of the transaction by the implementation (demo data)
drops the promises: it ends any savepoint anyway, and what follows runs in a
new transaction, as with an eager savepoint.
"""
from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.extensions import db


@dataclass
class Savepoint:
    """One implementation's savepoint: promised, then opened on first use of the session."""

    parent: "Savepoint | None" = None
    nested: SessionTransaction | None = None
    dropped: bool = False
    token: Token | None = field(default=None, repr=False)
    #: Set while it opens: begin_nested() itself may flush and fire the events again.
    opening: bool = field(default=False, repr=False)

    def open(self, changes_inside: bool = False) -> None:
        """Open this savepoint (and first every unkept one it is nested in).

        ``changes_inside``: the session's pending changes were made by the
        implementation (the session was clean when it was promised), so they
        must be flushed inside the savepoint, not before it as
        ``begin_nested()`` does: its flush is skipped by the very flag
        SQLAlchemy checks for a flush in progress, and the statement that
        opened the savepoint autoflushes them after it.
        """
        if self.nested is not None or self.dropped or self.opening:
            return
        if self.parent is not None:
            self.parent.open(changes_inside=True)  # changes made since its promise are its own
        session = db.session()
        skip_flush = changes_inside and not session._flushing
        self.opening = True
        session._flushing = session._flushing or skip_flush
        try:
            self.nested = session.begin_nested()
        finally:
            self.opening = False
            if skip_flush:
                session._flushing = False

    def commit(self) -> None:
        """Release the savepoint when it was opened and is still active."""
        if self.nested is not None and self.nested.is_active:
            self.nested.commit()

    def forget(self) -> None:
        """The implementation is over: later statements no longer open this savepoint."""
        if self.token is not None:
            _CURRENT.reset(self.token)
            self.token = None

    def rollback(self) -> None:
        """Undo what the implementation did, in the database and in the session."""
        if self.nested is None and not self.dropped and _has_changes(db.session()):
            # Changed objects in memory only: a savepoint opened now and rolled back
            # undoes them as SQLAlchemy undoes a savepoint's (pending ones expunged,
            # deletions reverted, modified ones expired).
            self.open(changes_inside=True)
        if self.nested is not None and self.nested.is_active:
            self.nested.rollback()


_CURRENT: ContextVar[Savepoint | None] = ContextVar("portal_hook_savepoint", default=None)


def promise() -> Savepoint:
    """Promise a savepoint to the implementation about to run (opened at once when the session holds changes).

    Call :meth:`Savepoint.forget` when the implementation has returned or raised.
    """
    savepoint = Savepoint(parent=_CURRENT.get())
    if _has_changes(db.session()):
        savepoint.open()
    savepoint.token = _CURRENT.set(savepoint)
    return savepoint


def _has_changes(session: Session) -> bool:
    # session.new/dirty build sets; these are the cheap checks behind them.
    return bool(session._new or session._deleted or session.identity_map._modified)


def _keep_promise(*_args: object, **_kwargs: object) -> None:
    savepoint = _CURRENT.get()
    if savepoint is not None:
        savepoint.open(changes_inside=True)


def _drop_promise(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released, not the transaction
        return
    savepoint = _CURRENT.get()
    while savepoint is not None:  # committing the transaction ends every savepoint in it
        savepoint.dropped = True
        savepoint = savepoint.parent


def listen() -> None:
    """Install the session listeners that keep the promises (once per process; the session class is shared)."""
    if not event.contains(db.session, "do_orm_execute", _keep_promise):
        event.listen(db.session, "do_orm_execute", _keep_promise)
        event.listen(db.session, "before_attach", _keep_promise)
        event.listen(db.session, "before_flush", _keep_promise)
        event.listen(db.session, "before_commit", _drop_promise)

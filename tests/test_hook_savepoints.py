"""Each hook implementation's SAVEPOINT is opened only when it touches the session (portal/plugins/savepoints.py).

An implementation answering from memory costs no savepoint at all; one that
queries, adds, flushes, deletes or changes objects is still undone alone when
it raises, in the database and in the session, and the caller's changes stay.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from portal.extensions import db as _db
from portal.plugins import hookimpl
from portal.plugins.manager import get_manager
from portal.plugins.models import Setting
from portal.plugins.types import NavItem


@pytest.fixture
def savepoints_opened(db):
    """A list that gets one entry per SAVEPOINT the session begins."""
    opened = []

    def created(session, transaction):
        if transaction.nested:
            opened.append(transaction)

    event.listen(_db.session, "after_transaction_create", created)
    yield opened
    event.remove(_db.session, "after_transaction_create", created)


def _stored(key: str) -> object:
    """The value of setting ``test.<key>`` as committed, read past the session."""
    with _db.engine.connect() as conn:
        return conn.execute(select(Setting.value).where(Setting.namespace == "test", Setting.key == key)).scalar()


def _nav(account=None) -> list[str]:
    return [str(item.label) for item in get_manager().call_list("portal_nav_items", account=account)]


class FromMemory:
    @hookimpl
    def portal_nav_items(self, account):
        return [NavItem("From memory", "web.dashboard")]


class Queries:
    @hookimpl
    def portal_nav_items(self, account):
        _db.session.execute(text("SELECT 1")).scalar()
        return [NavItem("Queried", "web.dashboard")]


class ChangesThenFails:
    """Changes a loaded row, adds one and deletes one, in memory only (no statement), then raises."""

    @hookimpl
    def portal_nav_items(self, account):
        kept, gone = _db.session.get(Setting, ("test", "kept")), _db.session.get(Setting, ("test", "gone"))
        kept.value = "changed by a failing hook"
        _db.session.delete(gone)
        raise RuntimeError("in memory")


class AddsQueriesThenFails:
    """Adds a row, queries (which autoflushes it), then raises."""

    @hookimpl
    def portal_nav_items(self, account):
        _db.session.add(Setting(namespace="test", key="added", value="by a failing hook"))
        _db.session.execute(select(Setting)).all()
        raise RuntimeError("after an autoflush")


class ChangesFlushesThenFails:
    """Changes a row loaded earlier, flushes without a query, then raises."""

    @hookimpl
    def portal_nav_items(self, account):
        _db.session.get(Setting, ("test", "kept")).value = "flushed by a failing hook"
        _db.session.flush()
        raise RuntimeError("after a flush")


def _two_rows() -> None:
    _db.session.add_all([Setting(namespace="test", key="kept", value="original"),
                         Setting(namespace="test", key="gone", value="original")])
    _db.session.commit()
    # Loaded before the hooks run (the identity map serves the hooks' get()).
    _db.session.execute(select(Setting).where(Setting.namespace == "test")).all()


def test_an_implementation_answering_from_memory_opens_no_savepoint(savepoints_opened, register):
    register(FromMemory(), "from_memory")
    assert "From memory" in _nav()
    assert savepoints_opened == []


def test_an_implementation_that_queries_gets_its_savepoint(savepoints_opened, register):
    register(Queries(), "queries")
    assert "Queried" in _nav()
    assert len(savepoints_opened) == 1


def test_changes_made_in_memory_by_a_failing_hook_are_undone(db, register):
    _two_rows()
    register(ChangesThenFails(), "changes_then_fails")
    register(FromMemory(), "from_memory")
    assert "From memory" in _nav()  # the others still answer
    kept = _db.session.get(Setting, ("test", "kept"))
    assert kept.value == "original"
    assert _db.session.get(Setting, ("test", "gone")) is not None
    _db.session.commit()
    assert (_stored("kept"), _stored("gone")) == ("original", "original")


def test_a_failing_hooks_autoflushed_row_is_rolled_back(db, register):
    register(AddsQueriesThenFails(), "adds_then_fails")
    _nav()
    _db.session.commit()
    assert _stored("added") is None


def test_a_failing_hooks_flushed_change_is_rolled_back(db, register):
    _two_rows()
    register(ChangesFlushesThenFails(), "flushes_then_fails")
    _nav()
    _db.session.commit()
    assert _stored("kept") == "original"


def test_the_callers_pending_changes_stay_when_a_hook_fails(db, register):
    register(AddsQueriesThenFails(), "adds_then_fails")
    _db.session.add(Setting(namespace="test", key="callers", value="the caller's"))
    _nav()
    _db.session.commit()
    assert _stored("callers") == "the caller's" and _stored("added") is None

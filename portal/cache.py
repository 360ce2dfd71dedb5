"""The composition cache: pieces of pages kept per process, invalidated by per-table version stamps.

A *piece* is something a page composes from many queries: one plugin's rendered dashboard widgets, one
plugin's evidence of a member's year. It is computed once and kept in a per-process LRU (bounded in bytes,
``CACHE_MAX_BYTES``, default 16 MiB, 0 turns the cache off) under a key that always ends with the locale
and the local hour (pieces say "today" and "in 2 hours").

**Invalidation by stamps.** The table ``cache_stamp`` holds one version per table (``table:<name>``).
Every committed write bumps the stamps of the tables it touched, in the same transaction (so a stamp never
moves without its data, nor the data without its stamp): flushed new, changed and deleted instances, and
ORM-enabled ``insert/update/delete`` statements run through the session (``do_orm_execute``), are collected,
and ``before_commit`` sends one sorted upsert (sorted: two writers lock the stamp rows in the same order).
While a piece is computed every statement the process sends on this thread is inspected and the tables
it reads are recorded; with them the piece keeps the versions read *before* it was computed (a write
landing in between only causes a miss, never a stale hit). A page reads the versions it needs in one
``SELECT`` and uses a piece only when every version still matches. Because the stamps live in the
database, a write on one app server invalidates the pieces of all of them.

What is not known is not cached: a piece that sends ``text()`` SQL (its tables cannot be known), reads a
table listed in :data:`UNSTAMPED`, renders a CSRF token (it belongs to one session) or during whose
computation a plugin hook raised is computed every time (and counted in :func:`stats`).

Writes that bypass the session (``db.engine.begin()``) are not seen: those in the code base touch only
:data:`UNSTAMPED` tables, or call :func:`bump` themselves. The hit rate falls under heavy writes: every
write to a table invalidates every piece that read it (see docs/architecture.md "Composition cache").
"""
from __future__ import annotations

import copy
import datetime as dt
import decimal
import functools
import secrets
import sys
import threading
import weakref
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence, TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from sqlalchemy import BigInteger, String, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.expression import TableClause, TextualSelect

from portal.extensions import db

T = TypeVar("T")

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
PREFIX = "table:"

#: Tables whose writes bump no stamp, with the reason: no composed piece reads them, and most are written by
#: every request or by a background thread (bumping would cost a write per page). A piece that reads one of
#: them is not cached.
UNSTAMPED: dict[str, str] = {
    "cache_stamp": "the stamps themselves",
    "audit_entry": "the audit log: reading pages write it, only the audit screens read it",
    "rate_counter": "rate limits: one count per limited request",
    "search_queue": "the search outbox, drained by a background thread",
    "search_document": "the PostgreSQL search index, filled from the outbox",
    "login_session": "server-side login sessions: written at every login and logout",
    "login_failure": "login throttling",
    "api_token": "bearer tokens: last use written as they are used",
    "submission_token": "replay protection of forms",
    "api_idempotency_key": "replay protection of API calls",
}
#: Columns whose change alone bumps nothing: login bookkeeping written at every login (no piece shows it), and
#: a member's "last active" time, written with every activity they record. Were it stamped, every activity in
#: the organization would invalidate every piece that reads members (boards, lists, widgets). A piece that shows
#: it is still keyed by the local hour, so the time it shows is at most an hour old.
UNSTAMPED_COLUMNS: dict[str, frozenset[str]] = {
    "account": frozenset({"last_login_at", "failed_logins", "locked_until", "session_version", "password_hash",
                          "must_change_password"}),
    "member": frozenset({"last_active_at"}),
}
#: Read by every piece whether a statement shows it or not: settings and plugin states are read once per
#: request (``portal.settings``) and kept in ``g``, before any piece is computed.
ALWAYS: frozenset[str] = frozenset({PREFIX + "setting"})

_WRITTEN = "portal_cache_written"
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")


class CacheStamp(db.Model):
    """The version of one scope (``table:<name>``); a new row starts at a random version (see :func:`_upsert`)."""

    __tablename__ = "cache_stamp"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


# -- the store ---------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    value: Any
    versions: tuple[tuple[str, int | None], ...]
    size: int


@dataclass
class Stats:
    """What the cache did since the process started (per app)."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    uncacheable: int = 0
    evicted: int = 0


@dataclass
class LRU:
    """A thread-safe LRU bounded in bytes (the sizes are the callers' estimates)."""

    max_bytes: int
    entries: OrderedDict = field(default_factory=OrderedDict)
    size: int = 0
    stats: Stats = field(default_factory=Stats)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Any) -> Any:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: Any, entry: Any) -> None:
        """Keep ``entry`` (it has a ``size``), evicting the least recently used past the bound."""
        if entry.size > self.max_bytes:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self.entries[key] = entry
            self.size += entry.size
            self.stats.stored += 1
            while self.size > self.max_bytes:
                _key, evicted = self.entries.popitem(last=False)
                self.size -= evicted.size
                self.stats.evicted += 1

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


def init_cache(app: Flask) -> None:
    """Give ``app`` its LRU and register the write tracking (once per process)."""
    app.extensions["portal_cache"] = LRU(int(app.config.get("CACHE_MAX_BYTES", DEFAULT_MAX_BYTES) or 0))
    if not event.contains(db.session, "before_commit", _before_commit):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "do_orm_execute", _on_execute)
        event.listen(db.session, "before_commit", _before_commit)
        event.listen(db.session, "after_transaction_end", _after_transaction_end)
    if not event.contains(Engine, "before_cursor_execute", _on_cursor_execute):
        event.listen(Engine, "before_cursor_execute", _on_cursor_execute)


def _store() -> LRU | None:
    store = current_app.extensions.get("portal_cache") if has_app_context() else None
    return store if store is not None and store.max_bytes > 0 else None


def stats(app: Flask | None = None) -> Stats:
    """The counters of ``app``'s cache (default: the current app's)."""
    return (app or current_app).extensions["portal_cache"].stats


def clear(app: Flask | None = None) -> None:
    """Forget every piece kept by ``app`` (default: the current app) in this process."""
    (app or current_app).extensions["portal_cache"].clear()


# -- write tracking ----------------------------------------------------------------------------------------


def _written(session: Session) -> set[str]:
    return session.info.setdefault(_WRITTEN, set())


def _after_flush(session: Session, _flush_context: Any) -> None:
    """Note the tables of the flushed instances (``new``/``dirty``/``deleted`` still hold them here)."""
    written = _written(session)
    for obj in session.new:
        written |= _tables_of(obj, deleted=False)
    for obj in session.deleted:
        written |= _tables_of(obj, deleted=True)
    for obj in session.dirty:
        if session.is_modified(obj) and not _only_unstamped_columns(obj):
            written |= _tables_of(obj, deleted=False)


def _tables_of(obj: Any, *, deleted: bool) -> set[str]:
    mapper = inspect(obj).mapper
    names = {table.name for table in mapper.tables}
    # association tables (many-to-many) are written through the relationship, not an instance of their own
    names |= {rel.secondary.name for rel in mapper.relationships if rel.secondary is not None}
    return names | _cascaded(frozenset(names)) if deleted else names


def _cascaded(names: frozenset[str]) -> frozenset[str]:
    """Tables whose rows the database itself deletes or changes when rows of ``names`` are deleted."""
    return _cascaded_in(names, len(db.metadata.tables))


@functools.lru_cache(maxsize=512)
def _cascaded_in(names: frozenset[str], _tables: int) -> frozenset[str]:
    found = set()
    for table in db.metadata.tables.values():
        for key in table.foreign_keys:
            if key.column.table.name in names and (key.ondelete or "").upper() in ("CASCADE", "SET NULL"):
                found.add(table.name)
    return frozenset(found)


def _only_unstamped_columns(obj: Any) -> bool:
    state = inspect(obj)
    quiet = UNSTAMPED_COLUMNS.get(state.mapper.local_table.name)
    if not quiet:
        return False
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    return changed <= quiet


def _on_execute(state: Any) -> None:
    """ORM-enabled DML run through the session (``session.execute(update(Model)…)``) writes its table."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            names = {table.name}
            _written(state.session).update(names | _cascaded(frozenset(names)) if state.is_delete else names)


def _before_commit(session: Session) -> None:
    """Bump the stamps of every table the outermost transaction wrote, in one upsert."""
    if session.in_nested_transaction():
        return
    # Flush now (the commit would flush after this hook): the stamps must cover what that flush writes.
    for _round in range(100):
        if not (session.new or session.dirty or session.deleted):
            break
        session.flush()
    tables = session.info.pop(_WRITTEN, None)
    scopes = sorted(PREFIX + name for name in tables or () if name not in UNSTAMPED)
    if scopes:
        session.execute(_upsert(session.get_bind().dialect.name, scopes))


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (already bumped) or rolled back: nothing to bump
        session.info.pop(_WRITTEN, None)


def _upsert(dialect: str, scopes: Sequence[str]):
    """``INSERT … ON CONFLICT (scope) DO UPDATE version = version + 1`` for ``scopes``.

    A new row starts at a random version: a table emptied and refilled behind the tracking (the tests'
    wipe, a restore) must not come back at a version an old piece was computed at.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = CacheStamp.__table__
    statement = insert(table).values([{"scope": scope, "version": secrets.randbits(62)} for scope in scopes])
    return statement.on_conflict_do_update(index_elements=[table.c.scope], set_={"version": table.c.version + 1})


def bump(*tables: str, connection: Any = None) -> None:
    """Mark ``tables`` written: on ``connection`` at once (a write outside the session), else at the session's commit.

    For writes the tracking cannot see (``db.engine.begin()``, raw SQL).
    """
    if connection is not None:
        scopes = sorted({PREFIX + name for name in tables if name not in UNSTAMPED})
        if scopes:
            connection.execute(_upsert(connection.dialect.name, scopes))
        return
    _written(db.session()).update(tables)


# -- read tracking -----------------------------------------------------------------------------------------


@dataclass
class _Tracker:
    tables: set[str] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)
    unknown: bool = False


_TRACKERS: ContextVar[tuple[_Tracker, ...]] = ContextVar("portal_cache_trackers", default=())
#: compiled statement → the tables it reads (None: not known); weak, so the statement cache decides its life.
_TABLES_OF: "weakref.WeakKeyDictionary[Any, frozenset[str] | None]" = weakref.WeakKeyDictionary()


def _on_cursor_execute(conn, cursor, statement: str, parameters, context, executemany) -> None:
    trackers = _TRACKERS.get()
    if not trackers:
        return
    compiled = getattr(context, "compiled", None)
    if compiled is None:
        tables = None if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL) else frozenset()
    else:
        try:
            tables = _TABLES_OF[compiled]
        except KeyError:
            tables = _TABLES_OF[compiled] = _statement_tables(compiled, statement)
        except TypeError:  # not weak-referenceable
            tables = _statement_tables(compiled, statement)
    for tracker in trackers:
        if tables is None:
            tracker.unknown = True
        else:
            tracker.tables |= tables


def _statement_tables(compiled: Any, sql: str) -> frozenset[str] | None:
    """The tables a compiled statement reads (eager joins included); None when it holds raw SQL."""
    if sql.lstrip().upper().startswith(_TRANSACTION_CONTROL):
        return frozenset()
    statements = [compiled.statement, getattr(getattr(compiled, "compile_state", None), "statement", None)]
    names = set()
    for statement in statements:
        if statement is None:
            continue
        for element in visitors.iterate(statement):
            if isinstance(element, (TextClause, TextualSelect)):
                return None
            if isinstance(element, TableClause):
                names.add(element.name)
    return frozenset(names)


def _identity_tables(session: Session) -> set[str]:
    """Tables of the objects already in the session: a piece may read them without a statement."""
    mappers = {state.mapper for state in session.identity_map.all_states()}
    return {table.name for mapper in mappers for table in mapper.tables}


def _track(compute: Callable[[], T]) -> tuple[T, _Tracker, bool]:
    """Run ``compute`` recording what it reads; the value, the tracker, and whether it may be kept."""
    tracker = _Tracker(tables=_identity_tables(db.session()))
    failures = len(g.get("_plugin_failures") or ())
    csrf = g.pop("csrf_token", None) if has_request_context() else None
    token = _TRACKERS.set(_TRACKERS.get() + (tracker,))
    try:
        value = compute()
    finally:
        _TRACKERS.reset(token)
        renders_csrf = has_request_context() and "csrf_token" in g
        if csrf is not None:
            g.csrf_token = csrf
    tracker.tables.discard(CacheStamp.__tablename__)  # a piece used inside this one read its stamps
    # Not kept either when this transaction wrote and has not committed: the piece may show rows a
    # rollback would take away, under versions that rollback would leave unchanged.
    keep = (not tracker.unknown and not renders_csrf and len(g.get("_plugin_failures") or ()) == failures
            and not tracker.tables & UNSTAMPED.keys() and not db.session().info.get(_WRITTEN))
    return value, tracker, keep


def _feed_outer(scopes: Iterable[str]) -> None:
    """A piece used inside another piece's computation: the outer one depends on what it read."""
    for tracker in _TRACKERS.get():
        tracker.scopes.update(scopes)


# -- the API -----------------------------------------------------------------------------------------------


def _context() -> tuple:
    """The part of every key that is not the caller's: the locale and the local hour.

    The hour, not only the date: a piece may say "starts in 2 hours" or "open now" without any write
    to tell it the time moved on; an hour bounds that staleness at one miss per piece per hour.
    """
    from flask_babel import get_locale

    from portal.timeutil import local_now

    return (str(get_locale() or ""), local_now().strftime("%Y-%m-%dT%H"))


def _read_versions(scopes: Iterable[str] | None) -> dict[str, int]:
    """The current versions of ``scopes`` (all of them when None) in one statement; absent rows are absent."""
    table = CacheStamp.__table__
    query = select(table.c.scope, table.c.version)
    if scopes is not None:
        query = query.where(table.c.scope.in_(sorted(scopes)))
    return dict(db.session.execute(query).all())


def cached(what: str, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or the value kept for ``(what, *key)`` while no table it read has changed since.

    ``key`` must hold everything the value depends on besides the database, the locale and the local hour
    (account, member, unit ids …). The value must be plain data (strings, numbers, dates, lists, dicts);
    lazy strings are turned into strings, anything else is computed every time.
    """
    return cached_many(what, [(key, compute)])[0]


def cached_many(what: str, pieces: Sequence[tuple[tuple, Callable[[], Any]]]) -> list[Any]:
    """:func:`cached` for several pieces of one page, with one read of the stamps for all of them."""
    store = _store()
    if store is None or not pieces:
        return [compute() for _key, compute in pieces]
    context = _context()
    keys = [(what, *key, *context) for key, _compute in pieces]
    entries = [store.get(key) for key in keys]
    known = all(entries)
    versions = _read_versions({scope for entry in entries if entry for scope, _v in entry.versions} if known else None)
    fresh = [entry is not None and all(versions.get(scope) == version for scope, version in entry.versions)
             for entry in entries]
    if known and not all(fresh):
        versions = _read_versions(None)  # what the recomputed pieces read is not known yet
    results = []
    for key, (_key, compute), entry, hit in zip(keys, pieces, entries, fresh, strict=True):
        if hit:
            store.count("hits")
            _feed_outer(scope for scope, _v in entry.versions)
            results.append(_copy(entry.value))
            continue
        store.count("misses")
        value, tracker, keep = _track(compute)
        value, plain = _plain(value)
        scopes = ALWAYS | tracker.scopes | {PREFIX + name for name in tracker.tables}
        _feed_outer(scopes)
        if keep and plain:
            kept = tuple(sorted((scope, versions.get(scope)) for scope in scopes))
            store.put(key, _Entry(value, kept, _size(key) + _size(value) + 60 * len(kept)))
        else:
            store.count("uncacheable")
        results.append(_copy(value) if keep and plain else value)
    return results


def cached_hook(hook_name: str, key: tuple, convert: Callable[[str, Any], Any] | None = None,
                **kwargs: Any) -> list[tuple[str, Any]]:
    """``[(plugin, result)]`` of an enabled plugins' hook, each plugin's result a piece of its own.

    Only the plugins whose piece is missing or stale are called (each alone, in its SAVEPOINT).
    ``convert(plugin, result)`` runs inside the piece (what it reads counts): it turns the result into
    plain data (rendered HTML, dicts). ``key`` holds what the result depends on besides ``kwargs``'s
    objects' ids that the caller passes in it. A plugin whose hook raised is not kept; None results are dropped.
    """
    from portal.plugins.manager import get_manager

    manager = get_manager()
    plugins = _implementers(manager, hook_name)
    pieces = [((plugin, *key), functools.partial(_call_one, manager, hook_name, plugin, convert, kwargs)) for plugin in plugins]
    return [(plugin, value) for plugin, value in zip(plugins, cached_many(hook_name, pieces), strict=True) if value is not None]


def _implementers(manager: Any, hook_name: str) -> list[str]:
    """The plugins implementing ``hook_name`` that the manager would call (not disabled), in pluggy's order."""
    names: list[str] = []
    for impl in reversed(getattr(manager.pm.hook, hook_name).get_hookimpls()):
        info = manager.plugins.get(impl.plugin_name)
        disabled = info is not None and info.module is not None and not manager.is_enabled(impl.plugin_name)
        if impl.plugin_name not in names and not disabled:
            names.append(impl.plugin_name)
    return names


def _call_one(manager: Any, hook_name: str, plugin: str, convert: Callable[[str, Any], Any] | None,
              kwargs: dict[str, Any]) -> Any:
    answers = manager.call_each(hook_name, plugins={plugin}, **kwargs)
    result = next((result for owner, result in answers if owner == plugin), None)
    if result is None:
        return None
    return convert(plugin, result) if convert is not None else result


# -- plain values ------------------------------------------------------------------------------------------

_ATOMS = (str, int, float, bool, type(None), dt.date, dt.time, dt.timedelta, decimal.Decimal, bytes)


def _plain(value: Any) -> tuple[Any, bool]:
    """``value`` with lazy strings made strings, and whether it is plain data only (safe to share)."""
    if isinstance(value, _ATOMS):  # Markup is a str
        return value, True
    if isinstance(value, LazyString):
        return str(value), True
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        plain = [item for item, _ok in items]
        made = type(value)(*plain) if hasattr(value, "_fields") else type(value)(plain)  # a namedtuple
        return made, all(ok for _item, ok in items)
    if isinstance(value, dict):
        pairs = [(_plain(k), _plain(v)) for k, v in value.items()]
        return {k: v for (k, _a), (v, _b) in pairs}, all(a and b for (_k, a), (_v, b) in pairs)
    return value, False


def _copy(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, Markup)) else copy.deepcopy(value)


def _size(value: Any) -> int:
    """An estimate of the memory ``value`` holds (containers and their items)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(_size(item) for item in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(_size(k) + _size(v) for k, v in value.items())
    return sys.getsizeof(value)


__all__ = ["LRU", "CacheStamp", "Stats", "UNSTAMPED", "bump", "cached", "cached_hook", "cached_many",
                           "clear", "init_cache", "stats"]

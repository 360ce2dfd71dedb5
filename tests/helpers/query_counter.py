"""Count the SQL statements a block of code (typically one request) sends to the database.

    from tests.helpers.query_counter import count_queries

    with count_queries() as queries:
        client.get("/dashboard")
    assert len(queries) <= 15, queries.report()

Statements are caught with SQLAlchemy's ``before_cursor_execute`` event on the
engine, so ORM loads, lazy loads, ``selectin`` loads and Core statements all
count; an ``executemany`` counts once. Transaction control (``BEGIN``,
``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE``) is kept apart in
``queries.control``: SQLite sends an explicit ``BEGIN`` that PostgreSQL's driver
does not, and a pinned count must mean the same on both databases.
"""
from __future__ import annotations

import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b", re.IGNORECASE)


@dataclass
class Statement:
    sql: str
    parameters: object
    #: The innermost frame of the project's own code that sent it (to find an N+1's origin).
    origin: str = ""


@dataclass
class QueryLog:
    """What was sent while the block ran; ``len()`` is the number of data statements."""

    statements: list[Statement] = field(default_factory=list)
    control: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def __iter__(self):
        return iter(self.statements)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """Every statement, numbered, first line of SQL and where it came from (for assertion messages)."""
        lines = [f"{len(self.statements)} statements:"]
        for number, statement in enumerate(self.statements, start=1):
            sql = " ".join(statement.sql.split())
            lines.append(f"{number:3d}. {sql[:220]}")
            if statement.origin:
                lines.append(f"       at {statement.origin}")
        return "\n".join(lines)


def _origin() -> str:
    """The innermost stack frame in the portal's or a plugin's code (not SQLAlchemy, not tests)."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        path = frame.filename.replace("\\", "/")
        if ("/portal/" in path or "/plugins/portal_" in path) and "/site-packages/" not in path:
            return f"{path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
    return ""


@contextmanager
def count_queries(engine: Engine | None = None, *, origins: bool = True) -> Iterator[QueryLog]:
    """Collect the statements sent on ``engine`` (default: the app's ``db.engine``) inside the block."""
    if engine is None:
        from portal.extensions import db

        engine = db.engine
    log = QueryLog()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if _CONTROL.match(statement):
            log.control.append(statement)
        else:
            log.statements.append(Statement(statement, parameters, _origin() if origins else ""))

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)

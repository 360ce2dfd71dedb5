"""Fixed-window rate limits counted in the database, so every worker and machine shares them.

``hit(bucket, key, limit, seconds)`` counts one request of ``key`` (a client
address, an account) in ``bucket`` (what is limited) and raises
:class:`RateLimited` (429 with ``Retry-After``) past ``limit`` requests per
window. The count is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE``) on
SQLite and PostgreSQL, committed at once so a refused or failed request still
counts. Call it at the start of a view, before the view changes anything (the
commit is the request's own: a second connection would wait on SQLite for the
write lock the request's transaction holds).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import DateTime, Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import TooManyRequests

from portal.database import is_reading_request, utcnow, write_intent
from portal.extensions import db


class RateCounter(db.Model):
    """Requests of one key in one bucket during the window starting at ``window_start``."""

    __tablename__ = "rate_counter"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RateLimited(TooManyRequests):
    """429 with ``Retry-After`` (seconds) and a translated message."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(_("Too many requests. Try again in %(n)d seconds.", n=retry_after), retry_after=retry_after)
        self.seconds = retry_after


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = datetime(2000, 1, 1)
    elapsed = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=elapsed - elapsed % seconds)


def _upsert(bucket: str, key: str, start: datetime):
    """The dialect's ``INSERT … ON CONFLICT DO UPDATE count = count + 1 RETURNING count``."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = RateCounter.__table__
    statement = insert(table).values(bucket=bucket, key=key[:128], window_start=start, count=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.key, table.c.window_start],
        set_={"count": table.c.count + 1},
    ).returning(table.c.count)


def _count(executor, bucket: str, key: str, start: datetime) -> int:
    """Add one to the window's counter through ``executor`` (a session or a connection)."""
    count = executor.execute(_upsert(bucket, key, start)).scalar_one()
    if count == 1:
        # The first request of a window clears the bucket's finished windows: the table stays small.
        table = RateCounter.__table__
        executor.execute(delete(table).where(table.c.bucket == bucket, table.c.window_start < start))
    return count


def hit(bucket: str, key: str, limit: int, seconds: int) -> int:
    """Count one request; the number of requests in this window so far.

    Raises :class:`RateLimited` when it is more than ``limit``. ``limit`` 0 or less: unlimited.
    """
    if limit <= 0:
        return 0
    now = utcnow()
    start = _window_start(now, seconds)
    if is_reading_request():
        # A reading page (search) counts in a short writer of its own, like a view's audit entry.
        with write_intent(), db.engine.begin() as connection:
            count = _count(connection, bucket, key, start)
    else:
        count = _count(db.session, bucket, key, start)
        db.session.commit()
    if count > limit:
        raise RateLimited(max(1, math.ceil((start + timedelta(seconds=seconds) - now).total_seconds())))
    return count


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/minute"`` → ``(20, 60)``; units: second, minute, hour, day."""
    number, _sep, unit = rate.partition("/")
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit.strip().rstrip("s") or "minute"]
    return int(number), seconds


def limit(bucket: str, key: str, rate: str) -> int:
    """:func:`hit` with a rate written as ``"<n>/<unit>"`` (e.g. a config value ``"20/minute"``)."""
    count, seconds = parse_rate(rate)
    return hit(bucket, key, count, seconds)

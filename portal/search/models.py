"""The search queue: index changes written in the same transaction as the data.

A plugin that changes something searchable calls ``queue_documents`` /
``queue_removals`` (``tk.search_update`` / ``tk.search_remove``) inside its
transaction. The rows commit or roll back with the change itself (a
transactional outbox), and are drained into the whoosh index outside the
request: by a background thread started after the commit, or by
``portal search drain`` from cron. The request never waits for whoosh.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import utcnow
from portal.extensions import db


class SearchQueueEntry(db.Model):
    """One pending index change: ``upsert`` a document or ``delete`` a key."""

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(10))
    document: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The search queue: index changes written in the same transaction as the data.

A plugin that changes something searchable calls ``queue_documents`` /
``queue_removals`` (``tk.search_update`` / ``tk.search_remove``) inside its
transaction. The rows commit or roll back with the change itself (a
transactional outbox), and are drained into the search backend outside the
request: by a background thread started after the commit, or by
``portal search drain`` from cron. The request never waits for the index.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Index, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import utcnow
from portal.extensions import NAMING_CONVENTION, db


class SearchQueueEntry(db.Model):
    """One pending index change: ``upsert`` a document or ``delete`` a key."""

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(10))
    document: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: The documents of the PostgreSQL search backend (migration core_0011, PostgreSQL only): one row per document,
#: its jieba-segmented words in ``words`` (title weight A, tags B, body C) under a GIN index.
#: Defined on a metadata of its own: :func:`use_document_table` puts it into the portal's metadata only when the
#: app runs on PostgreSQL, so ``create_all`` and the models-vs-migrations comparison see it exactly where
#: the migration creates it (SQLite keeps the embedded whoosh index and has no such table).
search_document = Table(
    "search_document", MetaData(naming_convention=NAMING_CONVENTION),
    Column("key", String(200), primary_key=True),
    Column("type", String(50), nullable=False),
    Column("plugin", String(50), nullable=False),
    Column("scope", String(100), nullable=False),
    Column("unit_path", String(500), nullable=False, server_default="", index=True),
    Column("locale", String(10), nullable=False, server_default=""),
    Column("url", String(500), nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default=""),
    Column("words", postgresql.TSVECTOR().with_variant(Text(), "sqlite"), nullable=False),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    Index("ix_search_document_words", "words", postgresql_using="gin"),
)


def use_document_table(dialect: str) -> None:
    """Include ``search_document`` in the portal's metadata on PostgreSQL, leave it out elsewhere.

    Called by ``create_app`` and whenever an app context is pushed
    (``portal.search.init_search``): a portal process runs one database, but
    the metadata is per process, so a process holding apps on both kinds of
    database (the tests) must see the tables of the app in use.
    """
    present = search_document.name in db.metadata.tables
    if dialect == "postgresql" and not present:
        search_document.to_metadata(db.metadata)
    elif dialect != "postgresql" and present:
        db.metadata.remove(db.metadata.tables[search_document.name])

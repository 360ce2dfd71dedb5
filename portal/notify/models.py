"""Inbox messages."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import utcnow
from portal.extensions import db


class Notification(db.Model):
    """A message in an account's inbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_inbox", "account_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(64), default="general")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: When the sender passed translatable text, its source and parameters, so each
    #: reader sees it in their own language (``title``/``body`` keep the sender's rendering).
    message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def display_title(self) -> str:
        """The title in the current locale."""
        from portal.notify.services import localize

        return localize((self.message or {}).get("title"), self.title)

    @property
    def display_body(self) -> str:
        """The body in the current locale."""
        from portal.notify.services import localize

        return localize((self.message or {}).get("body"), self.body)

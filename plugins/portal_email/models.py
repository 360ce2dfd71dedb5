"""The e-mail plugin's tables: members' preferences per kind of message, and the send log.

The send log is the durable record that makes each message go once: one row per inbox message
(``notification_id`` unique), claimed (``sending``) in its own committed transaction before the
SMTP server is asked, then marked ``sent`` or ``failed`` (retried by the next run).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal import toolkit as tk

db = tk.db

#: sending: claimed, being handed to the SMTP server; sent; failed: retried by the next run.
SEND_STATUSES = ("sending", "sent", "failed")


class EmailPreference(db.Model):
    """How one account receives one kind of message (a declared kind, or ``other``)."""

    __tablename__ = "email_preference"
    __table_args__ = (UniqueConstraint("account_id", "kind", name="uq_email_preference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    #: immediate, digest or off (tk.NOTIFICATION_MODES)
    mode: Mapped[str] = mapped_column(String(12))
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class EmailSend(db.Model):
    """One inbox message handed (or being handed) to the SMTP server, alone or in a digest."""

    __tablename__ = "email_send"
    __table_args__ = (Index("ix_email_send_status", "status", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    #: immediate or digest
    mode: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="sending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")

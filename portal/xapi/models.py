"""The durable outbox of statements waiting for the learning record store."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import utcnow
from portal.extensions import db


class XapiOutbox(db.Model):
    """One activity to push to the configured LRS, kept until the LRS accepted it.

    Written in the transaction that records the activity (only while an LRS is
    configured), so a crash or an unreachable LRS loses nothing; ``portal xapi
    push`` sends what is due and backs off on failure.
    """

    __tablename__ = "xapi_outbox"
    __table_args__ = (Index("ix_xapi_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity = relationship("Activity")

"""One row per meaningful act of a member."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import utcnow
from portal.extensions import db


class Activity(db.Model):
    """An xAPI-like statement: actor, verb, object, the member's branches, time, extras.

    ``idempotency_key`` is unique: recording the same act twice yields one row.
    """

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_actor_at", "actor_id", "created_at"),
        Index("ix_activity_verb_at", "verb", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    verb: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    extras: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("Member")

"""Badge classes and the assertions issued to members."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import utcnow
from portal.extensions import db


class BadgeClass(db.Model):
    """An achievement that can be awarded (a course's certificate, a points badge), as an Open Badges BadgeClass."""

    __tablename__ = "badge_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable key chosen by the issuing plugin ("course:party-history", "points:streak_7").
    key: Mapped[str] = mapped_column(String(120), unique=True)
    #: The plugin that issues it (its badges are listed and revoked through it).
    plugin: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    criteria_narrative: Mapped[str] = mapped_column(Text, default="")
    #: The portal page that states the criteria (a course page), relative to the base URL.
    criteria_path: Mapped[str | None] = mapped_column(String(500))
    #: Storage key of the badge's PNG image.
    image_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeAssertion(db.Model):
    """One badge awarded to one member: an Open Badges 2.0 hosted Assertion.

    The recipient is never stored in the clear in the assertion: ``identity``
    is ``sha256$`` + hex(SHA-256(address + salt)).
    """

    __tablename__ = "badge_assertion"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public, unguessable id in the assertion's URL.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_class.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    #: What earned it ("certificate:12"): issuing twice for the same source yields one assertion.
    source: Mapped[str] = mapped_column(String(120), unique=True)
    recipient_type: Mapped[str] = mapped_column(String(16), default="email")
    identity: Mapped[str] = mapped_column(String(100))
    salt: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A portal page that shows the work (the certificate's verification page), relative to the base URL.
    evidence_path: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str] = mapped_column(String(500), default="")

    badge_class = relationship("BadgeClass", lazy="joined")
    member = relationship("Member")

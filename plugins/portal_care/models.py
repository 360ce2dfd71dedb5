"""Care requests (关怀帮扶申请), their timeline and attachments, routing rules, micro-wishes (微心愿).

Every table is named ``care_…`` (one owner per table).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db


class CareCategory(db.Model):
    """An admin's change to the category list.

    The built-in categories live in code (with translated labels); a row here
    renames or hides one of them, or adds a new category.
    """

    __tablename__ = "care_category"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=100)


class CareRoutingRule(db.Model):
    """Requests of ``category`` (where the need is ``where``) from members under ``scope`` go to ``target``."""

    __tablename__ = "care_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    where: Mapped[str] = mapped_column(String(10), default="any")  # any / host / hometown
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    target_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    scope_unit = relationship("OrgUnit", foreign_keys=[scope_unit_id], lazy="joined")
    target_unit = relationship("OrgUnit", foreign_keys=[target_unit_id], lazy="joined")


class CareRequest(db.Model):
    """A member's request for help, routed to one unit and worked through the workflow."""

    __tablename__ = "care_request"
    __table_args__ = (
        Index("ix_care_request_unit_status", "unit_id", "status"),
        Index("ix_care_request_member", "member_id", "created_at"),
        Index("ix_care_request_handler", "handler_account_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    filed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    where: Mapped[str] = mapped_column(String(10), default="hometown")
    contact_pref: Mapped[str] = mapped_column(String(20), default="phone")
    contact_detail: Mapped[str | None] = mapped_column(String(100))
    consent_host: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    routed_by: Mapped[str] = mapped_column(String(20), default="home")  # home / host / rule / no_consent / no_host
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    handler_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    support_kind: Mapped[str | None] = mapped_column(String(20))
    support_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    respond_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    escalated_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    response_escalated_at: Mapped[datetime | None]
    resolution_escalated_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    member = relationship("Member", lazy="joined")
    unit = relationship("OrgUnit", foreign_keys=[unit_id], lazy="joined")
    escalated_unit = relationship("OrgUnit", foreign_keys=[escalated_unit_id])
    handler = relationship("Account", foreign_keys=[handler_account_id])
    filed_by = relationship("Account", foreign_keys=[filed_by_account_id])
    events = relationship("CareEvent", back_populates="request", order_by="CareEvent.id",
                          cascade="all, delete-orphan")
    attachments = relationship("CareAttachment", back_populates="request", order_by="CareAttachment.id",
                               cascade="all, delete-orphan")

    @property
    def member_name(self) -> str:
        """The requester's name (lists show requests and queue rows alike)."""
        return self.member.name

    @property
    def unit_name(self) -> str:
        """The routing unit's name (lists show requests and queue rows alike)."""
        return self.unit.name


class CareEvent(db.Model):
    """One line of a request's timeline: a comment, an internal note, a status change, an escalation."""

    __tablename__ = "care_event"
    __table_args__ = (Index("ix_care_event_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # comment / note / status / assigned / escalated / rated
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    request = relationship("CareRequest", back_populates="events")
    account = relationship("Account", lazy="joined")


class CareAttachment(db.Model):
    """A file stored under ``UPLOAD_DIR/care`` with a random name; served only after a permission check."""

    __tablename__ = "care_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("care_event.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    request = relationship("CareRequest", back_populates="attachments")


class CareDraft(db.Model):
    """A half-written request saved on the server ("save as draft", works without JavaScript)."""

    __tablename__ = "care_draft"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class CareWish(db.Model):
    """A micro-wish (微心愿): approved by a secretary, who chooses the subtree that sees it."""

    __tablename__ = "care_wish"
    __table_args__ = (Index("ix_care_wish_status", "status", "visible_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    visible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    reviewed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(Text)
    claimer_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member", foreign_keys=[member_id], lazy="joined")
    claimer = relationship("Member", foreign_keys=[claimer_member_id])
    visible_unit = relationship("OrgUnit")

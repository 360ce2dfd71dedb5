"""Standing (the 6-month rule): approved leave, assigned work recorded, talks, the once-told markers and cases.

Every table is named ``standing_…``. The months themselves are never stored: they are computed from
the activity stream (the verbs each plugin declares through ``portal_standing_verbs``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: What a member must keep up: branch life (meetings, online counts), dues, assigned work.
DIMENSIONS = ("branch_life", "dues", "work")
#: The steps of BRANCH-LIFE.md (b): none, reminder (1 month), talk (3), written notice (5), case (6).
STEPS = ("none", "reminder", "talk", "notice", "case")
CASE_STATES = ("open", "decided", "approved", "closed")


class Leave(db.Model):
    """Approved leave (illness, a recorded good reason): the months it covers do not count."""

    __tablename__ = "standing_leave"
    __table_args__ = (Index("ix_standing_leave_member", "member_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    #: None: until further notice.
    ends_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    approved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member", lazy="joined")


class WorkDone(db.Model):
    """Work the branch assigned and the member did, recorded by a secretary (one ``work.done`` activity)."""

    __tablename__ = "standing_work"
    __table_args__ = (Index("ix_standing_work_member", "member_id", "done_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    done_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Talk(db.Model):
    """The record of a talk with a member (谈心谈话) at the talk step."""

    __tablename__ = "standing_talk"
    __table_args__ = (Index("ix_standing_talk_member", "member_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class StepNotice(db.Model):
    """Marker: the member was told of ``step`` for the gap that started ``since`` (told once)."""

    __tablename__ = "standing_step_notice"
    __table_args__ = (UniqueConstraint("member_id", "since", "step", name="uq_standing_step_notice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    since: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Case(db.Model):
    """A member at 6 months, listed for the branch assembly. Nothing here is decided automatically:
    the assembly's decision and the upper committee's approval are recorded by people."""

    __tablename__ = "standing_case"
    __table_args__ = (Index("ix_standing_case_unit", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    since: Mapped[date] = mapped_column(Date)
    #: ``{dimension: months}`` when the case was opened (why).
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    decision: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    approval: Mapped[str | None] = mapped_column(Text)
    approved_on: Mapped[date | None] = mapped_column(Date)
    approved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]

    member = relationship("Member", lazy="joined")

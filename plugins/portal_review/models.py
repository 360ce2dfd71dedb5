"""Annual review (民主评议党员): rounds per branch and year, entries per member, anonymous ratings, grades.

Every table is named ``review_…``. Anonymity of mutual assessment: ``Rating`` has no rater column. The row is
found again (to replace a second rating) by ``rater_key`` = HMAC-SHA256(the round's ``ballot_secret``,
"<rater member id>:<ratee member id>"); the secret is destroyed when the mutual-assessment window closes, after
which nobody — not even someone holding the database — can link a rating to its rater.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: The steps of a round, in order (BRANCH-LIFE.md (e)); ``status`` is the current one.
ROUND_STEPS = ("study", "self", "mutual", "grading", "reported", "closed")
GRADES = ("excellent", "qualified", "basic", "unqualified")
HANDLING_KINDS = ("correction", "persuasion", "removal")


class ReviewRound(db.Model):
    """One branch's review of one year, often held with the annual life meeting."""

    __tablename__ = "review_round"
    __table_args__ = (UniqueConstraint("unit_id", "year", name="uq_review_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="study")
    #: The local days each step starts (set by the secretary; members are reminded).
    study_on: Mapped[date | None] = mapped_column(Date)
    self_from: Mapped[date | None] = mapped_column(Date)
    self_until: Mapped[date | None] = mapped_column(Date)
    mutual_from: Mapped[date | None] = mapped_column(Date)
    mutual_until: Mapped[date | None] = mapped_column(Date)
    grading_on: Mapped[date | None] = mapped_column(Date)
    #: The meeting it is held with (free text: "annual life meeting, 2026-12-20").
    held_with: Mapped[str] = mapped_column(Text, default="")
    #: Key of the anonymous ballots; None once mutual assessment has closed (links destroyed).
    ballot_secret: Mapped[str | None] = mapped_column(String(64))
    #: Why more than one third were graded excellent (the override), when they are.
    excellent_reason: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[date | None] = mapped_column(Date)
    reported_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    unit = relationship("OrgUnit", lazy="joined")
    entries = relationship("ReviewEntry", back_populates="round", cascade="all, delete-orphan")


class ReviewEntry(db.Model):
    """One member in a round: self-assessment, host opinion, proposed and decided grade, feedback."""

    __tablename__ = "review_entry"
    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_review_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    #: The host branch when the member was away at the round's opening (its opinion is asked).
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    self_text: Mapped[str] = mapped_column(Text, default="")
    self_submitted_at: Mapped[datetime | None]
    self_saved_at: Mapped[datetime | None]
    #: The branch committee's proposal (支委会提出), and for members away the host's (via HostOpinion).
    proposed_grade: Mapped[str | None] = mapped_column(String(12))
    proposed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime | None]
    #: The branch assembly's decision.
    grade: Mapped[str | None] = mapped_column(String(12))
    grade_reason: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    feedback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    round = relationship("ReviewRound", back_populates="entries")
    member = relationship("Member", lazy="joined")


class HostOpinion(db.Model):
    """The host branch's opinion on a member away (asked when the round opens, sent back to the home branch)."""

    __tablename__ = "review_host_opinion"
    __table_args__ = (UniqueConstraint("entry_id", name="uq_review_host_opinion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("review_entry.id", ondelete="CASCADE"))
    host_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    requested_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    opinion: Mapped[str | None] = mapped_column(Text)
    proposed_grade: Mapped[str | None] = mapped_column(String(12))
    submitted_at: Mapped[datetime | None]
    submitted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class Rating(db.Model):
    """One anonymous rating of a member in a round. No rater column, by design (see the module docstring)."""

    __tablename__ = "review_rating"
    __table_args__ = (UniqueConstraint("round_id", "rater_key", name="uq_review_rating"),
                      Index("ix_review_rating_ratee", "round_id", "ratee_member_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"))
    ratee_member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    #: HMAC of (rater, ratee) under the round's ballot secret; meaningless once the secret is destroyed.
    rater_key: Mapped[str] = mapped_column(String(64))
    rating: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: A day, not a time: a timestamp could be matched with access logs to find the rater.
    rated_on: Mapped[date] = mapped_column(Date)


class ImprovementPlan(db.Model):
    """The improvement plan of a member graded basically qualified, with its follow-up dates."""

    __tablename__ = "review_plan"
    __table_args__ = (UniqueConstraint("entry_id", name="uq_review_plan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("review_entry.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(Text)
    #: ``[{"due_on": "2027-03-31", "done_on": null, "notes": ""}, …]``
    follow_ups: Mapped[list] = mapped_column(JSON, default=list)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow, onupdate=tk.utcnow)


class Handling(db.Model):
    """A handling step for a member graded unqualified (限期改正, 劝其退党, 除名) — recorded, never automatic."""

    __tablename__ = "review_handling"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("review_entry.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    decided_on: Mapped[date] = mapped_column(Date)
    #: The end of a limited-time correction.
    until: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class ReminderMarker(db.Model):
    """Marker: members of a round were reminded of ``step`` (told once)."""

    __tablename__ = "review_reminder"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "step", name="uq_review_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

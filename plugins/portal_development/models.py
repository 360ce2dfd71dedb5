"""Development (发展党员全程纪实): one case per person, every step with its date, actor, notes and documents.

Every table is named ``development_…``. A case always points at a core member record: a person who applies
without one gets a record at stage ``applicant`` (so they can later sign in, write reports and take the
training course); the case keeps what the member record has no place for (household registration place,
workplace). The stage lives on the case and is mirrored on ``Member.stage``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: The stages of BRANCH-LIFE.md (d) in order (the same words as the core's ``tk.STAGES``).
STAGES = ("applicant", "activist", "candidate", "probationary", "full")
#: How a case can end other than at ``full``.
OUTCOMES = ("full", "withdrawn", "not_admitted", "cancelled")
#: The two places of two-place vetting and public notice.
PLACES = ("home", "host")
#: Parts of two-place vetting and who covers them (BRANCH-LIFE.md (d) "Mobile specifics").
VETTING_PARTS = {"host": ("workplace", "community", "person"), "home": ("home_village", "relatives")}
VOTE_KINDS = ("admission", "conversion")
MENTOR_PLACES = ("home", "work")


class DevCase(db.Model):
    """One person's way from application to full membership (or an exit)."""

    __tablename__ = "development_case"
    __table_args__ = (
        Index("ix_development_case_unit", "unit_id", "stage"),
        # The boards read "kept in the subtree OR hosted there": each half walks its own index.
        Index("ix_development_case_host", "host_unit_id"),
        # One open case per person; a closed case may be followed by a new application.
        Index("uq_development_case_open", "member_id", unique=True,
              sqlite_where=text("closed_on IS NULL"), postgresql_where=text("closed_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    #: The branch that keeps the case (where the person applied and will hold membership); changes on a transfer.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    #: The branch where the person works away (two-place vetting and notice); None when not away. Which of the
    #: two leads (is told of deadlines first) is the setting ``lead_place``; both may record branch steps.
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    household_place: Mapped[str | None] = mapped_column(Text)
    workplace: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20), default="applicant")
    applied_on: Mapped[date] = mapped_column(Date)
    activist_on: Mapped[date | None] = mapped_column(Date)
    candidate_on: Mapped[date | None] = mapped_column(Date)
    #: The branch assembly's admission vote: probation starts here (1 year, setting ``probation_months``).
    admitted_on: Mapped[date | None] = mapped_column(Date)
    probation_ends_on: Mapped[date | None] = mapped_column(Date)
    #: Probation extended once, by this many months (6–12).
    extended_months: Mapped[int | None] = mapped_column(Integer)
    full_on: Mapped[date | None] = mapped_column(Date)
    #: ``OUTCOMES``; None while open.
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow, onupdate=tk.utcnow)

    member = relationship("Member", lazy="joined")
    unit = relationship("OrgUnit", foreign_keys=[unit_id], lazy="joined")
    host_unit = relationship("OrgUnit", foreign_keys=[host_unit_id], lazy="joined")
    steps = relationship("StepRecord", back_populates="case", order_by="StepRecord.taken_on, StepRecord.id",
                         cascade="all, delete-orphan")
    mentors = relationship("Mentor", back_populates="case", order_by="Mentor.id", cascade="all, delete-orphan")


class StepRecord(db.Model):
    """One of the 25 steps taken (``vocabulary.STEPS``): when, by whom, on whose behalf, with notes and files."""

    __tablename__ = "development_step"
    __table_args__ = (Index("ix_development_step_case", "case_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    taken_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: What the step carries besides notes (hours of training, introducers, a conclusion, an outcome …).
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The unit on whose behalf it was taken (the branch, the host branch or the committee).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    case = relationship("DevCase", back_populates="steps")
    files = relationship("StepFile", back_populates="step", order_by="StepFile.id", cascade="all, delete-orphan")


class StepFile(db.Model):
    """A document attached to a step (an application letter, a printed video talk, a form)."""

    __tablename__ = "development_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("development_step.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    step = relationship("StepRecord", back_populates="files")


class Mentor(db.Model):
    """A full member who mentors the person (培养联系人): one at home, one where the person works."""

    __tablename__ = "development_mentor"
    __table_args__ = (UniqueConstraint("case_id", "member_id", name="uq_development_mentor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    place: Mapped[str] = mapped_column(String(10))
    #: Declared when assigned: the mentor is not a relative of the person.
    not_relative: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    case = relationship("DevCase", back_populates="mentors")
    member = relationship("Member", lazy="joined")


class Vetting(db.Model):
    """One part of two-place vetting (两地考察): asked of one side with a deadline, answered with findings."""

    __tablename__ = "development_vetting"
    __table_args__ = (UniqueConstraint("case_id", "side", "part", name="uq_development_vetting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    part: Mapped[str] = mapped_column(String(20))
    requested_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    findings: Mapped[str | None] = mapped_column(Text)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    case = relationship("DevCase")  # needed by B (vetting.waiting: each part with its case; no column)


class PublicNotice(db.Model):
    """A public notice (公示) of a candidate in one place, at least N working days."""

    __tablename__ = "development_notice"
    __table_args__ = (Index("ix_development_notice_case", "case_id", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"))
    place: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    #: Where it was posted (notice board, the unit's group chat …).
    posted_at: Mapped[str] = mapped_column(Text, default="")
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    objections = relationship("Objection", back_populates="notice", order_by="Objection.id",
                              cascade="all, delete-orphan")


class Objection(db.Model):
    """An objection received during a public notice, and how it was resolved."""

    __tablename__ = "development_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("development_notice.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    notice = relationship("PublicNotice", back_populates="objections")


class Vote(db.Model):
    """The branch assembly's tally on one person (admission or conversion); one candidate per vote."""

    __tablename__ = "development_vote"
    __table_args__ = (Index("ix_development_vote_case", "case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("development_step.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    held_on: Mapped[date] = mapped_column(Date)
    #: Full members with a vote who should attend (应到会有表决权的正式党员).
    entitled: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer)
    #: Of ``present``, how many joined by video.
    by_video: Mapped[int] = mapped_column(Integer, default=0)
    ballots_issued: Mapped[int] = mapped_column(Integer)
    ballots_returned: Mapped[int] = mapped_column(Integer)
    yes: Mapped[int] = mapped_column(Integer)
    no: Mapped[int] = mapped_column(Integer)
    abstain: Mapped[int] = mapped_column(Integer)
    #: Written opinions of absent entitled members, which count.
    written_yes: Mapped[int] = mapped_column(Integer, default=0)
    written_no: Mapped[int] = mapped_column(Integer, default=0)
    written_abstain: Mapped[int] = mapped_column(Integer, default=0)
    quorate: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class TrainingClass(db.Model):
    """A training class for candidates; it may be a course of the online school (completing it counts)."""

    __tablename__ = "development_training_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[int] = mapped_column(Integer)
    #: A course of the online school: its ``course.completed`` activity counts as attending.
    course_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Plan(db.Model):
    """A unit's annual development plan: how many it plans to admit, and notes."""

    __tablename__ = "development_plan"
    __table_args__ = (UniqueConstraint("unit_id", "year", name="uq_development_plan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow, onupdate=tk.utcnow)


class AlertMarker(db.Model):
    """Marker: the alert ``kind`` for the deadline ``due_on`` of a case was given (told once)."""

    __tablename__ = "development_alert"
    __table_args__ = (UniqueConstraint("case_id", "kind", "due_on", name="uq_development_alert"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("development_case.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

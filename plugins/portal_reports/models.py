"""Personal reports (思想汇报) with drafts and comments; the suggestion box (意见箱).

Every table is named ``reports_…``. A report is private: see ``access.py``.
An anonymous suggestion keeps NO account or member id anywhere — only the hash of a reply token the author keeps.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: draft (being written) → submitted → read → commented; or returned (for more) → submitted again.
REPORT_STATUSES = ("draft", "submitted", "read", "commented", "returned")
SUGGESTION_TARGETS = ("home", "host", "committee")
SUGGESTION_STATUSES = ("submitted", "assigned", "replied", "closed")


class Report(db.Model):
    """One member's report for one period (``2026-Q4`` or ``2026``); one row per member and period."""

    __tablename__ = "reports_report"
    __table_args__ = (UniqueConstraint("member_id", "period", name="uq_reports_report_period"),
                      Index("ix_reports_report_unit", "home_unit_id", "period"),
                      # the inbox reads "sent from the subtree" and "shared with it as host" as two halves, each
                      # from one of these covering indexes (its sort keys and filters included, the id too for
                      # PostgreSQL's index-only scans): a page sorts index entries, not rows (issue 20)
                      Index("ix_reports_report_home_sent", "home_unit_id", "status", "submitted_at", "id"),
                      Index("ix_reports_report_host_sent", "host_unit_id", "share_with_host", "status",
                            "home_unit_id", "submitted_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    #: The member's home branch and stage when submitted (who reads it; the overdue list by stage).
    home_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    stage: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    #: A copy goes to the host branch only when the member chooses.
    share_with_host: Mapped[bool] = mapped_column(Boolean, default=False)
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    submitted_at: Mapped[datetime | None]
    first_read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member", lazy="joined")
    comments = relationship("ReportComment", back_populates="report", cascade="all, delete-orphan",
                            order_by="ReportComment.id")


class ReportComment(db.Model):
    """A reader's comment on a report; ``returned`` asks the member for more."""

    __tablename__ = "reports_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports_report.id", ondelete="CASCADE"), index=True)
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    report = relationship("Report", back_populates="comments")


class ReportReminder(db.Model):
    """Marker: the member was reminded of the report due for ``period`` (told once)."""

    __tablename__ = "reports_reminder"
    __table_args__ = (UniqueConstraint("member_id", "period", name="uq_reports_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Suggestion(db.Model):
    """A suggestion to a branch or committee. Named (``author_member_id``) or anonymous (no id at all)."""

    __tablename__ = "reports_suggestion"
    __table_args__ = (Index("ix_reports_suggestion_unit", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL for an anonymous suggestion: nothing links it to a person.
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    #: sha256 of the reply token the author keeps (to read the reply); never the token itself.
    reply_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    target: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    category: Mapped[str] = mapped_column(String(20), default="general")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    assigned_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replied_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reply_due: Mapped[date | None] = mapped_column(Date)
    #: Shown (without any author) in the unit's public digest of replied suggestions.
    in_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The day submitted (local date only: a time of day could help guess an anonymous author).
    submitted_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]

    unit = relationship("OrgUnit", lazy="joined")

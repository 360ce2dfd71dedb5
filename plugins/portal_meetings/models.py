"""Meetings (三会一课, 主题党日 …), who is expected and who came, attachments; notices (通知) and their receipts.

Every table is named ``meetings_…`` (one owner per table). Times are naive UTC like the rest of the
database; pages and the API show them in local time (``tk.to_local`` / ``tk.isoformat``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: Meeting kinds in the order secretaries list them (labels in ``vocabulary.py``).
KINDS = ("assembly", "committee", "group", "lecture", "theme_day", "life_meeting", "homecoming")
MODES = ("onsite", "online", "hybrid")
#: draft → notified → held → minuted → archived, or cancelled (from draft or notified).
STATUSES = ("draft", "notified", "held", "minuted", "archived", "cancelled")
#: A meeting counts as held (compliance, the register) in these states.
HELD_STATUSES = ("held", "minuted", "archived")
#: Why someone is on the list: the unit's own full/probationary members, committee members,
#: members hosted here, people the secretary added (列席, activists), a member who checked in with the code unlisted.
ATTENDEE_ROLES = ("voting", "probationary", "committee", "hosted", "attending", "activist", "guest")
#: ``expected`` until something is recorded; ``present``/``online`` count as attended (one activity each).
ATTENDANCE_STATUSES = ("expected", "present", "online", "leave_requested", "leave", "absent")
LEAVE_STATES = ("requested", "approved", "refused")
NOTICE_AUDIENCES = ("unit", "subtree", "away", "list")
NOTICE_KINDS = ("general", "meeting", "dues", "election", "study", "urgent")


class Meeting(db.Model):
    """One meeting of a unit (any of :data:`KINDS`)."""

    __tablename__ = "meetings_meeting"
    __table_args__ = (
        Index("ix_meetings_meeting_unit_start", "unit_id", "starts_at"),
        Index("ix_meetings_meeting_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10), default="onsite")
    online_url: Mapped[str | None] = mapped_column(String(500))
    host_name: Mapped[str | None] = mapped_column(String(100))
    recorder_name: Mapped[str | None] = mapped_column(String(100))
    lecturer_name: Mapped[str | None] = mapped_column(String(100))
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    #: Random per meeting; the rotating check-in code is an HMAC of it and the current time slot.
    checkin_secret: Mapped[str] = mapped_column(String(64))
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow, onupdate=tk.utcnow)
    notified_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    minuted_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    #: When the members were last told it starts soon (so the daily scan tells them once).
    reminded_at: Mapped[datetime | None]
    #: Members the secretary took off the list whom the rules would expect: a refreshed list leaves them off.
    excluded_member_ids: Mapped[list] = mapped_column(JSON, default=list)

    unit = relationship("OrgUnit", lazy="joined")
    attendees = relationship("Attendee", back_populates="meeting", cascade="all, delete-orphan", lazy="selectin")
    attachments = relationship("Attachment", back_populates="meeting", cascade="all, delete-orphan",
                               order_by="Attachment.id")

    @property
    def ends_same_day(self) -> bool:
        """Whether it ends on the local day it starts (pages then show only the end's time)."""
        return tk.local_date(self.starts_at) == tk.local_date(self.ends_at)


class Attendee(db.Model):
    """A person expected at (or who came to) a meeting, and what happened: one row per meeting and member."""

    __tablename__ = "meetings_attendee"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_meetings_attendee"),
        Index("ix_meetings_attendee_member", "member_id", "status"),
        # The register's per-meeting counts by status read this index alone (no row of the table).
        Index("ix_meetings_attendee_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings_meeting.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="voting")
    #: False for someone the secretary added or removed by hand (a re-computed list keeps them).
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="expected")
    #: qr / register / online — how the attendance was taken.
    method: Mapped[str | None] = mapped_column(String(10))
    checked_in_at: Mapped[datetime | None]
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    leave_state: Mapped[str | None] = mapped_column(String(10))
    leave_requested_at: Mapped[datetime | None]
    leave_decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    leave_decided_at: Mapped[datetime | None]
    #: The activity recorded for this attendance (present or online); set once.
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"))

    meeting = relationship("Meeting", back_populates="attendees")
    member = relationship("Member", lazy="joined")


class Attachment(db.Model):
    """A file kept with a meeting (sign-in sheet photo, slides, minutes scan)."""

    __tablename__ = "meetings_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings_meeting.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    meeting = relationship("Meeting", back_populates="attachments")


class PeriodReminder(db.Model):
    """Marker: the unit's secretaries were told a kind of meeting is still due in a period (told once)."""

    __tablename__ = "meetings_period_reminder"
    __table_args__ = (UniqueConstraint("unit_id", "kind", "period", name="uq_meetings_period_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10))  # 2026-11, 2026-Q4, 2026
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Notice(db.Model):
    """A notice (通知) a unit sends to an audience, optionally to be acknowledged (签收) by a deadline."""

    __tablename__ = "meetings_notice"
    __table_args__ = (Index("ix_meetings_notice_unit", "unit_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    audience: Mapped[str] = mapped_column(String(10), default="unit")
    kind: Mapped[str] = mapped_column(String(12), default="general")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Acknowledge by (naive UTC; the form and the API take a local date or time).
    deadline: Mapped[datetime | None]
    sender_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    #: When the unacknowledged were escalated to their contact persons (the daily scan does it once).
    escalated_at: Mapped[datetime | None]

    unit = relationship("OrgUnit", lazy="joined")


class NoticeReceipt(db.Model):
    """One addressee of a notice: delivered when sent, then read, then acknowledged."""

    __tablename__ = "meetings_notice_receipt"
    __table_args__ = (
        UniqueConstraint("notice_id", "member_id", name="uq_meetings_notice_receipt"),
        Index("ix_meetings_notice_receipt_member", "member_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("meetings_notice.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    read_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    reply: Mapped[str | None] = mapped_column(Text)
    #: The contact person told / the member listed for a phone call after the deadline.
    escalated_at: Mapped[datetime | None]
    #: The secretary reached the member by phone (the call list's "done").
    called_at: Mapped[datetime | None]
    called_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    call_note: Mapped[str | None] = mapped_column(Text)

    notice = relationship("Notice")
    member = relationship("Member", lazy="joined")

"""Mobility records: outflows, certificates, check-ins, moves, reviews, transfers, contacts, lost contact.

Every table is named ``mobility_…``. The core ``Member`` row keeps the current
state (``is_away``, ``host_unit_id``, ``home_unit_id``, ``lost_contact``);
these tables keep the history of how it got there.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

OPEN_OUTFLOW = ("pending", "changes_requested", "approved")
OPEN_OUTFLOW_SQL = "status IN ('pending', 'changes_requested', 'approved')"
ACTIVE_CERTIFICATE_SQL = "status = 'active'"
PENDING_CHECKIN_SQL = "status = 'pending'"
CHANNELS = ("call", "message", "visit", "video", "letter")
REVIEW_OUTCOMES = ("renewed", "follow_up", "closed")
REVIEW_CHECKLIST = ("kept_contact", "branch_life", "dues_paid", "reports_sent", "details_current")
#: Verbs the annual review counts from the activity stream (dues, reports and meetings come from later plugins).
REVIEW_FACT_VERBS = ("report.submitted", "dues.paid", "meeting.attended", "contact.logged")
#: Attending a meeting, at the meeting or online; a meetings plugin records the meeting's unit in ``extras["unit_id"]``.
MEETING_VERBS = ("meeting.attended", "meeting.attended_online")
#: Verbs the annual review counts as another fact: attending online is attending.
REVIEW_FACT_ALIASES = {"meeting.attended_online": "meeting.attended"}


class Outflow(db.Model):
    """A member's registration of leaving home (外出登记) and its decision."""

    __tablename__ = "mobility_outflow"
    __table_args__ = (Index("ix_mobility_outflow_member_status", "member_id", "status"),
                      Index("ix_mobility_outflow_unit_status", "home_unit_id", "status"),
                      # at most one open registration per member, even under concurrent requests
                      Index("uq_mobility_outflow_open_member", "member_id", unique=True,
                            postgresql_where=text(OPEN_OUTFLOW_SQL), sqlite_where=text(OPEN_OUTFLOW_SQL)))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    home_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending / changes_requested / approved / returned / transferred / cancelled
    destination_province: Mapped[str] = mapped_column(String(50))
    destination_city: Mapped[str] = mapped_column(String(50))
    destination_district: Mapped[str | None] = mapped_column(String(50))
    #: The destination as registered (GB/T 2260 code); the text columns above show it (and old rows' text).
    destination_code: Mapped[str | None] = mapped_column(String(6))
    #: Where the member is now (moves and check-ins change it; their history is in ``mobility_move``).
    current_place_code: Mapped[str | None] = mapped_column(String(6))
    employer: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date]
    expected_months: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    contact_there: Mapped[str | None] = mapped_column(String(200))
    photo_file: Mapped[str | None] = mapped_column(String(100))
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    last_confirmed_at: Mapped[datetime | None]
    confirm_prompted_at: Mapped[datetime | None]
    returned_on: Mapped[date | None]
    return_note: Mapped[str | None] = mapped_column(Text)
    return_summary: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow, onupdate=tk.utcnow)

    member = relationship(tk.Member, foreign_keys=[member_id])
    home_unit = relationship(tk.OrgUnit, foreign_keys=[home_unit_id])

    @property
    def destination(self) -> str:
        """The registered destination's full name (江西省南昌市), or the text of rows without a code."""
        return tk.place_name(self.destination_code) or " ".join(
            filter(None, (self.destination_province, self.destination_city, self.destination_district)))

    @property
    def current_place(self) -> str:
        """Where the member is now: the current place's full name, else the registered destination."""
        return tk.place_name(self.current_place_code) or self.destination


class Certificate(db.Model):
    """The mobile member activity certificate (流动党员活动证) issued on approval."""

    __tablename__ = "mobility_certificate"
    # one active certificate per registration, even under concurrent approvals (issue 14)
    __table_args__ = (Index("uq_mobility_certificate_active_outflow", "outflow_id", unique=True,
                            postgresql_where=text(ACTIVE_CERTIFICATE_SQL), sqlite_where=text(ACTIVE_CERTIFICATE_SQL)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    outflow_id: Mapped[int] = mapped_column(ForeignKey("mobility_outflow.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    issued_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    valid_until: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active / closed
    photo_file: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]
    closed_note: Mapped[str | None] = mapped_column(Text)
    review_prompted_at: Mapped[datetime | None]

    outflow = relationship(Outflow)
    member = relationship(tk.Member)
    issuing_unit = relationship(tk.OrgUnit)

    def is_valid(self, today: date) -> bool:
        return self.status == "active" and self.valid_until >= today


class CheckIn(db.Model):
    """A member reporting at a host branch (报到), confirmed by its secretary.

    ``source`` is ``member`` (the member picked the branch) or ``host`` (the
    host secretary registered an arrival without a certificate; the home
    branch then confirms the identity: ``identity_status``).
    """

    __tablename__ = "mobility_checkin"
    __table_args__ = (Index("ix_mobility_checkin_host_status", "host_unit_id", "status"),
                      # one waiting check-in per member and host branch, even when requests race (issue 14)
                      Index("uq_mobility_checkin_pending_host", "member_id", "host_unit_id", unique=True,
                            postgresql_where=text(PENDING_CHECKIN_SQL), sqlite_where=text(PENDING_CHECKIN_SQL)))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    outflow_id: Mapped[int | None] = mapped_column(ForeignKey("mobility_outflow.id", ondelete="SET NULL"))
    host_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending / confirmed / rejected / ended
    source: Mapped[str] = mapped_column(String(10), default="member")
    identity_status: Mapped[str | None] = mapped_column(String(20))  # pending / confirmed / rejected
    note: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None]

    member = relationship(tk.Member)
    host_unit = relationship(tk.OrgUnit)
    outflow = relationship(Outflow)


class Move(db.Model):
    """A reported change of place, employer or contact (变动报告), or a confirmation that nothing changed."""

    __tablename__ = "mobility_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    outflow_id: Mapped[int | None] = mapped_column(ForeignKey("mobility_outflow.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), default="change")  # change / confirm / checkin (located at a host)
    changed_on: Mapped[date]
    reported_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    late: Mapped[bool] = mapped_column(default=False)
    old_values: Mapped[dict] = mapped_column(JSON, default=dict)
    new_values: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    reported_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))

    member = relationship(tk.Member)


class Review(db.Model):
    """The annual review (年度审核) of an active certificate."""

    __tablename__ = "mobility_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("mobility_certificate.id", ondelete="CASCADE"), index=True)
    reviewed_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    reviewer_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    #: What the stream showed over the reviewed year: ``{"since": iso day, "counts": {verb: n}}``.
    facts: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    valid_until_after: Mapped[date | None]

    certificate = relationship(Certificate)


class Transfer(db.Model):
    """A membership transfer (组织关系转接) approved by both sides, with its letter of introduction."""

    __tablename__ = "mobility_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending / approved / rejected / cancelled
    requested_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    from_approved_at: Mapped[datetime | None]
    from_approved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    to_approved_at: Mapped[datetime | None]
    to_approved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    member = relationship(tk.Member)
    from_unit = relationship(tk.OrgUnit, foreign_keys=[from_unit_id])
    to_unit = relationship(tk.OrgUnit, foreign_keys=[to_unit_id])


class ContactLog(db.Model):
    """One contact with an away member: date, channel, note (联系记录)."""

    __tablename__ = "mobility_contact_log"
    __table_args__ = (Index("ix_mobility_contact_member_on", "member_id", "contacted_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    contacted_on: Mapped[date]
    channel: Mapped[str] = mapped_column(String(10))
    #: False for an attempt that reached nobody: it shows what was tried, and does not end a lost-contact case.
    reached: Mapped[bool] = mapped_column(default=True, server_default=true())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship(tk.Member)
    by_account = relationship(tk.Account)


class LostContactCase(db.Model):
    """A period during which a member counted as lost contact (失联), and its escalation."""

    __tablename__ = "mobility_lost_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    flagged_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    escalated_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    cleared_at: Mapped[datetime | None]

    member = relationship(tk.Member)

"""Dues (党费): profiles with the rate and monthly amount, reductions, payments and the months they cover,
arrears reminders, the quarterly remittance and the annual disclosure.

Every table is named ``dues_…``. Money is ``Numeric(12, 2)`` read as ``Decimal`` — never float.
Months are the first day of the month (``date``); ``"2026-11"`` in forms and the API.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

CATEGORIES = ("salaried", "retired", "farmer", "student", "unemployed", "self_employed")
CHANNELS = ("cash", "transfer", "host_branch", "on_behalf", "online")
#: reported: a member said they paid (with a receipt photo), waiting for the secretary;
#: pending: an online payment waiting for the provider's callback; confirmed: counts; rejected: freed its months.
PAYMENT_STATUSES = ("reported", "pending", "confirmed", "rejected")
REDUCTION_STATES = ("requested", "branch_agreed", "approved", "refused", "withdrawn")
#: The countdown of consecutive unpaid months (BRANCH-LIFE.md (b)): reminder, talk, written notice, case.
ARREARS_STEPS = (1, 3, 5, 6)


class DuesProfile(db.Model):
    """How much a member owes each month from ``valid_from`` on (a new row per re-basing; history kept)."""

    __tablename__ = "dues_profile"
    __table_args__ = (UniqueConstraint("member_id", "valid_from", name="uq_dues_profile_member_from"),
                      # the ledger's totals read the amount in force from the index alone
                      Index("ix_dues_profile_member_from_due", "member_id", "valid_from", "monthly_due"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    #: After-tax regular monthly income (or pension, or the self-employed's previous-quarter average), before the
    #: 五险一金 deduction when the setting deducts it; None for the fixed-amount categories.
    monthly_base: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    #: The individual's 五险一金 (social insurance and housing fund) deducted from the base when the setting says so.
    insurance_deduction: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    monthly_due: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    valid_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    set_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member", lazy="joined")


class Reduction(db.Model):
    """A reduction or exemption: the member asks, the branch agrees, the upper committee approves (all recorded)."""

    __tablename__ = "dues_reduction"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    #: The monthly amount asked for (0 = exemption).
    monthly_due: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    from_month: Mapped[date] = mapped_column(Date)
    to_month: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="requested")
    requested_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    branch_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    branch_decided_at: Mapped[datetime | None]
    branch_note: Mapped[str | None] = mapped_column(Text)
    upper_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    upper_decided_at: Mapped[datetime | None]
    upper_note: Mapped[str | None] = mapped_column(Text)

    member = relationship("Member", lazy="joined")


class Payment(db.Model):
    """Money received for named months (and any voluntary extra), with a receipt anyone can verify."""

    __tablename__ = "dues_payment"
    __table_args__ = (Index("ix_dues_payment_unit_paid", "collecting_unit_id", "paid_on"),
                      Index("ix_dues_payment_member", "member_id", "paid_on"),
                      # the payments waiting for a secretary, counted per member without reading each payment
                      Index("ix_dues_payment_member_status", "member_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    #: The member's home branch when paid (the payment counts there wherever it was collected).
    home_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    #: Where the money was collected: the home branch, or the host branch for ``host_branch``.
    collecting_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    #: The part of ``amount`` above the months' dues (voluntary extra payment).
    extra_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    #: A voluntary one-off at or above the setting (≥ 1000 yuan) is flagged for the upper committee.
    flagged_large: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="confirmed")
    paid_on: Mapped[date] = mapped_column(Date)
    payer_name: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    receipt_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: The member's photo of a transfer receipt (reported payments).
    proof_stored_name: Mapped[str | None] = mapped_column(String(200))
    proof_filename: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member", lazy="joined")
    months = relationship("PaymentMonth", back_populates="payment", cascade="all, delete-orphan",
                          order_by="PaymentMonth.month", lazy="selectin")


class PaymentMonth(db.Model):
    """One month a payment covers. Unique per member and month: a month cannot be paid twice (also under races)."""

    __tablename__ = "dues_payment_month"
    __table_args__ = (UniqueConstraint("member_id", "month", name="uq_dues_payment_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("dues_payment.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    payment = relationship("Payment", back_populates="months")


class ArrearsNotice(db.Model):
    """Marker: the step (1, 3, 5, 6 months unpaid) of a run of arrears starting at ``since`` was told (once)."""

    __tablename__ = "dues_arrears_notice"
    __table_args__ = (UniqueConstraint("member_id", "since", "step", name="uq_dues_arrears_notice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    since: Mapped[date] = mapped_column(Date)
    step: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Remittance(db.Model):
    """A branch's quarterly remittance (上缴) of collected dues to the upper committee."""

    __tablename__ = "dues_remittance"
    __table_args__ = (UniqueConstraint("unit_id", "period", name="uq_dues_remittance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    period: Mapped[str] = mapped_column(String(8))  # 2026-Q4
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    remitted_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class Disclosure(db.Model):
    """The annual public disclosure (公示) of a unit's dues collection and use."""

    __tablename__ = "dues_disclosure"
    __table_args__ = (UniqueConstraint("unit_id", "year", name="uq_dues_disclosure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int]
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    use_note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    published_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class RebaseReminder(db.Model):  # needed by arrears (DB): the January re-basing reminder, told once per unit and year
    """Marker: in January, the unit's secretaries were told which dues profiles were not re-based for ``year``."""

    __tablename__ = "dues_rebase_reminder"
    __table_args__ = (UniqueConstraint("unit_id", "year", name="uq_dues_rebase_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    year: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

"""A member's own dues statement: how each recent month stands, which months they may pay now, the countdown.

Read by the member's pages and the dashboard panel. Every month is worked out with a fixed number of
queries (the member's dues schedule as the arrears count reads it, the payments covering the months in
one query), never one per month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Select, String, and_, func, literal, null, select, union_all

from portal import toolkit as tk
from portal_dues import arrears, money, payments
from portal_dues.models import DuesProfile, Payment, PaymentMonth, Reduction

db = tk.db
#: How many months the member's grid shows (this month and the eleven before).
GRID_MONTHS = 12


@dataclass(frozen=True)
class MonthState:
    """One month as the member reads it: ``status`` is a key of ``MONTH_STATUS_LABELS``."""

    month: date
    due: Decimal
    status: str

    @property
    def key(self) -> str:
        """``"2026-11"``."""
        return money.month_key(self.month)


@dataclass(frozen=True)
class Step:
    """One step of the countdown: after ``months`` unpaid months, ``step`` (a key of ``ARREARS_STEP_LABELS``)."""

    months: int
    step: int
    reached: bool


def month_states(member: tk.Member, months: list[date]) -> list[MonthState]:
    """Each month's status: paid (confirmed), reported (waiting for the secretary or the provider), unpaid,
    not due (nothing owed), or no profile (the branch has not set the member's dues yet). Three queries."""
    schedule = arrears.schedules(select(tk.Member.id).where(tk.Member.id == member.id)).get(member.id,
                                                                                            arrears.Schedule())
    taken = dict(db.session.execute(
        select(PaymentMonth.month, Payment.status).join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(PaymentMonth.member_id == member.id, PaymentMonth.month.in_(months),
               Payment.status != "rejected")).all())
    return [_state(schedule, month, taken.get(month)) for month in months]


def _state(schedule: arrears.Schedule, month: date, payment_status: str | None) -> MonthState:
    """How ``month`` stands given the schedule and the status of the payment covering it (if any)."""
    due = schedule.due(month) or Decimal("0.00")
    if payment_status == "confirmed":
        shown = "paid"
    elif payment_status is not None:
        shown = "reported"
    elif due > 0:
        shown = "unpaid"
    else:
        shown = "no_profile" if schedule.profile_at(month) is None else "not_due"
    return MonthState(month, due, shown)


def glance(member: tk.Member, now: datetime | None = None) -> tuple[MonthState, int]:
    """This month's state and the months in arrears, for the dashboard panel: one statement.

    The member's profiles, approved reductions, the last month paid up to the last complete month and this
    month's payment come back as one UNION ALL; the rules are the same as :func:`month_states` and the
    arrears run (``arrears.Schedule``).
    """
    current, last = money.current_month(now), arrears.last_complete_month(now)
    taken = and_(Payment.id == PaymentMonth.payment_id, PaymentMonth.member_id == member.id,
                 Payment.status != "rejected")
    none_date, none_text = null().cast(Date), null().cast(String)
    parts = union_all(
        select(literal("p"), DuesProfile.valid_from, none_date, DuesProfile.monthly_due, DuesProfile.category,
               DuesProfile.id).where(DuesProfile.member_id == member.id),
        select(literal("r"), Reduction.from_month, Reduction.to_month, Reduction.monthly_due, none_text, Reduction.id)
        .where(Reduction.member_id == member.id, Reduction.state == "approved"),
        select(literal("l"), func.max(PaymentMonth.month), none_date, null(), none_text, literal(0))
        .where(taken, PaymentMonth.month <= last),
        select(literal("c"), PaymentMonth.month, none_date, null(), Payment.status, literal(0))
        .where(taken, PaymentMonth.month == current),
    )
    schedule, last_paid, status = arrears.Schedule(member.joined_on), None, None
    for kind, first, second, amount, text, _order in sorted(db.session.execute(parts), key=lambda row: (row[0], row[5])):
        if kind == "p":
            schedule.profiles.append((first, amount, text))
        elif kind == "r":
            schedule.reductions.append((first, second, amount))
        elif kind == "l":
            last_paid = first
        else:
            status = text
    schedule.profiles.sort(key=lambda row: row[0])
    state = _state(schedule, current, status)
    run = schedule.run(last, last_paid) if tk.is_member_stage(member.stage) else None
    return state, run[0] if run else 0


def recent_months(member: tk.Member, now: datetime | None = None) -> list[MonthState]:
    """The grid: this month and the eleven before, newest first."""
    current = money.current_month(now)
    return list(reversed(month_states(member, money.month_range(money.add_months(current, 1 - GRID_MONTHS), current))))


def payable_months(member: tk.Member, now: datetime | None = None) -> list[MonthState]:
    """Months the member may pay or report now, oldest first: unpaid months within the back-payment limit,
    this month, and the rest of the quarter when allowed — each with something due and not yet taken."""
    states = month_states(member, money.month_range(first_payable_month(now), payments.latest_payable_month(now)))
    return [state for state in states if state.status == "unpaid"]


def first_payable_month(now: datetime | None = None) -> date:
    """The oldest month a member may still pay themself (the back-payment limit); older ones go to the branch."""
    return money.add_months(money.current_month(now), -int(tk.get_setting("dues", "back_payment_months")))


def countdown(months_unpaid: int) -> list[Step]:
    """The countdown's steps from the settings, each marked when ``months_unpaid`` has reached it."""
    return [Step(months, step, months_unpaid >= months) for step, months in arrears.thresholds().items()]


def payments_of(member: tk.Member) -> Select:
    """A query of the member's payments, newest first (for the page's list and ``tk.api_page``)."""
    return (select(Payment).where(Payment.member_id == member.id)
            .order_by(Payment.created_at.desc(), Payment.id.desc()))


def my_payments(member: tk.Member, limit: int = 50) -> list[Payment]:
    """The member's payments, newest first (at most ``limit``)."""
    return list(db.session.scalars(payments_of(member).limit(limit)))

"""A member's own dues statement: how each recent month stands, which months they may pay now, the countdown.

Read by the member's pages and the dashboard panel. A member's book — profiles, approved reductions and
the months their payments hold — comes back in one statement (:func:`member_book`); every month, the
months payable and the arrears run are worked out from it in Python, never with a query per month.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Date, Numeric, Row, Select, String, and_, bindparam, func, literal, null, select, union_all

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


class ProfileShown(NamedTuple):
    """A dues profile as the member's page shows it (the columns of ``DuesProfile`` it reads)."""

    valid_from: date
    category: str
    monthly_base: Decimal | None
    rate: Decimal | None
    monthly_due: Decimal


@dataclass
class MemberBook:
    """One member's dues as every rule reads them: the schedule, the profiles, the months payments hold.

    ``taken``: ``{month: status}`` of the payment holding each month (rejected payments hold none);
    ``months_of``: ``{payment id: its months, in order}``.
    """

    stage: str
    schedule: arrears.Schedule
    profiles: list[ProfileShown] = field(default_factory=list)
    taken: dict[date, str] = field(default_factory=dict)
    months_of: dict[int, list[date]] = field(default_factory=dict)

    def states(self, months: list[date]) -> list[MonthState]:
        """Each month's :class:`MonthState`, in the order given: paid (confirmed), reported (waiting for the
        secretary or the provider), unpaid, not due (nothing owed), or no profile (no dues set yet)."""
        return [_state(self.schedule, month, self.taken.get(month)) for month in months]

    def recent(self, now: datetime | None = None) -> list[MonthState]:
        """The grid: this month and the eleven before, newest first."""
        current = money.current_month(now)
        return list(reversed(self.states(money.month_range(money.add_months(current, 1 - GRID_MONTHS), current))))

    def payable(self, now: datetime | None = None) -> list[MonthState]:
        """Months the member may pay or report now, oldest first: unpaid months within the back-payment limit,
        this month, and the rest of the quarter when allowed — each with something due and not yet taken."""
        states = self.states(money.month_range(first_payable_month(now), payments.latest_payable_month(now)))
        return [state for state in states if state.status == "unpaid"]

    def profile_at(self, month: date) -> ProfileShown | None:
        """The profile in force in ``month`` (the latest ``valid_from`` not after it), or None."""
        return next((row for row in reversed(self.profiles) if row.valid_from <= month), None)

    def arrears(self, now: datetime | None = None) -> tuple[int, date | None]:
        """``(months unpaid in a row up to the last complete month, since)``: the rule of ``arrears.arrears_for``."""
        if not tk.is_member_stage(self.stage):
            return 0, None
        last = arrears.last_complete_month(now)
        paid = max((month for month in self.taken if month <= last), default=None)
        return self.schedule.run(last, paid) or (0, None)


def _book_statement() -> Select:
    """The UNION ALL :func:`member_book` sends: built once, for ``:member_id``."""
    member_id = bindparam("member_id")
    none_date, none_text, none_money = null().cast(Date), null().cast(String), null().cast(Numeric(12, 2))
    return union_all(
        select(literal("p"), DuesProfile.valid_from, none_date, DuesProfile.monthly_due, DuesProfile.monthly_base,
               DuesProfile.rate, DuesProfile.category, DuesProfile.id).where(DuesProfile.member_id == member_id),
        select(literal("r"), Reduction.from_month, Reduction.to_month, Reduction.monthly_due, none_money, null(),
               none_text, Reduction.id).where(Reduction.member_id == member_id, Reduction.state == "approved"),
        select(literal("m"), PaymentMonth.month, none_date, none_money, none_money, null(), Payment.status,
               PaymentMonth.payment_id).join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(PaymentMonth.member_id == member_id),
    )


_BOOK = _book_statement()


def member_book(member: tk.Member) -> MemberBook:
    """The member's :class:`MemberBook`: profiles, approved reductions and payment months in one UNION ALL.

    All the member's months are read (a few hundred in a lifetime of dues), so any window is worked out
    without another query.
    """
    book = MemberBook(member.stage, arrears.Schedule(member.joined_on))
    # profiles by month, reductions in the order asked (the latest covering a month wins), months in order
    rows = db.session.execute(_BOOK, {"member_id": member.id})
    for kind, first, second, amount, base, rate, text, number in sorted(
            rows, key=lambda row: (row[0], row[7] if row[0] == "r" else row[1])):
        if kind == "p":
            book.schedule.profiles.append((first, amount, text))
            book.profiles.append(ProfileShown(first, text, base, rate, amount))
        elif kind == "r":
            book.schedule.reductions.append((first, second, amount))
        else:
            book.months_of.setdefault(number, []).append(first)
            if text != "rejected":
                book.taken[first] = text
    return book


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
    month's payment come back as one UNION ALL; the rules are the same as :class:`MemberBook`'s and the
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
    """:meth:`MemberBook.recent` of the member's book (one query)."""
    return member_book(member).recent(now)


def payable_months(member: tk.Member, now: datetime | None = None) -> list[MonthState]:
    """:meth:`MemberBook.payable` of the member's book (one query)."""
    return member_book(member).payable(now)


def first_payable_month(now: datetime | None = None) -> date:
    """The oldest month a member may still pay themself (the back-payment limit); older ones go to the branch."""
    return money.add_months(money.current_month(now), -int(tk.get_setting("dues", "back_payment_months")))


def countdown(months_unpaid: int) -> list[Step]:
    """The countdown's steps from the settings, each marked when ``months_unpaid`` has reached it."""
    return [Step(months, step, months_unpaid >= months) for step, months in arrears.thresholds().items()]


def payments_of(member: tk.Member) -> Select:
    """A query of the member's payments, newest first (for ``tk.api_page``)."""
    return (select(Payment).where(Payment.member_id == member.id)
            .order_by(Payment.created_at.desc(), Payment.id.desc()))


#: What :func:`my_payments` sends (the order of :func:`payments_of`): built once, for ``:member_id`` and ``:limit``.
_MY_PAYMENTS = (select(Payment.id, Payment.paid_on, Payment.channel, Payment.amount, Payment.status,
                       Payment.rejected_reason, Payment.receipt_code)
                .where(Payment.member_id == bindparam("member_id"))
                .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(bindparam("limit")))


def my_payments(member: tk.Member, limit: int = 50) -> list[Row]:
    """The member's payments, newest first (at most ``limit``): rows of the columns the page shows.

    Their months come from the member's book (``MemberBook.months_of``), not from a query per payment.
    """
    return db.session.execute(_MY_PAYMENTS, {"member_id": member.id, "limit": limit}).all()

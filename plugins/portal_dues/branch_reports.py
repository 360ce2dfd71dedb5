"""The branch's dues books: the month's due/paid/unpaid list, the quarter's remittance, the year's disclosure.

A unit's books cover the members whose home branch lies in its subtree; a payment counts there
wherever it was collected (``Payment.home_unit_id``), and the quarter shows apart what was collected
at a host branch and what this subtree collected for members of other branches. Only confirmed
payments count as collected. Money is ``Decimal`` summed by the database; months and days are local.
Each report has its ``.xlsx``.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Response
from portal.toolkit import gettext as _
from sqlalchemy import Date, String, and_, case, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_dues import arrears, money
from portal_dues.models import Disclosure, DuesProfile, Payment, PaymentMonth, Reduction, Remittance
from portal_dues.vocabulary import CATEGORY_LABELS, CHANNEL_LABELS, MONTH_STATUS_LABELS

db = tk.db
ZERO = Decimal("0.00")
#: A rate of collection has four decimals ("0.9583" = 95.83 %).
RATE = Decimal("0.0001")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
NOTE_MAX = 500
USE_NOTE_MAX = 5000


def _sum(value) -> Decimal:
    """A sum from the database as money (``None`` — nothing summed — is 0.00)."""
    return ZERO if value is None else Decimal(value).quantize(money.CENT)


# -- the month's list -------------------------------------------------------------------------------------------


def _month_status(payment_status: str | None, profile, due: Decimal | None) -> str:
    """A key of ``MONTH_STATUS_LABELS``: paid (confirmed), reported (waiting), unpaid, no profile, nothing due."""
    if payment_status == "confirmed":
        return "paid"
    if payment_status is not None:
        return "reported"
    if due:
        return "unpaid"
    return "no_profile" if profile is None else "not_due"


def members_query(unit: tk.OrgUnit, term: str = ""):
    """A ``select`` of the members of the subtree (by home branch), by name; ``term`` narrows it to names holding it."""
    query = (select(tk.Member).where(tk.Member.home_unit_id.in_(arrears.subtree(unit)), tk.member_stage_filter())
             .order_by(tk.Member.name, tk.Member.id))
    term = term.strip()[:50]
    return query.where(tk.Member.name.contains(term, autoescape=True)) if term else query


def _month_facts(among, month: date) -> tuple[dict[int, arrears.Schedule], dict]:
    """The dues schedules of the members ``among`` (ids, or a ``select`` of them) and their payments of ``month``.

    One UNION ALL: their profiles, approved reductions and the month's payment rows (a rejected payment
    holds no month). Returns ``({member id: Schedule}, {member id: (amount due, payment id, paid on, channel,
    status)})``.
    """
    none_date, none_text = null().cast(Date), null().cast(String)
    parts = union_all(
        select(literal("p"), DuesProfile.member_id, DuesProfile.valid_from, none_date, DuesProfile.monthly_due,
               DuesProfile.category, none_text, DuesProfile.id).where(DuesProfile.member_id.in_(among)),
        select(literal("r"), Reduction.member_id, Reduction.from_month, Reduction.to_month, Reduction.monthly_due,
               none_text, none_text, Reduction.id).where(Reduction.member_id.in_(among), Reduction.state == "approved"),
        select(literal("t"), PaymentMonth.member_id, Payment.paid_on, none_date, PaymentMonth.amount_due,
               Payment.status, Payment.channel, Payment.id).join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(PaymentMonth.month == month, PaymentMonth.member_id.in_(among), Payment.status != "rejected"),
    )
    schedules: dict[int, arrears.Schedule] = {}
    taken = {}
    # profiles by month, reductions in the order asked (the latest covering a month wins)
    rows = db.session.execute(parts)
    for kind, member_id, first, second, amount, text, channel, number in sorted(
            rows, key=lambda row: (row[0], row[1], row[7] if row[0] == "r" else row[2])):
        if kind == "p":
            schedules.setdefault(member_id, arrears.Schedule()).profiles.append((first, amount, text))
        elif kind == "r":
            schedules.setdefault(member_id, arrears.Schedule()).reductions.append((first, second, amount))
        else:
            taken[member_id] = (amount, number, first, channel, text)
    return schedules, taken


def month_rows(members: list[tk.Member], month: date, among=None) -> list[dict]:
    """The month's row of each of ``members`` (in their order): one query (:func:`_month_facts`).

    ``among``: a ``select`` of the members' ids when they are too many to name (the whole subtree's list).
    Row: ``member``, ``member_id``, ``category`` (of the profile in force, or None), ``due`` (None when nothing
    covers the month), ``paid`` (the month's amount of a payment that was not rejected, or None), ``paid_on``,
    ``channel``, ``payment_id`` and ``status`` (a key of ``MONTH_STATUS_LABELS``).
    """
    month = money.month_start(month)
    found, taken = _month_facts([member.id for member in members] if among is None else among, month)
    rows = []
    for member in members:
        schedule = found.get(member.id, arrears.Schedule())
        schedule.joined_on = member.joined_on
        profile, due, payment = schedule.profile_at(month), schedule.due(month), taken.get(member.id)
        amount, payment_id, paid_on, channel, status = payment or (None, None, None, None, None)
        rows.append({"member": member, "member_id": member.id, "category": profile[2] if profile else None,
                     "due": due, "paid": amount, "paid_on": paid_on, "channel": channel, "payment_id": payment_id,
                     "status": _month_status(status, profile, due)})
    return rows


def monthly_list(unit: tk.OrgUnit, month: date) -> list[dict]:
    """Each member of the subtree (by home branch) for ``month``, by name (rows of ``month_rows``): two queries."""
    query = members_query(unit)
    return month_rows(list(db.session.scalars(query)), month,
                      among=query.order_by(None).with_only_columns(tk.Member.id))


def branch_totals(unit: tk.OrgUnit, month: date, *, waiting=None) -> dict:
    """``monthly_totals`` of the whole subtree's list and ``members`` (how many), in one grouped statement.

    The rule of ``arrears.Schedule.due`` in SQL: the profile in force (latest ``valid_from`` not after the month)
    owes from the month of admission on; the latest approved reduction covering the month replaces its amount.
    ``waiting``: a ``select`` counted in the same statement (``totals["waiting"]``; 0 without it).
    """
    month = money.month_start(month)
    # one index seek per member for each lookup (the profile in force, the latest approved reduction covering
    # the month, the month's payment row through the unique (member, month) index), computed once per member:
    # MATERIALIZED, or the database would inline the lookups into every use of ``due`` below
    in_force = (select(DuesProfile.monthly_due)
                .where(DuesProfile.member_id == tk.Member.id, DuesProfile.valid_from <= month)
                .order_by(DuesProfile.valid_from.desc()).limit(1).scalar_subquery())
    reduced = (select(Reduction.monthly_due)
               .where(Reduction.member_id == tk.Member.id, Reduction.state == "approved", Reduction.from_month <= month,
                      or_(Reduction.to_month.is_(None), Reduction.to_month >= month))
               .order_by(Reduction.id.desc()).limit(1).scalar_subquery())
    # a rejected payment leaves the month open
    rows = (members_query(unit).order_by(None)
            .outerjoin(PaymentMonth, and_(PaymentMonth.member_id == tk.Member.id, PaymentMonth.month == month))
            .outerjoin(Payment, and_(Payment.id == PaymentMonth.payment_id, Payment.status != "rejected"))
            .with_only_columns(tk.Member.joined_on, in_force.label("in_force"), reduced.label("reduced"),
                               case((Payment.id.isnot(None), PaymentMonth.amount_due)).label("paid"), Payment.status)
            .cte("dues_rows").prefix_with("MATERIALIZED"))
    owed = and_(rows.c.in_force.isnot(None), or_(rows.c.joined_on.is_(None),
                                                 rows.c.joined_on < money.add_months(month, 1)))
    due = case((owed, func.coalesce(rows.c.reduced, rows.c.in_force)))
    status = case((rows.c.status == "confirmed", "paid"), (rows.c.status.isnot(None), "reported"),
                  (and_(due.isnot(None), due != 0), "unpaid"), (rows.c.in_force.is_(None), "no_profile"),
                  else_="not_due")
    counted = tk.count_query(waiting).scalar_subquery() if waiting is not None else literal(0)
    totals = {"due": ZERO, "paid": ZERO, "status": {}, "members": 0, "waiting": 0}
    for key, count, due_sum, paid_sum, waiting_count in db.session.execute(
            select(status, func.count(), func.sum(due), func.sum(rows.c.paid), counted).group_by(status)):
        totals["due"] += _sum(due_sum)
        totals["paid"] += _sum(paid_sum)
        totals["status"][key] = count
        totals["members"] += count
        totals["waiting"] = waiting_count
    if not totals["members"] and waiting is not None:  # no member row to carry it
        totals["waiting"] = tk.count(waiting)
    return totals


def month_counts(unit: tk.OrgUnit, month: date) -> dict[str, int]:
    """Members of the subtree with dues set for ``month`` and how many of them paid it (confirmed): one statement."""
    members = arrears.members_in(unit)
    with_profile = (select(func.count(func.distinct(DuesProfile.member_id)))
                    .where(DuesProfile.member_id.in_(members), DuesProfile.valid_from <= month))
    paid = (select(func.count(func.distinct(PaymentMonth.member_id)))
            .join(Payment, Payment.id == PaymentMonth.payment_id)
            .where(PaymentMonth.member_id.in_(members), PaymentMonth.month == month, Payment.status == "confirmed"))
    row = db.session.execute(select(with_profile.scalar_subquery(), paid.scalar_subquery())).one()
    return {"with_profile": row[0], "paid": row[1]}


def monthly_totals(rows: list[dict]) -> dict:
    """``due`` and ``paid`` summed over the list's rows and how many rows are in each ``status``."""
    totals = {"due": ZERO, "paid": ZERO, "status": {}}
    for row in rows:
        totals["due"] += row["due"] or ZERO
        totals["paid"] += row["paid"] or ZERO
        totals["status"][row["status"]] = totals["status"].get(row["status"], 0) + 1
    return totals


def _heading(title: str, unit: tk.OrgUnit) -> list[str]:
    return [title, unit.name, _("Made on %(date)s", date=tk.fmt_date(tk.local_today()))]


def monthly_xlsx(unit: tk.OrgUnit, month: date) -> Response:
    """The month's list as a spreadsheet, with a totals row."""
    rows = monthly_list(unit, month)
    totals = monthly_totals(rows)
    key = money.month_key(month)
    headers = [_("Member"), _("Home branch"), _("Category"), _("Due"), _("Paid"), _("Paid on"), _("Channel"),
               _("Status")]
    cells = [[row["member"].name, row["member"].home_unit.name, tk.label(CATEGORY_LABELS, row["category"]),
              row["due"], row["paid"], row["paid_on"], tk.label(CHANNEL_LABELS, row["channel"]),
              tk.label(MONTH_STATUS_LABELS, row["status"])] for row in rows]
    cells.append([_("Total"), "", "", totals["due"], totals["paid"], "", "", ""])
    return tk.xlsx_response(_("Dues %(month)s.xlsx", month=key), headers, cells, key,
                            heading=_heading(_("Dues for %(month)s", month=key), unit))


# -- the quarter and its remittance ------------------------------------------------------------------------------


def parse_quarter(text: str) -> tuple[str, date]:
    """``"2026-Q4"`` → ``("2026-Q4", date(2026, 10, 1))``; anything else → ``tk.Invalid`` on ``period``."""
    match = _QUARTER.fullmatch((text or "").strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1900:
        raise tk.Invalid(_("Give the quarter like 2026-Q4."), field="period")
    year, quarter = int(match.group(1)), int(match.group(2))
    return f"{year}-Q{quarter}", date(year, quarter * 3 - 2, 1)


def _collection_groups(months: list[date], ours, in_quarter: tuple) -> list:
    """Sums of the quarter's payments by month, counted here or not, collected here or not: one grouped query.

    Rows: ``(month index, counts here, collected here, amount, extra, payments with an extra, payments)``.
    """
    home_in, here = Payment.home_unit_id.in_(ours), Payment.collecting_unit_id.in_(ours)
    flags = select(case((Payment.paid_on < months[1], 0), (Payment.paid_on < months[2], 1), else_=2).label("month"),
                   case((home_in, 1), else_=0).label("home"), case((here, 1), else_=0).label("here"),
                   case((Payment.extra_amount > 0, 1), else_=0).label("with_extra"),
                   Payment.amount, Payment.extra_amount).where(*in_quarter, or_(home_in, here)).subquery()
    return db.session.execute(
        select(flags.c.month, flags.c.home, flags.c.here, func.sum(flags.c.amount), func.sum(flags.c.extra_amount),
               func.sum(flags.c.with_extra), func.count())
        .group_by(flags.c.month, flags.c.home, flags.c.here)).all()


def quarter_summary(unit: tk.OrgUnit, period: str) -> dict:
    """What the subtree collected in the quarter ``period`` ("2026-Q4"), by the day it was paid. Three queries.

    ``months``: per month ``{"month", "at_home", "at_host", "total", "payments"}``; the quarter's ``at_home``
    (collected in the subtree), ``at_host`` (collected by host branches elsewhere, counting here), ``collected``
    (both), ``payments``; ``for_others`` and ``payments_for_others`` (collected here for members whose home is
    elsewhere); ``extra`` and ``extra_payments`` (voluntary extras in ``collected``); ``large`` (the flagged
    payments); ``remittance`` (the recorded :class:`Remittance` or None) and ``remitted``.
    """
    key, first = parse_quarter(period)
    months = money.month_range(first, money.add_months(first, 2))
    ours = arrears.subtree(unit)
    home_in = Payment.home_unit_id.in_(ours)
    in_quarter = (Payment.status == "confirmed", Payment.paid_on >= first,
                  Payment.paid_on < money.add_months(first, 3))
    groups = _collection_groups(months, ours, in_quarter)
    rows = [{"month": month, "at_home": ZERO, "at_host": ZERO, "total": ZERO, "payments": 0} for month in months]
    summary = {"period": key, "months": rows, "for_others": ZERO, "payments_for_others": 0, "extra": ZERO,
               "extra_payments": 0}
    for index, home, collected_here, amount, extra, with_extra, count in groups:
        if not home:
            summary["for_others"] += _sum(amount)
            summary["payments_for_others"] += count
            continue
        row = rows[index]
        row["at_home" if collected_here else "at_host"] += _sum(amount)
        row["total"] += _sum(amount)
        row["payments"] += count
        summary["extra"] += _sum(extra)
        summary["extra_payments"] += int(with_extra or 0)
    summary.update(at_home=sum((row["at_home"] for row in rows), ZERO),
                   at_host=sum((row["at_host"] for row in rows), ZERO),
                   collected=sum((row["total"] for row in rows), ZERO), payments=sum(row["payments"] for row in rows))
    summary["large"] = list(db.session.scalars(select(Payment).where(*in_quarter, home_in, Payment.flagged_large)
                                               .order_by(Payment.paid_on, Payment.id)))
    summary["remittance"] = db.session.scalar(select(Remittance).where(Remittance.unit_id == unit.id,
                                                                       Remittance.period == key))
    summary["remitted"] = summary["remittance"] is not None
    return summary


def _day(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise tk.Invalid(_("Please correct the marked fields."), {field: _("Enter a day like 2026-11-30.")}) from None


def record_remittance(unit: tk.OrgUnit, data: dict, *, by, now: datetime | None = None) -> Remittance:
    """Record that the unit handed the quarter's dues to the upper committee — once per unit and quarter.

    ``data``: ``period`` ("2026-Q4"), ``amount`` ("120.00", above zero), ``remitted_on`` (a day not before the
    quarter began nor after today), ``note``. A second remittance of the quarter is ``tk.Conflict`` (409).
    The caller checks ``dues.manage`` on the unit.
    """
    key, first = parse_quarter(data.get("period"))
    amount = money.parse_amount(data.get("amount"), "amount")
    errors = {}
    if amount <= 0:
        errors["amount"] = _("Enter the amount handed over.")
    remitted_on = _day(data.get("remitted_on") or tk.local_today(now).isoformat(), "remitted_on")
    if not first <= remitted_on <= tk.local_today(now):
        errors["remitted_on"] = _("The day lies between the start of the quarter and today.")
    note = (data.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    remittance = Remittance(unit_id=unit.id, period=key, amount=amount, remitted_on=remitted_on, note=note or None,
                            recorded_by_account_id=getattr(by, "id", None), created_at=now or tk.utcnow())
    try:
        with db.session.begin_nested():  # the unique (unit, period) decides between two secretaries at once
            db.session.add(remittance)
            db.session.flush()
    except IntegrityError:
        raise tk.Conflict(_("The remittance for %(period)s is already recorded.", period=key)) from None
    tk.audit("dues.remittance", "dues_remittance", remittance.id, unit_id=unit.id, period=key,
             amount=money.money_text(amount))
    return remittance


def remittance_xlsx(unit: tk.OrgUnit, period: str) -> Response:
    """The quarter's collection by month and the remittance, as a spreadsheet."""
    summary = quarter_summary(unit, period)
    headers = [_("Month"), _("Collected here"), _("Collected at host branches"), _("Total"), _("Payments")]
    rows = [[money.month_key(row["month"]), row["at_home"], row["at_host"], row["total"], row["payments"]]
            for row in summary["months"]]
    rows.append([_("Total"), summary["at_home"], summary["at_host"], summary["collected"], summary["payments"]])
    rows += [[], [_("Of which voluntary extra payments"), summary["extra"]],
             [_("Collected here for other branches"), summary["for_others"]]]
    rows += [[_("Flagged large payment"), payment.member.name, payment.amount, payment.paid_on]
             for payment in summary["large"]]
    remittance = summary["remittance"]
    rows.append([_("Remitted"), remittance.amount, remittance.remitted_on, remittance.note or ""] if remittance
                else [_("Remitted"), _("not yet")])
    key = summary["period"]
    return tk.xlsx_response(_("Dues remittance %(period)s.xlsx", period=key), headers, rows, key,
                            heading=_heading(_("Dues remittance for %(period)s", period=key), unit))


# -- the year's disclosure -----------------------------------------------------------------------------------------


def _year_months(year: int, now: datetime | None) -> list[date]:
    """The months of ``year`` up to the current one: what the year's dues are counted over so far."""
    last = min(date(year, 12, 1), money.current_month(now))
    return money.month_range(date(year, 1, 1), last)


def _check_year(year: int, now: datetime | None) -> None:
    if not 1900 <= year <= tk.local_today(now).year:
        raise tk.Invalid(_("Choose a year up to this one."), field="year")


def disclosure(unit: tk.OrgUnit, year: int, now: datetime | None = None) -> dict:
    """The year's figures for the public disclosure (the months so far, for the current year). Six queries.

    ``members`` (full and probationary, home in the subtree), ``due`` (owed for the year's months),
    ``collected_dues`` (confirmed payments of those months), ``rate`` (their ratio, four decimals, None when
    nothing was due), ``collected`` (everything confirmed in the year, extras and back payments included),
    ``extra``, ``extra_payments``, ``large_payments``, ``remitted`` (the unit's remittances of the year's
    quarters), and ``published`` (the :class:`Disclosure` or None) with its ``use_note``.
    """
    _check_year(year, now)
    ours = arrears.subtree(unit)
    ids = select(tk.Member.id).where(tk.Member.home_unit_id.in_(ours), tk.member_stage_filter())
    months = _year_months(year, now)
    due = sum((schedule.due(month) or ZERO for schedule in arrears.schedules(ids).values() for month in months), ZERO)
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    confirmed_ours = (Payment.status == "confirmed", Payment.home_unit_id.in_(ours))
    collected_dues = db.session.scalar(
        select(func.sum(PaymentMonth.amount_due)).join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(*confirmed_ours, PaymentMonth.month >= start, PaymentMonth.month < end))
    collected, extra, extra_payments, large = db.session.execute(
        select(func.sum(Payment.amount), func.sum(Payment.extra_amount),
               func.count(case((Payment.extra_amount > 0, 1))), func.count(case((Payment.flagged_large, 1))))
        .where(*confirmed_ours, Payment.paid_on >= start, Payment.paid_on < end)).one()
    remitted = db.session.scalar(select(func.sum(Remittance.amount)).where(
        Remittance.unit_id == unit.id, Remittance.period.like(f"{year}-Q%")))
    published = db.session.scalar(select(Disclosure).where(Disclosure.unit_id == unit.id, Disclosure.year == year))
    collected_dues = _sum(collected_dues)
    return {"year": year, "members": tk.count(ids), "due": due.quantize(money.CENT), "collected_dues": collected_dues,
            "rate": (collected_dues / due).quantize(RATE) if due else None, "collected": _sum(collected),
            "extra": _sum(extra), "extra_payments": extra_payments, "large_payments": large, "remitted": _sum(remitted),
            "published": published, "use_note": published.use_note if published else ""}


#: The figures a published disclosure keeps (as strings: money "40.00", the rate "0.9583").
FIGURES = ("members", "due", "collected_dues", "rate", "collected", "extra", "extra_payments", "large_payments",
           "remitted")


def figures_json(figures: dict) -> dict:
    """The disclosure's figures as JSON: money and the rate as strings, counts as numbers."""
    return {name: (str(figures[name]) if isinstance(figures[name], Decimal) else figures[name]) for name in FIGURES}


def publish_disclosure(unit: tk.OrgUnit, year: int, use_note: str, *, by, now: datetime | None = None) -> Disclosure:
    """Publish the year's figures with how the dues were used — once per unit and year (``tk.Conflict`` after).

    The figures are kept as they stand now. The caller checks ``dues.manage`` on the unit.
    """
    figures = disclosure(unit, year, now)
    use_note = (use_note or "").strip()
    if not use_note or len(use_note) > USE_NOTE_MAX:
        raise tk.Invalid(_("Please correct the marked fields."), {"use_note": _(
            "Say how the dues were used (at most %(n)d characters).", n=USE_NOTE_MAX)})
    if figures["published"] is not None:
        raise tk.Conflict(_("The disclosure for %(year)s is already published.", year=year))
    row = Disclosure(unit_id=unit.id, year=year, figures=figures_json(figures), use_note=use_note,
                     published_at=now or tk.utcnow(), published_by_account_id=getattr(by, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise tk.Conflict(_("The disclosure for %(year)s is already published.", year=year)) from None
    tk.audit("dues.disclosure", "dues_disclosure", row.id, unit_id=unit.id, year=year)
    return row


def disclosure_xlsx(unit: tk.OrgUnit, year: int, now: datetime | None = None) -> Response:
    """The year's disclosure figures (and the use note once published) as a spreadsheet (``now``: as ``disclosure``)."""
    figures = disclosure(unit, year, now)
    rate = figures["rate"]
    rows = [[_("Members"), figures["members"]], [_("Dues owed"), figures["due"]],
            [_("Dues collected for the year's months"), figures["collected_dues"]],
            [_("Rate of collection"), f"{rate * 100:.2f}%" if rate is not None else "—"],
            [_("Collected in the year"), figures["collected"]],
            [_("Voluntary extra payments"), figures["extra"]], [_("Payments with an extra"), figures["extra_payments"]],
            [_("Flagged large payments"), figures["large_payments"]], [_("Remitted"), figures["remitted"]],
            [_("How the dues were used"), figures["use_note"] or _("not published yet")]]
    return tk.xlsx_response(_("Dues disclosure %(year)s.xlsx", year=year), [_("Item"), _("Value")], rows, str(year),
                            heading=_heading(_("Dues disclosure for %(year)s", year=year), unit))

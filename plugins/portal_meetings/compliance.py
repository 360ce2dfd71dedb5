"""Compliance with the minimum frequencies: periods, required vs held, reminders, the register and the minutes book.

A unit must hold each kind of meeting its kind requires: units whose kind is in the setting
``branch_unit_kinds`` hold every kind except group meetings, which units of the kind ``group``
hold; each kind's minimum is the setting ``frequency_<kind>`` (``none``: no minimum). A period
(month, quarter, year) at least as long as a kind's frequency requires ``months // frequency``
meetings of it; a shorter one (a month view of the quarterly assembly) is judged by the enclosing
frequency period, whose key the row gives as ``window``. Only meetings in ``HELD_STATUSES`` count,
by the local day they started on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from flask import Response
from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, func, insert, or_, select

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from portal_meetings.models import HELD_STATUSES, KINDS, Meeting, PeriodReminder
from portal_meetings.vocabulary import (
    ATTENDANCE_LABELS, DEFAULT_FREQUENCIES, FREQUENCY_MONTHS, KIND_LABELS, MODE_LABELS, PLUGIN, STATUS_LABELS,
)

db = tk.db

#: Months in each period a secretary can look at.
GRANULARITIES = {"month": 1, "quarter": 3, "year": 12}
_PERIOD = re.compile(r"^(\d{4})(?:-(0?[1-9]|1[0-2])|-[Qq]([1-4]))?$")
#: Years a period may name (the records start long after 1900; later years are typing errors).
_YEARS = range(1900, 3000)


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year in local days: ``start`` inclusive, ``end`` exclusive."""

    key: str
    start: date
    end: date
    months: int

    @property
    def label(self) -> Any:
        """The period as people read it, lazily translated (11/2026, 2026 Q4, 2026; 2026年第4季度 in Chinese)."""
        if self.months == 12:
            return _l("Year %(year)s", year=self.start.year)
        if self.months == 3:
            return _l("%(year)s Q%(quarter)s", year=self.start.year, quarter=(self.start.month - 1) // 3 + 1)
        return _l("%(month)s/%(year)s", month=self.start.month, year=self.start.year)

    def bounds(self) -> tuple[datetime, datetime]:
        """The naive-UTC instants at which the period begins and the next one begins."""
        return tk.local_day_bounds(self.start)[0], tk.local_day_bounds(self.end)[0]


def period_of(day: date, months: int) -> Period:
    """The calendar period of ``months`` (1, 3 or 12) that contains ``day``."""
    first = (day.month - 1) // months * months + 1
    last = first + months - 1
    start = date(day.year, first, 1)
    end = date(day.year + last // 12, last % 12 + 1, 1)
    key = {1: f"{day.year}-{first:02d}", 3: f"{day.year}-Q{(first - 1) // 3 + 1}"}.get(months, str(day.year))
    return Period(key, start, end, months)


def parse_period(text: str) -> Period:
    """The period named ``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year); tk.Invalid otherwise."""
    match = _PERIOD.match((text or "").strip())
    if match is None or int(match.group(1)) not in _YEARS:
        raise tk.Invalid(_("Give the period as a month (2026-11), a quarter (2026-Q4) or a year (2026)."),
                         field="period")
    year, month, quarter = int(match.group(1)), match.group(2), match.group(3)
    if month:
        return period_of(date(year, int(month), 1), 1)
    if quarter:
        return period_of(date(year, int(quarter) * 3, 1), 3)
    return period_of(date(year, 1, 1), 12)


def current_period(granularity: str = "quarter", today: date | None = None) -> Period:
    """The month, quarter or year containing ``today`` (the local day by default)."""
    if granularity not in GRANULARITIES:
        raise tk.Invalid(_("Choose a month, a quarter or a year."), field="period")
    return period_of(today or tk.local_today(), GRANULARITIES[granularity])


# -- required vs held ------------------------------------------------------------------

def frequency(kind: str) -> str:
    """The minimum frequency of ``kind`` (monthly, quarterly, yearly or none) from the settings."""
    return tk.get_setting(PLUGIN, f"frequency_{kind}") or DEFAULT_FREQUENCIES.get(kind, "none")


def _kinds_with_minimum() -> list[tuple[str, str, int]]:
    """``(kind, frequency, months)`` of every kind that has a minimum, in the order secretaries list them."""
    found = [(kind, frequency(kind)) for kind in KINDS]
    return [(kind, freq, FREQUENCY_MONTHS[freq]) for kind, freq in found if freq in FREQUENCY_MONTHS]


def _required_of(unit_kind: str, kind: str, branch_kinds: Iterable[str]) -> bool:
    return unit_kind == "group" if kind == "group" else unit_kind in branch_kinds


def _branch_kinds() -> set[str]:
    return set(tk.get_setting(PLUGIN, "branch_unit_kinds") or ())


def holding_unit_kinds() -> set[str]:
    """Unit kinds that must hold some meeting (the units compliance and the reminders look at)."""
    kinds = {kind for kind, _freq, _months in _kinds_with_minimum()}
    branch = _branch_kinds() if kinds - {"group"} else set()
    return branch | ({"group"} if "group" in kinds else set())


@dataclass(frozen=True)
class _Plan:
    kind: str
    frequency: str
    window: Period
    required: int


def _plans(period: Period) -> list[_Plan]:
    """What each kind with a minimum requires in ``period``, and the period its count refers to."""
    plans = []
    for kind, freq, months in _kinds_with_minimum():
        if period.months >= months:
            plans.append(_Plan(kind, freq, period, period.months // months))
        else:
            plans.append(_Plan(kind, freq, period_of(period.start, months), 1))
    return plans


def _held_counts(plans: list[_Plan], unit_condition) -> dict[tuple[int, str], int]:
    """``{(unit id, kind): meetings held}`` in each plan's window: one grouped query for any number of units."""
    if not plans:
        return {}
    by_window: dict[Period, list[str]] = {}
    for plan in plans:
        by_window.setdefault(plan.window, []).append(plan.kind)
    windows = [and_(Meeting.kind.in_(kinds), Meeting.starts_at >= window.bounds()[0],
                    Meeting.starts_at < window.bounds()[1]) for window, kinds in by_window.items()]
    rows = db.session.execute(
        select(Meeting.unit_id, Meeting.kind, func.count(Meeting.id))
        .where(Meeting.status.in_(HELD_STATUSES), unit_condition, or_(*windows))
        .group_by(Meeting.unit_id, Meeting.kind)).all()
    return {(unit_id, kind): count for unit_id, kind, count in rows}


def _rows(unit_id: int, unit_kind: str, plans: list[_Plan], counts: dict[tuple[int, str], int],
          branch_kinds: set[str]) -> list[dict]:
    rows = []
    for plan in plans:
        if _required_of(unit_kind, plan.kind, branch_kinds):
            held = counts.get((unit_id, plan.kind), 0)
            rows.append({"kind": plan.kind, "frequency": plan.frequency, "required": plan.required, "held": held,
                         "window": plan.window.key, "met": held >= plan.required})
    return rows


def unit_compliance(unit: tk.OrgUnit, period: Period) -> list[dict]:
    """Required vs held for each kind the unit must hold in ``period``.

    Each row is ``{"kind", "frequency", "required", "held", "window", "met"}``; a unit whose kind
    holds no meetings gets ``[]``.
    """
    plans = _plans(period)
    branch_kinds = _branch_kinds()
    if not any(_required_of(unit.kind, plan.kind, branch_kinds) for plan in plans):
        return []
    counts = _held_counts(plans, Meeting.unit_id == unit.id)
    return _rows(unit.id, unit.kind, plans, counts, branch_kinds)


def subtree_compliance(unit: tk.OrgUnit, period: Period) -> list[tuple[tk.OrgUnit, list[dict]]]:
    """:func:`unit_compliance` of every open unit at or below ``unit`` that must hold meetings, in tree order.

    Two queries whatever the size of the subtree: the units, and the meetings counted by unit and kind.
    """
    holding = holding_unit_kinds()
    if not holding:
        return []
    units = db.session.scalars(select(tk.OrgUnit).where(
        tk.in_subtree(tk.OrgUnit.path, unit.path), tk.OrgUnit.kind.in_(holding), tk.OrgUnit.closed_at.is_(None))
        .order_by(tk.OrgUnit.path)).all()
    plans = _plans(period)
    subtree = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    counts = _held_counts(plans, Meeting.unit_id.in_(subtree)) if units else {}
    branch_kinds = _branch_kinds()
    return [(each, _rows(each.id, each.kind, plans, counts, branch_kinds)) for each in units]


# -- reminders ------------------------------------------------------------------------

def scan(now: datetime) -> list[tk.Alert]:
    """The daily reminders: secretaries of units short of a kind before its period ends, members before a meeting.

    Each is told once: a :class:`PeriodReminder` row per (unit, kind, period), ``Meeting.reminded_at``
    per meeting. A handful of grouped queries however many units there are.
    """
    return _remind_secretaries(now) + _remind_members(now)


def _plans_ending_soon(today: date) -> list[_Plan]:
    """Each kind's current frequency period that ends within ``compliance_reminder_days`` local days."""
    days = int(tk.get_setting(PLUGIN, "compliance_reminder_days") or 0)
    plans = [_Plan(kind, freq, period_of(today, months), 1) for kind, freq, months in _kinds_with_minimum()]
    return [plan for plan in plans if (plan.window.end - today).days <= days]


def _remind_secretaries(now: datetime) -> list[tk.Alert]:
    today = tk.local_today(now)
    plans = _plans_ending_soon(today)
    branch_kinds = _branch_kinds()
    unit_kinds = {kind for kind in holding_unit_kinds()
                  if any(_required_of(kind, plan.kind, branch_kinds) for plan in plans)}
    if not unit_kinds:
        return []
    units = db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.kind, tk.OrgUnit.name).where(
        tk.OrgUnit.kind.in_(unit_kinds), tk.OrgUnit.closed_at.is_(None)).order_by(tk.OrgUnit.id)).all()
    counts = _held_counts(plans, Meeting.unit_id.in_(
        select(tk.OrgUnit.id).where(tk.OrgUnit.kind.in_(unit_kinds), tk.OrgUnit.closed_at.is_(None))))
    told = set(db.session.execute(select(PeriodReminder.unit_id, PeriodReminder.kind, PeriodReminder.period).where(
        or_(*[and_(PeriodReminder.kind == plan.kind, PeriodReminder.period == plan.window.key)
              for plan in plans]))).all())
    windows = {plan.kind: plan.window for plan in plans}
    alerts, markers = [], []
    for unit_id, unit_kind, unit_name in units:
        for row in _rows(unit_id, unit_kind, plans, counts, branch_kinds):
            window = windows[row["kind"]]
            if row["met"] or (unit_id, row["kind"], window.key) in told:
                continue
            markers.append({"unit_id": unit_id, "kind": row["kind"], "period": window.key, "created_at": now})
            alerts.append(_shortfall_alert(unit_id, unit_name, row, window))
    if markers:  # one statement for every marker (thousands of units on the first scan of a period)
        db.session.execute(insert(PeriodReminder), markers)
    return alerts


def _shortfall_alert(unit_id: int, unit_name: str, row: dict, window: Period) -> tk.Alert:
    last_day = window.end - timedelta(days=1)
    message = _l("%(unit)s: %(held)s of %(required)s %(kind)s held in %(period)s, which ends on %(date)s",
                 unit=unit_name, held=row["held"], required=row["required"], kind=KIND_LABELS[row["kind"]],
                 period=window.label, date=last_day.isoformat())
    return tk.Alert("meetings.compliance", unit_id, None, message,
                    url=tk.path_for("meetings_manage.compliance", unit=unit_id, period=window.key),
                    permission="meetings.manage")


def _remind_members(now: datetime) -> list[tk.Alert]:
    hours = int(tk.get_setting(PLUGIN, "meeting_reminder_hours") or 0)
    if not hours:
        return []
    due = db.session.scalars(select(Meeting).where(
        Meeting.status == "notified", Meeting.reminded_at.is_(None), Meeting.starts_at > now,
        Meeting.starts_at <= now + timedelta(hours=hours)).order_by(Meeting.starts_at, Meeting.id)).all()
    alerts = []
    for meeting in due:
        meeting.reminded_at = now  # the marker: told once, even when nobody is left to tell
        accounts = tuple(row.member.account_id for row in meeting.attendees
                         if row.status == "expected" and row.member.account_id)
        if accounts:
            alerts.append(tk.Alert(
                "meetings.starts_soon", meeting.unit_id, None,
                _l("%(kind)s “%(topic)s” starts at %(time)s: %(place)s", kind=KIND_LABELS[meeting.kind],
                   topic=meeting.topic, time=meetings.local_text(meeting.starts_at),
                   place=meeting.place or MODE_LABELS[meeting.mode]),
                url=meetings.meeting_url(meeting), account_ids=accounts))
    return alerts


# -- the register and the minutes book -------------------------------------------------

def _meetings_in(unit: tk.OrgUnit, period: Period, statuses: Iterable[str]) -> list[Meeting]:
    """The unit's own meetings starting in ``period`` (attendees with their members loaded: two queries)."""
    start, end = period.bounds()
    return list(db.session.scalars(select(Meeting).where(
        Meeting.unit_id == unit.id, Meeting.status.in_(tuple(statuses)), Meeting.starts_at >= start,
        Meeting.starts_at < end).order_by(Meeting.starts_at, Meeting.id)))


def register_xlsx(unit: tk.OrgUnit, period: Period) -> Response:
    """The register of the unit's meetings in ``period`` (every meeting called, held or cancelled; no drafts).

    The heading gives the unit, the period and the compliance figures; one row per meeting.
    """
    statuses = [status for status in STATUS_LABELS if status != "draft"]
    meetings = _meetings_in(unit, period, statuses)
    headers = [_("Starts"), _("Kind"), _("Topic"), _("Mode"), _("Place"), _("Host"), _("Recorder"), _("Lecturer"),
               _("Expected"), _("Present"), _("Online"), _("On leave"), _("Absent"), _("Status")]
    rows = []
    for meeting in meetings:
        counts = attendance.summary(meeting)
        rows.append([meeting.starts_at, tk.label(KIND_LABELS, meeting.kind), meeting.topic,
                     tk.label(MODE_LABELS, meeting.mode), meeting.place, meeting.host_name, meeting.recorder_name,
                     meeting.lecturer_name, counts["expected"], counts["present"], counts["online"], counts["leave"],
                     counts["absent"], tk.label(STATUS_LABELS, meeting.status)])
    heading = [_("Meeting register"), f"{unit.name} · {period.label}", *_compliance_lines(unit, period)]
    return tk.xlsx_response(f"{_('Meeting register')} {unit.name} {period.key}.xlsx", headers, rows,
                            title=period.key, heading=heading)


def _compliance_lines(unit: tk.OrgUnit, period: Period) -> list[str]:
    lines = []
    for row in unit_compliance(unit, period):
        line = _("%(kind)s: %(held)s held of %(required)s required", kind=KIND_LABELS[row["kind"]],
                 held=row["held"], required=row["required"])
        if row["window"] != period.key:
            line += " (" + str(parse_period(row["window"]).label) + ")"
        lines.append(line)
    return lines


def minutes_book_pdf(unit: tk.OrgUnit, period: Period) -> Response:
    """The printable minutes book of the meetings the unit held in ``period``: one meeting per page."""
    meetings = _meetings_in(unit, period, HELD_STATUSES)
    pdf = tk.new_pdf()
    if not meetings:
        _page_header(pdf, unit, period)
        tk.write_lines(pdf, 20, 170, 8, _("No meeting was held in this period."))
    for index, meeting in enumerate(meetings):
        if index:
            pdf.add_page()
        _page_header(pdf, unit, period)
        _minutes_page(pdf, meeting)
    book = _("Minutes book")
    return tk.pdf_response(pdf, f"{book} {unit.name} {period.key}.pdf")


def _page_header(pdf, unit: tk.OrgUnit, period: Period) -> None:
    pdf.set_font_size(9)
    pdf.set_text_color(110, 110, 110)
    book = _("Minutes book")
    tk.write_lines(pdf, 20, 170, 5, f"{unit.name} · {book} · {period.label}", align="R")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _minutes_page(pdf, meeting: Meeting) -> None:
    x, width = 20, 170
    pdf.set_font_size(16)
    tk.write_lines(pdf, x, width, 9, meeting.topic, align="C")
    pdf.ln(2)
    pdf.set_font_size(11)
    facts = [
        (_("Kind"), tk.label(KIND_LABELS, meeting.kind)),
        (_("Time"), f"{meetings.local_text(meeting.starts_at)} – {meetings.local_text(meeting.ends_at)}"),
        (_("Place"), meeting.place or ""), (_("Mode"), tk.label(MODE_LABELS, meeting.mode)),
        (_("Host"), meeting.host_name or ""), (_("Recorder"), meeting.recorder_name or ""),
        (_("Lecturer"), meeting.lecturer_name or ""),
    ]
    for name, value in facts:
        tk.write_lines(pdf, x, width, 6.5, f"{name}: {value}")
    for title, text in ((_("Agenda"), meeting.agenda), (_("Minutes"), meeting.minutes),
                        (_("Decisions"), meeting.decisions)):
        _section(pdf, title, text or "—")
    _section(pdf, _("Attendance"), "\n".join(_attendance_lines(meeting)))


def _section(pdf, title: str, text: str) -> None:
    pdf.ln(2)
    pdf.set_font_size(13)
    tk.write_lines(pdf, 20, 170, 8, title)
    pdf.set_font_size(11)
    tk.write_lines(pdf, 20, 170, 6.5, text)


def _attendance_lines(meeting: Meeting) -> list[str]:
    """Names by attendance (a held meeting: everyone not present, online or on leave was absent); leave reasons."""
    groups: dict[str, list[str]] = {"present": [], "online": [], "leave": [], "absent": []}
    for row in sorted(meeting.attendees, key=lambda row: row.member.name):
        status = row.status if row.status in groups else "absent"
        name = row.member.name
        if status == "leave" and row.leave_reason:
            name = _("%(name)s (%(reason)s)", name=name, reason=row.leave_reason)
        groups[status].append(name)
    return [_("%(status)s (%(count)s): %(names)s", status=ATTENDANCE_LABELS[status], count=len(names),
              names="、".join(names) or "—") for status, names in groups.items()]

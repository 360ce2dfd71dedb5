"""When reports are due: the period per stage (settings), reminders before a period ends, the overdue list."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Response
from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk
from portal_reports.models import Report, ReportReminder

FREQUENCY_LABELS = {"quarterly": _l("Quarterly"), "half_yearly": _l("Every half year"), "yearly": _l("Yearly")}
#: ``{key: (setting label, default)}``: ``away`` applies to full members away from home; the others by stage.
STAGE_DEFAULTS = {
    "away": (_l("Report frequency: members away from home"), "quarterly"),
    "full": (_l("Report frequency: full members at home"), "yearly"),
    "probationary": (_l("Report frequency: probationary members"), "quarterly"),
    "candidate": (_l("Report frequency: candidates"), "quarterly"),
    "activist": (_l("Report frequency: activists"), "quarterly"),
}
db = tk.db
#: Months in each report period.
FREQUENCY_MONTHS = {"quarterly": 3, "half_yearly": 6, "yearly": 12}
PLUGIN = "reports"
_KEY = re.compile(r"^(\d{4})(?:-Q([1-4])|-H([12]))?$")
_YEARS = range(1900, 3000)


@dataclass(frozen=True)
class Period:
    """A report period in local days: ``start`` inclusive, ``end`` exclusive; ``key`` 2026-Q4, 2026-H2 or 2026."""

    key: str
    start: date
    end: date
    months: int

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return period_of(self.start - timedelta(days=1), self.months)


def period_of(day: date, months: int) -> Period:
    """The period of ``months`` (3, 6 or 12) containing ``day``."""
    first = (day.month - 1) // months * months + 1
    last = first + months - 1
    end = date(day.year + last // 12, last % 12 + 1, 1)
    key = {3: f"{day.year}-Q{(first - 1) // 3 + 1}", 6: f"{day.year}-H{(first - 1) // 6 + 1}"}.get(months, str(day.year))
    return Period(key, date(day.year, first, 1), end, months)


def parse_period(key: str | None) -> Period | None:
    """The period a key names (``2026-Q4``, ``2026-H2``, ``2026``), or None when it names none."""
    match = _KEY.match((key or "").strip()) if isinstance(key, str) else None
    if match is None or int(match.group(1)) not in _YEARS:
        return None
    year, quarter, half = int(match.group(1)), match.group(2), match.group(3)
    if quarter:
        return period_of(date(year, int(quarter) * 3, 1), 3)
    if half:
        return period_of(date(year, int(half) * 6, 1), 6)
    return period_of(date(year, 1, 1), 12)


def frequency_for(member: tk.Member) -> str | None:
    """How often ``member`` reports: ``frequency_away`` for full members away, else by stage; None for applicants."""
    if member.stage not in STAGE_DEFAULTS:
        return None
    key = "away" if member.stage == "full" and member.is_away else member.stage
    value = tk.get_setting(PLUGIN, f"frequency_{key}") or STAGE_DEFAULTS[key][1]
    return value if value in FREQUENCY_MONTHS else None


def current_period(member: tk.Member, today: date | None = None) -> Period | None:
    """The period ``member`` reports for today (local), or None when they write no reports."""
    freq = frequency_for(member)
    return period_of(today or tk.local_today(), FREQUENCY_MONTHS[freq]) if freq else None


def allowed_periods(member: tk.Member, today: date | None = None) -> list[Period]:
    """The periods ``member`` may write for: the current one and the one before (a late report)."""
    current = current_period(member, today)
    return [current, current.previous()] if current else []


def writable_periods(member: tk.Member, now: datetime | None = None) -> list[str]:
    """Keys of the periods ``member`` may write for at ``now``: the current one, then the previous one."""
    return [period.key for period in allowed_periods(member, tk.local_today(now or tk.utcnow()))]


def check_period(member: tk.Member, key: str | None, today: date | None = None) -> Period:
    """The period ``key`` names if ``member`` may write for it now; tk.Invalid otherwise."""
    allowed = allowed_periods(member, today)
    if not allowed:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"period": _("You have no personal reports to write at your stage.")})
    period = parse_period(key)
    if period is None or period not in allowed:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"period": _("Choose the period %(current)s or %(previous)s.", current=allowed[0].key,
                                      previous=allowed[1].key)})
    return period


# -- who has not reported ----------------------------------------------------------------

def _reporting_members(unit_ids: list[int]) -> list[tk.Member]:
    """Members whose home unit is one of ``unit_ids`` and who write reports at their stage, by name."""
    return list(db.session.scalars(select(tk.Member).where(
        tk.Member.home_unit_id.in_(unit_ids), tk.Member.stage.in_(tuple(STAGE_DEFAULTS)))
        .order_by(tk.Member.name, tk.Member.id)).unique())


def _submitted_keys(member_ids: list[int], keys: set[str]) -> set[tuple[int, str]]:
    """``(member_id, period)`` pairs among ``keys`` that have a report past the draft (one query)."""
    if not member_ids or not keys:
        return set()
    rows = db.session.execute(select(Report.member_id, Report.period).where(
        Report.member_id.in_(member_ids), Report.period.in_(keys), Report.status != "draft"))
    return {(row.member_id, row.period) for row in rows}


def missing(unit: tk.OrgUnit, period_key: str) -> list[tk.Member]:
    """Members of the unit's subtree who owe a report for ``period_key`` (their frequency's period) and sent none.

    A member whose frequency has periods of another length does not owe one for this key.
    """
    period = parse_period(period_key)
    if period is None:
        return []
    members = [m for m in _reporting_members(tk.subtree_ids(unit))
               if FREQUENCY_MONTHS.get(frequency_for(m) or "") == period.months]
    done = _submitted_keys([m.id for m in members], {period.key})
    return [m for m in members if (m.id, period.key) not in done]


def overdue(unit: tk.OrgUnit, now: datetime | None = None) -> list[dict]:
    """Members of the unit's subtree whose PREVIOUS period has no submitted report, by stage then name.

    Each row: ``{"member", "stage", "period"}`` (the period key they owe). Two queries.
    """
    today = tk.local_today(now or tk.utcnow())
    rows = []
    for member in _reporting_members(tk.subtree_ids(unit)):
        current = current_period(member, today)
        if current is not None:
            rows.append({"member": member, "stage": member.stage, "period": current.previous().key})
    done = _submitted_keys([row["member"].id for row in rows], {row["period"] for row in rows})
    order = {stage: index for index, stage in enumerate(tk.STAGES)}
    rows = [row for row in rows if (row["member"].id, row["period"]) not in done]
    return sorted(rows, key=lambda row: (order.get(row["stage"], 0), row["member"].name, row["member"].id))


def overdue_xlsx(unit: tk.OrgUnit, now: datetime | None = None) -> Response:
    """The overdue list of the unit's subtree (at ``now``) as an ``.xlsx`` attachment."""
    rows = [(row["member"].name, tk.label(tk.STAGE_LABELS, row["stage"]), row["member"].home_unit.name,
             row["period"]) for row in overdue(unit, now)]
    return tk.xlsx_response(f"reports-overdue-{unit.id}.xlsx",
                            [_("Name"), _("Stage"), _("Home unit"), _("Period owed")], rows,
                            title=_("Overdue reports"), heading=[unit.name])


# -- reminders ---------------------------------------------------------------------------

def scan(now: datetime) -> list[tk.Alert]:
    """Members whose current period ends within ``reminder_days`` and who sent nothing for it: one alert each.

    Told once per member and period (a :class:`ReportReminder` row). A few queries however many members.
    """
    days = int(tk.get_setting(PLUGIN, "reminder_days") or 0)
    if not days:
        return []
    today = tk.local_today(now)
    candidates = []
    for member in db.session.scalars(select(tk.Member).where(
            tk.Member.stage.in_(tuple(STAGE_DEFAULTS)), tk.Member.account_id.is_not(None))).unique():
        period = current_period(member, today)
        if period is not None and (period.end - today).days <= days:
            candidates.append((member, period))
    ids = [member.id for member, _period in candidates]
    done = _submitted_keys(ids, {period.key for _m, period in candidates})
    told = {(row.member_id, row.period) for row in db.session.execute(
        select(ReportReminder.member_id, ReportReminder.period).where(ReportReminder.member_id.in_(ids)))} if ids else set()
    alerts = []
    for member, period in candidates:
        if (member.id, period.key) in done or (member.id, period.key) in told:
            continue
        db.session.add(ReportReminder(member_id=member.id, period=period.key, created_at=now))
        last_day = period.end - timedelta(days=1)
        alerts.append(tk.Alert("reports.due", member.home_unit_id, member.id,
                               _l("Your personal report for %(period)s is due by %(day)s.", period=period.key,
                                  day=last_day.isoformat()),
                               url=tk.path_for("reports.mine"), account_ids=(member.account_id,)))
    return alerts

"""The secretary's participation report and the unit's monthly totals."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select, union_all

from portal import toolkit as tk
from portal_points import periods
from portal_points.leaderboard import hosted_conditions
from portal_points.models import PointsEntry, PointsTotal, PointsUnitTotal

db = tk.db


def members_query(unit, *, include_hosted: bool = True):
    """Members whose home branch — or, with ``include_hosted``, host branch — lies under ``unit``."""
    home = tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))
    condition = or_(home, tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))) if include_hosted else home
    return select(tk.Member).where(condition).order_by(tk.Member.name, tk.Member.id)


@dataclass
class ParticipationRow:
    member: object
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    last_points_on: date | None = None

    @property
    def zero(self) -> bool:
        return self.total <= 0


def participation(members: list, start: date, end: date) -> list[ParticipationRow]:
    """Points by category between ``start`` and ``end`` (local days, inclusive) for each member."""
    rows = {m.id: ParticipationRow(member=m) for m in members}
    if not rows:
        return []
    lo, hi = periods.day_key(start), periods.day_key(end)
    ids = list(rows)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        result = db.session.execute(
            select(PointsEntry.member_id, PointsEntry.category, func.sum(PointsEntry.points), func.max(PointsEntry.day_key))
            .where(PointsEntry.member_id.in_(part), PointsEntry.day_key.between(lo, hi))
            .group_by(PointsEntry.member_id, PointsEntry.category))
        for member_id, category, points, last_key in result:
            row = rows[member_id]
            row.by_category[category] = row.by_category.get(category, 0) + int(points or 0)
            row.total += int(points or 0)
            last = periods.key_date(last_key) if last_key else None
            if last and (row.last_points_on is None or last > row.last_points_on):
                row.last_points_on = last
    return list(rows.values())


def categories_of(rows: list[ParticipationRow]) -> list[str]:
    seen = {category for row in rows for category in row.by_category}
    return sorted(seen)


def unit_monthly(unit, now: datetime | None = None, months: int = 12) -> list[tuple[int, int]]:
    """``[(YYYYMM, points)]`` earned over the last ``months`` months in ``unit``'s subtree and by the members
    hosted in it from elsewhere (one statement)."""
    keys = periods.last_months(now or tk.utcnow(), months)
    ids = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    own = (select(PointsUnitTotal.period_key, func.sum(PointsUnitTotal.points))
           .where(PointsUnitTotal.period == "m", PointsUnitTotal.period_key.between(keys[0], keys[-1]),
                  PointsUnitTotal.unit_id.in_(ids))
           .group_by(PointsUnitTotal.period_key))
    hosted = (select(PointsTotal.period_key, func.sum(PointsTotal.points))
              .where(PointsTotal.period == "m", PointsTotal.period_key.between(keys[0], keys[-1]),
                     *hosted_conditions(unit))
              .group_by(PointsTotal.period_key))
    rows: dict[int, int] = {}
    for key, points in db.session.execute(union_all(own, hosted)):
        rows[key] = rows.get(key, 0) + int(points or 0)
    return [(key, rows.get(key, 0)) for key in keys]


def month_points(unit, now: datetime | None = None) -> tuple[int, int]:
    """``(points, of which hosted)`` this month under ``unit`` (one statement, for the unit widget).

    ``points`` is what the subtree's own members earned (credited where it was
    earned) plus what members hosted in it from elsewhere earned.
    """
    key = periods.current_key("month", now or tk.utcnow())
    ids = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    own, hosted = db.session.execute(select(
        select(func.sum(PointsUnitTotal.points)).where(PointsUnitTotal.period == "m", PointsUnitTotal.period_key == key,
                                                       PointsUnitTotal.unit_id.in_(ids)).scalar_subquery(),
        select(func.sum(PointsTotal.points)).where(PointsTotal.period == "m", PointsTotal.period_key == key,
                                                   *hosted_conditions(unit)).scalar_subquery())).one()
    return int(own or 0) + int(hosted or 0), int(hosted or 0)


def parse_range(args, now: datetime) -> tuple[date, date, bool]:
    """``from``/``to`` query arguments (ISO dates) or this year so far; the flag says they were valid."""
    default_start, default_end = periods.period_bounds("year", now)
    try:
        start = date.fromisoformat(args["from"]) if args.get("from") else default_start
        end = date.fromisoformat(args["to"]) if args.get("to") else default_end
    except ValueError:
        return default_start, default_end, False
    if end < start or (end - start).days > 3660:
        return default_start, default_end, False
    return start, end, True

"""The care dashboard's figures per receiving unit, and the unit widget's counts."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select

from portal import toolkit as tk

from .models import CareRequest
from .sla import overdue_condition
from .vocabulary import OPEN_STATUSES


@dataclass
class UnitFigures:
    unit_id: int | None
    name: str
    total: int = 0
    open: int = 0
    overdue: int = 0
    median_response_hours: float | None = None
    median_resolution_hours: float | None = None
    satisfaction: float | None = None
    ratings: int = 0


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 3600


def _figures(unit_id, name, rows, now) -> UnitFigures:
    fig = UnitFigures(unit_id=unit_id, name=name, total=len(rows))
    responses, resolutions, ratings = [], [], []
    for row in rows:
        if row.status in OPEN_STATUSES:
            fig.open += 1
            if (row.first_response_at is None and row.respond_due_at < now) or row.resolve_due_at < now:
                fig.overdue += 1
        if (hours := _hours(row.created_at, row.first_response_at)) is not None:
            responses.append(hours)
        if (hours := _hours(row.created_at, row.resolved_at)) is not None:
            resolutions.append(hours)
        if row.rating:
            ratings.append(row.rating)
    fig.median_response_hours = round(statistics.median(responses), 1) if responses else None
    fig.median_resolution_hours = round(statistics.median(resolutions), 1) if resolutions else None
    fig.satisfaction = round(sum(ratings) / len(ratings), 2) if ratings else None
    fig.ratings = len(ratings)
    return fig


def dashboard(unit, *, now: datetime, since: datetime | None = None) -> tuple[UnitFigures, list[UnitFigures]]:
    """Figures for ``unit``'s subtree (total) and per receiving unit in it.

    Open and overdue count every open request; medians and satisfaction cover
    requests filed since ``since`` (default: a year before ``now``).
    """
    since = since or now - timedelta(days=365)
    cols = (CareRequest.unit_id, CareRequest.status, CareRequest.created_at, CareRequest.first_response_at,
            CareRequest.resolved_at, CareRequest.rating, CareRequest.respond_due_at, CareRequest.resolve_due_at)
    query = (select(*cols, tk.OrgUnit.name).join(tk.OrgUnit, CareRequest.unit_id == tk.OrgUnit.id)
             .where(tk.in_subtree(tk.OrgUnit.path, unit.path),
                    or_(CareRequest.created_at >= since, CareRequest.status.in_(OPEN_STATUSES))))
    rows = tk.db.session.execute(query).all()
    by_unit: dict[int, list] = {}
    names: dict[int, str] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
        names[row.unit_id] = row.name
    # Medians and satisfaction only for the window; open/overdue for all open requests.
    def windowed(items):
        return [r for r in items if r.created_at >= since or r.status in OPEN_STATUSES]

    per_unit = [_figures(uid, names[uid], windowed(items), now) for uid, items in by_unit.items()]
    per_unit.sort(key=lambda f: (-f.overdue, -f.open, f.name))
    total = _figures(unit.id, unit.name, rows, now)
    return total, per_unit


def unit_counts(unit, *, now: datetime) -> dict[str, int]:
    """New, open and overdue requests routed into ``unit``'s subtree (for the unit widget), in one statement."""
    open_count, new_count, overdue_count = tk.db.session.execute(
        select(func.count(CareRequest.id),
               func.coalesce(func.sum(case((CareRequest.status == "new", 1), else_=0)), 0),
               func.coalesce(func.sum(case((overdue_condition(now), 1), else_=0)), 0))
        .join(tk.OrgUnit, CareRequest.unit_id == tk.OrgUnit.id)
        .where(tk.in_subtree(tk.OrgUnit.path, unit.path), CareRequest.status.in_(OPEN_STATUSES))).one()
    return {"new": int(new_count or 0), "open": int(open_count or 0), "overdue": int(overdue_count or 0)}

"""Rebuilding the totals tables from the ledger, and keeping members' units current.

The totals are caches of the ledger kept in the same transaction as each
entry; :func:`recompute` proves (and repairs) that, member range by member
range so it runs in bounded memory at 10 million entries.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from portal import toolkit as tk
from portal_points import periods
from portal_points.models import PointsCampaignTotal, PointsEntry, PointsTotal, PointsUnitTotal

db = tk.db
CHUNK = 2000


@dataclass
class Difference:
    table: str
    key: tuple
    stored: int | None
    expected: int | None


@dataclass
class RecomputeReport:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.differences)


def _expand(day_rows) -> dict[tuple, int]:
    """``{(owner, code, key): points}`` from ``(owner, day_key, points)`` rows."""
    totals: dict[tuple, int] = defaultdict(int)
    for owner, dkey, points in day_rows:
        for code, key in periods.period_keys(int(dkey)).items():
            totals[(owner, code, key)] += int(points or 0)
    return totals


def _diff(table: str, stored: dict[tuple, int], expected: dict[tuple, int], report: RecomputeReport) -> list[tuple]:
    changed = []
    for key in stored.keys() | expected.keys():
        report.checked += 1
        if stored.get(key) != expected.get(key):
            report.differences.append(Difference(table, key, stored.get(key), expected.get(key)))
            changed.append(key)
    return changed


def _member_chunk(lo: int, hi: int, report: RecomputeReport, fix: bool) -> None:
    expected = _expand(db.session.execute(
        select(PointsEntry.member_id, PointsEntry.day_key, func.sum(PointsEntry.points))
        .where(PointsEntry.member_id.between(lo, hi)).group_by(PointsEntry.member_id, PointsEntry.day_key)))
    stored = {(m, code, key): points for m, code, key, points in db.session.execute(
        select(PointsTotal.member_id, PointsTotal.period, PointsTotal.period_key, PointsTotal.points)
        .where(PointsTotal.member_id.between(lo, hi)))}
    changed = _diff("points_total", stored, expected, report)
    if not fix or not changed:
        return
    units = dict(db.session.execute(select(tk.Member.id, tk.Member.home_unit_id)
                                    .where(tk.Member.id.in_({key[0] for key in changed}))).all())
    for member_id, code, key in changed:
        condition = [PointsTotal.member_id == member_id, PointsTotal.period == code, PointsTotal.period_key == key]
        if (member_id, code, key) not in expected:
            db.session.execute(delete(PointsTotal).where(*condition))
        elif (member_id, code, key) in stored:
            db.session.execute(update(PointsTotal).where(*condition).values(points=expected[(member_id, code, key)]))
        else:
            db.session.add(PointsTotal(member_id=member_id, period=code, period_key=key, unit_id=units[member_id],
                                       points=expected[(member_id, code, key)]))
    db.session.flush()


def _unit_totals(report: RecomputeReport, fix: bool) -> None:
    expected = _expand(db.session.execute(
        select(PointsEntry.unit_id, PointsEntry.day_key, func.sum(PointsEntry.points))
        .where(PointsEntry.unit_id.is_not(None)).group_by(PointsEntry.unit_id, PointsEntry.day_key)))
    stored = {(u, code, key): points for u, code, key, points in db.session.execute(
        select(PointsUnitTotal.unit_id, PointsUnitTotal.period, PointsUnitTotal.period_key, PointsUnitTotal.points))}
    changed = _diff("points_unit_total", stored, expected, report)
    if fix:
        for unit_id, code, key in changed:
            condition = [PointsUnitTotal.unit_id == unit_id, PointsUnitTotal.period == code,
                         PointsUnitTotal.period_key == key]
            db.session.execute(delete(PointsUnitTotal).where(*condition))
            if (unit_id, code, key) in expected:
                db.session.add(PointsUnitTotal(unit_id=unit_id, period=code, period_key=key,
                                               points=expected[(unit_id, code, key)]))
        db.session.flush()


def _campaign_totals(report: RecomputeReport, fix: bool, member_id: int | None) -> None:
    query = select(PointsEntry.campaign_id, PointsEntry.member_id, func.sum(PointsEntry.points)).where(
        PointsEntry.campaign_id.is_not(None)).group_by(PointsEntry.campaign_id, PointsEntry.member_id)
    stored_query = select(PointsCampaignTotal.campaign_id, PointsCampaignTotal.member_id, PointsCampaignTotal.points)
    if member_id is not None:
        query = query.where(PointsEntry.member_id == member_id)
        stored_query = stored_query.where(PointsCampaignTotal.member_id == member_id)
    expected = {(c, m): int(p or 0) for c, m, p in db.session.execute(query)}
    stored = {(c, m): p for c, m, p in db.session.execute(stored_query)}
    changed = _diff("points_campaign_total", stored, expected, report)
    if fix:
        for campaign_id, mid in changed:
            db.session.execute(delete(PointsCampaignTotal).where(PointsCampaignTotal.campaign_id == campaign_id,
                                                                 PointsCampaignTotal.member_id == mid))
            if (campaign_id, mid) in expected:
                member = db.session.get(tk.Member, mid)
                db.session.add(PointsCampaignTotal(campaign_id=campaign_id, member_id=mid, unit_id=member.home_unit_id,
                                                   points=expected[(campaign_id, mid)]))
        db.session.flush()


def recompute(member_id: int | None = None, *, fix: bool = True, chunk: int = CHUNK) -> RecomputeReport:
    """Compare every total with the ledger (one member's with ``member_id``) and repair differences.

    The caller commits. Branch totals are checked only on a full run.
    """
    report = RecomputeReport()
    if member_id is not None:
        _member_chunk(member_id, member_id, report, fix)
        _campaign_totals(report, fix, member_id)
        return report
    top = max(db.session.scalar(select(func.max(PointsEntry.member_id))) or 0,
              db.session.scalar(select(func.max(PointsTotal.member_id))) or 0)
    lo = 1
    while lo <= top:
        _member_chunk(lo, lo + chunk - 1, report, fix)
        lo += chunk
    _unit_totals(report, fix)
    _campaign_totals(report, fix, None)
    sync_member_units()
    return report


def sync_member_units() -> int:
    """Point every member's totals at their current home branch (after moves); returns rows changed."""
    current = select(tk.Member.home_unit_id).where(tk.Member.id == PointsTotal.member_id).scalar_subquery()
    result = db.session.execute(update(PointsTotal).where(PointsTotal.unit_id != current).values(unit_id=current)
                                .execution_options(synchronize_session=False))
    ccurrent = select(tk.Member.home_unit_id).where(tk.Member.id == PointsCampaignTotal.member_id).scalar_subquery()
    db.session.execute(update(PointsCampaignTotal).where(PointsCampaignTotal.unit_id != ccurrent)
                       .values(unit_id=ccurrent).execution_options(synchronize_session=False))
    return result.rowcount or 0

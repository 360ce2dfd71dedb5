"""The mobility statistics of a unit's subtree (docs/domain.md, "Mobility" and "Figures secretaries report")."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, select

from portal import toolkit as tk

from .common import day_of, months_between
from .models import Outflow

db = tk.db


AGE_BANDS = ("under_35", "35_45", "45_55", "55_plus", "unknown")
DURATION_BANDS = ("under_6m", "6_12m", "1_2y", "2y_plus")


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 35:
        return "under_35"
    if age < 45:
        return "35_45"
    if age < 55:
        return "45_55"
    return "55_plus"


def duration_band(months: int) -> str:
    if months < 6:
        return "under_6m"
    if months < 12:
        return "6_12m"
    if months < 24:
        return "1_2y"
    return "2y_plus"


def _province_map(unit_ids: set[int]) -> dict[int, str | None]:
    """Each unit's province (its own or the nearest ancestor's), with one query for all ancestors."""
    units = {u.id: u for u in db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(unit_ids)))}
    ancestor_ids = {a for u in units.values() for a in u.ancestor_ids()}
    provinces = dict(db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.province)
                                        .where(tk.OrgUnit.id.in_(ancestor_ids))).all())
    result = {}
    for uid, unit in units.items():
        result[uid] = next((provinces.get(a) for a in reversed(unit.ancestor_ids()) if provinces.get(a)), None)
    return result


def unit_stats(unit, now: datetime | None = None, months: int = 12) -> dict:
    """The mobility table of ``unit``'s subtree as secretaries report it (docs/domain.md, "Figures secretaries report").

    Outgoing = members of the subtree with an approved outflow; incoming =
    members hosted in the subtree. Breakdowns are over outgoing members:
    destination province (and in/out of the home unit's province), age band
    (<35, 35–45, 45–55, 55+), education, gender, time away; the trend counts
    outflows started and returns per month over the last ``months`` months.
    """
    now = now or tk.utcnow()
    today = day_of(now)
    subtree = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)).scalar_subquery()
    total = db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.home_unit_id.in_(subtree))) or 0
    rows = db.session.execute(select(Outflow, tk.Member).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status == "approved", tk.Member.home_unit_id.in_(subtree))).all()
    provinces = _province_map({m.home_unit_id for _, m in rows}) if rows else {}
    by_province, ages, education, gender, duration = Counter(), Counter(), Counter(), Counter(), Counter()
    in_province = out_province = 0
    for outflow, member in rows:
        by_province[outflow.destination_province] += 1
        home_province = provinces.get(member.home_unit_id)
        if home_province and outflow.destination_province == home_province:
            in_province += 1
        else:
            out_province += 1
        ages[age_band(age_on(member.birth_date, today))] += 1
        education[member.education or "unknown"] += 1
        gender[member.gender or "unknown"] += 1
        duration[duration_band(max(0, months_between(outflow.start_date, today)))] += 1
    incoming = db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.host_unit_id.in_(subtree))) or 0
    first_month = _add_months(date(today.year, today.month, 1), -(months - 1))
    started = db.session.execute(select(Outflow.start_date).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(("approved", "returned", "transferred")), Outflow.start_date >= first_month,
        tk.Member.home_unit_id.in_(subtree))).scalars().all()
    returned = db.session.execute(select(Outflow.returned_on).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status == "returned", Outflow.returned_on >= first_month,
        tk.Member.home_unit_id.in_(subtree))).scalars().all()
    started_by = Counter(d.strftime("%Y-%m") for d in started)
    returned_by = Counter(d.strftime("%Y-%m") for d in returned if d)
    trend = []
    for index in range(months):
        key = _add_months(first_month, index).strftime("%Y-%m")
        trend.append({"month": key, "outgoing": started_by.get(key, 0), "returned": returned_by.get(key, 0)})
    outgoing = len(rows)
    return {
        "unit": {"id": unit.id, "name": unit.name}, "members": total, "outgoing": outgoing, "incoming": incoming,
        "outgoing_share": round(100.0 * outgoing / total, 1) if total else 0.0,
        "in_province": in_province, "out_of_province": out_province,
        "by_province": dict(sorted(by_province.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
        "age_band": {band: ages.get(band, 0) for band in AGE_BANDS if band != "unknown" or ages.get(band)},
        "education": dict(sorted(education.items(), key=lambda kv: (-kv[1], kv[0]))),
        "gender": dict(sorted(gender.items())),
        "duration": {band: duration.get(band, 0) for band in DURATION_BANDS},
        "trend": trend,
    }


def _add_months(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)

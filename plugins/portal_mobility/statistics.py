"""The mobility statistics of a unit's subtree on any day (docs/domain.md, "Figures secretaries report").

Only members count (full and probationary, ``tk.MEMBER_STAGES``); applicants, activists and
candidates who are away are counted apart (``others_away``). Places are compared by
administrative-division code: "in the province" means the member's current place lies in the
province of the home unit (its own place code or its nearest ancestor's).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, or_, select

from portal import toolkit as tk

from .common import day_of, months_between, setting, unit_province_code
from .models import CheckIn, Move, Outflow, Transfer

db = tk.db


AGE_BANDS = ("under_35", "35_45", "45_55", "55_plus", "unknown")
DEFAULT_DURATION_BANDS = (6, 12, 24)
#: Outflows that were approved at some time: they count on the days they were active.
DECIDED = ("approved", "returned", "transferred")


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


def duration_bounds() -> tuple[int, ...]:
    """The month boundaries of the time-away bands (setting ``duration_bands``, e.g. "6,12,24")."""
    try:
        bounds = tuple(sorted({int(part) for part in str(setting("duration_bands") or "").split(",") if part.strip()}))
    except ValueError:
        bounds = ()
    return tuple(b for b in bounds if b > 0) or DEFAULT_DURATION_BANDS


def _months_text(months: int) -> str:
    return f"{months // 12}y" if months >= 12 and months % 12 == 0 else f"{months}m"


def duration_bands(bounds: tuple[int, ...] | None = None) -> list[tuple[str, int | None, int | None]]:
    """(key, from months, below months) of each band: 6,12,24 → under_6m, 6_12m, 1_2y, 2y_plus."""
    bounds = bounds or duration_bounds()
    bands = [(f"under_{_months_text(bounds[0])}", None, bounds[0])]
    for low, high in zip(bounds, bounds[1:], strict=False):
        if low % 12 == 0 and high % 12 == 0:
            key = f"{low // 12}_{high // 12}y"
        else:
            key = f"{low}_{high}m"
        bands.append((key, low, high))
    bands.append((f"{_months_text(bounds[-1])}_plus", bounds[-1], None))
    return bands


def duration_band(months: int, bounds: tuple[int, ...] = DEFAULT_DURATION_BANDS) -> str:
    """The band of ``months`` away among ``bounds``."""
    for key, _low, high in duration_bands(bounds):
        if high is None or months < high:
            return key
    raise AssertionError("the last band is open")


class _Breakdown:
    """The counts of one row of the table (outgoing or incoming)."""

    def __init__(self, bands: list[tuple[str, int | None, int | None]]) -> None:
        self.bounds = tuple(high for _key, _low, high in bands if high is not None)
        self.total = 0
        self.gender, self.age, self.education = Counter(), Counter(), Counter()
        self.place, self.duration, self.by_province = Counter(), Counter(), Counter()

    def add(self, member, day: date, in_province: bool | None, province_name: str, since: date | None) -> None:
        self.total += 1
        self.gender[member.gender or "unknown"] += 1
        self.age[age_band(age_on(member.birth_date, day))] += 1
        self.education[member.education or "unknown"] += 1
        self.place["unknown" if in_province is None else "in" if in_province else "out"] += 1
        self.by_province[province_name or ""] += 1
        self.duration["unknown" if since is None else duration_band(max(0, months_between(since, day)),
                                                                     self.bounds)] += 1

    def as_dict(self, members: int, bands) -> dict:
        return {"total": self.total, "share": round(100.0 * self.total / members, 1) if members else 0.0,
                "gender": dict(sorted(self.gender.items())), "age_band": _ordered(self.age, AGE_BANDS),
                "education": _by_count(self.education),
                "in_province": self.place["in"], "out_of_province": self.place["out"],
                "province_unknown": self.place["unknown"],
                "by_province": _by_count(self.by_province),
                "duration": _ordered(self.duration, [key for key, _l, _h in bands] + ["unknown"])}


def _ordered(counter: Counter, keys) -> dict:
    """Every key in order, the trailing "unknown" only when it occurs."""
    return {key: counter.get(key, 0) for key in keys if key != "unknown" or counter.get(key)}


def _by_count(counter: Counter) -> dict:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0] or "")))


def _outflows_on(subtree, day: date) -> list[tuple[Outflow, object]]:
    """(outflow, member) of the subtree's members whose outflow was active on ``day``."""
    rows = db.session.execute(select(Outflow, tk.Member).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(DECIDED), Outflow.start_date <= day, tk.member_stage_filter(),
        tk.Member.home_unit_id.in_(subtree), or_(Outflow.returned_on.is_(None), Outflow.returned_on > day))).all()
    transferred = [o.member_id for o, _m in rows if o.status == "transferred"]
    ended = {}
    if transferred:
        for member_id, completed in db.session.execute(select(Transfer.member_id, Transfer.completed_at).where(
                Transfer.member_id.in_(transferred), Transfer.status == "approved")).all():
            if completed is not None:
                ended.setdefault(member_id, []).append(day_of(completed))
    return [(o, m) for o, m in rows if o.status != "transferred"
            or not any(o.start_date <= end <= day for end in ended.get(o.member_id, []))]


def places_on(outflows: list[Outflow], day: date) -> dict[int, str | None]:
    """Where each outflow's member was on ``day``: the last move or check-in up to that day, else the destination.

    Outflows without any recorded change keep their current place (old rows filled by the migration).
    """
    ids = [o.id for o in outflows]
    history: dict[int, list[tuple[date, int, str]]] = {}
    if ids:
        for outflow_id, changed_on, move_id, values in db.session.execute(
                select(Move.outflow_id, Move.changed_on, Move.id, Move.new_values)
                .where(Move.outflow_id.in_(ids), Move.kind.in_(("change", "checkin")))).all():
            if (values or {}).get("place_code"):
                history.setdefault(outflow_id, []).append((changed_on, move_id, values["place_code"]))
    places = {}
    for outflow in outflows:
        moves = sorted(history.get(outflow.id, []))
        before = [code for changed_on, _id, code in moves if changed_on <= day]
        if before:
            places[outflow.id] = before[-1]
        elif moves:
            places[outflow.id] = outflow.destination_code
        else:
            places[outflow.id] = outflow.current_place_code or outflow.destination_code
    return places


class _Provinces:
    """Home units' province codes, each unit looked up once."""

    def __init__(self) -> None:
        self.cache: dict[int, str | None] = {}

    def of(self, unit) -> str | None:
        if unit.id not in self.cache:
            self.cache[unit.id] = unit_province_code(unit)
        return self.cache[unit.id]


def _legacy_code(outflow: Outflow) -> str | None:
    text = (outflow.destination_province or "") + (outflow.destination_city or "")
    return tk.place_from_text(text) if text else None


def _outgoing(subtree, day: date, bands, provinces: _Provinces) -> _Breakdown:
    rows = _outflows_on(subtree, day)
    places = places_on([o for o, _m in rows], day)
    row = _Breakdown(bands)
    for outflow, member in rows:
        code = places.get(outflow.id) or _legacy_code(outflow)
        destination = tk.province_code(code)
        home = provinces.of(member.home_unit)
        in_province = None if not destination or not home else destination == home
        row.add(member, day, in_province, tk.place_name(destination) or outflow.destination_province or "",
                outflow.start_date)
    return row


def _incoming(subtree, day: date, today: date, bands, provinces: _Provinces) -> _Breakdown:
    """Members hosted in the subtree on ``day``: today the hosts on record, earlier the check-ins active then."""
    if day >= today:
        members = list(db.session.scalars(select(tk.Member).where(tk.Member.host_unit_id.in_(subtree),
                                                                  tk.member_stage_filter())))
        hosts = {m.id: m.host_unit for m in members}
    else:
        _start, end = tk.local_day_bounds(day)
        pairs = db.session.execute(select(tk.Member, CheckIn).join(CheckIn, CheckIn.member_id == tk.Member.id).where(
            CheckIn.host_unit_id.in_(subtree), CheckIn.status.in_(("confirmed", "ended")), tk.member_stage_filter(),
            CheckIn.confirmed_at < end, or_(CheckIn.ended_at.is_(None), CheckIn.ended_at >= end))).all()
        hosts = {m.id: c.host_unit for m, c in pairs}
        members = list({m.id: m for m, _c in pairs}.values())
    outflows = {o.member_id: o for o in db.session.scalars(select(Outflow).where(
        Outflow.member_id.in_([m.id for m in members]), Outflow.status.in_(DECIDED), Outflow.start_date <= day,
        or_(Outflow.returned_on.is_(None), Outflow.returned_on > day)))} if members else {}
    row = _Breakdown(bands)
    for member in members:
        home, here = provinces.of(member.home_unit), provinces.of(hosts[member.id])
        in_province = None if not home or not here else home == here
        outflow = outflows.get(member.id)
        row.add(member, day, in_province, tk.place_name(home) or "", outflow.start_date if outflow else None)
    return row


def unit_stats(unit, now: datetime | None = None, months: int = 12, on: date | None = None) -> dict:
    """The mobility table of ``unit``'s subtree as secretaries report it, as it stood on ``on`` (default today).

    ``table`` holds the outgoing and incoming rows (total, share of the subtree's members, gender,
    age band on that day, education, in/out of the province, time away in the ``duration_bands``
    setting's bands). The top-level keys repeat the outgoing row as before; ``trend`` counts outflows
    started and returns per month over the ``months`` months up to that day.
    """
    now = now or tk.utcnow()
    today = day_of(now)
    day = on or today
    subtree = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)).scalar_subquery()
    in_subtree = tk.Member.home_unit_id.in_(subtree)
    total = db.session.scalar(select(func.count(tk.Member.id)).where(in_subtree, tk.member_stage_filter())) or 0
    others_away = db.session.scalar(select(func.count(tk.Member.id)).where(
        in_subtree, ~tk.member_stage_filter(), tk.Member.is_away.is_(True))) or 0
    bands = duration_bands()
    provinces = _Provinces()
    outgoing = _outgoing(subtree, day, bands, provinces).as_dict(total, bands)
    incoming = _incoming(subtree, day, today, bands, provinces).as_dict(total, bands)
    return {
        "unit": {"id": unit.id, "name": unit.name}, "on": day.isoformat(), "members": total,
        "others_away": others_away,
        "outgoing": outgoing["total"], "incoming": incoming["total"], "outgoing_share": outgoing["share"],
        "in_province": outgoing["in_province"], "out_of_province": outgoing["out_of_province"],
        "by_province": outgoing["by_province"], "age_band": outgoing["age_band"],
        "education": outgoing["education"], "gender": outgoing["gender"],
        "duration": {key: value for key, value in outgoing["duration"].items() if key != "unknown"},
        "duration_bands": [{"key": key, "from_months": low, "below_months": high} for key, low, high in bands],
        "table": {"outgoing": outgoing, "incoming": incoming},
        "trend": _trend(subtree, day, months),
    }


def _trend(subtree, day: date, months: int) -> list[dict]:
    """Outflows of members started and returns, per month, over the ``months`` months up to ``day``."""
    first_month = _add_months(date(day.year, day.month, 1), -(months - 1))
    members = [tk.Member.home_unit_id.in_(subtree), tk.member_stage_filter()]
    started = db.session.execute(select(Outflow.start_date).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(DECIDED), Outflow.start_date >= first_month, Outflow.start_date <= day,
        *members)).scalars().all()
    returned = db.session.execute(select(Outflow.returned_on).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status == "returned", Outflow.returned_on >= first_month, Outflow.returned_on <= day,
        *members)).scalars().all()
    started_by = Counter(d.strftime("%Y-%m") for d in started)
    returned_by = Counter(d.strftime("%Y-%m") for d in returned if d)
    trend = []
    for index in range(months):
        key = _add_months(first_month, index).strftime("%Y-%m")
        trend.append({"month": key, "outgoing": started_by.get(key, 0), "returned": returned_by.get(key, 0)})
    return trend


def _add_months(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)

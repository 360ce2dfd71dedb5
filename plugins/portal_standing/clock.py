"""The clock of the 6-month rule: months without each kind of act, the pause of leave, and the step.

A *dimension* (``branch_life``, ``dues``, ``work``) is kept up by the activity verbs plugins declare
through ``portal_standing_verbs``; a dimension nobody declares (its plugin is disabled) is ``None``
and never counts. For each member (full or probationary) and dimension the *gap* starts at the later
of the local day of the last act and the member's start (``joined_on``, else the day the record was
made). Approved leave pauses the count: the days of leave inside the gap are added to its start
(leave days are subtracted, then the rest is floored to whole calendar months), so a member back from
three months of illness has their three months back. The months of a gap are whole calendar months:
from 15 May, the first month is complete on 15 June.

The rule is OR: the *step* is decided by the longest gap of any dimension (``reminder``, ``talk``,
``notice``, ``case`` after the months of the ``standing`` settings), and ``since`` is that gap's start.
A gap never starts before the ``counting_from`` setting (the day branches began using the portal), when
set: otherwise, on the first day, every member who joined years ago and has no act in the stream yet
would be a "case" at once.
Everything works on a ``select`` of member ids with three queries (members, last acts, leave).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from portal import toolkit as tk
from portal_standing.models import DIMENSIONS, STEPS, Leave

db = tk.db
PLUGIN = "standing"
#: Each step and the setting saying after how many months without it starts (in ``STEPS`` order).
STEP_SETTINGS = {"reminder": "reminder_months", "talk": "talk_months", "notice": "notice_months",
                 "case": "case_months"}


@dataclass
class Standing:
    """One member's standing: ``months_without`` and ``gap_since`` per dimension (None: not counted), the step."""

    member_id: int
    member: tk.Member | None = None
    months_without: dict[str, int | None] = field(default_factory=dict)
    gap_since: dict[str, date | None] = field(default_factory=dict)
    step: str = "none"
    #: The start of the longest gap (the one that decides the step); None when no dimension is counted.
    since: date | None = None

    @property
    def longest(self) -> int:
        """The most months without of any counted dimension (0 when none)."""
        return max((months for months in self.months_without.values() if months is not None), default=0)

    def reasons(self) -> dict[str, int]:
        """``{dimension: months}`` of the dimensions at one month or more (why the member is at their step)."""
        return {dim: months for dim, months in self.months_without.items() if months}


def verbs() -> dict[str, set[str]]:
    """``{dimension: verbs}`` merged from every enabled plugin's ``portal_standing_verbs`` (unknown dimensions dropped)."""
    merged: dict[str, set[str]] = {}
    for answer in tk.call_hook("portal_standing_verbs"):
        for dimension, names in (answer or {}).items():
            if dimension in DIMENSIONS:
                merged.setdefault(dimension, set()).update(names)
    return merged


def dimensions() -> tuple[str, ...]:
    """The dimensions some enabled plugin declares verbs for, in ``DIMENSIONS`` order (the others are not counted)."""
    declared = verbs()
    return tuple(dim for dim in DIMENSIONS if dim in declared)


def thresholds() -> dict[str, int]:
    """``{step: months}`` from the ``standing`` settings."""
    return {step: int(tk.get_setting(PLUGIN, key)) for step, key in STEP_SETTINGS.items()}


def reached_steps(months: int, limits: dict[str, int] | None = None) -> list[str]:
    """Every step ``months`` without has reached, lowest first."""
    limits = thresholds() if limits is None else limits
    return [step for step in STEPS[1:] if months >= limits[step]]


def step_for(months: int, limits: dict[str, int] | None = None) -> str:
    """The step ``months`` without has reached: ``none`` below the reminder."""
    reached = reached_steps(months, limits)
    return reached[-1] if reached else "none"


#: Whole calendar months (the toolkit's one rule; kept under this name for the clock's readers).
whole_months = tk.whole_months


def leave_days(leaves: list[tuple[date, date | None]], start: date, today: date) -> int:
    """Days from ``start`` to ``today`` (inclusive of ``start``) covered by ``leaves`` (overlaps counted once)."""
    covered: set[date] = set()
    for first, last in leaves:
        first, last = max(first, start), min(last or today, today)
        covered.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return len(covered)


def months_without(last_act: date | None, start: date, leaves: list[tuple[date, date | None]],
                   today: date) -> tuple[int, date]:
    """``(months, gap start)`` of one dimension: from the later of ``last_act`` and ``start``, leave paused."""
    since = max(last_act, start) if last_act else start
    paused = leave_days(leaves, since, today)
    return whole_months(since + timedelta(days=paused), today), since


def counted_members():
    """A ``select`` of the ids of the members the rule applies to: full and probationary."""
    return select(tk.Member.id).where(tk.member_stage_filter())


def members_in(unit: tk.OrgUnit):
    """A ``select`` of the ids of the counted members whose home branch is in ``unit``'s subtree."""
    return counted_members().where(
        tk.Member.home_unit_id.in_(select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))))


def _last_acts(members, declared: dict[str, set[str]], until: datetime | None = None) -> dict[tuple[int, str], datetime]:
    """``{(member id, dimension): last act}`` (before ``until`` when given, so a past day's standing ignores later
    acts): one grouped query, a CASE mapping each verb to its dimension."""
    if not declared:
        return {}
    dimension = case(*[(tk.Activity.verb.in_(sorted(names)), dim) for dim, names in declared.items()]).label("dim")
    rows = db.session.execute(
        select(tk.Activity.actor_id, dimension, func.max(tk.Activity.created_at))
        .where(tk.Activity.actor_id.in_(members),
               tk.Activity.verb.in_(sorted(set().union(*declared.values()))),
               tk.Activity.created_at < (until or datetime.max))
        .group_by(tk.Activity.actor_id, dimension))
    return {(actor, dim): at for actor, dim, at in rows}


def _counting_from() -> date | None:
    """The ``counting_from`` setting as a date (None when empty or unreadable)."""
    raw = (tk.get_setting(PLUGIN, "counting_from") or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:  # an admin's typo: count from the stream alone rather than fail every page
        return None


def _leaves(members) -> dict[int, list[tuple[date, date | None]]]:
    found: dict[int, list[tuple[date, date | None]]] = {}
    for member_id, starts_on, ends_on in db.session.execute(
            select(Leave.member_id, Leave.starts_on, Leave.ends_on).where(Leave.member_id.in_(members))):
        found.setdefault(member_id, []).append((starts_on, ends_on))
    return found


def standings(members, now: datetime | None = None, *, until: datetime | None = None) -> dict[int, Standing]:
    """``{member id: Standing}`` of the counted members among ``members`` (a ``select`` of ids): three queries.

    ``until``: count only acts before it — the standing as it was on a past day (the annual review's year end);
    scans and pages leave it out and count every act recorded.
    """
    today = tk.local_today(now)
    declared, limits = verbs(), thresholds()
    ids = select(tk.Member.id).where(tk.Member.id.in_(members), tk.member_stage_filter())
    people = db.session.scalars(select(tk.Member).where(tk.Member.id.in_(ids))).all()
    acts = _last_acts(ids, declared, until)
    leaves, floor = _leaves(ids), _counting_from()
    found = {}
    for member in people:
        member_id = member.id
        start = member.joined_on or tk.local_date(member.created_at)
        standing = Standing(member_id, member)
        for dim in DIMENSIONS:
            if dim not in declared:
                standing.months_without[dim] = standing.gap_since[dim] = None
                continue
            last = acts.get((member_id, dim))
            months, since = months_without(tk.local_date(last) if last else None, max(start, floor or start),
                                           leaves.get(member_id, []), today)
            standing.months_without[dim], standing.gap_since[dim] = months, since
        counted = [dim for dim in DIMENSIONS if standing.months_without[dim] is not None]
        if counted:
            worst = max(counted, key=lambda dim: (standing.months_without[dim], -DIMENSIONS.index(dim)))
            standing.since = standing.gap_since[worst]
            standing.step = step_for(standing.months_without[worst], limits)
        found[member_id] = standing
    return found


def standing_of(member: tk.Member, now: datetime | None = None, *, until: datetime | None = None) -> Standing | None:
    """The member's standing, or None when the rule does not apply to them (applicants, activists); ``until`` as in
    :func:`standings`."""
    return standings(select(tk.Member.id).where(tk.Member.id == member.id), now, until=until).get(member.id)


def standing_in_unit(unit: tk.OrgUnit, now: datetime | None = None) -> list[Standing]:
    """The standing of every counted member of ``unit``'s subtree (by home branch), furthest step first."""
    rows = list(standings(members_in(unit), now).values())
    rows.sort(key=lambda row: (-STEPS.index(row.step), -row.longest, row.member.name, row.member_id))
    return rows


def standing_json(standing: Standing) -> dict:
    """The API shape: ``member_id``, ``months_without`` per dimension, ``step``, ``since``."""
    return {"member_id": standing.member_id, "months_without": dict(standing.months_without), "step": standing.step,
            "since": standing.since.isoformat() if standing.since else None}

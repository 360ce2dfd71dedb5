"""Leaderboards that stay fast at 100 000 members and 10 million ledger entries.

A board reads only ``points_total`` (one row per member and period), never the
ledger. Two indexes serve "top N under a unit for a period":

* ``ix_points_total_rank`` (period, key, points DESC, member, unit): walk the
  period's rows from the top and keep those whose unit lies in the subtree —
  best when the subtree holds a good share of all members (the root, a county);
* ``ix_points_total_unit`` (period, key, unit, points, member): fetch just the
  subtree's rows and sort them — best for a branch or a township.

The query is shaped so each database takes the intended index: ``unit_id + 0``
hides the unit column from the planner, ``points + 0`` hides the order. A
member's rank is ``1 + count(points > mine)`` over the same rows.

A board also lists the members *hosted* in the subtree (``member.host_unit``)
whose home branch lies outside it, marked as hosted; they stay on their home
branch's board too. ``points_total`` is keyed by the home branch, so those rows
are a second, small index scan (``ix_member_host_unit``, then the totals'
primary key by member) joined to the first with ``UNION ALL``: the top N of a
board is within the top N of each part. A hosted member has a rank on both
boards, each counted among that board's rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from typing import Callable, NamedTuple

from portal.toolkit import gettext as _
from sqlalchemy import false, func, literal, select, union_all
from sqlalchemy.orm import aliased, lazyload

from portal import toolkit as tk
from portal_points import periods
from portal_points.models import PERIOD_CODES, PointsCampaignTotal, PointsTotal, PointsUnitTotal

db = tk.db

#: Above this share of all units, scan by points and filter; below, fetch the subtree and sort.
WIDE_SHARE = 0.05


@dataclass
class BoardRow:
    rank: int
    member_id: int | None
    name: str | None
    points: int
    unit_name: str = ""
    hidden: bool = False
    is_me: bool = False
    #: On this board because the member is hosted in its subtree (their home branch lies elsewhere).
    hosted: bool = False

    def as_json(self) -> dict:
        member = None if self.hidden else {"id": self.member_id, "name": self.name, "unit": self.unit_name}
        return {"rank": self.rank, "member": member, "points": self.points, "hosted": self.hosted}


@dataclass
class Board:
    unit: object
    period: str
    period_key: int
    rows: list[BoardRow] = field(default_factory=list)
    me: BoardRow | None = None


class Who(NamedTuple):
    """What a board row shows of a member, and the branches where their name is never hidden."""

    name: str
    hides: bool
    home_path: str
    unit_name: str
    host_path: str | None = None


@dataclass
class Plan:
    """The conditions on ``points_total`` selecting one board's rows for one period.

    ``base`` selects the members whose home branch lies in the subtree (served by
    the index :func:`_scope` chose); ``hosted`` those hosted in the subtree from
    outside it (None when the subtree is every unit, so nobody comes from outside).
    """

    base: list
    order: object
    hosted: list | None = None
    #: The period's own conditions (a member's row of the period, by the primary key).
    period: list = field(default_factory=list)


@cache
def _alias(role: str):
    """One alias of the unit table per role, built once (building one per call cost as much as a board's SQL)."""
    return aliased(tk.OrgUnit, name=f"{role}_unit")


def _subtree(unit) -> tuple[list[int] | None, int]:
    """The ids of the units in ``unit``'s subtree (None: every unit) and the number of all units (one statement).

    A root's subtree is every unit (unless there are several roots): counting it says so without
    fetching its 2 000 ids.
    """
    every = _alias("every")
    total = select(func.count(every.id)).scalar_subquery()
    inside = tk.in_subtree(tk.OrgUnit.path, unit.path)
    if unit.parent_id is None:
        count, all_units = db.session.execute(select(func.count(tk.OrgUnit.id), total).where(inside)).one()
        if count >= all_units:
            return None, all_units or 1
    rows = db.session.execute(select(tk.OrgUnit.id, total).where(inside)).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0) or 1


def _scope(unit, subtree: tuple[list[int] | None, int] | None = None):
    """``(condition or None, order)`` choosing the index for the unit's subtree (one statement unless given)."""
    ids, total = subtree if subtree is not None else _subtree(unit)
    if ids is None or len(ids) >= total:
        return None, PointsTotal.points.desc()
    if len(ids) / total > WIDE_SHARE:
        return (PointsTotal.unit_id + 0).in_(ids), PointsTotal.points.desc()
    return PointsTotal.unit_id.in_(ids), (PointsTotal.points + 0).desc()


def board_plan(unit, code: str, key: int) -> Plan:
    """The conditions of ``unit``'s board for the period ``code``/``key`` (one statement)."""
    subtree = _subtree(unit)
    condition, order = _scope(unit, subtree)
    period = [PointsTotal.period == code, PointsTotal.period_key == key]
    if condition is None:
        return Plan(period, order, period=period)
    # The guests' rows by the primary key (member first): the period's columns hidden from the planner, or
    # SQLite walks the whole period through an index led by them (30 000 members: 2 ms instead of 0.2 ms).
    by_member = [PointsTotal.period.concat("") == code, PointsTotal.period_key + 0 == key]
    return Plan([*period, condition], order, [*by_member, *hosted_conditions(unit)], period)


def hosted_conditions(unit) -> list:
    """Conditions on ``points_total`` selecting members hosted under ``unit`` whose home branch is elsewhere.

    Few members are hosted: their ids come through the unit path index and
    ``ix_member_host_unit``, their rows by the totals' primary key. The subtree
    is a subquery, not a list, so the statement's parameters stay few at any size.
    Under a root every member is at home: nothing to look up.
    """
    if unit.parent_id is None:
        return [false()]
    subtree = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    guests = select(tk.Member.id).where(tk.Member.host_unit_id.in_(subtree))
    return [PointsTotal.member_id.in_(guests), PointsTotal.unit_id.not_in(subtree)]


def _names(member_ids: list[int]) -> dict[int, Who]:
    """``{id: Who}`` of the members."""
    if not member_ids:
        return {}
    host = _alias("host")
    rows = db.session.execute(
        select(tk.Member.id, tk.Member.name, tk.Member.hide_from_public_boards, tk.OrgUnit.path, tk.OrgUnit.name,
               host.path)
        .join(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id).outerjoin(host, host.id == tk.Member.host_unit_id)
        .where(tk.Member.id.in_(member_ids))).all()
    return {row[0]: Who(row[1], bool(row[2]), row[3], row[4], row[5]) for row in rows}


def make_rows(unit, pairs: list[tuple[int, int]], viewer_member_id: int | None,
              names: dict[int, Who] | None = None, hosted: frozenset[int] = frozenset()) -> list[BoardRow]:
    """Ranked rows (ties share a rank) with names hidden where members asked for it.

    A member's own branches — home, and host while away — always show their name;
    ``hosted`` holds the ids on the board because they are hosted in its subtree.
    """
    if names is None:
        names = _names([member_id for member_id, _points in pairs])
    return _viewed(_ranked(unit, pairs, names, hosted), viewer_member_id)


def _ranked(unit, pairs: list[tuple[int, int]], names: dict[int, Who], hosted: frozenset[int]) -> list[tuple]:
    """A board's rows as every viewer shares them: ``(rank, member id, name, unit name, points, hosted, hides)``.

    ``hides``: the member keeps their name private and this board lies outside their own branches
    (they still see their own name: :func:`_viewed`).
    """
    rows, rank, previous = [], 0, None
    for index, (member_id, points) in enumerate(pairs, start=1):
        if points != previous:
            rank, previous = index, points
        who = names.get(member_id, Who("", False, "", ""))
        own_branch = unit.path.startswith(who.home_path) or bool(who.host_path and unit.path.startswith(who.host_path))
        rows.append((rank, member_id, who.name, who.unit_name, points, member_id in hosted, who.hides and not own_branch))
    return rows


def _viewed(ranked: list[tuple], viewer_member_id: int | None) -> list[BoardRow]:
    """:func:`_ranked`'s rows as ``viewer_member_id`` sees them: their own row marked, hidden names hidden."""
    private = _("A member who keeps their name private")
    rows = []
    for rank, member_id, name, unit_name, points, hosted, hides in ranked:
        is_me = member_id == viewer_member_id
        hidden = hides and not is_me
        rows.append(BoardRow(rank=rank, member_id=None if hidden else member_id, name=private if hidden else name,
                             points=points, unit_name="" if hidden else unit_name, hidden=hidden, is_me=is_me,
                             hosted=hosted))
    return rows


def _top(plan: Plan, limit: int):
    """The board's top ``limit`` rows ``(member_id, points, hosted)`` as a subquery.

    Each part is a LIMIT subquery (a fence on both databases, so each keeps its
    index); the top ``limit`` of the board lies within the top ``limit`` of each part.
    """
    home = (select(PointsTotal.member_id, PointsTotal.points, literal(0).label("hosted")).where(*plan.base)
            .order_by(plan.order, PointsTotal.member_id).limit(limit).subquery())
    if plan.hosted is None:
        return home
    guests = (select(PointsTotal.member_id, PointsTotal.points, literal(1).label("hosted")).where(*plan.hosted)
              .order_by(PointsTotal.points.desc(), PointsTotal.member_id).limit(limit).subquery())
    both = union_all(select(home.c.member_id, home.c.points, home.c.hosted),
                     select(guests.c.member_id, guests.c.points, guests.c.hosted)).subquery()
    return (select(both.c.member_id, both.c.points, both.c.hosted)
            .order_by(both.c.points.desc(), both.c.member_id).limit(limit).subquery())


def leaderboard(unit, period: str, *, viewer_member=None, now: datetime | None = None, limit: int = 50) -> Board:
    """The top ``limit`` members under ``unit`` (home or hosted there) for the period containing ``now``,
    and the viewer's rank.

    The rows are the same for every viewer: the composition cache keeps them per unit, period and
    size, and the viewer's rank per viewer, until a table they read is written (a points award,
    a member hiding their name, a move) — one read of the stamps for both.
    """
    now = now or tk.utcnow()
    code, key = PERIOD_CODES[period], periods.current_key(period, now)
    # Both pieces missing (after a points award): the subtree is read once. What the plan read stays known to
    # the second piece: ``unit`` lies in the session, so every piece depends on the unit table anyway.
    plan = cache(partial(board_plan, unit, code, key))
    pieces = [((unit.id, code, key, limit), partial(_top_rows, unit, plan, limit))]
    if viewer_member is not None:
        pieces.append(((unit.id, code, key, "rank", viewer_member.id), partial(_rank, unit, plan, viewer_member)))
    ranked, *rank = tk.cached_many("points.board", pieces)
    board = Board(unit=unit, period=period, period_key=key,
                  rows=_viewed(ranked, viewer_member.id if viewer_member is not None else None))
    if viewer_member is not None:
        board.me = next((row for row in board.rows if row.is_me), None) or _my_row(viewer_member, rank[0])
    return board


def _top_rows(unit, plan: Callable[[], Plan], limit: int) -> list[tuple]:
    """The board's top ``limit`` rows as :func:`_ranked` gives them (one statement, and the plan's)."""
    top = _top(plan(), limit)
    # The names join onto those few rows in the same statement.
    host = _alias("host")
    found = db.session.execute(
        select(top.c.member_id, top.c.points, top.c.hosted, tk.Member.name, tk.Member.hide_from_public_boards,
               tk.OrgUnit.path, tk.OrgUnit.name, host.path)
        .select_from(top).outerjoin(tk.Member, tk.Member.id == top.c.member_id)
        .outerjoin(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id)
        .outerjoin(host, host.id == tk.Member.host_unit_id)
        .order_by(top.c.points.desc(), top.c.member_id)).all()
    pairs = [(row[0], row[1]) for row in found]
    names = {row[0]: Who(row[3], bool(row[4]), row[5], row[6], row[7]) for row in found if row[5] is not None}
    return _ranked(unit, pairs, names, frozenset(row[0] for row in found if row[2]))


def _rank(unit, plan: Callable[[], Plan], member) -> tuple[int, int, bool] | None:
    """``(rank, points, hosted)`` of ``member`` on ``unit``'s board (None when they are neither from nor
    hosted under it, or have no points); one statement, and the plan's.

    A hosted member has a rank on their home branch's board and on their host
    branch's: each counts the members above them on that board.
    """
    from_here = unit.contains(member.home_unit)
    if not from_here and not unit.contains(member.host_unit):
        return None
    board = plan()
    mine = select(PointsTotal.points).where(PointsTotal.member_id == member.id, *board.period).scalar_subquery()
    parts = [board.base] if board.hosted is None else [board.base, board.hosted]
    points, *above = db.session.execute(select(mine, *[
        select(func.count()).select_from(PointsTotal).where(*part, PointsTotal.points > mine).scalar_subquery()
        for part in parts])).one()
    if points is None:
        return None
    return sum(value or 0 for value in above) + 1, points, not from_here


def _my_row(member, rank: tuple[int, int, bool] | None) -> BoardRow | None:
    """The viewer's row from :func:`_rank` (when they are below the rows shown)."""
    if rank is None:
        return None
    number, points, hosted = rank
    return BoardRow(rank=number, member_id=member.id, name=member.name, points=points,
                    unit_name=member.home_unit.name, is_me=True, hosted=hosted)


@dataclass
class UnitStanding:
    rank: int
    unit: object
    points: int
    members: int

    @property
    def average(self) -> float:
        return round(self.points / self.members, 1) if self.members else 0.0


def unit_standings(unit, period: str, *, by: str = "average", now: datetime | None = None) -> list[UnitStanding]:
    """The units directly under ``unit`` (or ``unit`` alone when it has none), ranked.

    ``by="average"`` ranks by points per member so small branches compete fairly
    with big ones; ``by="total"`` gives the team standings. Points count for the
    branch where they were earned.
    """
    now = now or tk.utcnow()
    code, key = PERIOD_CODES[period], periods.current_key(period, now)
    children = list(db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.parent_id == unit.id,
                                                                 tk.OrgUnit.closed_at.is_(None))
                                       .order_by(tk.OrgUnit.name)))
    teams = children or [unit]
    paths = db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.path).where(
        tk.in_subtree(tk.OrgUnit.path, unit.path))).all()
    team_of: dict[int, int] = {}
    for unit_id, path in paths:
        for team in teams:
            if path.startswith(team.path):
                team_of[unit_id] = team.id
                break
    points = dict.fromkeys((t.id for t in teams), 0)
    for unit_id, value in db.session.execute(select(PointsUnitTotal.unit_id, PointsUnitTotal.points).where(
            PointsUnitTotal.period == code, PointsUnitTotal.period_key == key,
            PointsUnitTotal.unit_id.in_(list(team_of)))):
        if unit_id in team_of:
            points[team_of[unit_id]] += value
    members = dict.fromkeys((t.id for t in teams), 0)
    count_query = select(tk.Member.home_unit_id, func.count()).group_by(tk.Member.home_unit_id)
    if unit.parent_id is not None:
        count_query = count_query.where(tk.Member.home_unit_id.in_(list(team_of)))
    for unit_id, count in db.session.execute(count_query):
        if unit_id in team_of:
            members[team_of[unit_id]] += count
    standings = [UnitStanding(rank=0, unit=t, points=points[t.id], members=members[t.id]) for t in teams]
    value = (lambda s: s.average) if by == "average" else (lambda s: s.points)
    standings.sort(key=lambda s: (-value(s), s.unit.name))
    previous, rank = None, 0
    for index, standing in enumerate(standings, start=1):
        if value(standing) != previous:
            rank, previous = index, value(standing)
        standing.rank = rank
    return standings


def campaign_board(campaign, *, viewer_member=None, limit: int = 50) -> list[BoardRow]:
    """The campaign's top ``limit`` members (names hidden beyond the members' own branches)."""
    pairs = db.session.execute(select(PointsCampaignTotal.member_id, PointsCampaignTotal.points)
                               .where(PointsCampaignTotal.campaign_id == campaign.id)
                               .order_by(PointsCampaignTotal.points.desc(), PointsCampaignTotal.member_id)
                               .limit(limit)).all()
    return make_rows(campaign.owner_unit, [tuple(p) for p in pairs],
                     viewer_member.id if viewer_member is not None else None)


def board_units_for(member, account) -> list:
    """Units whose boards the viewer may open: their branches' ancestors, then units they oversee (one statement).

    Without their parents (the picker shows names): loading each unit's parent with it cost more than
    the rest of a kept board. The units stay in the session, so the board's own unit usually costs nothing.
    """
    units = {}
    if member is not None:
        ids = {unit_id for own in (member.home_unit, member.host_unit) if own is not None
               for unit_id in own.ancestor_ids()}
        for unit in db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(ids))
                                       .options(lazyload(tk.OrgUnit.parent))):
            units[unit.id] = unit
    for unit in tk.manageable_units("points.view", account):
        units[unit.id] = unit
    return sorted(units.values(), key=lambda u: (u.depth, u.path))


def can_view_board(unit, member, account) -> bool:
    """Members see the boards of their home and host branches and everything above; secretaries their subtree."""
    if member is not None:
        for own in (member.home_unit, member.host_unit):
            if own is not None and unit.contains(own):
                return True
    return tk.can("points.view", unit, account)


def set_hidden_from_public_boards(member, hide: bool) -> None:
    """Hide (or show) ``member``'s name on boards outside their own branch (caller commits)."""
    member.hide_from_public_boards = bool(hide)

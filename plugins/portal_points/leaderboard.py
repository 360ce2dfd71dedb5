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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal.toolkit import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

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

    def as_json(self) -> dict:
        member = None if self.hidden else {"id": self.member_id, "name": self.name, "unit": self.unit_name}
        return {"rank": self.rank, "member": member, "points": self.points}


@dataclass
class Board:
    unit: object
    period: str
    period_key: int
    rows: list[BoardRow] = field(default_factory=list)
    me: BoardRow | None = None


def _scope(unit):
    """``(condition or None, order)`` choosing the index for the unit's subtree (one statement)."""
    every = aliased(tk.OrgUnit)
    rows = db.session.execute(select(tk.OrgUnit.id, select(func.count(every.id)).scalar_subquery())
                              .where(tk.in_subtree(tk.OrgUnit.path, unit.path))).all()
    ids = [row[0] for row in rows]
    total = (rows[0][1] if rows else 0) or 1
    if len(ids) >= total:
        return None, PointsTotal.points.desc()
    if len(ids) / total > WIDE_SHARE:
        return (PointsTotal.unit_id + 0).in_(ids), PointsTotal.points.desc()
    return PointsTotal.unit_id.in_(ids), (PointsTotal.points + 0).desc()


def _names(member_ids: list[int]) -> dict[int, tuple[str, bool, str, str]]:
    """``{id: (name, hides, home path, home unit name)}``."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(tk.Member.id, tk.Member.name, tk.Member.hide_from_public_boards, tk.OrgUnit.path, tk.OrgUnit.name)
        .join(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id).where(tk.Member.id.in_(member_ids))).all()
    return {row[0]: (row[1], bool(row[2]), row[3], row[4]) for row in rows}


def make_rows(unit, pairs: list[tuple[int, int]], viewer_member_id: int | None,
              names: dict[int, tuple[str, bool, str, str]] | None = None) -> list[BoardRow]:
    """Ranked rows (ties share a rank) with names hidden where members asked for it."""
    if names is None:
        names = _names([member_id for member_id, _points in pairs])
    rows, rank, previous = [], 0, None
    for index, (member_id, points) in enumerate(pairs, start=1):
        if points != previous:
            rank, previous = index, points
        name, hides, home_path, unit_name = names.get(member_id, ("", False, "", ""))
        is_me = member_id == viewer_member_id
        hidden = hides and not is_me and not unit.path.startswith(home_path)
        rows.append(BoardRow(rank=rank, member_id=None if hidden else member_id,
                             name=_("A member who keeps their name private") if hidden else name, points=points,
                             unit_name="" if hidden else unit_name, hidden=hidden, is_me=is_me))
    return rows


def leaderboard(unit, period: str, *, viewer_member=None, now: datetime | None = None, limit: int = 50) -> Board:
    """The top ``limit`` members under ``unit`` for the period containing ``now``, and the viewer's rank."""
    now = now or tk.utcnow()
    code, key = PERIOD_CODES[period], periods.current_key(period, now)
    condition, order = _scope(unit)
    base = [PointsTotal.period == code, PointsTotal.period_key == key]
    if condition is not None:
        base.append(condition)
    # The top rows come from the index as before (a LIMIT subquery stays a fence on both databases);
    # the names join onto those few rows in the same statement.
    top = (select(PointsTotal.member_id, PointsTotal.points).where(*base)
           .order_by(order, PointsTotal.member_id).limit(limit).subquery())
    found = db.session.execute(
        select(top.c.member_id, top.c.points, tk.Member.name, tk.Member.hide_from_public_boards,
               tk.OrgUnit.path, tk.OrgUnit.name)
        .select_from(top).outerjoin(tk.Member, tk.Member.id == top.c.member_id)
        .outerjoin(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id)
        .order_by(top.c.points.desc(), top.c.member_id)).all()
    pairs = [(row[0], row[1]) for row in found]
    names = {row[0]: (row[2], bool(row[3]), row[4], row[5]) for row in found if row[4] is not None}
    viewer_id = viewer_member.id if viewer_member is not None else None
    board = Board(unit=unit, period=period, period_key=key, rows=make_rows(unit, pairs, viewer_id, names))
    if viewer_member is not None:
        board.me = my_rank(unit, period, viewer_member, now=now, base=base, rows=board.rows)
    return board


def my_rank(unit, period: str, member, *, now: datetime | None = None, base=None, rows=None) -> BoardRow | None:
    """The member's row on ``unit``'s board (None when they are not under it or have no points)."""
    if rows:
        for row in rows:
            if row.is_me:
                return row
    if member.home_unit is None or not unit.contains(member.home_unit):
        return None
    now = now or tk.utcnow()
    code, key = PERIOD_CODES[period], periods.current_key(period, now)
    mine = db.session.scalar(select(PointsTotal.points).where(
        PointsTotal.member_id == member.id, PointsTotal.period == code, PointsTotal.period_key == key))
    if mine is None:
        return None
    if base is None:
        condition, _order = _scope(unit)
        base = [PointsTotal.period == code, PointsTotal.period_key == key]
        if condition is not None:
            base.append(condition)
    above = db.session.scalar(select(func.count()).select_from(PointsTotal).where(*base, PointsTotal.points > mine))
    return BoardRow(rank=(above or 0) + 1, member_id=member.id, name=member.name, points=mine,
                    unit_name=member.home_unit.name, is_me=True)


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
    """Units whose boards the viewer may open: their branches' ancestors, then units they oversee."""
    units = {}
    if member is not None:
        for home in (member.home_unit, member.host_unit):
            if home is None:
                continue
            ids = home.ancestor_ids()
            for unit in db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(ids))):
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

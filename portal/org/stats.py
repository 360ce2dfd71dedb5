"""Counts over a unit's subtree, as secretaries report them."""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.org.models import Member, OrgUnit, in_subtree


def unit_member_counts(unit: OrgUnit) -> dict[str, int]:
    """Members at home, away, hosted here, lost contact — one query."""
    home = select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit.path)).scalar_subquery()
    guest = aliased(Member)
    hosted = select(func.count(guest.id)).where(guest.host_unit_id.in_(home)).scalar_subquery()
    row = db.session.execute(select(
        func.count(Member.id),
        func.coalesce(func.sum(case((Member.is_away, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Member.lost_contact, 1), else_=0)), 0),
        hosted,
    ).where(Member.home_unit_id.in_(home))).one()
    return {"members": row[0], "away": row[1], "lost_contact": row[2], "hosted": row[3] or 0}

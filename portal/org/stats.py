"""Counts over a unit's subtree, as secretaries report them."""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.org.models import Member, OrgUnit, in_subtree, member_stage_filter


def unit_member_counts(unit: OrgUnit) -> dict[str, int]:
    """Members (full and probationary) at home, away, hosted here, lost contact — and, apart, the
    applicants, activists and candidates (``others``) of the subtree, who are not members. One query."""
    home = select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit.path)).scalar_subquery()
    guest = aliased(Member)
    hosted = select(func.count(guest.id)).where(guest.host_unit_id.in_(home),
                                                member_stage_filter(guest.stage)).scalar_subquery()
    is_member = member_stage_filter()

    def members_where(condition):
        return func.coalesce(func.sum(case((is_member & condition, 1), else_=0)), 0)

    row = db.session.execute(select(
        members_where(Member.id.is_not(None)), members_where(Member.is_away), members_where(Member.lost_contact),
        hosted, func.coalesce(func.sum(case((is_member, 0), else_=1)), 0),
    ).where(Member.home_unit_id.in_(home))).one()
    return {"members": row[0], "away": row[1], "lost_contact": row[2], "hosted": row[3] or 0, "others": row[4]}

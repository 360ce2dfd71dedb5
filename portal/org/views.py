"""Org tree and member screens for secretaries, organizers and admins."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from portal.audit.services import audit
from portal.extensions import db
from portal.org.models import STAGES, Member, OrgUnit, in_subtree
from portal.org.permissions import can, can_see_member, manageable_units, member_scope, require, require_member
from portal.web.exports import xlsx_response
from portal.web.pagination import paginate

bp = Blueprint("org", __name__)


@bp.get("/units")
@login_required
def units():
    """The part of the tree the current user may see, as an indented list."""
    if not can("units.dashboard") and not can("units.manage"):
        abort(403)
    tops = manageable_units("units.dashboard")
    rows = []
    for top in tops:
        rows.extend(db.session.scalars(select(OrgUnit).where(in_subtree(OrgUnit.path, top.path))
                                       .order_by(OrgUnit.path).limit(2000)))
    return render_template("org/units.html", rows=rows)


def member_filters(query, unit: OrgUnit, args):
    """Apply the member list's filters: text, stage, away/hosted/lost contact."""
    where = args.get("where", "home")
    if where == "hosted":
        query = query.where(Member.host_unit.has(in_subtree(OrgUnit.path, unit.path)))
    else:
        query = query.where(Member.home_unit.has(in_subtree(OrgUnit.path, unit.path)))
    if args.get("stage") in STAGES:
        query = query.where(Member.stage == args["stage"])
    if args.get("status") == "away":
        query = query.where(Member.is_away.is_(True))
    elif args.get("status") == "lost":
        query = query.where(Member.lost_contact.is_(True))
    term = (args.get("q") or "").strip()
    if term:
        query = query.where(or_(Member.name.contains(term), Member.phone.contains(term)))
    return query


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """A unit's members (home or hosted), filterable and paginated."""
    unit = db.session.get(OrgUnit, unit_id) or abort(404)
    hosted = request.args.get("where") == "hosted"
    require("members.view", unit) if not hosted else None
    if hosted and not (can("members.view", unit) or _hosts(unit)):
        abort(404)
    query = member_filters(select(Member).where(member_scope("members.view")), unit, request.args).order_by(Member.name, Member.id)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
    return render_template("org/unit.html", unit=unit, page=paginate(query), children=children,
                           args=request.args, stages=STAGES)


def _hosts(unit: OrgUnit) -> bool:
    return any(r.role in ("secretary", "organizer") and r.unit.contains(unit) for r in current_user.roles)


@bp.get("/units/<int:unit_id>/members.xlsx")
@login_required
def export_members(unit_id: int):
    """The unit subtree's members as a spreadsheet (what secretaries hand upward)."""
    unit = db.session.get(OrgUnit, unit_id) or abort(404)
    require("members.export", unit)
    from portal.org.exchange import member_export_rows, member_export_headers

    query = member_filters(select(Member), unit, request.args).order_by(Member.home_unit_id, Member.name)
    members = db.session.scalars(query)
    audit("members.exported", "unit", unit.id, unit_id=unit.id)
    db.session.commit()
    return xlsx_response(f"{unit.name}-members.xlsx", member_export_headers(), member_export_rows(members))


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    """A member's profile; the ID number unmasked only to those entitled (and audited)."""
    member = require_member(db.session.get(Member, member_id))
    show_id = request.args.get("show_id") == "1" and can_see_member(member, "members.view_sensitive") \
        and member.account_id != current_user.id
    if show_id:
        audit("member.id_number_viewed", "member", member.id, unit_id=member.home_unit_id)
        db.session.commit()
    may_see_id = can_see_member(member, "members.view_sensitive")
    return render_template("org/member.html", member=member, show_id=show_id, may_see_id=may_see_id,
                           may_edit=can_see_member(member, "members.edit") and can("members.edit", member.home_unit))

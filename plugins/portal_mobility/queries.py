"""The lists secretaries work through, and the unit widget's counts."""
from __future__ import annotations

from sqlalchemy import or_, select

from portal import toolkit as tk

from .models import CheckIn, Move, Outflow, Transfer

db = tk.db


def outgoing_query(unit):
    """Approved outflows of members (full, probationary) whose home branch lies in ``unit``'s subtree."""
    return (select(Outflow).join(tk.Member, Outflow.member_id == tk.Member.id)
            .where(Outflow.status == "approved", tk.member_stage_filter(),
                   tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
            .order_by(Outflow.start_date.desc(), Outflow.id.desc()))


def others_away_query(unit):
    """Applicants, activists and candidates of the subtree who are away or hosted: listed, never counted as members."""
    return (select(tk.Member).where(~tk.member_stage_filter(), or_(
        tk.Member.is_away.is_(True) & tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)),
        tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))).order_by(tk.Member.name, tk.Member.id))


def others_away(unit, limit: int = 200) -> list:
    return list(db.session.scalars(others_away_query(unit).limit(limit)))


def pending_outflows_query(unit):
    return (select(Outflow).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(("pending", "changes_requested")),
        tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))).order_by(Outflow.created_at))


def pending_outflows(unit) -> list[Outflow]:
    return list(db.session.scalars(pending_outflows_query(unit)))


def incoming_members_query(unit):
    """Members (full, probationary) hosted in ``unit``'s subtree."""
    return (select(tk.Member).where(tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)),
                                    tk.member_stage_filter())
            .order_by(tk.Member.name, tk.Member.id))


def pending_checkins_query(unit):
    return (select(CheckIn).join(tk.OrgUnit, CheckIn.host_unit_id == tk.OrgUnit.id).where(
        CheckIn.status == "pending", tk.in_subtree(tk.OrgUnit.path, unit.path)).order_by(CheckIn.requested_at))


def pending_checkins_at(unit) -> list[CheckIn]:
    return list(db.session.scalars(pending_checkins_query(unit)))


def identity_checks_for(unit) -> list[CheckIn]:
    """Uncertified arrivals of the unit's members waiting for the home branch to confirm identity."""
    return list(db.session.scalars(select(CheckIn).join(tk.Member, CheckIn.member_id == tk.Member.id).where(
        CheckIn.status == "pending", CheckIn.identity_status == "pending",
        tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))).order_by(CheckIn.requested_at)))


def lost_contact_query(unit):
    return (select(tk.Member).where(
        tk.Member.lost_contact.is_(True), tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
        .order_by(tk.Member.name))


def lost_contact_members(unit) -> list:
    return list(db.session.scalars(lost_contact_query(unit)))


def unit_widget_counts(unit) -> dict[str, int]:
    """The unit widget's figures (outgoing, incoming, pending decisions, lost contact) in one statement."""
    def counted(query):
        return tk.count_query(query).scalar_subquery()

    outgoing, incoming, outflows, checkins, lost, others = db.session.execute(select(
        counted(outgoing_query(unit)), counted(incoming_members_query(unit)), counted(pending_outflows_query(unit)),
        counted(pending_checkins_query(unit)), counted(lost_contact_query(unit)),
        counted(others_away_query(unit)))).one()
    return {"outgoing": outgoing or 0, "incoming": incoming or 0, "pending": (outflows or 0) + (checkins or 0),
            "lost": lost or 0, "others": others or 0}


def late_moves(unit, limit: int = 50) -> list[Move]:
    return list(db.session.scalars(select(Move).join(tk.Member, Move.member_id == tk.Member.id).where(
        Move.kind == "change", tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
        .order_by(Move.reported_at.desc()).limit(limit)))


def transfers_for(unit) -> list[Transfer]:
    """Pending transfers out of or into ``unit``'s subtree."""
    ids = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)).scalar_subquery()
    return list(db.session.scalars(select(Transfer).where(
        Transfer.status == "pending", or_(Transfer.from_unit_id.in_(ids), Transfer.to_unit_id.in_(ids)))
        .order_by(Transfer.requested_at)))

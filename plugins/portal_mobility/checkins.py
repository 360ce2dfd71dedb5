"""Check-ins at host branches, and arrivals without a certificate whose identity the home branch confirms."""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk

from .common import clean_text, day_of, lies_within, set_current_place, unit_place_code
from .models import CheckIn, Move
from .outflows import active_outflow

db = tk.db


def host_units_query(term: str, *, exclude_unit_id: int | None = None) -> Select:
    """Open branches and groups whose city, name or province contains ``term`` (mobile members' branches first).

    ``exclude_unit_id``: the member's home branch, where nobody checks in.
    """
    query = select(tk.OrgUnit).where(tk.OrgUnit.closed_at.is_(None), tk.OrgUnit.kind.in_(("branch", "group")),
                                     or_(tk.OrgUnit.city.contains(term), tk.OrgUnit.name.contains(term),
                                         tk.OrgUnit.province.contains(term)))
    if exclude_unit_id is not None:
        query = query.where(tk.OrgUnit.id != exclude_unit_id)
    return query.order_by(tk.OrgUnit.is_mobile_branch.desc(), tk.OrgUnit.name, tk.OrgUnit.id)


def search_host_units(term: str, limit: int = 30, *, exclude_unit_id: int | None = None) -> list:
    """The first ``limit`` units of :func:`host_units_query`; none for an empty ``term``."""
    term = (term or "").strip()
    if not term:
        return []
    return list(db.session.scalars(host_units_query(term, exclude_unit_id=exclude_unit_id).limit(limit)))


def open_checkin(member) -> CheckIn | None:
    """The member's waiting or confirmed check-in."""
    return db.session.scalar(select(CheckIn).where(CheckIn.member_id == member.id,
                                                    CheckIn.status.in_(("pending", "confirmed")))
                             .order_by(CheckIn.id.desc()).limit(1))


def pending_checkin(member) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.status == "pending")
                             .order_by(CheckIn.id.desc()).limit(1))


def _add_pending(checkin: CheckIn) -> CheckIn | None:
    """Insert ``checkin`` in a SAVEPOINT; ``None`` when a concurrent request made the member's pending one there first.

    ``uq_mobility_checkin_pending_host`` decides, not a read before the insert.
    """
    try:
        with db.session.begin_nested():
            db.session.add(checkin)
            db.session.flush()
    except IntegrityError:
        return None
    return checkin


def _pending_at(member_id: int, host_unit_id: int) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(CheckIn.member_id == member_id, CheckIn.status == "pending",
                                                   CheckIn.host_unit_id == host_unit_id))


def _valid_host(unit) -> None:
    if unit is None or unit.is_closed or unit.kind not in ("branch", "group"):
        raise tk.Invalid(_("Choose an open branch to check in at."), {"host_unit_id": _("Choose a branch.")})


def request_checkin(member, host_unit, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The member reports at ``host_unit``; its secretaries are asked to confirm."""
    now = now or tk.utcnow()
    _valid_host(host_unit)
    outflow = active_outflow(member)
    if outflow is None:
        raise tk.Conflict(_("Register your outflow and have it approved before you check in at a host branch."))
    if host_unit.id == member.home_unit_id or (member.home_unit and member.home_unit.contains(host_unit)):
        raise tk.Invalid(_("This is your home branch."), {"host_unit_id": _("Choose a branch."), })
    if member.host_unit_id == host_unit.id:
        raise tk.Conflict(_("You are already checked in at this branch."))
    waiting = pending_checkin(member)
    if waiting is not None:
        if waiting.host_unit_id == host_unit.id:
            return waiting
        waiting.status = "ended"
        waiting.ended_at = now
    checkin = _add_pending(CheckIn(member_id=member.id, outflow_id=outflow.id, host_unit_id=host_unit.id,
                                   status="pending", source="member", requested_at=now,
                                   requested_by_account_id=getattr(by_account, "id", None)))
    if checkin is None:
        return _pending_at(member.id, host_unit.id)
    tk.notify(tk.responsible_accounts(host_unit, "mobility.host")[1], _l("%(name)s asks to check in at %(unit)s", name=member.name,
                                                unit=host_unit.name),
              url=tk.path_for("mobility.unit", unit_id=host_unit.id, tab="incoming"), kind="mobility.checkin")
    return checkin


def _activate_checkin(checkin: CheckIn, now: datetime) -> None:
    """The member is hosted at the check-in's unit from now on (earlier check-ins end)."""
    member = checkin.member
    for other in db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.id != checkin.id,
                                                           CheckIn.status == "confirmed")):
        other.status = "ended"
        other.ended_at = now
    checkin.status = "confirmed"
    checkin.confirmed_at = now
    member.host_unit_id = checkin.host_unit_id
    member.host_unit = checkin.host_unit
    member.is_away = True
    _locate_at_host(checkin, now)
    tk.record_activity(member, "mobility.checked_in", "mobility_checkin", checkin.id, at=now,
                       extras={"host_unit_id": checkin.host_unit_id})
    if member.account_id:
        tk.notify([member.account_id], _l("Your check-in at %(unit)s was confirmed", unit=checkin.host_unit.name),
                  url=tk.path_for("mobility.index"), kind="mobility.checked_in")


def _locate_at_host(checkin: CheckIn, now: datetime) -> None:
    """A confirmed check-in puts the member in the host branch's place, unless the current place lies there
    already (a county of the host's city stays); the change is kept in the moves history (kind ``checkin``)."""
    host_code = unit_place_code(checkin.host_unit)
    outflow = active_outflow(checkin.member)
    if not host_code or outflow is None or lies_within(outflow.current_place_code, host_code):
        return
    db.session.add(Move(member_id=checkin.member_id, outflow_id=outflow.id, kind="checkin", changed_on=day_of(now),
                        reported_at=now, old_values={"place_code": outflow.current_place_code},
                        new_values={"place_code": host_code}))
    set_current_place(outflow, host_code)


def confirm_checkin(checkin: CheckIn, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The host secretary confirms a member's check-in (after the home branch confirmed an uncertified arrival).

    Never one's own check-in (:func:`tk.require_acting_on`).
    """
    tk.require_acting_on(checkin.member, "mobility.host", checkin.host_unit, account=by_account)
    now = now or tk.utcnow()
    tk.lock(checkin)
    if checkin.status != "pending":
        raise tk.Conflict(_("This check-in has already been decided."))
    if checkin.identity_status == "pending":
        raise tk.Conflict(_("The home branch has not confirmed this member's identity yet."))
    checkin.confirmed_by_account_id = getattr(by_account, "id", None)
    _activate_checkin(checkin, now)
    tk.audit("mobility.checkin_confirmed", "mobility_checkin", checkin.id, unit_id=checkin.host_unit_id)
    return checkin


def reject_checkin(checkin: CheckIn, note: str | None = None, *, by_account=None,
                   now: datetime | None = None) -> CheckIn:
    """The host secretary declines a check-in (never their own)."""
    tk.require_acting_on(checkin.member, "mobility.host", checkin.host_unit, account=by_account)
    now = now or tk.utcnow()
    if checkin.status != "pending":
        raise tk.Conflict(_("This check-in has already been decided."))
    checkin.status = "rejected"
    checkin.ended_at = now
    checkin.note = clean_text(note, 2000) or checkin.note
    if checkin.member.account_id and checkin.source == "member":
        tk.notify([checkin.member.account_id], _l("%(unit)s declined your check-in", unit=checkin.host_unit.name),
                  checkin.note or "", url=tk.path_for("mobility.index"), kind="mobility.checkin")
    return checkin


def find_arriving_member(home_unit, phone: str):
    """A member of ``home_unit``'s subtree with this phone number, or None."""
    phone = (phone or "").strip()
    if not phone or home_unit is None:
        return None
    return db.session.scalar(select(tk.Member).where(
        tk.Member.phone == phone, tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, home_unit.path))).limit(1))


def register_arrival(host_unit, home_unit, name: str, phone: str, note: str | None = None, *, by_account=None,
                     now: datetime | None = None) -> CheckIn:
    """A host secretary records a member who arrived without a certificate; the home branch confirms identity."""
    now = now or tk.utcnow()
    _valid_host(host_unit)
    errors = {}
    if home_unit is None:
        errors["home_unit_id"] = _("Choose the member's home branch.")
    if not (name or "").strip():
        errors["name"] = _("This field is required.")
    if not (phone or "").strip():
        errors["phone"] = _("This field is required.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    member = find_arriving_member(home_unit, phone)
    if member is None or member.name.strip() != name.strip():
        message = _("No member with this name and phone number is registered at that branch. Check the details with the member.")
        raise tk.Invalid(message, {"phone": message})
    if member.host_unit_id == host_unit.id:
        raise tk.Conflict(_("This member is already checked in here."))
    existing = _pending_at(member.id, host_unit.id)
    if existing is not None:
        return existing
    checkin = _add_pending(CheckIn(member_id=member.id, outflow_id=getattr(active_outflow(member), "id", None),
                                   host_unit_id=host_unit.id, status="pending", source="host", identity_status="pending",
                                   note=clean_text(note, 2000) or None, requested_at=now,
                                   requested_by_account_id=getattr(by_account, "id", None)))
    if checkin is None:
        return _pending_at(member.id, host_unit.id)
    tk.notify(tk.responsible_accounts(member.home_unit, "mobility.manage")[1],
              _l("%(unit)s reports that %(name)s arrived without a certificate: please confirm the identity",
                unit=host_unit.name, name=member.name),
              url=tk.path_for("mobility.member", member_id=member.id), kind="mobility.identity")
    return checkin


def decide_identity(checkin: CheckIn, confirmed: bool, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The home branch confirms (or denies) that an uncertified arrival is its member (never oneself)."""
    tk.require_acting_on(checkin.member, "mobility.manage", checkin.member.home_unit, account=by_account)
    now = now or tk.utcnow()
    if checkin.identity_status != "pending" or checkin.status != "pending":
        raise tk.Conflict(_("This identity check has already been decided."))
    checkin.identity_status = "confirmed" if confirmed else "rejected"
    if not confirmed:
        checkin.status = "rejected"
        checkin.ended_at = now
    tk.notify(tk.responsible_accounts(checkin.host_unit, "mobility.host")[1],
              _("The home branch confirmed the identity of %(name)s", name=checkin.member.name) if confirmed else
              _("The home branch did not confirm the identity of %(name)s", name=checkin.member.name),
              url=tk.path_for("mobility.unit", unit_id=checkin.host_unit_id, tab="incoming"), kind="mobility.identity")
    tk.audit("mobility.identity_" + ("confirmed" if confirmed else "rejected"), "mobility_checkin", checkin.id,
             unit_id=checkin.member.home_unit_id)
    return checkin


def end_checkins(member, now: datetime) -> None:
    for checkin in db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id,
                                                             CheckIn.status.in_(("pending", "confirmed")))):
        checkin.status = "ended"
        checkin.ended_at = now
    member.host_unit_id = None
    member.host_unit = None

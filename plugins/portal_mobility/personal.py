"""What mobility holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import date, datetime, time

from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk

from .models import Certificate, CheckIn, ContactLog, Move, Outflow, Transfer

db = tk.db


def _rows(model, member_id: int, exclude: tuple[str, ...] = ()) -> list[dict]:
    items = db.session.scalars(select(model).where(model.member_id == member_id).order_by(model.id))
    return [{c.name: getattr(item, c.name) for c in model.__table__.columns if c.name not in exclude} for item in items]


def personal_data(member) -> dict[str, list[dict]]:
    """Every mobility record about ``member``."""
    return {
        _("Outflow registrations"): _rows(Outflow, member.id),
        _("Activity certificates"): _rows(Certificate, member.id),
        _("Check-ins at host branches"): _rows(CheckIn, member.id),
        _("Reported changes"): _rows(Move, member.id),
        _("Contact log"): _rows(ContactLog, member.id),
        _("Membership transfers"): _rows(Transfer, member.id),
    }


def member_summary(member, since, until) -> list[tuple[str, int]]:
    """Mobility's part of a participation summary: check-ins, changes reported (late ones), contacts logged."""
    since, until = _as_datetime(since, time.min), _as_datetime(until, time.max)

    checkins = tk.count(select(CheckIn).where(
        CheckIn.member_id == member.id, CheckIn.confirmed_at >= since, CheckIn.confirmed_at <= until))
    changes = tk.count(select(Move).where(
        Move.member_id == member.id, Move.kind == "change", Move.reported_at >= since, Move.reported_at <= until))
    late = tk.count(select(Move).where(
        Move.member_id == member.id, Move.late.is_(True), Move.reported_at >= since, Move.reported_at <= until))
    contacts = tk.count(select(ContactLog).where(  # attempts that reached nobody are not the member's doing
        ContactLog.member_id == member.id, ContactLog.reached.is_(True),
        ContactLog.contacted_on >= tk.local_date(since), ContactLog.contacted_on <= tk.local_date(until)))
    return [(_("Check-ins at host branches"), checkins), (_("Changes reported"), changes),
            (_("Changes reported late"), late), (_("Contacts logged"), contacts)]


def _as_datetime(value, at):
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, at)
    return tk.utcnow()

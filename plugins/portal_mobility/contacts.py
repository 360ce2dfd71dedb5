"""Contact people (1+1), the contact log, and lost-contact cases with their escalation."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal import toolkit as tk

from .common import clean_text, day_of, parse_date, setting
from .models import CHANNELS, ContactLog, LostContactCase
from .outflows import active_outflow

db = tk.db


def assign_contact(member, contact_member) -> None:
    """The 1+1 pairing: a member at home keeps in touch with ``member``."""
    if contact_member is None or contact_member.id == member.id:
        raise tk.Invalid(_("Choose another member."), field="contact_member_id")
    if contact_member.home_unit is None or not member.home_unit or not (
            member.home_unit.contains(contact_member.home_unit) or contact_member.home_unit.contains(member.home_unit)
            or contact_member.home_unit_id == member.home_unit_id):
        raise tk.Invalid(_("The contact person must belong to the same branch."), field="contact_member_id")
    member.contact_member_id = contact_member.id
    member.contact = contact_member


def contact_candidates(member) -> list:
    """Members of the same home branch who are at home (to be a contact person)."""
    return list(db.session.scalars(select(tk.Member).where(tk.Member.home_unit_id == member.home_unit_id,
                                                           tk.Member.id != member.id, tk.Member.is_away.is_(False))
                                   .order_by(tk.Member.name).limit(200)))


def log_contact(member, channel: str, contacted_on: Any, note: str | None = None, *, by_account=None,
                now: datetime | None = None) -> ContactLog:
    """Record a contact with an away member (it also clears a lost-contact flag)."""
    now = now or tk.utcnow()
    day = parse_date(contacted_on)
    errors = {}
    if channel not in CHANNELS:
        errors["channel"] = _("Choose how you were in contact.")
    if day is None:
        errors["contacted_on"] = _("Enter a date as YYYY-MM-DD.")
    elif day > day_of(now):
        errors["contacted_on"] = _("The date cannot be in the future.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    entry = ContactLog(member_id=member.id, by_account_id=getattr(by_account, "id", None), contacted_on=day,
                       channel=channel, note=clean_text(note, 2000) or None, created_at=now)
    db.session.add(entry)
    db.session.flush()
    tk.record_activity(member, "contact.logged", "mobility_contact", entry.id,
                       at=datetime.combine(day, time(12, 0)) if day < day_of(now) else now,
                       extras={"channel": channel, "by_account_id": entry.by_account_id})
    if member.lost_contact and now - last_seen(member) < timedelta(days=int(setting("lost_contact_days") or 90)):
        member.lost_contact = False
        clear_cases(member, now)
    return entry


def contacts_of(member, limit: int = 100) -> list[ContactLog]:
    return list(db.session.scalars(select(ContactLog).where(ContactLog.member_id == member.id)
                                   .order_by(ContactLog.contacted_on.desc(), ContactLog.id.desc()).limit(limit)))


def last_seen(member) -> datetime:
    """The latest of: last activity, last logged contact, approval of the current outflow, profile creation."""
    candidates = [member.last_active_at, member.created_at]
    last_contact = db.session.scalar(select(func.max(ContactLog.contacted_on)).where(ContactLog.member_id == member.id))
    if last_contact:
        candidates.append(datetime.combine(last_contact, time(12, 0)))
    outflow = active_outflow(member)
    if outflow is not None and outflow.decided_at:
        candidates.append(outflow.decided_at)
    return max(c for c in candidates if c is not None)


def clear_cases(member, now: datetime) -> None:
    for case in db.session.scalars(select(LostContactCase).where(LostContactCase.member_id == member.id,
                                                                  LostContactCase.cleared_at.is_(None))):
        case.cleared_at = now


def open_case(member) -> LostContactCase | None:
    return db.session.scalar(select(LostContactCase).where(LostContactCase.member_id == member.id,
                                                            LostContactCase.cleared_at.is_(None)).limit(1))


def scan_lost_contact(now: datetime) -> list:
    """Flag away members with no activity and no logged contact for N days; escalate old cases; clear resumed ones.

    Returns the ``Alert`` list for ``portal alerts scan``: one per newly lost
    member (to the home branch) and one per escalation (to the parent unit).
    """
    days = int(setting("lost_contact_days") or 90)
    escalate_days = int(setting("lost_contact_escalate_days") or 30)
    alerts = []
    members = db.session.scalars(select(tk.Member).where(or_(tk.Member.is_away.is_(True),
                                                             tk.Member.lost_contact.is_(True))))
    for member in members:
        seen = last_seen(member)
        lost = member.is_away and now - seen >= timedelta(days=days)
        case = open_case(member)
        if not lost:
            if member.lost_contact or case is not None:
                member.lost_contact = False
                clear_cases(member, now)
            continue
        url = tk.path_for("mobility.member", member_id=member.id)
        if case is None:
            member.lost_contact = True
            case = LostContactCase(member_id=member.id, unit_id=member.home_unit_id, flagged_at=now, last_seen_at=seen)
            db.session.add(case)
            alerts.append(tk.Alert("mobility.lost_contact", member.home_unit_id, member.id,
                                   _l("%(name)s has lost contact: nothing heard for %(days)d days",
                                     name=member.name, days=(now - seen).days), url=url))
        elif case.escalated_at is None and now - case.flagged_at >= timedelta(days=escalate_days):
            member.lost_contact = True
            home = member.home_unit
            parent = home.parent if home is not None and home.parent is not None else home
            case.escalated_at = now
            case.escalated_unit_id = parent.id
            accounts = tuple(tk.secretaries_of(parent, roles=tk.UNIT_OFFICER_ROLES))
            alerts.append(tk.Alert("mobility.lost_contact_escalated", parent.id, member.id,
                                   _l("%(name)s of %(unit)s is still out of contact after %(days)d days",
                                     name=member.name, unit=home.name, days=(now - seen).days),
                                   url=url, account_ids=accounts))
        else:
            member.lost_contact = True
    return alerts

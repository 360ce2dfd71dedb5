"""Contact people (1+1), the contact log, and lost-contact cases with their escalation."""
from __future__ import annotations

from dataclasses import dataclass
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
    """The 1+1 pairing: a member at home keeps in touch with ``member`` (never chosen by ``member``
    themself: :func:`tk.require_acting_on`)."""
    tk.require_acting_on(member, "mobility.manage", member.home_unit)
    if contact_member is None or contact_member.id == member.id:
        raise tk.Invalid(_("Choose another member."), field="contact_member_id")
    if contact_member.home_unit is None or not member.home_unit or not (
            member.home_unit.contains(contact_member.home_unit) or contact_member.home_unit.contains(member.home_unit)
            or contact_member.home_unit_id in tk.branch_unit_ids(member.home_unit)):
        raise tk.Invalid(_("The contact person must belong to the same branch."), field="contact_member_id")
    member.contact_member_id = contact_member.id
    member.contact = contact_member


def contact_candidates(member) -> list:
    """Members of the same home branch (its party groups included) who are at home (to be a contact person)."""
    branch = tk.branch_unit_ids(member.home_unit)
    return list(db.session.scalars(select(tk.Member).where(tk.Member.home_unit_id.in_(branch),
                                                           tk.Member.id != member.id, tk.Member.is_away.is_(False))
                                   .order_by(tk.Member.name).limit(200)))


def log_contact(member, channel: str, contacted_on: Any, note: str | None = None, *, by_account=None,
                now: datetime | None = None, reached: bool = True) -> ContactLog:
    """Record a contact with an away member (it also clears a lost-contact flag).

    ``reached=False`` records an attempt that reached nobody: it shows on the
    lost-contact list what was tried, and is not a sign of life. Nobody logs a
    contact with themself (:func:`tk.require_acting_on`): it would clear their
    own lost-contact case.
    """
    tk.require_acting_on(member, "mobility.manage", member.home_unit)  # the current user; none in the demo or CLI
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
                       channel=channel, reached=reached, note=clean_text(note, 2000) or None, created_at=now)
    db.session.add(entry)
    db.session.flush()
    if not reached:
        return entry
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
    last_contact = db.session.scalar(select(func.max(ContactLog.contacted_on)).where(
        ContactLog.member_id == member.id, ContactLog.reached.is_(True)))
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


#: Who acts on a lost contact (the one rule: the nearest unit up the tree with someone holding it).
PERMISSION = "mobility.manage"


def scan_lost_contact(now: datetime) -> list:
    """Flag away members with no activity and no logged contact for N days; escalate old cases; clear resumed ones.

    Returns the ``Alert`` list for ``portal alerts scan``: one per newly lost
    member (to whoever answers for the home branch) and one per escalation (to
    the next unit up with someone to act). The open case is the marker: each
    member is flagged once and escalated once.
    """
    limits = lost_contact_limits()
    members = db.session.scalars(select(tk.Member).where(or_(tk.Member.is_away.is_(True),
                                                             tk.Member.lost_contact.is_(True))))
    return [alert for member in members if (alert := check_lost_contact(member, now, limits)) is not None]


def lost_contact_limits() -> tuple[timedelta, timedelta]:
    """(silence after which an away member counts as lost, time after which an open case escalates): settings."""
    return (timedelta(days=int(setting("lost_contact_days") or 90)),
            timedelta(days=int(setting("lost_contact_escalate_days") or 30)))


def check_lost_contact(member, now: datetime, limits: tuple[timedelta, timedelta] | None = None):
    """The lost-contact scan for one member: flag, escalate or clear; returns the ``Alert`` to raise, if any."""
    lost_after, escalate_after = limits or lost_contact_limits()
    seen = last_seen(member)
    lost = member.is_away and now - seen >= lost_after
    case = open_case(member)
    if not lost:
        if member.lost_contact or case is not None:
            member.lost_contact = False
            clear_cases(member, now)
        return None
    member.lost_contact = True
    url = tk.path_for("mobility.member", member_id=member.id)
    if case is None:
        db.session.add(LostContactCase(member_id=member.id, unit_id=member.home_unit_id, flagged_at=now,
                                       last_seen_at=seen))
        return tk.Alert("mobility.lost_contact", member.home_unit_id, member.id,
                        _l("%(name)s has lost contact: nothing heard for %(days)d days",
                          name=member.name, days=(now - seen).days), url=url, permission=PERMISSION)
    if case.escalated_at is None and now - case.flagged_at >= escalate_after:
        target = escalation_unit(member.home_unit)
        case.escalated_at = now
        case.escalated_unit_id = target.id
        return tk.Alert("mobility.lost_contact_escalated", target.id, member.id,
                        _l("%(name)s of %(unit)s is still out of contact after %(days)d days",
                          name=member.name, unit=member.home_unit.name, days=(now - seen).days),
                        url=url, permission=PERMISSION)
    return None


def escalation_unit(home):
    """Where a case goes when the first alert went unanswered: the next unit up with someone to act.

    Above the unit that got the first alert (not merely above the home
    branch: a branch without a secretary was already answered for by its parent).
    """
    first, _accounts = tk.responsible_accounts(home, PERMISSION)
    start = first.parent if first is not None and first.parent is not None else first
    target, _accounts = tk.responsible_accounts(start, PERMISSION)
    return target or home


@dataclass(frozen=True)
class LostContactRow:
    """A line of the lost-contact list: how long nothing was heard, the last contact, who keeps in touch, what was tried."""

    member: Any
    case: LostContactCase | None
    days: int  # calendar days since the last sign of life (a contact reached, activity, the outflow's approval)
    last_contact: ContactLog | None
    attempts: int
    recent_attempts: list[ContactLog]


def lost_contact_rows(members: list, now: datetime, recent: int = 3) -> list[LostContactRow]:
    """The lost-contact list's rows for ``members``: the attempts are the log entries since their case opened."""
    ids = [member.id for member in members]
    cases = {case.member_id: case for case in db.session.scalars(select(LostContactCase).where(
        LostContactCase.member_id.in_(ids), LostContactCase.cleared_at.is_(None)))} if ids else {}
    entries: dict[int, list[ContactLog]] = {}
    for entry in db.session.scalars(select(ContactLog).where(ContactLog.member_id.in_(ids)).order_by(
            ContactLog.contacted_on.desc(), ContactLog.id.desc())) if ids else ():
        entries.setdefault(entry.member_id, []).append(entry)
    rows = []
    for member in members:
        case, log = cases.get(member.id), entries.get(member.id, [])
        tried = [e for e in log if case is not None and e.created_at >= case.flagged_at]
        rows.append(LostContactRow(member, case, (tk.local_today(now) - tk.local_date(last_seen(member))).days,
                                   next((e for e in log if e.reached), None), len(tried), tried[:recent]))
    return rows

"""What mobility holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from .labels import CHANNEL_LABELS, CHECKIN_STATUS_LABELS, IDENTITY_LABELS, OUTFLOW_STATUS_LABELS, TRANSFER_STATUS_LABELS
from .models import Certificate, CheckIn, ContactLog, Move, Outflow, Transfer
from .returns import stored_summary

db = tk.db

CERTIFICATE_STATUS_LABELS = {"active": _l("valid"), "closed": _l("closed")}
MOVE_KIND_LABELS = {"change": _l("change reported"), "confirm": _l("details confirmed"),
                    "checkin": _l("located at a host branch")}
CHECKIN_SOURCE_LABELS = {"member": _l("reported by me"), "host": _l("registered by the host branch")}
#: The fields a reported change names (the keys of ``old_values``/``new_values``).
MOVE_FIELD_LABELS = {"employer": _l("Employer"), "industry": _l("Industry"), "phone": _l("Phone"),
                     "place_code": _l("Place code"), "current_province": _l("Province"),
                     "current_city": _l("City"), "district": _l("District")}


def _records(model, member_id: int) -> list:
    return list(db.session.scalars(select(model).where(model.member_id == member_id).order_by(model.id)))


def personal_data(member) -> list[tk.PersonalSection]:
    """Every mobility record about ``member`` (accounts of the people who handled them are not exported)."""
    return [_outflows(member), _certificates(member), _checkins(member), _moves(member), _contacts(member),
            _transfers(member)]


def _outflows(member) -> tk.PersonalSection:
    return tk.PersonalSection("outflows", _l("Outflow registrations"), (
        ("id", _l("Number"), "number"), ("status", _l("Status"), "choice", OUTFLOW_STATUS_LABELS),
        ("home_unit", _l("Home branch")), ("destination", _l("Destination")),
        ("destination_code", _l("Destination code")), ("current_place", _l("Where I am now")),
        ("employer", _l("Employer")), ("industry", _l("Industry")), ("start_date", _l("Leaving on"), "date"),
        ("expected_months", _l("Expected months away"), "number"), ("reason", _l("Reason")),
        ("contact_there", _l("Contact there")), ("created_at", _l("Registered"), "datetime"),
        ("decided_at", _l("Decided"), "datetime"), ("decision_note", _l("Decision note")),
        ("last_confirmed_at", _l("Details last confirmed"), "datetime"), ("returned_on", _l("Returned on"), "date"),
        ("return_note", _l("Return note")), ("return_summary", _l("Summary at return"), "lines"),
    ), [{"id": o.id, "status": o.status, "home_unit": o.home_unit.name,
         "destination": tk.place_name(o.destination_code) or " ".join(
             p for p in (o.destination_province, o.destination_city, o.destination_district) if p),
         "destination_code": o.destination_code, "current_place": tk.place_name(o.current_place_code),
         "employer": o.employer, "industry": o.industry, "start_date": o.start_date,
         "expected_months": o.expected_months, "reason": o.reason, "contact_there": o.contact_there,
         "created_at": o.created_at, "decided_at": o.decided_at, "decision_note": o.decision_note,
         "last_confirmed_at": o.last_confirmed_at, "returned_on": o.returned_on, "return_note": o.return_note,
         "return_summary": _return_lines(o)} for o in _records(Outflow, member.id)])


def _return_lines(outflow: Outflow) -> list[str]:
    """What was kept at return, one line per figure (the stored summary holds labels already translated)."""
    sections, facts = stored_summary(outflow)
    lines = [f"{section.get('title') or section.get('plugin')}: {label} {value}"
             for section in sections for label, value in section.get("items", [])]
    if facts:
        lines.append(_("%(days)s days away", days=facts.get("days")))
        lines.append(_("Certificate handed back") if facts.get("certificate_returned") else
                     _("Certificate not handed back"))
    return lines


def _certificates(member) -> tk.PersonalSection:
    return tk.PersonalSection("certificates", _l("Activity certificates"), (
        ("number", _l("Certificate number")), ("outflow_id", _l("Outflow registration"), "number"),
        ("issuing_unit", _l("Issued by")), ("issued_at", _l("Issued"), "datetime"),
        ("valid_until", _l("Valid until"), "date"), ("status", _l("Status"), "choice", CERTIFICATE_STATUS_LABELS),
        ("closed_at", _l("Closed"), "datetime"), ("closed_note", _l("Closing note")),
    ), [{"number": c.number, "outflow_id": c.outflow_id, "issuing_unit": c.issuing_unit.name,
         "issued_at": c.issued_at, "valid_until": c.valid_until, "status": c.status, "closed_at": c.closed_at,
         "closed_note": c.closed_note} for c in _records(Certificate, member.id)])


def _checkins(member) -> tk.PersonalSection:
    return tk.PersonalSection("checkins", _l("Check-ins at host branches"), (
        ("host_unit", _l("Host branch")), ("status", _l("Status"), "choice", CHECKIN_STATUS_LABELS),
        ("source", _l("Reported by"), "choice", CHECKIN_SOURCE_LABELS),
        ("identity_status", _l("Identity"), "choice", IDENTITY_LABELS), ("note", _l("Note")),
        ("requested_at", _l("Requested"), "datetime"), ("confirmed_at", _l("Confirmed"), "datetime"),
        ("ended_at", _l("Ended"), "datetime"),
    ), [{"host_unit": c.host_unit.name, "status": c.status, "source": c.source,
         "identity_status": c.identity_status, "note": c.note, "requested_at": c.requested_at,
         "confirmed_at": c.confirmed_at, "ended_at": c.ended_at} for c in _records(CheckIn, member.id)])


def _moves(member) -> tk.PersonalSection:
    return tk.PersonalSection("moves", _l("Reported changes"), (
        ("kind", _l("Type of report"), "choice", MOVE_KIND_LABELS), ("changed_on", _l("Changed on"), "date"),
        ("reported_at", _l("Reported"), "datetime"), ("late", _l("Reported late"), "bool"),
        ("old_values", _l("Before"), "lines", MOVE_FIELD_LABELS),
        ("new_values", _l("After"), "lines", MOVE_FIELD_LABELS), ("note", _l("Note")),
    ), [{"kind": m.kind, "changed_on": m.changed_on, "reported_at": m.reported_at, "late": m.late,
         "old_values": m.old_values or {}, "new_values": m.new_values or {}, "note": m.note}
        for m in _records(Move, member.id)])


def _contacts(member) -> tk.PersonalSection:
    return tk.PersonalSection("contacts", _l("Contact log"), (
        ("contacted_on", _l("Date"), "date"), ("channel", _l("How"), "choice", CHANNEL_LABELS),
        ("reached", _l("Reached"), "bool"), ("note", _l("Note")), ("by", _l("By")),
    ), [{"contacted_on": c.contacted_on, "channel": c.channel, "reached": c.reached, "note": c.note,
         "by": c.by_account.display_name if c.by_account else None} for c in _records(ContactLog, member.id)])


def _transfers(member) -> tk.PersonalSection:
    return tk.PersonalSection("transfers", _l("Membership transfers"), (
        ("number", _l("Number")), ("from_unit", _l("From")), ("to_unit", _l("To")), ("reason", _l("Reason")),
        ("status", _l("Status"), "choice", TRANSFER_STATUS_LABELS), ("requested_at", _l("Requested"), "datetime"),
        ("completed_at", _l("Completed"), "datetime"), ("decision_note", _l("Decision note")),
    ), [{"number": t.number, "from_unit": t.from_unit.name, "to_unit": t.to_unit.name, "reason": t.reason,
         "status": t.status, "requested_at": t.requested_at, "completed_at": t.completed_at,
         "decision_note": t.decision_note} for t in _records(Transfer, member.id)])


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


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's mobility evidence: away now and the host branch, check-ins at hosts in the period."""
    start, end = tk.local_day_bounds(since)[0], tk.local_day_bounds(until)[1]
    checkins = tk.count(select(CheckIn).where(
        CheckIn.member_id == member.id, CheckIn.confirmed_at >= start, CheckIn.confirmed_at < end))
    host = member.host_unit.name if member.is_away and member.host_unit is not None else None
    figures = {"away": bool(member.is_away), "host_unit": host, "checkins": checkins}
    lines = [(_("Away from the home branch"), _("Yes") if member.is_away else _("No"))]
    if host:
        lines.append((_("Host branch"), host))
    lines.append((_("Check-ins at host branches"), checkins))
    return {"key": "mobility", "label": _l("Mobility"), "figures": figures, "lines": lines}

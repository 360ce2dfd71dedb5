"""What meetings hold about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from .meetings import home_unit_ids
from .models import Attendee, Meeting, Notice, NoticeReceipt
from .vocabulary import ATTENDANCE_LABELS, KIND_LABELS, LEAVE_LABELS, METHOD_LABELS, ROLE_LABELS, STATUS_LABELS

#: Meetings whose list means something for the member: called, or held and later (drafts and cancelled ones do not).
COUNTED_STATUSES = ("notified", "held", "minuted", "archived")


def _shown_status(status: str, meeting_status: str, ends_at: datetime, now: datetime) -> str:
    """The attendance as the register reads it: nothing recorded once a counted meeting ended is absent."""
    if status == "expected" and meeting_status in COUNTED_STATUSES and ends_at < now:
        return "absent"
    return status


def _attendance_rows(member) -> list[dict]:
    """One row per meeting the member was listed for, oldest first (columns only: other attendees stay unloaded)."""
    now = tk.utcnow()
    rows = tk.db.session.execute(
        select(Meeting.topic, Meeting.kind, Meeting.status.label("meeting_status"), Meeting.starts_at,
               Meeting.ends_at, tk.OrgUnit.name.label("unit"), Attendee.role, Attendee.status, Attendee.method,
               Attendee.checked_in_at, Attendee.leave_reason, Attendee.leave_state)
        .join(Meeting, Meeting.id == Attendee.meeting_id).join(tk.OrgUnit, tk.OrgUnit.id == Meeting.unit_id)
        .where(Attendee.member_id == member.id).order_by(Meeting.starts_at, Meeting.id)).all()
    return [{"meeting": r.topic, "unit": r.unit, "kind": r.kind, "meeting_status": r.meeting_status,
             "starts_at": r.starts_at, "role": r.role,
             "status": _shown_status(r.status, r.meeting_status, r.ends_at, now), "method": r.method,
             "checked_in_at": r.checked_in_at, "leave_reason": r.leave_reason, "leave_state": r.leave_state}
            for r in rows]


def _receipt_rows(member) -> list[dict]:
    """One row per notice addressed to the member, newest first."""
    rows = tk.db.session.execute(
        select(Notice.title, Notice.body, Notice.requires_ack, Notice.deadline, tk.OrgUnit.name.label("unit"),
               NoticeReceipt.delivered_at, NoticeReceipt.read_at, NoticeReceipt.acknowledged_at, NoticeReceipt.reply)
        .join(Notice, Notice.id == NoticeReceipt.notice_id).join(tk.OrgUnit, tk.OrgUnit.id == Notice.unit_id)
        .where(NoticeReceipt.member_id == member.id)
        .order_by(NoticeReceipt.delivered_at.desc(), NoticeReceipt.id.desc())).all()
    return [{"title": r.title, "body": r.body, "unit": r.unit, "delivered_at": r.delivered_at,
             "requires_ack": r.requires_ack, "deadline": r.deadline, "read_at": r.read_at,
             "acknowledged_at": r.acknowledged_at, "reply": r.reply} for r in rows]


def personal_data(member) -> list[tk.PersonalSection]:
    """The meetings the member was listed for and what was recorded, and the notices sent to them."""
    return [
        tk.PersonalSection("attendance", _l("Meetings and attendance"), (
            ("meeting", _l("Meeting")), ("unit", _l("Unit")), ("kind", _l("Kind"), "choice", KIND_LABELS),
            ("meeting_status", _l("Meeting status"), "choice", STATUS_LABELS),
            ("starts_at", _l("Starts"), "datetime"), ("role", _l("Listed as"), "choice", ROLE_LABELS),
            ("status", _l("Attendance"), "choice", ATTENDANCE_LABELS),
            ("method", _l("How it was recorded"), "choice", METHOD_LABELS),
            ("checked_in_at", _l("Checked in"), "datetime"), ("leave_reason", _l("Reason for leave")),
            ("leave_state", _l("Leave request"), "choice", LEAVE_LABELS),
        ), _attendance_rows(member)),
        tk.PersonalSection("notices", _l("Notices received"), (
            ("title", _l("Title")), ("body", _l("Text")), ("unit", _l("Sent by")),
            ("delivered_at", _l("Received"), "datetime"), ("requires_ack", _l("Sign-off required"), "bool"),
            ("deadline", _l("Sign by"), "datetime"), ("read_at", _l("Read"), "datetime"),
            ("acknowledged_at", _l("Signed"), "datetime"), ("reply", _l("Reply")),
        ), _receipt_rows(member)),
    ]


def _period(query, column, since: datetime | None, until: datetime | None):
    """``query`` limited to ``since <= column < until`` (an open end is no limit)."""
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


def member_summary(member, since: datetime | None, until: datetime | None) -> list[tuple[str, int]]:
    """Meetings attended (on site or online), missed and on leave in the period; notices signed.

    Two grouped queries: attendance by outcome for meetings starting in the period (a meeting
    not over yet is neither attended nor missed until something is recorded), and signed notices.
    """
    outcome = case((Attendee.status.in_(("present", "online")), "attended"), (Attendee.status == "leave", "leave"),
                   (Meeting.ends_at < tk.utcnow(), "missed"), else_="pending")
    query = (select(outcome, func.count(Attendee.id)).join(Meeting, Meeting.id == Attendee.meeting_id)
             .where(Attendee.member_id == member.id, Meeting.status.in_(COUNTED_STATUSES)).group_by(outcome))
    counts = dict(tk.db.session.execute(_period(query, Meeting.starts_at, since, until)).all())
    signed = tk.db.session.scalar(_period(
        select(func.count(NoticeReceipt.id)).where(NoticeReceipt.member_id == member.id,
                                                  NoticeReceipt.acknowledged_at.is_not(None)),
        NoticeReceipt.acknowledged_at, since, until))
    return [(_("Meetings attended"), counts.get("attended", 0)), (_("Meetings missed"), counts.get("missed", 0)),
            (_("Meetings on leave"), counts.get("leave", 0)), (_("Notices signed"), signed or 0)]


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's meetings evidence for local days ``since..until``: attended, missed, attended at the host.

    One grouped query over the meetings that started in the period; "at the host" is a meeting attended
    of a unit other than the member's home branch, its party groups and the units above (where a member away
    takes part in branch life).
    """
    start, end = tk.local_day_bounds(since)[0], tk.local_day_bounds(until)[1]
    attended = Attendee.status.in_(("present", "online"))
    outcome = case((attended, "attended"), (Attendee.status == "leave", "leave"),
                   (Meeting.ends_at < tk.utcnow(), "missed"), else_="pending")
    away = case((and_(attended, Meeting.unit_id.not_in(sorted(home_unit_ids(member)))), 1), else_=0)
    rows = tk.db.session.execute(
        select(outcome, func.count(Attendee.id), func.sum(away)).join(Meeting, Meeting.id == Attendee.meeting_id)
        .where(Attendee.member_id == member.id, Meeting.status.in_(COUNTED_STATUSES),
               Meeting.starts_at >= start, Meeting.starts_at < end).group_by(outcome)).all()
    counts = {row[0]: row[1] for row in rows}
    figures = {"attended": counts.get("attended", 0), "missed": counts.get("missed", 0),
               "attended_at_host": sum(row[2] or 0 for row in rows)}
    return {"key": "meetings", "label": _l("Meetings"), "figures": figures,
            "lines": [(_("Meetings attended"), figures["attended"]), (_("Meetings missed"), figures["missed"]),
                      (_("Meetings attended at the host branch"), figures["attended_at_host"])]}

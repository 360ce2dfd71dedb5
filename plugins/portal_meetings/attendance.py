"""Who came: the rotating check-in code, check-in, leave requests, the secretary's register and the summary.

Present or online records ONE activity per member and meeting (the same idempotency key for
both verbs), counted for the member's home branch wherever the meeting was. Once counted, the
register cannot turn the row into absent or leave.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from flask import current_app
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_meetings.meetings import attendee_row, can_manage, home_unit_ids, meeting_url, require_manage
from portal_meetings.models import Attendee, Meeting

db = tk.db

#: Meetings whose attendance may be taken.
CHECKIN_STATUSES = ("notified", "held")
#: Statuses the register may set.
REGISTER_STATUSES = ("present", "online", "leave", "absent")
COUNTED = ("present", "online")
REASON_MAX = 1000


def _slot_seconds() -> int:
    return int(tk.get_setting("meetings", "checkin_code_seconds"))


def _slot(now: datetime) -> int:
    return int(now.replace(tzinfo=timezone.utc).timestamp()) // _slot_seconds()


def _code_for(meeting: Meeting, slot: int) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"{meeting.id}:{meeting.checkin_secret}:{slot}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:8]


def current_code(meeting: Meeting, now: datetime | None = None) -> str:
    """The code the meeting's QR carries at ``now`` (changes every ``checkin_code_seconds``)."""
    return _code_for(meeting, _slot(now or tk.utcnow()))


def code_matches(meeting: Meeting, code: str, now: datetime) -> bool:
    """Is ``code`` the meeting's code of the current or the previous slot (a code shown just before it changed)?"""
    given = (code or "").strip().upper()
    slot = _slot(now)
    return any(hmac.compare_digest(given, _code_for(meeting, s)) for s in (slot, slot - 1))


def checkin_path(meeting: Meeting, code: str) -> str:
    """The path the QR code points at (the member's check-in page)."""
    return tk.path_for("meetings.checkin", meeting_id=meeting.id, code=code)


def checkin_window(meeting: Meeting) -> tuple[datetime, datetime]:
    """``(opens, closes)`` in naive UTC: from before the start to after the end, by the settings."""
    opens = meeting.starts_at - timedelta(minutes=int(tk.get_setting("meetings", "checkin_opens_minutes")))
    closes = meeting.ends_at + timedelta(minutes=int(tk.get_setting("meetings", "checkin_closes_minutes")))
    return opens, closes


def is_open(meeting: Meeting, now: datetime | None = None) -> bool:
    """May members check in at ``now`` (a called or held meeting inside its window)?"""
    opens, closes = checkin_window(meeting)
    return meeting.status in CHECKIN_STATUSES and opens <= (now or tk.utcnow()) <= closes


def attendee_of(meeting: Meeting, member: tk.Member) -> Attendee | None:
    """``member``'s row on ``meeting``'s list, if any."""
    return attendee_row(meeting, member)


def _row_for(meeting: Meeting, member: tk.Member, role: str) -> Attendee:
    """The member's row, added (as ``role``, by hand) when missing; a concurrent insert of the same row wins."""
    row = db.session.scalar(select(Attendee).where(Attendee.meeting_id == meeting.id,
                                                   Attendee.member_id == member.id))
    if row is not None:
        return row
    row = Attendee(meeting_id=meeting.id, member_id=member.id, role=role, automatic=False, status="expected")
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        row = db.session.scalar(select(Attendee).where(Attendee.meeting_id == meeting.id,
                                                       Attendee.member_id == member.id))
        if row is None:
            raise
    return row


def _count(meeting: Meeting, member: tk.Member, row: Attendee, status: str, method: str, now: datetime) -> bool:
    """Set ``row`` present/online and record the one activity; True when the activity is new."""
    verb = "meeting.attended" if status == "present" else "meeting.attended_online"
    activity, created = tk.record_activity(
        member, verb, "meeting", meeting.id, key=f"meeting.attended:{member.id}:{meeting.id}", at=now,
        extras={"unit_id": meeting.unit_id, "kind": meeting.kind, "at_host": meeting.unit_id not in home_unit_ids(member)})
    # Present outranks online: a member who joined online and then walked in is present.
    if row.status != "present":
        row.status, row.method = status, method
    row.checked_in_at = row.checked_in_at or now
    row.activity_id = activity.id
    if row.leave_state == "requested":
        row.leave_state = None
    return created


def check_in(meeting: Meeting, member: tk.Member, code: str | None, *,
             now: datetime | None = None) -> tuple[Attendee, bool]:
    """Check ``member`` in with the scanned ``code`` (present), or without one at an online meeting (online).

    Returns ``(row, newly_recorded)``; a repeat returns the same row and records nothing more.
    409 outside the window, 422 for a code that is not this meeting's.
    """
    now = now or tk.utcnow()
    if not is_open(meeting, now):
        raise tk.Conflict(_l("Check-in is not open for this meeting now."), code="checkin_closed")
    if code:
        if not code_matches(meeting, code, now):
            raise tk.Invalid(_l("This code is not for this meeting."), field="code", code="wrong_code")
        status, method = "present", "qr"
        row = _row_for(meeting, member, "guest")
    else:
        row = attendee_row(meeting, member)
        if meeting.mode == "onsite":
            raise tk.Invalid(_l("Scan the code shown at the meeting to check in."), field="code")
        if row is None:
            raise tk.Invalid(_l("Only members expected at this meeting can join online."), field="code")
        status, method = "online", "online"
    tk.lock(row)
    if row.activity_id is not None and (row.status == "present" or row.status == status):
        return row, False
    created = _count(meeting, member, row, status, method, now)
    db.session.flush()
    return row, created


def request_leave(meeting: Meeting, member: tk.Member, reason: str, *, now: datetime | None = None) -> Attendee:
    """The member asks for leave before the meeting starts, with a reason; the secretaries are told."""
    now = now or tk.utcnow()
    row = attendee_row(meeting, member)
    if row is None:
        raise tk.Conflict(_l("You are not on the list of this meeting."))
    if meeting.status != "notified" or now >= meeting.starts_at:
        raise tk.Conflict(_l("Leave can be requested only before the meeting starts."), code="too_late")
    if row.activity_id is not None:
        raise tk.Conflict(_l("Your attendance is already counted."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise tk.Invalid(_l("Give a reason for your leave."), field="reason")
    if len(reason) > REASON_MAX:
        raise tk.Invalid(_l("At most %(n)s characters.", n=REASON_MAX), field="reason")
    row.status, row.leave_state, row.leave_reason, row.leave_requested_at = "leave_requested", "requested", reason, now
    row.leave_decided_at = row.leave_decided_by_account_id = None
    _, accounts = tk.responsible_accounts(meeting.unit, "meetings.manage")
    tk.notify(accounts, _l("Leave requested: %(name)s", name=member.name),
              _l("%(name)s asks for leave from %(topic)s: %(reason)s", name=member.name, topic=meeting.topic,
                 reason=reason), url=tk.path_for("meetings_manage.meeting", meeting_id=meeting.id), kind="meetings")
    db.session.flush()
    return row


def decide_leave(meeting: Meeting, member: tk.Member, approve: bool, *, by, now: datetime | None = None) -> Attendee:
    """Approve (on leave) or refuse (expected again) a member's leave request; the member is told."""
    require_manage(meeting.unit, by)
    tk.require_acting_on(member, "meetings.manage", meeting.unit, account=by)
    row = attendee_row(meeting, member)
    if row is None or row.leave_state != "requested" or row.status != "leave_requested":
        raise tk.Conflict(_l("There is no open leave request from this member."))
    tk.lock(row)
    row.status = "leave" if approve else "expected"
    row.leave_state = "approved" if approve else "refused"
    row.leave_decided_at, row.leave_decided_by_account_id = now or tk.utcnow(), by.id if by is not None else None
    if member.account_id:
        title = (_l("Leave approved: %(topic)s", topic=meeting.topic) if approve
                 else _l("Leave refused: %(topic)s", topic=meeting.topic))
        tk.notify([member.account_id], title, url=meeting_url(meeting), kind="meetings")
    db.session.flush()
    return row


def mark(meeting: Meeting, member: tk.Member, status: str, *, by, now: datetime | None = None) -> Attendee:
    """The register: tick ``member`` present/online/leave/absent. A counted attendance cannot be un-counted."""
    require_manage(meeting.unit, by)
    tk.require_acting_on(member, "meetings.manage", meeting.unit, account=by)
    if status not in REGISTER_STATUSES:
        raise tk.Invalid(_l("Choose present, online, on leave or absent."), field="status")
    if meeting.status not in ("notified", "held", "minuted"):
        raise tk.Conflict(_l("The register of this meeting cannot be changed."))
    now = now or tk.utcnow()
    opens, _closes = checkin_window(meeting)
    if status != "leave" and now < opens:
        raise tk.Conflict(_l("Attendance can be taken only once the meeting is about to start."))
    row = _row_for(meeting, member, "guest") if status in COUNTED else attendee_row(meeting, member)
    if row is None:
        raise tk.Invalid(_l("This member is not on the list of this meeting."), field="member_id")
    tk.lock(row)
    if status in COUNTED:
        _count(meeting, member, row, status, "register", now)
    elif row.activity_id is not None:
        raise tk.Conflict(_l("This attendance is already counted and cannot be changed to absent or leave."),
                          code="already_counted")
    else:
        row.status, row.method = status, "register"
        if status == "leave":
            row.leave_state = "approved"
            row.leave_decided_at, row.leave_decided_by_account_id = now, by.id if by is not None else None
    row.confirmed_by_account_id = by.id if by is not None else None
    db.session.flush()
    return row


def visible_rows(meeting: Meeting, account) -> list[Attendee] | None:
    """The rows ``account`` may see: all for managers, their own members' for a home-branch secretary, else None."""
    if account is None or can_manage(meeting, account):
        return list(meeting.attendees)
    rows = [row for row in meeting.attendees if tk.can("meetings.manage", row.member.home_unit, account)]
    return rows or None


def summary(meeting: Meeting, *, account=None, now: datetime | None = None) -> dict:
    """Counts and per-member statuses (the API shape); a home-branch secretary sees only their members.

    ``absent`` counts the listed rows not present, online or on leave once the meeting has started;
    after its end a row with nothing recorded is reported as absent.
    """
    now = now or tk.utcnow()
    rows = visible_rows(meeting, account) or []
    started, ended = now >= meeting.starts_at, now >= meeting.ends_at
    counts = {status: sum(1 for row in rows if row.status == status) for status in ("present", "online", "leave")}
    absent = len(rows) - sum(counts.values()) if started else 0
    members = []
    for row in sorted(rows, key=lambda r: (r.member.name, r.member_id)):
        status = row.status
        if ended and status in ("expected", "leave_requested"):
            status = "absent"
        members.append({"member_id": row.member_id, "name": row.member.name, "role": row.role, "status": status,
                        "method": row.method})
    return {"expected": len(rows), **counts, "absent": absent, "members": members}

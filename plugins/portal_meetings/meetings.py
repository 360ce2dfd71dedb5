"""Calling meetings and their life cycle, who is expected, and the files kept with them.

``draft → notified → held → minuted → archived``, or ``cancelled`` from draft or notified.
Times arrive as local time (a form's ``2026-12-01T19:30`` or a value with an offset) and are
stored as naive UTC. Every change members should hear of (called, moved, cancelled) is told
to the expected members' accounts with lazy strings, so each reads it in their language.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any

from flask import has_request_context
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, or_, select, union
from sqlalchemy.orm import lazyload

from portal import toolkit as tk
from portal_meetings.models import HELD_STATUSES, KINDS, MODES, Attachment, Attendee, Meeting

db = tk.db

TOPIC_MAX = 200
PLACE_MAX = 200
URL_MAX = 500
NAME_MAX = 100
TEXT_MAX = 20000
#: Roles of the rows the expected list computes (the others are added by hand or by a check-in).
AUTOMATIC_ROLES = ("voting", "probationary", "committee", "hosted")
#: Roles a secretary may add by hand.
ADDED_ROLES = ("attending", "activist", "voting", "probationary", "committee", "hosted")
#: States in which the expected list still follows the unit's members.
OPEN_STATUSES = ("draft", "notified")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def get_meeting(meeting_id: int) -> Meeting:
    """The meeting with ``meeting_id``; :class:`tk.NotFound` when there is none."""
    meeting = db.session.get(Meeting, meeting_id) if 0 < meeting_id <= tk.MAX_ID else None
    if meeting is None:
        raise tk.NotFound(_l("Not found."))
    return meeting


def can_manage(meeting: Meeting, account) -> bool:
    """May ``account`` call, edit and keep the register of ``meeting`` (secretaries of its unit or above, admins)?"""
    return account is not None and tk.can("meetings.manage", meeting.unit, account)


def is_member_there(unit: tk.OrgUnit, member: tk.Member | None) -> bool:
    """Is ``member``'s home unit in ``unit``'s subtree, or are they hosted there while away?"""
    if member is None:
        return False
    return unit.contains(member.home_unit) or (member.is_away and unit.contains(member.host_unit))


def can_view(meeting: Meeting, account) -> bool:
    """May ``account`` read ``meeting``: its managers; once called, listed members, members of (or hosted in)
    its unit's subtree, and secretaries of a listed member's home branch."""
    if account is None:
        return False
    if can_manage(meeting, account):
        return True
    if meeting.status == "draft":
        return False
    member = account.member
    if member is not None and (attendee_row(meeting, member) is not None or is_member_there(meeting.unit, member)):
        return True
    return tk.can("meetings.manage", account=account) and any(
        tk.can("meetings.manage", row.member.home_unit, account) for row in meeting.attendees)


def meeting_url(meeting: Meeting) -> str:
    """The member's page of a meeting (the link in notifications)."""
    return tk.path_for("meetings.show", meeting_id=meeting.id)


def require_manage(unit: tk.OrgUnit, by) -> None:
    """404 unless ``by`` manages meetings of ``unit``; the demo and CLI (no request, no account) act freely."""
    if by is None and not has_request_context():
        return
    if by is None or not tk.can("meetings.manage", unit, by):
        raise tk.NotFound(_l("Not found."))


def parse_local_datetime(value: str | datetime | None, field: str) -> datetime:
    """A local time (``2026-12-01T19:30``, ``2026-12-01 19:30`` or with an offset) as naive UTC.

    A naive value (string or datetime) is local time in the ``TIMEZONE``; an aware one is converted.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise tk.Invalid(_l("Enter a date and time like 2026-12-01T19:30."), field=field) from None
    else:
        raise tk.Invalid(_l("Enter a date and time like 2026-12-01T19:30."), field=field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tk.local_zone())
    return parsed.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


def _text(data: dict, name: str, limit: int, errors: dict, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _l("Enter text.")
        return None
    value = value.strip()
    if required and not value:
        errors[name] = _l("This field is required.")
    elif len(value) > limit:
        errors[name] = _l("At most %(n)s characters.", n=limit)
    return value or None


def _clean(data: dict, current: Meeting | None = None) -> dict[str, Any]:
    """Validate a meeting's fields (``current`` fills what ``data`` leaves out); raise :class:`tk.Invalid`."""
    merged = dict(_fields_of(current)) if current is not None else {}
    merged.update({key: value for key, value in data.items() if key in _FIELDS})
    errors: dict[str, Any] = {}
    kind = merged.get("kind")
    if kind not in KINDS:
        errors["kind"] = _l("Choose one of the meeting kinds.")
    mode = merged.get("mode") or "onsite"
    if mode not in MODES:
        errors["mode"] = _l("Choose on site, online or both.")
    cleaned: dict[str, Any] = {"kind": kind, "mode": mode}
    cleaned["topic"] = _text(merged, "topic", TOPIC_MAX, errors, required=True)
    cleaned["place"] = _text(merged, "place", PLACE_MAX, errors, required=mode in ("onsite", "hybrid"))
    cleaned["online_url"] = _text(merged, "online_url", URL_MAX, errors)
    if cleaned["online_url"] and not _URL.fullmatch(cleaned["online_url"]):
        errors["online_url"] = _l("Enter a link starting with http:// or https://.")
    for name in ("host_name", "recorder_name", "lecturer_name"):
        cleaned[name] = _text(merged, name, NAME_MAX, errors)
    cleaned["agenda"] = _text(merged, "agenda", TEXT_MAX, errors) or ""
    for name in ("starts_at", "ends_at"):
        try:
            cleaned[name] = parse_local_datetime(merged.get(name), name)
        except tk.Invalid as error:
            errors.update(error.field_errors)
    if "starts_at" in cleaned and "ends_at" in cleaned and cleaned["ends_at"] <= cleaned["starts_at"]:
        errors["ends_at"] = _l("The meeting must end after it starts.")
    if errors:
        raise tk.Invalid(_l("Please correct the marked fields."), errors)
    return cleaned


_FIELDS = ("kind", "topic", "starts_at", "ends_at", "mode", "place", "online_url", "agenda",
           "host_name", "recorder_name", "lecturer_name")


def _fields_of(meeting: Meeting) -> dict[str, Any]:
    """A meeting's editable fields, times as aware UTC so they re-parse to themselves."""
    values = {name: getattr(meeting, name) for name in _FIELDS}
    values["starts_at"] = meeting.starts_at.replace(tzinfo=timezone.utc)
    values["ends_at"] = meeting.ends_at.replace(tzinfo=timezone.utc)
    return values


def create_meeting(unit: tk.OrgUnit, data: dict, *, by, now: datetime | None = None, call: bool = True) -> Meeting:
    """Create a meeting of ``unit`` from ``data`` (local times); called (notified, members told) when ``call``."""
    require_manage(unit, by)
    if unit.is_closed:
        raise tk.Invalid(_l("This unit is closed."), field="unit_id")
    cleaned = _clean(data)
    now = now or tk.utcnow()
    meeting = Meeting(unit=unit, unit_id=unit.id, status="draft", checkin_secret=secrets.token_hex(16),
                      created_by_account_id=by.id if by is not None else None, created_at=now, **cleaned)
    db.session.add(meeting)
    db.session.flush()
    tk.audit("meetings.create", "meeting", meeting.id, unit_id=unit.id, kind=meeting.kind)
    if call:
        call_meeting(meeting, by=by, now=now)
    return meeting


def update_meeting(meeting: Meeting, data: dict, *, by, now: datetime | None = None) -> Meeting:
    """Edit a meeting not yet held; a called meeting whose time or place changed tells its members ("moved")."""
    require_manage(meeting.unit, by)
    if meeting.status not in OPEN_STATUSES + HELD_STATUSES:
        raise tk.Conflict(_l("A cancelled meeting cannot be edited."))
    cleaned = _clean(data, meeting)
    if meeting.status in HELD_STATUSES and any(
            cleaned[name] != getattr(meeting, name) for name in ("kind", "starts_at", "ends_at")):
        raise tk.Conflict(_l("The kind and times of a held meeting cannot be changed."))
    moved = any(cleaned[name] != getattr(meeting, name) for name in ("starts_at", "ends_at", "place", "mode"))
    for name, value in cleaned.items():
        setattr(meeting, name, value)
    meeting.updated_at = now or tk.utcnow()
    if meeting.status in OPEN_STATUSES:
        refresh_expected(meeting)
    if moved and meeting.status == "notified":
        _tell_members(meeting, _l("Meeting moved: %(topic)s", topic=meeting.topic),
                      _l("The meeting is now at %(time)s, %(place)s. Please check the details.",
                         **_when_where(meeting)))
    tk.audit("meetings.update", "meeting", meeting.id, unit_id=meeting.unit_id, moved=moved)
    return meeting


def call_meeting(meeting: Meeting, *, by, now: datetime | None = None) -> None:
    """Call a draft meeting: it becomes notified, its expected list is written and its members are told."""
    require_manage(meeting.unit, by)
    if meeting.status != "draft":
        raise tk.Conflict(_l("Only a draft meeting can be called."))
    meeting.status = "notified"
    meeting.notified_at = now or tk.utcnow()
    refresh_expected(meeting)
    _tell_members(meeting, _l("Meeting called: %(topic)s", topic=meeting.topic),
                  _l("You are expected at %(time)s, %(place)s. If you cannot come, ask for leave before it starts.",
                     **_when_where(meeting)))
    tk.audit("meetings.call", "meeting", meeting.id, unit_id=meeting.unit_id)


def cancel_meeting(meeting: Meeting, reason: str, *, by, now: datetime | None = None) -> None:
    """Cancel a draft or called meeting with a reason; the expected members of a called one are told."""
    require_manage(meeting.unit, by)
    if meeting.status not in OPEN_STATUSES:
        raise tk.Conflict(_l("Only a draft or called meeting can be cancelled."))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise tk.Invalid(_l("Give a reason for cancelling."), field="reason")
    was_called = meeting.status == "notified"
    meeting.status, meeting.cancel_reason, meeting.cancelled_at = "cancelled", reason, now or tk.utcnow()
    if was_called:
        _tell_members(meeting, _l("Meeting cancelled: %(topic)s", topic=meeting.topic),
                      _l("The meeting has been cancelled: %(reason)s", reason=reason))
    tk.audit("meetings.cancel", "meeting", meeting.id, unit_id=meeting.unit_id, reason=reason)


def mark_held(meeting: Meeting, *, by, now: datetime | None = None) -> None:
    """Record that a draft or called meeting took place (only once it has started)."""
    require_manage(meeting.unit, by)
    now = now or tk.utcnow()
    if meeting.status not in OPEN_STATUSES:
        raise tk.Conflict(_l("Only a draft or called meeting can be marked as held."))
    if meeting.starts_at > now:
        raise tk.Conflict(_l("A meeting can be marked as held only after it has started."))
    if meeting.status == "draft":
        refresh_expected(meeting)  # a past meeting recorded afterwards still gets its list
    meeting.status, meeting.held_at = "held", now
    tk.audit("meetings.held", "meeting", meeting.id, unit_id=meeting.unit_id)


def record_minutes(meeting: Meeting, data: dict, *, by, now: datetime | None = None) -> None:
    """Write the minutes (required), decisions and who hosted/recorded/lectured; a held meeting becomes minuted."""
    require_manage(meeting.unit, by)
    if meeting.status not in ("held", "minuted"):
        raise tk.Conflict(_l("Minutes can be recorded only for a held meeting."))
    errors: dict[str, Any] = {}
    minutes = _text(data, "minutes", TEXT_MAX, errors, required=True)
    decisions = _text(data, "decisions", TEXT_MAX, errors)
    names = {name: _text(data, name, NAME_MAX, errors) for name in ("host_name", "recorder_name", "lecturer_name")}
    if errors:
        raise tk.Invalid(_l("Please correct the marked fields."), errors)
    meeting.minutes, meeting.decisions = minutes or "", decisions or ""
    for name, value in names.items():
        if value is not None or name in data:
            setattr(meeting, name, value)
    if meeting.status == "held":
        meeting.status, meeting.minuted_at = "minuted", now or tk.utcnow()
    tk.audit("meetings.minutes", "meeting", meeting.id, unit_id=meeting.unit_id)


def archive_meeting(meeting: Meeting, *, by, now: datetime | None = None) -> None:
    """Archive a minuted meeting (nothing changes afterwards)."""
    require_manage(meeting.unit, by)
    if meeting.status != "minuted":
        raise tk.Conflict(_l("Only a minuted meeting can be archived."))
    meeting.status, meeting.archived_at = "archived", now or tk.utcnow()
    tk.audit("meetings.archive", "meeting", meeting.id, unit_id=meeting.unit_id)


def _expected_members(meeting: Meeting) -> dict[int, str]:
    """``{member_id: role}`` the rules expect at ``meeting`` (design: the unit's members, hosted ones, or the committee)."""
    unit = meeting.unit
    if meeting.kind == "committee":
        role_class = tk.Account.roles.property.mapper.class_
        query = (select(tk.Member.id).join(tk.Account, tk.Account.id == tk.Member.account_id)
                 .where(tk.Account.roles.any(and_(role_class.unit_id == unit.id,
                                                  role_class.role.in_(tk.UNIT_OFFICER_ROLES)))))
        return {member_id: "committee" for member_id in db.session.scalars(query)}
    units = tk.subtree_ids(unit)
    rows = db.session.execute(
        select(tk.Member.id, tk.Member.stage, tk.Member.home_unit_id).where(
            tk.member_stage_filter(),
            or_(tk.Member.home_unit_id.in_(units),
                and_(tk.Member.is_away.is_(True), tk.Member.host_unit_id.in_(units)))))
    expected: dict[int, str] = {}
    for member_id, stage, home_unit_id in rows:
        if home_unit_id in units:
            expected[member_id] = "voting" if stage == "full" else "probationary"
        else:
            expected[member_id] = "hosted"
    return expected


def refresh_expected(meeting: Meeting) -> None:
    """Write the expected list: add whom the rules expect, drop automatic rows nobody recorded anything for.

    Rows added by hand (``automatic=False``) are kept as they are; people taken off by hand
    (``excluded_member_ids``) stay off.
    """
    if meeting.status not in OPEN_STATUSES:
        return
    expected = _expected_members(meeting)
    existing = {row.member_id: row for row in meeting.attendees}
    for member_id, row in existing.items():
        if not row.automatic:
            continue
        if member_id in expected:
            row.role = expected[member_id]
        elif row.status == "expected" and row.activity_id is None:
            meeting.attendees.remove(row)
    excluded = set(meeting.excluded_member_ids or ())
    for member_id, role in expected.items():
        if member_id not in existing and member_id not in excluded:
            meeting.attendees.append(Attendee(member_id=member_id, role=role, automatic=True, status="expected"))
    db.session.flush()


def add_attendee(meeting: Meeting, member: tk.Member, role: str, *, by) -> Attendee:
    """Put ``member`` on the list by hand (列席, an activist …); an existing row takes the role and stays."""
    require_manage(meeting.unit, by)
    if role not in ADDED_ROLES:
        raise tk.Invalid(_l("Choose a role."), field="role")
    if meeting.status in ("archived", "cancelled"):
        raise tk.Conflict(_l("The list of this meeting can no longer change."))
    meeting.excluded_member_ids = [mid for mid in (meeting.excluded_member_ids or ()) if mid != member.id]
    row = attendee_row(meeting, member)
    if row is None:
        row = Attendee(member_id=member.id, member=member, role=role, automatic=False, status="expected")
        meeting.attendees.append(row)
    else:
        row.role, row.automatic = role, False
    db.session.flush()
    tk.audit("meetings.attendee_add", "meeting", meeting.id, unit_id=meeting.unit_id, member_id=member.id, role=role)
    return row


def remove_attendee(meeting: Meeting, member: tk.Member, *, by) -> None:
    """Take ``member`` off the list; refused once an attendance or a leave was recorded for them."""
    require_manage(meeting.unit, by)
    if meeting.status in ("archived", "cancelled"):
        raise tk.Conflict(_l("The list of this meeting can no longer change."))
    row = attendee_row(meeting, member)
    if row is None:
        raise tk.NotFound(_l("Not found."))
    if row.activity_id is not None or row.status != "expected":
        raise tk.Conflict(_l("Attendance was already recorded for this person; they stay on the list."))
    if member.id not in (meeting.excluded_member_ids or ()):
        meeting.excluded_member_ids = [*(meeting.excluded_member_ids or ()), member.id]
    meeting.attendees.remove(row)
    db.session.flush()
    tk.audit("meetings.attendee_remove", "meeting", meeting.id, unit_id=meeting.unit_id, member_id=member.id)


def attendee_row(meeting: Meeting, member: tk.Member) -> Attendee | None:
    """The row of ``member`` on ``meeting``'s list, if any."""
    return next((row for row in meeting.attendees if row.member_id == member.id), None)


def meetings_of_unit(unit: tk.OrgUnit, *, since: datetime | None = None, until: datetime | None = None,
                     statuses=None) -> Select:
    """A query of ``unit``'s own meetings starting in ``[since, until)`` (naive UTC), newest first."""
    query = select(Meeting).where(Meeting.unit_id == unit.id)
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    if until is not None:
        query = query.where(Meeting.starts_at < until)
    if statuses is not None:
        query = query.where(Meeting.status.in_(tuple(statuses)))
    return query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())


def home_unit_ids(member: tk.Member) -> set[int]:
    """Units whose meetings are ``member``'s life at home (not "at the host"): the home unit and those above it,
    and the member's branch with its party groups (a group's member at the branch's meeting is at home)."""
    return set(member.home_unit.ancestor_ids()) | set(tk.branch_unit_ids(member.home_unit))


def _member_unit_ids(member: tk.Member) -> list[int]:
    """The member's home unit and the units above it, and their host unit and above."""
    ids = set(member.home_unit.ancestor_ids())
    if member.host_unit is not None:
        ids |= set(member.host_unit.ancestor_ids())
    return sorted(ids)


def _upcoming_condition(member_id, unit_ids, now):
    """Called (or cancelled) meetings not yet ended that the member is listed for or that ``unit_ids`` hold.

    The arguments are values, or bind parameters for a statement built once.
    """
    listed = select(Attendee.meeting_id).where(Attendee.member_id == member_id)
    held = select(Meeting.id).where(Meeting.unit_id.in_(unit_ids), Meeting.kind != "committee", Meeting.ends_at > now)
    # a UNION of the two indexed lookups: "listed OR held there" in one WHERE made PostgreSQL scan every meeting
    return and_(Meeting.status.in_(("notified", "cancelled")), Meeting.ends_at > now,
                Meeting.id.in_(union(listed, held)))


def upcoming_for_member(member: tk.Member, *, now: datetime | None = None, limit: int = 20) -> list[Meeting]:
    """Called (or cancelled) meetings not yet ended that ``member`` is listed for or that their home/host units hold."""
    query = (select(Meeting).where(_upcoming_condition(member.id, _member_unit_ids(member), now or tk.utcnow()))
             .order_by(Meeting.starts_at, Meeting.id).limit(limit)
             .options(lazyload(Meeting.attendees)))  # lists show the meeting, not who else comes
    return list(db.session.scalars(query))


#: A member's list of meetings loads the member's own row with each, not everyone else's rows (selectin), nor the
#: member again (the viewer, already loaded).
_LISTED = (lazyload(Meeting.attendees), lazyload(Attendee.member))
# "My meetings" runs these two on every visit: built once, bound per call (building them cost about what running
# them does).
_UPCOMING_WITH_ROWS = (
    select(Meeting, Attendee)
    .outerjoin(Attendee, and_(Attendee.meeting_id == Meeting.id, Attendee.member_id == bindparam("member")))
    .where(_upcoming_condition(bindparam("member"), bindparam("units", expanding=True), bindparam("now")))
    .order_by(Meeting.starts_at, Meeting.id).limit(bindparam("limit")).options(*_LISTED))
_PAST = (
    select(Meeting, Attendee)
    .join(Attendee, and_(Attendee.meeting_id == Meeting.id, Attendee.member_id == bindparam("member")))
    .where(Meeting.ends_at <= bindparam("now"), Meeting.status != "cancelled", Meeting.status != "draft")
    .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(bindparam("limit")).offset(bindparam("offset"))
    .options(*_LISTED))


def upcoming_with_rows(member: tk.Member, *, now: datetime | None = None,
                       limit: int = 20) -> list[tuple[Meeting, Attendee | None]]:
    """:func:`upcoming_for_member` with ``member``'s row on each meeting's list (None when not listed): one query."""
    rows = db.session.execute(_UPCOMING_WITH_ROWS, {"member": member.id, "units": _member_unit_ids(member),
                                                    "now": now or tk.utcnow(), "limit": limit})
    return [(meeting, row) for meeting, row in rows]


def member_meetings(member: tk.Member, *, now: datetime | None = None) -> Select:
    """A query of ``member``'s meetings, newest first: the upcoming ones (as :func:`upcoming_for_member`) and
    those they were listed for that have started (as :func:`past_for_member`) — the API's list of one's own."""
    now = now or tk.utcnow()
    listed = select(Attendee.meeting_id).where(Attendee.member_id == member.id)
    past = and_(Meeting.starts_at <= now, Meeting.status.not_in(("cancelled", "draft")), Meeting.id.in_(listed))
    return (select(Meeting).where(or_(_upcoming_condition(member.id, _member_unit_ids(member), now), past))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).options(lazyload(Meeting.attendees)))


def past_for_member(member: tk.Member, *, now: datetime | None = None, limit: int = 50,
                    offset: int = 0) -> list[tuple[Meeting, Attendee]]:
    """Meetings ``member`` was listed for that have ended (newest first, ``limit`` from ``offset``), with their row.

    A meeting in progress is not past yet (while called, it is still coming up: :func:`upcoming_with_rows`).
    """
    rows = db.session.execute(_PAST, {"member": member.id, "now": now or tk.utcnow(), "limit": limit,
                                      "offset": offset})
    return [(meeting, row) for meeting, row in rows]


def add_attachment(meeting: Meeting, upload, *, by) -> Attachment:
    """Check and keep a file with ``meeting`` (types and size from the settings)."""
    require_manage(meeting.unit, by)
    checked = tk.check_upload(upload, allowed=tk.get_setting("meetings", "attachment_types"),
                              max_bytes=int(tk.get_setting("meetings", "attachment_max_kb")) * 1024)
    stored = tk.store_upload("meetings", checked)
    attachment = Attachment(meeting_id=meeting.id, filename=checked.name, stored_name=stored,
                            content_type=checked.mimetype, size=len(checked.data),
                            uploaded_by_account_id=by.id if by is not None else None)
    meeting.attachments.append(attachment)
    db.session.flush()
    tk.audit("meetings.attachment", "meeting", meeting.id, unit_id=meeting.unit_id, attachment_id=attachment.id)
    return attachment


def attachment_response(attachment: Attachment):
    """Send an attachment's file — call only after checking who may see the meeting."""
    return tk.send_upload("meetings", attachment.stored_name, download_name=attachment.filename,
                          mimetype=attachment.content_type)


def local_text(at: datetime) -> str:
    """A stored time as the local ``YYYY-MM-DD HH:MM`` (for messages kept past the request)."""
    return tk.to_local(at).strftime("%Y-%m-%d %H:%M")


def _when_where(meeting: Meeting) -> dict[str, str]:
    """The meeting's local time and place, for the messages members keep in their inbox."""
    return {"time": local_text(meeting.starts_at), "place": meeting.place or meeting.online_url or ""}


def _tell_members(meeting: Meeting, title, body) -> None:
    """Tell the accounts of everyone on the list (except those already on leave)."""
    member_ids = [row.member_id for row in meeting.attendees if row.status not in ("leave",)]
    if not member_ids:
        return
    accounts = db.session.scalars(select(tk.Member.account_id).where(tk.Member.id.in_(member_ids)))
    tk.notify([aid for aid in accounts if aid], title, body, url=meeting_url(meeting), kind="meetings")

"""Meetings for the phone's calendar (.ics, RFC 5545) with the ``icalendar`` library.

Each meeting is one VEVENT whose UID stays ``meeting-<id>@<host>``, so a calendar that imported it
updates it in place: times in UTC (``…Z``), ``STATUS:CANCELLED`` once cancelled and a ``SEQUENCE``
that grows with every change (seconds from a fixed epoch to ``updated_at``), so a moved meeting
replaces the old entry instead of sitting beside it.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from flask import Response
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_meetings.models import Meeting
from portal_meetings.vocabulary import KIND_LABELS, MODE_LABELS

if TYPE_CHECKING:  # icalendar is imported where a calendar is made: it would cost every worker ~8 MiB
    from icalendar import Event

PRODID = "-//Home for Mobile Members//Meetings//ZH"
#: SEQUENCE counts seconds from here to the meeting's last change (fits a 32-bit integer until 2088).
SEQUENCE_EPOCH = datetime(2020, 1, 1)


def _utc(at: datetime) -> datetime:
    """A stored naive-UTC timestamp as an aware one (written with ``Z``)."""
    return at.replace(tzinfo=timezone.utc)


def sequence(meeting: Meeting) -> int:
    """The event's revision: grows whenever the meeting row changes (moved, cancelled, edited)."""
    return max(0, int((meeting.updated_at - SEQUENCE_EPOCH).total_seconds()))


def summary(meeting: Meeting) -> str:
    """What the calendar shows as the title: the kind and the topic."""
    return _("%(kind)s: %(topic)s", kind=KIND_LABELS.get(meeting.kind, meeting.kind), topic=meeting.topic)


def meeting_event(meeting: Meeting, *, base_url: str, stamp: datetime) -> Event:
    """One VEVENT for ``meeting``; ``base_url`` (``https://host/``) gives its UID host and its page's URL."""
    from icalendar import Event

    host = urlsplit(base_url).hostname or "localhost"
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{host}")
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at))
    event.add("summary", summary(meeting))
    event.add("location", meeting.place or str(MODE_LABELS.get(meeting.mode, meeting.mode)))
    event.add("url", base_url.rstrip("/") + tk.path_for("meetings.show", meeting_id=meeting.id))
    event.add("description", _description(meeting))
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    event.add("sequence", sequence(meeting))
    event.add("created", _utc(meeting.created_at))
    event.add("last-modified", _utc(meeting.updated_at))
    return event


def _description(meeting: Meeting) -> str:
    lines = [meeting.unit.name]
    if meeting.mode != "onsite":
        lines.append(_("Join online through the meeting's page in the portal: that records your attendance."))
    if meeting.status == "cancelled" and meeting.cancel_reason:
        lines.append(_("Cancelled: %(reason)s", reason=meeting.cancel_reason))
    if meeting.agenda:
        lines.append(meeting.agenda)
    return "\n".join(lines)


def ics_calendar(meetings: Iterable[Meeting], *, base_url: str, name: str | None = None,
                 now: datetime | None = None) -> bytes:
    """A VCALENDAR holding one VEVENT per meeting, as bytes."""
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    stamp = now or tk.utcnow()
    for meeting in meetings:
        cal.add_component(meeting_event(meeting, base_url=base_url, stamp=stamp))
    return cal.to_ical()


def ics_response(meetings: Iterable[Meeting], *, base_url: str, filename: str, name: str | None = None) -> Response:
    """The calendar as a download the phone offers to add (``text/calendar; charset=utf-8``)."""
    response = Response(ics_calendar(meetings, base_url=base_url, name=name), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "private, no-cache"
    return response

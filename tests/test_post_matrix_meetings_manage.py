"""Every write route of the secretary's meeting pages × every role (GET routes: tests/test_meetings_manage_views.py).

The meetings belong to the home branch: its secretary, the organizer above it and admins act on
them; every other account gets 404 (secretaries of other branches too, as for any unit outside
one's scope), except creating a meeting, which accounts without the permission anywhere are
refused with 403. Each role acts on a fresh meeting; a refused request leaves the database as it was.
"""
from __future__ import annotations

import io
import itertools
from datetime import timedelta

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"meetings_manage"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOME = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
CREATE = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302, admin=302)
_serial = itertools.count(1)


def _local(at) -> str:
    return tk.to_local(at).strftime("%Y-%m-%dT%H:%M")


def _meeting(org, *, starts_in=timedelta(hours=-1), call=True, kind="assembly", held=False):
    start = tk.utcnow() + starts_in
    meeting = meetings.create_meeting(org.home, {
        "kind": kind, "topic": f"Meeting {next(_serial)}", "starts_at": _local(start),
        "ends_at": _local(start + timedelta(hours=2)), "place": "Village hall", "mode": "onsite"},
        by=None, now=tk.utcnow(), call=call)
    if held:
        meetings.mark_held(meeting, by=None, now=tk.utcnow())
    tk.db.session.flush()
    return meeting


def _draft(org) -> dict:
    return {"meeting_id": _meeting(org, starts_in=timedelta(days=3), call=False).id}


def _called(org) -> dict:
    return {"meeting_id": _meeting(org).id}


def _held(org) -> dict:
    return {"meeting_id": _meeting(org, held=True).id}


def _committee(org) -> dict:
    """A committee meeting: member2 is not on its list, so adding them changes it."""
    return {"meeting_id": _meeting(org, kind="committee", starts_in=timedelta(days=3)).id}


def _leave_requested(org) -> dict:
    meeting = _meeting(org, starts_in=timedelta(days=3))
    attendance.request_leave(meeting, org.member2, "Working the night shift", now=tk.utcnow())
    return {"meeting_id": meeting.id}


def _form(org, _values) -> dict:
    start = tk.utcnow() + timedelta(days=7)
    return {"unit": str(org.home.id), "kind": "theme_day", "topic": f"Theme day {next(_serial)}",
            "starts_at": _local(start), "ends_at": _local(start + timedelta(hours=2)), "place": "Hall", "mode": "onsite",
            "action": "call"}


def _member2(org, _values) -> dict:
    return {"member_id": str(org.member2.id)}


CASES = [
    PostCase("meetings_manage.new", CREATE, data=_form),
    PostCase("meetings_manage.edit", HOME, _draft, _form),
    PostCase("meetings_manage.state", HOME, _draft, {"to": "call"}),
    PostCase("meetings_manage.state", HOME, _called, {"to": "cancel", "reason": "Typhoon warning"}),
    PostCase("meetings_manage.minutes", HOME, _held, {"minutes": "We studied the new rules.", "decisions": "None"}),
    PostCase("meetings_manage.upload", HOME, _held, lambda _org, _v: {"file": (io.BytesIO(PNG), "sign-in.png")}),
    PostCase("meetings_manage.register", HOME, _held, lambda org, v: {**_member2(org, v), "status": "present"}),
    PostCase("meetings_manage.leave", HOME, _leave_requested, lambda org, v: {**_member2(org, v), "decision": "approve"}),
    PostCase("meetings_manage.add_attendee", HOME, _committee, lambda org, v: {**_member2(org, v), "role": "attending"}),
    PostCase("meetings_manage.remove_attendee", HOME, _called, _member2),
]


def test_every_meetings_manage_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_meetings_manage_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

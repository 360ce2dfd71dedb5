"""Every write route of the member's meeting pages × every role (GET routes: tests/test_meetings_member_views.py).

The home branch's secretary calls each meeting; its members (member1, member2, and the secretary,
who is a member there too) check in, join online or ask for leave. A member of another branch
checking in with the meeting's current code is counted as a guest (the code proves they are in
the room); without a member profile (organizer, admin) there is nothing to record (403); the
host and foreign branches' members cannot join or ask for leave from the home branch's meeting (404).
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from portal_meetings.models import Meeting
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"meetings"}
_serial = itertools.count(1)
# the home branch's members act on its meetings; others do not see them
HOME_MEMBERS = expect(404, anonymous=302, member1=302, member2=302, home_sec=302, organizer=403, admin=403)


def _meeting(org, *, mode: str = "onsite", start: timedelta = timedelta(minutes=-10)) -> dict:
    """A called meeting of the home branch starting ``start`` from now (in progress by default)."""
    starts = tk.utcnow() + start
    local = lambda at: tk.to_local(at).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    meeting = meetings.create_meeting(org.home, {
        "kind": "theme_day", "topic": f"Theme day {next(_serial)}", "mode": mode, "place": "Village hall",
        "online_url": "https://meet.example.org/r" if mode != "onsite" else "",
        "starts_at": local(starts), "ends_at": local(starts + timedelta(hours=1))}, by=org.home_sec)
    return {"meeting_id": meeting.id}


def _code(_org, values: dict) -> dict:
    return {"code": attendance.current_code(tk.db.session.get(Meeting, values["meeting_id"]))}


CASES = [
    # anyone with a member profile and the current code is counted (a guest when not listed)
    PostCase("meetings.checkin", expect(302, anonymous=302, organizer=403, admin=403), _meeting, _code),
    PostCase("meetings.join", HOME_MEMBERS, lambda org: _meeting(org, mode="hybrid")),
    PostCase("meetings.leave", HOME_MEMBERS, lambda org: _meeting(org, start=timedelta(days=2)),
             {"reason": "Night shift at the factory"}),
]


def test_every_meetings_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_meetings_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9


def test_checkin_without_a_code_is_refused_to_guests(app, db, org):
    """Without the code a member of another branch learns nothing (404); the branch's own members are told to
    scan it (the meeting is on site). Nobody is listed or counted."""
    case = PostCase("meetings.checkin", expect(404, anonymous=302, member1=303, member2=303, home_sec=303,
                                               organizer=403, admin=403), _meeting, {"code": ""}, changes=())
    assert check_post_matrix(app, org, [case]) == 9

"""Every write route of the meetings API × every role (reads: tests/test_meetings_api.py).

The home branch's secretary (and the organizer and admins above it) call meetings of the home
branch, decide leave and keep the register; the members listed (member1, member2 and the
secretary, who is a member of the home branch) check in and ask for leave. A member with the
meeting's code checks in even unlisted (a guest); accounts without a member profile cannot.
Each role acts on a fresh meeting; a refused request leaves the whole database as it was.
"""
from __future__ import annotations

from datetime import timedelta

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"meetings_api"}
MANAGERS = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)


def _local(delta: timedelta) -> str:
    return tk.to_local(tk.utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


def _data(starts: timedelta, ends: timedelta) -> dict:
    return {"kind": "assembly", "topic": "Quarterly assembly", "starts_at": _local(starts), "ends_at": _local(ends),
            "mode": "hybrid", "place": "Village hall"}


def _running(org) -> dict:
    """A meeting of the home branch that started ten minutes ago: check-in is open."""
    meeting = meetings.create_meeting(org.home, _data(timedelta(minutes=-10), timedelta(minutes=50)), by=org.home_sec)
    return {"meeting_id": meeting.id}


def _tomorrow(org) -> dict:
    meeting = meetings.create_meeting(org.home, _data(timedelta(days=1), timedelta(days=1, hours=1)), by=org.home_sec)
    return {"meeting_id": meeting.id}


def _leave_of_member2(org) -> dict:
    values = _tomorrow(org)
    attendance.request_leave(meetings.get_meeting(values["meeting_id"]), org.member2, "Harvest")
    return {**values, "member_id": org.member2.id}


def _code(_org, values: dict) -> dict:
    return {"code": attendance.current_code(meetings.get_meeting(values["meeting_id"]))}


CASES = [
    PostCase("meetings_api.create", expect(404, anonymous=401, home_sec=201, organizer=201, admin=201),
             data=lambda org, _v: {"unit_id": org.home.id, **_data(timedelta(days=1), timedelta(days=1, hours=2))},
             json=True),
    # the code proves presence: any member checks in (unlisted ones as guests); accounts without a member profile 403
    PostCase("meetings_api.checkin", expect(201, anonymous=401, organizer=403, admin=403), _running, _code, json=True),
    # listed members ask for leave; the meeting is not visible to the others; managers without a member profile 403
    PostCase("meetings_api.leave", expect(404, anonymous=401, member1=201, member2=201, home_sec=201, organizer=403,
                                          admin=403), _tomorrow, {"reason": "Harvest"}, json=True),
    PostCase("meetings_api.decide_leave", MANAGERS, _leave_of_member2, {"approve": True}, json=True),
    PostCase("meetings_api.register", MANAGERS, _running,
             lambda org, _v: {"member_id": org.member2.id, "status": "present"}, json=True),
    # nobody ticks their own attendance: the secretary is a member of the home branch (403), others above may
    PostCase("meetings_api.register", expect(404, anonymous=401, home_sec=403, organizer=200, admin=200), _running,
             lambda org, _v: {"member_id": org.home_sec.member.id, "status": "present"}, json=True),
]


def test_every_meetings_api_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_meetings_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Every write route of the notices (pages and API) × every role (GET routes: tests/test_meetings_notices.py).

The home branch's secretary (and the organizer, and admins) send notices of the home branch;
its members (member1, member2 and the secretary, herself a member) sign and reply; the host and
foreign secretaries get 404 on the home branch's notices, members without a role 403 on sending.
Each role acts on a fresh notice; a refused request leaves the whole database as it was.
"""
from __future__ import annotations

from datetime import datetime

from portal import toolkit as tk
from portal_meetings import notices
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"meetings_notices", "meetings_notices_api"}
NOTICE = {"title": "Branch assembly on Sunday", "body": "Come all.", "audience": "unit", "requires_ack": "y",
          "deadline": "2099-12-31T18:00"}
SENDERS = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302, admin=302)
ADDRESSEES = expect(404, anonymous=302, member1=302, member2=302, home_sec=302)
FOLLOWERS = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)


def _notice(org, *, overdue: bool = False) -> dict:
    """A home-branch notice to be signed: by 2099, or (``overdue``) by a day long past."""
    data = {**NOTICE, "deadline": "2020-01-02"} if overdue else NOTICE
    notice = notices.send_notice(org.home, dict(data), by=org.home_sec,
                                 now=datetime(2020, 1, 1) if overdue else tk.utcnow())
    return {"notice_id": notice.id}


def _overdue_member1(org) -> dict:
    return {**_notice(org, overdue=True), "member_id": org.member1.id}


CASES = [
    PostCase("meetings_notices.new", SENDERS, data=lambda org, _v: {**NOTICE, "unit": str(org.home.id)}),
    PostCase("meetings_notices.ack", ADDRESSEES, _notice, {"reply": "Noted"}),
    PostCase("meetings_notices.reply", ADDRESSEES, _notice, {"reply": "I will come."}),
    PostCase("meetings_notices.called", FOLLOWERS, _overdue_member1, {"note": "Will sign tonight"}),
    # the API: the same rules, 401 without a login
    PostCase("meetings_notices_api.create",
             expect(404, anonymous=401, member1=403, member2=403, outsider=403, home_sec=201, organizer=201,
                    admin=201),
             data=lambda org, _v: {**NOTICE, "requires_ack": True, "unit_id": org.home.id}, json=True),
    PostCase("meetings_notices_api.ack", expect(404, anonymous=401, member1=200, member2=200, home_sec=200),
             _notice, {"reply": "Noted"}, json=True),
    PostCase("meetings_notices_api.reply", expect(404, anonymous=401, member1=200, member2=200, home_sec=200),
             _notice, {"reply": "I will come."}, json=True),
]


def test_every_notice_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_notice_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Every write route of the standing API × every role (reads: tests/test_standing_api.py).

The home branch's secretary (and the organizer and admins above it) record leave, work done and talks and the
branch assembly's decision on a case, and close cases; the upper committee (the organizer, admins — not the
branch's secretary) approves a decided case. Nobody records anything on their own record: the home branch's
secretary is a member of it (403). Everyone else gets 404. Each role acts on a fresh member or case; a refused
request leaves the whole database as it was.
"""
from __future__ import annotations

from datetime import date

from portal import toolkit as tk
from portal_standing.models import Case
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"standing_api"}
MANAGERS = expect(404, anonymous=401, home_sec=201, organizer=201, admin=201)
NOT_SELF = expect(404, anonymous=401, home_sec=403, organizer=201, admin=201)
CASE_MANAGERS = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
UPPER = expect(404, anonymous=401, organizer=200, admin=200)


def _member(org) -> dict:
    return {"member_id": Factory(tk.db).member(org.home, joined_on=date(2024, 1, 1)).id}


def _home_sec_self(org) -> dict:
    return {"member_id": org.home_sec.member.id}


def _case(org, state: str = "open") -> dict:
    member = Factory(tk.db).member(org.home, joined_on=date(2024, 1, 1))
    case = Case(member_id=member.id, unit_id=org.home.id, since=date(2024, 1, 1), reasons={"dues": 7}, state=state,
                decision="Decided" if state == "decided" else None,
                decided_on=date(2026, 11, 1) if state == "decided" else None)
    tk.db.session.add(case)
    tk.db.session.flush()
    return {"case_id": case.id}


def _leave(_org, values: dict) -> dict:
    return {"member_id": values["member_id"], "starts_on": "2026-09-01", "ends_on": "2026-10-31", "reason": "Illness"}


def _work(_org, values: dict) -> dict:
    return {"member_id": values["member_id"], "done_on": "2026-11-02", "description": "Visited elders"}


def _talk(_org, values: dict) -> dict:
    return {"member_id": values["member_id"], "held_on": "2026-11-02", "notes": "Will come to the next meeting"}


CASES = [
    PostCase("standing_api.post_leave", MANAGERS, _member, _leave, json=True),
    PostCase("standing_api.post_leave", NOT_SELF, _home_sec_self, _leave, json=True),
    PostCase("standing_api.post_work", MANAGERS, _member, _work, json=True),
    PostCase("standing_api.post_work", NOT_SELF, _home_sec_self, _work, json=True),
    PostCase("standing_api.post_talk", MANAGERS, _member, _talk, json=True),
    PostCase("standing_api.decide", CASE_MANAGERS, _case, {"decision": "Persuade to leave", "decided_on": "2026-11-02"},
             json=True),
    PostCase("standing_api.approve", UPPER, lambda org: _case(org, "decided"), {"approval": "Agreed"}, json=True),
    PostCase("standing_api.close", CASE_MANAGERS, _case, {"reason": "Resolved by activity"}, json=True),
]


def test_every_standing_api_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_standing_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

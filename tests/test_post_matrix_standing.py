"""Every write route of the standing pages × every role (GET routes: tests/test_standing_views.py).

Leave, work done, talks, a case's decision and closing belong to member2's home branch: its secretary,
the organizer above it and admins act; every other account gets 404 (members too, member2 on their own
record included). The approval of a decided case belongs to the committee above the home branch:
the organizer and admins; the home branch's secretary gets 404 like everyone else. Each role acts on a
fresh target; a refused request leaves the database as it was.
"""
from __future__ import annotations

from datetime import timedelta

from portal import toolkit as tk
from portal_standing.models import Case
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"standing"}
HOME = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
ABOVE = expect(404, anonymous=302, organizer=302, admin=302)


def _today() -> str:
    return tk.local_today(tk.utcnow()).isoformat()


def _member2(org) -> dict:
    return {"member_id": org.member2.id}


def _case(state: str):
    def setup(org) -> dict:
        case = Case(member_id=org.member2.id, unit_id=org.home.id,
                    since=tk.local_today(tk.utcnow()) - timedelta(days=200), reasons={"dues": 6}, state=state,
                    decision="Persuade her to pay." if state == "decided" else None)
        tk.db.session.add(case)
        tk.db.session.flush()
        return {"case_id": case.id}
    return setup


CASES = [
    PostCase("standing.leave", HOME, _member2, lambda _o, _v: {"starts_on": _today(), "ends_on": "",
                                                               "reason": "In hospital"}),
    PostCase("standing.work", HOME, _member2, lambda _o, _v: {"done_on": _today(), "description": "Harvest help"}),
    PostCase("standing.talk", HOME, _member2, lambda _o, _v: {"held_on": _today(), "notes": "She will come."}),
    PostCase("standing.decide", HOME, _case("open"), lambda _o, _v: {"decision": "Persuade her.",
                                                                      "decided_on": _today()}),
    PostCase("standing.approve", ABOVE, _case("decided"), {"approval": "Approved."}),
    PostCase("standing.close", HOME, _case("open"), {"reason": "She paid and came back."}),
]


def test_every_standing_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_standing_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

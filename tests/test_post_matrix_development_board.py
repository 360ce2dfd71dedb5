"""Every write route of the development board × every role (GET routes: tests/test_development_board_views.py).

The plan and the training classes belong to the unit: its secretaries, the organizer above and admins
act; a secretary of another unit gets 404; an account holding neither permission anywhere gets 403.
Each role acts on a fresh target (no plan yet; a new class each time); a refused request leaves the
database as it was.
"""
from __future__ import annotations

from sqlalchemy import delete

from portal import toolkit as tk
from portal_development.models import Plan
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"development_board"}
UNIT = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302, admin=302)


def _home(org) -> dict:
    return {"unit": org.home.id}


def _home_without_plan(org) -> dict:
    tk.db.session.execute(delete(Plan))
    return _home(org)


CASES = [
    PostCase("development_board.save_plan", UNIT, _home_without_plan, {"target": "2", "notes": "培养青年农民"}),
    PostCase("development_board.create_class", UNIT, _home, {"title": "发展对象培训班", "hours": "24"}),
]


def test_every_development_board_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_development_board_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Every write route of the review API × every role (reads: tests/test_review_api.py).

The home branch's secretary (and the organizer and admins above it) open a round, move its steps and record
grades; the round's members (member1, away at host, and member2) write their own self-assessment and rate
the others (so does the home secretary, a member of the branch); the host secretary sees the round (an
opinion on member1 is owed) but acts on none of it (403; 404 for a self-assessment: they have no entry);
accounts without a member profile cannot write a self-assessment or rate (403); everyone else gets 404.
Each role acts on a fresh round; a refused request leaves the whole database as it was.
"""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal_review import rounds
from portal_review.models import ReviewRound
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"review_api"}
MANAGERS = expect(404, anonymous=401, member1=403, member2=403, host_sec=403, home_sec=200, organizer=200,
                  admin=200)
# the home secretary is a member of the home branch too: in the round like member1 and member2
MEMBERS = expect(403, anonymous=401, outsider=404, foreign_sec=404, member1=201, member2=201, home_sec=201)


def _no_round(org) -> dict:
    """The home branch without a round of this year (each role opens it afresh)."""
    for round_ in tk.db.session.scalars(select(ReviewRound).where(ReviewRound.unit_id == org.home.id)):
        tk.db.session.delete(round_)
    tk.db.session.commit()
    return {}


def _third_member(org) -> tk.Member:
    """A third member of the home branch, so that member1 and member2 both have someone else to rate."""
    found = tk.db.session.scalar(select(tk.Member).where(tk.Member.name == "赵敏"))
    return found or Factory(tk.db).member(org.home, name="赵敏")


def _round_at(org, status: str) -> dict:
    """A fresh round of the home branch moved (by nobody: no request) to ``status``."""
    third = _third_member(org)
    _no_round(org)
    round_ = rounds.open_round(org.home, tk.local_today().year, actor=None)
    for step in ("self", "mutual", "grading")[:("study", "self", "mutual", "grading").index(status)]:
        rounds.move(round_, step, actor=None)
    tk.db.session.commit()
    return {"round_id": round_.id, "member_id": third.id}


def _opening(org, _values) -> dict:
    return {"unit_id": org.home.id, "year": tk.local_today().year}


def _member2(org) -> dict:
    return {**_round_at(org, "grading"), "member_id": org.member2.id}


CASES = [
    PostCase("review_api.post_round", expect(404, anonymous=401, home_sec=201, organizer=201, admin=201),
             _no_round, _opening, json=True),
    PostCase("review_api.post_status", MANAGERS, lambda org: _round_at(org, "study"), {"status": "self"}, json=True),
    PostCase("review_api.put_self", {**MEMBERS, "member1": (200,), "member2": (200,), "home_sec": (200,), "host_sec": (404,)},
             lambda org: _round_at(org, "self"), {"text": "今年我认真学习，按时交纳党费。", "submit": True},
             json=True, method="PUT"),
    PostCase("review_api.post_rating", MEMBERS,
             lambda org: _round_at(org, "mutual"), lambda _org, values: {"member_id": values["member_id"],
                                                                         "rating": "qualified", "comment": "积极"},
             json=True),
    PostCase("review_api.put_grade", MANAGERS, _member2, {"grade": "qualified"}, json=True, method="PUT"),
]


def test_every_review_api_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_review_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

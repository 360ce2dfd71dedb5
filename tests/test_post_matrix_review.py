"""Every write route of the member's review pages × every role (GET routes: tests/test_review_views.py).

The round is the home branch's (member1 away, member2 and the home secretary are its members): its members write
their own self-assessment and rate the others; everyone else gets 404 (the round is not told), accounts without a
member profile 403. Rating oneself is refused (sent back to the rating page, nothing written). Each role acts on
a fresh target; a refused request leaves the database as it was.
"""
from __future__ import annotations

from sqlalchemy import delete, select, update

from portal import toolkit as tk
from portal_review import rounds
from portal_review.models import Rating, ReviewEntry, ReviewRound
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"review"}
IN_ROUND_WEB = expect(404, anonymous=302, member1=302, member2=302, home_sec=302, organizer=403, admin=403)
IN_ROUND_JSON = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=403, admin=403)
# member1 rates member1: themself, refused and sent back to the page (303) with nothing written
RATE_MEMBER1 = expect(404, anonymous=302, member1=303, member2=302, home_sec=302, organizer=403, admin=403)


def _round(org, status: str) -> dict:
    """The home branch's round of this year in ``status``, with no self-assessment and no rating yet."""
    year = tk.local_today(tk.utcnow()).year
    round_ = tk.db.session.scalar(select(ReviewRound).where(ReviewRound.unit_id == org.home.id,
                                                            ReviewRound.year == year))
    if round_ is None:
        round_ = rounds.open_round(org.home, year, actor=org.home_sec)
    round_.status = status
    tk.db.session.execute(update(ReviewEntry).where(ReviewEntry.round_id == round_.id)
                          .values(self_text="", self_saved_at=None, self_submitted_at=None))
    tk.db.session.execute(delete(Rating).where(Rating.round_id == round_.id))
    tk.db.session.flush()
    return {"round_id": round_.id}


def _self_step(org) -> dict:
    return _round(org, "self")


def _rate_member1(org) -> dict:
    return {**_round(org, "mutual"), "member_id": org.member1.id}


CASES = [
    PostCase("review.self_assessment", IN_ROUND_WEB, _self_step, {"text": "I kept every meeting this year."}),
    PostCase("review.self_draft", IN_ROUND_JSON, _self_step, {"text": "A first draft."}, json=True),
    PostCase("review.rate", RATE_MEMBER1, _rate_member1, {"rating": "qualified", "comment": "Reliable."},
             changes=("member2", "home_sec")),
]


def test_every_review_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_review_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

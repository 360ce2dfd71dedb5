"""Every write route of the secretaries' review pages × every role (GET routes: tests/test_review_manage_views.py).

The round is this year's of the home branch: its secretary, the organizer above it and admins run it; its members
(member1, away at the host branch, and member2) and the host branch's secretary see the round but act on nothing
here (403); every other account gets 404. The host branch's opinion is the host's to give (the home branch gets
404: it is not theirs to see). Each role acts on a fresh round; a refused request leaves the database as it was.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from portal import toolkit as tk
from portal_review import rounds
from portal_review.models import HostOpinion, ReviewEntry, ReviewRound
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"review_manage"}
RUNS = expect(404, anonymous=302, member1=403, member2=403, host_sec=403, home_sec=302, organizer=302, admin=302)
OPENS = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302, admin=302)
HOST = expect(404, anonymous=302, host_sec=302, organizer=302, admin=302)


def _today():
    return tk.local_today(tk.utcnow())


def _fresh(org, status: str = "study", *, grade: str | None = None) -> ReviewRound:
    """A new round of the home branch this year (the one before removed), at ``status``; member2 graded."""
    tk.db.session.execute(delete(ReviewRound).where(ReviewRound.unit_id == org.home.id))
    round_ = rounds.open_round(org.home, _today().year, actor=None)
    round_.status = status
    if grade:
        entry = tk.db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                               ReviewEntry.member_id == org.member2.id))
        entry.grade, entry.decided_on = grade, _today()
    tk.db.session.flush()
    return round_


def _no_round(org) -> dict:
    tk.db.session.execute(delete(ReviewRound).where(ReviewRound.unit_id == org.home.id))
    return {"unit": org.home.id}


def _member2(status: str, grade: str | None = None):
    return lambda org: {"round_id": _fresh(org, status, grade=grade).id, "member_id": org.member2.id}


def _opinion(org) -> dict:
    _fresh(org, "self")
    return {"opinion_id": tk.db.session.scalar(select(HostOpinion.id))}


def _day(days: int = 0) -> str:
    return (_today() + timedelta(days=days)).isoformat()


CASES = [
    PostCase("review_manage.open_round", OPENS, _no_round, lambda _o, _v: {"year": str(_today().year)}),
    PostCase("review_manage.set_dates", RUNS, lambda org: {"round_id": _fresh(org).id},
             lambda _o, _v: {"self_from": _day(1), "self_until": _day(8)}),
    PostCase("review_manage.move", RUNS, lambda org: {"round_id": _fresh(org).id}, {"status": "self"}),
    PostCase("review_manage.excellent_reason", RUNS, lambda org: {"round_id": _fresh(org, "grading").id},
             {"reason": "The harvest rescue."}),
    PostCase("review_manage.propose", RUNS, _member2("mutual"), {"propose-grade": "qualified"}),
    PostCase("review_manage.decide", RUNS, _member2("grading"), lambda _o, _v: {"decide-grade": "qualified", "decide-on": _day()}),
    PostCase("review_manage.plan", RUNS, _member2("grading", "basic"),
             lambda _o, _v: {"plan": "Attend every meeting.", "due_on": [_day(30)], "done_on": [""],
                             "follow_notes": [""]}),
    PostCase("review_manage.handling", RUNS, _member2("grading", "unqualified"),
             lambda _o, _v: {"kind": "correction", "decided_on": _day(), "until": _day(180), "notes": ""}),
    PostCase("review_manage.feedback", RUNS, _member2("grading", "qualified"), {"feedback": "Keep it up."}),
    PostCase("review_manage.host_opinion", HOST, _opinion,
             lambda _o, v: {f"o{v['opinion_id']}-opinion": "Active here.", f"o{v['opinion_id']}-proposed_grade": "qualified"}),
]


def test_every_review_manage_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_review_manage_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""The review demo: 2025's round of 东岭村党支部 finished and reported (graded, a basic member with a plan, feedback),
2026's open at mutual assessment with some ratings — built twice; the member's personal data (their entries,
never the ratings they gave); the dashboard panels of a member and the secretary."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_review import personal, ratings, results
from portal_review.models import HostOpinion, ImprovementPlan, Rating, ReviewEntry, ReviewRound
from tests.helpers.demo import demo_built_twice

#: 2026-11-20 12:00 local.
NOW = datetime(2026, 11, 20, 4, 0)


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) at a fixed clock, built twice; returns the counts after the first run."""
    yield from demo_built_twice(app, _counts, NOW)


@pytest.fixture
def db(app, built):
    """Reads of the module's demo in an app context (nothing is wiped between these tests)."""
    with app.app_context():
        yield tk.db
        tk.db.session.remove()


def _counts() -> tuple[int, ...]:
    return tuple(tk.db.session.scalar(select(func.count()).select_from(table)) for table in (
        ReviewRound, ReviewEntry, Rating, HostOpinion, ImprovementPlan))


def _member(username: str) -> tk.Member:
    return tk.db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == username))


def _round(year: int) -> ReviewRound:
    return tk.db.session.scalar(select(ReviewRound).join(tk.OrgUnit).where(
        tk.OrgUnit.name == "东岭村党支部", ReviewRound.year == year))


def test_demo_builds_twice_without_duplicates(built, db):
    assert _counts() == built
    rounds_, entries, ratings_, _opinions, plans = built
    assert rounds_ == 2 and entries >= 4 and ratings_ > 0 and plans == 1


def test_2025_reported_graded_with_a_plan(built, db):
    round_ = _round(2025)
    assert round_.status == "reported" and round_.ballot_secret is None and round_.reported_on.year == 2025
    found = results.results(round_)
    assert not found.ungraded and not found.basic_without_plan and len(found.basic) == 1
    assert not found.exceeds_one_third
    assert all(entry.self_submitted_at and entry.feedback for entry in round_.entries)
    # member2 is probationary: took part without a grade
    member2 = next(entry for entry in round_.entries if entry.member_id == _member("member2").id)
    assert member2.grade is None
    # member1 is away in Shenzhen: the host branch gave its opinion before the grade
    member1 = next(entry for entry in round_.entries if entry.member_id == _member("member1").id)
    opinion = db.session.scalar(select(HostOpinion).where(HostOpinion.entry_id == member1.id))
    assert opinion.submitted_at is not None and opinion.proposed_grade == "qualified" and member1.grade


def test_2026_open_at_mutual_with_some_ratings(built, db):
    round_ = _round(2026)
    assert round_.status == "mutual" and round_.ballot_secret
    assert round_.mutual_from < NOW.date() < round_.mutual_until and round_.study_on < NOW.date()
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == round_.id)) > 0
    rated1, of1 = ratings.progress(round_, _member("member1"))
    rated2, of2 = ratings.progress(round_, _member("member2"))
    assert rated1 == 1 < of1 and rated2 == 0 < of2
    opinion = db.session.scalar(select(HostOpinion).join(ReviewEntry).where(
        ReviewEntry.round_id == round_.id, ReviewEntry.member_id == _member("member1").id))
    assert opinion.submitted_at is None


def test_personal_data_has_own_entries_never_ratings(built, db):
    member1 = _member("member1")
    section = personal.personal_data(member1)[0]
    by_year = {row["year"]: row for row in section.rows}
    assert set(by_year) == {2025, 2026}
    assert by_year[2025]["grade"] and by_year[2025]["feedback"] and by_year[2025]["self_text"]
    assert by_year[2026]["grade"] is None  # not reported yet
    assert {column.key for column in section.columns}.isdisjoint({"rating", "ratings", "rated"})


def test_dashboard_panels(app, built):
    client = app.test_client()
    assert client.post("/login", data={"login": "member2", "password": "pass-1234"}).status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    with app.app_context():
        round_id = _round(2026).id
    assert f"/review/{round_id}/rate" in page  # member2 has rating to do
    secretary = app.test_client()
    assert secretary.post("/login", data={"login": "home-secretary", "password": "pass-1234"}).status_code == 302
    page = secretary.get("/dashboard").get_data(as_text=True)
    assert "东岭村党支部 2026" in page and "/review/manage/rounds/" in page

"""The standing demo: a year of assigned work, a member on approved leave and members at each step (the talk recorded,
the case open), read from the meetings' and dues' real demo history — built twice; and the standing personal data."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_standing import clock, personal
from portal_standing.models import Case, Leave, StepNotice, Talk, WorkDone
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
        WorkDone, Leave, Talk, StepNotice, Case)) + (tk.db.session.scalar(
            select(func.count(tk.Activity.id)).where(tk.Activity.verb == "work.done")),)


def _standings() -> dict[int, clock.Standing]:
    return clock.standings(clock.counted_members(), NOW)


def test_demo_builds_twice_without_duplicates(built, db):
    assert _counts() == built
    work, leaves, talks, notices, cases, activities = built
    assert work == activities > 12 and leaves == 1 and talks == 1 and notices and cases


def test_members_at_each_step(built, db):
    steps = {standing.step for standing in _standings().values()}
    assert {"none", "reminder", "talk", "notice", "case"} <= steps


def test_the_talk_step_has_a_recorded_talk_and_the_case_is_open(built, db):
    found = _standings()
    talk = db.session.scalar(select(Talk))
    assert found[talk.member_id].step == "talk"
    # the case opened by the scan: its member is at the case step, waiting for the branch assembly
    open_cases = db.session.scalars(select(Case).where(Case.state == "open")).all()
    assert open_cases and all(found[case.member_id].step == "case" for case in open_cases)
    # and the steps were told once each (a second build told nothing new: counted above)
    told = set(db.session.scalars(select(StepNotice.step)))
    assert {"reminder", "talk", "notice", "case"} <= told


def test_the_member_on_leave_is_paused(built, db):
    leave = db.session.scalar(select(Leave))
    assert leave.ends_on is None
    standing = _standings()[leave.member_id]
    # four months of leave: without it, the work gap alone would be at least four months
    assert standing.months_without["work"] < 4
    assert standing.step in ("none", "reminder")


def test_steps_come_from_the_real_meetings_and_dues_history(built, db):
    found = _standings()
    home = db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "东岭村党支部"))
    member_ids = set(db.session.scalars(select(tk.Member.id).where(tk.Member.home_unit_id == home.id)))
    # the home branch holds meetings and collects dues: its members' branch life and dues are counted from them
    counted = [found[i] for i in member_ids if i in found]
    assert counted and all(s.months_without["branch_life"] is not None and s.months_without["dues"] is not None
                           for s in counted)
    attended = db.session.scalar(select(func.count(tk.Activity.id)).where(
        tk.Activity.verb.in_(("meeting.attended", "meeting.attended_online"))))
    assert attended > 0


def test_personal_data(built, db):
    leave = db.session.scalar(select(Leave))
    member = db.session.get(tk.Member, leave.member_id)
    sections = {s.key: s for s in personal.personal_data(member)}
    assert [row["reason"] for row in sections["leave"].rows] == [leave.reason]
    assert len(sections["work"].rows) == db.session.scalar(
        select(func.count(WorkDone.id)).where(WorkDone.member_id == member.id)) > 0
    case = db.session.scalars(select(Case)).first()
    case_sections = {s.key: s for s in personal.personal_data(case.member)}
    assert case_sections["cases"].rows[0]["state"] == case.state
    assert case_sections["steps"].rows


def test_my_data_export_shows_the_leave(app, built):
    with app.app_context():
        leave = tk.db.session.scalar(select(Leave))
        member = tk.db.session.get(tk.Member, leave.member_id)
        username = member.account.username if member.account else None
        reason = leave.reason
    if username is None:
        pytest.skip("the member on leave has no account")
    client = app.test_client()
    assert client.post("/login", data={"login": username, "password": "pass-1234"}).status_code == 302
    assert reason in client.get("/me").get_data(as_text=True)
    assert reason in client.get("/me/export.json").get_data(as_text=True)

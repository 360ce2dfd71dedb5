"""Issue 12: a host branch sees the members hosted in it on its boards and widgets, marked as incoming.

The standard organization hosts member1 (home: the village branch) at the
Shenzhen mobile members' branch; here six more members of the home branch are
hosted there, so the host branch's report lists seven members with points —
its boards and widgets must list them too, and their home branch's keep them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal_points import leaderboard as boards
from portal_points import periods, reports, services
from portal_points.models import PERIODS
from portal_quizzes import views as quiz_views
from portal_quizzes.models import DailyResult
from tests.conftest import api_token, login

T0 = datetime(2026, 3, 10, 2, 0, 0)


def give(member, points, by, at=None):
    services.award_manual(member, points, "Points for the test", account=by, now=at)
    tk.db.session.commit()


@pytest.fixture
def hosted(org, factory):
    """Seven members hosted at the host branch (member1 and six more), each with points on T0."""
    members = [org.member1] + [factory.member(org.home, f"away{index}", host=org.host, name=f"流动{index}")
                               for index in range(6)]
    for points, member in enumerate(members, start=1):
        give(member, points, org.admin, T0)
    give(org.member2, 20, org.admin, T0)     # at home, not hosted
    give(org.outsider, 30, org.admin, T0)    # another branch's member
    return members


def test_host_board_lists_every_hosted_member_marked_for_every_period(org, hosted):
    names = {m.name for m in hosted}
    for period in PERIODS:
        board = boards.leaderboard(org.host, period, now=T0)
        assert {r.name for r in board.rows} == names, period
        assert all(r.hosted for r in board.rows), period
        assert [r.points for r in board.rows] == [7, 6, 5, 4, 3, 2, 1]
        assert [r.unit_name for r in board.rows] == [org.home.name] * 7  # where they come from
        home = boards.leaderboard(org.home, period, now=T0)
        assert names | {"李芳"} == {r.name for r in home.rows}, period  # they stay on their home board
        assert not any(r.hosted for r in home.rows)
    # The general branch above the host branch counts them as incoming too.
    assert {r.name for r in boards.leaderboard(org.mobile, "month", now=T0).rows} == names
    # Another period's board is empty, hosted or not.
    assert boards.leaderboard(org.host, "day", now=T0 + timedelta(days=1)).rows == []


def test_hosted_members_do_not_appear_on_a_third_branch(org, hosted):
    board = boards.leaderboard(org.foreign, "all", now=T0)
    assert [r.name for r in board.rows] == ["王强"]
    assert boards.leaderboard(org.foreign, "all", viewer_member=org.member1, now=T0).me is None


def test_the_county_board_lists_hosted_members_once(org, hosted):
    rows = boards.leaderboard(org.root, "month", now=T0).rows
    assert len(rows) == 9 and len({r.name for r in rows}) == 9
    assert not any(r.hosted for r in rows)  # their home branch is in the county too


def test_my_rank_on_the_host_board_and_on_the_home_board(org, hosted):
    fourth = hosted[3]  # 4 points: 3 hosted members above them; on the home board 李芳 too
    at_host = boards.leaderboard(org.host, "month", viewer_member=fourth, now=T0, limit=2)
    assert (at_host.me.rank, at_host.me.points, at_host.me.hosted) == (4, 4, True)
    at_home = boards.leaderboard(org.home, "month", viewer_member=fourth, now=T0, limit=2)
    assert (at_home.me.rank, at_home.me.hosted) == (5, False)
    # Shown on the board: the row itself is "me".
    shown = boards.leaderboard(org.host, "month", viewer_member=hosted[6], now=T0)
    assert shown.me.rank == 1 and shown.me.is_me and shown.me.hosted


def test_narrow_and_wide_scopes_both_add_hosted_members(org, hosted, factory):
    # Many small branches make the host branch a narrow scope and the general branch above it a wide one.
    for index in range(30):
        factory.unit(f"Branch {index}", "branch", org.township)
    for index in range(3):
        factory.unit(f"Mobile {index}", "branch", org.mobile)
    assert "+" not in str(boards._scope(org.host)[0]) and "+" in str(boards._scope(org.mobile)[0])
    for unit in (org.host, org.mobile):
        board = boards.leaderboard(unit, "all", now=T0, limit=3)
        assert [r.points for r in board.rows] == [7, 6, 5] and all(r.hosted for r in board.rows)


def test_a_host_branch_member_and_hosted_members_rank_together(org, hosted, factory):
    local = factory.member(org.host, "shenzhen1", name="深圳本地")
    give(local, 5, org.admin, T0)
    board = boards.leaderboard(org.host, "month", viewer_member=local, now=T0)
    assert [(r.rank, r.points, r.hosted) for r in board.rows[:4]] == [
        (1, 7, True), (2, 6, True), (3, 5, True), (3, 5, False)]
    assert board.me.rank == 3 and not board.me.hosted


def test_a_hosted_member_hiding_their_name_shows_it_on_the_host_branch_only(org, hosted, db):
    org.member1.hide_from_public_boards = True
    db.session.commit()
    host_row = next(r for r in boards.leaderboard(org.host, "month", now=T0).rows if r.points == 1)
    assert host_row.name == "张伟" and not host_row.hidden
    general = next(r for r in boards.leaderboard(org.mobile, "month", now=T0).rows if r.points == 1)
    assert general.hidden and general.member_id is None and general.as_json()["member"] is None


def test_unit_figures_count_hosted_members(org, hosted):
    today = tk.utcnow()
    for member in hosted[:3]:
        give(member, 10, org.admin)
    give(org.member2, 4, org.admin)
    assert reports.month_points(org.host) == (30, 30)
    assert reports.month_points(org.home) == (34, 0)
    assert reports.month_points(org.foreign) == (0, 0)
    assert reports.unit_monthly(org.host, today)[-1] == (periods.current_key("month", today), 30)
    assert reports.month_points(org.root) == (34, 0)  # a root has nobody incoming


def test_quiz_widget_counts_hosted_members(org, hosted, db):
    today = tk.local_today()
    for member in hosted[:4]:
        db.session.add(DailyResult(member_id=member.id, day=today))
    db.session.add(DailyResult(member_id=hosted[4].id, day=today - timedelta(days=3)))
    db.session.add(DailyResult(member_id=org.member2.id, day=today))
    db.session.commit()
    host = quiz_views.unit_widget_context(org.host)
    assert (host["members"], host["today"], host["week"]) == (8, 4, 5)  # and the secretary, a member there
    assert host["hosted"] == {"members": 7, "today": 4, "week": 5}
    home = quiz_views.unit_widget_context(org.home)
    assert (home["members"], home["today"], home["week"]) == (9, 5, 6)  # and the home secretary
    assert home["hosted"] == {"members": 0, "today": 0, "week": 0}
    foreign = quiz_views.unit_widget_context(org.foreign)
    assert (foreign["members"], foreign["today"]) == (2, 0)


def test_host_secretary_sees_hosted_members_on_board_and_dashboard_and_nothing_more(app, org, hosted):
    for member in hosted:
        give(member, 2, org.admin)  # this month, for the unit dashboard
    client = app.test_client()
    assert login(client, "host-secretary").status_code == 302
    page = client.get(f"/points/leaderboard?unit={org.host.id}&period=all").get_data(as_text=True)
    assert all(m.name in page for m in hosted) and page.count("incoming member") == 7
    assert "李芳" not in page and "王强" not in page
    dashboard = client.get(f"/units/{org.host.id}/dashboard")
    assert dashboard.status_code == 200
    text = dashboard.get_data(as_text=True)
    assert "张伟" in text and "of which by incoming members: 14" in text
    # The home side stays closed: the home board, a member at home, the home branch's report.
    assert client.get(f"/points/leaderboard?unit={org.home.id}").status_code == 404
    assert client.get(f"/points/members/{org.member2.id}").status_code == 404
    assert client.get(f"/points/units/{org.home.id}/report").status_code == 404
    headers = api_token(client, "host-secretary")
    data = client.get(f"/api/v1/points/leaderboard?unit={org.host.id}&period=all", headers=headers).json
    incoming = [entry for entry in data["entries"] if entry["hosted"]]
    assert len(incoming) == 7 and {entry["member"]["unit"] for entry in incoming} == {org.home.name}
    assert {entry["member"]["name"] for entry in data["entries"] if not entry["hosted"]} <= {"host-secretary"}
    assert set(incoming[0]["member"]) == {"id", "name", "unit"}  # basics only


def test_hosted_member_sees_their_rank_on_the_host_board(app, org, hosted):
    client = app.test_client()
    assert login(client, "member1").status_code == 302
    page = client.get(f"/points/leaderboard?unit={org.host.id}&period=all").get_data(as_text=True)
    me = boards.leaderboard(org.host, "all", viewer_member=org.member1).me  # the login may have earned a point
    assert me.hosted and me.rank >= 6
    assert f"Your rank: {me.rank} with {me.points} points" in page


def test_demo_host_branch_shows_its_incoming_members(db):
    from portal.demo import build_demo

    build_demo(members=12, password="pass-1234")
    db.session.commit()
    host = db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "青山县驻深圳流动党员党支部"))
    guests = {m.id for m in db.session.scalars(select(tk.Member).where(tk.Member.host_unit_id == host.id))}
    assert guests
    rows = boards.leaderboard(host, "all").rows
    assert guests <= {r.member_id for r in rows if r.hosted}
    assert quiz_views.unit_widget_context(host)["hosted"]["members"] == len(guests)
    assert reports.month_points(host)[1] > 0


def test_courses_widget_splits_incoming_members(org, hosted, db):
    from portal_courses import services as courses
    from portal_courses.models import Course
    from portal_courses.sync import sync_directory

    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    courses.create_assignment(course, org.host, tk.local_today() + timedelta(days=7))
    courses.create_assignment(course, org.home, tk.local_today() + timedelta(days=7))
    db.session.commit()
    [host] = courses.unit_assignment_summaries(org.host)
    assert (host["total"], host["hosted"]) == (8, 7)  # the 7 incoming members and the secretary, a member there
    [home] = courses.unit_assignment_summaries(org.home)
    assert (home["total"], home["hosted"]) == (9, 0)

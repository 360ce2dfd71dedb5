"""Totals by period, leaderboards, ranks, hidden names, unit standings, moves, recompute."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal import toolkit as tk
from portal_points import leaderboard as boards
from portal_points import services
from portal_points.models import PointsTotal

T0 = datetime(2026, 3, 10, 2, 0, 0)


def give(member, points, at, by):
    entry = services.award_manual(member, points, "Points for the test", account=by, now=at)
    tk.db.session.commit()
    return entry


def test_totals_for_every_period(org, db):
    give(org.member1, 3, T0, org.admin)
    give(org.member1, 4, T0 + timedelta(days=1), org.admin)           # 11 March
    give(org.member1, 5, datetime(2026, 4, 2, 2), org.admin)           # next month and quarter
    give(org.member1, 6, datetime(2025, 12, 31, 17), org.admin)        # 1 January 2026 in Shanghai
    totals = services.member_totals(org.member1.id, now=T0 + timedelta(days=1))
    assert totals == {"day": 4, "month": 7, "quarter": 13, "year": 18, "all": 18}
    keys = {(t.period, t.period_key): t.points for t in db.session.scalars(
        select(PointsTotal).where(PointsTotal.member_id == org.member1.id))}
    assert keys[("d", 20260101)] == 6 and keys[("q", 20262)] == 5 and keys[("y", 2026)] == 18
    assert ("y", 2025) not in keys
    assert services.monthly_points(org.member1.id, now=T0)[-3:] == [(202601, 6), (202602, 0), (202603, 7)]


def test_leaderboard_ranks_ties_scope_and_my_rank(org, db, factory):
    extra = factory.member(org.home, "member9", name="赵六")
    give(org.member1, 10, T0, org.admin)
    give(org.member2, 10, T0, org.admin)
    give(extra, 4, T0, org.admin)
    give(org.outsider, 50, T0, org.admin)
    board = boards.leaderboard(org.home, "month", viewer_member=extra, now=T0)
    assert [(r.rank, r.name, r.points) for r in board.rows] == [(1, "张伟", 10), (1, "李芳", 10), (3, "赵六", 4)]
    assert (board.me.rank, board.me.points, board.me.is_me) == (3, 4, True)
    township = boards.leaderboard(org.township, "month", viewer_member=org.member2, now=T0, limit=2)
    assert [r.name for r in township.rows] == ["王强", "张伟"]
    assert (township.me.rank, township.me.points) == (2, 10)  # outside the top 2 shown, counted all the same
    assert boards.leaderboard(org.home, "day", now=T0 + timedelta(days=1)).rows == []
    assert boards.leaderboard(org.foreign, "month", viewer_member=org.member1, now=T0).me is None


def test_wide_and_narrow_scopes_agree(org, db, factory):
    # Many small branches make the home branch a narrow scope and the root a wide one.
    for index in range(30):
        factory.unit(f"Branch {index}", "branch", org.township)
    give(org.member1, 8, T0, org.admin)
    give(org.outsider, 9, T0, org.admin)
    narrow_condition, _ = boards._scope(org.home)
    wide_condition, _ = boards._scope(org.township)
    assert "+" not in str(narrow_condition) and "+" in str(wide_condition)
    assert boards._scope(org.root)[0] is None
    assert [r.name for r in boards.leaderboard(org.home, "all", now=T0).rows] == ["张伟"]
    assert [r.name for r in boards.leaderboard(org.township, "all", now=T0).rows] == ["王强", "张伟"]
    assert [r.name for r in boards.leaderboard(org.root, "all", now=T0).rows] == ["王强", "张伟"]


def test_hidden_names_outside_the_members_own_branch(org, db):
    org.member2.hide_from_public_boards = True
    db.session.commit()
    give(org.member2, 5, T0, org.admin)
    give(org.member1, 3, T0, org.admin)
    own_branch = boards.leaderboard(org.home, "month", viewer_member=org.member1, now=T0)
    assert own_branch.rows[0].name == "李芳" and not own_branch.rows[0].hidden
    county = boards.leaderboard(org.root, "month", viewer_member=org.member1, now=T0)
    assert county.rows[0].hidden and county.rows[0].member_id is None and "李芳" not in county.rows[0].name
    assert county.rows[0].as_json()["member"] is None
    # The member still sees themselves.
    assert not boards.leaderboard(org.root, "month", viewer_member=org.member2, now=T0).rows[0].hidden


def test_unit_standings_by_average_and_total(org, db, factory):
    for index in range(3):
        member = factory.member(org.foreign, f"f{index}")
        give(member, 4, T0, org.admin)  # foreign: 12 points over 5 members (foreign_sec, outsider, f0..f2)
    give(org.member1, 9, T0, org.admin)  # home: 9 points over 3 members (home_sec, member1, member2)
    by_average = boards.unit_standings(org.township, "month", now=T0)
    assert [(s.unit.name, s.points, s.members, s.average) for s in by_average] == [
        (org.home.name, 9, 3, 3.0), (org.foreign.name, 12, 5, 2.4)]
    by_total = boards.unit_standings(org.township, "month", by="total", now=T0)
    assert [s.unit.name for s in by_total] == [org.foreign.name, org.home.name]
    # A branch without sub-units stands alone.
    assert [(s.unit.id, s.points) for s in boards.unit_standings(org.home, "month", now=T0)] == [(org.home.id, 9)]


def test_member_moving_branch_takes_totals_along_but_not_branch_credit(org, db):
    give(org.member2, 5, T0, org.admin)
    org.member2.home_unit_id = org.foreign.id
    db.session.commit()
    give(org.member2, 2, T0 + timedelta(days=1), org.admin)
    units = set(db.session.scalars(select(PointsTotal.unit_id).where(PointsTotal.member_id == org.member2.id)))
    assert units == {org.foreign.id}
    assert [r.points for r in boards.leaderboard(org.foreign, "month", now=T0).rows] == [7]
    assert boards.leaderboard(org.home, "month", now=T0).rows == []
    standings = {s.unit.id: s.points for s in boards.unit_standings(org.township, "month", now=T0)}
    assert standings == {org.home.id: 5, org.foreign.id: 2}  # points stay with the branch that earned them


def test_recompute_reports_and_repairs_differences(app, org, db):
    give(org.member1, 5, T0, org.admin)
    give(org.member2, 3, T0, org.admin)
    db.session.execute(update(PointsTotal).where(PointsTotal.member_id == org.member1.id, PointsTotal.period == "m")
                       .values(points=99))
    db.session.execute(PointsTotal.__table__.delete().where(PointsTotal.member_id == org.member2.id,
                                                            PointsTotal.period == "y"))
    db.session.commit()
    from portal.cli import cli

    runner = app.test_cli_runner()
    dry = runner.invoke(cli, args=["points", "recompute", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "stored 99, ledger says 5" in dry.output and "2 difference(s) found" in dry.output
    result = runner.invoke(cli, args=["points", "recompute", "--member", str(org.member1.id)])
    assert "1 difference(s) repaired" in result.output
    db.session.rollback()
    assert services.member_total(org.member1.id, "month", now=T0) == 5
    result = runner.invoke(cli, args=["points", "recompute"])
    assert "1 difference(s) repaired" in result.output
    assert "0 difference(s)" in runner.invoke(cli, args=["points", "recompute"]).output
    assert runner.invoke(cli, args=["points", "recompute", "--member", "999999"]).exit_code != 0
    db.session.rollback()
    assert services.member_total(org.member2.id, "year", now=T0) == 3


def test_campaign_place_badges_when_it_ends(org, db):
    from datetime import date

    campaign = services.save_campaign(None, name="Report often", description="", starts_on=date(2026, 3, 1),
                                      ends_on=date(2026, 3, 20), units=[org.township], owner_unit=org.township,
                                      account_id=None, now=T0)
    for member, points in ((org.member1, 9), (org.member2, 9), (org.outsider, 4)):
        services.award_manual(member, points, "Reported every week", account=org.admin, campaign=campaign, now=T0)
    db.session.commit()
    tk.set_setting("points", "campaign_badge_places", 2)
    assert services.finalize_campaigns(datetime(2026, 3, 15)) == []  # still running
    assert services.finalize_campaigns(datetime(2026, 3, 21, 2)) == [campaign]
    assert services.finalize_campaigns(datetime(2026, 3, 22)) == []  # idempotent
    db.session.commit()
    places = {(b.member_id, b.key) for b in db.session.scalars(select(services.PointsBadge).where(
        services.PointsBadge.kind == "campaign"))}
    assert places == {(org.member1.id, f"{campaign.id}:1"), (org.member2.id, f"{campaign.id}:1")}

"""A branch's members include those kept in its party groups (child units of the branch): the review opened through
the secretaries' page gives them an entry (the host opinion asked for one away), the reminders reach them, they rate
and are rated, and the results list them. A general branch's review covers its own groups, never a branch below it
(that branch holds its own review)."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from portal import toolkit as tk
from portal_review import alerts, rounds
from portal_review.models import HostOpinion, ReviewEntry, ReviewRound
from tests.conftest import login

YEAR = 2026
OPEN = date(YEAR, 11, 2)
DATES = {"self_from": OPEN + timedelta(days=1), "self_until": OPEN + timedelta(days=10),
         "mutual_from": OPEN + timedelta(days=11), "mutual_until": OPEN + timedelta(days=20)}


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _grouped(org, factory):
    """The home branch with a party group holding a member at home and one away at the host branch."""
    group = factory.unit("East Ridge Group One", "group", org.home)
    org.group_home = factory.member(group, "grouped", name="周敏")
    org.group_away = factory.member(group, "grouped-away", name="吴刚", host=org.host)
    return group


def _open_by_page(app, db, org) -> ReviewRound:
    response = _client(app, "home-secretary").post(f"/review/manage/?unit={org.home.id}", data={"year": str(YEAR)})
    assert response.status_code == 302
    return db.session.scalar(select(ReviewRound).where(ReviewRound.unit_id == org.home.id))


def _member_ids(round_: ReviewRound) -> set[int]:
    return {entry.member_id for entry in rounds.entries(round_)}


def test_opening_gives_the_members_of_party_groups_an_entry(app, db, org, factory):
    _grouped(org, factory)
    round_ = _open_by_page(app, db, org)
    assert {org.group_home.id, org.group_away.id, org.member1.id, org.member2.id} <= _member_ids(round_)
    assert org.outsider.id not in _member_ids(round_)
    away = db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                       ReviewEntry.member_id == org.group_away.id))
    assert away.host_unit_id == org.host.id
    assert db.session.scalar(select(HostOpinion).where(HostOpinion.entry_id == away.id)).host_unit_id == org.host.id
    # The grouped member sees their own review and the round; the secretary opens their entry.
    assert _client(app, "grouped").get("/review/").status_code == 200
    assert rounds.visible_round(round_.id, org.group_home.account) is round_
    page = _client(app, "home-secretary").get(f"/review/manage/rounds/{round_.id}/members/{org.group_home.id}")
    assert page.status_code == 200 and "周敏" in page.get_data(as_text=True)


def test_a_member_joining_a_group_later_gets_an_entry_on_refresh(db, org, factory):
    round_ = rounds.open_round(org.home, YEAR, actor=None)
    group = factory.unit("East Ridge Group Two", "group", org.home)
    late = factory.member(group, "late-joiner")
    added = rounds.refresh_entries(round_)
    assert [entry.member_id for entry in added] == [late.id]


def test_reminders_reach_the_members_of_party_groups(db, org, factory):
    _grouped(org, factory)
    round_ = rounds.open_round(org.home, YEAR, actor=None, now=tk.local_day_bounds(OPEN)[0], dates=DATES)
    rounds.move(round_, "self", actor=None)
    found = alerts.scan(tk.local_day_bounds(DATES["self_from"])[0] + timedelta(hours=2))
    told = {alert.member_id: alert.account_ids for alert in found if alert.kind == "review.self_open"}
    assert told[org.group_home.id] == (org.group_home.account_id,)
    assert org.group_away.id in told


def test_results_list_the_members_of_party_groups(app, db, org, factory):
    _grouped(org, factory)
    round_ = _open_by_page(app, db, org)
    client = _client(app, "home-secretary")
    page = client.get(f"/review/manage/rounds/{round_.id}/results")
    assert page.status_code == 200
    assert "周敏" in page.get_data(as_text=True) and "吴刚" in page.get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get(f"/review/manage/rounds/{round_.id}/results.xlsx").data)).active
    names = {cell.value for row in sheet.iter_rows() for cell in row}
    assert {"周敏", "吴刚"} <= names


def test_a_general_branch_reviews_its_groups_not_the_branches_below_it(db, org, factory):
    own_group = factory.unit("Mobile Liaison Group", "group", org.mobile)
    own = factory.member(own_group, "mobile-grouped")
    direct = factory.member(org.mobile, "mobile-direct")
    host_group = factory.unit("Shenzhen Group", "group", org.host)
    hosts = factory.member(host_group, "host-grouped")
    round_ = rounds.open_round(org.mobile, YEAR, actor=None)
    assert _member_ids(round_) == {own.id, direct.id}
    host_round = rounds.open_round(org.host, YEAR, actor=None)
    assert hosts.id in _member_ids(host_round) and own.id not in _member_ids(host_round)

"""A branch's members include those kept in its party groups (the core's rule: ``own_unit_ids``,
``branch_of``, ``branch_unit_ids``) and the member record's contact person may come from any group of the
member's branch, never from another branch."""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal.org.models import Member
from tests.conftest import login


def test_own_units_are_the_unit_and_its_groups_not_the_branches_below(db, org, factory):
    group = factory.unit("East Ridge Group One", "group", org.home)
    subgroup = factory.unit("East Ridge Group One A", "group", group)
    mobile_group = factory.unit("Mobile Liaison Group", "group", org.mobile)
    host_group = factory.unit("Shenzhen Group", "group", org.host)
    assert sorted(tk.own_unit_ids(org.home)) == sorted([org.home.id, group.id, subgroup.id])
    assert sorted(tk.own_unit_ids(org.mobile)) == sorted([org.mobile.id, mobile_group.id])
    assert sorted(tk.own_unit_ids(org.host)) == sorted([org.host.id, host_group.id])
    assert tk.branch_of(subgroup) == org.home and tk.branch_of(org.home) == org.home
    assert sorted(tk.branch_unit_ids(subgroup)) == sorted(tk.own_unit_ids(org.home))
    assert tk.own_unit_ids(org.township) == [org.township.id]


def test_the_contact_person_may_come_from_a_group_of_the_branch(client, org, db, factory):
    group = factory.unit("East Ridge Group One", "group", org.home)
    grouped = factory.member(group, "grouped", name="周敏")
    login(client, "home-secretary")
    page = client.get(f"/members/{org.member1.id}/contact").get_data(as_text=True)
    assert "周敏" in page and "王强" not in page
    assert client.post(f"/members/{org.member1.id}/contact", data={"contact": grouped.id}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Member.contact_member_id).where(Member.id == org.member1.id)) == grouped.id
    # and the other way round: the group's member paired with a member kept at the branch itself
    assert client.post(f"/members/{grouped.id}/contact", data={"contact": org.member2.id}).status_code == 302
    assert client.post(f"/members/{grouped.id}/contact", data={"contact": org.outsider.id}).status_code == 422

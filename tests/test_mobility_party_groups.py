"""The 1+1 contact person comes from the member's home branch, its party groups included: a member away kept
in one group may be paired with a member at home in another group of the same branch, never with another
branch's member."""
from __future__ import annotations

from portal import toolkit as tk
from tests.conftest import login


def test_the_contact_person_may_come_from_another_group_of_the_branch(app, db, org, factory):
    first = factory.unit("East Ridge Group One", "group", org.home)
    second = factory.unit("East Ridge Group Two", "group", org.home)
    away = factory.member(first, "grouped-away", name="吴刚", host=org.host)
    neighbour = factory.member(second, "neighbour", name="周敏")
    client = app.test_client()
    login(client, "home-secretary")
    page = client.get(f"/mobility/members/{away.id}").get_data(as_text=True)
    assert "周敏" in page and "李芳" in page  # the other group's member and the branch's own (member2)
    refused = client.post(f"/mobility/members/{away.id}/contact-person",
                          data={"contact_member_id": str(org.outsider.id)})
    assert refused.status_code == 303  # back to the page with the refusal
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, away.id).contact_member_id is None
    done = client.post(f"/mobility/members/{away.id}/contact-person", data={"contact_member_id": str(neighbour.id)})
    assert done.status_code == 302, done.get_data(as_text=True)
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, away.id).contact_member_id == neighbour.id

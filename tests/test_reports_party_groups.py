"""A branch's members include those kept in its party groups: a group member's suggestion to the "home branch"
reaches the branch (not the group), and "the committee" is the one above the branch."""
from __future__ import annotations

from portal_reports import suggestions
from tests.conftest import api_token, login

SEND = {"target": "home", "body": "Hold the meeting on a Sunday."}


def test_a_group_members_suggestion_reaches_the_branch(app, db, org, factory):
    group = factory.unit("East Ridge Group One", "group", org.home)
    grouped = factory.member(group, "grouped", name="周敏")
    assert suggestions.target_unit(grouped, "committee") == org.township
    client = app.test_client()
    login(client, "grouped")
    page = client.get("/suggestions/").get_data(as_text=True)
    token = page.split('name="submission_token" value="')[1].split('"')[0]
    assert client.post("/suggestions/", data={**SEND, "submission_token": token}).status_code == 302
    secretary = app.test_client()
    rows = secretary.get(f"/api/v1/suggestions?unit={org.home.id}",
                         headers=api_token(secretary, "home-secretary")).json["suggestions"]
    assert [row["author"]["member_id"] for row in rows] == [grouped.id]

"""``GET /api/v1/xapi/statements``: who reads which statements, time filters and paging by ``more``."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.activity.services import record_activity
from tests.conftest import api_token

URL = "/api/v1/xapi/statements"
START = datetime(2026, 11, 1, 0, 0)  # naive UTC: 08:00 in Shanghai


@pytest.fixture(autouse=True)
def public(app, monkeypatch):
    """Statement ids name the portal's public address; the test computes them outside a request."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.cn")


@pytest.fixture
def stream(db, org, factory):
    """Activities of member1 (home, hosted at host), member2 (home), outsider (foreign) and a host member."""
    org.hosted = factory.member(org.host, "host-member", name="赵敏")
    org.township_organizer = factory.staff("township-organizer", "organizer", org.township)
    org.mobile_organizer = factory.staff("mobile-organizer", "organizer", org.mobile)
    people = [org.member1, org.member2, org.outsider, org.hosted]
    activities = {}
    for n, member in enumerate(people):
        activity, _ = record_activity(member, "member.daily_login", "login", f"day-{n}",
                                      at=START + timedelta(hours=n))
        activities[member.id] = activity
    db.session.commit()
    return activities


def _actors(client, headers, **params) -> list[str]:
    response = client.get(URL, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s["actor"]["account"]["name"] for s in response.json["statements"]]


def _actor(member) -> str:
    from portal.xapi.statements import actor_for

    return actor_for(member.id)["account"]["name"]


def test_admin_reads_every_statement_with_the_version_header(client, org, stream):
    response = client.get(URL, headers=api_token(client, "admin"))
    assert response.status_code == 200
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    body = response.json
    assert body["more"] == ""
    assert [s["id"] for s in body["statements"]] == [_id(a) for a in stream.values()]
    assert body["statements"][0]["timestamp"] == "2026-11-01T08:00:00+08:00"
    assert body["statements"][0]["version"] == "1.0.3"


def _id(activity) -> str:
    from portal.xapi.statements import statement_id

    return statement_id(activity)


def test_organizers_see_only_their_subtree(client, org, stream):
    township = _actors(client, api_token(client, "township-organizer"))
    assert township == [_actor(m) for m in (org.member1, org.member2, org.outsider)]
    mobile = _actors(client, api_token(client, "mobile-organizer"))
    assert mobile == [_actor(m) for m in (org.member1, org.hosted)]  # member1 is hosted there
    assert len(_actors(client, api_token(client, "organizer"))) == 4  # organizer of the root


@pytest.mark.parametrize("username", ["home_sec", "host_sec", "member1", "outsider"])
def test_secretaries_and_members_are_refused(client, org, stream, username):
    response = client.get(URL, headers=api_token(client, org.accounts[username].username))
    assert response.status_code == 403
    assert response.json["error"]["message"]


def test_anonymous_is_asked_to_log_in(client, org, stream):
    response = client.get(URL)
    assert response.status_code == 401


def test_since_is_exclusive_and_until_inclusive_local_without_offset(client, org, stream):
    admin = api_token(client, "admin")
    # 09:00 local is the second activity; since excludes it, until includes it.
    assert _actors(client, admin, since="2026-11-01T09:00:00") == [_actor(org.outsider), _actor(org.hosted)]
    assert _actors(client, admin, until="2026-11-01T09:00:00+08:00") == [_actor(org.member1), _actor(org.member2)]
    assert _actors(client, admin, since="2026-11-01T01:00:00Z", until="2026-11-01T02:00:00Z") == [_actor(org.outsider)]


@pytest.mark.parametrize("params, field", [
    ({"since": "yesterday"}, "since"), ({"until": "2026-13-01"}, "until"), ({"limit": "0"}, "limit"),
    ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_bad_values_are_refused_with_a_message(client, org, stream, params, field):
    response = client.get(URL, headers=api_token(client, "admin"), query_string=params)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "bad_request" and field in error.get("fields", {})
    assert error["message"]


def test_limit_and_more_page_through_everything_once(client, org, stream):
    admin = api_token(client, "admin")
    seen, url, pages = [], URL + "?limit=3&since=2026-10-31T00:00:00%2B08:00", 0
    while url:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        assert len(response.json["statements"]) <= 3
        seen += [s["id"] for s in response.json["statements"]]
        url, pages = response.json["more"], pages + 1
        assert not url or ("since=" in url and "limit=3" in url)
    assert pages == 2
    assert seen == [_id(a) for a in stream.values()]


def test_a_statement_recorded_meanwhile_does_not_shift_the_pages(client, org, stream, db):
    admin = api_token(client, "admin")
    first = client.get(URL, headers=admin, query_string={"limit": 2}).json
    record_activity(org.member2, "member.daily_login", "login", "early", at=START - timedelta(days=1))
    db.session.commit()
    second = client.get(first["more"], headers=admin).json
    assert [s["id"] for s in first["statements"] + second["statements"]] == [_id(a) for a in stream.values()]


def test_the_path_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/xapi/statements" in paths
    assert {"401", "403", "400"} <= set(paths["/api/v1/xapi/statements"]["get"]["responses"])

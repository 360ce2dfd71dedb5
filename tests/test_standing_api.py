"""The standing API: the contract's shapes, scope, the member's own standing and what resets it, records and cases,
and every GET route × every role (writes: tests/test_post_matrix_standing_api.py)."""
from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from sqlalchemy import select

from portal import toolkit as tk
from portal_standing import steps
from portal_standing.models import Case
from tests.conftest import api_token
from tests.helpers.permission_matrix import check_matrix, expect

_serial = count(1)


def _ago(days: int) -> date:
    return tk.local_today() - timedelta(days=days)


def _act(member, verb: str, day: date) -> None:
    tk.record_activity(member, verb, "test", next(_serial), at=tk.local_day_bounds(day)[0] + timedelta(hours=12))


def _history(member, *, dues_days_ago: int) -> None:
    """Branch life and work in the last days; dues last paid ``dues_days_ago`` days ago."""
    member.joined_on = date(2024, 1, 1)
    _act(member, "meeting.attended", _ago(3))
    _act(member, "work.done", _ago(2))
    _act(member, "dues.paid", _ago(dues_days_ago))
    tk.db.session.commit()


def _get(client, url: str, headers: dict):
    return client.get(url, headers=headers)


def _post(client, url: str, headers: dict, body: dict):
    return client.post(url, json=body, headers=headers)


def test_unit_standing_has_the_contract_shape(app, db, client, org):
    _history(org.member2, dues_days_ago=200)
    _history(org.member1, dues_days_ago=5)
    token = api_token(client, "home-secretary")
    response = _get(client, f"/api/v1/standing?unit={org.home.id}", token)
    assert response.status_code == 200
    rows = {row["member_id"]: row for row in response.get_json()["members"]}
    assert rows[org.member2.id]["months_without"] == {"branch_life": 0, "dues": 6, "work": 0}
    assert rows[org.member2.id]["step"] == "case"
    assert rows[org.member1.id]["step"] == "none"
    assert org.outsider.id not in rows  # another branch's member


def test_unit_standing_refuses_outside_scope_and_bad_units(app, db, client, org):
    token = api_token(client, "host-secretary")
    assert _get(client, f"/api/v1/standing?unit={org.home.id}", token).status_code == 404
    assert _get(client, "/api/v1/standing?unit=abc", token).status_code == 422
    assert _get(client, f"/api/v1/standing?unit={tk.MAX_ID + 1}", token).status_code == 404


def test_me_says_what_would_reset_each_dimension(app, db, client, org):
    _history(org.member2, dues_days_ago=100)
    token = api_token(client, org.member2.account.username)
    body = _get(client, "/api/v1/standing/me", token).get_json()
    assert body["member_id"] == org.member2.id and body["applies"] is True
    assert body["months_without"]["dues"] == 3 and body["step"] == "talk"
    assert set(body["resets"]) == {"branch_life", "dues", "work"} and all(body["resets"].values())
    assert _get(client, "/api/v1/standing/me", api_token(client, "organizer")).status_code == 403


def test_leave_recorded_through_the_api_pauses_the_count(app, db, client, org):
    _history(org.member2, dues_days_ago=200)
    token = api_token(client, "home-secretary")
    response = _post(client, "/api/v1/standing/leaves", token, {
        "member_id": org.member2.id, "starts_on": _ago(150).isoformat(), "ends_on": _ago(1).isoformat(),
        "reason": "Hospital"})
    assert response.status_code == 201 and response.get_json()["reason"] == "Hospital"
    rows = {row["member_id"]: row for row in
            _get(client, f"/api/v1/standing?unit={org.home.id}", token).get_json()["members"]}
    assert rows[org.member2.id]["months_without"]["dues"] == 1
    refused = _post(client, "/api/v1/standing/leaves", token, {"member_id": org.member2.id, "starts_on": "soon",
                                                               "reason": "x", "colour": "red"})
    assert refused.status_code == 422


def test_a_case_through_the_api_decided_by_the_branch_approved_above(app, db, client, org):
    _history(org.member2, dues_days_ago=200)
    steps.scan(tk.utcnow())
    tk.db.session.commit()
    case = tk.db.session.scalar(select(Case).where(Case.member_id == org.member2.id))
    sec, organizer = api_token(client, "home-secretary"), api_token(client, "organizer")
    listed = _get(client, f"/api/v1/standing/cases?unit={org.home.id}", sec).get_json()["cases"]
    assert [(row["id"], row["resolved_by_activity"]) for row in listed] == [(case.id, False)]
    assert _post(client, f"/api/v1/standing/cases/{case.id}/approval", organizer,
                 {"approval": "Agreed"}).status_code == 409  # not decided yet
    decided = _post(client, f"/api/v1/standing/cases/{case.id}/decision", sec,
                    {"decision": "Talk again, then decide", "decided_on": _ago(0).isoformat()})
    assert decided.status_code == 200 and decided.get_json()["state"] == "decided"
    assert _post(client, f"/api/v1/standing/cases/{case.id}/approval", sec, {"approval": "x"}).status_code == 404
    approved = _post(client, f"/api/v1/standing/cases/{case.id}/approval", organizer, {"approval": "Agreed"})
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    member_token = api_token(client, org.member1.account.username)
    assert _post(client, f"/api/v1/standing/cases/{case.id}/close", member_token, {"reason": "x"}).status_code == 404


def test_every_get_route_as_every_role(app, db, org):
    managers = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "standing_api.unit_standing": managers,
        "standing_api.cases": managers,
        "standing_api.me": expect(200, anonymous=401, organizer=403, admin=403),
    }, blueprints={"standing_api"}, url_values={
        "standing_api.unit_standing": lambda org: {"unit": org.home.id},
        "standing_api.cases": lambda org: {"unit": org.home.id},
    })
    assert checked == 3 * 9

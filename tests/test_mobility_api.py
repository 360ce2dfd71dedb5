"""The mobility JSON API: the interface other clients rely on, and its bad-input answers."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_mobility.models import CheckIn, Outflow
from tests.conftest import api_token

BODY = {"destination_province": "广东省", "destination_city": "深圳市", "employer": "深圳市华达电子有限公司",
        "start_date": "2026-03-01", "reason": "外出务工"}


def test_register_approve_check_in_confirm(app, db, org, client):
    member = api_token(client, "member2")
    created = client.post("/api/v1/mobility/outflows", json=BODY, headers=member)
    assert created.status_code == 201 and created.json["status"] == "pending"
    outflow_id = created.json["id"]

    # neither the member, the host nor a foreign secretary may approve
    for who in ("member2", "host-secretary", "foreign-secretary"):
        assert client.post(f"/api/v1/mobility/outflows/{outflow_id}/approve",
                           headers=api_token(client, who)).status_code == 404
    home = api_token(client, "home-secretary")
    approved = client.post(f"/api/v1/mobility/outflows/{outflow_id}/approve", headers=home)
    assert approved.status_code == 200
    certificate = approved.json["certificate"]
    assert certificate["verify_url"].endswith(f"/certificates/mobility/verify/{certificate['number']}")
    assert certificate["valid_until"] == (tk.local_today() + timedelta(days=365)).isoformat()
    assert client.post(f"/api/v1/mobility/outflows/{outflow_id}/approve", headers=home).status_code == 409
    assert client.get(urlsplit(certificate["verify_url"]).path).status_code == 200

    checkin = client.post("/api/v1/mobility/checkins", json={"host_unit_id": org.host.id}, headers=member)
    assert checkin.status_code == 201 and checkin.json["status"] == "pending"
    checkin_id = checkin.json["id"]
    assert client.post(f"/api/v1/mobility/checkins/{checkin_id}/confirm", headers=home).status_code == 404
    confirmed = client.post(f"/api/v1/mobility/checkins/{checkin_id}/confirm",
                            headers=api_token(client, "host-secretary"))
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member2.id).host_unit_id == org.host.id


def test_bad_bodies_get_clear_errors_and_change_nothing(app, db, org, client):
    member = api_token(client, "member2")
    assert client.post("/api/v1/mobility/outflows", data="nonsense", headers=member,
                       content_type="application/json").status_code == 400
    response = client.post("/api/v1/mobility/outflows", json={**BODY, "start_date": "yesterday", "reason": ""},
                           headers=member)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"start_date", "reason"}
    assert client.post("/api/v1/mobility/outflows", json=BODY).status_code == 401
    assert db.session.scalar(select(func.count(Outflow.id))) == 0

    # checking in before approval, with a bad id, at one's own home branch
    assert client.post("/api/v1/mobility/checkins", json={"host_unit_id": org.host.id},
                       headers=member).status_code == 409
    assert client.post("/api/v1/mobility/checkins", json={"host_unit_id": "x"}, headers=member).status_code == 400
    assert client.post("/api/v1/mobility/checkins", json={"host_unit_id": True}, headers=member).status_code == 400
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0

    # a second open registration conflicts
    assert client.post("/api/v1/mobility/outflows", json=BODY, headers=member).status_code == 201
    assert client.post("/api/v1/mobility/outflows", json=BODY, headers=member).status_code == 409
    # a secretary registers for a member of their branch, not for someone else's
    home = api_token(client, "home-secretary")
    assert client.post("/api/v1/mobility/outflows", json={**BODY, "member_id": org.member1.id},
                       headers=home).status_code == 201
    foreign = api_token(client, "foreign-secretary")
    assert client.post("/api/v1/mobility/outflows", json={**BODY, "member_id": org.member1.id},
                       headers=foreign).status_code == 404


def test_openapi_lists_the_paths(app, db, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/mobility/outflows", "/api/v1/mobility/outflows/{id}/approve", "/api/v1/mobility/checkins",
                 "/api/v1/mobility/checkins/{id}/confirm", "/api/v1/mobility/stats"):
        assert path in paths


def test_concurrent_registrations_yield_one_open_outflow(app, db, org, monkeypatch):
    """Even when two requests both pass the "already open?" check, the database keeps one open registration."""
    from portal_mobility import outflows
    from portal.toolkit import ServiceError

    monkeypatch.setattr(outflows, "open_outflow", lambda member: None)
    outflows.register_outflow(org.member2, BODY)
    db.session.commit()
    try:
        outflows.register_outflow(org.member2, BODY)
    except ServiceError as error:
        assert error.status == 409
    else:  # pragma: no cover
        raise AssertionError("a second open registration was stored")
    db.session.commit()
    assert db.session.scalar(select(func.count(Outflow.id))) == 1

"""Care API: filing (201 / 422 with field messages), visibility (404), lists, transitions (200 / 409)."""
from __future__ import annotations

from sqlalchemy import func, select

from portal_care.models import CareRequest
from tests.conftest import api_token

BODY = {"category": "wages", "title": "Wages owed", "description": "6800 yuan since March", "urgency": "high",
        "where": "host", "consent_host": True}


def _create(client, username="member1", **extra):
    response = client.post("/api/v1/care/requests", json={**BODY, **extra}, headers=api_token(client, username))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def test_create_and_read(client, db, org):
    request_id = _create(client)
    member = api_token(client, "member1")
    data = client.get(f"/api/v1/care/requests/{request_id}", headers=member).json
    assert (data["title"], data["status"], data["unit"]["id"], data["routed_by"]) == ("Wages owed", "new", org.host.id, "host")
    assert data["allowed_transitions"] == ["closed"]
    host = api_token(client, "host-secretary")
    data = client.get(f"/api/v1/care/requests/{request_id}", headers=host).json
    assert set(data["allowed_transitions"]) == {"accepted", "rejected"}
    for username in ("home-secretary", "foreign-secretary", "member2", "outsider"):
        response = client.get(f"/api/v1/care/requests/{request_id}", headers=api_token(client, username))
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", username
    assert client.get("/api/v1/care/requests/999999", headers=member).status_code == 404


def test_create_rejects_bad_input_with_field_messages(client, db, org):
    headers = api_token(client, "member1")
    response = client.post("/api/v1/care/requests", json={"category": "x", "title": "", "where": "moon"},
                           headers=headers)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) >= {"category", "title", "description", "where"}
    assert fields["title"] == "This field is required."
    assert client.post("/api/v1/care/requests", data="not json", headers=headers).status_code == 400
    assert client.post("/api/v1/care/requests", json={**BODY, "title": 5}, headers=headers).status_code == 422
    assert client.post("/api/v1/care/requests", json=BODY).status_code == 401
    # organizer has no member profile
    assert client.post("/api/v1/care/requests", json=BODY, headers=api_token(client, "organizer")).status_code == 403
    assert db.session.scalar(select(func.count(CareRequest.id))) == 0


def test_secretary_files_on_behalf_through_the_api(client, db, org):
    host = api_token(client, "host-secretary")
    response = client.post("/api/v1/care/requests", json={**BODY, "member_id": org.member1.id}, headers=host)
    assert response.status_code == 201
    response = client.post("/api/v1/care/requests", json={**BODY, "member_id": org.outsider.id}, headers=host)
    assert response.status_code == 404


def test_lists_by_role_and_status(client, db, org):
    host_id = _create(client)
    home_id = _create(client, where="hometown", title="Mother")
    other_id = _create(client, "member2", where="hometown", title="Farmland")
    member = api_token(client, "member1")
    mine = client.get("/api/v1/care/requests?status=open", headers=member).json["requests"]
    assert {r["id"] for r in mine} == {host_id, home_id}
    assert set(mine[0]) >= {"id", "title", "status", "category", "due_at"}
    home = client.get("/api/v1/care/requests?status=open", headers=api_token(client, "home-secretary")).json["requests"]
    assert {r["id"] for r in home} == {home_id, other_id}
    host = client.get("/api/v1/care/requests", headers=api_token(client, "host-secretary")).json["requests"]
    assert {r["id"] for r in host} == {host_id}
    assert client.get("/api/v1/care/requests", headers=api_token(client, "foreign-secretary")).json["requests"] == []
    assert client.get("/api/v1/care/requests?status=resolved", headers=member).json["requests"] == []
    assert client.get("/api/v1/care/requests?status=bogus", headers=member).status_code == 422


def test_transitions_200_409_403_422(client, db, org):
    request_id = _create(client)
    host = api_token(client, "host-secretary")
    member = api_token(client, "member1")
    url = f"/api/v1/care/requests/{request_id}/transitions"
    conflict = client.post(url, json={"to": "resolved"}, headers=host)
    assert conflict.status_code == 409 and conflict.json["error"]["code"] == "conflict"
    assert client.post(url, json={"to": "accepted"}, headers=member).status_code == 403
    assert client.post(url, json={"to": "flying"}, headers=host).status_code == 422
    assert client.post(url, json={"to": "accepted"}, headers=api_token(client, "foreign-secretary")).status_code == 404
    ok = client.post(url, json={"to": "accepted", "comment": "We called the labour office"}, headers=host)
    assert ok.status_code == 200 and ok.json["status"] == "accepted"
    assert ok.json["first_response_at"] is not None
    response = client.post(url, json={"to": "resolved", "summary": "Paid", "support_kind": "money"}, headers=host)
    assert response.status_code == 422 and "support_amount" in response.json["error"]["fields"]
    assert client.post(url, json={"to": "resolved", "summary": "Paid", "support_kind": "money",
                                  "support_amount": "6800"}, headers=host).status_code == 200
    done = client.post(url, json={"to": "closed", "rating": 5}, headers=member)
    assert done.status_code == 200 and done.json["rating"] == 5
    assert client.post(url, json={"to": "accepted"}, headers=host).status_code == 409


def test_comments_and_internal_notes(client, db, org):
    request_id = _create(client)
    host = api_token(client, "host-secretary")
    member = api_token(client, "member1")
    url = f"/api/v1/care/requests/{request_id}/comments"
    assert client.post(url, json={"body": "note", "internal": True}, headers=host).status_code == 201
    assert client.post(url, json={"body": "reply"}, headers=member).status_code == 201
    assert client.post(url, json={"body": "x", "internal": True}, headers=member).status_code == 403
    assert client.post(url, json={"body": ""}, headers=member).status_code == 422
    seen = client.get(f"/api/v1/care/requests/{request_id}", headers=member).json["events"]
    assert [e["body"] for e in seen if e["kind"] in ("comment", "note")] == ["reply"]
    seen = client.get(f"/api/v1/care/requests/{request_id}", headers=host).json["events"]
    assert [e["body"] for e in seen if e["kind"] in ("comment", "note")] == ["note", "reply"]


def test_openapi_lists_care_paths(client, org):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/care/requests/{id}/transitions" in paths
    assert "409" in paths["/api/v1/care/requests/{id}/transitions"]["post"]["responses"]

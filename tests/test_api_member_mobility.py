"""The member's side of mobility through the API: own outflow, move report, "no change", return, certificate
(JSON and PDF), branch lookup by city, corrections, photo and transfers — with the web's permissions."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_mobility import outflows
from portal_mobility.models import Move, Outflow, Transfer
from tests.conftest import api_token

OUTFLOW = {"destination_province": "广东省", "destination_city": "深圳市", "start_date": "2026-01-01",
           "reason": "外出务工"}


def _away(db, member, approve: bool = True) -> Outflow:
    outflow = outflows.register_outflow(member, OUTFLOW)
    if approve:
        outflows.approve_outflow(outflow)
    db.session.commit()
    return outflow


def _moves() -> int:
    return tk.db.session.scalar(select(func.count(Move.id)))


def test_my_outflow_with_its_certificate_and_check_ins(client, db, org):
    member = api_token(client, "member2")
    assert client.get("/api/v1/mobility/me", headers=member).json["outflow"] is None
    outflow = _away(db, org.member2)
    client.post("/api/v1/mobility/checkins", json={"host_unit_id": org.host.id}, headers=member)
    data = client.get("/api/v1/mobility/me", headers=member).json
    assert data["outflow"]["id"] == outflow.id and data["outflow"]["status"] == "approved"
    assert [c["host_unit"]["id"] for c in data["checkins"]] == [org.host.id]
    certificate = data["certificate"]
    assert certificate["state"] == "valid" and certificate["issued_at"].endswith("+08:00")
    assert data["confirm_due"] is False
    assert client.get("/api/v1/mobility/me", headers=api_token(client, "organizer")).status_code == 403
    assert client.get("/api/v1/mobility/me").status_code == 401

    # the certificate: its holder, the home side (and host side) — nobody else
    url = f"/api/v1/mobility/certificates/{certificate['id']}"
    assert client.get(url, headers=member).json["number"] == certificate["number"]
    pdf = client.get(certificate["pdf"], headers=member)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(url, headers=api_token(client, "home-secretary")).status_code == 200
    for username in ("member1", "outsider", "foreign-secretary"):
        headers = api_token(client, username)
        assert client.get(url, headers=headers).status_code == 404, username
        assert client.get(certificate["pdf"], headers=headers).status_code == 404, username


def test_report_a_move_and_confirm_no_change(client, db, org):
    member = api_token(client, "member2")
    body = {"changed_on": tk.local_today().isoformat(), "place": "杭州", "employer": "杭州电子厂"}
    response = client.post("/api/v1/mobility/report", json=body, headers=member)
    assert response.status_code == 409 and response.json["error"]["message"]  # not away
    _away(db, org.member2)
    response = client.post("/api/v1/mobility/report", json=body, headers=member)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["changed"]["employer"] == "杭州电子厂" and response.json["late"] is False
    assert client.get("/api/v1/mobility/me", headers=member).json["outflow"]["current_place"].startswith("浙江省杭州市")
    moves = _moves()
    for bad, field in (({**body, "changed_on": "2099-01-01"}, "changed_on"), ({**body, "changed_on": "soon"}, "changed_on"),
                       ({**body, "place": "Atlantis"}, "place"), ({**body, "employer": "杭州电子厂", "place": "杭州"}, "place"),
                       ({**body, "salary": 5}, "salary")):
        response = client.post("/api/v1/mobility/report", json=bad, headers=member)
        assert response.status_code == 422 and field in response.json["error"]["fields"], bad
    assert _moves() == moves
    confirmed = client.post("/api/v1/mobility/confirm", headers=member)
    assert confirmed.status_code == 200 and confirmed.json["confirmed_at"].endswith("+08:00")
    assert client.post("/api/v1/mobility/confirm", headers=api_token(client, "member1")).status_code == 409
    assert client.post("/api/v1/mobility/confirm").status_code == 401


def test_return_home(client, db, org):
    outflow = _away(db, org.member2)
    url = f"/api/v1/mobility/outflows/{outflow.id}/return"
    member = api_token(client, "member2")
    for username in ("member1", "host-secretary", "outsider"):
        assert client.post(url, json={}, headers=api_token(client, username)).status_code == 404, username
    response = client.post(url, json={"returned_on": "2099-01-01"}, headers=member)
    assert response.status_code == 422 and "returned_on" in response.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Outflow, outflow.id).status == "approved"
    response = client.post(url, json={"returned_on": tk.local_today().isoformat(), "certificate_returned": True},
                           headers=member)
    assert response.status_code == 200 and response.json["status"] == "returned"
    assert client.post(url, json={}, headers=member).status_code == 409
    assert client.get("/api/v1/mobility/me", headers=member).json["certificate"] is None


def test_branches_by_city_as_the_check_in_page_finds_them(client, db, org):
    member = api_token(client, "member2")
    data = client.get("/api/v1/mobility/branches?city=深圳", headers=member).json
    assert [b["id"] for b in data["branches"]] == [org.host.id] and data["city"] == "深圳"
    assert data["total"] == 1 and data["next"] is None
    # the member's own home branch is never offered; without ?city= the member's current city is used
    assert client.get("/api/v1/mobility/branches?city=East Ridge", headers=member).json["branches"] == []
    assert [b["id"] for b in client.get("/api/v1/mobility/branches",
                                        headers=api_token(client, "member1")).json["branches"]] == [org.host.id]
    org.member2.current_city = None
    db.session.commit()
    response = client.get("/api/v1/mobility/branches", headers=member)
    assert response.status_code == 400 and response.json["error"]["message"]
    assert client.get("/api/v1/mobility/branches?city=深圳&per_page=0", headers=member).status_code == 400


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def test_correct_withdraw_and_photo_of_a_waiting_registration(client, db, org):
    outflow = _away(db, org.member2, approve=False)
    member = api_token(client, "member2")
    url = f"/api/v1/mobility/outflows/{outflow.id}"
    response = client.put(url, json={**OUTFLOW, "destination_city": "广州市"}, headers=member)
    assert response.status_code == 200 and "广州" in response.json["destination"]
    response = client.put(url, json={**OUTFLOW, "start_date": "someday"}, headers=member)
    assert response.status_code == 422 and "start_date" in response.json["error"]["fields"]
    assert client.put(url, json=OUTFLOW, headers=api_token(client, "member1")).status_code == 404
    bad = client.post(f"{url}/photo", data={"photo": (io.BytesIO(b"not an image"), "me.png")}, headers=member,
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "photo" in bad.json["error"]["fields"]
    assert client.post(f"{url}/photo", data={"photo": (_png(), "me.png")}, headers=member,
                       content_type="multipart/form-data").status_code == 201
    assert client.get(f"{url}/photo", headers=member).mimetype == "image/png"
    assert client.get(f"{url}/photo", headers=api_token(client, "outsider")).status_code == 404
    detail = client.get(url, headers=member).json
    assert detail["has_photo"] and detail["status"] == "pending"
    assert client.post(f"{url}/withdraw", headers=member).json["status"] == "cancelled"
    assert client.post(f"{url}/withdraw", headers=member).status_code == 409


def test_transfer_asked_seen_and_its_letter(client, db, org):
    _away(db, org.member2)
    member = api_token(client, "member2")
    response = client.post("/api/v1/mobility/transfers", json={"to_unit_id": org.home.id, "reason": "回家"},
                           headers=member)
    assert response.status_code == 422 and "to_unit_id" in response.json["error"]["fields"]
    response = client.post("/api/v1/mobility/transfers", json={"to_unit_id": org.host.id, "reason": ""},
                           headers=member)
    assert response.status_code == 422 and "reason" in response.json["error"]["fields"]
    assert tk.db.session.scalar(select(func.count(Transfer.id))) == 0
    response = client.post("/api/v1/mobility/transfers", json={"to_unit_id": org.host.id, "reason": "在深圳定居"},
                           headers=member)
    assert response.status_code == 201 and response.json["status"] == "pending"
    transfer_id = response.json["id"]
    assert client.get(f"/api/v1/mobility/transfers/{transfer_id}", headers=member).json["to_unit"]["id"] == org.host.id
    letter = client.get(response.json["letter"], headers=api_token(client, "host-secretary"))
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")
    for username in ("member1", "outsider"):
        assert client.get(f"/api/v1/mobility/transfers/{transfer_id}",
                          headers=api_token(client, username)).status_code == 404
    assert client.post("/api/v1/mobility/transfers", json={"to_unit_id": org.host.id, "reason": "again"},
                       headers=member).status_code == 409

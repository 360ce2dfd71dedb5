"""Care through the API: attachments (multipart upload checked by content, download with the web's permission),
micro-wishes (the lists of the web's wishes page, posting, a member's own steps) and paged request lists."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_care import filing, microwishes
from portal_care.models import CareAttachment, CareEvent, CareWish
from tests.conftest import api_token

PDF = b"%PDF-1.4\n%fake but well-formed enough to sniff\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _request(db, member, where="hometown", title="Mother needs care"):
    req = filing.file_request(member, {"category": "family", "title": title, "description": "She fell.",
                                       "where": where}, filed_by=member.account, now=tk.utcnow())
    db.session.commit()
    return req


def _count(model) -> int:
    return tk.db.session.scalar(select(func.count()).select_from(model))


def test_upload_and_download_an_attachment(client, db, org):
    req = _request(db, org.member2)
    member = api_token(client, "member2")
    response = client.post(f"/api/v1/care/requests/{req.id}/attachments", headers=member,
                           data={"attachments": [(io.BytesIO(PDF), "contract.pdf"), (io.BytesIO(PNG), "photo.png")],
                                 "body": "The contract and a photo"}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    files = response.json["attachments"]
    assert [f["name"] for f in files] == ["contract.pdf", "photo.png"]
    download = client.get(files[0]["download"], headers=member)
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    # the home secretary handles the request: may open it too; others may not, even knowing the ids
    assert client.get(files[0]["download"], headers=api_token(client, "home-secretary")).data == PDF
    for username in ("member1", "outsider", "foreign-secretary"):
        assert client.get(files[0]["download"], headers=api_token(client, username)).status_code == 404, username
    other = _request(db, org.member2, title="Another one")
    assert client.get(f"/api/v1/care/requests/{other.id}/attachments/{files[0]['id']}",
                      headers=member).status_code == 404  # the attachment of another request
    assert client.get(files[0]["download"]).status_code == 401
    detail = client.get(f"/api/v1/care/requests/{req.id}", headers=member).json
    assert [a["download"] for a in detail["attachments"]] == [f["download"] for f in files]


def test_an_internal_attachment_stays_with_staff(client, db, org):
    req = _request(db, org.member2)
    staff = api_token(client, "home-secretary")
    response = client.post(f"/api/v1/care/requests/{req.id}/attachments", headers=staff,
                           data={"attachments": [(io.BytesIO(PDF), "note.pdf")], "internal": "1"},
                           content_type="multipart/form-data")
    assert response.status_code == 201
    url = response.json["attachments"][0]["download"]
    assert client.get(url, headers=staff).status_code == 200
    assert client.get(url, headers=api_token(client, "member2")).status_code == 404
    # a member may not write internal notes
    response = client.post(f"/api/v1/care/requests/{req.id}/attachments", headers=api_token(client, "member2"),
                           data={"attachments": [(io.BytesIO(PDF), "x.pdf")], "internal": "1"},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and _count(CareAttachment) == 1


def test_bad_uploads_are_refused_and_store_nothing(client, db, org):
    req = _request(db, org.member2)
    member = api_token(client, "member2")
    url = f"/api/v1/care/requests/{req.id}/attachments"
    events = _count(CareEvent)
    for files, field in (([], "attachments"), ([(io.BytesIO(b"just text"), "photo.png")], "attachments"),
                         ([(io.BytesIO(b"MZ\x90\x00"), "virus.exe")], "attachments")):
        response = client.post(url, headers=member, data={"attachments": files}, content_type="multipart/form-data")
        assert response.status_code == 422, files
        assert response.json["error"]["fields"][field]
    for username in ("member1", "outsider"):
        response = client.post(url, headers=api_token(client, username), content_type="multipart/form-data",
                               data={"attachments": [(io.BytesIO(PDF), "a.pdf")]})
        assert response.status_code == 404, username
    assert client.post(url, data={"attachments": [(io.BytesIO(PDF), "a.pdf")]},
                       content_type="multipart/form-data").status_code == 401
    assert _count(CareAttachment) == 0 and _count(CareEvent) == events


def test_wishes_posted_listed_claimed_fulfilled_confirmed(client, db, org):
    wisher, helper = api_token(client, "member2"), api_token(client, "member1")
    response = client.post("/api/v1/care/wishes", json={"title": "A school bag", "description": "For my son"},
                           headers=wisher)
    assert response.status_code == 201 and response.json["status"] == "pending" and response.json["own"]
    wish_id = response.json["id"]
    mine = client.get("/api/v1/care/wishes?list=mine", headers=wisher).json
    assert [w["id"] for w in mine["wishes"]] == [wish_id] and mine["total"] == 1
    # before approval nobody but the wisher and the secretary sees it
    assert client.get(f"/api/v1/care/wishes/{wish_id}", headers=helper).status_code == 404
    staff = api_token(client, "home-secretary")
    assert [w["id"] for w in client.get("/api/v1/care/wishes?list=pending", headers=staff).json["wishes"]] == [wish_id]
    assert client.get("/api/v1/care/wishes?list=pending", headers=helper).json["wishes"] == []
    wish = db.session.get(CareWish, wish_id)
    microwishes.review_wish(wish, org.accounts["home_sec"], approve=True, now=tk.utcnow(), unit_id=org.home.id)
    db.session.commit()

    board = client.get("/api/v1/care/wishes", headers=helper).json["wishes"]
    assert [(w["id"], w["actions"]) for w in board] == [(wish_id, ["claim"])]
    assert client.get("/api/v1/care/wishes", headers=wisher).json["wishes"] == []  # not one's own on the board
    assert client.post(f"/api/v1/care/wishes/{wish_id}/claim", headers=wisher).status_code == 403
    assert client.post(f"/api/v1/care/wishes/{wish_id}/confirm", headers=wisher).status_code == 409
    claimed = client.post(f"/api/v1/care/wishes/{wish_id}/claim", headers=helper)
    assert claimed.status_code == 200 and claimed.json["actions"] == ["fulfil", "unclaim"]
    assert [w["id"] for w in client.get("/api/v1/care/wishes?list=claimed", headers=helper).json["wishes"]] == [wish_id]
    assert client.post(f"/api/v1/care/wishes/{wish_id}/fulfil", headers=helper).json["status"] == "fulfilled"
    confirmed = client.post(f"/api/v1/care/wishes/{wish_id}/confirm", headers=wisher)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.json["confirmed_at"].endswith("+08:00")
    # the outsider (another branch) never sees it
    assert client.get(f"/api/v1/care/wishes/{wish_id}", headers=api_token(client, "outsider")).status_code == 404


def test_bad_wishes_change_nothing(client, db, org):
    member = api_token(client, "member2")
    for body, field in (({"title": ""}, "title"), ({"title": "x" * 201}, "title"),
                        ({"title": "Bag", "description": "y" * 2001}, "description"),
                        ({"title": "Bag", "colour": "red"}, "colour")):
        response = client.post("/api/v1/care/wishes", json=body, headers=member)
        assert response.status_code == 422 and field in response.json["error"]["fields"], body
    assert client.post("/api/v1/care/wishes", data="x", headers=member).status_code == 400
    assert client.post("/api/v1/care/wishes", json={"title": "Bag"}).status_code == 401
    assert client.post("/api/v1/care/wishes", json={"title": "Bag"},
                       headers=api_token(client, "organizer")).status_code == 403  # no member profile
    assert client.get("/api/v1/care/wishes?list=everything", headers=member).status_code == 400
    assert client.post("/api/v1/care/wishes/99999999/claim", headers=member).status_code == 404
    assert _count(CareWish) == 0


def test_request_list_pages(client, db, org):
    for number in range(3):
        _request(db, org.member2, title=f"Request {number}")
    member = api_token(client, "member2")
    first = client.get("/api/v1/care/requests?per_page=2", headers=member).json
    assert [r["title"] for r in first["requests"]] == ["Request 2", "Request 1"] and first["total"] == 3
    assert [r["title"] for r in client.get(first["next"], headers=member).json["requests"]] == ["Request 0"]
    assert client.get("/api/v1/care/requests?per_page=500", headers=member).status_code == 400


def test_an_upload_sent_twice_with_its_idempotency_key_is_stored_once(client, db, org):
    """A phone retrying after a lost answer: the same key replays the first answer, nothing is stored twice."""
    req = _request(db, org.member2)
    headers = {**api_token(client, "member2"), "Idempotency-Key": "upload-1"}
    answers = [client.post(f"/api/v1/care/requests/{req.id}/attachments", headers=headers,
                           data={"attachments": [(io.BytesIO(PDF), "contract.pdf")]},
                           content_type="multipart/form-data") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json == answers[1].json
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    other = client.post(f"/api/v1/care/requests/{req.id}/attachments", headers=headers,
                        data={"attachments": [(io.BytesIO(PNG), "photo.png")]}, content_type="multipart/form-data")
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert _count(CareAttachment) == 1

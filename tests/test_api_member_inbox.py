"""The inbox through the API (list paged with the unread count, read one, read all) and the personal data export."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.notify.models import Notification
from portal.notify.services import notify
from tests.conftest import api_token


def _unread(account_id: int) -> int:
    return _db.session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == account_id, Notification.read_at.is_(None)))


def test_inbox_pages_newest_first_with_the_unread_count(client, db, org):
    for number in range(3):
        notify([org.member1.account_id], f"Message {number}", body="Read me", url="/me")
    notify([org.member2.account_id], "Not yours")
    db.session.commit()
    headers = api_token(client, "member1")
    first = client.get("/api/v1/inbox?per_page=2", headers=headers).json
    assert [m["title"] for m in first["messages"]] == ["Message 2", "Message 1"]
    assert (first["total"], first["unread"], first["page"], first["per_page"]) == (3, 3, 1, 2)
    assert first["messages"][0]["read_at"] is None and first["messages"][0]["created_at"].endswith("+08:00")
    second = client.get(first["next"], headers=headers).json
    assert [m["title"] for m in second["messages"]] == ["Message 0"] and second["next"] is None


def test_reading_one_and_all(client, db, org):
    mine = notify([org.member1.account_id], "Hello")[0]
    notify([org.member1.account_id], "Again")
    theirs = notify([org.member2.account_id], "Theirs")[0]
    db.session.commit()
    headers = api_token(client, "member1")
    response = client.post(f"/api/v1/inbox/{mine.id}/read", headers=headers)
    assert response.status_code == 200
    assert response.json["unread"] == 1 and response.json["message"]["read_at"].endswith("+08:00")
    assert client.post(f"/api/v1/inbox/{mine.id}/read", headers=headers).status_code == 200  # again: no change
    # another account's message is not there for the caller, and stays unread
    assert client.post(f"/api/v1/inbox/{theirs.id}/read", headers=headers).status_code == 404
    assert client.post("/api/v1/inbox/99999999/read", headers=headers).status_code == 404
    assert _unread(org.member2.account_id) == 1
    assert client.post("/api/v1/inbox/read-all", headers=headers).json == {"unread": 0}
    assert _unread(org.member1.account_id) == 0 and _unread(org.member2.account_id) == 1


def test_bad_paging_and_no_login(client, db, org):
    headers = api_token(client, "member1")
    for query in ("page=0", "per_page=101", "page=x", "per_page=0"):
        response = client.get(f"/api/v1/inbox?{query}", headers=headers)
        assert response.status_code == 400 and response.json["error"]["message"], query
    assert client.get("/api/v1/inbox").status_code == 401
    assert client.post("/api/v1/inbox/read-all").status_code == 401


def test_personal_data_export_is_the_web_download(client, db, org):
    assert client.get("/api/v1/me/export").status_code == 401
    data = client.get("/api/v1/me/export", headers=api_token(client, "member2")).json
    client.post("/login", data={"login": "member2", "password": "pass-1234"})
    web = client.get("/me/export.json").json
    assert data == web and data["account"]["username"] == "member2" and data["sections"]  # the same document

"""A member's e-mail address on the account page: add, change, remove; a bad one changes nothing."""
from __future__ import annotations

import json

from sqlalchemy import select

from portal.accounts.models import Account
from portal.audit.models import AuditEntry
from tests.conftest import api_token, login


def email_of(db, account_id):
    db.session.expire_all()
    return db.session.get(Account, account_id).email


def test_add_change_and_remove_the_address(client, db, org):
    account_id = org.member1.account.id
    login(client, "member1")
    assert 'name="email"' in client.get("/account").get_data(as_text=True)
    assert client.post("/account/email", data={"email": " member1@example.org "}).status_code == 302
    assert email_of(db, account_id) == "member1@example.org"
    assert client.post("/account/email", data={"email": "new@example.org"}).status_code == 302
    assert email_of(db, account_id) == "new@example.org"
    assert client.post("/account/email", data={"email": ""}).status_code == 302
    assert email_of(db, account_id) is None
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.email_changed")).all()
    assert len(audits) == 3 and {entry.target_id for entry in audits} == {str(account_id)}


def test_a_bad_address_gets_a_clear_message_and_changes_nothing(client, db, org):
    account = org.member1.account
    account.email = "member1@example.org"
    db.session.commit()
    login(client, "member1")
    for bad in ("member1", "a@b", "a b@example.org", "x@example.org@y.org", "a" * 250 + "@example.org"):
        response = client.post("/account/email", data={"email": bad})
        assert response.status_code == 422, bad
        assert "This is not an e-mail address" in response.get_data(as_text=True)
        assert email_of(db, account.id) == "member1@example.org"
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.email_changed")).all()


def test_the_export_includes_the_address(client, db, org):
    org.member1.account.email = "member1@example.org"
    db.session.commit()
    login(client, "member1")
    exported = json.loads(client.get("/me/export.json").get_data(as_text=True))
    assert exported["account"]["email"] == "member1@example.org"


def test_the_api_sets_and_removes_the_address(client, db, org):
    headers = api_token(client, "member1")
    account_id = org.member1.account.id
    answer = client.put("/api/v1/me/email", json={"email": "member1@example.org"}, headers=headers)
    assert answer.status_code == 200 and answer.json == {"email": "member1@example.org"}
    assert client.get("/api/v1/me", headers=headers).json["email"] == "member1@example.org"
    refused = client.put("/api/v1/me/email", json={"email": "not-an-address"}, headers=headers)
    assert refused.status_code == 422 and "email" in refused.json["error"]["fields"]
    assert client.put("/api/v1/me/email", json={"email": 5}, headers=headers).status_code == 400
    assert client.put("/api/v1/me/email", json={}, headers=headers).status_code == 400
    assert email_of(db, account_id) == "member1@example.org"
    assert client.put("/api/v1/me/email", json={"email": None}, headers=headers).json == {"email": None}
    assert email_of(db, account_id) is None
    assert client.put("/api/v1/me/email", json={"email": "x@example.org"}).status_code == 401

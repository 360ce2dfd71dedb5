"""Logging in by username or phone, lockout, password changes and resets, sessions, tokens."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from portal.accounts.models import Account, LoginFailure
from portal.accounts.services import set_password
from portal.database import utcnow
from portal.extensions import db
from tests.conftest import api_token, login


def test_login_by_phone_number(client, org):
    phone = org.member2.account.phone or "13900000001"
    account = db.session.get(Account, org.member2.account_id)
    account.phone = phone
    db.session.commit()
    assert login(client, phone).status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_wrong_password_gives_a_clear_message_and_no_session(client, org):
    page = login(client, "member1", "wrong-password")
    assert page.status_code == 200
    assert "Wrong username, phone number or password." in page.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_lockout_after_repeated_failures(client, org, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, "member1", "nope-nope-1")
    locked = login(client, "member1", "nope-nope-1")
    assert locked.status_code == 429
    assert "locked" in locked.get_data(as_text=True)
    # Even the right password is refused while locked.
    still = login(client, "member1")
    assert still.status_code == 429 and client.get("/dashboard").status_code == 302
    # The lock lasts LOGIN_LOCK_MINUTES after the last failure.
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"], seconds=1)))
    db.session.commit()
    assert login(client, "member1").status_code == 302


def test_api_token_bad_credentials_and_bad_body(client, org):
    bad = client.post("/api/v1/auth/token", json={"username": "member1", "password": "x"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"
    malformed = client.post("/api/v1/auth/token", data="not json", content_type="application/json")
    assert malformed.status_code == 400 and "error" in malformed.json
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_change_password_ends_other_sessions(app, org):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "member2")
    login(laptop, "member2")
    weak = laptop.post("/password", data={"current": "pass-1234", "new": "12345678", "repeat": "12345678"})
    assert "must mix letters" in weak.get_data(as_text=True)
    response = laptop.post("/password", data={"current": "pass-1234", "new": "new-pass-99", "repeat": "new-pass-99"})
    assert response.status_code == 302
    assert laptop.get("/dashboard").status_code == 200  # this session continues
    assert phone.get("/dashboard").status_code == 302  # the other one is logged out
    assert login(app.test_client(), "member2", "new-pass-99").status_code == 302


def test_reset_password_forces_a_change_at_next_login(client, org):
    account = db.session.get(Account, org.member2.account_id)
    set_password(account, "temp-pass-1", must_change=True)
    db.session.commit()
    assert login(client, "member2", "temp-pass-1").headers["Location"].endswith("/password")
    assert client.get("/dashboard").headers["Location"].endswith("/password")
    client.post("/password", data={"current": "temp-pass-1", "new": "mine-now-7", "repeat": "mine-now-7"})
    assert client.get("/dashboard").status_code == 200


def test_open_redirect_after_login_is_refused(client, org):
    response = client.post("/login?next=https://evil.example/", data={"login": "member1", "password": "pass-1234"})
    assert response.headers["Location"] == "/dashboard"


def test_session_cookie_flags(client, org):
    response = login(client, "member1")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_deactivated_account_cannot_log_in_or_use_tokens(client, org):
    headers = api_token(client, "member1")
    account = db.session.get(Account, org.member1.account_id)
    account.is_active_account = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client, "member1").status_code == 200


def test_admin_resets_the_password_of_an_account_without_member_profile(client, org, app):
    from portal.audit.models import AuditEntry
    from sqlalchemy import select

    login(client, "admin")
    weak = client.post(f"/admin/accounts/{org.organizer.id}/password", data={"password": "short"})
    assert weak.status_code == 422 and "at least" in weak.get_data(as_text=True)
    done = client.post(f"/admin/accounts/{org.organizer.id}/password", data={"password": "temp-pass-42"})
    assert done.status_code == 302
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.password_reset")).target_id == \
        str(org.organizer.id)
    organizer = app.test_client()
    assert login(organizer, "organizer", "temp-pass-42").headers["Location"].endswith("/password")
    secretary = app.test_client()
    login(secretary, "home-secretary")
    assert secretary.post(f"/admin/accounts/{org.organizer.id}/password", data={"password": "x-y-z-123"}).status_code == 403

"""Issue 14, authentication: the real client behind proxies, per-client lockout with a growing delay,
unlocking, database rate limits, token revocation, server-side logout, cookie and cache headers, the key check."""
from __future__ import annotations

import http.client
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal import create_app
from portal import ratelimit
from portal.accounts.models import ApiToken, LoginFailure, LoginSession
from portal.audit.models import AuditEntry
from portal.database import utcnow
from portal.extensions import db
from tests.conftest import api_token, login, make_test_app

PROXY = "10.0.0.1"  # the reverse proxy: every request reaches the portal from it
ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"


@pytest.fixture(scope="module")
def proxied(app, tmp_path_factory):
    """The same database behind one trusted proxy, with a lower per-client cap and no token rate limit."""
    return make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], PROXY_HOPS=1,
                         LOGIN_IP_MAX_FAILURES=20, RATE_LIMIT_TOKEN="1000/minute",
                         SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"], UPLOAD_DIR=app.config["UPLOAD_DIR"])


def _token(client, username: str, password: str, client_ip: str, **extra):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-For": client_ip})


def _age_failures(minutes: float) -> None:
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at -= timedelta(minutes=minutes)
    db.session.commit()


# --- the real client behind a proxy ------------------------------------------------------------

def test_random_usernames_from_one_client_no_longer_lock_out_the_admin(proxied, org):
    client = proxied.test_client()
    answers = [_token(client, f"nobody-{uuid.uuid4().hex[:8]}", "guess-1234", ATTACKER).status_code for _ in range(25)]
    assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}  # the attacker's own network is throttled
    assert _token(client, "admin", "pass-1234", OWNER).status_code == 200


def test_without_trusted_proxies_a_forwarded_for_header_is_ignored(client, org, app):
    """PROXY_HOPS=0: a client cannot escape its lock by writing X-Forwarded-For."""
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"login": "member1", "password": "nope-nope-1"}, headers={"X-Forwarded-For": f"1.1.1.{n}"})
    again = client.post("/login", data={"login": "member1", "password": "pass-1234"}, headers={"X-Forwarded-For": "2.2.2.2"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    assert db.session.scalars(select(LoginFailure.ip).distinct()).all() == ["127.0.0.1"]


def test_a_named_user_locked_for_one_client_still_logs_in_from_another(proxied, org):
    client = proxied.test_client()
    for _ in range(proxied.config["LOGIN_MAX_FAILURES"]):
        _token(client, "admin", "wrong-pass-1", ATTACKER)
    locked = _token(client, "admin", "pass-1234", ATTACKER)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "locked" in locked.json["error"]["message"]
    assert _token(client, "admin", "pass-1234", OWNER).status_code == 200


def test_the_lock_grows_with_each_round_of_failures(client, org, app):
    maximum, minutes = app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_LOCK_MINUTES"]
    for _ in range(maximum):
        login(client, "member1", "nope-nope-1")
    _age_failures(minutes + 0.1)  # the first lock is over
    for _ in range(maximum):
        login(client, "member1", "nope-nope-1")
    _age_failures(minutes + 0.1)
    assert login(client, "member1").status_code == 429  # the second lock lasts twice as long
    _age_failures(minutes)
    assert login(client, "member1").status_code == 302


# --- unlocking -----------------------------------------------------------------------------------

def _lock(app, username: str) -> None:
    other = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(other, username, "nope-nope-1")
    assert login(other, username).status_code == 429


def test_a_secretary_unlocks_a_member_and_it_is_audited(app, client, org):
    _lock(app, "member1")
    assert login(client, "foreign-secretary").status_code == 302
    assert client.post(f"/accounts/{org.member1.account_id}/unlock").status_code == 404  # not their member
    secretary = app.test_client()
    login(secretary, "home-secretary")
    page = secretary.get(f"/members/{org.member1.id}").get_data(as_text=True)
    assert f"/accounts/{org.member1.account_id}/unlock" in page
    assert secretary.post(f"/accounts/{org.member1.account_id}/unlock").status_code == 302
    assert login(app.test_client(), "member1").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "account.unlocked", AuditEntry.target_id == str(org.member1.account_id))) == 1


def test_an_admin_unlocks_anyone_from_the_accounts_page(app, client, org):
    _lock(app, "organizer")
    login(client, "admin")
    assert f"/accounts/{org.accounts['organizer'].id}/unlock" in client.get("/admin/accounts").get_data(as_text=True)
    assert client.post(f"/accounts/{org.accounts['organizer'].id}/unlock").status_code == 302
    assert login(app.test_client(), "organizer").status_code == 302


# --- rate limits in the database -----------------------------------------------------------------

def _freeze_window(monkeypatch) -> None:
    """Counters use fixed windows: a slow run must not cross a window boundary in the middle of a test."""
    now = utcnow()
    monkeypatch.setattr(ratelimit, "utcnow", lambda: now)


def test_token_issuing_is_rate_limited_with_retry_after(client, org, app, monkeypatch):
    _freeze_window(monkeypatch)
    allowed, _seconds = ratelimit.parse_rate(app.config["RATE_LIMIT_TOKEN"])
    for _ in range(allowed):
        answer = client.post("/api/v1/auth/token", json={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "x"})
        assert answer.status_code == 401, answer.json
    refused = client.post("/api/v1/auth/token", json={"username": "member1", "password": "pass-1234"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json["error"]["code"] == "too_many_requests" and "Try again in" in refused.json["error"]["message"]
    zh = client.post("/api/v1/auth/token", json={"username": "member1", "password": "x"}, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 429


def test_search_is_rate_limited_per_account(client, org, app, monkeypatch):
    _freeze_window(monkeypatch)
    monkeypatch.setitem(app.config, "RATE_LIMIT_SEARCH", "2/minute")
    headers = api_token(client, "member1")
    assert [client.get("/api/v1/search?q=x", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/search?q=x", headers=api_token(client, "member2")).status_code == 200


def test_the_search_page_is_limited_like_the_api_and_counts_outside_the_page_transaction(client, org, app, monkeypatch):
    _freeze_window(monkeypatch)
    monkeypatch.setitem(app.config, "RATE_LIMIT_SEARCH", "2/minute")
    login(client, "member1")
    assert [client.get("/search?q=x").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/search").status_code == 200  # the empty page costs nothing
    other = app.test_client()
    login(other, "member2")
    assert other.get("/search?q=x").status_code == 200


def test_counters_are_one_row_per_window_and_old_windows_are_pruned(app, db, monkeypatch):
    start = utcnow()
    monkeypatch.setattr(ratelimit, "utcnow", lambda: start)
    with app.test_request_context():
        assert [ratelimit.hit("t", "k", 3, 60) for _ in range(3)] == [1, 2, 3]
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.hit("t", "k", 3, 60)
        monkeypatch.setattr(ratelimit, "utcnow", lambda: start + timedelta(minutes=2))
        assert ratelimit.hit("t", "k", 3, 60) == 1
        rows = db.session.scalars(select(ratelimit.RateCounter)).all()
    assert [(row.key, row.count) for row in rows] == [("k", 1)]


# --- tokens --------------------------------------------------------------------------------------

def _me(client, headers) -> int:
    """``/api/v1/me`` with only the token (a fresh client: no session cookie answers instead)."""
    return client.application.test_client().get("/api/v1/me", headers=headers).status_code


def test_a_password_change_revokes_tokens_and_other_sessions(app, client, org):
    phone = api_token(client, "member2")
    laptop = app.test_client()
    login(laptop, "member2")
    assert laptop.post("/password", data={"current": "pass-1234", "new": "new-pass-99", "repeat": "new-pass-99"}).status_code == 302
    assert _me(client, phone) == 401


def test_a_reset_by_the_secretary_revokes_tokens_and_sessions(app, client, org):
    phone = api_token(client, "member2")
    browser = app.test_client()
    login(browser, "member2")
    login(client, "home-secretary")
    assert client.post(f"/members/{org.member2.id}/password", data={"password": "temp-pass-1"}).status_code == 302
    assert _me(client, phone) == 401
    assert browser.get("/dashboard").status_code == 302


def test_the_phone_app_changes_the_password(app, client, org):
    assert client.post("/api/v1/me/password", json={"current": "pass-1234", "new": "new-pass-99"}).status_code == 401
    this_phone, old_phone = api_token(client, "member2"), api_token(client, "member2")
    browser = app.test_client()
    login(browser, "member2")
    wrong = client.post("/api/v1/me/password", json={"current": "nope-1234", "new": "new-pass-99"}, headers=this_phone)
    assert wrong.status_code == 422 and set(wrong.json["error"]["fields"]) == {"current"}
    weak = client.post("/api/v1/me/password", json={"current": "pass-1234", "new": "12345678"}, headers=this_phone)
    assert weak.status_code == 422 and set(weak.json["error"]["fields"]) == {"new"} and weak.json["error"]["code"] == "invalid"
    assert _me(client, old_phone) == 200
    done = client.post("/api/v1/me/password", json={"current": "pass-1234", "new": "new-pass-99"}, headers=this_phone)
    assert done.status_code == 204
    assert _me(client, this_phone) == 200  # the caller proved the password just now
    assert _me(client, old_phone) == 401
    assert browser.get("/dashboard").status_code == 302
    assert login(app.test_client(), "member2", "new-pass-99").status_code == 302
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/me/password"]["post"]["responses"]) >= {"204", "401", "422"}


def test_tokens_are_listed_with_their_label_and_can_be_revoked(app, client, org):
    response = client.post("/api/v1/auth/token", json={"username": "member1", "password": "pass-1234", "label": "Pixel 7"})
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    assert _me(client, headers) == 200
    login(client, "member1")
    page = client.get("/account").get_data(as_text=True)
    assert "Pixel 7" in page
    token = db.session.scalar(select(ApiToken).where(ApiToken.label == "Pixel 7"))
    assert token.last_used_at is not None
    other = app.test_client()
    login(other, "member2")
    assert other.post(f"/account/tokens/{token.id}/revoke").status_code == 404  # not theirs
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert _me(client, headers) == 401


def test_at_most_n_live_tokens_the_oldest_goes(client, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_MAX_TOKENS", 3)
    tokens = [api_token(client, "member1") for _ in range(4)]
    assert [_me(client, headers) for headers in tokens] == [401, 200, 200, 200]


# --- sessions and headers ------------------------------------------------------------------------

def test_a_replayed_session_cookie_after_logout_is_refused(client, org):
    login(client, "member1")
    cookie = client.get_cookie("session").value
    assert client.get("/me").status_code == 200
    client.post("/logout")
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    client.set_cookie("session", cookie)
    replay = client.get("/me")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


@pytest.fixture
def live_server(proxied, db):
    server = make_server("127.0.0.1", 0, proxied, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def _http(port: int, method: str, path: str, body: str | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_over_http_logout_ends_the_session_and_personal_pages_are_not_cached(live_server, org):
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": OWNER}
    response = _http(live_server, "POST", "/login", "login=member1&password=pass-1234&remember=y", form)
    assert response.status == 302
    cookies = "; ".join(value.split(";")[0] for name, value in response.getheaders() if name.lower() == "set-cookie")
    assert "remember_token=" in cookies
    me = _http(live_server, "GET", "/me/export.json", headers={"Cookie": cookies})
    assert me.status == 200 and me.getheader("Cache-Control") == "private, no-store"
    assert _http(live_server, "GET", "/login").getheader("Cache-Control") is None  # nothing personal
    assert _http(live_server, "POST", "/logout", headers={"Cookie": cookies}).status == 302
    replay = _http(live_server, "GET", "/me", headers={"Cookie": cookies})  # session and remember-me cookies replayed
    assert replay.status == 302 and "/login" in replay.getheader("Location")
    assert db.session.scalars(select(LoginSession)).all() == []


def test_remember_cookie_follows_the_secure_session_cookie(tmp_path_factory, app, org):
    secure = make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], SESSION_COOKIE_SECURE=True)
    assert secure.config["REMEMBER_COOKIE_SECURE"] is True
    response = secure.test_client().post("/login", data={"login": "member1", "password": "pass-1234", "remember": "y"})
    remember = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token=")]
    assert remember and all("Secure" in value and "HttpOnly" in value and "SameSite=Lax" in value for value in remember)


@pytest.mark.parametrize("key", ["a", "x" * 31])
def test_a_short_secret_key_is_refused_outside_debug(tmp_path, monkeypatch, key):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="at least 32"):
        create_app({"SECRET_KEY": key})
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    assert create_app({"SECRET_KEY": "ab" * 32}).config["SECRET_KEY"] == "ab" * 32

"""Passwords, login throttling, sessions and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, ApiToken, LoginFailure
from portal.database import utcnow
from portal.extensions import db

_STRONG = PasswordHasher()
# Tests create hundreds of accounts; ARGON2_PROFILE="fast" keeps that quick. Never in production.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# A real hash to verify against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH = _STRONG.hash("not-a-real-password")


class _Hasher:
    """The argon2 hasher chosen by the app's ``ARGON2_PROFILE``."""

    def __getattr__(self, name):
        profile = current_app.config.get("ARGON2_PROFILE", "strong") if current_app else "strong"
        return getattr(_FAST if profile == "fast" else _STRONG, name)


_hasher = _Hasher()


class LoginError(Exception):
    """Login refused; ``message`` is translated for the user, ``status`` for the API."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


def check_password(account: Account, password: str) -> bool:
    """Verify, and upgrade the hash when argon2's parameters changed."""
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return True


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is not acceptable (translated), or None."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return _("The password must have at least %(n)d characters.", n=minimum)
    if username and password.lower() == username.lower():
        return _("The password must not be the same as the username.")
    if password.isdigit() or password.isalpha():
        return _("The password must mix letters with digits or symbols.")
    return None


def find_account(login: str) -> Account | None:
    """The account whose username or phone number is ``login``."""
    login = (login or "").strip()
    if not login:
        return None
    return db.session.scalar(select(Account).where(or_(Account.username == login, Account.phone == login)))


def authenticate(login: str, password: str, ip: str | None) -> Account:
    """Check credentials with lockout; raises :class:`LoginError` (caller commits either way)."""
    config = current_app.config
    now = utcnow()
    window = now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    ip = ip or "unknown"
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
    recent_from_ip = db.session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.ip == ip, LoginFailure.at >= window)) or 0
    if recent_from_ip >= config["LOGIN_IP_MAX_FAILURES"]:
        raise LoginError(_("Too many failed logins from this network. Try again in %(n)d minutes.",
                           n=config["LOGIN_LOCK_MINUTES"]), 429)
    account = find_account(login)
    if account and account.locked_until and account.locked_until > now:
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        raise LoginError(_("This account is locked after too many failed logins. Try again in %(n)d minutes.",
                           n=minutes), 429)
    valid = check_password(account, password) if account else _hasher_verify_dummy(password)
    if not valid or not account.is_active_account:
        db.session.add(LoginFailure(ip=ip, username=(login or "")[:64], at=now))
        if account:
            account.failed_logins += 1
            if account.failed_logins >= config["LOGIN_MAX_FAILURES"]:
                account.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
                account.failed_logins = 0
                raise LoginError(_("This account is locked after too many failed logins. Try again in %(n)d minutes.",
                                   n=config["LOGIN_LOCK_MINUTES"]), 429)
        raise LoginError(_("Wrong username, phone number or password."))
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    return account


def _hasher_verify_dummy(password: str) -> bool:
    try:
        _STRONG.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
    return False


def set_password(account: Account, password: str, *, must_change: bool = False) -> None:
    """Store a new password; other sessions end (the session version changes)."""
    account.password_hash = hash_password(password)
    account.must_change_password = must_change
    account.session_version = (account.session_version or 0) + 1
    account.locked_until = None
    account.failed_logins = 0


def reset_password(account: Account, password: str, **audit_details) -> None:
    """Give ``account`` a temporary password it must change at next login; ends its sessions (audited).

    Raises :class:`ValueError` with the translated reason when the password is not acceptable.
    """
    from portal.audit.services import audit

    if problem := password_problem(password, account.username):
        raise ValueError(problem)
    set_password(account, password, must_change=True)
    audit("account.password_reset", "account", account.id, **audit_details)


def load_session_account(session_id: str) -> Account | None:
    """flask-login's user loader: ``"<id>:<session version>"``."""
    try:
        account_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    # Roles come in the same query: every page needs to know who this is and what they may do.
    account = db.session.get(Account, account_id, options=[joinedload(Account.roles)])
    if account is None or account.session_version != version or not account.is_active_account:
        return None
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account: Account) -> str:
    """A new API token (returned once; only its digest is stored). Caller commits."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    db.session.add(ApiToken(account_id=account.id, digest=_digest(token), expires_at=utcnow() + timedelta(days=days)))
    return token


def load_token_account(req) -> Account | None:
    """flask-login's request loader: ``Authorization: Bearer <token>``."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.digest == _digest(header[7:].strip())))
    if token is None or token.expires_at < utcnow() or not token.account.is_active_account:
        return None
    g.token_auth = True
    return token.account


def enforce_password_change():
    """``before_request``: an account whose password was reset must change it first."""
    if not current_user.is_authenticated or not current_user.must_change_password or g.get("token_auth"):
        return None
    allowed = {"auth.change_password", "auth.logout", "static", "web.set_locale"}
    if request.endpoint in allowed or (request.endpoint or "").endswith(".static"):
        return None
    return redirect(url_for("auth.change_password"))

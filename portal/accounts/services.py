"""Passwords, login throttling, sessions and API tokens."""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, has_request_context, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Select, bindparam, delete, func, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, ApiToken, LoginFailure, LoginSession
from portal.audit.services import audit
from portal.database import utcnow
from portal.errors import Invalid
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
    """Login refused; ``message`` is translated for the user, ``status`` for the API.

    ``retry_after``: seconds until a lock ends (the ``Retry-After`` header of a 429).
    """

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after: int | None = None


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
    """Check credentials with throttling; raises :class:`LoginError` (caller commits either way).

    ``ip`` is the real client (``request.remote_addr`` after the trusted proxies). Failures count
    per client, and an account is locked only *for the client that failed*: an attacker can lock
    themselves out of an account, never its owner on another phone or network.
    """
    config = current_app.config
    now = utcnow()
    ip = ip or "unknown"
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
    window = now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    recent_from_ip = db.session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.ip == ip, LoginFailure.at >= window)) or 0
    if recent_from_ip >= config["LOGIN_IP_MAX_FAILURES"]:
        error = LoginError(_("Too many failed logins from this network. Try again in %(n)d minutes.",
                             n=config["LOGIN_LOCK_MINUTES"]), 429)
        error.retry_after = config["LOGIN_LOCK_MINUTES"] * 60
        raise error
    account = find_account(login)
    if account and (until := locked_until(account, ip, now)):
        raise _locked_error(until, now)
    valid = check_password(account, password) if account else _hasher_verify_dummy(password)
    if not valid or not account.is_active_account:
        db.session.add(LoginFailure(ip=ip, username=(login or "")[:64], account_id=account.id if account else None, at=now))
        db.session.flush()
        if account and (until := locked_until(account, ip, now)):
            raise _locked_error(until, now)
        raise LoginError(_("Wrong username, phone number or password."))
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_id == account.id, LoginFailure.ip == ip))
    account.last_login_at = now
    return account


def locked_until(account: Account, ip: str, now: datetime) -> datetime | None:
    """Until when ``account`` is locked for the client ``ip``, or None.

    Every ``LOGIN_MAX_FAILURES`` failures (in a day, from this client) lock it for
    ``LOGIN_LOCK_MINUTES``, doubled at each further round (capped at a day): guessing slows down
    more and more, while a few typos cost a short wait.
    """
    config = current_app.config
    failures, last = db.session.execute(select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
        LoginFailure.account_id == account.id, LoginFailure.ip == ip)).one()
    rounds, rest = divmod(failures or 0, config["LOGIN_MAX_FAILURES"])
    if rounds == 0 or rest:
        return None
    minutes = min(config["LOGIN_LOCK_MINUTES"] * 2 ** (rounds - 1), 24 * 60)
    until = last + timedelta(minutes=minutes)
    return until if until > now else None


def _locked_error(until: datetime, now: datetime) -> LoginError:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    error = LoginError(_("This account is locked after too many failed logins. Try again in %(n)d minutes.", n=minutes), 429)
    error.retry_after = int((until - now).total_seconds()) + 1
    return error


def is_locked(account: Account) -> bool:
    """Is ``account`` locked for some client right now (the unlock button shows)?"""
    now = utcnow()
    clients = db.session.scalars(select(LoginFailure.ip).where(LoginFailure.account_id == account.id).distinct())
    return any(locked_until(account, ip, now) for ip in clients)


def locked_among(accounts: list[Account]) -> set[int]:
    """The ids of ``accounts`` locked for some client: one query finds who has failures at all."""
    ids = [account.id for account in accounts]
    failing = set(db.session.scalars(select(LoginFailure.account_id).where(LoginFailure.account_id.in_(ids or [0]))
                                     .distinct()))
    return {account.id for account in accounts if account.id in failing and is_locked(account)}


def unlock(account: Account) -> None:
    """Forget ``account``'s failed logins from every client, which lifts every lock (audited). Caller commits."""
    from portal.audit.services import audit

    db.session.execute(delete(LoginFailure).where(LoginFailure.account_id == account.id))
    audit("account.unlocked", "account", account.id)


def _hasher_verify_dummy(password: str) -> bool:
    try:
        _STRONG.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
    return False


def set_password(account: Account, password: str, *, must_change: bool = False) -> None:
    """Store a new password; every session and API token of ``account`` ends, except the caller's own
    session or token when the caller is ``account`` (who just proved the old password). Caller commits."""
    account.password_hash = hash_password(password)
    account.must_change_password = must_change
    account.session_version = (account.session_version or 0) + 1
    own = current_user.is_authenticated and current_user.id == account.id if has_request_context() else False
    keep_session = current_user.session_key if own else ""
    keep_token = g.get("token_id") if own else None
    db.session.execute(delete(LoginSession).where(LoginSession.account_id == account.id, LoginSession.key != keep_session))
    db.session.execute(delete(ApiToken).where(ApiToken.account_id == account.id, ApiToken.id != (keep_token or 0)))
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_id == account.id))


def reset_password(account: Account, password: str, **audit_details) -> None:
    """Give ``account`` a temporary password it must change at next login; ends its sessions (audited).

    Raises :class:`ValueError` with the translated reason when the password is not acceptable.
    """
    from portal.audit.services import audit

    if problem := password_problem(password, account.username):
        raise ValueError(problem)
    set_password(account, password, must_change=True)
    audit("account.password_reset", "account", account.id, **audit_details)


#: Deliberately simple: one ``@``, a dot in the domain, no spaces. The mail server is the real check.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def set_email(account: Account, raw: str | None) -> str | None:
    """Set (or, given nothing, remove) the account's e-mail address, audited; caller commits.

    Raises :class:`~portal.errors.Invalid` (field ``email``) on an address that is not one,
    leaving the account as it was.
    """
    email = (raw or "").strip() or None
    if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        raise Invalid(_("This is not an e-mail address (like name@example.org)."), field="email")
    if email != account.email:
        audit("account.email_changed", "account", account.id, removed=email is None)
        account.email = email
    return email


def _session_lifetime() -> timedelta:
    """How long a login lasts at most: as long as the remember-me cookie (flask-login's default: a year)."""
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def log_in(account: Account, remember: bool = False) -> None:
    """Start a server-side session for ``account`` and log it in; its expired sessions go. Caller commits."""
    db.session.execute(delete(LoginSession).where(LoginSession.account_id == account.id,
                                                  LoginSession.created_at < utcnow() - _session_lifetime()))
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(key=key, account_id=account.id))
    account.session_key = key
    login_user(account, remember=remember)


def log_out() -> None:
    """End the current session server-side (a replayed cookie is refused) and in the browser. Caller commits."""
    if current_user.is_authenticated and current_user.session_key:
        db.session.execute(delete(LoginSession).where(LoginSession.key == current_user.session_key))
    logout_user()


@functools.cache
def _session_account_query() -> Select:
    """One statement per page: the account, its roles (every page needs to know who this is and what
    they may do), its unread messages (the header's badge) and whether the server-side session is still alive.

    Built once per process with bound parameters: building it cost as much as running it.
    """
    from portal.notify.services import unread_column

    alive = select(LoginSession.key).where(LoginSession.key == bindparam("key"),
                                           LoginSession.account_id == bindparam("account"),
                                           LoginSession.created_at >= bindparam("since")).exists()
    return (select(Account, unread_column(Account.id).label("unread")).options(joinedload(Account.roles))
            .where(Account.id == bindparam("account"), alive))


def load_session_account(session_id: str) -> Account | None:
    """flask-login's user loader: ``"<id>:<session version>:<session key>"``, valid while the session row exists."""
    try:
        account_part, version_part, key = session_id.split(":")
        account_id, version = int(account_part), int(version_part)
    except ValueError:
        return None
    if not key:
        return None
    from portal.notify.services import remember_unread

    params = {"account": account_id, "key": key, "since": utcnow() - _session_lifetime()}
    row = db.session.execute(_session_account_query(), params).unique().first()
    if row is None or row.Account.session_version != version or not row.Account.is_active_account:
        return None
    account = row.Account
    account.session_key = key
    remember_unread(account.id, row.unread)
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account: Account, label: str = "") -> str:
    """A new API token (returned once; only its digest is stored). Caller commits.

    At most ``API_MAX_TOKENS`` live tokens per account: a new one revokes the oldest, so a phone
    reinstalled again and again never locks its owner out of the API.
    """
    now = utcnow()
    db.session.execute(delete(ApiToken).where(ApiToken.account_id == account.id, ApiToken.expires_at < now))
    keep = max(0, current_app.config["API_MAX_TOKENS"] - 1)
    newest = select(ApiToken.id).where(ApiToken.account_id == account.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(keep)
    db.session.execute(delete(ApiToken).where(ApiToken.account_id == account.id, ApiToken.id.not_in(newest)))
    token = secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    db.session.add(ApiToken(account_id=account.id, digest=_digest(token), label=label[:64], created_at=now,
                            expires_at=now + timedelta(days=days)))
    return token


def live_tokens(account: Account) -> list[ApiToken]:
    """``account``'s unexpired API tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.expires_at >= utcnow())
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(account: Account, token_id: int) -> bool:
    """Revoke one of ``account``'s own tokens; False when it has no such token. Caller commits."""
    result = db.session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.account_id == account.id))
    return bool(result.rowcount)


#: How stale a token's "last used" may get before a request writes it (one write a minute, not one a request).
_LAST_USED_STEP = timedelta(minutes=1)


def load_token_account(req) -> Account | None:
    """flask-login's request loader: ``Authorization: Bearer <token>``."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.digest == _digest(header[7:].strip())))
    now = utcnow()
    if token is None or token.expires_at < now or not token.account.is_active_account:
        return None
    g.token_auth = True
    g.token_id = token.id
    if token.last_used_at is None or token.last_used_at < now - _LAST_USED_STEP:
        # Loaded before the view runs (before_request), so this commit carries nothing else.
        token.last_used_at = now
        db.session.commit()
    return token.account


def enforce_password_change():
    """``before_request``: an account whose password was reset must change it first."""
    if not current_user.is_authenticated or not current_user.must_change_password or g.get("token_auth"):
        return None
    allowed = {"auth.change_password", "auth.logout", "static", "web.set_locale",
               "pwa.manifest", "pwa.service_worker", "pwa.offline"}  # the app shell holds nothing of an account
    if request.endpoint in allowed or (request.endpoint or "").endswith(".static"):
        return None
    return redirect(url_for("auth.change_password"))

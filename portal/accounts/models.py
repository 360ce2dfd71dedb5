"""Login accounts. A member's profile is :class:`portal.org.models.Member`."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import utcnow
from portal.extensions import db


class Account(UserMixin, db.Model):
    """Someone who can log in: a member, a secretary, an organizer or a site admin."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: Where e-mail notifications go and what hashed Open Badges recipients are made of; not unique
    #: (a family may share one address), never shown to other members.
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    member = relationship("Member", back_populates="account", uselist=False, lazy="joined")
    roles = relationship("RoleAssignment", back_populates="account", cascade="all, delete-orphan", lazy="selectin")

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_active_account

    #: The server-side :class:`LoginSession` of this request (set by ``services.log_in`` and the user loader).
    session_key: str = ""

    def get_id(self) -> str:
        # The session version ends every session at once (deactivation); the session key names this
        # one login, so logging out can end it server-side. No key: an id no loader accepts.
        return f"{self.id}:{self.session_version}:{self.session_key}"

    def __repr__(self) -> str:
        return f"<Account {self.username}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    #: What the owner called it (e.g. the phone's name), shown on the account page.
    label: Mapped[str] = mapped_column(String(64), default="")

    account = relationship("Account")


class LoginFailure(db.Model):
    """A failed login, kept a day to slow down guessing from one client and to lock an account for that client."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_ip_at", "ip", "at"),
                      Index("ix_login_failure_account_ip_at", "account_id", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    #: The account the login named, when it names one.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(db.Model):
    """One browser login; the signed cookie names it, and it is only valid while this row exists."""

    __tablename__ = "login_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

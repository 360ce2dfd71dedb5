"""Issuing, revoking and listing Open Badges (plugins call these through the toolkit).

A plugin issues a badge when a member earns something (a course certificate, a points badge)
with :func:`issue_badge`, naming what earned it as ``source`` ("certificate:12"): issuing twice
for the same source gives the same assertion, so a retry, a backfill or a replay counts once.
The recipient is never kept in the clear: the account's e-mail address, or (without one) the
member's xAPI actor IRI, hashed with a salt of the assertion's own.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.badges.images import medal_png
from portal.badges.models import BadgeAssertion, BadgeClass
from portal.database import utcnow
from portal.extensions import db
from portal.i18n import CATALOG_NAMES
from portal.org.models import Member
from portal.storage import get_store

#: Recipient identity types (Open Badges 2.0 IdentityObject ``type``).
EMAIL, URL = "email", "url"
#: A badge class key: part of its public address (``/badges/classes/<key>``), so letters, digits and ``_ . : -``.
KEY = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,119}")


def issue_badge(member: Member, *, key: str, plugin: str, name: Any, description: Any, criteria_narrative: Any,
                criteria_path: str | None = None, source: str, evidence_path: str | None = None,
                now: datetime | None = None) -> BadgeAssertion:
    """Award the badge class ``key`` to ``member`` for ``source``; the same ``source`` again returns the same assertion.

    The badge class is created on first use and its texts are updated to the latest call's
    (``name``, ``description`` and ``criteria_narrative`` may be lazy strings or ``{locale: text}``
    dicts: they are kept in the portal's default language). Its medal image is drawn once. Paths are site-relative
    (``/courses/party-history``); documents make them absolute. A ``key`` outside :data:`KEY` is a
    programming error (``ValueError``). Caller commits.
    """
    if not KEY.fullmatch(key):
        raise ValueError(f"not a badge class key: {key!r}")
    badge_class = _badge_class(key, plugin, name=name, description=description,
                               criteria_narrative=criteria_narrative, criteria_path=criteria_path)
    existing = assertion_for_source(source)
    if existing is not None:
        return existing
    recipient_type, address = recipient_of(member)
    salt = secrets.token_hex(16)
    assertion = BadgeAssertion(
        uid=str(uuid.uuid4()), badge_class_id=badge_class.id, member_id=member.id, source=source,
        recipient_type=recipient_type, salt=salt, identity=hashed_identity(address, salt) if address else "",
        issued_at=now or utcnow(), evidence_path=evidence_path)
    try:
        with db.session.begin_nested():
            db.session.add(assertion)
            db.session.flush()
    except IntegrityError:  # issued concurrently for the same source: the source is unique
        return assertion_for_source(source)
    return assertion


def revoke_badge(source: str, reason: str, now: datetime | None = None) -> BadgeAssertion | None:
    """Revoke the assertion issued for ``source`` (None when there is none); revoking twice keeps the first reason.

    The assertion's URL then answers 410 Gone and the issuer's revocation list names it. Caller commits.
    """
    assertion = assertion_for_source(source)
    if assertion is not None and assertion.revoked_at is None:
        assertion.revoked_at = now or utcnow()
        assertion.revocation_reason = (reason or "").strip()[:500]
    return assertion


def badges_of(member_id: int) -> list[BadgeAssertion]:
    """The member's badges that stand (not revoked), newest first."""
    return list(db.session.scalars(
        select(BadgeAssertion).where(BadgeAssertion.member_id == member_id, BadgeAssertion.revoked_at.is_(None))
        .order_by(BadgeAssertion.issued_at.desc(), BadgeAssertion.id.desc())))


def assertion_for_source(source: str) -> BadgeAssertion | None:
    """The assertion issued for ``source``, if any."""
    return db.session.scalar(select(BadgeAssertion).where(BadgeAssertion.source == source))


def recipient_of(member: Member) -> tuple[str, str | None]:
    """``(type, address)`` to hash: the account's e-mail address, else the member's xAPI actor IRI.

    The IRI needs the portal's public address; outside a request without ``PUBLIC_URL`` (a CLI
    run) it is ``None`` and the assertion's identity is derived when it is first served
    (:func:`identity_of`), never from a made-up address.
    """
    email = (member.account.email or "").strip().lower() if member.account is not None else ""
    if email:
        return EMAIL, email
    try:
        return URL, actor_iri(member.id)
    except RuntimeError:  # no PUBLIC_URL and no request to take the address from
        return URL, None


def actor_iri(member_id: int) -> str:
    """The member's xAPI actor as one IRI: the account's home page + ``/xapi/actors/`` + its opaque name."""
    from portal.xapi.statements import actor_for

    account = actor_for(member_id)["account"]
    return f"{account['homePage'].rstrip('/')}/xapi/actors/{account['name']}"


def hashed_identity(address: str, salt: str) -> str:
    """Open Badges' hashed identity: ``sha256$`` + hex(SHA-256(address + salt))."""
    return "sha256$" + hashlib.sha256((address + salt).encode("utf-8")).hexdigest()


def identity_of(assertion: BadgeAssertion) -> str:
    """The hashed identity of the assertion's recipient (derived now when issuance could not: see :func:`recipient_of`)."""
    return assertion.identity or hashed_identity(actor_iri(assertion.member_id), assertion.salt)


def _badge_class(key: str, plugin: str, *, name: Any, description: Any, criteria_narrative: Any,
                 criteria_path: str | None) -> BadgeClass:
    """The badge class ``key``, created (with its medal) or brought up to date."""
    texts = _default_language(name=name, description=description, criteria_narrative=criteria_narrative)
    texts["name"] = texts["name"][:200] or key
    badge_class = db.session.scalar(select(BadgeClass).where(BadgeClass.key == key))
    if badge_class is None:
        badge_class = BadgeClass(key=key, plugin=plugin, criteria_path=criteria_path,
                                 image_key=f"badges/classes/{secrets.token_hex(16)}.png", **texts)
        try:
            with db.session.begin_nested():
                db.session.add(badge_class)
                db.session.flush()
        except IntegrityError:  # created concurrently: the key is unique
            return db.session.scalar(select(BadgeClass).where(BadgeClass.key == key))
        get_store().put(badge_class.image_key, medal_png(key, badge_class.name), "image/png")
        return badge_class
    changes = {**texts, "plugin": plugin, "criteria_path": criteria_path}
    if any(getattr(badge_class, field) != value for field, value in changes.items()):
        for field, value in changes.items():
            setattr(badge_class, field, value)
        badge_class.updated_at = utcnow()
    return badge_class


def _default_language(**texts: Any) -> dict[str, str]:
    """``texts`` in the portal's default language (a badge is read by people outside any session).

    A text is a lazy string, a ``{locale: text}`` dict (a course's titles: the default locale's,
    else zh_CN's, else any) or a plain string.
    """
    default = current_app.config["DEFAULT_LOCALE"]
    with force_locale(CATALOG_NAMES.get(default, default)):
        return {field: _text_in(value, default).strip() for field, value in texts.items()}


def _text_in(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        return next((value[code] for code in (locale, "zh_CN") if value.get(code)),
                    next((text for text in value.values() if text), ""))
    return str(value or "")

"""The Open Badges 2.0 documents the portal hosts: Issuer profile, BadgeClass, Assertion, RevocationList.

Every address in them is absolute (``tk.public_url``: ``PUBLIC_URL``, else the request's own
address), every document carries the v2 context, and times are ISO 8601 with their offset.
Nothing in them names the member: the recipient is a salted hash.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.badges.models import BadgeAssertion, BadgeClass
from portal.badges.services import identity_of
from portal.config import public_url
from portal.extensions import db
from portal.org.models import OrgUnit
from portal.settings import get_setting
from portal.timeutil import isoformat

CONTEXT = "https://w3id.org/openbadges/v2"


def issuer_url() -> str:
    """The issuer profile's address (the ``issuer`` of every badge class)."""
    return public_url("/badges/issuer")


def badge_class_url(badge_class: BadgeClass) -> str:
    """The badge class's address."""
    return public_url(f"/badges/classes/{badge_class.key}")


def assertion_url(uid: str) -> str:
    """The hosted assertion's address (its ``id``: what a backpack fetches to verify it)."""
    return public_url(f"/badges/assertions/{uid}")


def baked_url(uid: str) -> str:
    """The address of the assertion baked into its badge's image."""
    return public_url(f"/badges/assertions/{uid}/baked.png")


def issuer_name() -> str:
    """The organization: ``SITE_NAME`` when configured, else the name of the tree's top unit, else the portal's name."""
    configured = current_app.config.get("SITE_NAME")
    if configured:
        return configured
    top = db.session.scalar(select(OrgUnit.name).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))
    return top or _("Home for Mobile Members")


def issuer_document() -> dict[str, Any]:
    """The Issuer profile: who vouches for every badge of this portal, and where its revocations are listed."""
    document = {"@context": CONTEXT, "type": "Issuer", "id": issuer_url(), "name": issuer_name(),
                "url": public_url("/"), "revocationList": public_url("/badges/revocations")}
    email = (get_setting("core", "badge_issuer_email") or "").strip()
    if email:
        document["email"] = email
    return document


def badge_class_document(badge_class: BadgeClass) -> dict[str, Any]:
    """The BadgeClass: name, description, image and criteria (the page that states them and/or a narrative)."""
    criteria: dict[str, Any] = {}
    if badge_class.criteria_path:
        criteria["id"] = public_url(badge_class.criteria_path)
    if badge_class.criteria_narrative:
        criteria["narrative"] = badge_class.criteria_narrative
    return {"@context": CONTEXT, "type": "BadgeClass", "id": badge_class_url(badge_class),
            "name": badge_class.name, "description": badge_class.description or badge_class.criteria_narrative
            or badge_class.name, "image": public_url(f"/badges/classes/{badge_class.key}/image.png"),
            "criteria": criteria or {"narrative": badge_class.name}, "issuer": issuer_url()}


def assertion_document(assertion: BadgeAssertion) -> dict[str, Any]:
    """The hosted Assertion (verification by its own URL); see :func:`revoked_document` once it is revoked."""
    document = {"@context": CONTEXT, "type": "Assertion", "id": assertion_url(assertion.uid),
                "recipient": {"type": assertion.recipient_type, "hashed": True, "salt": assertion.salt,
                              "identity": identity_of(assertion)},
                "badge": badge_class_url(assertion.badge_class), "verification": {"type": "hosted"},
                "issuedOn": isoformat(assertion.issued_at), "image": baked_url(assertion.uid)}
    if assertion.evidence_path:
        document["evidence"] = public_url(assertion.evidence_path)
    return document


def revoked_document(assertion: BadgeAssertion) -> dict[str, Any]:
    """What a revoked assertion's URL answers (with 410 Gone), as Open Badges 2.0 asks."""
    return {"@context": CONTEXT, "type": "Assertion", "id": assertion_url(assertion.uid), "revoked": True,
            "revocationReason": assertion.revocation_reason}


def revocation_list_document() -> dict[str, Any]:
    """The issuer's RevocationList: every revoked assertion with its reason."""
    revoked = db.session.execute(select(BadgeAssertion.uid, BadgeAssertion.revocation_reason)
                                 .where(BadgeAssertion.revoked_at.is_not(None))
                                 .order_by(BadgeAssertion.revoked_at, BadgeAssertion.id))
    return {"@context": CONTEXT, "type": "RevocationList", "id": public_url("/badges/revocations"),
            "issuer": issuer_url(),
            "revokedAssertions": [{"id": assertion_url(uid), "revocationReason": reason} for uid, reason in revoked]}

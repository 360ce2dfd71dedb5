"""Open Badges pages: the public documents a backpack or verifier reads (no login), and "My badges"."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.badges import documents
from portal.badges.images import baked_png, class_image
from portal.badges.models import BadgeAssertion, BadgeClass
from portal.badges.services import badges_of
from portal.extensions import db

bp = Blueprint("badges", __name__)

#: Public documents may be cached briefly by proxies and verifiers; a revocation shows within this many seconds.
PUBLIC_MAX_AGE = 300


def _public(response: Response) -> Response:
    """Mark a public document cacheable by anyone and readable by any site's script (web verifiers)."""
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json_ld(document: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=1)
    return _public(Response(body, status=status, mimetype="application/ld+json"))


def _png(data: bytes, status: int = 200) -> Response:
    return _public(Response(data, status=status, mimetype="image/png"))


def _badge_class(key: str) -> BadgeClass:
    return db.session.scalar(select(BadgeClass).where(BadgeClass.key == key)) or abort(404)


def _assertion(uid: str) -> BadgeAssertion:
    return db.session.scalar(select(BadgeAssertion).where(BadgeAssertion.uid == uid[:36])) or abort(404)


@bp.get("/badges/issuer")
def issuer():
    """The Issuer profile (JSON-LD)."""
    return _json_ld(documents.issuer_document())


@bp.get("/badges/classes/<key>")
def badge_class(key: str):
    """A BadgeClass (JSON-LD)."""
    return _json_ld(documents.badge_class_document(_badge_class(key)))


@bp.get("/badges/classes/<key>/image.png")
def badge_class_image(key: str):
    """A badge class's medal."""
    found = _badge_class(key)
    return _png(class_image(found.image_key, found.key, found.name))


@bp.get("/badges/assertions/<uid>")
def assertion(uid: str):
    """A hosted Assertion (JSON-LD); 410 Gone with ``revoked`` and the reason once revoked."""
    found = _assertion(uid)
    if found.revoked_at is not None:
        return _json_ld(documents.revoked_document(found), 410)
    return _json_ld(documents.assertion_document(found))


@bp.get("/badges/assertions/<uid>/baked.png")
def baked(uid: str):
    """The badge's image with the assertion baked in (what the member downloads and adds to a backpack)."""
    found = _assertion(uid)
    if found.revoked_at is not None:
        return _json_ld(documents.revoked_document(found), 410)
    image = class_image(found.badge_class.image_key, found.badge_class.key, found.badge_class.name)
    response = _png(baked_png(found.uid, image, documents.assertion_document(found)))
    response.headers["Content-Disposition"] = f"attachment; filename=badge-{found.uid}.png"
    return response


@bp.get("/badges/revocations")
def revocations():
    """The issuer's RevocationList (JSON-LD)."""
    return _json_ld(documents.revocation_list_document())


@bp.get("/me/badges")
@login_required
def mine():
    """The current member's badges: image, download of the baked image, the assertion's address."""
    member = current_user.member
    badges = badges_of(member.id) if member is not None else []
    return render_template("badges/mine.html", badges=badges, assertion_url=documents.assertion_url,
                           baked_url=documents.baked_url)

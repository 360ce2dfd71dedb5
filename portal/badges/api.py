"""``GET /api/v1/me/badges``: the current member's Open Badges, for a phone app."""
from __future__ import annotations

from flask import Blueprint, jsonify

from portal.api.util import api_login_required, current_account, openapi_responses
from portal.badges.documents import assertion_url, baked_url
from portal.badges.services import badges_of

bp = Blueprint("badges_api", __name__, url_prefix="/api/v1")

API_PATHS = {
    "/api/v1/me/badges": {"get": {
        "summary": "The current member's badges (Open Badges 2.0 hosted assertions), newest first",
        "description": "A short list (one entry per badge that stands, revoked ones left out), not paged. "
                       "assertion_url serves the assertion's JSON-LD without login; image_url is the badge "
                       "image with the assertion baked in, to add to a backpack.",
        "responses": openapi_responses(schema={"type": "array", "items": {
            "type": "object", "required": ["name", "assertion_url", "image_url"],
            "properties": {"name": {"type": "string"}, "assertion_url": {"type": "string", "format": "uri"},
                           "image_url": {"type": "string", "format": "uri"}}}}),
    }},
}


@bp.get("/me/badges")
@api_login_required
def my_badges():
    """``[{"name", "assertion_url", "image_url"}]`` with absolute addresses (``image_url``: the baked PNG)."""
    member = current_account().member
    badges = badges_of(member.id) if member is not None else []
    return jsonify([{"name": b.badge_class.name, "assertion_url": assertion_url(b.uid), "image_url": baked_url(b.uid)}
                    for b in badges])

"""Search API (the HTML search page is ``web.search``)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from portal import ratelimit
from portal.api.util import api_error, current_account
from portal.search.service import MAX_QUERY_LENGTH, search

bp = Blueprint("search", __name__)

API_PATHS = {
    "/api/v1/search": {"get": {
        "summary": "Full-text search over what the caller may see (visitors: public documents only)",
        "security": [{"bearer": []}, {}],
        "parameters": [
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
             "description": "Words or a question (question words are dropped; documents matching more words rank "
                            "first); \"quoted phrase\" for an exact phrase"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}},
        ],
        "responses": {"200": {"description": "Results, best first", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"results": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
                "snippet": {"type": "string", "description": "HTML-escaped text; matches wrapped in <mark>"}}}}}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
}


@bp.get("/api/v1/search")
def api_search():
    """``{"results": [{"type", "title", "url", "snippet"}]}`` for ``?q=``."""
    account = current_account()
    # Per account when logged in (a shared office network is many people), else per client address.
    ratelimit.limit("search", f"account:{account.id}" if account else f"ip:{request.remote_addr}",
                    current_app.config["RATE_LIMIT_SEARCH"])
    query = (request.args.get("q") or "").strip()
    if not query:
        return api_error(400, "bad_request", _("Send the words to search for in the parameter q."))
    if len(query) > MAX_QUERY_LENGTH:
        return api_error(400, "bad_request", _("The search is too long (at most %(num)d characters).", num=MAX_QUERY_LENGTH))
    try:
        limit = min(50, max(1, int(request.args.get("limit", 20))))
    except ValueError:
        return api_error(400, "bad_request", _("limit must be a whole number."))
    results = search(query, account, limit=limit)
    return jsonify({"results": [r.as_json() for r in results]})

"""Every write route of the suggestion box (pages and API) × every role (reads: tests/test_reports_suggestions.py).

Every member sends suggestions (accounts without a member profile cannot). member2's suggestions go to the
home branch, whose secretary (and the organizer and admins above it) take them on, answer and close them;
member2 may read their own named one but not answer it (403); everyone else gets 404, and nobody can even
tell that an anonymous one came from member2. Each role acts on a fresh suggestion; a refused request
leaves the whole database as it was.
"""
from __future__ import annotations

from portal import toolkit as tk
from portal_reports import suggestions
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"reports_suggestions", "reports_suggestions_api"}
SEND = {"target": "home", "body": "Hold the meeting on a Sunday."}


def _named(org, *, anonymous: bool = False) -> dict:
    suggestion, _token = suggestions.submit(org.member2, {**SEND, "anonymous": anonymous})
    return {"suggestion_id": suggestion.id}


def _anonymous(org) -> dict:
    return _named(org, anonymous=True)


def _replied(org) -> dict:
    values = _named(org)
    suggestions.reply(tk.db.session.get(suggestions.Suggestion, values["suggestion_id"]), "Agreed.",
                      by=org.home_sec)
    return values


MEMBERS_WEB = expect(302, organizer=403, admin=403)
MEMBERS_API = expect(201, anonymous=401, organizer=403, admin=403)
ANSWERERS_WEB = expect(404, anonymous=302, member2=403, home_sec=302, organizer=302, admin=302)
ANSWERERS_API = expect(404, anonymous=401, member2=403, home_sec=200, organizer=200, admin=200)
# an anonymous suggestion: its author is nobody the portal knows, so member2 gets the 404 of a stranger
ANONYMOUS_API = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)

CASES = [
    PostCase("reports_suggestions.send", MEMBERS_WEB, data=SEND),
    PostCase("reports_suggestions.send", MEMBERS_WEB, data={**SEND, "anonymous": "1"}),
    PostCase("reports_suggestions.assign", ANSWERERS_WEB, _named),
    PostCase("reports_suggestions.reply", ANSWERERS_WEB, _named, {"reply": "We will.", "digest": "1"}),
    PostCase("reports_suggestions.close", ANSWERERS_WEB, _replied),
    PostCase("reports_suggestions_api.post_suggestion", MEMBERS_API, data={**SEND, "anonymous": True}, json=True),
    PostCase("reports_suggestions_api.post_suggestion", MEMBERS_API, data={**SEND, "anonymous": False}, json=True),
    PostCase("reports_suggestions_api.assign", ANSWERERS_API, _named, json=True),
    PostCase("reports_suggestions_api.reply", ANSWERERS_API, _named, {"reply": "We will."}, json=True),
    PostCase("reports_suggestions_api.reply", ANONYMOUS_API, _anonymous, {"reply": "We will."}, json=True),
    PostCase("reports_suggestions_api.close", ANSWERERS_API, _replied, json=True),
]


def test_every_suggestion_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_suggestion_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

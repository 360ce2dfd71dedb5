"""Every write route of the care plugin × every role (GET routes: tests/test_care_views.py).

member2 (home branch, at home) files the requests and wishes; they are routed
to the home branch, whose secretary (and the organizer, and admins) handle
them; member2 follows their own; everyone else gets 404. Each role acts on a
fresh target; a refused request leaves the whole database as it was. Handling
one's own request or wish is in tests/test_self_actions.py.
"""
from __future__ import annotations

import io
import itertools

from portal import toolkit as tk
from portal_care import filing, microwishes
from portal_care.models import CareRoutingRule
from tests.helpers.permission_matrix import ROLES, PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"care", "care_api"}
REQUEST = {"category": "family", "title": "Mother needs care", "description": "She fell and lives alone.",
           "urgency": "normal", "where": "hometown"}
# member2 sees their own request or wish, but does not decide on it (403)
STAFF_NOT_SELF = expect(404, anonymous=302, member2=403, home_sec=302, organizer=302, admin=302)
# member2 and the staff of the home branch
PARTIES = expect(404, anonymous=302, member2=302, home_sec=302, organizer=302, admin=302)
ADMIN = expect(403, anonymous=302, admin=302)
MEMBERS = expect(302, organizer=403, admin=403)  # accounts without a member profile file nothing
PDF = b"%PDF-1.4\n%fake but well-formed enough to sniff\n"
_serial = itertools.count(1)


def _request_of_member2(org) -> dict:
    req = filing.file_request(org.member2, dict(REQUEST), filed_by=org.member2.account, now=tk.utcnow())
    return {"request_id": req.id}


def _member2(org) -> dict:
    return {"member": org.member2.id}


def _drafts(org) -> dict:
    for role in ROLES:
        member = getattr(org.accounts.get(role), "member", None)
        if member is not None:
            filing.save_draft(member, {"title": "Half-written"}, now=tk.utcnow())
    return {}


def _rule(org) -> dict:
    """A routing rule to the home branch: member2's requests in later cases still go there."""
    rule = CareRoutingRule(category="family", where="any", target_unit_id=org.home.id)
    tk.db.session.add(rule)
    tk.db.session.flush()
    return {"rule_id": rule.id}


def _wish(org, approved: bool = False) -> dict:
    wish = microwishes.create_wish(org.member2, {"title": f"A school bag {next(_serial)}"}, now=tk.utcnow())
    if approved:
        wish.status, wish.visible_unit_id = "open", org.home.id
    tk.db.session.flush()
    return {"wish_id": wish.id}


CASES = [
    PostCase("care.new", PARTIES, _member2, REQUEST),
    PostCase("care.discard_draft", MEMBERS, _drafts),
    PostCase("care.transition", STAFF_NOT_SELF, _request_of_member2, {"to": "accepted"}),
    PostCase("care.comment", PARTIES, _request_of_member2, {"body": "Any news?"}),
    PostCase("care.assign", STAFF_NOT_SELF, _request_of_member2, lambda org, _v: {"handler": str(org.member1.account_id)}),
    PostCase("care.admin_categories", ADMIN, data=lambda _org, _v: {"key": f"legal_{next(_serial)}", "label": "Legal aid",
                                                                    "position": "5", "active": "y"}),
    PostCase("care.admin_rules", ADMIN, data=lambda org, _v: {"category": "family", "where": "any", "scope_unit": "0",
                                                              "target_unit": str(org.home.id)}),
    PostCase("care.admin_rule_delete", ADMIN, _rule),  # admin_rules above routes to the home branch too
    PostCase("care.wish_new", MEMBERS, data=lambda _org, _v: {"title": f"A bicycle {next(_serial)}"}),
    PostCase("care.wish_action", STAFF_NOT_SELF, lambda org: {**_wish(org), "action": "approve"},
             lambda org, _v: {"unit": str(org.home.id)}),
    # an open wish is seen under its unit: the home branch's members may claim it (not the wisher: 403)
    PostCase("care.wish_action", expect(404, anonymous=302, member1=302, member2=403, home_sec=302, organizer=403,
                                        admin=403), lambda org: {**_wish(org, approved=True), "action": "claim"}),
    # the API: the same rules, 401 without a login
    PostCase("care_api.create_request", expect(404, anonymous=401, member2=201, home_sec=201, organizer=201, admin=201),
             data=lambda org, _v: {**REQUEST, "member_id": org.member2.id}, json=True),
    PostCase("care_api.post_transition", expect(404, anonymous=401, member2=403, home_sec=200, organizer=200,
                                                admin=200),
             _request_of_member2, {"to": "accepted"}, json=True),
    PostCase("care_api.post_comment", expect(404, anonymous=401, member2=201, home_sec=201, organizer=201, admin=201),
             _request_of_member2, {"body": "Any news?"}, json=True),
    PostCase("care_api.upload_attachments", expect(404, anonymous=401, member2=201, home_sec=201, organizer=201,
                                                   admin=201),
             _request_of_member2, lambda _org, _v: {"attachments": [(io.BytesIO(PDF), "letter.pdf")]}),
    PostCase("care_api.create_wish", expect(201, anonymous=401, organizer=403, admin=403),
             data=lambda _org, _v: {"title": f"A bicycle {next(_serial)}"}, json=True),
    PostCase("care_api.wish_action", expect(404, anonymous=401, member1=200, member2=403, home_sec=200, organizer=403,
                                            admin=403), lambda org: {**_wish(org, approved=True), "action": "claim"},
             json=True),
]


def test_every_care_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_care_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9


def test_filing_for_a_hosted_member(app, db, org):
    """member1 is hosted at the host branch: its secretary may file a care request for member1 (care.file_for is
    host-visible), as the home side may; the foreign branch's secretary may not."""
    case = PostCase("care.new", expect(404, anonymous=302, member1=302, home_sec=302, host_sec=302, organizer=302,
                                       admin=302), lambda org: {"member": org.member1.id}, REQUEST)
    assert check_post_matrix(app, org, [case]) == 9

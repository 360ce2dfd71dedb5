"""Every write route of the secretaries' dues pages × every role (GET routes: tests/test_dues_manage_views.py).

A member's dues belong to their home branch: its secretary, the organizer above it and admins act on
them; every other account gets 404 (secretaries of other branches too, as for any unit outside one's
scope). The upper committee (the organizer above the home branch's parent) approves reductions; the
host branch records payments made there. Each role acts on a fresh member; a refused request leaves
the database as it was.
"""
from __future__ import annotations

import io
import itertools

from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_dues import money, payments, profiles
from portal_dues.models import Reduction
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"dues_manage"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOME = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
# the unit's books: members hold the permission nowhere (403)
HOME_UNIT = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302,
                   admin=302)
UPPER = expect(404, anonymous=302, organizer=302, admin=302)
HOST = expect(404, anonymous=302, host_sec=302, organizer=302, admin=302)
_serial = itertools.count(1)


def _this_month() -> str:
    return money.month_key(money.current_month())


def _member(org, *, host=None) -> tk.Member:
    """A fresh member of the home branch owing 40.00 a month since three months ago."""
    member = Factory(tk.db).member(org.home, host=host)
    profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00",
                                  "valid_from": money.month_key(money.add_months(money.current_month(), -3))},
                         by=None)
    return member


def _fresh(org) -> dict:
    return {"member_id": _member(org).id}


def _hosted(org) -> dict:
    return {"member_id": _member(org, host=org.host).id}


def _reported(org) -> dict:
    proof = FileStorage(io.BytesIO(PNG), filename="transfer.png", content_type="image/png")
    payment = payments.report_payment(_member(org), {"months": [_this_month()], "amount": "40.00"}, proof)
    tk.db.session.flush()
    return {"payment_id": payment.id}


def _requested(org) -> dict:
    reduction = profiles.request_reduction(_member(org), {"monthly_due": "0.20", "reason": "Long illness"})
    return {"reduction_id": reduction.id}


def _branch_agreed(org) -> dict:
    values = _requested(org)
    profiles.decide_reduction_branch(tk.db.session.get(Reduction, values["reduction_id"]), True, "",
                                     by=None)
    return values


def _quarter(org) -> dict:
    """The home branch and a quarter nobody has remitted yet."""
    return {"unit": org.home.id, "period": f"{2000 + next(_serial)}-Q1"}


def _year(org) -> dict:
    return {"unit": org.home.id, "year": 2000 + next(_serial)}


def _payment(_org, _values) -> dict:
    return {"months": [_this_month()], "amount": "40.00", "channel": "cash"}


def _hosted_payment(_org, values) -> dict:
    prefix = f"m{values['member_id']}-"
    return {f"{prefix}months": [_this_month()], f"{prefix}amount": "40.00"}


CASES = [
    PostCase("dues_manage.set_profile", HOME, _fresh, {"category": "retired", "monthly_base": "3000.00"}),
    PostCase("dues_manage.record_payment", HOME, _fresh, _payment),
    PostCase("dues_manage.confirm", HOME, _reported),
    PostCase("dues_manage.reject", HOME, _reported, {"reason": "No such transfer"}),
    PostCase("dues_manage.decide_branch", HOME, _requested, {"decision": "agree", "note": "Visited"}),
    PostCase("dues_manage.decide_upper", UPPER, _branch_agreed, {"decision": "refuse", "note": "Income is regular"}),
    PostCase("dues_manage.record_hosted", HOST, _hosted, _hosted_payment),
    PostCase("dues_manage.remit", HOME_UNIT, _quarter, {"amount": "40.00", "remitted_on": "2026-01-05"}),
    PostCase("dues_manage.publish", HOME_UNIT, _year, {"use_note": "Study materials for the branch"}),
]


def test_every_dues_manage_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_dues_manage_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

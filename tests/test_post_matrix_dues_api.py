"""Every write route of the dues API (POST and PUT) × every role (reads: tests/test_dues_api.py).

The home branch's secretary (and the organizer and admins above it) set profiles, record payments,
confirm or reject reported ones and decide reductions at branch level; the upper committee (the
organizer, admins — not the branch's secretary) approves; the host branch's secretary records
payments made at the host branch. Nobody acts on their own record: the home branch's secretary is a
member of it (403). Members ask for reductions; accounts without a member profile cannot. Each role
acts on a fresh member; a refused request leaves the whole database as it was.
"""
from __future__ import annotations

import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_dues import money, payments, profiles
from portal_dues.models import Payment
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"dues_api"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _month(n: int = 0) -> str:
    return money.month_key(money.add_months(money.current_month(), n))


def _fresh(org, unit=None, host=None) -> tk.Member:
    """A new member of the home branch (or ``unit``) with dues of 40.00 a month since two months ago."""
    member = Factory(tk.db).member(unit or org.home, host=host)
    profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00", "valid_from": _month(-2)},
                         by=org.organizer)
    return member


def _member(org) -> dict:
    return {"member_id": _fresh(org).id}


def _home_sec_self(org) -> dict:
    """The home branch's secretary's own record, its earlier payments removed (each role pays afresh)."""
    member = org.home_sec.member
    if profiles.current_profile(member) is None:
        profiles.set_profile(member, {"category": "student", "valid_from": _month(-2)}, by=org.organizer)
    for payment in tk.db.session.scalars(select(Payment).where(Payment.member_id == member.id)):
        tk.db.session.delete(payment)
    return {"member_id": member.id}


def _payment_of(_org, values: dict) -> dict:
    return {"member_id": values["member_id"], "months": [_month(-1), _month()], "amount": "80.00", "channel": "cash"}


def _hosted(org) -> dict:
    return {"member_id": _fresh(org, host=org.host).id}


def _reported(org) -> dict:
    member = _fresh(org)
    payment = payments.report_payment(member, {"months": [_month()], "amount": "40.00"},
                                      FileStorage(io.BytesIO(PNG), filename="transfer.png"))
    return {"payment_id": payment.id}


def _requested(org) -> dict:
    member = _fresh(org)
    reduction = profiles.request_reduction(member, {"monthly_due": "10.00", "reason": "Sick leave"})
    return {"reduction_id": reduction.id}


def _branch_agreed(org) -> dict:
    values = _requested(org)
    profiles.decide_reduction_branch(profiles.get_reduction(values["reduction_id"]), True, None, by=org.home_sec)
    return values


def _every_member_owes(org) -> dict:
    """Each role's own member record owes 40.00 a month and has paid nothing (each role reports afresh)."""
    for role in ("member1", "member2", "outsider", "home_sec", "host_sec", "foreign_sec"):
        member = org.accounts[role].member
        if profiles.current_profile(member) is None:
            profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00", "valid_from": _month(-2)},
                                 by=org.organizer)
        for payment in tk.db.session.scalars(select(Payment).where(Payment.member_id == member.id)):
            tk.db.session.delete(payment)
    return {}


MANAGERS = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)

CASES = [
    PostCase("dues_api.put_profile", MANAGERS, _member, {"category": "salaried", "monthly_base": "5000.00"},
             json=True, method="PUT"),
    # nobody sets their own dues: the secretary is a member of the home branch
    PostCase("dues_api.put_profile", expect(404, anonymous=401, home_sec=403, organizer=200, admin=200),
             _home_sec_self, {"category": "farmer"}, json=True, method="PUT"),
    PostCase("dues_api.post_payment", expect(404, anonymous=401, home_sec=201, organizer=201, admin=201),
             _member, _payment_of, json=True),
    PostCase("dues_api.post_payment", expect(404, anonymous=401, home_sec=403, organizer=201, admin=201),
             _home_sec_self, lambda _org, values: {**_payment_of(_org, values), "amount": "2.00"}, json=True),
    # paid at the host branch: its secretary (and those above both branches); the home branch's secretary 403
    PostCase("dues_api.post_payment", expect(404, anonymous=401, host_sec=201, home_sec=403, organizer=201,
                                             admin=201),
             _hosted, lambda _org, values: {**_payment_of(_org, values), "channel": "host_branch"}, json=True),
    PostCase("dues_api.confirm_payment", MANAGERS, _reported, json=True),
    PostCase("dues_api.reject_payment", MANAGERS, _reported, {"reason": "No such transfer"}, json=True),
    # every member asks for themself; accounts without a member profile cannot
    PostCase("dues_api.post_reduction", expect(201, anonymous=401, organizer=403, admin=403),
             data={"monthly_due": "10.00", "reason": "Sick leave"}, json=True),
    PostCase("dues_api.decide_reduction", MANAGERS, _requested, {"level": "branch", "approve": True}, json=True),
    # issue 21: every member tells their own branch they paid (multipart, with the photo)
    PostCase("dues_api.post_report", expect(201, anonymous=401, organizer=403, admin=403), _every_member_owes,
             lambda _org, _v: {"months": [_month()], "amount": "40.00",
                               "proof": (io.BytesIO(PNG), "transfer.png")}),
    # the upper committee: the branch's own secretary may not approve at that level
    PostCase("dues_api.decide_reduction", expect(404, anonymous=401, home_sec=403, organizer=200, admin=200),
             _branch_agreed, {"level": "upper", "approve": True}, json=True),
]


def test_every_dues_api_write_route_has_expectations(app):
    # online payment needs a provider plugin registered for the test
    check_post_coverage(app, BLUEPRINTS, CASES, covered_elsewhere={
        "dues_api.pay": "tests/test_api_branch_life_dues.py::test_pay_online_permissions"})


def test_dues_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Every write route of the member's dues pages × every role (GET routes: tests/test_dues_member.py).

Each member (member1, member2, the outsider and the three secretaries, who are members of their
branches) has dues from three months back: each reports a transfer, asks for a reduction or starts an
online payment for their own months. Accounts without a member profile (organizer, admin) have nothing
to pay (403). The provider's callback acts for nobody and is checked by its signature
(tests/test_dues_providers.py).
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal_dues import profiles
from tests import dues_provider
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect
from tests.test_dues_member import key, png_bytes

BLUEPRINTS = {"dues"}
MEMBERS = expect(302, organizer=403, admin=403)
COVERED_ELSEWHERE = {
    "dues.callback": "tests/test_dues_providers.py::test_pending_then_paid_by_a_signed_callback_once",
}


@pytest.fixture
def provider(app):
    manager = get_manager(app)
    manager.pm.register(dues_provider, name="dues_provider")
    yield dues_provider.PROVIDER
    manager.pm.unregister(dues_provider)


def _dues_for_everyone(org) -> dict:
    """Dues from three months back for every member of the standard organization (once)."""
    for member in tk.db.session.scalars(select(tk.Member)):
        if profiles.current_profile(member) is None:
            profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00", "valid_from": key(3)},
                                 by=None)
    return {}


CASES = [
    PostCase("dues.report", MEMBERS, _dues_for_everyone,
             lambda _org, _values: {"months": [key(1)], "amount": "40.00",
                                    "proof": (io.BytesIO(png_bytes()), "receipt.png")}),
    PostCase("dues.reduction", MEMBERS, _dues_for_everyone, {"monthly_due": "10.00", "reason": "Ill since spring"}),
    PostCase("dues.pay", MEMBERS, lambda org: {**_dues_for_everyone(org), "provider": "testpay"},
             {"months": [key(2)]}),
]


def test_every_dues_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES, COVERED_ELSEWHERE)


def test_dues_post_matrix(app, db, org, provider):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

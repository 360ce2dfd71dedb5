"""Online payment through a provider plugin (tests/dues_provider, registered like a third-party plugin):
pending → paid by a signed callback; a wrong signature or amount changes nothing; a repeated callback
counts once; a failed payment frees its months; the callback needs no login and no CSRF token.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal_dues import providers
from portal_dues.models import Payment, PaymentMonth
from tests import dues_provider
from tests.conftest import make_test_app
from tests.test_dues_member import _login, key, paid_activities, set_dues


@pytest.fixture
def provider(app):
    """The test provider, registered on the app's plugin manager for one test."""
    manager = get_manager(app)
    manager.pm.register(dues_provider, name="dues_provider")
    dues_provider.PROVIDER.started.clear()
    yield dues_provider.PROVIDER
    manager.pm.unregister(dues_provider)


def _start(client, db, org, months: list[str]) -> Payment:
    """member2 pays ``months`` online: the pending payment the provider was asked to collect."""
    set_dues(db, org.member2)
    _login(client, "member2")
    response = client.post("/dues/pay/testpay", data={"months": months})
    assert response.status_code == 302 and response.location.startswith(dues_provider.CHECKOUT)
    ref = parse_qs(urlparse(response.location).query)["ref"][0]
    return db.session.scalar(select(Payment).where(Payment.provider_ref == ref))


def _payments(db) -> int:
    return db.session.scalar(select(func.count(Payment.id)))


def test_providers_come_from_the_published_hook(app, db, provider):
    assert [p.name for p in providers.available()] == ["testpay"]
    assert providers.get_provider("testpay") is provider
    with pytest.raises(tk.NotFound):
        providers.get_provider("nopay")


def test_no_provider_no_online_payment(client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    assert "Pay online" not in client.get("/dues/").get_data(as_text=True)
    assert client.post("/dues/pay/testpay", data={"months": [key(1)]}).status_code == 404
    assert _payments(db) == 0


def test_pending_then_paid_by_a_signed_callback_once(app, client, db, org, provider):
    payment = _start(client, db, org, [key(1), key(2)])
    assert (payment.status, payment.channel, payment.provider, str(payment.amount)) == ("pending", "online",
                                                                                        "testpay", "80.00")
    order = provider.started[-1]
    assert order["amount"] == "80.00" and order["notify_url"].endswith("/dues/providers/testpay/callback")
    assert len(payment.months) == 2 and paid_activities(db, org.member2) == 0
    assert "Pay online with Test payment" in client.get("/dues/").get_data(as_text=True)
    client.post("/logout")  # the provider's server has no session

    body = dues_provider.callback(payment.provider_ref, "80.00", trade_no="WX-42")
    forged = {**body, "amount": "8.00"}  # changed after signing
    assert client.post("/dues/providers/testpay/callback", data=forged).status_code == 400
    db.session.expire_all()
    assert payment.status == "pending" and paid_activities(db, org.member2) == 0

    first = client.post("/dues/providers/testpay/callback", data=body)
    assert first.status_code == 200 and first.json == {"status": "confirmed"}
    db.session.expire_all()
    assert payment.status == "confirmed" and payment.provider_ref == "WX-42" and payment.confirmed_at is not None
    assert paid_activities(db, org.member2) == 2

    again = client.post("/dues/providers/testpay/callback", data=body)
    assert again.status_code == 200 and again.json == {"status": "confirmed"}
    assert _payments(db) == 1 and paid_activities(db, org.member2) == 2
    assert client.get(f"/dues/receipts/{payment.receipt_code}").status_code == 200


def test_json_callbacks_work_too(client, db, org, provider):
    payment = _start(client, db, org, [key(1)])
    response = client.post("/dues/providers/testpay/callback", json=dues_provider.callback(payment.provider_ref, "40.00"))
    assert response.status_code == 200
    db.session.expire_all()
    assert payment.status == "confirmed"


def test_an_amount_that_does_not_match_is_refused_and_logged(client, db, org, provider, caplog):
    payment = _start(client, db, org, [key(1)])
    response = client.post("/dues/providers/testpay/callback", data=dues_provider.callback(payment.provider_ref, "4.00"))
    assert response.status_code == 400 and response.json["error"]["code"] == "amount_mismatch"
    assert "says 4.00 yuan" in caplog.text
    db.session.expire_all()
    assert payment.status == "pending" and paid_activities(db, org.member2) == 0


def test_an_unknown_reference_or_provider_is_404(client, db, org, provider):
    assert client.post("/dues/providers/testpay/callback",
                       data=dues_provider.callback("dues-NOPE", "40.00")).status_code == 404
    assert client.post("/dues/providers/nopay/callback", data={}).status_code == 404


def test_a_failed_payment_frees_its_months(client, db, org, provider):
    payment = _start(client, db, org, [key(1)])
    response = client.post("/dues/providers/testpay/callback",
                           data=dues_provider.callback(payment.provider_ref, "40.00", status="FAIL"))
    assert response.status_code == 200 and response.json == {"status": "rejected"}
    db.session.expire_all()
    assert payment.status == "rejected" and db.session.scalar(select(func.count(PaymentMonth.id))) == 0
    assert _start(client, db, org, [key(1)]).status == "pending"  # the month can be paid again


def test_held_months_are_refused_and_a_stale_pending_payment_is_released(client, db, org, provider):
    payment = _start(client, db, org, [key(1)])
    assert client.post("/dues/pay/testpay", data={"months": [key(1)]}).status_code == 303  # held: flashed
    assert _payments(db) == 1
    payment.created_at -= timedelta(minutes=providers.PENDING_MINUTES + 1)
    db.session.commit()
    again = _start(client, db, org, [key(1)])
    db.session.expire_all()
    assert again.id != payment.id and payment.status == "rejected"


def test_months_too_far_back_are_refused_before_the_provider_is_asked(client, db, org, provider):
    set_dues(db, org.member2, since=12)
    _login(client, "member2")
    response = client.post("/dues/pay/testpay", data={"months": [key(9)]}, headers={"Accept-Language": "en"})
    assert response.status_code == 303 and _payments(db) == 0 and provider.started == []


@pytest.fixture(scope="module")
def csrf_app(app, tmp_path_factory):
    csrf_app = make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], WTF_CSRF_ENABLED=True)
    get_manager(csrf_app).pm.register(dues_provider, name="dues_provider")
    yield csrf_app
    get_manager(csrf_app).pm.unregister(dues_provider)


def test_the_callback_needs_no_csrf_token_but_member_forms_do(csrf_app, db, org, provider):
    set_dues(db, org.member2)
    payment, _url = providers.start_payment(org.member2, provider, {"months": [key(0)]}, notify_url="/n",
                                            return_url="/r")
    db.session.commit()
    client = csrf_app.test_client()
    body = dues_provider.callback(payment.provider_ref, "40.00")
    assert client.post("/dues/providers/testpay/callback", data=body).status_code == 200
    db.session.expire_all()
    assert payment.status == "confirmed"
    assert client.post("/dues/report", data={"months": [key(1)]}).status_code == 400  # other forms keep CSRF

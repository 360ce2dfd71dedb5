"""The member's dues through the API (issue 21: what ``/dues/`` offers on the web): their payments (paged) with
receipts as PDF, telling the branch they paid (multipart, with the photo), their reduction requests, and paying
online through a provider plugin. Refusals say why, in the reader's language, and change nothing."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal_dues import payments
from portal_dues.models import Payment
from tests import dues_provider
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint
from tests.test_dues_member import key, set_dues

ZH = {"Accept-Language": "zh-CN"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "home_sec", "host_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/dues/me", headers=value)
    return headers


@pytest.fixture
def provider(app):
    """The test payment provider, registered on the app's plugin manager for one test."""
    manager = get_manager(app)
    manager.pm.register(dues_provider, name="dues_provider")
    dues_provider.PROVIDER.started.clear()
    yield dues_provider.PROVIDER
    manager.pm.unregister(dues_provider)


def _payments(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Payment.id))) or 0


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_my_payments_are_paged_and_their_receipts_downloadable(client, db, org, tokens):
    set_dues(db, org.member2)
    for months in ([key(2)], [key(1)], [key(0)]):
        payments.record_payment(org.member2, {"months": months, "amount": "40.00", "channel": "cash"},
                                by=org.home_sec)
    db.session.commit()
    first = client.get("/api/v1/dues/me/payments?per_page=2", headers=tokens["member2"])
    assert first.status_code == 200, first.json
    assert (first.json["page"], first.json["per_page"], first.json["total"]) == (1, 2, 3)
    assert [p["months"] for p in first.json["payments"]] == [[key(0)], [key(1)]]  # newest first
    second = client.get(first.json["next"], headers=tokens["member2"]).json
    assert [p["months"] for p in second["payments"]] == [[key(2)]] and second["next"] is None
    receipt_url = first.json["payments"][0]["receipt_pdf_url"]
    assert receipt_url == f"/api/v1/dues/payments/{first.json['payments'][0]['id']}/receipt.pdf"
    pdf = client.get(receipt_url, headers=tokens["member2"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(receipt_url, headers=tokens["home_sec"]).status_code == 200  # the books' keeper
    assert client.get(receipt_url, headers=tokens["member1"]).status_code == 404  # nobody else learns it exists
    assert client.get(receipt_url).status_code == 401
    # another member's list is their own: member1 has none
    assert client.get("/api/v1/dues/me/payments", headers=tokens["member1"]).json["total"] == 0
    bad = client.get("/api/v1/dues/me/payments?per_page=0", headers=tokens["member2"])
    assert bad.status_code == 400 and "per_page" in bad.json["error"]["message"]
    assert client.get("/api/v1/dues/me/payments", headers=tokens["organizer"]).status_code == 403
    assert client.get("/api/v1/dues/me/payments").status_code == 401


def test_an_unconfirmed_payment_has_no_receipt(client, db, org, tokens):
    set_dues(db, org.member2)
    payment = payments.report_payment(org.member2, {"months": [key(0)], "amount": "40.00"}, _photo())
    db.session.commit()
    listed = client.get("/api/v1/dues/me/payments", headers=tokens["member2"]).json["payments"]
    assert listed[0]["status"] == "reported" and listed[0]["receipt_pdf_url"] is None
    assert client.get(f"/api/v1/dues/payments/{payment.id}/receipt.pdf", headers=tokens["member2"]).status_code == 404


def _photo(data: bytes = PNG, name: str = "transfer.png"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name)


def _report(client, headers, **changes):
    form = {"months": [key(0)], "amount": "40.00", "paid_on": tk.local_today().isoformat(), "note": "bank transfer",
            "proof": (io.BytesIO(PNG), "transfer.png"), **changes}
    return client.post("/api/v1/dues/reports", data={k: v for k, v in form.items() if v is not None},
                       headers=headers, content_type="multipart/form-data")


def test_report_a_transfer_with_its_photo(client, db, org, tokens):
    set_dues(db, org.member2)
    response = _report(client, tokens["member2"])
    assert response.status_code == 201, response.json
    assert response.json["status"] == "reported" and response.json["months"] == [key(0)]
    assert response.json["member_id"] == org.member2.id and response.json["channel"] == "transfer"
    payment = db.session.get(Payment, response.json["id"])
    assert tk.read_upload("dues", payment.proof_stored_name) == PNG
    # the month is now held: a second report of it is a conflict
    again = _report(client, tokens["member2"])
    assert again.status_code == 409 and "months" in again.json["error"]["fields"]


def test_a_refused_report_says_why_and_writes_nothing(client, db, org, tokens):
    set_dues(db, org.member2)
    before = db_fingerprint()
    no_photo = _report(client, {**tokens["member2"], **ZH}, proof=None)
    assert no_photo.status_code == 422 and "proof" in no_photo.json["error"]["fields"]
    assert _chinese(no_photo.json["error"]["message"])
    not_a_photo = _report(client, tokens["member2"], proof=(io.BytesIO(b"MZ not an image"), "transfer.png"))
    assert not_a_photo.status_code == 422 and "proof" in not_a_photo.json["error"]["fields"]
    bad_month = _report(client, tokens["member2"], months=["2026-13"])
    assert bad_month.status_code == 422 and "months" in bad_month.json["error"]["fields"]
    too_little = _report(client, tokens["member2"], amount="1.00")
    assert too_little.status_code == 422 and "amount" in too_little.json["error"]["fields"]
    assert _report(client, tokens["organizer"]).status_code == 403  # no member record: nothing to report
    assert _report(client, {}).status_code == 401
    assert db_fingerprint() == before


def test_my_reductions_are_listed_newest_first(client, db, org, tokens):
    set_dues(db, org.member2)
    first = client.post("/api/v1/dues/reductions", json={"monthly_due": "10.00", "reason": "Sick leave"},
                        headers=tokens["member2"])
    assert first.status_code == 201
    listed = client.get("/api/v1/dues/me/reductions", headers=tokens["member2"])
    assert listed.status_code == 200 and listed.json["total"] == 1
    assert listed.json["reductions"][0]["reason"] == "Sick leave" and listed.json["reductions"][0]["state"] == \
        "requested"
    assert client.get("/api/v1/dues/me/reductions", headers=tokens["member1"]).json["total"] == 0
    assert client.get("/api/v1/dues/me/reductions?page=x", headers=tokens["member2"]).status_code == 400
    assert client.get("/api/v1/dues/me/reductions", headers=tokens["organizer"]).status_code == 403
    assert client.get("/api/v1/dues/me/reductions").status_code == 401


def test_my_statement_names_what_i_can_pay_and_how(client, db, org, tokens, provider):
    set_dues(db, org.member2)
    body = client.get("/api/v1/dues/me", headers=tokens["member2"]).json
    assert body["providers"] == [{"name": "testpay", "label": "Test payment"}]
    assert {"month": key(0), "due": "40.00"} in body["payable_months"]
    # the fields that were there stay
    assert {"profile", "months_paid", "months_reported", "months_due", "arrears"} <= set(body)


def test_pay_online(client, db, org, tokens, provider):
    set_dues(db, org.member2)
    response = client.post("/api/v1/dues/pay/testpay", json={"months": [key(1), key(0)]}, headers=tokens["member2"])
    assert response.status_code == 201, response.json
    assert response.json["checkout_url"].startswith(dues_provider.CHECKOUT)
    payment = response.json["payment"]
    assert payment["status"] == "pending" and payment["channel"] == "online" and payment["amount"] == "80.00"
    assert provider.started[0]["notify_url"].endswith("/dues/providers/testpay/callback")
    # the provider's signed callback confirms it, as for a payment started on the web
    ref = db.session.get(Payment, payment["id"]).provider_ref
    assert client.post("/dues/providers/testpay/callback",
                       data=dues_provider.callback(ref, "80.00")).status_code == 200
    assert db.session.get(Payment, payment["id"]).status == "confirmed"


def test_pay_online_permissions(client, db, org, tokens, provider):
    """Only one's own months; a held month is 409, an unknown provider 404, bad months 422 — and nothing written."""
    set_dues(db, org.member2)
    assert client.post("/api/v1/dues/pay/testpay", json={"months": [key(0)]},
                       headers=tokens["member2"]).status_code == 201
    before, count = db_fingerprint(), _payments(db)
    held = client.post("/api/v1/dues/pay/testpay", json={"months": [key(0)]}, headers=tokens["member2"])
    assert held.status_code == 409
    assert client.post("/api/v1/dues/pay/nopay", json={"months": [key(1)]},
                       headers=tokens["member2"]).status_code == 404
    for months in ("2026-11", [], ["soon"], [key(40)]):
        bad = client.post("/api/v1/dues/pay/testpay", json={"months": months}, headers={**tokens["member2"], **ZH})
        assert bad.status_code == 422 and "months" in bad.json["error"]["fields"], months
        assert _chinese(bad.json["error"]["message"])
    assert client.post("/api/v1/dues/pay/testpay", json={"months": [key(1)], "member_id": org.member1.id},
                       headers=tokens["member2"]).status_code == 422  # nobody pays for another: no such field
    assert client.post("/api/v1/dues/pay/testpay", json={"months": [key(1)]},
                       headers=tokens["organizer"]).status_code == 403
    assert client.post("/api/v1/dues/pay/testpay", json={"months": [key(1)]}).status_code == 401
    assert db_fingerprint() == before and _payments(db) == count

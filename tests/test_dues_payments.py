"""Dues payments: named months, the back-payment limit, months paid once, amounts and voluntary extras,
payments at the host branch counting for home, reported → confirmed / rejected, one activity per month,
probationary members, receipts."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal.toolkit import Conflict, Forbidden, Invalid, NotFound
from portal_dues import payments, profiles, receipts
from portal_dues.models import Payment, PaymentMonth

NOW = datetime(2026, 11, 10, 2, 0)  # 2026-11-10 in Shanghai
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _profile(db, org, member=None, **data):
    member = member or org.member2
    profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00", "valid_from": "2026-01", **data},
                         by=org.organizer, now=NOW)
    db.session.commit()
    return member


def _pay(org, member=None, months=("2026-10", "2026-11"), amount="80.00", channel="cash", by=None, **extra):
    return payments.record_payment(member or org.member2, {"months": list(months), "amount": amount,
                                                           "channel": channel, **extra},
                                   by=by or org.home_sec, now=NOW)


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _paid_activities(db, member):
    return list(db.session.scalars(select(tk.Activity).where(tk.Activity.verb == "dues.paid",
                                                             tk.Activity.actor_id == member.id)
                                   .order_by(tk.Activity.object_id)))


def test_cash_payment_counts_each_month_once_with_a_receipt(db, org):
    _profile(db, org)
    payment = _pay(org)
    db.session.commit()
    body = payments.payment_json(payment)
    assert (body["months"], body["amount"], body["extra_amount"], body["channel"], body["status"]) == \
        (["2026-10", "2026-11"], "80.00", "0.00", "cash", "confirmed")
    assert body["collecting_unit_id"] == org.home.id and body["receipt_code"]
    assert body["receipt_url"] == f"/dues/receipts/{payment.receipt_code}"
    activities = _paid_activities(db, org.member2)
    assert [a.extras["month"] for a in activities] == ["2026-10", "2026-11"]
    assert activities[0].extras["amount"] == "40.00" and activities[0].extras["payment_id"] == payment.id
    assert payments.paid_months(org.member2) == {date(2026, 10, 1), date(2026, 11, 1)}


@pytest.mark.parametrize("limit, oldest, ok", [(6, "2026-05", True), (6, "2026-04", False),
                                                (3, "2026-08", True), (3, "2026-07", False)])
def test_back_payment_limit(db, org, limit, oldest, ok):
    _profile(db, org)
    tk.set_setting("dues", "back_payment_months", limit)
    if ok:
        assert _pay(org, months=[oldest], amount="40.00").status == "confirmed"
        return
    with pytest.raises(Invalid) as refused:
        _pay(org, months=[oldest, "2026-11"], amount="80.00")
    assert f"At most {limit} months may be paid back at once" in str(refused.value.message)
    assert _count(db, Payment) == 0 and _count(db, PaymentMonth) == 0


def test_months_ahead_up_to_the_quarter(db, org):
    _profile(db, org)
    with pytest.raises(Invalid):
        _pay(org, months=["2027-01"], amount="40.00")
    assert _pay(org, months=["2026-12"], amount="40.00").status == "confirmed"
    tk.set_setting("dues", "quarterly_allowed", False)
    db.session.commit()
    _profile(db, org, member=org.member1)
    with pytest.raises(Invalid):
        _pay(org, member=org.member1, months=["2026-12"], amount="40.00")


def test_a_month_paid_twice_is_a_conflict_and_nothing_is_written(db, org):
    _profile(db, org)
    _pay(org)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        _pay(org, months=["2026-09", "2026-10"])
    assert "2026-10" in str(refused.value.message)
    db.session.rollback()
    assert _count(db, Payment) == 1 and _count(db, PaymentMonth) == 2
    assert len(_paid_activities(db, org.member2)) == 2


def test_amounts_too_small_refused_extra_flagged_from_the_setting(db, org):
    _profile(db, org)
    for amount in ("79.99", "1e3", "-80", "80.001", 80):
        with pytest.raises(Invalid) as refused:
            _pay(org, amount=amount)
        assert "amount" in refused.value.field_errors
    small = _pay(org, months=["2026-09"], amount="1039.99")
    assert (small.extra_amount, small.flagged_large) == (Decimal("999.99"), False)
    large = _pay(org, months=["2026-10"], amount="1040.00")
    assert (large.extra_amount, large.flagged_large) == (Decimal("1000.00"), True)


def test_months_not_owed_are_refused(db, org):
    _profile(db, org, valid_from="2026-10")
    with pytest.raises(Invalid) as refused:
        _pay(org, months=["2026-09", "2026-10"])
    assert "2026-09" in str(refused.value.field_errors["months"])
    with pytest.raises(Invalid):  # no profile at all: nothing is owed
        _pay(org, member=org.member1, months=["2026-10"], amount="40.00")
    for months in ([], ["2026-10", "2026-10"], ["2026/10"], "2026-10"):
        with pytest.raises(Invalid):
            _pay(org, months=months)


def test_probationary_members_owe_from_the_admission_month(db, org):
    org.member2.stage, org.member2.joined_on = "probationary", date(2026, 10, 15)
    _profile(db, org, valid_from="2026-06")
    with pytest.raises(Invalid):
        _pay(org, months=["2026-09"], amount="40.00")
    assert _pay(org, months=["2026-10"], amount="40.00").status == "confirmed"


def test_channels_and_who_records_them(db, org):
    _profile(db, org)
    _profile(db, org, member=org.member1)
    with pytest.raises(Invalid):
        _pay(org, channel="online")
    with pytest.raises(Invalid) as refused:
        _pay(org, channel="on_behalf")
    assert "payer_name" in refused.value.field_errors
    assert _pay(org, channel="on_behalf", payer_name="李芳's son", months=["2026-09"], amount="40.00").payer_name
    with pytest.raises(NotFound):
        _pay(org, by=org.foreign_sec)
    with pytest.raises(NotFound):  # the host branch records only at the host branch
        _pay(org, member=org.member1, by=org.host_sec)
    with pytest.raises(Forbidden):  # the home branch does not record payments made at the host branch
        _pay(org, member=org.member1, channel="host_branch", by=org.home_sec)
    with pytest.raises(NotFound):  # member2 is not hosted at the host branch
        _pay(org, channel="host_branch", by=org.host_sec)
    own = _profile(db, org, member=org.home_sec.member)
    with pytest.raises(Forbidden):
        _pay(org, member=own, by=org.home_sec)


def test_payment_at_the_host_branch_counts_for_home(db, org):
    _profile(db, org, member=org.member1)
    payment = _pay(org, member=org.member1, channel="host_branch", by=org.host_sec)
    db.session.commit()
    assert (payment.home_unit_id, payment.collecting_unit_id) == (org.home.id, org.host.id)
    activities = _paid_activities(db, org.member1)
    assert len(activities) == 2
    assert all(a.home_unit_id == org.home.id and a.extras["collecting_unit_id"] == org.host.id
               and a.extras["at_host"] is True for a in activities)


def _report(db, org, months=("2026-10",), amount="40.00"):
    payment = payments.report_payment(org.member2, {"months": list(months), "amount": amount},
                                      FileStorage(io.BytesIO(PNG), filename="transfer.png"), now=NOW)
    db.session.commit()
    return payment


def test_reported_then_confirmed_counts_once(db, org):
    _profile(db, org)
    payment = _report(db, org)
    assert (payment.status, payment.channel, payment.receipt_code) == ("reported", "transfer", None)
    assert payment.proof_stored_name and tk.read_upload("dues", payment.proof_stored_name) == PNG
    assert _paid_activities(db, org.member2) == []
    with pytest.raises(Conflict):  # its month is held while the secretary decides
        _pay(org, months=["2026-10"], amount="40.00")
    db.session.rollback()
    with pytest.raises(NotFound):
        payments.confirm_payment(payment, by=org.member2.account, now=NOW)
    payments.confirm_payment(payment, by=org.home_sec, now=NOW)
    db.session.commit()
    assert payment.status == "confirmed" and payment.receipt_code
    with pytest.raises(Conflict):
        payments.confirm_payment(payment, by=org.home_sec, now=NOW)
    assert [a.extras["month"] for a in _paid_activities(db, org.member2)] == ["2026-10"]


def test_reported_then_rejected_frees_the_months(db, org):
    _profile(db, org)
    payment = _report(db, org)
    with pytest.raises(Invalid):
        payments.reject_payment(payment, "  ", by=org.home_sec, now=NOW)
    with pytest.raises(NotFound):
        payments.reject_payment(payment, "No such transfer", by=org.foreign_sec, now=NOW)
    payments.reject_payment(payment, "No such transfer", by=org.home_sec, now=NOW)
    db.session.commit()
    assert (payment.status, payment.rejected_reason) == ("rejected", "No such transfer")
    assert _count(db, PaymentMonth) == 0 and payments.paid_months(org.member2) == set()
    assert _paid_activities(db, org.member2) == []
    with pytest.raises(Conflict):
        payments.confirm_payment(payment, by=org.home_sec, now=NOW)
    assert _pay(org, months=["2026-10"], amount="40.00").status == "confirmed"


def test_report_needs_a_receipt_file(db, org):
    _profile(db, org)
    with pytest.raises(Invalid) as refused:
        payments.report_payment(org.member2, {"months": ["2026-10"], "amount": "40.00"},
                                FileStorage(io.BytesIO(b"not an image"), filename="x.png"), now=NOW)
    assert "proof" in refused.value.field_errors
    assert _count(db, Payment) == 0


def test_receipt_verification(db, org, app):
    _profile(db, org)
    payment = _pay(org)
    db.session.commit()
    client = app.test_client()  # the public check needs no login
    response = client.get(f"/dues/receipts/{payment.receipt_code.lower()}")
    assert response.status_code == 200 and "李*" in response.get_data(as_text=True)
    assert "李芳" not in response.get_data(as_text=True)
    assert client.get("/dues/receipts/NOPE-NOPE-NOPE").status_code == 404
    with app.test_request_context():
        pdf = receipts.receipt_pdf(payment)
        assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")


def test_nobody_confirms_their_own_reported_payment(db, org):
    own = _profile(db, org, member=org.home_sec.member)
    payment = payments.report_payment(own, {"months": ["2026-10"], "amount": "40.00"},
                                      FileStorage(io.BytesIO(PNG), filename="transfer.png"), now=NOW)
    with pytest.raises(Forbidden):
        payments.confirm_payment(payment, by=org.home_sec, now=NOW)
    payments.confirm_payment(payment, by=org.organizer, now=NOW)
    assert payment.status == "confirmed" and payment.confirmed_by_account_id == org.organizer.id

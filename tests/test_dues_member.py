"""The member's dues pages: who sees what (GET matrix), the page in zh_CN, reporting a transfer with a
photo of the receipt (counted only once confirmed), refused files, reductions, receipts, the public check
and the dashboard panels.

Pages read the real clock, so months are placed around the current local month.
"""
from __future__ import annotations

import io
import os
from datetime import date

from PIL import Image
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_dues import money, payments, profiles, statement, widgets
from portal_dues.models import Payment, PaymentMonth, Reduction
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect, logged_in, public

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def png_bytes() -> bytes:
    """A real, small PNG (a photo of a receipt, as far as the checks can tell)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def months_ago(n: int) -> date:
    return money.add_months(money.current_month(), -n)


def key(n: int) -> str:
    return money.month_key(months_ago(n))


def set_dues(db, member, *, base: str = "4000.00", since: int = 3) -> None:
    """Salaried, 4000 yuan a month → 40.00 a month, owed from ``since`` months ago."""
    profiles.set_profile(member, {"category": "salaried", "monthly_base": base, "valid_from": key(since)}, by=None)
    db.session.commit()


def paid_activities(db, member) -> int:
    return db.session.scalar(select(func.count(tk.Activity.id)).where(tk.Activity.actor_id == member.id,
                                                                       tk.Activity.verb == "dues.paid"))


def _login(client, username: str) -> None:
    login(client, username)
    client.get("/")  # today's first request records the daily login, not the page under test


def _confirmed_payment(db, org, member):
    set_dues(db, member)
    payment = payments.record_payment(member, {"months": [key(1)], "amount": "40.00", "channel": "cash"},
                                      by=org.home_sec)
    db.session.commit()
    return payment


def test_permission_matrix(app, db, org):
    """Every logged-in account has the page; only members report or ask; a receipt is for the payer and
    the home branch's keepers of the book (others: 404); the public check needs no login."""
    payment = _confirmed_payment(db, org, org.member2)
    members_only = expect(200, anonymous=302, organizer=403, admin=403)
    checked = check_matrix(app, org, {
        "dues.mine": logged_in(),
        "dues.report": members_only,
        "dues.reduction": members_only,
        "dues.receipt": expect(404, anonymous=302, member2=200, home_sec=200, organizer=200, admin=200),
        "dues.verify": public(),
    }, blueprints={"dues"}, url_values={
        "dues.receipt": {"payment_id": payment.id}, "dues.verify": {"code": payment.receipt_code},
    })
    assert checked == 5 * 9


def test_my_dues_page_in_zh_cn(client, db, org):
    """The profile, the month grid in words, the countdown and the payment with its receipt link."""
    set_dues(db, org.member2)
    payments.record_payment(org.member2, {"months": [key(2)], "amount": "40.00", "channel": "cash"}, by=org.home_sec)
    db.session.commit()
    _login(client, "member2")
    page = client.get("/dues/", headers=ZH)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'lang="zh' in html
    assert "40.00" in html and key(2) in html and key(0) in html
    assert 'class="dues-paid"' in html and 'class="dues-unpaid"' in html  # words come with each state
    assert "/dues/payments/" in html and "receipt.pdf" in html
    grid = {state.key: state.status for state in statement.recent_months(org.member2)}
    assert grid[key(2)] == "paid" and grid[key(1)] == "unpaid" and grid[key(4)] == "no_profile"


def test_no_profile_yet_says_ask_the_branch(client, db, org):
    _login(client, "member2")
    html = client.get("/dues/").get_data(as_text=True)
    assert "No dues profile yet" in html and "Nothing to pay now." in html


def test_account_without_member_profile_sees_a_note(client, db, org):
    _login(client, "organizer")
    assert "no member profile" in client.get("/dues/").get_data(as_text=True)


def test_report_with_a_photo_is_held_until_confirmed(client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    form = client.get("/dues/report").get_data(as_text=True)
    assert f'value="{key(1)}"' in form and f'value="{key(0)}"' in form
    response = client.post("/dues/report", data={
        "months": [key(1), key(2)], "amount": "80.00", "paid_on": tk.local_today().isoformat(),
        "note": "ICBC transfer", "proof": (io.BytesIO(png_bytes()), "receipt.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    payment = db.session.scalar(select(Payment).where(Payment.member_id == org.member2.id))
    assert payment.status == "reported" and payment.channel == "transfer" and payment.proof_filename == "receipt.png"
    assert sorted(money.month_key(row.month) for row in payment.months) == [key(2), key(1)]
    assert paid_activities(db, org.member2) == 0  # nothing counted before the secretary confirms
    grid = {state.key: state.status for state in statement.recent_months(org.member2)}
    assert grid[key(1)] == grid[key(2)] == "reported"
    assert key(1) not in {state.key for state in statement.payable_months(org.member2)}
    payments.confirm_payment(payment, by=org.home_sec)
    db.session.commit()
    assert paid_activities(db, org.member2) == 2


def _nothing_written(db) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Payment.id))) == 0 and \
        db.session.scalar(select(func.count(PaymentMonth.id))) == 0


def test_a_bad_file_is_refused_with_the_reason_and_the_form_keeps_what_was_typed(app, client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    uploads = os.path.join(app.config["UPLOAD_DIR"], "dues")
    stored = set(os.listdir(uploads)) if os.path.isdir(uploads) else set()
    data = {"months": [key(1)], "amount": "40.00", "note": "Transfer from my phone"}
    fake = client.post("/dues/report", data={**data, "proof": (io.BytesIO(b"not an image at all"), "receipt.png")},
                       content_type="multipart/form-data", headers=ZH)
    html = fake.get_data(as_text=True)
    assert fake.status_code == 422
    assert "receipt.png 不是有效的 PNG 文件。" in html
    assert "Transfer from my phone" in html and 'value="40.00"' in html and f'value="{key(1)}" id="m-{key(1)}" checked' in html
    wrong = client.post("/dues/report", data={**data, "proof": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")},
                        content_type="multipart/form-data", headers=ZH)
    assert wrong.status_code == 422 and "setup.exe：不接受此文件类型" in wrong.get_data(as_text=True)
    missing = client.post("/dues/report", data=data, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert _nothing_written(db)
    assert (set(os.listdir(uploads)) if os.path.isdir(uploads) else set()) == stored  # no file left behind


def test_a_short_amount_is_refused_and_nothing_is_written(client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    response = client.post("/dues/report", data={"months": [key(1), key(2)], "amount": "40.00",
                                                  "proof": (io.BytesIO(png_bytes()), "receipt.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "80.00" in response.get_data(as_text=True)
    assert _nothing_written(db)


def test_reduction_request_and_its_state(client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    refused = client.post("/dues/reduction", data={"monthly_due": "10.00", "from_month": key(0), "reason": ""})
    assert refused.status_code == 422 and 'value="10.00"' in refused.get_data(as_text=True)
    response = client.post("/dues/reduction", data={"exempt": "1", "from_month": key(0), "to_month": key(-2),
                                                    "reason": "Lost my job in the factory"})
    assert response.status_code == 302
    reduction = db.session.scalar(select(Reduction).where(Reduction.member_id == org.member2.id))
    assert reduction.monthly_due == 0 and reduction.state == "requested" and reduction.to_month == months_ago(-2)
    html = client.get("/dues/reduction").get_data(as_text=True)
    assert "Lost my job in the factory" in html and "Requested" in html and "being decided" in html


def test_receipt_pdf_for_the_payer_and_the_public_check(client, db, org):
    payment = _confirmed_payment(db, org, org.member2)
    _login(client, "member2")
    pdf = client.get(f"/dues/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    client.post("/logout")
    check = client.get(f"/dues/receipts/{payment.receipt_code.lower()}")
    html = check.get_data(as_text=True)
    assert check.status_code == 200 and "李芳" not in html and "40.00" in html
    assert client.get("/dues/receipts/NOPE-NOPE-NOPE").status_code == 404


def test_a_reported_payment_has_no_receipt_yet(client, db, org):
    set_dues(db, org.member2)
    payment = payments.report_payment(org.member2, {"months": [key(1)], "amount": "40.00"},
                                      _file(png_bytes(), "r.png"))
    db.session.commit()
    _login(client, "member2")
    assert client.get(f"/dues/payments/{payment.id}/receipt.pdf").status_code == 404
    assert client.get(f"/dues/receipts/{payment.receipt_code}").status_code == 404


def _file(data: bytes, name: str):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name)


def test_member_widget(db, org):
    set_dues(db, org.member2)
    [widget] = widgets.member_widgets(org.member2.account)
    assert widget.context["month"].status == "unpaid" and widget.context["months_unpaid"] == 3
    assert widgets.member_widgets(org.organizer) == []


def test_unit_widget_counts_who_has_dues_set_and_who_paid_this_month(client, db, org):
    set_dues(db, org.member1, since=4)
    set_dues(db, org.member2, since=1)
    payments.record_payment(org.member2, {"months": [key(1), key(0)], "amount": "80.00", "channel": "cash"},
                            by=org.home_sec)
    db.session.commit()
    [widget] = widgets.unit_widgets(org.home_sec, org.home)
    assert (widget.context["paid"], widget.context["due"]) == (1, 2)
    assert widgets.unit_widgets(org.foreign_sec, org.home) == []
    assert widgets.unit_widgets(org.member2.account, org.home) == []
    _login(client, "home-secretary")
    page = client.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Dues this month" in page and "1 / 2" in page


def test_dashboard_shows_my_dues(client, db, org):
    set_dues(db, org.member2)
    _login(client, "member2")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "My dues" in page and "3 months in arrears" in page


def test_the_countdown_follows_the_settings_and_a_hosted_member_may_pay_at_the_host(client, db, org):
    set_dues(db, org.member1)
    tk.set_setting("dues", "arrears_talk_months", 2)
    db.session.commit()
    _login(client, "member1")
    html = client.get("/dues/").get_data(as_text=True)
    assert "After 2 months: Talk due" in html and "After 3 months" not in html
    assert "3 months unpaid in a row, since " + key(3) in html
    assert "Shenzhen Mobile Members Branch" in html
    assert "1%" in html  # the rate as members read it


def test_the_host_branch_sees_the_receipts_it_collected_only(client, db, org):
    set_dues(db, org.member1)
    at_host = payments.record_payment(org.member1, {"months": [key(1)], "amount": "40.00", "channel": "host_branch"},
                                      by=org.host_sec)
    at_home = payments.record_payment(org.member1, {"months": [key(2)], "amount": "40.00", "channel": "cash"},
                                      by=org.home_sec)
    db.session.commit()
    _login(client, "host-secretary")
    assert client.get(f"/dues/payments/{at_host.id}/receipt.pdf").status_code == 200
    assert client.get(f"/dues/payments/{at_home.id}/receipt.pdf").status_code == 404

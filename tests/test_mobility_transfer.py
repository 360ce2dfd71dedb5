"""Membership transfer (approval by both sides, letter of introduction), dashboards, personal data, demo."""
from __future__ import annotations

import io
import random

from pypdf import PdfReader
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_mobility import certificates, checkins, contacts, outflows, transfers
from portal.toolkit import ServiceError
from portal_mobility.models import Certificate, CheckIn, ContactLog, LostContactCase, Outflow, Transfer
from tests.conftest import login


def _away_and_hosted(org):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-01-01", "reason": "务工"})
    outflows.approve_outflow(outflow)
    org.member1.host_unit_id = None
    checkins.confirm_checkin(checkins.request_checkin(org.member1, org.host))
    tk.db.session.commit()
    return outflow


def test_transfer_needs_both_sides_and_keeps_history(app, db, org):
    outflow = _away_and_hosted(org)
    member, home, host, foreign = (app.test_client() for _ in range(4))
    for client, name in ((member, "member1"), (home, "home-secretary"), (host, "host-secretary"),
                         (foreign, "foreign-secretary")):
        login(client, name)
    # the member asks; a missing reason is refused and nothing is stored
    bad = member.post("/mobility/transfers/new", data={"to_unit_id": org.host.id, "reason": ""})
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count(Transfer.id))) == 0
    assert member.post("/mobility/transfers/new", data={"to_unit_id": org.host.id,
                                                        "reason": "已在深圳稳定工作两年"}).status_code == 302
    transfer = db.session.scalar(select(Transfer))
    assert transfer.from_unit_id == org.home.id and transfer.to_unit_id == org.host.id

    letter = member.get(f"/mobility/transfers/{transfer.id}/letter.pdf")
    text = PdfReader(io.BytesIO(letter.data)).pages[0].extract_text()
    assert "张伟" in text and org.host.name in text and transfer.number in text

    # each side approves only its own side; a foreign secretary sees nothing
    assert foreign.get(f"/mobility/transfers/{transfer.id}").status_code == 404
    assert host.post(f"/mobility/transfers/{transfer.id}/decide", data={"side": "from", "action": "approve"}).status_code == 404
    assert home.post(f"/mobility/transfers/{transfer.id}/decide", data={"side": "to", "action": "approve"}).status_code == 404
    assert home.post(f"/mobility/transfers/{transfer.id}/decide", data={"side": "from", "action": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(tk.Member, org.member1.id).home_unit_id == org.home.id  # not yet
    assert host.post(f"/mobility/transfers/{transfer.id}/decide", data={"side": "to", "action": "approve"}).status_code == 302
    db.session.expire_all()
    moved = db.session.get(tk.Member, org.member1.id)
    assert moved.home_unit_id == org.host.id and moved.host_unit_id is None and moved.is_away is False
    assert db.session.get(Outflow, outflow.id).status == "transferred"
    assert db.session.scalar(select(Certificate)).status == "closed"
    assert db.session.scalar(select(CheckIn).where(CheckIn.status == "confirmed")) is None
    assert db.session.get(Transfer, transfer.id).status == "approved"
    # the old home branch keeps the history; the new one now manages the member
    assert home.get(f"/mobility/transfers/{transfer.id}").status_code == 200
    assert host.get(f"/mobility/members/{org.member1.id}").status_code == 200
    assert home.get(f"/mobility/members/{org.member1.id}").status_code == 404
    assert "Approved by both branches" in PdfReader(io.BytesIO(
        home.get(f"/mobility/transfers/{transfer.id}/letter.pdf").data)).pages[0].extract_text()


def test_declined_transfer_changes_nothing(app, db, org):
    _away_and_hosted(org)
    transfer = transfers.request_transfer(org.member1, org.host, "定居")
    transfers.reject_transfer(transfer, "请先办理年度审核")
    db.session.commit()
    assert org.member1.home_unit_id == org.home.id and transfer.status == "rejected"
    try:
        transfers.approve_transfer(transfer, "to")
    except ServiceError as error:
        assert error.status == 409
    else:  # pragma: no cover
        raise AssertionError("a declined transfer was approved")


def test_dashboards_show_mobility(app, db, org):
    _away_and_hosted(org)
    member, home = app.test_client(), app.test_client()
    login(member, "member1")
    login(home, "home-secretary")
    assert "My mobility" in member.get("/dashboard").get_data(as_text=True)
    assert org.host.name in member.get("/dashboard").get_data(as_text=True)
    unit_page = home.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "outgoing members" in unit_page


def test_personal_data_lists_mobility_records(app, db, org):
    _away_and_hosted(org)
    contacts.log_contact(org.member1, "call", tk.local_today(), "问候")
    db.session.commit()
    client = app.test_client()
    login(client, "member1")
    data = client.get("/me/export.json").json["sections"]
    assert len(data["mobility.outflows"]) == 1 and data["mobility.contacts"][0]["note"] == "问候"
    assert len(data["mobility.certificates"]) == 1


def test_demo_data_is_idempotent(app, db):
    from portal.demo import build_demo

    build_demo(members=12, password="demo-pass-2026")
    counts = [db.session.scalar(select(func.count(m.id))) for m in (Outflow, Certificate, CheckIn, ContactLog,
                                                                    LostContactCase)]
    build_demo(members=12, password="demo-pass-2026")
    again = [db.session.scalar(select(func.count(m.id))) for m in (Outflow, Certificate, CheckIn, ContactLog,
                                                                   LostContactCase)]
    # two lost-contact cases: one in the home branch, one in a branch without a secretary account (issue 12)
    assert counts == again and counts[0] >= 2 and counts[4] == 2
    member1 = db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == "member1"))
    member2 = db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == "member2"))
    assert certificates.active_certificate(member1) is not None
    assert member1.host_unit is not None and "深圳" in member1.host_unit.name
    assert outflows.open_outflow(member2).status == "pending"
    assert db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.lost_contact.is_(True))) == 2
    random.seed()


def test_only_members_can_transfer(app, db, org):
    for stage in ("applicant", "activist", "candidate"):
        org.member2.stage = stage
        try:
            transfers.request_transfer(org.member2, org.host, "定居深圳")
        except ServiceError as error:
            assert error.status == 422 and "member_id" in error.field_errors
        else:  # pragma: no cover
            raise AssertionError(f"an {stage} was transferred")
    org.member2.stage = "applicant"
    db.session.commit()
    secretary = app.test_client()
    login(secretary, "home-secretary")
    response = secretary.post("/mobility/transfers/new", data={"member_id": org.member2.id, "to_unit_id": org.host.id,
                                                               "reason": "定居深圳"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Transfer.id))) == 0
    org.member2.stage = "probationary"
    assert transfers.request_transfer(org.member2, org.host, "定居深圳").status == "pending"


def _approved_transfer(org, now=None):
    transfer = transfers.request_transfer(org.member1, org.host, "已在深圳稳定工作两年。", now=now)
    for side in ("from", "to"):  # each branch decides in its own request
        transfers.approve_transfer(transfer, side, now=now)
        tk.db.session.commit()
    return transfer


def _letter_text(transfer) -> str:
    return PdfReader(io.BytesIO(transfers.letter_pdf(transfer))).pages[0].extract_text()


def test_letter_has_the_standard_fields_dues_validity_and_a_return_slip(app, db, org, tmp_path):
    from datetime import date, datetime

    from tests.test_documents import ink_share, render_pages

    org.member1.birth_date, org.member1.ethnicity, org.member1.gender = date(1990, 6, 1), "汉族", "male"
    tk.record_activity(org.member1, "dues.paid", "dues_payment", 1, at=datetime(2026, 4, 3, 2, 0),
                       extras={"period": "2026-05"})
    tk.set_setting("mobility", "transfer_letter_valid_days", 45)
    transfer = _approved_transfer(org, now=datetime(2026, 6, 10, 20, 0))  # 11 June in Asia/Shanghai
    with app.test_request_context():
        rendered = transfers.letter_layout(transfer)
        text = _letter_text(transfer)
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) == 1
    for fact in ("张伟", "male", "aged 36", "汉族", "full member", org.home.name, org.host.name, transfer.number,
                 "Dues paid up to: 2026-05.", "valid for 45 days, until July 26, 2026", "Return slip",
                 "has been received", "June 11, 2026"):
        assert fact in text, fact
    assert "。." not in text and ".." not in text and "。。" not in text and "\n。" not in text
    assert "已在深圳稳定工作两年" not in text  # the reason is the branches' business, not the letter's
    boxes = rendered.boxes
    assert all(box.within(rendered.page) for box in boxes.values())
    assert boxes["letter"].bottom <= boxes["cut"].y and boxes["cut"].bottom <= boxes["slip"].y
    [page] = render_pages(rendered.pdf, tmp_path, "letter")
    assert ink_share(page, boxes["slip"]) > 0.01 and ink_share(page, boxes["cut"]) > 0.05


def test_letter_without_dues_record_leaves_a_line_to_fill_in(app, db, org):
    transfer = _approved_transfer(org)
    with app.test_request_context():
        text = _letter_text(transfer)
    assert "Dues paid up to: ________-____." in text and "valid for 30 days" in text
    pending = transfers.request_transfer(org.member2, org.host, "定居")
    with app.test_request_context():
        assert "Waiting for approval" in _letter_text(pending)

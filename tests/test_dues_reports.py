"""The branch's dues books: the month's list, the quarter and its remittance, the year's disclosure, receipts."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_dues import branch_reports, payments, profiles, receipts
from portal_dues.models import Disclosure, Payment, PaymentMonth, Reduction, Remittance
from tests.conftest import login
from tests.helpers.query_counter import count_queries


def _utc(year, month, day, hour=10) -> datetime:
    """A local (Asia/Shanghai, UTC+8) wall-clock time as the naive UTC the database stores."""
    return datetime(year, month, day, hour) - timedelta(hours=8)


NOW = _utc(2026, 11, 15)
NOVEMBER = date(2026, 11, 1)


def _profile(member, org, base="4000.00", valid_from="2026-09"):
    profiles.set_profile(member, {"category": "salaried", "monthly_base": base, "valid_from": valid_from},
                         by=org.home_sec, now=_utc(2026, 9, 1))
    tk.db.session.commit()


def _pay(member, months, amount, by, channel="cash", now=NOW, **extra):
    payment = payments.record_payment(member, {"months": months, "amount": amount, "channel": channel, **extra},
                                      by=by, now=now)
    tk.db.session.commit()
    return payment


def _sheet(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


# -- the month's list ----------------------------------------------------------------------------------------------


@pytest.fixture
def month_book(org, factory):
    """member1 paid November at the host branch, member2 owes 240.00 and has not paid, a third has no profile,
    a fourth is exempt, a fifth reported a transfer; the outsider belongs to another branch."""
    _profile(org.member1, org)
    _profile(org.member2, org, base="12000.00")
    book = {"no_profile": factory.member(org.home, "noprofile", name="周无"),
            "exempt": factory.member(org.home, "exempt", name="吴免"),
            "reported": factory.member(org.home, "reported", name="郑报")}
    _profile(book["exempt"], org)
    _profile(book["reported"], org)
    tk.db.session.add(Reduction(member_id=book["exempt"].id, monthly_due=Decimal("0.00"), from_month=NOVEMBER,
                                reason="illness", state="approved"))
    tk.db.session.add(Payment(member_id=book["reported"].id, home_unit_id=org.home.id, collecting_unit_id=org.home.id,
                              amount=Decimal("40.00"), channel="transfer", status="reported", paid_on=date(2026, 11, 3),
                              months=[PaymentMonth(member_id=book["reported"].id, month=NOVEMBER,
                                                   amount_due=Decimal("40.00"))]))
    tk.db.session.commit()
    book["paid"] = _pay(org.member1, ["2026-11"], "40.00", org.host_sec, channel="host_branch")
    return book


def test_the_months_list_says_who_paid_and_sums_it(app, db, org, month_book):
    rows = branch_reports.monthly_list(org.home, NOVEMBER)
    by_name = {row["member"].name: row for row in rows}
    assert sorted(by_name) == sorted(["张伟", "李芳", "周无", "吴免", "郑报", "home-secretary"])
    assert [(by_name[n]["status"], by_name[n]["due"], by_name[n]["paid"]) for n in ("张伟", "李芳", "周无", "吴免", "郑报")] == [
        ("paid", Decimal("40.00"), Decimal("40.00")), ("unpaid", Decimal("240.00"), None), ("no_profile", None, None),
        ("not_due", Decimal("0.00"), None), ("reported", Decimal("40.00"), Decimal("40.00"))]
    paid = by_name["张伟"]
    assert (paid["channel"], paid["paid_on"], paid["category"]) == ("host_branch", date(2026, 11, 15), "salaried")
    totals = branch_reports.monthly_totals(rows)
    assert totals["due"] == Decimal("320.00") and totals["paid"] == Decimal("80.00")
    assert totals["status"] == {"paid": 1, "unpaid": 1, "no_profile": 2, "not_due": 1, "reported": 1}
    # October: before the profiles, nobody owed anything
    assert {row["status"] for row in branch_reports.monthly_list(org.home, date(2026, 8, 1))} == {"no_profile"}
    # the host branch's list holds its own members only, not those it hosts
    assert [row["member"].name for row in branch_reports.monthly_list(org.host, NOVEMBER)] == ["host-secretary"]


def test_the_whole_units_totals_follow_the_lists_rule_in_one_statement(app, db, org, factory, month_book):
    """``branch_totals`` (SQL, for the paged ledger) sums what ``monthly_totals`` sums over the whole list."""
    late = factory.member(org.home, "late", name="冯迟", joined_on=date(2026, 12, 3))  # owes from December on
    _profile(late, org)
    twice = factory.member(org.home, "twice", name="陈减", joined_on=date(2020, 1, 1))
    _profile(twice, org)
    for due in ("10.00", "20.00"):  # the latest approved reduction covering the month wins
        db.session.add(Reduction(member_id=twice.id, monthly_due=Decimal(due), from_month=date(2026, 10, 1),
                                 reason="income", state="approved"))
    db.session.add(Reduction(member_id=twice.id, monthly_due=Decimal("1.00"), from_month=NOVEMBER, reason="asked",
                             state="requested"))
    rejected = factory.member(org.home, "rejected", name="褚驳")
    _profile(rejected, org)
    db.session.add(Payment(member_id=rejected.id, home_unit_id=org.home.id, collecting_unit_id=org.home.id,
                           amount=Decimal("40.00"), channel="transfer", status="rejected", paid_on=date(2026, 11, 2),
                           months=[PaymentMonth(member_id=rejected.id, month=NOVEMBER, amount_due=Decimal("40.00"))]))
    db.session.commit()
    for month in (date(2026, 8, 1), date(2026, 10, 1), NOVEMBER, date(2026, 12, 1)):
        rows = branch_reports.monthly_list(org.home, month)
        with count_queries() as statements:
            totals = branch_reports.branch_totals(org.home, month)
        assert len(statements) == 1
        assert totals == {**branch_reports.monthly_totals(rows), "members": len(rows), "waiting": 0}, month
    november = branch_reports.branch_totals(org.home, NOVEMBER)
    assert november["due"] == Decimal("380.00")  # 320.00 as above + 20.00 (reduced) + 40.00 (rejected: still owed)
    assert november["status"]["not_due"] == 2  # the exempt member, and the one admitted in December
    waiting = select(Payment).where(Payment.status == "reported")
    assert branch_reports.branch_totals(org.home, NOVEMBER, waiting=waiting)["waiting"] == 1


def test_the_months_list_as_a_spreadsheet(app, db, org, month_book):
    with app.test_request_context():
        rows = _sheet(branch_reports.monthly_xlsx(org.home, NOVEMBER))
    assert rows[0][0] == "Dues for 2026-11" and rows[1][0] == org.home.name
    header = rows.index(("Member", "Home branch", "Category", "Due", "Paid", "Paid on", "Channel", "Status"))
    body = {row[0]: row for row in rows[header + 1:]}
    assert body["李芳"][3] == 240 and body["李芳"][7] == "Not paid"
    assert body["张伟"][4] == 40 and body["张伟"][6] == "Paid at the host branch"
    assert body["Total"][3:5] == (320, 80)


# -- the quarter and its remittance ---------------------------------------------------------------------------------


@pytest.fixture
def quarter_book(org):
    _profile(org.member1, org, valid_from="2026-10")
    _profile(org.member2, org, valid_from="2026-10")
    _pay(org.member2, ["2026-10"], "40.00", org.home_sec, now=_utc(2026, 10, 8))
    _pay(org.member2, ["2026-11"], "1040.00", org.home_sec, now=_utc(2026, 11, 9))  # 1000.00 extra: flagged
    _pay(org.member1, ["2026-10", "2026-11"], "85.50", org.host_sec, channel="host_branch", now=_utc(2026, 11, 10))


def test_the_quarter_shows_collection_at_home_and_at_the_host(app, db, org, quarter_book):
    summary = branch_reports.quarter_summary(org.home, "2026-Q4")
    assert [(m["month"], m["at_home"], m["at_host"], m["total"], m["payments"]) for m in summary["months"]] == [
        (date(2026, 10, 1), Decimal("40.00"), Decimal("0.00"), Decimal("40.00"), 1),
        (date(2026, 11, 1), Decimal("1040.00"), Decimal("85.50"), Decimal("1125.50"), 2),
        (date(2026, 12, 1), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), 0)]
    assert (summary["at_home"], summary["at_host"], summary["collected"], summary["payments"]) == (
        Decimal("1080.00"), Decimal("85.50"), Decimal("1165.50"), 3)
    assert (summary["extra"], summary["extra_payments"]) == (Decimal("1005.50"), 2)
    assert [p.amount for p in summary["large"]] == [Decimal("1040.00")]
    assert summary["remitted"] is False and summary["for_others"] == Decimal("0.00")
    # the host branch sees what it collected for another branch, not as its own
    host = branch_reports.quarter_summary(org.host, "2026-q4")
    assert (host["collected"], host["for_others"], host["payments_for_others"]) == (Decimal("0.00"), Decimal("85.50"), 1)
    # the county sees everything as collected in its subtree
    county = branch_reports.quarter_summary(org.root, "2026-Q4")
    assert (county["at_home"], county["at_host"], county["for_others"]) == (Decimal("1165.50"), Decimal("0.00"),
                                                                           Decimal("0.00"))
    assert branch_reports.quarter_summary(org.home, "2026-Q3")["collected"] == Decimal("0.00")
    for bad in ("2026-Q5", "2026-4", "", "Q4-2026"):
        with pytest.raises(tk.Invalid):
            branch_reports.quarter_summary(org.home, bad)


def test_a_quarter_is_remitted_once(app, db, org, quarter_book):
    data = {"period": "2026-Q4", "amount": "1080.00", "remitted_on": "2026-11-14", "note": "to the township"}
    for wrong, field in (({"amount": "0.00"}, "amount"), ({"amount": "12.345"}, "amount"),
                         ({"remitted_on": "2026-11-16"}, "remitted_on"), ({"remitted_on": "2026-09-30"}, "remitted_on"),
                         ({"period": "2026-Q9"}, "period")):
        with pytest.raises(tk.Invalid) as refused:
            branch_reports.record_remittance(org.home, {**data, **wrong}, by=org.home_sec, now=NOW)
        assert field in refused.value.field_errors
    remittance = branch_reports.record_remittance(org.home, data, by=org.home_sec, now=NOW)
    db.session.commit()
    assert (remittance.amount, remittance.remitted_on, remittance.recorded_by_account_id) == (
        Decimal("1080.00"), date(2026, 11, 14), org.home_sec.id)
    with pytest.raises(tk.Conflict):
        branch_reports.record_remittance(org.home, {**data, "amount": "5.00"}, by=org.home_sec, now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 1
    summary = branch_reports.quarter_summary(org.home, "2026-Q4")
    assert summary["remitted"] is True and summary["remittance"].amount == Decimal("1080.00")
    # another quarter, another unit: each once
    branch_reports.record_remittance(org.home, {**data, "period": "2026-Q3"}, by=org.home_sec, now=NOW)
    branch_reports.record_remittance(org.host, data, by=org.host_sec, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 3


def test_the_remittance_sheet(app, db, org, quarter_book):
    branch_reports.record_remittance(org.home, {"period": "2026-Q4", "amount": "1165.50", "remitted_on": "2026-11-14"},
                                     by=org.home_sec, now=NOW)
    db.session.commit()
    with app.test_request_context():
        rows = _sheet(branch_reports.remittance_xlsx(org.home, "2026-Q4"))
    assert rows[0][0] == "Dues remittance for 2026-Q4"
    body = {row[0]: row for row in rows if row and row[0]}
    assert body["2026-11"][1:5] == (1040, 85.5, 1125.5, 2)
    assert body["Total"][1:5] == (1080, 85.5, 1165.5, 3)
    assert body["Flagged large payment"][1:3] == ("李芳", 1040)
    assert body["Remitted"][1] == 1165.5


# -- the year's disclosure ---------------------------------------------------------------------------------------------


def test_the_disclosure_figures_and_publishing_once(app, db, org, quarter_book):
    branch_reports.record_remittance(org.home, {"period": "2026-Q3", "amount": "10.00", "remitted_on": "2026-10-02"},
                                     by=org.home_sec, now=NOW)
    figures = branch_reports.disclosure(org.home, 2026, NOW)
    # members: member1, member2 and the secretary (a member of the branch); dues: two members × Oct and Nov
    assert figures["members"] == 3
    assert figures["due"] == Decimal("160.00")
    assert figures["collected_dues"] == Decimal("160.00") and figures["rate"] == Decimal("1.0000")
    assert figures["collected"] == Decimal("1165.50")
    assert (figures["extra"], figures["extra_payments"], figures["large_payments"]) == (Decimal("1005.50"), 2, 1)
    assert figures["remitted"] == Decimal("10.00") and figures["published"] is None
    assert branch_reports.disclosure(org.foreign, 2026, NOW)["rate"] is None
    with pytest.raises(tk.Invalid):
        branch_reports.disclosure(org.home, 2027, NOW)
    with pytest.raises(tk.Invalid):
        branch_reports.publish_disclosure(org.home, 2026, "  ", by=org.home_sec, now=NOW)
    row = branch_reports.publish_disclosure(org.home, 2026, "Books for the study room: 300.00", by=org.home_sec, now=NOW)
    db.session.commit()
    assert row.figures["due"] == "160.00" and row.figures["rate"] == "1.0000" and row.figures["members"] == 3
    assert (row.published_at, row.published_by_account_id) == (NOW, org.home_sec.id)
    with pytest.raises(tk.Conflict):
        branch_reports.publish_disclosure(org.home, 2026, "again", by=org.home_sec, now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Disclosure)) == 1
    assert branch_reports.disclosure(org.home, 2026, NOW)["use_note"] == "Books for the study room: 300.00"
    with app.test_request_context():
        rows = _sheet(branch_reports.disclosure_xlsx(org.home, 2026, NOW))  # the months so far at NOW, as above
    body = {row[0]: row[1] for row in rows if row and row[0]}
    assert body["Dues owed"] == 160 and body["Rate of collection"] == "100.00%"
    assert body["How the dues were used"] == "Books for the study room: 300.00"


def test_a_partial_collection_rate(app, db, org):
    _profile(org.member2, org, valid_from="2026-09")  # Sep, Oct, Nov: 120.00 owed
    _pay(org.member2, ["2026-09"], "40.00", org.home_sec)
    figures = branch_reports.disclosure(org.home, 2026, NOW)
    assert (figures["due"], figures["collected_dues"], figures["rate"]) == (
        Decimal("120.00"), Decimal("40.00"), Decimal("0.3333"))


# -- receipts ------------------------------------------------------------------------------------------------------------


def test_the_receipt_pdf_carries_its_code(app, db, org, client):
    _profile(org.member1, org)
    payment = _pay(org.member1, ["2026-10", "2026-11"], "80.00", org.host_sec, channel="host_branch")
    assert payment.receipt_code
    with app.test_request_context():
        response = receipts.receipt_pdf(payment)
    assert response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)
    assert payment.receipt_code in text and "80.00" in text and "2026-10, 2026-11" in text
    reported = Payment(member_id=org.member2.id, home_unit_id=org.home.id, collecting_unit_id=org.home.id,
                       amount=Decimal("40.00"), channel="transfer", status="reported", paid_on=date(2026, 11, 3))
    db.session.add(reported)
    db.session.commit()
    with app.test_request_context(), pytest.raises(tk.NotFound):
        receipts.receipt_pdf(reported)


def test_the_public_receipt_check(app, db, org, client):
    _profile(org.member2, org)
    payment = _pay(org.member2, ["2026-11"], "40.00", org.home_sec)
    code = payment.receipt_code
    page = client.get(f"/dues/receipts/{code.lower()}")  # no login; typed in lower case
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "李*" in html and "李芳" not in html
    assert "40.00" in html and "2026-11" in html and org.home.name in html and "genuine" in html
    assert client.get("/dues/receipts/ABCD-EFGH-JKLM").status_code == 404
    payment = db.session.get(Payment, payment.id)
    payment.status = "rejected"  # a payment taken back: its receipt no longer stands
    db.session.commit()
    html = client.get(f"/dues/receipts/{code}").get_data(as_text=True)
    assert "no longer valid" in html and "genuine" not in html


def test_the_receipt_is_downloaded_by_the_payer(app, db, org, client):
    _profile(org.member2, org)
    payment = _pay(org.member2, ["2026-11"], "40.00", org.home_sec)
    login(client, "member2")
    response = client.get(f"/dues/payments/{payment.id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"

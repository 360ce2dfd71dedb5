"""What dues hold about a member: their profile history, payments with months and reductions (and nobody else's),
and the member summary's months paid, money paid and months in arrears."""
from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_dues import money, payments, personal, profiles
from tests.conftest import login

SALARIED = {"category": "salaried", "monthly_base": "4400.00", "insurance_deduction": "400.00"}  # 4000 → 40.00


def _png() -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(buffer, format="PNG")
    buffer.seek(0)
    return FileStorage(buffer, "receipt.png", content_type="image/png")


def _at(month: date, day: int = 15):
    return tk.local_day_bounds(month.replace(day=day))[0] + timedelta(hours=10)


def _setup(db, org):
    """member1 (three months ago 40.00, re-based last month to 50.00): a month paid at home, one at the host branch,
    last month unpaid, this month reported, a reduction asked for; member2: a month paid with a note of their own."""
    current = money.current_month()
    first, second, last = (money.add_months(current, n) for n in (-3, -2, -1))
    profiles.set_profile(org.member1, {**SALARIED, "valid_from": money.month_key(first)}, by=org.home_sec,
                         now=_at(first, 1))
    profiles.set_profile(org.member1, {**SALARIED, "monthly_base": "5400.00", "valid_from": money.month_key(last),
                                       "note": "涨工资"}, by=org.home_sec, now=_at(last, 1))
    payments.record_payment(org.member1, {"months": [money.month_key(first)], "amount": "40.00", "channel": "cash",
                                          "paid_on": _at(first).date().isoformat()}, by=org.home_sec, now=_at(first))
    payments.record_payment(org.member1, {"months": [money.month_key(second)], "amount": "40.00",
                                          "channel": "host_branch", "paid_on": _at(second).date().isoformat()},
                            by=org.host_sec, now=_at(second))
    payments.report_payment(org.member1, {"months": [money.month_key(current)], "amount": "50.00"}, _png(),
                            now=tk.utcnow())
    profiles.request_reduction(org.member1, {"monthly_due": "20.00", "from_month": money.month_key(current),
                                             "reason": "孩子上大学，家里困难"})
    profiles.set_profile(org.member2, {**SALARIED, "valid_from": money.month_key(first)}, by=org.home_sec,
                         now=_at(first, 1))
    payments.record_payment(org.member2, {"months": [money.month_key(first)], "amount": "40.00", "channel": "cash",
                                          "note": "李芳自己的备注"}, by=org.home_sec, now=_at(first))
    db.session.commit()
    return current, first, second, last


def _section(sections, key):
    return next(section for section in sections if section.key == key)


def test_personal_data_holds_the_members_rows_and_nobody_elses(db, org):
    current, first, second, last = _setup(db, org)
    sections = personal.personal_data(org.member1)
    history = _section(sections, "profiles").rows
    assert [(r["valid_from"], r["monthly_due"], r["rate"]) for r in history] == [
        (first, "40.00", "1%"), (last, "50.00", "1%")]
    assert history[0]["monthly_base"] == "4400.00" and history[0]["insurance_deduction"] == "400.00"
    rows = _section(sections, "payments").rows
    assert [(r["months"], r["status"], r["channel"]) for r in rows] == [
        ({money.month_key(current): "50.00"}, "reported", "transfer"),
        ({money.month_key(second): "40.00"}, "confirmed", "host_branch"),
        ({money.month_key(first): "40.00"}, "confirmed", "cash")]
    assert rows[1]["collected_by"] == org.host.name and rows[2]["collected_by"] == org.home.name
    assert rows[0]["receipt_code"] is None and rows[1]["receipt_code"]  # a receipt only once confirmed
    assert rows[0]["proof"] == "receipt.png"
    reductions = _section(sections, "reductions").rows
    assert [(r["monthly_due"], r["state"], r["from_month"]) for r in reductions] == [("20.00", "requested", current)]
    assert "李芳自己的备注" not in str(sections)  # member2's payment is not member1's data
    other = personal.personal_data(org.member2)
    assert [r["note"] for r in _section(other, "payments").rows] == ["李芳自己的备注"]
    assert _section(other, "reductions").rows == [] and len(_section(other, "profiles").rows) == 1
    assert all(section.rows == [] for section in personal.personal_data(org.outsider))


def test_personal_data_shows_on_my_data_page_and_in_the_export(db, org, client):
    _setup(db, org)
    login(client, "member1")
    page = client.get("/me").get_data(as_text=True)
    assert "孩子上大学，家里困难" in page and org.host.name in page and "李芳自己的备注" not in page
    export = client.get("/me/export.json").get_json()
    paid = export["sections"]["dues.payments"]
    assert [r["amount"] for r in paid] == ["50.00", "40.00", "40.00"]  # money as text, never a float
    assert export["schema"]["dues.payments"]["fields"]["months"]["type"] == "lines"
    assert len(export["sections"]["dues.profiles"]) == 2 and len(export["sections"]["dues.reductions"]) == 1


def test_member_summary_counts_months_paid_money_and_arrears(db, org):
    current, first, second, last = _setup(db, org)
    period = (tk.local_day_bounds(first)[0], tk.local_day_bounds(last)[0])
    assert [(str(k), v) for k, v in personal.member_summary(org.member1, *period)] == [
        ("Dues months paid", 2), ("Dues paid (yuan)", "80.00"), ("Dues months in arrears now", 1)]
    # the reported month does not count until confirmed; open ends: everything confirmed
    assert [v for _k, v in personal.member_summary(org.member1, None, None)] == [2, "80.00", 1]
    # a period that starts in the middle of a month leaves that month out
    mid = tk.local_day_bounds(first.replace(day=2))[0]
    assert personal.member_summary(org.member1, mid, None)[0][1] == 1
    assert [v for _k, v in personal.member_summary(org.member2, *period)] == [1, "40.00", 2]
    assert [v for _k, v in personal.member_summary(org.outsider, None, None)] == [0, "0.00", 0]

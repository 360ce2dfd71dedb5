"""The secretaries' dues pages (blueprint ``dues_manage``): who may open them, the month's list, a member's book
(profile with per-field messages, recording a payment and its activities), the queue of reported payments,
arrears, reductions, payments at the host branch and the downloads."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_dues import money, payments, profiles
from portal_dues.models import DuesProfile, Payment, PaymentMonth, Reduction
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(n: int = 0) -> str:
    """``"2026-11"`` for the month ``n`` months from this one."""
    return money.month_key(money.add_months(money.current_month(), n))


def _profile(db, member, base: str = "4000.00", since: int = -6) -> DuesProfile:
    """A salaried profile (40.00 a month on 4000.00) valid from ``since`` months ago."""
    profile = profiles.set_profile(member, {"category": "salaried", "monthly_base": base, "valid_from": _month(since)},
                                   by=None)
    db.session.commit()
    return profile


def _paid(db, member, months: list[str], channel: str = "cash") -> Payment:
    data = {"months": months, "amount": f"{40 * len(months)}.00", "channel": channel}
    payment = payments.record_payment(member, data, by=None)
    db.session.commit()
    return payment


def _reported(db, member, months: list[str]) -> Payment:
    proof = FileStorage(io.BytesIO(PNG), filename="transfer.png", content_type="image/png")
    payment = payments.report_payment(member, {"months": months, "amount": f"{40 * len(months)}.00"}, proof)
    db.session.commit()
    return payment


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _month_rows(db, member) -> set[str]:
    return {money.month_key(m) for m in db.session.scalars(select(PaymentMonth.month)
                                                            .where(PaymentMonth.member_id == member.id))}


def test_get_permission_matrix(app, db, org):
    _profile(db, org.member1)
    _profile(db, org.member2)
    at_host = _paid(db, org.member1, [_month(-2)], channel="host_branch")
    reported = _reported(db, org.member2, [_month(-1)])
    # the home branch's books: members hold the permission nowhere (403); other secretaries 404
    home_unit = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200, organizer=200,
                       admin=200)
    # a member of the home branch: its secretary and those above; everyone else 404
    home_member = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
    unit = {"unit": org.home.id}
    checked = check_matrix(app, org, {
        "dues_manage.index": home_unit,
        "dues_manage.reported": home_unit,
        "dues_manage.arrears_page": home_unit,
        "dues_manage.quarter": home_unit,
        "dues_manage.year": home_unit,
        "dues_manage.reductions": home_unit,
        "dues_manage.monthly_xlsx": home_unit,
        "dues_manage.remittance_xlsx": home_unit,
        "dues_manage.disclosure_xlsx": home_unit,
        "dues_manage.member": home_member,
        "dues_manage.proof": home_member,
        # the receipt: the home branch and the host branch that collected the money
        "dues_manage.receipt": expect(404, anonymous=302, home_sec=200, host_sec=200, organizer=200, admin=200),
        # members hosted at the host branch: its secretary and those above it
        "dues_manage.hosted": expect(404, anonymous=302, member1=403, member2=403, outsider=403, host_sec=200,
                                     organizer=200, admin=200),
    }, blueprints={"dues_manage"}, url_values={
        "dues_manage.index": unit, "dues_manage.reported": unit, "dues_manage.arrears_page": unit,
        "dues_manage.quarter": {**unit, "period": "2026-Q4"}, "dues_manage.year": {**unit, "year": 2026},
        "dues_manage.reductions": unit, "dues_manage.monthly_xlsx": {**unit, "month": _month()},
        "dues_manage.remittance_xlsx": {**unit, "period": "2026-Q4"},
        "dues_manage.disclosure_xlsx": {**unit, "year": 2026},
        "dues_manage.member": {"member_id": org.member2.id}, "dues_manage.proof": {"payment_id": reported.id},
        "dues_manage.receipt": {"payment_id": at_host.id}, "dues_manage.hosted": {"unit": org.host.id},
    })
    assert checked == 13 * 9


def test_index_shows_who_paid_who_not_and_who_has_no_profile(app, db, org):
    _profile(db, org.member2)
    _paid(db, org.member2, [_month()])
    client = _client(app, "home-secretary")
    page = client.get("/dues/manage/").get_data(as_text=True)
    assert "East Ridge Village Branch" in page
    rows = dict(re.findall(r'id="member-(\d+)">(.*?)</li>', page, re.S))
    assert "dues-paid" in rows[str(org.member2.id)] and "paid 40.00" in rows[str(org.member2.id)]
    assert "dues-no_profile" in rows[str(org.member1.id)]  # no profile: to fix
    assert 'data-total="due">40.00<' in page and 'data-count="no_profile">2<' in page  # member1 and the secretary
    assert "王强" not in page  # another branch's member
    assert client.get(f"/dues/manage/?unit={org.home.id}&month=2026-13").status_code == 422
    assert client.get(f"/dues/manage/?unit={org.foreign.id}").status_code == 404


def test_the_ledger_is_paged_and_searchable_with_the_whole_units_totals(app, db, org, factory, monkeypatch):
    """A county branch has a thousand members: the page shows one page of rows, the totals count everyone."""
    _profile(db, org.member2)
    _paid(db, org.member2, [_month()])
    extra = [factory.member(org.home, f"ledger{i}", name=f"账员{i:02d}") for i in range(7)]
    for member in extra:
        _profile(db, member)
    _reported(db, extra[0], [_month()])
    monkeypatch.setitem(app.config, "PER_PAGE", 4)  # the app outlives the test
    client = _client(app, "home-secretary")
    first = client.get(f"/dues/manage/?unit={org.home.id}").get_data(as_text=True)
    second = client.get(f"/dues/manage/?unit={org.home.id}&page=2").get_data(as_text=True)
    rows = [re.findall(r'id="member-(\d+)"', page) for page in (first, second)]
    assert len(rows[0]) == 4 and len(rows[1]) == 4 and not set(rows[0]) & set(rows[1])  # 10 members: 4 + 4 + 2
    for page in (first, second):  # the whole branch's figures on every page: 8 profiles at 40.00, 1 paid, 1 reported
        assert 'data-total="due">320.00<' in page and 'data-total="paid">80.00<' in page
        assert 'data-count="unpaid">6<' in page and 'data-count="no_profile">2<' in page
        assert "1 reported payment to confirm" in page
    assert 'rel="next"' in first and "page=2" in first
    found = client.get(f"/dues/manage/?unit={org.home.id}&q=账员03").get_data(as_text=True)
    assert re.findall(r'id="member-(\d+)"', found) == [str(extra[3].id)]
    assert 'data-count="unpaid">6<' in found  # the totals stay the unit's
    several = client.get(f"/dues/manage/?unit={org.home.id}&q=账员").get_data(as_text=True)
    assert len(re.findall(r'id="member-(\d+)"', several)) == 4 and "q=%E8%B4%A6%E5%91%98" in several  # 7: two pages
    assert "No member" in client.get(f"/dues/manage/?unit={org.home.id}&q=nobody").get_data(as_text=True)
    sheet = client.get(f"/dues/manage/monthly.xlsx?unit={org.home.id}&month={_month()}")
    assert sheet.status_code == 200
    names = {row[0] for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True)}
    assert {m.name for m in extra} | {"张伟", "李芳"} <= names  # the download stays whole


def _totals(page: str) -> tuple[dict[str, str], dict[str, int], int]:
    """The ledger's unit totals: ``({due, paid}, {status: members}, reported payments waiting)``."""
    money_ = dict(re.findall(r'data-total="(\w+)">([\d.]+)<', page))
    counts = {status: int(n) for status, n in re.findall(r'data-count="(\w+)">(\d+)<', page)}
    waiting = re.search(r"(\d+) reported payments? to confirm", page)
    return money_, counts, int(waiting.group(1)) if waiting else 0


def test_the_ledgers_kept_totals_change_at_once_with_a_payment_a_confirmation_and_a_profile(app, db, org):
    """The unit's totals are kept by the composition cache (issue 20): every write they show is seen at once."""
    from portal import cache

    _profile(db, org.member1)
    _profile(db, org.member2)
    client = _client(app, "home-secretary")
    url = f"/dues/manage/?unit={org.home.id}"

    def warm() -> tuple[dict[str, str], dict[str, int], int]:
        client.get(url)
        hits = cache.stats(app).hits
        page = client.get(url).get_data(as_text=True)
        assert cache.stats(app).hits > hits, "the ledger's totals were not kept"
        return _totals(page)

    # member1 and member2 owe 40.00 this month; the secretary has no profile
    assert warm() == ({"due": "80.00", "paid": "0.00"}, {"unpaid": 2, "no_profile": 1}, 0)
    recorded = client.post(f"/dues/manage/member/{org.member2.id}/payments", data={
        "months": [_month()], "amount": "40.00", "channel": "cash", "paid_on": tk.local_today().isoformat()})
    assert recorded.status_code == 302
    assert warm() == ({"due": "80.00", "paid": "40.00"}, {"paid": 1, "unpaid": 1, "no_profile": 1}, 0)

    reported = _reported(db, org.member1, [_month()])  # the member reports a transfer: waiting for the secretary
    assert warm() == ({"due": "80.00", "paid": "80.00"}, {"paid": 1, "reported": 1, "no_profile": 1}, 1)
    assert client.post(f"/dues/manage/payments/{reported.id}/confirm").status_code == 302
    assert warm() == ({"due": "80.00", "paid": "80.00"}, {"paid": 2, "no_profile": 1}, 0)

    rebased = client.post(f"/dues/manage/member/{org.member2.id}/profile", data={
        "category": "salaried", "monthly_base": "6000.00", "insurance_deduction": "0.00"})
    assert rebased.status_code == 302  # from this month: 6000.00 × 1.5 % = 90.00
    assert warm() == ({"due": "130.00", "paid": "80.00"}, {"paid": 2, "no_profile": 1}, 0)


def test_setting_a_profile_shows_the_computed_rate_and_amount(app, db, org):
    client = _client(app, "home-secretary")
    response = client.post(f"/dues/manage/member/{org.member2.id}/profile",
                           data={"category": "salaried", "monthly_base": "5500.00", "insurance_deduction": "500.00"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "50.00" in page and 'data-field="rate">0.01<' in page  # (5500 − 500) × 1 %
    profile = db.session.scalar(select(DuesProfile).where(DuesProfile.member_id == org.member2.id))
    assert (profile.monthly_due, profile.valid_from) == (money.parse_amount("50.00"), money.current_month())


def test_bad_profile_fields_answer_422_under_each_field_and_write_nothing(app, db, org):
    client = _client(app, "home-secretary")
    response = client.post(f"/dues/manage/member/{org.member2.id}/profile",
                           data={"category": "salaried", "monthly_base": "1e3", "valid_from": "November"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="monthly_base-err"' in page
    assert 'value="1e3"' in page  # what was typed is kept
    assert tk.count(select(DuesProfile)) == 0


def test_form_errors_read_in_chinese(app, db, org):
    """The per-field messages come from the plugin's catalog (passes once the zh_CN catalog is translated)."""
    _profile(db, org.member2)
    client = _client(app, "home-secretary")
    client.post("/locale", data={"locale": "zh_CN"})
    response = client.post(f"/dues/manage/member/{org.member2.id}/payments",
                           data={"months": [_month()], "amount": "-5", "channel": "cash"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-err">([^<]+)</p>', page))
    assert "amount" in errors
    assert all(CJK.search(message) for message in errors.values()), errors
    assert tk.count(select(Payment)) == 0


def test_recording_a_payment_records_the_months_and_the_activities(app, db, org):
    _profile(db, org.member2)
    client = _client(app, "home-secretary")
    page = client.get(f"/dues/manage/member/{org.member2.id}").get_data(as_text=True)
    assert f'value="{_month()}"' in page and 'value="280.00"' in page  # 7 unpaid months ticked, their sum
    response = client.post(f"/dues/manage/member/{org.member2.id}/payments",
                           data={"months": [_month(-1), _month()], "amount": "80.00", "channel": "on_behalf",
                                 "payer_name": "李明", "paid_on": tk.local_today().isoformat()})
    assert response.status_code == 302
    assert _month_rows(db, org.member2) == {_month(-1), _month()}
    payment = db.session.scalar(select(Payment))
    assert (payment.channel, payment.payer_name, payment.collecting_unit_id) == ("on_behalf", "李明", org.home.id)
    keys = set(db.session.scalars(select(tk.Activity.object_id).where(tk.Activity.verb == "dues.paid")))
    assert keys == {f"{org.member2.id}:{_month(-1)}", f"{org.member2.id}:{_month()}"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-month="{_month()}" data-status="paid"' in page


def test_refused_payments_answer_422_or_409_and_write_nothing(app, db, org):
    _profile(db, org.member2, since=-12)
    _paid(db, org.member2, [_month()])
    client = _client(app, "home-secretary")
    url = f"/dues/manage/member/{org.member2.id}/payments"
    too_far = client.post(url, data={"months": [_month(-8)], "amount": "40.00", "channel": "cash"})
    assert too_far.status_code == 422 and 'id="months-err"' in too_far.get_data(as_text=True)
    short = client.post(url, data={"months": [_month(-1), _month(-2)], "amount": "40.00", "channel": "cash"})
    assert short.status_code == 422 and 'id="amount-err"' in short.get_data(as_text=True)
    no_payer = client.post(url, data={"months": [_month(-1)], "amount": "40.00", "channel": "on_behalf"})
    assert no_payer.status_code == 422 and 'id="payer_name-err"' in no_payer.get_data(as_text=True)
    twice = client.post(url, data={"months": [_month()], "amount": "40.00", "channel": "cash"})
    assert twice.status_code == 409
    assert tk.count(select(Payment)) == 1 and _month_rows(db, org.member2) == {_month()}


def test_a_foreign_secretary_gets_404_on_every_page_of_the_member(app, db, org):
    _profile(db, org.member2)
    payment = _paid(db, org.member2, [_month()])
    client = _client(app, "foreign-secretary")
    for url in (f"/dues/manage/member/{org.member2.id}", f"/dues/manage/payments/{payment.id}/receipt.pdf",
                f"/dues/manage/?unit={org.home.id}", f"/dues/manage/arrears?unit={org.home.id}"):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/dues/manage/member/{org.member2.id}/payments",
                           data={"months": [_month(-1)], "amount": "40.00", "channel": "cash"})
    assert response.status_code == 404 and tk.count(select(Payment)) == 1


def test_confirming_and_rejecting_reported_payments(app, db, org):
    _profile(db, org.member1)
    _profile(db, org.member2)
    first = _reported(db, org.member2, [_month()])
    second = _reported(db, org.member1, [_month()])
    client = _client(app, "home-secretary")
    page = client.get("/dues/manage/reported").get_data(as_text=True)
    assert f'id="payment-{first.id}"' in page and f'id="payment-{second.id}"' in page
    proof = client.get(f"/dues/manage/payments/{first.id}/proof")
    assert proof.status_code == 200 and proof.mimetype == "image/png"
    assert client.post(f"/dues/manage/payments/{first.id}/confirm").status_code == 302
    empty = client.post(f"/dues/manage/payments/{second.id}/reject", data={"reason": ""})
    assert empty.status_code == 422 and 'id="reason-err"' in empty.get_data(as_text=True)
    assert client.post(f"/dues/manage/payments/{second.id}/reject",
                       data={"reason": "No such transfer on the account"}).status_code == 302
    db.session.expire_all()
    assert (first.status, second.status) == ("confirmed", "rejected")
    assert _month_rows(db, org.member1) == set()  # rejected: the month is free again
    assert tk.count(select(tk.Activity).where(tk.Activity.verb == "dues.paid")) == 1


def test_arrears_lists_members_longest_run_first_with_the_step(app, db, org):
    _profile(db, org.member1, since=-4)
    _profile(db, org.member2, since=-2)
    page = _client(app, "home-secretary").get("/dues/manage/arrears").get_data(as_text=True)
    assert page.index(f'id="member-{org.member1.id}"') < page.index(f'id="member-{org.member2.id}"')
    assert 'data-months="4"' in page and 'data-months="2"' in page
    assert "Talk due" in page  # 4 months: past the talk step


def test_reductions_go_through_the_branch_then_the_upper_committee(app, db, org):
    reduction = profiles.request_reduction(org.member2, {"monthly_due": "0.20", "reason": "Long illness"})
    db.session.commit()
    home = _client(app, "home-secretary")
    page = home.get("/dues/manage/reductions").get_data(as_text=True)
    assert "Long illness" in page and f"/reductions/{reduction.id}/upper" not in page
    # the branch may not approve as the upper committee
    assert home.post(f"/dues/manage/reductions/{reduction.id}/upper", data={"decision": "agree"}).status_code == 404
    assert home.post(f"/dues/manage/reductions/{reduction.id}/branch",
                     data={"decision": "agree", "note": "Confirmed by a visit"}).status_code == 302
    upper = _client(app, "organizer")
    page = upper.get(f"/dues/manage/reductions?unit={org.root.id}").get_data(as_text=True)
    assert f'action="/dues/manage/reductions/{reduction.id}/upper' in page
    assert upper.post(f"/dues/manage/reductions/{reduction.id}/upper", data={"decision": "agree"}).status_code == 302
    db.session.expire_all()
    assert (reduction.state, reduction.branch_note) == ("approved", "Confirmed by a visit")


def test_the_host_branch_records_a_hosted_members_payment(app, db, org):
    _profile(db, org.member1)
    client = _client(app, "host-secretary")
    page = client.get("/dues/manage/hosted").get_data(as_text=True)
    assert f'id="member-{org.member1.id}"' in page and "李芳" not in page  # only members hosted here
    prefix = f"m{org.member1.id}-"
    bad = client.post(f"/dues/manage/hosted/{org.member1.id}/payments",
                      data={f"{prefix}months": [_month()], f"{prefix}amount": "4"})
    assert bad.status_code == 422 and f'id="{prefix}amount-err"' in bad.get_data(as_text=True)
    response = client.post(f"/dues/manage/hosted/{org.member1.id}/payments",
                           data={f"{prefix}months": [_month()], f"{prefix}amount": "40.00"})
    assert response.status_code == 302
    payment = db.session.scalar(select(Payment))
    assert (payment.channel, payment.collecting_unit_id, payment.home_unit_id) == ("host_branch", org.host.id,
                                                                                  org.home.id)
    # the home branch's secretary cannot use the host page for their own member
    home = _client(app, "home-secretary")
    assert home.post(f"/dues/manage/hosted/{org.member1.id}/payments",
                     data={f"{prefix}months": [_month(-1)], f"{prefix}amount": "40.00"}).status_code == 404


def test_downloads_answer_the_right_types(app, db, org):
    _profile(db, org.member2)
    payment = _paid(db, org.member2, [_month()])
    client = _client(app, "home-secretary")
    today = tk.local_today()
    for url in (f"/dues/manage/monthly.xlsx?unit={org.home.id}&month={_month()}",
                f"/dues/manage/remittance.xlsx?unit={org.home.id}&period={today.year}-Q{(today.month - 1) // 3 + 1}",
                f"/dues/manage/disclosure.xlsx?unit={org.home.id}&year={today.year}"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == XLSX, url
    pdf = client.get(f"/dues/manage/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_reductions_queue_shows_nothing_outside_scope(app, db, org):
    profiles.request_reduction(org.outsider, {"monthly_due": "0.20", "reason": "Moved away"})
    db.session.commit()
    page = _client(app, "home-secretary").get("/dues/manage/reductions").get_data(as_text=True)
    assert "Moved away" not in page
    assert tk.count(select(Reduction)) == 1


def test_quarter_remittance_and_year_disclosure(app, db, org):
    _profile(db, org.member2)
    _paid(db, org.member2, [_month()])
    client = _client(app, "home-secretary")
    today = tk.local_today()
    period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    page = client.get(f"/dues/manage/quarter?unit={org.home.id}&period={period}").get_data(as_text=True)
    assert 'data-total="collected">40.00<' in page and 'value="40.00"' in page  # the amount to remit, prefilled
    bad = client.get(f"/dues/manage/quarter?unit={org.home.id}&period=2026-Q5")
    assert bad.status_code == 422 and 'id="period-err"' in bad.get_data(as_text=True)
    url = f"/dues/manage/quarter?unit={org.home.id}&period={period}"
    refused = client.post(url, data={"amount": "-1", "remitted_on": today.isoformat()})
    assert refused.status_code == 422 and 'id="amount-err"' in refused.get_data(as_text=True)
    assert client.post(url, data={"amount": "40.00", "remitted_on": today.isoformat()}).status_code == 302
    assert 'data-remitted="1"' in client.get(url).get_data(as_text=True)
    year_url = f"/dues/manage/year?unit={org.home.id}&year={today.year}"
    assert 'data-total="collected_dues">40.00<' in client.get(year_url).get_data(as_text=True)
    empty = client.post(year_url, data={"use_note": ""})
    assert empty.status_code == 422 and 'id="use_note-err"' in empty.get_data(as_text=True)
    assert client.post(year_url, data={"use_note": "Books for the reading room"}).status_code == 302
    page = client.get(year_url).get_data(as_text=True)
    assert 'data-published="1"' in page and "Books for the reading room" in page
    future = client.get(f"/dues/manage/year?unit={org.home.id}&year={today.year + 1}")
    assert future.status_code == 422 and 'id="year-err"' in future.get_data(as_text=True)

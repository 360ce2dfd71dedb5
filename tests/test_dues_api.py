"""The dues API (/api/v1/dues): the contract external checks call (profiles, payments, arrears, the
member's statement, reductions), refusals in the reader's language with nothing written, and ten
concurrent payments of the same month over real HTTP — one 201, nine 409, one month row."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal import toolkit as tk
from portal_dues import money, payments, profiles
from portal_dues.models import Payment, PaymentMonth, Reduction
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint

ZH = {"Accept-Language": "zh-CN"}


def _month(n: int = 0) -> str:
    """The local month ``n`` months from now, as the API writes it."""
    return money.month_key(money.add_months(money.current_month(), n))


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "host_sec", "foreign_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/dues/me", headers=value)
    return headers


def _profile(db, org, member, since: int = -2, base: str = "4000.00"):
    profiles.set_profile(member, {"category": "salaried", "monthly_base": base, "valid_from": _month(since)},
                         by=org.organizer)
    db.session.commit()


# -- profiles ------------------------------------------------------------------------------------------------------

def test_put_and_get_profile(client, db, org, tokens):
    url = f"/api/v1/dues/profiles/{org.member2.id}"
    assert client.get(url, headers=tokens["member2"]).status_code == 404  # no profile yet
    response = client.put(url, json={"category": "salaried", "monthly_base": "4000.00"}, headers=tokens["home_sec"])
    assert response.status_code == 200, response.json
    body = response.json
    assert {key: body[key] for key in ("member_id", "category", "monthly_base", "insurance_deduction", "rate",
                                       "monthly_due", "valid_from")} == {
        "member_id": org.member2.id, "category": "salaried", "monthly_base": "4000.00",
        "insurance_deduction": "0.00", "rate": "0.01", "monthly_due": "40.00", "valid_from": _month()}
    for who in ("member2", "home_sec", "organizer"):
        assert client.get(url, headers=tokens[who]).json["monthly_due"] == "40.00"
    for who in ("member1", "host_sec", "foreign_sec", "outsider"):
        assert client.get(url, headers=tokens[who]).status_code == 404
    farmer = client.put(url, json={"category": "farmer", "fixed_amount": "0.80", "valid_from": _month(1),
                                   "note": "Moved back to farming"}, headers=tokens["home_sec"]).json
    assert (farmer["rate"], farmer["monthly_due"], farmer["monthly_base"]) == (None, "0.80", None)


def test_profile_refusals_write_nothing(client, db, org, tokens):
    url = f"/api/v1/dues/profiles/{org.member2.id}"
    before = db_fingerprint()
    # a plain member is outside dues.manage even on their own record (404, tk.require_acting_on's rule);
    # a secretary on their own record is refused with 403 (below)
    cases = [("member2", {"category": "student"}, 404), ("member1", {"category": "student"}, 404),
             ("host_sec", {"category": "student"}, 404), ("foreign_sec", {"category": "student"}, 404),
             ("home_sec", {"category": "salaried", "monthly_base": "1e3"}, 422),
             ("home_sec", {"category": "salaried", "monthly_base": 4000.0}, 422),
             ("home_sec", {"category": "salaried", "monthly_base": "12.345"}, 422),
             ("home_sec", {"category": "salaried", "monthly_base": "-5"}, 422),
             ("home_sec", {"category": "salaried", "monthly_base": "4000.00", "salary": "x"}, 422)]
    for who, body, status in cases:
        response = client.put(url, json=body, headers=tokens[who])
        assert response.status_code == status, (who, body, response.json)
    own = client.put(f"/api/v1/dues/profiles/{org.home_sec.member.id}", json={"category": "student"},
                     headers=tokens["home_sec"])
    assert own.status_code == 403
    assert db_fingerprint() == before


# -- payments ------------------------------------------------------------------------------------------------------

def _payment(org, member=None, months=None, amount="80.00", channel="cash", **extra) -> dict:
    return {"member_id": (member or org.member2).id, "months": months or [_month(-1), _month()], "amount": amount,
            "channel": channel, **extra}


def test_record_payment_contract(client, db, org, tokens):
    _profile(db, org, org.member2)
    response = client.post("/api/v1/dues/payments", json=_payment(org), headers=tokens["home_sec"])
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["member_id"], body["months"], body["amount"], body["extra_amount"], body["channel"],
            body["status"], body["collecting_unit_id"]) == (
        org.member2.id, [_month(-1), _month()], "80.00", "0.00", "cash", "confirmed", org.home.id)
    assert body["receipt_code"] and body["receipt_url"] == f"/dues/receipts/{body['receipt_code']}"
    assert client.get(body["receipt_url"]).status_code == 200
    assert _count(db, tk.Activity, tk.Activity.verb == "dues.paid") == 2


def test_payment_refusals_in_the_readers_language_write_nothing(client, db, org, tokens):
    _profile(db, org, org.member2, since=-9)
    client.post("/api/v1/dues/payments", json=_payment(org, months=[_month()], amount="40.00"),
                headers=tokens["home_sec"])
    before = db_fingerprint()
    too_far = client.post("/api/v1/dues/payments", json=_payment(org, months=[_month(-7), _month(-1)]),
                          headers={**tokens["home_sec"], **ZH})
    assert too_far.status_code == 422
    assert too_far.json["error"]["fields"]["months"] == "一次最多补交 6 个月，请与党支部联系。"
    again = client.post("/api/v1/dues/payments", json=_payment(org, months=[_month(-1), _month()]),
                        headers=tokens["home_sec"])
    assert again.status_code == 409 and _month() in again.json["error"]["message"]
    for body in (_payment(org, months=[_month(-1)], amount="39.99"), _payment(org, months=[_month(-1)], amount="1e3"),
                 _payment(org, months=[_month(-1)], amount="40.00", channel="online"),
                 _payment(org, months=[_month(-1)], amount="40.00", channel="on_behalf"),
                 _payment(org, months=[_month(-1)], amount="40.00", paid_on="2999-01-01")):
        assert client.post("/api/v1/dues/payments", json=body, headers=tokens["home_sec"]).status_code == 422, body
    for who, status in (("member2", 404), ("member1", 404), ("host_sec", 404), ("foreign_sec", 404)):
        response = client.post("/api/v1/dues/payments", json=_payment(org, months=[_month(-1)], amount="40.00"),
                               headers=tokens[who])
        assert response.status_code == status, who
    assert db_fingerprint() == before


def test_host_branch_payment_counts_for_home(client, db, org, tokens):
    _profile(db, org, org.member1)
    body = _payment(org, member=org.member1, channel="host_branch")
    assert client.post("/api/v1/dues/payments", json=body, headers=tokens["home_sec"]).status_code == 403
    response = client.post("/api/v1/dues/payments", json=body, headers=tokens["host_sec"])
    assert response.status_code == 201, response.json
    assert response.json["collecting_unit_id"] == org.host.id
    activities = list(db.session.scalars(select(tk.Activity).where(tk.Activity.verb == "dues.paid")))
    assert len(activities) == 2 and {a.home_unit_id for a in activities} == {org.home.id}
    assert {a.extras["collecting_unit_id"] for a in activities} == {org.host.id}


def _reported(db, org, month: int = -1):
    import io

    from werkzeug.datastructures import FileStorage

    payment = payments.report_payment(org.member2, {"months": [_month(month)], "amount": "40.00"},
                                      FileStorage(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), filename="t.png"))
    db.session.commit()
    return payment


def test_confirm_and_reject_reported_payments(client, db, org, tokens):
    _profile(db, org, org.member2)
    first, second = _reported(db, org, -1), _reported(db, org, 0)
    url = f"/api/v1/dues/payments/{first.id}"
    assert client.post(url + "/confirm", headers=tokens["member2"]).status_code == 404
    assert client.post(url + "/confirm", headers=tokens["foreign_sec"]).status_code == 404
    confirmed = client.post(url + "/confirm", headers=tokens["home_sec"])
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed" and confirmed.json["receipt_code"]
    assert client.post(url + "/confirm", headers=tokens["organizer"]).status_code == 409
    assert _count(db, tk.Activity, tk.Activity.verb == "dues.paid") == 1
    reject_url = f"/api/v1/dues/payments/{second.id}/reject"
    assert client.post(reject_url, json={"reason": ""}, headers=tokens["home_sec"]).status_code == 422
    rejected = client.post(reject_url, json={"reason": "No such transfer"}, headers=tokens["home_sec"])
    assert rejected.status_code == 200 and (rejected.json["status"], rejected.json["months"]) == ("rejected", [])
    assert _count(db, PaymentMonth, PaymentMonth.payment_id == second.id) == 0
    again = client.post("/api/v1/dues/payments", json=_payment(org, months=[_month()], amount="40.00"),
                        headers=tokens["home_sec"])
    assert again.status_code == 201


# -- arrears and the member's statement ----------------------------------------------------------------------------

def test_arrears_of_a_unit(client, db, org, tokens):
    _profile(db, org, org.member2, since=-3)
    _profile(db, org, org.member1, since=-1)
    client.post("/api/v1/dues/payments", json=_payment(org, member=org.member1, months=[_month(-1)], amount="40.00"),
                headers=tokens["home_sec"])
    response = client.get(f"/api/v1/dues/arrears?unit={org.township.id}", headers=tokens["organizer"])
    assert response.status_code == 200
    rows = {row["member_id"]: row for row in response.json["members"]}
    assert set(rows) == {org.member2.id}
    assert (rows[org.member2.id]["months_unpaid"], rows[org.member2.id]["since"]) == (3, _month(-3))
    assert client.get(f"/api/v1/dues/arrears?unit={org.home.id}", headers=tokens["home_sec"]).status_code == 200
    assert client.get(f"/api/v1/dues/arrears?unit={org.home.id}", headers=tokens["foreign_sec"]).status_code == 404
    assert client.get(f"/api/v1/dues/arrears?unit={org.home.id}", headers=tokens["member2"]).status_code == 404
    assert client.get("/api/v1/dues/arrears?unit=x", headers=tokens["home_sec"]).status_code == 422


def test_my_dues(client, db, org, tokens):
    assert client.get("/api/v1/dues/me", headers=tokens["member2"]).json["profile"] is None
    _profile(db, org, org.member2, since=-3)
    client.post("/api/v1/dues/payments", json=_payment(org, months=[_month(-3), _month(-2)]),
                headers=tokens["home_sec"])
    body = client.get("/api/v1/dues/me", headers=tokens["member2"]).json
    assert body["profile"]["monthly_due"] == "40.00"
    assert body["months_paid"] == [_month(-3), _month(-2)]
    assert body["months_due"] == [_month(-1), _month()]
    assert body["arrears"] == {"months_unpaid": 1, "since": _month(-1)}
    assert client.get("/api/v1/dues/me", headers=api_token(client, "admin")).status_code == 403


# -- reductions ----------------------------------------------------------------------------------------------------

def test_reduction_member_branch_upper_over_the_api(client, db, org, tokens):
    _profile(db, org, org.member2)
    response = client.post("/api/v1/dues/reductions", json={"monthly_due": "10.00", "from_month": _month(),
                                                             "reason": "Sick leave"}, headers=tokens["member2"])
    assert response.status_code == 201 and response.json["state"] == "requested"
    url = f"/api/v1/dues/reductions/{response.json['id']}/decision"
    assert client.post(url, json={"level": "upper", "approve": True}, headers=tokens["organizer"]).status_code == 409
    assert client.post(url, json={"level": "branch", "approve": True}, headers=tokens["member2"]).status_code == 404
    assert client.post(url, json={"level": "branch", "approve": True}, headers=tokens["foreign_sec"]).status_code == 404
    assert client.post(url, json={"level": "branch", "approve": "yes"}, headers=tokens["home_sec"]).status_code == 422
    agreed = client.post(url, json={"level": "branch", "approve": True, "note": "Agreed"}, headers=tokens["home_sec"])
    assert agreed.status_code == 200 and agreed.json["state"] == "branch_agreed"
    assert client.post(url, json={"level": "upper", "approve": True}, headers=tokens["home_sec"]).status_code == 403
    approved = client.post(url, json={"level": "upper", "approve": True}, headers=tokens["organizer"])
    assert approved.status_code == 200 and approved.json["state"] == "approved"
    assert _count(db, Reduction, Reduction.state == "approved") == 1
    assert profiles.due_for(org.member2, money.parse_month(_month())) == 10


# -- concurrency ---------------------------------------------------------------------------------------------------

def test_ten_concurrent_payments_of_the_same_month_over_http(app, db, org):
    _profile(db, org, org.member2)
    headers = {**api_token(app.test_client(), "home-secretary"), "Content-Type": "application/json"}
    body = json.dumps(_payment(org, months=[_month()], amount="40.00")).encode()
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def post() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/v1/dues/payments",
                                         data=body, headers=headers, method="POST")
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            results.append(status)

    try:
        clients = [threading.Thread(target=post) for _ in range(10)]
        for one in clients:
            one.start()
        for one in clients:
            one.join()
    finally:
        server.shutdown()
        thread.join()
    assert sorted(results) == [201] + [409] * 9, results
    assert _count(db, PaymentMonth, PaymentMonth.member_id == org.member2.id) == 1
    assert _count(db, Payment, Payment.member_id == org.member2.id) == 1
    assert _count(db, tk.Activity, tk.Activity.verb == "dues.paid") == 1


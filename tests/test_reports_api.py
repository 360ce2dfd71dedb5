"""The reports API (/api/v1/reports): the contract external checks call — submit (201, 409, resubmit after a
return), the unit's list of submitted and missing, reading one (404 for another member, audited for a
reader), comments and returns — and refusals in the reader's language with nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal_reports import schedule, writing
from portal_reports.models import Report
from tests.conftest import api_token
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import check_matrix, db_fingerprint, expect

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "host_sec", "foreign_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/reports/1", headers=value)
    return headers


def _post(client, headers, period, body="本季度思想汇报。", **extra):
    return client.post("/api/v1/reports", json={"period": period, "body": body, **extra}, headers=headers)


def _periods(org) -> list[str]:
    """member1 is away, so reports quarterly: the current quarter, then the previous one."""
    return schedule.writable_periods(org.member1)


def test_get_permission_matrix(app, db, org):
    """Every GET route of the API × every role: readers of the home branch (and the author for their report)."""
    current = _periods(org)[0]
    report = writing.submit(org.member1, current, "季度汇报。")
    db.session.commit()
    readers = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "reports_api.list_reports": readers,
        "reports_api.get_report": {**readers, "member1": (200,)},
        # one's own (issue 21): every member; accounts without a member record are refused
        "reports_api.mine": expect(200, anonymous=401, organizer=403, admin=403),
        # member1 (away) writes quarterly; the others' periods are not quarters
        "reports_api.get_draft": expect(422, anonymous=401, member1=200, organizer=403, admin=403),
    }, blueprints={"reports_api"}, url_values={
        "reports_api.list_reports": {"unit": org.home.id, "period": current},
        "reports_api.get_report": {"report_id": report.id},
        "reports_api.get_draft": {"period": current},
    })
    assert checked == 4 * 9


def test_submit_then_409_then_resubmit_after_return(client, db, org, tokens):
    current = _periods(org)[0]
    response = _post(client, tokens["member1"], current)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "submitted" and isinstance(response.json["id"], int)
    report_id = response.json["id"]
    again = _post(client, tokens["member1"], current, "再交一次")
    assert again.status_code == 409
    returned = client.post(f"/api/v1/reports/{report_id}/comments", json={"body": "请补充。", "return": True},
                           headers=tokens["home_sec"])
    assert returned.status_code == 201 and returned.json["report_status"] == "returned"
    resubmitted = _post(client, tokens["member1"], current, "补充后的汇报。")
    assert resubmitted.status_code == 201 and resubmitted.json == {"id": report_id, "status": "submitted",
                                                                    "period": current}
    assert db.session.scalar(select(func.count(Report.id))) == 1


def test_wrong_period_and_refusals_write_nothing(client, db, org, tokens):
    before = db_fingerprint()
    assert _post(client, tokens["member2"], _periods(org)[0]).status_code == 422  # member2 reports yearly
    bad = _post(client, {**tokens["member1"], **ZH}, "2026-Q9")
    assert bad.status_code == 422 and "period" in bad.json["error"]["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in bad.json["error"]["message"])
    assert _post(client, tokens["member1"], _periods(org)[0], "").status_code == 422
    assert client.post("/api/v1/reports", json={"period": _periods(org)[0], "body": "x", "extra": 1},
                       headers=tokens["member1"]).status_code == 422
    organizer = _post(client, tokens["organizer"], _periods(org)[0])
    assert organizer.status_code == 403  # no member profile
    assert client.post("/api/v1/reports", json={"period": "2026"}).status_code == 401
    assert db_fingerprint() == before


def test_list_submitted_and_missing(client, db, org, tokens):
    current = _periods(org)[0]
    activist = Factory(db).member(org.home, stage="activist")
    assert _post(client, tokens["member1"], current).status_code == 201
    response = client.get(f"/api/v1/reports?unit={org.home.id}&period={current}", headers=tokens["home_sec"])
    assert response.status_code == 200, response.json
    assert [row["member_id"] for row in response.json["submitted"]] == [org.member1.id]
    assert "body" not in response.json["submitted"][0]  # listing is not reading
    assert activist.id in response.json["missing"] and org.member1.id not in response.json["missing"]
    township = client.get(f"/api/v1/reports?unit={org.township.id}&period={current}", headers=tokens["organizer"])
    assert township.status_code == 200 and township.json["missing"] == response.json["missing"]
    for name in ("foreign_sec", "member2", "host_sec"):
        assert client.get(f"/api/v1/reports?unit={org.home.id}&period={current}",
                          headers=tokens[name]).status_code == 404
    assert client.get(f"/api/v1/reports?unit={org.home.id}&period=Q4", headers=tokens["home_sec"]).status_code == 422
    assert client.get("/api/v1/reports?unit=x&period=2026", headers=tokens["home_sec"]).status_code == 422
    assert client.get(f"/api/v1/reports?unit={2**40}&period=2026", headers=tokens["home_sec"]).status_code == 404


def test_reading_privacy_and_audit(client, db, org, tokens):
    current = _periods(org)[0]
    report_id = _post(client, tokens["member1"], current).json["id"]
    url = f"/api/v1/reports/{report_id}"
    for name in ("member2", "outsider", "foreign_sec", "host_sec"):  # not shared with the host
        assert client.get(url, headers=tokens[name]).status_code == 404, name
    mine = client.get(url, headers=tokens["member1"])
    assert mine.status_code == 200 and mine.json["status"] == "submitted"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reports.read")) == 0
    read = client.get(url, headers=tokens["home_sec"])
    assert read.status_code == 200 and read.json["body"] == "本季度思想汇报。" and read.json["status"] == "read"
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.read")).all()
    assert [(a.actor_account_id, a.target_id) for a in audits] == [(org.home_sec.id, str(report_id))]
    assert client.get(f"/api/v1/reports/{2**40}", headers=tokens["home_sec"]).status_code == 404


def test_shared_copy_is_read_by_the_host(client, db, org, tokens):
    report_id = _post(client, tokens["member1"], _periods(org)[0], share_with_host=True).json["id"]
    assert client.get(f"/api/v1/reports/{report_id}", headers=tokens["host_sec"]).status_code == 200


def test_comments(client, db, org, tokens):
    report_id = _post(client, tokens["member1"], _periods(org)[0]).json["id"]
    url = f"/api/v1/reports/{report_id}/comments"
    assert client.post(url, json={"body": "看到了"}, headers=tokens["member2"]).status_code == 404
    assert client.post(url, json={"body": "我自己"}, headers=tokens["member1"]).status_code == 403
    assert client.post(url, json={"body": ""}, headers=tokens["home_sec"]).status_code == 422
    assert client.post(url, json={"body": "好", "return": "yes"}, headers=tokens["home_sec"]).status_code == 422
    response = client.post(url, json={"body": "写得很实在。", "return": False}, headers=tokens["home_sec"])
    assert response.status_code == 201 and response.json["report_status"] == "commented"
    shown = client.get(f"/api/v1/reports/{report_id}", headers=tokens["member1"]).json
    assert [c["body"] for c in shown["comments"]] == ["写得很实在。"] and shown["status"] == "commented"

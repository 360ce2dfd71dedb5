"""Personal reports and suggestions through the API (issue 21: what a member does on ``/reports`` and
``/suggestions``): their reports paged with the periods they may write for, the draft of a period (read and
kept, as the writing page's autosave does), submitting it, and their suggestions and the digest paged."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_reports import schedule, suggestions, writing
from portal_reports.models import Report
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint
from tests.test_reports_suggestions import _send

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/reports/1", headers=value)
    return headers


def _periods(org) -> list[str]:
    """member1 is away, so reports quarterly: the current quarter, then the previous one."""
    return schedule.writable_periods(org.member1)


def test_my_reports_and_the_periods_i_may_write(client, db, org, tokens):
    current, previous = _periods(org)
    writing.submit(org.member1, previous, "上季度的汇报。")
    db.session.commit()
    body = client.get("/api/v1/reports/mine", headers=tokens["member1"]).json
    assert [r["period"] for r in body["reports"]] == [previous] and body["total"] == 1
    assert body["reports"][0]["status"] == "submitted" and "body" not in body["reports"][0]  # a list is no reading
    assert body["writable_periods"] == [
        {"period": current, "report_id": None, "status": None},
        {"period": previous, "report_id": body["reports"][0]["id"], "status": "submitted"}]
    # another member's list is their own
    assert client.get("/api/v1/reports/mine", headers=tokens["member2"]).json["reports"] == []
    assert client.get("/api/v1/reports/mine?per_page=500", headers=tokens["member1"]).status_code == 400
    assert client.get("/api/v1/reports/mine", headers=tokens["organizer"]).status_code == 403
    assert client.get("/api/v1/reports/mine").status_code == 401


def test_keep_a_draft_then_submit_it(client, db, org, tokens):
    current = _periods(org)[0]
    url = f"/api/v1/reports/drafts/{current}"
    empty = client.get(url, headers=tokens["member1"]).json
    assert empty == {"period": current, "report_id": None, "status": None, "body": "", "share_with_host": False,
                     "saved_at": None, "editable": True}
    kept = client.put(url, json={"body": "写到一半", "share_with_host": True}, headers=tokens["member1"])
    assert kept.status_code == 200, kept.json
    assert kept.json["status"] == "draft" and kept.json["body"] == "写到一半" and kept.json["share_with_host"]
    assert kept.json["saved_at"].endswith("+08:00")
    again = client.put(url, json={"body": "写完了。"}, headers=tokens["member1"])
    assert again.json["report_id"] == kept.json["report_id"] and again.json["share_with_host"]  # kept as chosen
    # a draft is nobody's reading: the branch does not see it
    assert db.session.get(Report, kept.json["report_id"]).status == "draft"
    sent = client.post("/api/v1/reports", json={"period": current, "body": "写完了。"}, headers=tokens["member1"])
    assert sent.status_code == 201 and sent.json["id"] == kept.json["report_id"]
    locked = client.get(url, headers=tokens["member1"]).json
    assert locked["editable"] is False and locked["status"] == "submitted"
    refused = client.put(url, json={"body": "改一改"}, headers=tokens["member1"])
    assert refused.status_code == 409
    assert db.session.scalar(select(func.count(Report.id))) == 1


def test_a_refused_draft_says_why_and_writes_nothing(client, db, org, tokens):
    current = _periods(org)[0]
    before = db_fingerprint()
    url = f"/api/v1/reports/drafts/{current}"
    too_long = client.put(url, json={"body": "字" * (writing.BODY_MAX + 1)}, headers={**tokens["member1"], **ZH})
    assert too_long.status_code == 422 and "body" in too_long.json["error"]["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in too_long.json["error"]["message"])
    assert client.put(url, json={"body": 5}, headers=tokens["member1"]).status_code == 422
    assert client.put(url, json={"body": "x", "share_with_host": "yes"},
                      headers=tokens["member1"]).status_code == 422
    assert client.put(url, json={"body": "x", "member_id": org.member2.id},
                      headers=tokens["member1"]).status_code == 422  # nobody writes for another
    wrong = client.put("/api/v1/reports/drafts/2026-Q9", json={"body": "x"}, headers=tokens["member1"])
    assert wrong.status_code == 422 and "period" in wrong.json["error"]["fields"]
    assert client.get("/api/v1/reports/drafts/2026-Q9", headers=tokens["member1"]).status_code == 422
    # member2 reports yearly: a quarter is not theirs to write
    assert client.put(url, json={"body": "x"}, headers=tokens["member2"]).status_code == 422
    assert client.put(url, json={"body": "x"}, headers=tokens["organizer"]).status_code == 403
    assert client.put(url, json={"body": "x"}).status_code == 401
    assert db_fingerprint() == before


def test_another_members_draft_stays_theirs(client, db, org, tokens):
    """The draft URL names a period, not a report: each member reads and writes only their own."""
    current = _periods(org)[0]
    writing.save_draft(org.member1, current, "只有我能看到")
    db.session.commit()
    for key in schedule.STAGE_DEFAULTS:  # every stage quarterly: the same period is member2's to write too
        tk.set_setting("reports", f"frequency_{key}", "quarterly")
    db.session.commit()
    assert current in schedule.writable_periods(org.member2)
    theirs = client.get(f"/api/v1/reports/drafts/{current}", headers=tokens["member2"]).json
    assert theirs["body"] == "" and theirs["report_id"] is None
    client.put(f"/api/v1/reports/drafts/{current}", json={"body": "我的"}, headers=tokens["member2"])
    assert writing.get_report(org.member1, current).body == "只有我能看到"


def test_my_suggestions_and_the_digest_are_paged(client, db, org, tokens):
    named = [_send(org.member2)[0] for _ in range(3)]
    _send(org.member2, anonymous=True)
    page = client.get("/api/v1/suggestions/mine?per_page=2", headers=tokens["member2"]).json
    assert page["total"] == 3 and [s["id"] for s in page["suggestions"]] == [named[2].id, named[1].id]
    assert client.get(page["next"], headers=tokens["member2"]).json["suggestions"][0]["id"] == named[0].id
    assert client.get("/api/v1/suggestions/mine", headers=tokens["member1"]).json["total"] == 0
    suggestions.reply(named[0], "We changed the day.", by=org.home_sec, digest=True)
    db.session.commit()
    digest = client.get(f"/api/v1/suggestions/digest?unit={org.home.id}&per_page=1", headers=tokens["member1"]).json
    assert digest["total"] == 1 and digest["suggestions"][0]["author"] is None and digest["next"] is None
    assert client.get(f"/api/v1/suggestions/digest?unit={org.home.id}",
                      headers=tokens["outsider"]).status_code == 404
    assert client.get(f"/api/v1/suggestions/digest?unit={org.home.id}&page=0",
                      headers=tokens["member1"]).status_code == 400

"""Meetings and notices through the API (issue 21: what a member does on ``/meetings`` and ``/notices``):
their meetings paged, a meeting and their calendar as iCalendar files, joining an online meeting, the
notices paged and replying to one. Refusals say why and change nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal_meetings import meetings, notices
from portal_meetings.models import Attendee
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint
from tests.test_meetings_api import _body, _meeting

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "foreign_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/meetings", headers=value)
    return headers


def test_my_meetings_are_paged_newest_first(client, db, org, tokens):
    soon = _meeting(org, starts=timedelta(days=1), ends=timedelta(days=1, hours=1))
    later = _meeting(org, org.host, kind="group", starts=timedelta(days=2), ends=timedelta(days=2, hours=1))
    first = client.get("/api/v1/meetings?per_page=1", headers=tokens["member1"])
    assert first.status_code == 200, first.json
    assert [m["id"] for m in first.json["meetings"]] == [later.id]
    assert (first.json["page"], first.json["per_page"], first.json["total"]) == (1, 1, 2)
    second = client.get(first.json["next"], headers=tokens["member1"]).json
    assert [m["id"] for m in second["meetings"]] == [soon.id] and second["next"] is None
    assert first.json["meetings"][0]["starts_at"].endswith("+08:00")  # local time with its offset
    # member2 is not hosted at the host branch: only the home branch's meeting
    assert [m["id"] for m in client.get("/api/v1/meetings", headers=tokens["member2"]).json["meetings"]] == [soon.id]
    assert client.get("/api/v1/meetings", headers=tokens["outsider"]).json["meetings"] == []
    for bad in ("page=0", "per_page=101", "page=two"):
        response = client.get(f"/api/v1/meetings?{bad}", headers=tokens["member1"])
        assert response.status_code == 400 and response.json["error"]["code"] == "bad_request", bad
    assert client.get("/api/v1/meetings").status_code == 401


def test_a_past_meeting_i_was_listed_for_stays_in_my_list(client, db, org, tokens):
    past = _meeting(org, starts=timedelta(days=-3), ends=timedelta(days=-3, hours=1))
    assert db.session.query(Attendee).filter_by(meeting_id=past.id, member_id=org.member2.id).count() == 1
    listed = client.get("/api/v1/meetings", headers=tokens["member2"]).json["meetings"]
    assert [m["id"] for m in listed] == [past.id]


def test_one_meeting_as_ics(client, db, org, tokens):
    meeting = _meeting(org, starts=timedelta(days=1), ends=timedelta(days=1, hours=1))
    response = client.get(f"/api/v1/meetings/{meeting.id}.ics", headers=tokens["member2"])
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    text = response.get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in text and f"UID:meeting-{meeting.id}@" in text and "Quarterly assembly" in text
    assert client.get(f"/api/v1/meetings/{meeting.id}.ics", headers=tokens["outsider"]).status_code == 404
    assert client.get(f"/api/v1/meetings/{meeting.id}.ics", headers=tokens["home_sec"]).status_code == 200
    assert client.get(f"/api/v1/meetings/{meeting.id}.ics").status_code == 401
    draft = meetings.create_meeting(org.home, {k: v for k, v in _body(org).items() if k != "unit_id"},
                                    by=org.home_sec, call=False)
    db.session.commit()
    assert client.get(f"/api/v1/meetings/{draft.id}.ics", headers=tokens["member2"]).status_code == 404
    assert client.get("/api/v1/meetings/999999999999.ics", headers=tokens["member2"]).status_code == 404


def test_my_calendar_as_ics(client, db, org, tokens):
    home = _meeting(org, starts=timedelta(days=1), ends=timedelta(days=1, hours=1))
    host = _meeting(org, org.host, kind="group", starts=timedelta(days=2), ends=timedelta(days=2, hours=1))
    text = client.get("/api/v1/meetings/calendar.ics", headers=tokens["member1"]).get_data(as_text=True)
    assert f"meeting-{home.id}@" in text and f"meeting-{host.id}@" in text
    outsider = client.get("/api/v1/meetings/calendar.ics", headers=tokens["outsider"])
    assert outsider.status_code == 200 and "BEGIN:VEVENT" not in outsider.get_data(as_text=True)
    refused = client.get("/api/v1/meetings/calendar.ics", headers={**tokens["organizer"], **ZH})
    assert refused.status_code == 403 and any("\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"])
    assert client.get("/api/v1/meetings/calendar.ics").status_code == 401


def test_join_an_online_meeting_through_the_api(client, db, org, tokens):
    """The web's "join" is the check-in without a code: counted once, then the app opens ``online_url``."""
    meeting = _meeting(org, mode="online", place=None, online_url="https://meet.example.test/abc")
    url = f"/api/v1/meetings/{meeting.id}/checkin"
    before = db_fingerprint()
    assert client.post(url, json={}, headers=tokens["outsider"]).status_code == 404
    assert client.post(url, json={}, headers=tokens["organizer"]).status_code in (403, 404)
    assert db_fingerprint() == before
    joined = client.post(url, json={}, headers=tokens["member2"])
    assert joined.status_code == 201 and joined.json["status"] == "online"
    assert client.post(url, json={}, headers=tokens["member2"]).status_code == 200  # counted once
    shown = client.get(f"/api/v1/meetings/{meeting.id}", headers=tokens["member2"]).json
    assert shown["online_url"] == "https://meet.example.test/abc" and shown["my_attendance"]["status"] == "online"


NOTICE = {"title": "Branch assembly on Sunday", "body": "Come all.", "audience": "unit", "requires_ack": True,
          "deadline": "2099-12-31T18:00"}


def _notice(org, title: str = "Branch assembly on Sunday"):
    notice = notices.send_notice(org.home, {**NOTICE, "title": title}, by=org.home_sec)
    notices.db.session.commit()
    return notice


def test_my_notices_are_paged(client, db, org, tokens):
    first, second = _notice(org, "First"), _notice(org, "Second")
    page = client.get("/api/v1/notices?per_page=1", headers=tokens["member2"]).json
    assert [n["id"] for n in page["notices"]] == [second.id] and page["total"] == 2
    assert [n["id"] for n in client.get(page["next"], headers=tokens["member2"]).json["notices"]] == [first.id]
    assert client.get("/api/v1/notices", headers=tokens["outsider"]).json["total"] == 0
    assert client.get("/api/v1/notices", headers=tokens["organizer"]).json == {
        "notices": [], "page": 1, "per_page": 25, "total": 0, "next": None}  # no member record: none addressed
    assert client.get("/api/v1/notices?per_page=x", headers=tokens["member2"]).status_code == 400


def test_reply_to_a_notice(client, db, org, tokens):
    notice = _notice(org)
    url = f"/api/v1/notices/{notice.id}/reply"
    response = client.post(url, json={"reply": "I will come."}, headers=tokens["member2"])
    assert response.status_code == 200, response.json
    assert response.json["reply"] == "I will come." and response.json["id"] == notice.id
    receipt = notices.receipt_of(notice, org.member2)
    assert receipt.reply == "I will come." and receipt.acknowledged_at is None  # a reply is not a signature
    # the sender reads it with the receipts; an empty reply takes it back
    assert client.post(url, json={"reply": ""}, headers=tokens["member2"]).json["reply"] is None


def test_a_refused_reply_says_why_and_writes_nothing(client, db, org, tokens):
    notice = _notice(org)
    url = f"/api/v1/notices/{notice.id}/reply"
    before = db_fingerprint()
    too_long = client.post(url, json={"reply": "x" * (notices.REPLY_MAX + 1)}, headers={**tokens["member2"], **ZH})
    assert too_long.status_code == 422 and "reply" in too_long.json["error"]["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in too_long.json["error"]["message"])
    assert client.post(url, json={"reply": 42}, headers=tokens["member2"]).status_code == 422
    assert client.post(url, json={}, headers=tokens["member2"]).status_code == 422  # reply is required
    assert client.post(url, json={"reply": "hi", "member_id": org.member1.id},
                       headers=tokens["member2"]).status_code == 422  # nobody replies for another
    # not addressed: the outsider and the foreign secretary learn nothing; the organizer follows but is no addressee
    for who in ("outsider", "foreign_sec", "organizer"):
        assert client.post(url, json={"reply": "hi"}, headers=tokens[who]).status_code == 404, who
    assert client.post(url, json={"reply": "hi"}).status_code == 401
    assert client.post("/api/v1/notices/999999/reply", json={"reply": "hi"},
                       headers=tokens["member2"]).status_code == 404
    assert db_fingerprint() == before


def test_paged_lists_are_documented_one_way(client):
    """Every branch-life list documents ``tk.api_page``'s answer and its ``page``/``per_page`` parameters."""
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path, key in (("/api/v1/meetings", "meetings"), ("/api/v1/notices", "notices"),
                      ("/api/v1/dues/me/payments", "payments"), ("/api/v1/dues/me/reductions", "reductions"),
                      ("/api/v1/reports/mine", "reports"), ("/api/v1/suggestions/mine", "suggestions"),
                      ("/api/v1/suggestions/digest", "suggestions")):
        operation = paths[path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert {key, "page", "per_page", "total", "next"} <= set(schema["required"]), path
        assert {"page", "per_page"} <= {p["name"] for p in operation["parameters"]}, path
        assert "400" in operation["responses"], path

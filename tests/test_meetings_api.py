"""The meetings API (/api/v1/meetings): the contract external checks call, refusals in the reader's
language with nothing written, the rotating code, the home branch's view of host attendance, and
ten concurrent check-ins over real HTTP counting once."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal import toolkit as tk
from portal_meetings import attendance, meetings
from portal_meetings.models import Attendee, Meeting
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint

ZH = {"Accept-Language": "zh-CN"}


def _local(delta: timedelta) -> str:
    """A local wall-clock time ``delta`` from now, as a form or client would send it."""
    return tk.to_local(tk.utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


def _body(org, unit=None, *, starts=timedelta(minutes=-10), ends=timedelta(minutes=50), **changes) -> dict:
    return {"unit_id": (unit or org.home).id, "kind": "assembly", "topic": "Quarterly assembly",
            "starts_at": _local(starts), "ends_at": _local(ends), "mode": "hybrid", "place": "Village hall",
            **changes}


def _meeting(org, unit=None, **kwargs) -> Meeting:
    unit = unit or org.home
    data = {key: value for key, value in _body(org, unit, **kwargs).items() if key != "unit_id"}
    meeting = meetings.create_meeting(unit, data, by=org.host_sec if unit is org.host else org.home_sec)
    tk.db.session.commit()
    return meeting


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _meeting_activities(*where):
    return (tk.Activity.verb.like("meeting.%"), *where)


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login and its first use are not a test's writes."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "host_sec", "foreign_sec")}
    for value in headers.values():
        client.get("/api/v1/meetings", headers=value)
    return headers


def test_a_secretary_calls_a_meeting(client, db, org, tokens):
    response = client.post("/api/v1/meetings", json=_body(org, agenda="1. Dues"), headers=tokens["home_sec"])
    assert response.status_code == 201, response.json
    body = response.json
    meeting = db.session.get(Meeting, body["id"])
    assert body["status"] == "notified" and body["unit_id"] == org.home.id and body["kind"] == "assembly"
    assert body["starts_at"] == tk.isoformat(meeting.starts_at) and body["starts_at"].endswith("+08:00")
    assert body["agenda"] == "1. Dues" and body["url"] == f"/meetings/{meeting.id}"
    assert body["checkin_code"] in {attendance.current_code(meeting, tk.utcnow() - timedelta(seconds=s))
                                    for s in (0, 60)}
    assert {row.member_id for row in meeting.attendees} >= {org.member1.id, org.member2.id}
    draft = client.post("/api/v1/meetings", json=_body(org, draft=True), headers=tokens["home_sec"])
    assert draft.status_code == 201 and draft.json["status"] == "draft"


@pytest.mark.parametrize("who", ["member2", "foreign_sec", "host_sec"])
def test_others_cannot_call_a_meeting_of_the_unit(client, db, org, tokens, who):
    before = db_fingerprint()
    response = client.post("/api/v1/meetings", json=_body(org), headers=tokens[who])
    assert response.status_code in (403, 404)
    assert db_fingerprint() == before


@pytest.mark.parametrize("changes, field", [
    ({"ends_at": "2026-12-01T19:00", "starts_at": "2026-12-01T19:30"}, "ends_at"),
    ({"kind": "picnic"}, "kind"),
    ({"unit_id": "3"}, "unit_id"),
    ({"color": "red"}, "color"),
])
def test_bad_input_is_422_with_fields_and_nothing_written(client, db, org, tokens, changes, field):
    before = db_fingerprint()
    response = client.post("/api/v1/meetings", json=_body(org, **changes), headers=tokens["home_sec"])
    assert response.status_code == 422 and field in response.json["error"]["fields"]
    assert db_fingerprint() == before


def test_reading_a_meeting(client, db, org, tokens):
    meeting = _meeting(org, org.host, kind="group")
    member = client.get(f"/api/v1/meetings/{meeting.id}", headers=tokens["member1"])
    assert member.status_code == 200 and "checkin_code" not in member.json
    assert member.json["my_attendance"]["status"] == "expected"
    manager = client.get(f"/api/v1/meetings/{meeting.id}", headers=tokens["host_sec"]).json
    assert manager["checkin_url"].endswith(f"/meetings/{meeting.id}/checkin?code={manager['checkin_code']}")
    assert manager["checkin_open"] is True
    for who in ("member2", "outsider", "foreign_sec"):
        assert client.get(f"/api/v1/meetings/{meeting.id}", headers=tokens[who]).status_code == 404
    assert client.get("/api/v1/meetings/99999", headers=tokens["host_sec"]).status_code == 404


def test_check_in_201_then_200_with_one_activity(client, db, org, tokens):
    meeting = _meeting(org)
    code = attendance.current_code(meeting)
    first = client.post(f"/api/v1/meetings/{meeting.id}/checkin", json={"code": code}, headers=tokens["member2"])
    again = client.post(f"/api/v1/meetings/{meeting.id}/checkin", json={"code": code}, headers=tokens["member2"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json and first.json["status"] == "present"
    assert _count(db, tk.Activity, *_meeting_activities(tk.Activity.actor_id == org.member2.id)) == 1
    assert _count(db, Attendee, Attendee.member_id == org.member2.id, Attendee.meeting_id == meeting.id) == 1


def test_an_online_meeting_is_joined_without_a_code(client, db, org, tokens):
    meeting = _meeting(org, mode="online", place="", online_url="https://meet.example.org/x")
    response = client.post(f"/api/v1/meetings/{meeting.id}/checkin", json={}, headers=tokens["member2"])
    assert response.status_code == 201 and response.json["status"] == "online"
    [activity] = db.session.scalars(select(tk.Activity).where(*_meeting_activities(tk.Activity.actor_id == org.member2.id)))
    assert activity.verb == "meeting.attended_online"


def test_host_attendance_counts_for_home_and_the_home_secretary_sees_only_their_members(client, db, org, tokens):
    meeting = _meeting(org, org.host, kind="group")
    response = client.post(f"/api/v1/meetings/{meeting.id}/checkin", json={"code": attendance.current_code(meeting)},
                           headers=tokens["member1"])
    assert response.status_code == 201
    activity = db.session.get(tk.Activity, response.json["activity_id"])
    assert activity.home_unit_id == org.home.id and activity.extras["at_host"] is True
    assert activity.extras["unit_id"] == org.host.id
    host_view = client.get(f"/api/v1/meetings/{meeting.id}/attendance", headers=tokens["host_sec"]).json
    assert host_view["expected"] == len(meeting.attendees) and host_view["present"] == 1
    home_view = client.get(f"/api/v1/meetings/{meeting.id}/attendance", headers=tokens["home_sec"]).json
    assert {key: home_view[key] for key in ("expected", "present", "online", "leave", "absent")} == \
        {"expected": 1, "present": 1, "online": 0, "leave": 0, "absent": 0}
    assert [(m["member_id"], m["status"]) for m in home_view["members"]] == [(org.member1.id, "present")]
    for who in ("member1", "foreign_sec"):
        assert client.get(f"/api/v1/meetings/{meeting.id}/attendance", headers=tokens[who]).status_code == 404


def _refusals(org):
    """(request, status, zh message) for each bad input the issue names; each must write nothing."""
    started = _meeting(org)
    other = _meeting(org, topic="Another")
    later = _meeting(org, starts=timedelta(days=2), ends=timedelta(days=2, hours=1))
    return [
        (("/api/v1/meetings", _body(org, starts=timedelta(hours=2), ends=timedelta(hours=1)), "home_sec"),
         422, "会议结束时间必须晚于开始时间。"),
        ((f"/api/v1/meetings/{started.id}/checkin", {"code": attendance.current_code(other)}, "member2"),
         422, "此签到码不属于本次会议。"),
        ((f"/api/v1/meetings/{later.id}/checkin", {"code": attendance.current_code(later)}, "member2"),
         409, "本次会议当前不在签到时间内。"),
        ((f"/api/v1/meetings/{started.id}/leave", {"reason": "Harvest"}, "member2"), 409, "只能在会议开始前请假。"),
        ((f"/api/v1/meetings/{later.id}/leave", {"reason": " "}, "member2"), 422, "请填写请假事由。"),
        (("/api/v1/meetings", _body(org), "foreign_sec"), 404, None),
    ]


def test_bad_input_is_refused_in_the_readers_language_and_nothing_written(client, db, org, tokens):
    for (url, body, who), status, message in _refusals(org):
        before = db_fingerprint()
        response = client.post(url, json=body, headers={**tokens[who], **ZH})
        assert response.status_code == status, (url, response.json)
        assert db_fingerprint() == before, url
        if message is not None:
            error = response.json["error"]
            assert message in (error["message"], *error.get("fields", {}).values()), (url, error)


def test_leave_request_and_decision(client, db, org, tokens):
    meeting = _meeting(org, starts=timedelta(days=1), ends=timedelta(days=1, hours=1))
    url = f"/api/v1/meetings/{meeting.id}/leave"
    response = client.post(url, json={"reason": "Harvest"}, headers=tokens["member2"])
    assert response.status_code == 201 and response.json["status"] == "leave_requested"
    assert client.post(f"{url}/{org.member2.id}", json={"approve": True}, headers=tokens["member2"]).status_code == 404
    assert client.post(f"{url}/{org.member2.id}", json={"approve": "yes"}, headers=tokens["home_sec"]).status_code == 422
    decided = client.post(f"{url}/{org.member2.id}", json={"approve": True}, headers=tokens["home_sec"])
    assert decided.status_code == 200 and (decided.json["status"], decided.json["leave_state"]) == ("leave", "approved")
    assert client.post(f"{url}/{org.member2.id}", json={"approve": False},
                       headers=tokens["home_sec"]).status_code == 409
    summary = client.get(f"/api/v1/meetings/{meeting.id}/attendance", headers=tokens["home_sec"]).json
    assert summary["leave"] == 1 and summary["absent"] == 0
    assert client.post(url, json={"reason": "x"}, headers=tokens["outsider"]).status_code == 404


def test_the_register_ticks_and_cannot_uncount(client, db, org, tokens):
    meeting = _meeting(org)
    url = f"/api/v1/meetings/{meeting.id}/register"
    ticked = client.post(url, json={"member_id": org.member2.id, "status": "present"}, headers=tokens["home_sec"])
    assert ticked.status_code == 200 and (ticked.json["status"], ticked.json["method"]) == ("present", "register")
    before = db_fingerprint()
    refused = client.post(url, json={"member_id": org.member2.id, "status": "absent"}, headers={**tokens["home_sec"]})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "already_counted"
    assert db_fingerprint() == before
    assert client.post(url, json={"member_id": org.member1.id, "status": "gone"},
                       headers=tokens["home_sec"]).status_code == 422
    assert client.post(url, json={"member_id": org.member1.id, "status": "absent"},
                       headers=tokens["member2"]).status_code == 404
    assert _count(db, tk.Activity, *_meeting_activities()) == 1


def test_lists(client, db, org, tokens):
    home, host = _meeting(org), _meeting(org, org.host, kind="group")
    meetings.create_meeting(org.home, {k: v for k, v in _body(org).items() if k != "unit_id"}, by=org.home_sec,
                            call=False)
    db.session.commit()
    mine = client.get("/api/v1/meetings", headers=tokens["member1"]).json["meetings"]
    assert {m["id"] for m in mine} == {home.id, host.id}
    unit = client.get(f"/api/v1/meetings?unit={org.home.id}", headers=tokens["member2"]).json["meetings"]
    assert [m["id"] for m in unit] == [home.id]  # the draft is the secretary's
    managed = client.get(f"/api/v1/meetings?unit={org.home.id}", headers=tokens["home_sec"]).json["meetings"]
    assert len(managed) == 2
    today = tk.local_today()
    window = f"&from={today + timedelta(days=1)}&to={today + timedelta(days=9)}"
    # paged since issue 21 (tk.api_page): the page's facts came along, the list is unchanged
    assert client.get(f"/api/v1/meetings?unit={org.home.id}{window}", headers=tokens["home_sec"]).json == \
        {"meetings": [], "page": 1, "per_page": 25, "total": 0, "next": None}
    assert client.get(f"/api/v1/meetings?unit={org.home.id}", headers=tokens["outsider"]).status_code == 404
    assert client.get(f"/api/v1/meetings?unit={org.home.id}&from=soon",
                      headers=tokens["home_sec"]).status_code == 422


def test_compliance_per_kind(client, db, org, tokens):
    pytest.importorskip("portal_meetings.compliance")
    period = tk.local_today()
    key = f"{period.year}-Q{(period.month - 1) // 3 + 1}"
    meeting = _meeting(org, starts=timedelta(hours=-3), ends=timedelta(hours=-2))
    meetings.mark_held(meeting, by=org.home_sec)
    db.session.commit()
    response = client.get(f"/api/v1/meetings/compliance?unit={org.home.id}&period={key}", headers=tokens["home_sec"])
    assert response.status_code == 200, response.json
    kinds = {row["kind"]: row for row in response.json["kinds"]}
    assert kinds["assembly"]["held"] == 1 and kinds["assembly"]["required"] >= 1
    assert all(set(row) >= {"kind", "required", "held"} for row in response.json["kinds"])
    assert client.get(f"/api/v1/meetings/compliance?unit={org.home.id}&period=Q9",
                      headers=tokens["home_sec"]).status_code == 422
    assert client.get(f"/api/v1/meetings/compliance?unit={org.home.id}&period={key}",
                      headers=tokens["foreign_sec"]).status_code == 404


def test_ten_concurrent_check_ins_over_http_count_once(app, db, org):
    meeting = _meeting(org)
    meeting_id = meeting.id
    headers = {**api_token(app.test_client(), "member2"), "Content-Type": "application/json"}
    body = json.dumps({"code": attendance.current_code(meeting)}).encode()
    url = f"/api/v1/meetings/{meeting.id}/checkin"
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def post() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{url}",
                                         data=body, headers=headers, method="POST")
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read())
        with lock:
            results.append((status, answer))

    try:
        clients = [threading.Thread(target=post) for _ in range(10)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        server.shutdown()
        thread.join()
    statuses = sorted(status for status, _answer in results)
    assert statuses == [200] * 9 + [201], results
    assert len({answer["activity_id"] for _status, answer in results}) == 1
    assert _count(db, tk.Activity, *_meeting_activities(tk.Activity.actor_id == org.member2.id)) == 1
    assert _count(db, Attendee, Attendee.member_id == org.member2.id, Attendee.meeting_id == meeting_id) == 1

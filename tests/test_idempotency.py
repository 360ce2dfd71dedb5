"""Double submissions: web forms' one-time token, the API's Idempotency-Key (replay, mismatch, real concurrency)."""
from __future__ import annotations

import json
import re
import threading
import urllib.request

from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.idempotency import FIELD
from portal_care.models import CareEvent, CareRequest
from portal_courses.models import Comment, Course
from portal_courses.sync import sync_directory
from portal_points.models import PointsEntry
from tests.conftest import api_token, login

CARE_FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
             "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}
CARE_BODY = {"category": "wages", "title": "Wages owed", "description": "6800 yuan since March", "urgency": "high",
             "where": "host", "consent_host": True}


def _token(page) -> str:
    """The submission token a rendered form carries."""
    match = re.search(rf'name="{FIELD}" value="([^"]+)"', page.get_data(as_text=True))
    assert match, "the form carries no submission token"
    return match.group(1)


def _count(db, column) -> int:
    return db.session.scalar(select(func.count(column)))


def test_twenty_identical_manual_awards_give_one(client, db, org):
    login(client, "home-secretary")
    url = f"/points/members/{org.member2.id}/award"
    token = _token(client.get(f"/points/members/{org.member2.id}"))
    form = {"points": "5", "reason": "Helped at the harvest", "campaign_id": "0", FIELD: token}
    responses = [client.post(url, data=form) for _ in range(20)]
    assert responses[0].status_code == 302
    assert {r.status_code for r in responses[1:]} == {303}
    assert {r.location for r in responses} == {responses[0].location}
    assert _count(db, PointsEntry.id) == db.session.scalar(
        select(func.count(PointsEntry.id)).where(PointsEntry.kind != "manual")) + 1
    # A new render is a new token: a deliberate second award still works.
    form[FIELD] = _token(client.get(f"/points/members/{org.member2.id}"))
    assert client.post(url, data=form).status_code == 302
    assert db.session.scalar(select(func.count(PointsEntry.id)).where(PointsEntry.kind == "manual")) == 2


def test_twenty_identical_care_requests_give_one_and_the_repeat_is_told(client, db, org):
    login(client, "member1")
    token = _token(client.get("/care/new"))
    responses = [client.post("/care/new", data={**CARE_FORM, FIELD: token}) for _ in range(20)]
    assert responses[0].status_code == 302 and {r.status_code for r in responses[1:]} == {303}
    assert _count(db, CareRequest.id) == 1
    page = client.get(responses[-1].location).get_data(as_text=True)
    assert "already sent" in page


def test_a_refused_form_keeps_its_token_usable(client, db, org):
    login(client, "member1")
    token = _token(client.get("/care/new"))
    assert client.post("/care/new", data={**CARE_FORM, "title": "", FIELD: token}).status_code == 422
    assert client.post("/care/new", data={**CARE_FORM, FIELD: token}).status_code == 302
    assert _count(db, CareRequest.id) == 1


def test_forms_without_a_token_still_work(client, db, org):
    login(client, "member1")
    for _ in range(2):
        assert client.post("/care/new", data=CARE_FORM).status_code == 302
    assert _count(db, CareRequest.id) == 2


def test_a_comment_retried_after_a_lost_response_is_posted_once(client, db, org):
    member = api_token(client, "member1")
    request_id = client.post("/api/v1/care/requests", json=CARE_BODY, headers=member).json["id"]
    events = _count(db, CareEvent.id)
    url = f"/api/v1/care/requests/{request_id}/comments"
    headers = {**member, "Idempotency-Key": "comment-1"}
    first = client.post(url, json={"body": "Any news?"}, headers=headers)
    retry = client.post(url, json={"body": "Any news?"}, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
    assert _count(db, CareEvent.id) == events + 1
    # Web: the comment form's token makes a repeated post a redirect, not a second comment.
    login(client, "member1")
    token = _token(client.get(f"/care/requests/{request_id}"))
    for _ in range(3):
        client.post(f"/care/requests/{request_id}/comment", data={"body": "Called the contractor", FIELD: token})
    assert _count(db, CareEvent.id) == events + 2


def test_a_lesson_comment_sent_again_is_posted_once(client, db, org):
    sync_directory()
    lesson = db.session.scalar(select(Course).where(Course.slug == "staying-connected")).active_lessons[0]
    url = f"/courses/staying-connected/lessons/{lesson.id}"
    login(client, "member1")
    token = _token(client.get(url))
    responses = [client.post(url + "/comments", data={"body": "Checked in on arrival", FIELD: token})
                 for _ in range(3)]
    assert [r.status_code for r in responses] == [302, 303, 303]
    assert _count(db, Comment.id) == 1


def test_api_key_replays_status_and_json_and_refuses_another_body(client, db, org):
    headers = {**api_token(client, "member1"), "Idempotency-Key": "file-once"}
    first = client.post("/api/v1/care/requests", json=CARE_BODY, headers=headers)
    again = client.post("/api/v1/care/requests", json=CARE_BODY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and again.json == first.json
    other = client.post("/api/v1/care/requests", json={**CARE_BODY, "title": "Other"}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    # Keys belong to an account: another member's same key is a new request.
    theirs = client.post("/api/v1/care/requests", json=CARE_BODY,
                         headers={**api_token(client, "member2"), "Idempotency-Key": "file-once"})
    assert theirs.status_code == 201 and theirs.json["id"] != first.json["id"]
    # A refusal is an answer too: replayed, and nothing is filed.
    bad = [client.post("/api/v1/care/requests", json={"title": ""}, headers={**headers, "Idempotency-Key": "bad"})
           for _ in range(2)]
    assert bad[0].status_code == bad[1].status_code == 422 and bad[0].json == bad[1].json
    assert _count(db, CareRequest.id) == 2


def test_twenty_concurrent_api_posts_with_one_key_file_one_request(app, db, org):
    headers = {**api_token(app.test_client(), "member1"), "Idempotency-Key": "burst", "Content-Type": "application/json"}
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def post() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/v1/care/requests",
                                         data=json.dumps(CARE_BODY).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            with lock:
                results.append((response.status, json.loads(response.read())))

    try:
        clients = [threading.Thread(target=post) for _ in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        server.shutdown()
        thread.join()
    assert len(results) == 20
    assert {status for status, _body in results} == {201}
    assert len({json.dumps(body, sort_keys=True) for _status, body in results}) == 1
    assert _count(db, CareRequest.id) == 1

"""A member's development and standing through the API (issue 21: ``/development/mine``, a step's document,
``/standing/me``): their own case with the deadlines they owe and the cases they mentor, the documents of a
case they may see, and their approved leave with their standing."""
from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_development.models import DevCase, Mentor, StepFile, StepRecord
from portal_standing import records
from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint

LETTER = b"%PDF-1.4 application letter"


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/development/mine", headers=value)
    return headers


def _case(org, member=None) -> DevCase:
    """An applicant's case of ``member`` (member2) in the home branch, its application recorded with a letter."""
    member = member or org.member2
    case = DevCase(member_id=member.id, unit_id=org.home.id, applied_on=date(2026, 6, 2), stage="applicant")
    tk.db.session.add(case)
    tk.db.session.flush()
    step = StepRecord(case_id=case.id, code="application", taken_on=date(2026, 6, 2), unit_id=org.home.id)
    tk.db.session.add(step)
    tk.db.session.flush()
    stored = tk.store_upload("development", tk.check_upload(FileStorage(io.BytesIO(LETTER), filename="letter.pdf"),
                                                            allowed=("pdf",), max_bytes=10_000))
    tk.db.session.add(StepFile(step_id=step.id, filename="letter.pdf", stored_name=stored,
                               content_type="application/pdf", size=len(LETTER)))
    tk.db.session.commit()
    return case


def test_my_development_as_on_my_page(client, db, org, tokens):
    case = _case(org)
    db.session.add(Mentor(case_id=case.id, member_id=org.member1.id, place="home", assigned_on=date(2026, 6, 10)))
    db.session.commit()
    body = client.get("/api/v1/development/mine", headers=tokens["member2"]).json
    own = body["case"]
    assert own["id"] == case.id and own["stage"] == "applicant" and own["applied_on"] == "2026-06-02"
    assert [step["code"] for step in own["steps"]] == ["application"]
    assert [m["member_id"] for m in own["mentors"]] == [org.member1.id]
    assert all(d["side"] == "person" for d in own["deadlines"])  # only what the person owes, as on the page
    assert body["mentored"] == []
    # the mentor sees the case they mentor, not as their own
    mentor = client.get("/api/v1/development/mine", headers=tokens["member1"]).json
    assert mentor["case"] is None and [c["id"] for c in mentor["mentored"]] == [case.id]
    # nobody else's: another member, a secretary, an account without a member record
    for who in ("outsider", "home_sec", "organizer"):
        assert client.get("/api/v1/development/mine", headers=tokens[who]).json == {"case": None, "mentored": []}
    assert client.get("/api/v1/development/mine").status_code == 401


def test_a_closed_case_owes_nothing(client, db, org, tokens):
    case = _case(org)
    case.closed_on, case.outcome, case.closed_reason = date(2026, 9, 1), "withdrawn", "Moved away"
    db.session.commit()
    own = client.get("/api/v1/development/mine", headers=tokens["member2"]).json["case"]
    assert own["id"] == case.id and own["closed_on"] == "2026-09-01" and own["deadlines"] == []


def test_a_steps_document(client, db, org, tokens):
    case = _case(org)
    file_id = case.steps[0].files[0].id
    url = f"/api/v1/development/files/{file_id}"
    own = client.get(url, headers=tokens["member2"])
    assert own.status_code == 200 and own.data == LETTER and own.mimetype == "application/pdf"
    assert client.get(url, headers=tokens["home_sec"]).status_code == 200
    before = db_fingerprint()
    for who in ("outsider", "member1"):
        refused = client.get(url, headers=tokens[who])
        assert refused.status_code == 404 and refused.json["error"]["code"] == "not_found", who
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/development/files/999999999", headers=tokens["member2"]).status_code == 404
    assert db_fingerprint() == before


def test_my_standing_lists_my_approved_leave(client, db, org):
    records.record_leave(org.member2, {"starts_on": "2026-10-01", "ends_on": "2026-12-31", "reason": "在外地治病"},
                         by=org.home_sec)
    db.session.commit()
    headers = api_token(client, "member2")
    body = client.get("/api/v1/standing/me", headers=headers).json
    assert [(leave["starts_on"], leave["ends_on"], leave["reason"]) for leave in body["leaves"]] == [
        ("2026-10-01", "2026-12-31", "在外地治病")]
    assert {"member_id", "months_without", "step", "applies", "resets"} <= set(body)  # what was there stays
    assert client.get("/api/v1/standing/me", headers=api_token(client, "member1")).json["leaves"] == []

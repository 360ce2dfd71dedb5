"""The review API (/api/v1/reviews): opening (201, a second 409), listing, the member's round and entry, the
self-assessment, anonymous ratings (self 422, twice replaces, nothing names the rater), evidence (only the
enabled plugins' keys; another's read audited), grades with the one-third check, and the results."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_review import rounds
from portal_review.models import Rating, ReviewEntry, ReviewRound
from tests.conftest import api_token
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import check_matrix, expect

YEAR = tk.local_today().year


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "home_sec", "host_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/reviews/me", headers=value)
    return headers


def _round(org, status: str = "study", extra: int = 0) -> ReviewRound:
    """The home branch's round of this year at ``status``, with ``extra`` more full members."""
    factory = Factory(tk.db)
    for number in range(extra):
        factory.member(org.home, name=f"成员{number}")
    round_ = rounds.open_round(org.home, YEAR, actor=None)
    steps = ("study", "self", "mutual", "grading")
    for step in steps[1:steps.index(status) + 1]:
        rounds.move(round_, step, actor=None)
    tk.db.session.commit()
    return round_


def test_get_permission_matrix(app, db, org):
    """Every GET route × every role: managers, the round's members (their own), the host secretary (the round)."""
    round_ = _round(org)
    managers = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "review_api.list_rounds": managers,
        "review_api.me": expect(200, anonymous=401, organizer=403, admin=403),
        "review_api.get_round": {**managers, "member1": (200,), "member2": (200,), "host_sec": (200,)},
        "review_api.get_evidence": {**managers, "member2": (200,)},
        "review_api.get_results": managers,
        # issue 21: the round's members read whom they rate; the host secretary sees the round but is not in it
        "review_api.get_ratees": expect(404, anonymous=401, member1=200, member2=200, home_sec=200, organizer=403,
                                        admin=403),
        "review_api.year_pdf": expect(200, anonymous=401, organizer=403, admin=403),
    }, blueprints={"review_api"}, url_values={
        "review_api.list_rounds": {"unit": org.home.id, "year": YEAR},
        "review_api.get_round": {"round_id": round_.id},
        "review_api.get_evidence": {"round_id": round_.id, "member_id": org.member2.id},
        "review_api.get_results": {"round_id": round_.id},
        "review_api.get_ratees": {"round_id": round_.id},
        "review_api.year_pdf": {"year": YEAR},
    })
    assert checked == 7 * 9


def test_open_then_409_then_list(client, db, org, tokens):
    response = client.post("/api/v1/reviews/rounds", json={"unit_id": org.home.id, "year": YEAR},
                           headers=tokens["home_sec"])
    assert response.status_code == 201, response.json
    assert response.json["status"] == "study" and response.json["year"] == YEAR
    round_id = response.json["id"]
    # member1 (away), member2 and the secretary (a member of the branch)
    assert db.session.scalar(select(func.count(ReviewEntry.id)).where(ReviewEntry.round_id == round_id)) == 3
    again = client.post("/api/v1/reviews/rounds", json={"unit_id": org.home.id, "year": YEAR},
                        headers=tokens["home_sec"])
    assert again.status_code == 409
    listed = client.get(f"/api/v1/reviews/rounds?unit={org.home.id}&year={YEAR}", headers=tokens["home_sec"])
    assert listed.json == {"rounds": [{"id": round_id, "unit_id": org.home.id, "year": YEAR, "status": "study"}]}
    assert client.get(f"/api/v1/reviews/rounds?unit={org.home.id}&year={YEAR - 1}",
                      headers=tokens["home_sec"]).json == {"rounds": []}


def test_open_refusals(client, db, org, tokens):
    future = client.post("/api/v1/reviews/rounds", json={"unit_id": org.home.id, "year": YEAR + 1},
                         headers=tokens["home_sec"])
    assert future.status_code == 422 and "year" in future.json["error"]["fields"]
    bad_dates = client.post("/api/v1/reviews/rounds", json={"unit_id": org.home.id, "year": YEAR,
                                                            "dates": {"self_from": "tomorrow"}},
                            headers=tokens["home_sec"])
    assert bad_dates.status_code == 422 and "self_from" in bad_dates.json["error"]["fields"]
    assert client.post("/api/v1/reviews/rounds", json={"unit_id": org.home.id, "year": YEAR},
                       headers=tokens["member2"]).status_code == 404
    assert db.session.scalar(select(func.count(ReviewRound.id))) == 0


def test_status_moves_one_step(client, db, org, tokens):
    round_ = _round(org)
    skip = client.post(f"/api/v1/reviews/rounds/{round_.id}/status", json={"status": "mutual"},
                       headers=tokens["home_sec"])
    assert skip.status_code == 409
    step = client.post(f"/api/v1/reviews/rounds/{round_.id}/status", json={"status": "self"},
                       headers=tokens["home_sec"])
    assert step.status_code == 200 and step.json["status"] == "self"


def test_self_assessment_draft_then_submit(client, db, org, tokens):
    round_ = _round(org, "self")
    url = f"/api/v1/reviews/rounds/{round_.id}/self"
    draft = client.put(url, json={"text": "草稿"}, headers=tokens["member2"])
    assert draft.status_code == 200 and draft.json["saved_at"] and draft.json["submitted_at"] is None
    done = client.put(url, json={"text": "今年我按时参加组织生活。", "submit": True}, headers=tokens["member2"])
    assert done.status_code == 200 and done.json["submitted_at"]
    mine = client.get(f"/api/v1/reviews/rounds/{round_.id}", headers=tokens["member2"]).json["mine"]
    assert mine["self_text"] == "今年我按时参加组织生活。" and mine["grade"] is None
    assert client.put(url, json={"text": ""}, headers=tokens["outsider"]).status_code == 404


def test_rating_self_422_twice_replaces_and_names_nobody(client, db, org, tokens):
    round_ = _round(org, "mutual")
    url = f"/api/v1/reviews/rounds/{round_.id}/ratings"
    own = client.post(url, json={"member_id": org.member2.id, "rating": "excellent"}, headers=tokens["member2"])
    assert own.status_code == 422 and "member_id" in own.json["error"]["fields"]
    audits = db.session.scalar(select(func.count(AuditEntry.id)))
    first = client.post(url, json={"member_id": org.member1.id, "rating": "excellent", "comment": "很好"},
                        headers=tokens["member2"])
    assert first.status_code == 201, first.json
    assert (first.json["rated"], first.json["of"]) == (1, 2)
    second = client.post(url, json={"member_id": org.member1.id, "rating": "qualified"}, headers=tokens["member2"])
    assert second.status_code == 201 and (second.json["rated"], second.json["of"]) == (1, 2)
    rows = db.session.execute(select(Rating.ratee_member_id, Rating.rating)).all()
    assert rows == [(org.member1.id, "qualified")]
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audits  # no audit entry of a rating
    mine = client.get(f"/api/v1/reviews/rounds/{round_.id}", headers=tokens["member2"]).json["mine"]
    assert (mine["rated"], mine["to_rate"]) == (1, 2)


def test_evidence_own_keys_and_audited_read(client, db, org, tokens):
    round_ = _round(org)
    url = f"/api/v1/reviews/rounds/{round_.id}/members/{org.member2.id}/evidence"
    before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "review.read"))
    own = client.get(url, headers=tokens["member2"])
    assert own.status_code == 200 and isinstance(own.json, dict)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "review.read")) == before
    read = client.get(url, headers=tokens["home_sec"])
    assert read.status_code == 200 and read.json == own.json
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "review.read")) == before + 1
    assert client.get(f"/api/v1/reviews/rounds/{round_.id}/members/{org.member2.id}/evidence",
                      headers=tokens["member1"]).status_code == 404


def test_evidence_keys_follow_the_enabled_plugins(app, client, db, org, tokens):
    round_ = _round(org)
    keys = set(client.get(f"/api/v1/reviews/rounds/{round_.id}/members/{org.member2.id}/evidence",
                          headers=tokens["home_sec"]).json)
    assert "meetings" in keys and "dues" in keys
    tk.get_manager(app).set_enabled("meetings", False)
    db.session.commit()
    without = set(client.get(f"/api/v1/reviews/rounds/{round_.id}/members/{org.member2.id}/evidence",
                             headers=tokens["home_sec"]).json)
    assert "meetings" not in without and "dues" in without


def test_grades_one_third_check_and_results(client, db, org, tokens):
    round_ = _round(org, "grading", extra=2)  # five full members: member1, member2, the secretary, two more
    url = f"/api/v1/reviews/rounds/{round_.id}/grades/"
    first = client.put(url + str(org.member2.id), json={"grade": "excellent"}, headers=tokens["home_sec"])
    assert first.status_code == 200, first.json
    assert first.json == {"member_id": org.member2.id, "grade": "excellent", "excellent": 1, "full_members": 5,
                          "exceeds_one_third": False, "warning": None}
    # member1 is away: without the host's opinion, a reason is needed
    blocked = client.put(url + str(org.member1.id), json={"grade": "excellent"}, headers=tokens["home_sec"])
    assert blocked.status_code == 409
    second = client.put(url + str(org.member1.id), json={"grade": "excellent", "reason": "流入地党组织未反馈"},
                        headers=tokens["home_sec"])
    assert second.status_code == 200
    assert second.json["excellent"] == 2 and second.json["exceeds_one_third"] is True and second.json["warning"]
    own = client.put(url + str(org.home_sec.member.id), json={"grade": "excellent"}, headers=tokens["home_sec"])
    assert own.status_code == 403
    found = client.get(f"/api/v1/reviews/rounds/{round_.id}/results", headers=tokens["home_sec"]).json
    assert found["counts"] == {"excellent": 2, "qualified": 0, "basic": 0, "unqualified": 0}
    assert found["full_members"] == 5 and found["exceeds_one_third"] is True
    assert {person["member_id"] for person in found["excellent"]} == {org.member1.id, org.member2.id}
    assert found["basic"] == [] and found["unqualified"] == []


def test_me_shows_grade_only_once_reported(client, db, org, tokens):
    round_ = _round(org, "grading")
    entry = db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                        ReviewEntry.member_id == org.member2.id))
    entry.grade, entry.feedback = "qualified", "继续保持"
    db.session.commit()
    mine = client.get("/api/v1/reviews/me", headers=tokens["member2"]).json["rounds"]
    assert [r["id"] for r in mine] == [round_.id] and mine[0]["mine"]["grade"] is None
    round_.status = "reported"
    db.session.commit()
    mine = client.get("/api/v1/reviews/me", headers=tokens["member2"]).json["rounds"][0]["mine"]
    assert mine["grade"] == "qualified" and mine["feedback"] == "继续保持"
    assert client.get("/api/v1/reviews/me", headers=tokens["outsider"]).json == {"rounds": []}


def test_refusals_in_the_readers_language(client, db, org, tokens):
    round_ = _round(org, "mutual")
    response = client.post(f"/api/v1/reviews/rounds/{round_.id}/ratings",
                           json={"member_id": org.member2.id, "rating": "excellent"},
                           headers={**tokens["member2"], "Accept-Language": "zh-CN"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Rating.id))) == 0

"""The annual review through the API (issue 21: what a member does on ``/review``): whom they rate in their
round with their own ratings so far (the rate page), and their year record (年度纪实) as PDF. The
self-assessment (draft and submit) and rating itself were already there (tests/test_review_api.py)."""
from __future__ import annotations

import pytest

from tests.conftest import api_token
from tests.helpers.permission_matrix import db_fingerprint
from tests.test_review_api import YEAR, _round


@pytest.fixture
def tokens(client, org):
    """Bearer headers; each token is used once first, so the day's login is not a test's write."""
    headers = {name: api_token(client, org.accounts[name].username)
               for name in ("member1", "member2", "outsider", "host_sec", "organizer")}
    for value in headers.values():
        client.get("/api/v1/reviews/me", headers=value)
    return headers


def test_whom_i_rate_and_my_ratings_so_far(client, db, org, tokens):
    round_ = _round(org, "mutual")
    url = f"/api/v1/reviews/rounds/{round_.id}/ratees"
    before = client.get(url, headers=tokens["member2"])
    assert before.status_code == 200, before.json
    assert before.json["open"] is True and (before.json["rated"], before.json["of"]) == (0, 2)
    names = [m["name"] for m in before.json["members"]]
    assert names == sorted(names) and org.member2.id not in {m["member_id"] for m in before.json["members"]}
    assert all(m["rating"] is None for m in before.json["members"])
    rated = client.post(f"/api/v1/reviews/rounds/{round_.id}/ratings",
                        json={"member_id": org.member1.id, "rating": "excellent", "comment": "很好"},
                        headers=tokens["member2"])
    assert rated.status_code == 201
    after = client.get(url, headers=tokens["member2"]).json
    assert (after["rated"], after["of"]) == (1, 2)
    assert {m["member_id"]: (m["rating"], m["comment"]) for m in after["members"]}[org.member1.id] == \
        ("excellent", "很好")
    # the rating is member2's alone: member1 reads nothing of it
    theirs = client.get(url, headers=tokens["member1"]).json
    assert all(m["rating"] is None for m in theirs["members"]) and theirs["rated"] == 0


def test_whom_i_rate_is_refused_outside_my_round(client, db, org, tokens):
    round_ = _round(org, "mutual")
    url = f"/api/v1/reviews/rounds/{round_.id}/ratees"
    before = db_fingerprint()
    assert client.get(url, headers=tokens["outsider"]).status_code == 404  # another branch's round
    assert client.get(url, headers=tokens["host_sec"]).status_code == 404  # sees the round, is not in it
    assert client.get(url, headers=tokens["organizer"]).status_code == 403  # no member record
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/reviews/rounds/999999/ratees", headers=tokens["member2"]).status_code == 404
    assert db_fingerprint() == before


def test_the_list_is_closed_before_mutual_assessment(client, db, org, tokens):
    round_ = _round(org, "self")
    body = client.get(f"/api/v1/reviews/rounds/{round_.id}/ratees", headers=tokens["member2"]).json
    assert body["open"] is False and body["rated"] == 0


def test_my_year_record_as_pdf(client, db, org, tokens):
    response = client.get(f"/api/v1/reviews/year/{YEAR}.pdf", headers=tokens["member2"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    for year in (1999, YEAR + 1):
        refused = client.get(f"/api/v1/reviews/year/{year}.pdf", headers=tokens["member2"])
        assert refused.status_code == 404 and refused.json["error"]["code"] == "not_found", year
    assert client.get(f"/api/v1/reviews/year/{YEAR}.pdf", headers=tokens["organizer"]).status_code == 403
    assert client.get(f"/api/v1/reviews/year/{YEAR}.pdf").status_code == 401

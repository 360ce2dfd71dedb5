"""Anonymous mutual assessment: rating, replacing, tallies, progress — and the proof that nothing names the rater."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.idempotency import _UNRECORDED
from portal_review import ratings, rounds
from portal_review.models import Rating
from tests.conftest import api_token, login


@pytest.fixture
def round_(db, org, factory):
    """The home branch's round of this year at mutual assessment: home_sec, member1, member2 and member3."""
    org.member3 = factory.member(org.home, "member3", name="赵敏")
    opened = rounds.open_round(org.home, tk.local_today().year, actor=org.home_sec)
    rounds.move(opened, "self", actor=org.home_sec)
    rounds.move(opened, "mutual", actor=org.home_sec)
    return opened


def test_rate_replace_tallies_and_progress(db, org, round_):
    today = tk.local_today()
    first = ratings.rate(round_, org.member2, org.member1.id, "qualified", "Steady.", today=today)
    assert ratings.progress(round_, org.member2) == (1, 3)
    again = ratings.rate(round_, org.member2, org.member1.id, "excellent", "  Helps everyone. ", today=today)
    assert again.id == first.id and db.session.query(Rating).count() == 1  # replaced, not added
    ratings.rate(round_, org.member3, org.member1.id, "excellent", "A good neighbour.", today=today)
    ratings.rate(round_, org.member3, org.member2.id, "basic", "", today=today)
    tallies = ratings.tallies(round_)
    assert tallies[org.member1.id] == {"excellent": 2, "qualified": 0, "basic": 0, "unqualified": 0, "count": 2,
                                       "comments": ["A good neighbour.", "Helps everyone."]}  # sorted, stripped
    assert tallies[org.member2.id]["basic"] == 1 and tallies[org.member2.id]["comments"] == []
    assert tallies[org.member3.id]["count"] == 0
    assert ratings.progress(round_, org.member3) == (2, 3)
    assert set(ratings.rated_ids(round_, org.member3)) == {org.member1.id, org.member2.id}
    assert ratings.progress(round_, org.outsider) == (0, 0)


def test_rate_refusals(db, org, round_):
    today = tk.local_today()
    with pytest.raises(tk.Invalid) as self_rating:
        ratings.rate(round_, org.member2, org.member2.id, "excellent", today=today)
    assert "member_id" in self_rating.value.field_errors
    with pytest.raises(tk.Invalid) as stranger:
        ratings.rate(round_, org.member2, org.outsider.id, "excellent", today=today)
    assert "member_id" in stranger.value.field_errors
    with pytest.raises(tk.Forbidden):
        ratings.rate(round_, org.outsider, org.member2.id, "excellent", today=today)
    with pytest.raises(tk.Invalid) as bad:
        ratings.rate(round_, org.member2, org.member1.id, "superb", "x" * 501, today=today)
    assert set(bad.value.field_errors) == {"rating", "comment"}
    round_.mutual_from, round_.mutual_until = today + timedelta(days=1), today + timedelta(days=5)
    db.session.commit()
    with pytest.raises(tk.Conflict):  # before the window
        ratings.rate(round_, org.member2, org.member1.id, "excellent", today=today)
    with pytest.raises(tk.Conflict):  # after it
        ratings.rate(round_, org.member2, org.member1.id, "excellent", today=today + timedelta(days=6))
    ratings.rate(round_, org.member2, org.member1.id, "excellent", today=today + timedelta(days=5))
    assert db.session.query(Rating).one().rated_on == today + timedelta(days=5)  # a day, never a time


def test_rating_only_during_mutual(db, org, factory):
    opened = rounds.open_round(org.home, tk.local_today().year, actor=org.home_sec)
    with pytest.raises(tk.Conflict):  # still at study
        ratings.rate(opened, org.member2, org.member1.id, "excellent")


def _every_row(db) -> dict[str, list[dict]]:
    """Every row of every table of the application, as dicts (JSON columns as text)."""
    db.session.expire_all()
    dump = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).mappings().all()
        dump[table.name] = [{key: json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list))
                             else value for key, value in row.items()} for row in rows]
    return dump


def _mentions(row: dict, needles: set[str], *, id_columns: tuple[str, ...]) -> set[str]:
    """The needles a row holds: exactly, in a column named like ``id_columns``; or, with ``id_columns`` empty
    (words: names, usernames, texts), inside any text."""
    found = set()
    for column, value in row.items():
        if value is None:
            continue
        for needle in needles:
            if id_columns and column.endswith(id_columns) and str(value) == needle:
                found.add(needle)
            elif not id_columns and isinstance(value, str) and needle in value:
                found.add(needle)
    return found


def test_unrated_routes_are_unrecorded(app):
    """The rating routes leave no double-submission row (it would keep the rater's account with the request)."""
    for endpoint in ("review.rate", "review_api.post_rating"):
        assert getattr(app.view_functions[endpoint], _UNRECORDED, False), endpoint


@pytest.mark.parametrize("route", ["api", "web"])
def test_anonymity_no_row_links_the_rater_to_the_rating(app, db, org, round_, route):
    """After member2 rates member1 through the real route, no row of any table holds member2's account or member id
    (or username, name) together with the rating: not the rating row, nor an audit entry, activity, notification,
    idempotency or submission-token row, nor anything else. The rating row itself holds only the HMAC key."""
    rater, ratee = org.member2, org.member1
    client = app.test_client()
    if route == "api":
        headers = {**api_token(client, rater.account.username), "Idempotency-Key": "rate-1"}
        client.get("/api/v1/reviews/me", headers=headers)  # the token's first use is recorded now, not with the rating
        before = _every_row(db)
        response = client.post(f"/api/v1/reviews/rounds/{round_.id}/ratings", headers=headers,
                               json={"member_id": ratee.id, "rating": "unqualified", "comment": "Rarely seen here."})
        assert response.status_code == 201, response.get_data(as_text=True)
        assert (response.json["rated"], response.json["of"]) == (1, 3)
    else:
        login(client, rater.account.username)
        page = client.get(f"/review/{round_.id}/rate").get_data(as_text=True)
        assert 'name="submission_token"' in page  # the form carries the one-time token; the route must not keep it
        token = page.split('name="submission_token" value="')[1].split('"')[0]
        before = _every_row(db)
        response = client.post(f"/review/{round_.id}/rate/{ratee.id}",
                               data={"rating": "unqualified", "comment": "Rarely seen here.", "submission_token": token})
        assert response.status_code in (302, 303), response.get_data(as_text=True)
    rating = db.session.scalar(select(Rating))
    assert rating is not None and rating.rating == "unqualified" and rating.ratee_member_id == ratee.id

    dump = _every_row(db)
    rater_ids = {str(rater.account_id), str(rater.id)}
    rater_words = {rater.account.username, rater.name}
    for name, rows in dump.items():  # what the request wrote or changed names the rater nowhere (timing links too)
        for row in rows:
            if row not in before.get(name, []):
                named = (_mentions(row, rater_ids, id_columns=("account_id", "member_id", "actor_id", "user_id"))
                         | _mentions(row, rater_words, id_columns=()))
                assert not named, f"{name} row {row}, written by the rating, names the rater: {named}"
    rating_marks_ids = {str(rating.id), str(ratee.id), str(ratee.account_id)}
    rating_marks_words = {"unqualified", "Rarely seen here.", rating.rater_key, ratee.name}
    id_columns = ("account_id", "member_id", "actor_id", "user_id", "target_id")
    for name, rows in dump.items():
        for row in rows:
            names_rater = (_mentions(row, rater_ids, id_columns=id_columns)
                           or _mentions(row, rater_words, id_columns=()) or (name in ("member", "account")
                                                                             and str(row["id"]) in rater_ids))
            if not names_rater or name in ("member", "account"):
                # The rater's own member/account rows say nothing of the rating: checked below by content.
                if name in ("member", "account") and names_rater:
                    assert not _mentions(row, rating_marks_words, id_columns=()), f"{name} row names the rating"
                continue
            linked = (_mentions(row, rating_marks_ids, id_columns=id_columns + ("ratee_member_id",))
                      | _mentions(row, rating_marks_words, id_columns=()))
            assert not linked, f"{name} row {row} links the rater to the rating: {linked}"
    for row in dump["review_rating"]:  # the rating row holds no rater at all, in any form
        assert not _mentions(row, rater_ids, id_columns=("member_id", "account_id"))
        assert not _mentions(row, rater_words, id_columns=())
        assert row["rater_key"] != hashlib.sha256(f"{rater.id}:{ratee.id}".encode()).hexdigest()
    assert not dump["api_idempotency_key"] and not dump["submission_token"]  # unrecorded
    for table in ("audit_entry", "activity"):  # the rating wrote nothing of the kind
        assert not any("rating" in json.dumps(row, default=str) for row in dump.get(table, []))


def test_after_mutual_the_secret_is_gone(db, org, round_):
    """Past mutual assessment: no replacing (Conflict), no progress, and no stored value recomputes a rater key."""
    today = tk.local_today()
    rating = ratings.rate(round_, org.member2, org.member1.id, "qualified", today=today)
    key = rating.rater_key
    rounds.move(round_, "grading", actor=org.home_sec)
    db.session.expire_all()
    assert round_.ballot_secret is None
    with pytest.raises(tk.Conflict):
        ratings.rate(round_, org.member2, org.member1.id, "excellent", today=today)
    assert ratings.progress(round_, org.member2) == (0, 3) and ratings.rated_ids(round_, org.member2) == {}
    assert ratings.tallies(round_)[org.member1.id]["qualified"] == 1  # the tally stays
    message = f"{org.member2.id}:{org.member1.id}".encode()
    for rows in _every_row(db).values():  # try every stored text as the secret: none is it any more
        for row in rows:
            for value in row.values():
                if isinstance(value, str) and value:
                    assert hmac.new(value.encode(), message, hashlib.sha256).hexdigest() != key


def test_rated_on_is_a_day(db, org, round_):
    rating = ratings.rate(round_, org.member2, org.member1.id, "qualified", today=date(2026, 11, 30))
    assert type(rating.rated_on) is date


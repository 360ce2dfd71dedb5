"""Forms written offline are sent later by offline-queue.js with an ``Idempotency-Key`` header (issue 21):
the same POST replayed with the same key runs once, through the real web routes; the daily quiz is scored
when it arrives and a day that is over is refused with a clear message (web and API)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_care.models import CareRequest
from portal_quizzes import formats, services
from portal_quizzes.models import DailyResult, Question
from portal_reports import schedule
from portal_reports.models import Report
from tests.conftest import login

CARE_FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
             "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}
HOME_FORM = {**{k: v for k, v in CARE_FORM.items() if k != "consent_host"}, "where": "hometown"}
KEY = {"Idempotency-Key": "6f1d0c2a9b8e4f7d8c6b5a4f3e2d1c0b"}


def _count(db, column, *where) -> int:
    db.session.rollback()  # a fresh snapshot: the requests committed in their own transactions
    return db.session.scalar(select(func.count(column)).where(*where))


def _daily(db) -> dict[str, int]:
    services.import_parsed(formats.parse_gift("::a::Dues monthly? {T}\n\n::b::Report within? {#15}", "d.gift",
                                              ("每日答题",)))
    db.session.commit()
    return {q.name: q.id for q in db.session.scalars(select(Question))}


def test_daily_quiz_sent_twice_with_one_key_is_scored_once(client, db, org):
    ids = _daily(db)
    login(client, "member2")
    today = tk.local_today().isoformat()
    form = {f"q{ids['a']}": "true", f"q{ids['b']}": "15", "day": today}
    first = client.post("/quizzes/daily", data=form, headers=KEY)
    again = client.post("/quizzes/daily", data=form, headers=KEY)  # the answer to the first was lost: sent again
    assert first.status_code == 302 and again.status_code == 303 and again.location == first.location
    assert "already sent" in client.get(again.location).get_data(as_text=True)
    assert _count(db, DailyResult.id) == 1
    assert _count(db, tk.Activity.id, tk.Activity.verb == "daily_quiz.completed") == 1
    # another key (the same answers sent from a second phone): the once-a-day rule still holds
    other = client.post("/quizzes/daily", data=form, headers={"Idempotency-Key": "second-phone"})
    assert other.status_code == 303
    assert "already done today" in client.get(other.location).get_data(as_text=True)
    assert _count(db, DailyResult.id) == 1


def test_daily_quiz_of_a_day_that_is_over_is_refused_and_not_counted(client, db, org):
    ids = _daily(db)
    login(client, "member2")
    yesterday = (tk.local_today() - timedelta(days=1)).isoformat()
    late = client.post("/quizzes/daily", data={f"q{ids['a']}": "true", "day": yesterday}, headers=KEY)
    assert late.status_code == 303
    page = client.get(late.location).get_data(as_text=True)
    assert "is closed" in page and "were not counted" in page and 'class="flash warning"' in page
    assert client.post("/quizzes/daily", data={"day": "not-a-day"}).status_code == 400
    assert _count(db, DailyResult.id) == 0
    # the API says the same to a phone app, with a code it can act on
    answers = {"answers": {str(ids["a"]): True, str(ids["b"]): 15}}
    closed = client.post("/api/v1/daily-quiz", json={**answers, "date": yesterday})
    assert closed.status_code == 409 and closed.json["error"]["code"] == "day_closed"
    assert client.post("/api/v1/daily-quiz", json={**answers, "date": 20260101}).status_code == 422
    assert client.post("/api/v1/daily-quiz", json={**answers, "date": "2026-02-30"}).status_code == 422
    assert _count(db, DailyResult.id) == 0
    done = client.post("/api/v1/daily-quiz", json={**answers, "date": tk.local_today().isoformat()})
    assert done.status_code == 200 and done.json["correct"] == 2
    assert _count(db, DailyResult.id) == 1


def test_care_request_sent_twice_with_one_key_is_filed_once(app, client, db, org):
    login(client, "member1")
    first = client.post("/care/new", data=CARE_FORM, headers=KEY)
    again = client.post("/care/new", data=CARE_FORM, headers=KEY)
    assert first.status_code == 302 and again.status_code == 303 and again.location == first.location
    assert _count(db, CareRequest.id) == 1
    # a key is the account's own: another member's request with the same key is filed, not taken for a repeat
    other = app.test_client()
    login(other, "member2")
    assert other.post("/care/new", data=HOME_FORM, headers=KEY)\
        .status_code == 302
    assert _count(db, CareRequest.id) == 2


def test_a_refused_form_may_be_sent_again_with_its_key(client, db, org):
    """A refusal is no answer to keep: corrected and sent again under the same key, it runs."""
    login(client, "member1")
    refused = client.post("/care/new", data={**CARE_FORM, "title": ""}, headers=KEY)
    assert refused.status_code == 422 and _count(db, CareRequest.id) == 0
    assert client.post("/care/new", data=CARE_FORM, headers=KEY).status_code == 302
    assert _count(db, CareRequest.id) == 1


def test_report_sent_twice_with_one_key_is_submitted_once(client, db, org):
    login(client, "member1")
    period = schedule.writable_periods(org.member1)[0]
    first = client.post(f"/reports/write/{period}", data={"body": "The whole report, written offline."}, headers=KEY)
    assert first.status_code == 302
    report = db.session.scalar(select(Report))
    submitted_at = report.submitted_at
    again = client.post(f"/reports/write/{period}", data={"body": "The whole report, written offline."}, headers=KEY)
    assert again.status_code == 303 and again.location == first.location
    assert _count(db, Report.id) == 1
    report = db.session.scalar(select(Report))
    assert (report.status, report.submitted_at) == ("submitted", submitted_at)
    # without the key the repeat reaches the report, which refuses it: it was sent already
    assert client.post(f"/reports/write/{period}", data={"body": "Again"}).status_code == 409

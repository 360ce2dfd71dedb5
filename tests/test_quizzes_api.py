"""The JSON API: quizzes, attempts saved answer by answer, submit once (also under concurrency), the daily quiz."""
import threading
from datetime import timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_quizzes import formats, services
from portal_quizzes.models import Attempt, DailyResult, Response
from tests.conftest import api_token
from tests.test_quizzes_helpers import make_quiz, right_value


def _count(db, model, *where):
    db.session.rollback()  # end this session's snapshot: see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _verbs(db, verb):
    return _count(db, tk.Activity, tk.Activity.verb == verb)


def test_take_a_quiz_through_the_api(client, db, org):
    quiz = make_quiz(db, pass_percent=80)
    headers = api_token(client, "member1")
    info = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).json
    assert info["title"] == "Test quiz" and info["attempts"] == [] and info["current_attempt"] is None

    started = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers)
    assert started.status_code == 201
    body = started.json
    assert [q["type"] for q in body["questions"]] == ["single", "truefalse", "numerical", "shortanswer", "multi"]
    flat = str(body["questions"])
    assert "fraction" not in flat and "feedback" not in flat  # no answers leak before submitting
    capital = body["questions"][0]
    beijing = next(o["id"] for o in capital["options"] if o["text"] == "Beijing")
    saved = client.put(f"/api/v1/attempts/{body['id']}/answers/{capital['id']}", json={"answer": beijing}, headers=headers)
    assert saved.status_code == 200 and saved.json["answer"] == beijing

    # a reload (or another phone) resumes the same attempt with the answer kept
    resumed = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers)
    assert resumed.status_code == 200 and resumed.json["id"] == body["id"]
    assert resumed.json["answers"] == {str(capital["id"]): beijing}

    db.session.expire_all()
    attempt = db.session.get(Attempt, body["id"])
    for _entry, question in services.attempt_questions(attempt)[1:]:
        answer = right_value(question)
        response = client.put(f"/api/v1/attempts/{attempt.id}/answers/{question.id}", json={"answer": answer},
                              headers=headers)
        assert response.status_code == 200, response.json
    result = client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers).json
    assert result["counted"] is True and result["score"] == 5.0 and result["passed"] is True
    assert result["review"][0]["right_answer"] == "Beijing"
    again = client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers).json
    assert again["counted"] is False and again["score"] == 5.0
    late = client.put(f"/api/v1/attempts/{attempt.id}/answers/{capital['id']}", json={"answer": beijing}, headers=headers)
    assert late.status_code == 409
    assert _verbs(db, "quiz.attempted") == 1 and _verbs(db, "quiz.passed") == 1


def test_bad_input_is_refused_and_changes_nothing(client, db, org):
    quiz = make_quiz(db)
    headers = api_token(client, "member1")
    body = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers).json
    qid = body["questions"][0]["id"]
    url = f"/api/v1/attempts/{body['id']}/answers/{qid}"
    assert client.put(url, json={"answer": "not-a-choice"}, headers=headers).status_code == 400
    assert client.put(url, json={}, headers=headers).status_code == 400
    assert client.put(url, json={"nothing": 1}, headers=headers).status_code == 422  # unknown field (issue 14)
    assert client.put(url, data="garbage", headers=headers).status_code == 400
    assert client.put(f"/api/v1/attempts/{body['id']}/answers/999999", json={"answer": "x"}, headers=headers).status_code == 404
    assert _count(db, Response) == 0
    # someone else's attempt and someone else's quiz are invisible
    other = api_token(client, "member2")
    assert client.put(url, json={"answer": body["questions"][0]["options"][0]["id"]}, headers=other).status_code == 404
    assert client.post(f"/api/v1/attempts/{body['id']}/submit", headers=other).status_code == 404
    unit_quiz = make_quiz(db, title="Host only", unit_id=org.host.id)
    assert client.get(f"/api/v1/quizzes/{unit_quiz.id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/quizzes/{unit_quiz.id}", headers=headers).status_code == 200  # member1 is hosted there
    assert client.get(f"/api/v1/quizzes/{quiz.id}").status_code == 401
    assert _count(db, Response) == 0 and _count(db, Attempt, Attempt.state != "in_progress") == 0


def test_time_limit_through_the_api(client, db, org, monkeypatch):
    quiz = make_quiz(db, time_limit_minutes=5)
    headers = api_token(client, "member1")
    body = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers).json
    question = body["questions"][1]  # true/false
    start = tk.utcnow()
    monkeypatch.setattr(tk, "utcnow", lambda: start + timedelta(minutes=6))
    late = client.put(f"/api/v1/attempts/{body['id']}/answers/{question['id']}", json={"answer": True}, headers=headers)
    assert late.status_code == 409
    state = client.get(f"/api/v1/attempts/{body['id']}", headers=headers).json
    assert state["state"] == "finished" and state["answers"] == {} and state["score"] == 0.0


def _concurrently(count, target):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = target()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_double_submit_counts_once_under_concurrency(app, client, db, org):
    quiz = make_quiz(db, pass_percent=50)
    headers = api_token(client, "member1")
    body = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers).json
    attempt = db.session.get(Attempt, body["id"])
    for _entry, question in services.attempt_questions(attempt):
        client.put(f"/api/v1/attempts/{attempt.id}/answers/{question.id}", json={"answer": right_value(question)},
                   headers=headers)

    url = f"/api/v1/attempts/{attempt.id}/submit"

    def submit():
        response = app.test_client().post(url, headers=headers)
        return response.status_code, response.json.get("counted"), response.json.get("score")

    results = _concurrently(4, submit)
    assert all(status == 200 and score == 5.0 for status, _c, score in results), results
    assert sorted(counted for _s, counted, _sc in results) == [False, False, False, True]
    assert _verbs(db, "quiz.attempted") == 1 and _verbs(db, "quiz.passed") == 1 and _verbs(db, "quiz.failed") == 0


def test_concurrent_starts_give_one_attempt(app, client, db, org):
    quiz = make_quiz(db)
    headers = api_token(client, "member1")
    url = f"/api/v1/quizzes/{quiz.id}/attempts"
    results = _concurrently(3, lambda: app.test_client().post(url, headers=headers).json["id"])
    assert len(set(results)) == 1
    assert _count(db, Attempt) == 1


DAILY = "\n\n".join(f"::d{i}::每日问题 {i} {{=对{i} ~错{i}}}" for i in range(8))


def _daily(db):
    services.import_parsed(formats.parse_gift(DAILY, "daily.gift", ("每日答题",)))
    db.session.commit()


def test_daily_quiz_api(client, db, org):
    _daily(db)
    headers = api_token(client, "member1")
    today = client.get("/api/v1/daily-quiz", headers=headers).json
    assert len(today["questions"]) == 5 and today["date"] == tk.local_today().isoformat()
    assert set(today["questions"][0]) >= {"id", "type", "text", "options"}
    assert "fraction" not in str(today["questions"])
    assert client.get("/api/v1/daily-quiz", headers=headers).json["questions"] == today["questions"]  # stable
    answers = {str(q["id"]): next(o["id"] for o in q["options"] if o["text"].startswith("对")) for q in today["questions"]}
    first_id = str(today["questions"][0]["id"])
    answers[first_id] = next(o["id"] for o in today["questions"][0]["options"] if o["text"].startswith("错"))
    done = client.post("/api/v1/daily-quiz", json={"answers": answers}, headers=headers)
    assert done.status_code == 200
    assert (done.json["score"], done.json["max_score"]) == (4.0, 5.0)
    assert [r["correct"] for r in done.json["results"]] == [False, True, True, True, True]
    second = client.post("/api/v1/daily-quiz", json={"answers": answers}, headers=headers)
    assert second.status_code == 409 and second.json["error"]["code"] == "conflict"
    assert client.post("/api/v1/daily-quiz", json={"answers": "x"}, headers=api_token(client, "member2")).status_code == 400
    assert _count(db, DailyResult) == 1
    activity = db.session.scalar(select(tk.Activity).where(tk.Activity.verb == "daily_quiz.completed"))
    assert activity.extras["correct"] == 4 and activity.extras["score"] == 4.0 and activity.extras["max_score"] == 5.0


def test_concurrent_daily_submissions_score_once(app, client, db, org):
    _daily(db)
    headers = api_token(client, "member2")
    statuses = _concurrently(3, lambda: app.test_client().post("/api/v1/daily-quiz", json={"answers": {}},
                                                               headers=headers).status_code)
    assert sorted(statuses) == [200, 409, 409]
    assert _count(db, DailyResult) == 1 and _verbs(db, "daily_quiz.completed") == 1


def test_openapi_lists_the_quiz_paths(client, db, org):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/daily-quiz", "/api/v1/quizzes/{quiz_id}", "/api/v1/quizzes/{quiz_id}/attempts",
                 "/api/v1/attempts/{attempt_id}/answers/{question_id}", "/api/v1/attempts/{attempt_id}/submit"):
        assert path in paths

"""JSON API of quizzes and the daily quiz under /api/v1 (blueprint ``quizzes_api``)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_quizzes import grading, services
from portal_quizzes.models import Attempt, Quiz

bp = Blueprint("quizzes_api", __name__, url_prefix="/api/v1")


def _member():
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members take quizzes."))
    return member


def _quiz_for(quiz_id: int, member) -> Quiz:
    quiz = tk.db.session.get(Quiz, quiz_id)
    if quiz is None or not services.is_assigned(quiz, member):
        raise tk.NotFound(_("Not found."))
    return quiz


def _own_attempt(attempt_id: int, member) -> Attempt:
    attempt = tk.db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.member_id != member.id:
        raise tk.NotFound(_("Not found."))
    return attempt


def attempt_json(attempt: Attempt, now) -> dict:
    responses = services.responses_by_question(attempt)
    body = {"id": attempt.id, "quiz_id": attempt.quiz_id, "number": attempt.number, "state": attempt.state,
            "started_at": tk.isoformat(attempt.started_at),
            "deadline": tk.isoformat(attempt.deadline),
            "submitted_at": tk.isoformat(attempt.submitted_at),
            "questions": [], "answers": {str(qid): r.value for qid, r in responses.items()}}
    for entry, question in services.attempt_questions(attempt):
        item = services.public_question(question, entry.get("order"))
        item["mark"] = entry["mark"]
        body["questions"].append(item)
    if attempt.state != "in_progress":
        body.update(score=attempt.score, max_score=attempt.max_score, percent=attempt.percent,
                    correct=attempt.correct, passed=services.has_passed(attempt.quiz, attempt.member))
        if services.can_review(attempt, now):
            services.preload_seen_versions(attempt, responses)
            body["review"] = [_review_item(question, services.seen_version(entry, question, responses.get(question.id)),
                                           responses.get(question.id), attempt.quiz)
                              for entry, question in services.attempt_questions(attempt)]
    return body


def _review_item(question, seen, response, quiz) -> dict:
    """One reviewed question: ``seen`` is the version the member answered (its text and feedback are shown)."""
    value = response.value if response else None
    item = {"id": question.id, "fraction": response.fraction if response else 0.0, "text": seen.text,
            "text_format": seen.text_format, "text_html": services.render_question_text(seen.text, seen.text_format)}
    if quiz.review_show_answers:
        item["right_answer"] = grading.right_answer_text(question.qtype, question.data)
    if quiz.review_show_feedback:
        item["feedback"] = grading.feedback_for(question.qtype, question.data, value)
        item["feedback_html"] = [services.render_question_text(text, seen.text_format) for text in item["feedback"]]
        item["general_feedback"] = seen.general_feedback
        item["general_feedback_html"] = services.render_question_text(seen.general_feedback, seen.text_format)
        item["comment"] = response.comment if response else ""
    return item


@bp.get("/quizzes")
@tk.api_login_required
def quizzes():
    """The member's quizzes (published and assigned to them, newest first) as the web's quiz page lists them, paged."""
    member = _member()
    now = tk.utcnow()
    ids = [quiz.id for quiz in services.available_quizzes(member)]

    def row(quiz: Quiz) -> dict:
        current = services.open_attempt(quiz, member)
        return {"id": quiz.id, "title": services.display_title(quiz), "course": quiz.course_slug,
                "open": services.is_open(quiz, now), "closes_at": tk.isoformat(quiz.closes_at),
                "grade": services.quiz_grade(quiz, member), "passed": services.has_passed(quiz, member),
                "current_attempt": current.id if current else None}

    return jsonify(tk.api_page(select(Quiz).where(Quiz.id.in_(ids)).order_by(Quiz.id.desc()), row, key="quizzes"))


@bp.get("/quizzes/<int:quiz_id>")
@tk.api_login_required
def quiz(quiz_id: int):
    """A quiz's rules, the member's attempts and grade."""
    member = _member()
    quiz = _quiz_for(quiz_id, member)
    now = tk.utcnow()
    attempts = services.member_attempts(quiz, member)
    current = services.open_attempt(quiz, member)
    return jsonify({
        "id": quiz.id, "title": services.display_title(quiz), "description": quiz.description,
        "course": quiz.course_slug, "open": services.is_open(quiz, now),
        "opens_at": tk.isoformat(quiz.opens_at),
        "closes_at": tk.isoformat(quiz.closes_at),
        "time_limit_minutes": quiz.time_limit_minutes, "attempts_allowed": quiz.attempts_allowed,
        "grading_method": quiz.grading_method, "pass_percent": quiz.pass_percent,
        "grade": services.quiz_grade(quiz, member), "passed": services.has_passed(quiz, member),
        "attempts": [{"id": a.id, "number": a.number, "state": a.state, "score": a.score, "max_score": a.max_score,
                      "percent": a.percent} for a in attempts],
        "current_attempt": current.id if current else None,
    })


@bp.post("/quizzes/<int:quiz_id>/attempts")
@tk.api_login_required
def start(quiz_id: int):
    """Start an attempt, or resume the open one (200 with the saved answers)."""
    member = _member()
    quiz = _quiz_for(quiz_id, member)
    now = tk.utcnow()
    attempt, created = services.start_attempt(quiz, member, now)
    tk.db.session.commit()
    return jsonify(attempt_json(attempt, now)), 201 if created else 200


@bp.get("/attempts/<int:attempt_id>")
@tk.api_login_required
def attempt(attempt_id: int):
    """An attempt with its questions and saved answers (and the review, when allowed)."""
    member = _member()
    attempt = _own_attempt(attempt_id, member)
    now = tk.utcnow()
    if services.close_if_overdue(attempt, now):
        tk.db.session.commit()
    return jsonify(attempt_json(attempt, now))


@bp.put("/attempts/<int:attempt_id>/answers/<int:question_id>")
@tk.api_login_required
def save_answer(attempt_id: int, question_id: int):
    """Save one answer as it is given: ``{"answer": …}``. 409 once the attempt is over or the time is up."""
    member = _member()
    attempt = _own_attempt(attempt_id, member)
    data = tk.api_json()
    if "answer" not in data:
        return tk.api_error(400, "bad_request", _("Send {\"answer\": …}."), {"answer": _("Required.")})
    now = tk.utcnow()
    try:
        response = services.save_response(attempt, question_id, data["answer"], now)
    except tk.ServiceError:
        tk.db.session.commit()  # an overdue attempt was closed: keep that
        raise
    tk.db.session.commit()
    return jsonify({"question_id": question_id, "answer": response.value, "saved_at": tk.isoformat(response.saved_at)})


@bp.post("/attempts/<int:attempt_id>/submit")
@tk.api_login_required
def submit(attempt_id: int):
    """Finish the attempt. Submitting again (a retry) answers the same result and counts nothing twice."""
    member = _member()
    attempt = _own_attempt(attempt_id, member)
    now = tk.utcnow()
    attempt, counted = services.submit_attempt(attempt.id, now)
    tk.db.session.commit()
    body = attempt_json(attempt, now)
    body["counted"] = counted
    return jsonify(body)


@bp.get("/daily-quiz")
@tk.api_login_required
def daily():
    """Today's questions without answers (and the result once done)."""
    member = _member()
    if not services.setting("daily_enabled"):
        raise tk.NotFound(_("The daily quiz is switched off."))
    now = tk.utcnow()
    day = tk.local_today(now)
    done = services.daily_result(member, day)
    body = {"date": day.isoformat(), "questions": [services.public_question(q) for q in services.daily_questions(member, day)],
            "done": done is not None, "streak": services.streak(member, day)}
    if done is not None:
        body.update(score=done.score, max_score=done.max_score, correct=done.correct, results=done.results)
    return jsonify(body)


def _shown_day(value: object) -> date | None:
    """The optional ``"date"`` the questions were fetched for (answers given offline arrive later)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise tk.Invalid(_("Please correct the marked fields."), {"date": _("Enter a date like 2026-05-01.")})


@bp.post("/daily-quiz")
@tk.api_login_required
def daily_submit():
    """``{"answers": {question_id: answer}, "date"?}`` → score; a second submission the same day, or answers
    for a ``date`` that is over, is 409."""
    member = _member()
    data = tk.api_json()
    answers = data.get("answers")
    if not isinstance(answers, dict):
        return tk.api_error(400, "bad_request", _("Send the answers as an object keyed by question id."),
                            {"answers": _("Required.")})
    now = tk.utcnow()
    row = services.submit_daily(member, answers, now, for_day=_shown_day(data.get("date")))
    tk.db.session.commit()
    return jsonify({"date": row.day.isoformat(), "score": row.score, "max_score": row.max_score,
                    "correct": row.correct, "results": row.results,
                    "streak": services.streak(member, row.day)})


_ERR = {"$ref": "#/components/responses/Error"}
_QUESTION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "type": {"type": "string"}, "text": {"type": "string"}, "html": {"type": "string"},
    "text_format": {"type": "string", "enum": ["markdown", "html", "plain", "moodle"]},
    "text_html": {"type": "string", "description": "the text rendered in its format and sanitized"},
    "options": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "text": {"type": "string"}, "html": {"type": "string"}}}}}}
_ATTEMPT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "state": {"type": "string"}, "deadline": {"type": "string", "nullable": True},
    "questions": {"type": "array", "items": _QUESTION}, "answers": {"type": "object"},
    "score": {"type": "number"}, "max_score": {"type": "number"}}}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


OPENAPI_PATHS = {
    "/api/v1/quizzes": {"get": {
        "summary": "The member's quizzes (published, assigned to them), newest first, with grade and open attempt, paged",
        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "responses": tk.openapi_responses("400", "403", schema={"type": "object", "properties": {
            "quizzes": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}, "course": {"type": "string", "nullable": True},
                "open": {"type": "boolean"}, "closes_at": {"type": "string", "nullable": True},
                "grade": {"type": "number", "nullable": True}, "passed": {"type": "boolean"},
                "current_attempt": {"type": "integer", "nullable": True}}}},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "next": {"type": "string", "nullable": True}}})}},
    "/api/v1/quizzes/{quiz_id}": {"get": {
        "summary": "A quiz, the member's attempts and grade",
        "parameters": [{"name": "quiz_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The quiz", **_json({"type": "object"})}, "401": _ERR, "404": _ERR}}},
    "/api/v1/quizzes/{quiz_id}/attempts": {"post": {
        "summary": "Start an attempt (201) or resume the open one (200)",
        "parameters": [{"name": "quiz_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "Resumed", **_json(_ATTEMPT)}, "201": {"description": "Started", **_json(_ATTEMPT)},
                      "401": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/attempts/{attempt_id}": {"get": {
        "summary": "An attempt with its questions and saved answers",
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The attempt", **_json(_ATTEMPT)}, "401": _ERR, "404": _ERR}}},
    "/api/v1/attempts/{attempt_id}/answers/{question_id}": {"put": {
        "summary": "Save one answer (choice id, list of ids, true/false, text, number, or {item: option})",
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "question_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["answer"],
                                                   "properties": {"answer": {}}})},
        "responses": {"200": {"description": "Saved", **_json({"type": "object"})}, "400": _ERR, "401": _ERR,
                      "404": _ERR, "409": _ERR}}},
    "/api/v1/attempts/{attempt_id}/submit": {"post": {
        "summary": "Finish an attempt (idempotent: a second submit changes nothing)",
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The graded attempt", **_json(_ATTEMPT)}, "401": _ERR, "404": _ERR}}},
    "/api/v1/daily-quiz": {
        "get": {"summary": "Today's daily quiz questions (without answers)",
                "responses": {"200": {"description": "Questions", **_json({"type": "object", "properties": {
                    "date": {"type": "string", "format": "date"},
                    "questions": {"type": "array", "items": _QUESTION}}})}, "401": _ERR, "404": _ERR}},
        "post": {"summary": "Submit today's answers once",
                 "requestBody": {"required": True, **_json({"type": "object", "required": ["answers"],
                                                            "properties": {"answers": {"type": "object"}, "date": {
                                                                "type": "string", "format": "date",
                                                                "description": "the day the questions were fetched "
                                                                "for; 409 when that day is over"}}})},
                 "responses": {"200": {"description": "Score", **_json({"type": "object", "properties": {
                     "score": {"type": "number"}, "max_score": {"type": "number"},
                     "results": {"type": "array", "items": {"type": "object"}}}})},
                     "400": _ERR, "401": _ERR, "404": _ERR, "409": _ERR, "422": _ERR}}},
}

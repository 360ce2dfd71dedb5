"""What quizzes hold about a member (personal data export) and their part of the member summary."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_quizzes.models import Attempt, DailyResult, Question, QuestionVersion
from portal_quizzes.services import display_title

db = tk.db

STATE_LABELS = {"in_progress": _l("in progress"), "finished": _l("finished"),
                "needs_grading": _l("waiting for grading")}


def personal_data(member) -> list[tk.PersonalSection]:
    """Every quiz attempt (with its answers as text) and daily quiz result of ``member``."""
    attempts = db.session.scalars(select(Attempt).where(Attempt.member_id == member.id).order_by(Attempt.id)).all()
    daily = db.session.scalars(select(DailyResult).where(DailyResult.member_id == member.id)
                               .order_by(DailyResult.day)).all()
    return [
        tk.PersonalSection("attempts", _l("Quiz attempts"), (
            ("quiz", _l("Quiz")), ("attempt", _l("Attempt"), "number"), ("started_at", _l("Started"), "datetime"),
            ("submitted_at", _l("Submitted"), "datetime"), ("state", _l("State"), "choice", STATE_LABELS),
            ("score", _l("Score"), "number"), ("max_score", _l("Out of"), "number"),
            ("answers", _l("Answers"), "lines"),
        ), [{"quiz": display_title(a.quiz), "attempt": a.number, "started_at": a.started_at,
             "submitted_at": a.submitted_at, "state": a.state, "score": a.score, "max_score": a.max_score,
             "answers": _answers([(r.question_id, r.version_id, r.value) for r in a.responses])}
            for a in attempts]),
        tk.PersonalSection("daily", _l("Daily quiz"), (
            ("day", _l("Day"), "date"), ("score", _l("Score"), "number"), ("max_score", _l("Out of"), "number"),
            ("correct", _l("Right answers"), "number"), ("answers", _l("Answers"), "lines"),
        ), [{"day": d.day, "score": d.score, "max_score": d.max_score, "correct": d.correct,
             "answers": _answers([(int(qid), None, value) for qid, value in (d.answers or {}).items()])}
            for d in daily]),
    ]


def _answers(responses: list[tuple[int, int | None, Any]]) -> dict[str, str]:
    """``{question name: answer as text}``, each question as the member saw it (its version when kept)."""
    answers: dict[str, str] = {}
    for question_id, version_id, value in responses:
        question = (db.session.get(QuestionVersion, version_id) if version_id else None) \
            or db.session.get(Question, question_id)
        if question is None or question.qtype == "description":
            continue
        answers[question.name] = answer_text(question.qtype, question.data or {}, value)
    return answers


def answer_text(qtype: str, data: dict, value: Any) -> str:
    """A stored answer in words: the options' texts instead of their ids ("" when not answered)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if qtype in ("single", "multi"):
        chosen = set(value if isinstance(value, list) else [value])
        return "; ".join(c["text"] for c in data.get("choices", []) if c["id"] in chosen)
    if qtype == "truefalse":
        return _("True") if value else _("False")  # the words the question offered
    if qtype == "matching" and isinstance(value, dict):
        lefts = {p["id"]: p["left"] for p in data.get("pairs", [])}
        rights = {p["right_id"]: p["right"] for p in data.get("pairs", [])}
        return "; ".join(f"{lefts.get(k, k)} → {rights.get(v, v)}" for k, v in value.items())
    return str(value)


def member_summary(member, since: datetime, until: datetime) -> list[tuple]:
    """Attempts, quizzes passed and daily quizzes of ``member`` in ``[since, until)``."""
    attempts = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.member_id == member.id, Attempt.submitted_at >= since, Attempt.submitted_at < until)) or 0
    passed = db.session.scalar(select(func.count()).select_from(tk.Activity).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "quiz.passed",
        tk.Activity.created_at >= since, tk.Activity.created_at < until)) or 0
    daily = db.session.scalar(select(func.count()).select_from(DailyResult).where(
        DailyResult.member_id == member.id, DailyResult.submitted_at >= since, DailyResult.submitted_at < until)) or 0
    return [(_("Quiz attempts"), attempts), (_("Quizzes passed"), passed), (_("Daily quizzes done"), daily)]

"""What quizzes hold about a member (personal data export) and their part of the member summary."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_quizzes.models import Attempt, DailyResult

db = tk.db


def personal_data(member) -> dict:
    """Every quiz attempt (with its answers) and daily quiz result of ``member``."""
    attempts = db.session.scalars(select(Attempt).where(Attempt.member_id == member.id).order_by(Attempt.id)).all()
    daily = db.session.scalars(select(DailyResult).where(DailyResult.member_id == member.id)
                               .order_by(DailyResult.day)).all()
    return {
        _("Quiz attempts"): [{"quiz": a.quiz.title, "attempt": a.number, "started_at": a.started_at,
                              "submitted_at": a.submitted_at, "state": a.state, "score": a.score,
                              "max_score": a.max_score,
                              "answers": {str(r.question_id): r.value for r in a.responses}} for a in attempts],
        _("Daily quiz"): [{"day": d.day, "score": d.score, "max_score": d.max_score, "correct": d.correct,
                           "answers": d.answers} for d in daily],
    }


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

"""What the online school holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_courses.models import Certificate, Comment, Enrollment, LessonProgress


def personal_data(member) -> dict[str, list[dict]]:
    """Every course, lesson read, comment and certificate of ``member``."""
    progress = tk.db.session.scalars(select(LessonProgress).where(LessonProgress.member_id == member.id)
                                     .order_by(LessonProgress.started_at)).all()
    comments = tk.db.session.scalars(select(Comment).where(Comment.member_id == member.id).order_by(Comment.created_at)).all()
    certificates = tk.db.session.scalars(select(Certificate).where(Certificate.member_id == member.id)).all()
    enrollments = tk.db.session.scalars(select(Enrollment).where(Enrollment.member_id == member.id)).all()
    return {
        _("Courses"): [{"course": e.course.slug, "started_at": e.started_at, "quiz_passed_at": e.quiz_passed_at,
                        "completed_at": e.completed_at} for e in enrollments],
        _("Lessons read"): [{"course": p.lesson.course.slug, "lesson": p.lesson.slug, "started_at": p.started_at,
                             "last_opened_at": p.last_opened_at, "completed_at": p.completed_at} for p in progress],
        _("Comments"): [{"lesson": c.lesson_id, "at": c.created_at, "text": c.body, "hidden": c.hidden_at is not None}
                        for c in comments],
        _("Certificates"): [{"code": c.code, "course": c.course.slug, "issued_at": c.issued_at,
                             "revoked_at": c.revoked_at} for c in certificates],
    }


def member_summary(member, since: datetime, until: datetime) -> list[tuple[str, Any]]:
    """Lessons and courses ``member`` completed in ``[since, until)``."""
    lessons = tk.db.session.scalar(select(func.count(LessonProgress.id)).where(
        LessonProgress.member_id == member.id, LessonProgress.completed_at >= since, LessonProgress.completed_at < until)) or 0
    courses = tk.db.session.scalar(select(func.count(Enrollment.id)).where(
        Enrollment.member_id == member.id, Enrollment.completed_at >= since, Enrollment.completed_at < until)) or 0
    return [(_("Lessons completed"), lessons), (_("Courses completed"), courses)]

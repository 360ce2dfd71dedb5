"""What the online school holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_courses.models import Certificate, Comment, Enrollment, LessonProgress
from portal_courses.services import current_locale


def personal_data(member) -> list[tk.PersonalSection]:
    """Every course, lesson read, comment and certificate of ``member``.

    Courses are exported by slug (a ``choice`` whose labels are the titles in the reader's language).
    """
    progress = tk.db.session.scalars(select(LessonProgress).where(LessonProgress.member_id == member.id)
                                     .order_by(LessonProgress.started_at)).all()
    comments = tk.db.session.scalars(select(Comment).where(Comment.member_id == member.id).order_by(Comment.created_at)).all()
    certificates = tk.db.session.scalars(select(Certificate).where(Certificate.member_id == member.id)).all()
    enrollments = tk.db.session.scalars(select(Enrollment).where(Enrollment.member_id == member.id)).all()
    locale = current_locale()
    courses = [e.course for e in enrollments] + [p.lesson.course for p in progress] \
        + [c.lesson.course for c in comments] + [c.course for c in certificates]
    titles = {course.slug: course.title(locale) for course in courses}
    course = ("course", _l("Course"), "choice", titles)
    return [
        tk.PersonalSection("courses", _l("Courses"), (
            course, ("started_at", _l("Started"), "datetime"), ("quiz_passed_at", _l("Quiz passed"), "datetime"),
            ("completed_at", _l("Completed"), "datetime"),
        ), [{"course": e.course.slug, "started_at": e.started_at, "quiz_passed_at": e.quiz_passed_at,
             "completed_at": e.completed_at} for e in enrollments]),
        tk.PersonalSection("lessons", _l("Lessons read"), (
            course, ("lesson", _l("Lesson")), ("started_at", _l("Started"), "datetime"),
            ("last_opened_at", _l("Last opened"), "datetime"), ("completed_at", _l("Completed"), "datetime"),
        ), [{"course": p.lesson.course.slug, "lesson": p.lesson.title(locale), "started_at": p.started_at,
             "last_opened_at": p.last_opened_at, "completed_at": p.completed_at} for p in progress]),
        tk.PersonalSection("comments", _l("Comments"), (
            course, ("lesson", _l("Lesson")), ("at", _l("Written"), "datetime"), ("text", _l("Text")),
            ("hidden", _l("Hidden by a moderator"), "bool"),
        ), [{"course": c.lesson.course.slug, "lesson": c.lesson.title(locale), "at": c.created_at, "text": c.body,
             "hidden": c.hidden_at is not None} for c in comments]),
        tk.PersonalSection("certificates", _l("Certificates"), (
            ("code", _l("Certificate number")), course, ("issued_at", _l("Issued"), "datetime"),
            ("revoked_at", _l("Revoked"), "datetime"), ("verify_url", _l("Verification page"), "url"),
        ), [{"code": c.code, "course": c.course.slug, "issued_at": c.issued_at, "revoked_at": c.revoked_at,
             "verify_url": tk.path_for("courses.verify_certificate", code=c.code)} for c in certificates]),
    ]


def member_summary(member, since: datetime, until: datetime) -> list[tuple[str, Any]]:
    """Lessons and courses ``member`` completed in ``[since, until)``."""
    lessons = tk.db.session.scalar(select(func.count(LessonProgress.id)).where(
        LessonProgress.member_id == member.id, LessonProgress.completed_at >= since, LessonProgress.completed_at < until)) or 0
    courses = tk.db.session.scalar(select(func.count(Enrollment.id)).where(
        Enrollment.member_id == member.id, Enrollment.completed_at >= since, Enrollment.completed_at < until)) or 0
    return [(_("Lessons completed"), lessons), (_("Courses completed"), courses)]


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's study evidence for local days ``since..until``: courses and lessons completed."""
    start, end = tk.local_day_bounds(since)[0], tk.local_day_bounds(until)[1]
    pairs = member_summary(member, start, end)
    lessons, courses = pairs[0][1], pairs[1][1]
    return {"key": "courses", "label": _l("Online school"), "figures": {"completed": courses, "lessons": lessons},
            "lines": [(_("Courses completed"), courses), (_("Lessons completed"), lessons)]}

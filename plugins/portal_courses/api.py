"""JSON API of the online school under /api/v1 (blueprint ``courses_api``)."""
from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Course, Lesson

bp = Blueprint("courses_api", __name__, url_prefix="/api/v1")


def _member_or_none():
    account = tk.current_account()
    return getattr(account, "member", None)


def _course_json(course: Course, locale: str, progress) -> dict:
    return {"id": course.id, "slug": course.slug, "title": course.title(locale), "summary": course.summary(locale),
            "category": course.category, "tags": course.tag_list(locale), "estimated_minutes": course.estimated_minutes,
            "certificate": course.grants_certificate,
            "progress": {"done": progress.done, "total": progress.total, "percent": progress.percent,
                         "completed": progress.completed_at is not None} if progress else None}


@bp.get("/courses")
@tk.api_login_required
def courses():
    """``{"courses": [{"id", "slug", "title", "summary", "progress"}]}`` in the request's locale."""
    locale = services.current_locale()
    account = tk.current_account()
    member = _member_or_none()
    items = services.catalogue(account, locale=locale)
    progress = services.progress_map(member, items) if member else {}
    return jsonify({"courses": [_course_json(c, locale, progress.get(c.id)) for c in items]})


@bp.get("/courses/<slug>")
@tk.api_login_required
def course(slug: str):
    """A course with its lessons (ids, titles, completion, minimum reading time)."""
    course = tk.db.session.scalar(select(Course).where(Course.slug == slug))
    if not services.can_view_course(course, tk.current_account()):
        return tk.api_error(404, "not_found", _("Not found."))
    locale = services.current_locale()
    member = _member_or_none()
    progress = services.course_progress(member, course) if member else None
    quiz = services.final_quiz(course, member) if member else None
    data = _course_json(course, locale, progress)
    data["lessons"] = [{"id": item.id, "slug": item.slug, "title": item.title(locale), "position": item.position,
                        "min_seconds": services.lesson_min_seconds(item),
                        "completed": bool(progress and item.id in progress.done_ids),
                        "url": url_for("courses.lesson", slug=course.slug, lesson_id=item.id)}
                       for item in course.active_lessons]
    data["final_quiz"] = quiz
    data["completed_at"] = tk.isoformat(progress.completed_at) if progress else None
    return jsonify(data)


def _lesson_for_api(lesson_id: int):
    """The lesson the caller may read, or a 404 (tk.NotFound answers in the API's error shape)."""
    lesson = tk.db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.retired_at is not None or not services.can_view_course(lesson.course, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    return lesson


@bp.get("/lessons/<int:lesson_id>")
@tk.api_login_required
def lesson(lesson_id: int):
    """A lesson's text as sanitized HTML; a reading event (see the README's "Reading time"), ``seconds_left`` still to read."""
    lesson = _lesson_for_api(lesson_id)
    member = _member_or_none()
    progress = services.open_lesson(member, lesson) if member is not None else None
    locale = services.current_locale()
    return jsonify({"id": lesson.id, "course": lesson.course.slug, "title": lesson.title(locale),
                    "html": str(tk.render_markdown(lesson.body(locale))), "min_seconds": services.lesson_min_seconds(lesson),
                    "seconds_left": services.seconds_left(member, lesson, progress=progress) if member else None})


def _comment_json(comment, member) -> dict:
    """A comment as the caller may see it: a hidden one shows only that it was hidden, except to its author and
    the moderators, who also get the reason (``hidden_reason``, null without one or when hidden by reports)."""
    hidden = comment.hidden_at is not None
    if hidden and not (member is not None and comment.member_id == member.id) and not services.can_moderate(comment):
        return {"id": comment.id, "hidden": True}
    data = {"id": comment.id, "author": comment.member.name, "created_at": tk.isoformat(comment.created_at),
            "html": str(tk.render_markdown(comment.body)), "hidden": hidden}
    if hidden:
        data.update(hidden_reason=comment.hidden_reason, hidden_pending_review=comment.hidden_auto)
    return data


@bp.get("/lessons/<int:lesson_id>/comments")
@tk.api_login_required
def lesson_comments(lesson_id: int):
    """The lesson's discussion, oldest first; hide reasons only for the author and the moderators."""
    lesson = _lesson_for_api(lesson_id)
    member = _member_or_none()
    return jsonify({"comments": [_comment_json(c, member) for c in services.lesson_comments(lesson)]})


@bp.post("/lessons/<int:lesson_id>/complete")
@tk.api_login_required
def complete(lesson_id: int):
    """Record completion (idempotent); 409 ``too_soon`` with ``seconds_left`` until the minimum reading time is spent."""
    lesson = _lesson_for_api(lesson_id)
    member = _member_or_none()
    if member is None:
        return tk.api_error(403, "forbidden", _("Only members can study courses."))
    _progress, created = services.complete_lesson(member, lesson)
    tk.db.session.commit()
    enrolled = services.enrollment(member, lesson.course)
    return jsonify({"lesson": lesson.id, "completed": True, "created": created,
                    "course_completed": bool(enrolled and enrolled.completed_at)})


API_PATHS = {
    "/api/v1/courses": {"get": {
        "summary": "Courses the caller may study, in the request's locale, with the caller's progress",
        "responses": {"200": {"description": "Courses", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"courses": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
                "summary": {"type": "string"}, "progress": {"type": "object", "nullable": True}}}}}}}}},
            "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/courses/{slug}": {"get": {
        "summary": "A course with its lessons (ids, completion, minimum reading time) and final quiz",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The course"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/lessons/{id}": {"get": {
        "summary": "A lesson as sanitized HTML; counts as a lesson request for the member's reading time",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The lesson"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/lessons/{id}/comments": {"get": {
        "summary": "A lesson's comments, oldest first; a hidden comment is only {id, hidden} except to its author "
                   "and the moderators, who also see hidden_reason and hidden_pending_review",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "Comments", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"comments": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "author": {"type": "string"}, "created_at": {"type": "string"},
                "html": {"type": "string"}, "hidden": {"type": "boolean"},
                "hidden_reason": {"type": "string", "nullable": True},
                "hidden_pending_review": {"type": "boolean"}}}}}}}}},
            "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/lessons/{id}/complete": {"post": {
        "summary": "Mark a lesson complete (idempotent)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "Completed (created false when it already was)"},
                      "409": {"description": "Not opened yet, or less than the minimum reading time spent on it "
                                             "(error.seconds_left: the minimum less the time spent)"},
                      "404": {"$ref": "#/components/responses/Error"}}}},
}

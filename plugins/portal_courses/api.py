"""JSON API of the online school under /api/v1 (blueprint ``courses_api``)."""
from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Certificate, Comment, Course, Lesson

bp = Blueprint("courses_api", __name__, url_prefix="/api/v1")


_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
_PAGE = {"page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
         "next": {"oneOf": [{"type": "string"}, {"type": "null"}]}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_COMMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "author": {"type": "string"}, "created_at": {"type": "string"},
    "html": {"type": "string"}, "hidden": {"type": "boolean"}, "hidden_reason": {"type": "string", "nullable": True},
    "hidden_pending_review": {"type": "boolean"}}}
_CERTIFICATE = {"type": "object", "properties": {
    "code": {"type": "string"}, "course": {"type": "string"}, "course_id": {"type": "integer"},
    "holder": {"type": "string"}, "issuing_unit": {"type": "string"}, "issued_at": {"type": "string", "format": "date-time"},
    "valid": {"type": "boolean"}, "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
    "verify_url": {"type": "string"}, "pdf": {"type": "string"}}}


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
    ids = [course.id for course in services.catalogue(account, locale=locale)]
    # The catalogue's order, paged as every API list (the catalogue itself is a list: tags are matched in Python).
    query = select(Course).where(Course.id.in_(ids)).order_by(Course.position, Course.id)
    data = tk.api_page(query, lambda course: course, key="courses")
    progress = services.progress_map(member, data["courses"]) if member else {}
    data["courses"] = [_course_json(c, locale, progress.get(c.id)) for c in data["courses"]]
    return jsonify(data)


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
    return jsonify(tk.api_page(services.lesson_comments_query(lesson), lambda c: _comment_json(c, member),
                               key="comments"))


def _studying_member():
    member = _member_or_none()
    if member is None:
        raise tk.Forbidden(_("Only members can study courses."))
    return member


@bp.post("/lessons/<int:lesson_id>/comments")
@tk.api_login_required
def post_comment(lesson_id: int):
    """``{"body"}`` (Markdown) under the lesson → 201 with the comment."""
    lesson = _lesson_for_api(lesson_id)
    member = _studying_member()
    body = tk.api_json().get("body")
    if not isinstance(body, str):
        raise tk.Invalid(_("Write something before posting."), field="body")
    comment = services.add_comment(member, lesson, body)
    tk.db.session.commit()
    return jsonify(_comment_json(comment, member)), 201


@bp.post("/comments/<int:comment_id>/report")
@tk.api_login_required
def report_comment(comment_id: int):
    """``{"reason", "note"}``: report a comment to the moderators (once; never one's own) → 201."""
    comment = tk.db.session.get(Comment, comment_id)
    if comment is None or not services.can_view_course(comment.lesson.course, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    member = _studying_member()
    data = tk.api_json()
    reason, note = data.get("reason"), data.get("note", "")
    if not isinstance(note, str) or len(note) > 300:
        raise tk.Invalid(_("At most %(num)d characters.", num=300), field="note")
    report = services.report_comment(member, comment, reason if isinstance(reason, str) else "", note)
    tk.db.session.commit()
    return jsonify({"id": report.id, "comment": comment.id, "hidden": comment.hidden_at is not None}), 201


@bp.post("/lessons/<int:lesson_id>/reading")
@tk.api_login_required
def reading(lesson_id: int):
    """``{"state": "beat" | "pause"}`` while the lesson is on screen, as the web page's heartbeat → 204.

    Like the web's heartbeat it loads no lesson: time is credited only to a lesson the member opened
    (``GET /api/v1/lessons/{id}``), which checked they may read it.
    """
    member = _studying_member()
    state = tk.api_json().get("state")
    if state not in services.HEARTBEAT_STATES:
        raise tk.Invalid(_("Send state: beat or pause."), field="state")
    services.record_reading(member, lesson_id, state)
    tk.db.session.commit()
    return "", 204


def _certificate_json(cert: Certificate, locale: str) -> dict:
    return {"code": cert.code, "course": cert.course_title(locale), "course_id": cert.course_id,
            "holder": cert.member_name, "issuing_unit": cert.issuing_unit_name,
            "issued_at": tk.isoformat(cert.issued_at), "valid": cert.valid, "revoked_at": tk.isoformat(cert.revoked_at),
            "verify_url": url_for("courses.verify_certificate", code=cert.code, _external=True),
            "pdf": url_for("courses_api.certificate_pdf", code=cert.code)}


@bp.get("/certificates")
@tk.api_login_required
def certificates():
    """The caller's course certificates, newest first, paged."""
    member = _studying_member()
    locale = services.current_locale()
    return jsonify(tk.api_page(services.own_certificates_query(member), lambda c: _certificate_json(c, locale),
                               key="certificates"))


@bp.get("/certificates/<code>/certificate.pdf")
@tk.api_login_required
def certificate_pdf(code: str):
    """A certificate as PDF (its holder, or those who manage certificates), as on the web."""
    cert = services.certificate_by_code(code)
    if cert is None or not services.may_download_certificate(cert, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    locale = services.current_locale()
    return tk.pdf_response(services.certificate_pdf(cert, locale), f"{cert.member_name}-{cert.course_title(locale)}.pdf")


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
        "summary": "Courses the caller may study, in the request's locale, with the caller's progress, paged",
        "parameters": _PAGING,
        "responses": {"200": {"description": "Courses", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"courses": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
                "summary": {"type": "string"}, "progress": {"type": "object", "nullable": True}}}}, **_PAGE}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/courses/{slug}": {"get": {
        "summary": "A course with its lessons (ids, completion, minimum reading time) and final quiz",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The course"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/lessons/{id}": {"get": {
        "summary": "A lesson as sanitized HTML; counts as a lesson request for the member's reading time",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The lesson"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/v1/lessons/{id}/comments": {"get": {
        "summary": "A lesson's comments, oldest first, paged; a hidden comment is only {id, hidden} except to its "
                   "author and the moderators, who also see hidden_reason and hidden_pending_review",
        "parameters": [_ID, *_PAGING],
        "responses": {"200": {"description": "Comments", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"comments": {"type": "array", "items": _COMMENT}, **_PAGE}}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
        "post": {
            "summary": "Comment under a lesson (Markdown; members)", "parameters": [_ID],
            "requestBody": tk.openapi_json_body({"type": "object", "required": ["body"], "properties": {
                "body": {"type": "string", "maxLength": services.COMMENT_MAX}}}),
            "responses": tk.openapi_responses("403", "422", ok="201", description="Posted", schema=_COMMENT)}},
    "/api/v1/lessons/{id}/reading": {"post": {
        "summary": "Reading heartbeat of a lesson on screen (beat every reading_heartbeat_seconds; pause when hidden)",
        "parameters": [_ID],
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["state"], "properties": {
            "state": {"type": "string", "enum": list(services.HEARTBEAT_STATES)}}}),
        "responses": tk.openapi_responses("403", "422", ok="204", description="Counted")}},
    "/api/v1/comments/{id}/report": {"post": {
        "summary": "Report a comment to the moderators (once per member; not one's own)", "parameters": [_ID],
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["reason"], "properties": {
            "reason": {"type": "string", "enum": list(services.REPORT_REASON_LABELS)},
            "note": {"type": "string", "maxLength": 300}}}),
        "responses": tk.openapi_responses("403", "409", "422", ok="201", description="Reported", schema={
            "type": "object", "properties": {"id": {"type": "integer"}, "comment": {"type": "integer"},
                                             "hidden": {"type": "boolean"}}})}},
    "/api/v1/certificates": {"get": {
        "summary": "The caller's course certificates, newest first, paged", "parameters": _PAGING,
        "responses": tk.openapi_responses("400", "403", schema={"type": "object", "properties": {
            "certificates": {"type": "array", "items": _CERTIFICATE}, **_PAGE}})}},
    "/api/v1/certificates/{code}/certificate.pdf": {"get": {
        "summary": "A course certificate as PDF (its holder, or those who manage certificates)",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": tk.openapi_responses(schema={"type": "string", "format": "binary"}, content="application/pdf")}},
    "/api/v1/lessons/{id}/complete": {"post": {
        "summary": "Mark a lesson complete (idempotent)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "Completed (created false when it already was)"},
                      "409": {"description": "Not opened yet, or less than the minimum reading time spent on it "
                                             "(error.seconds_left: the minimum less the time spent)"},
                      "404": {"$ref": "#/components/responses/Error"}}}},
}

"""Pages of the online school: catalogue, course, lesson, discussion, authoring,
assigned learning, certificates. Thin: parse, check permission, call services, render."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from portal.toolkit import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import toolkit as tk
from portal_courses import services
from portal_courses.forms import AssignmentForm, CommentForm, CourseForm, HideForm, LessonForm, ReportForm, RevokeForm
from portal_courses.models import Assignment, Certificate, Comment, Course, Lesson

#: Courses per catalogue page: a phone page stays light with 200 courses in the school.
CATALOGUE_PAGE = 20

bp = Blueprint("courses", __name__, template_folder="templates", static_folder="static",
               static_url_path="/courses-static")
tk.template_labels(bp, "courses", category=services.CATEGORIES)

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


def _course_or_404(slug: str) -> Course:
    # What services.can_view_course checks, in the statement that loads the course (one statement fewer a page).
    course = tk.db.session.scalar(select(Course).where(
        Course.slug == slug, services.visible_courses_condition(current_user, include_drafts=True)))
    if course is None:
        abort(404)
    return course


def _course_and_lesson_or_404(slug: str, lesson_id: int) -> tuple[Course, Lesson, services.Place]:
    """The course (visible to the viewer), its active lesson and the lesson's place in it, in one statement."""
    found = tk.db.session.execute(select(Course, Lesson, *services.place_columns()).join(Lesson, Lesson.course_id == Course.id)
                                  .where(Course.slug == slug, services.visible_courses_condition(current_user, include_drafts=True),
                                         Lesson.id == lesson_id, Lesson.retired_at.is_(None))).first()
    if found is None:
        abort(404)
    return found[0], found[1], services.Place(*found[2:])


def _lesson_or_404(course: Course, lesson_id: int) -> Lesson:
    # Taken from the course's lessons, which completing needs anyway (the following lesson): one statement fewer.
    lesson = next((item for item in course.active_lessons if item.id == lesson_id), None)
    if lesson is None:
        abort(404)
    return lesson


_IMG_SRC = re.compile(r'(<img [^>]*src=")(?![a-z]+:|/)([^"]+)(")')


def render_lesson_html(course: Course, text: str):
    """Sanitized HTML of a lesson; relative image paths point at the course's files."""
    html = str(tk.render_markdown(text))
    if course.source == "files":
        html = _IMG_SRC.sub(lambda m: m.group(1) + url_for("courses.course_file", slug=course.slug, filename=m.group(2)) + m.group(3), html)
    from markupsafe import Markup

    return Markup(html)


# -- studying ---------------------------------------------------------------------------

@bp.get("/courses")
@login_required
def catalogue():
    """All courses the viewer may study, by category and tag, with search."""
    locale = services.current_locale()
    category = request.args.get("category") or None
    tag = request.args.get("tag") or None
    q = (request.args.get("q") or "").strip()[:200]
    course_ids, lesson_hits = None, []
    if q:
        hits = tk.search(q, current_user, types=("course", "lesson"), limit=50)
        slugs = {hit.url.split("/")[2] for hit in hits if hit.url.startswith("/courses/")}
        course_ids = list(tk.db.session.scalars(select(Course.id).where(Course.slug.in_(slugs)))) if slugs else []
        lesson_hits = [hit for hit in hits if hit.type == "lesson"][:10]
    page = _page_of(services.catalogue(current_user, category=category, tag=tag, course_ids=course_ids, locale=locale))
    member = tk.current_member()
    progress = services.progress_map(member, page.items) if member else {}
    return render_template("courses/catalogue.html", courses=page.items, page=page, progress=progress, locale=locale,
                           categories=services.categories_in_use(current_user), category=category, tag=tag, q=q,
                           lesson_hits=lesson_hits,
                           assigned=services.assignments_for_member(member) if member else [])


def _page_of(courses: list, per_page: int | None = None) -> tk.Page:
    """One page of an already filtered list (tags are filtered in Python, so paging follows)."""
    per_page = per_page or CATALOGUE_PAGE
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    number = min(number, max(1, -(-len(courses) // per_page)))
    return tk.Page(items=courses[(number - 1) * per_page:number * per_page], page=number, per_page=per_page,
                   total=len(courses))


@bp.get("/courses/<slug>")
@login_required
def course(slug: str):
    """A course: summary, lessons with progress, resume, final quiz, certificate."""
    course = _course_or_404(slug)
    locale = services.current_locale()
    member = tk.current_member()
    progress = services.course_progress(member, course)
    quiz = services.final_quiz(course, member) if member else None
    certificate = tk.db.session.scalar(select(Certificate).where(
        Certificate.member_id == member.id, Certificate.course_id == course.id)) if member else None
    return render_template("courses/course.html", course=course, locale=locale, progress=progress, quiz=quiz,
                           certificate=certificate, member=member, can_edit=services.can_edit_course(course))


def _lesson_page(course: Course, lesson: Lesson, *, status: int = 200, error: str | None = None, form=None,
                 progress=services._UNKNOWN, place: services.Place | None = None):
    locale = services.current_locale()
    member = tk.current_member()
    place = place or services.lesson_place(lesson)
    if progress is services._UNKNOWN:
        progress = services.lesson_progress(member, lesson)
    comments = services.lesson_comments(lesson)
    return render_template(
        "courses/lesson.html", course=course, lesson=lesson, locale=locale, member=member,
        body=render_lesson_html(course, lesson.body(locale)), progress=progress,
        seconds_left=services.seconds_left(member, lesson, progress=progress) if member else None,
        min_seconds=services.lesson_min_seconds(lesson), heartbeat_seconds=services.heartbeat_seconds(),
        place=place,
        comments=comments, comment_form=form or CommentForm(), error=error,
        can_moderate=services.can_moderate, render_comment=tk.render_markdown,
        report_form=_report_form() if comments else None, reported=services.reported_by(member, comments),
        comments_enabled=tk.get_setting("courses", "comments_enabled", True)), status


@bp.get("/courses/<slug>/lessons/<int:lesson_id>")
@login_required
def lesson(slug: str, lesson_id: int):
    """A lesson, readable on a phone; the request moves the member's reading clock to it (a reload writes nothing)."""
    course, lesson, place = _course_and_lesson_or_404(slug, lesson_id)
    member = tk.current_member()
    if member is not None and course.published:
        progress = services.open_lesson(member, lesson)
    else:
        progress = services.lesson_progress(member, lesson)
    return _lesson_page(course, lesson, progress=progress, place=place)


@bp.post("/courses/reading/<int:lesson_id>")
@tk.login_required_member
def reading(lesson_id: int):
    """Heartbeat of a visible lesson page (``reading.js``): form field ``state`` is ``beat`` or ``pause``; 204.

    Deliberately loads neither course nor lesson (two statements): see :func:`services.record_reading`.
    """
    state = request.form.get("state")
    if state not in services.HEARTBEAT_STATES:
        abort(400)
    services.record_reading(tk.current_member(), lesson_id, state)
    tk.db.session.commit()
    return "", 204


@bp.post("/courses/<slug>/lessons/<int:lesson_id>/complete")
@tk.login_required_member
def complete(slug: str, lesson_id: int):
    """Mark the lesson complete (once the minimum reading time is spent on it)."""
    course = _course_or_404(slug)
    lesson = _lesson_or_404(course, lesson_id)
    member = tk.current_member()
    following = next((item for item in course.active_lessons if item.position > lesson.position), None)
    target = url_for("courses.lesson", slug=slug, lesson_id=following.id) if following else url_for("courses.course", slug=slug)

    def completed(result: tuple) -> str | None:
        if not result[1]:
            return None
        if services.enrollment(member, course).completed_at:
            return _("Lesson completed. Congratulations, you have completed the course!")
        return _("Lesson completed.")

    return tk.form_post(lambda: services.complete_lesson(member, lesson), success=completed, redirect_to=target,
                        on_error=lambda error: _lesson_page(course, lesson, status=error.status))


@bp.get("/courses/<slug>/files/<path:filename>")
@login_required
def course_file(slug: str, filename: str):
    """Images of a course folder (only image types, only inside the folder)."""
    course = _course_or_404(slug)
    if course.source != "files" or not course.source_dir or Path(filename).suffix.lower() not in IMAGE_TYPES:
        abort(404)
    return send_from_directory(course.source_dir, filename, max_age=86400)


# -- discussion -------------------------------------------------------------------------

@bp.post("/courses/<slug>/lessons/<int:lesson_id>/comments")
@tk.login_required_member
def post_comment(slug: str, lesson_id: int):
    """Post a comment under the lesson."""
    course = _course_or_404(slug)
    lesson = _lesson_or_404(course, lesson_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _lesson_page(course, lesson, status=422, form=form)
    return tk.form_post(lambda: services.add_comment(tk.current_member(), lesson, form.body.data),
                        success=_("Your comment is posted."),
                        redirect_to=url_for("courses.lesson", slug=slug, lesson_id=lesson_id) + "#discussion",
                        form=form, on_error=lambda error: _lesson_page(course, lesson, status=error.status, form=form))


def _moderated_comment(comment_id: int) -> Comment:
    comment = tk.db.session.get(Comment, comment_id)
    if comment is None or not services.can_view_course(comment.lesson.course, current_user) or not services.can_moderate(comment):
        abort(404)
    return comment


def _after_moderation(comment: Comment) -> str:
    """Back to the queue when the action came from it, else to the comment on its lesson."""
    tab = request.form.get("queue")
    if tab in services.QUEUE_TABS:
        return url_for("courses.moderation", tab=tab, unit=request.form.get("unit", type=int))
    return services.comment_path(comment)


@bp.post("/courses/comments/<int:comment_id>/hide")
@login_required
def hide_comment(comment_id: int):
    """Hide a comment with a reason (moderators: secretaries over the author, admins); the author is told."""
    comment = _moderated_comment(comment_id)
    form = HideForm()
    if not form.validate_on_submit():
        return _lesson_page(comment.lesson.course, comment.lesson, status=422, error=_("The reason is too long."))
    return tk.form_post(lambda: services.set_comment_hidden(comment, True, form.reason.data or ""),
                        success=_("The comment is hidden."), redirect_to=_after_moderation(comment))


@bp.post("/courses/comments/<int:comment_id>/show")
@login_required
def show_comment(comment_id: int):
    """Restore a hidden comment (its open reports are dealt with)."""
    comment = _moderated_comment(comment_id)
    return tk.form_post(lambda: services.set_comment_hidden(comment, False),
                        success=_("The comment is shown again."), redirect_to=_after_moderation(comment))


@bp.post("/courses/comments/<int:comment_id>/dismiss")
@login_required
def dismiss_reports(comment_id: int):
    """Mark a comment reviewed and its reports unfounded."""
    comment = _moderated_comment(comment_id)
    return tk.form_post(lambda: services.dismiss_reports(comment),
                        success=_("The comment is marked as reviewed."), redirect_to=_after_moderation(comment))


def _report_form() -> ReportForm:
    form = ReportForm()
    form.reason.choices = [(key, str(label)) for key, label in services.REPORT_REASON_LABELS.items()]
    return form


@bp.post("/courses/comments/<int:comment_id>/report")
@tk.login_required_member
def report_comment(comment_id: int):
    """Report a comment to the moderators (a reason and an optional note; once; not one's own)."""
    comment = tk.db.session.get(Comment, comment_id)
    if comment is None or not services.can_view_course(comment.lesson.course, current_user):
        abort(404)
    form = _report_form()
    back = services.comment_path(comment)
    if not form.validate_on_submit():
        return _lesson_page(comment.lesson.course, comment.lesson, status=422, error=_("Choose a reason."))
    return tk.form_post(lambda: services.report_comment(tk.current_member(), comment, form.reason.data, form.note.data or ""),
                        success=_("Thank you. The moderators will look at it."), redirect_to=back, on_error=back)


@bp.get("/courses/moderation")
@login_required
def moderation():
    """The moderation queue of the comments by members the viewer moderates (optionally one unit's subtree)."""
    tk.require("courses.moderate")
    unit = None
    if request.args.get("unit"):
        unit = tk.db.session.get(tk.OrgUnit, request.args.get("unit", type=int) or 0)
        if unit is None:
            abort(404)
        tk.require("courses.moderate", unit)
    tab = request.args.get("tab", "reported")
    if tab not in services.QUEUE_TABS:
        abort(404)
    page = tk.paginate(services.moderation_query(current_user, tab, unit))
    ids = [comment.id for comment in page.items]
    return render_template("courses/moderation.html", page=page, tab=tab, unit=unit, hide_form=HideForm(),
                           counts=services.moderation_counts(current_user, unit), reports=services.open_reports(ids),
                           reason_labels=services.REPORT_REASON_LABELS, render_comment=tk.render_markdown,
                           units=tk.manageable_units("courses.moderate"), locale=services.current_locale())


# -- authoring ----------------------------------------------------------------------------

def _author_units():
    return list(tk.db.session.scalars(select(tk.OrgUnit).where(tk.unit_scope("courses.author"), tk.OrgUnit.closed_at.is_(None))
                                      .order_by(tk.OrgUnit.path).limit(500)))


def _editable_course(slug: str) -> Course:
    course = tk.db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or not services.can_edit_course(course):
        abort(404)
    return course


@bp.get("/courses/manage")
@login_required
def manage():
    """Courses the viewer may author, and the file courses (read-only here)."""
    tk.require("courses.author")
    query = select(Course).where(services.visible_courses_condition(current_user, include_drafts=True)) \
        .order_by(Course.source, Course.position, Course.id)
    courses = [c for c in tk.db.session.scalars(query)]
    return render_template("courses/manage.html", courses=courses, locale=services.current_locale(),
                           can_edit=services.can_edit_course)


def _course_form(course: Course | None = None) -> CourseForm:
    form = CourseForm(obj=None)
    form.category.choices = [(k, str(v)) for k, v in services.CATEGORIES.items()]
    units = _author_units()
    form.unit.choices = [(u.id, u.name) for u in units]
    if course is not None and request.method == "GET":
        form.slug.data = course.slug
        form.title_zh.data, form.title_en.data = course.titles.get("zh_CN", ""), course.titles.get("en", "")
        form.summary_zh.data, form.summary_en.data = course.summaries.get("zh_CN", ""), course.summaries.get("en", "")
        form.category.data, form.tags.data = course.category, ", ".join(course.tag_list("zh_CN"))
        form.estimated_minutes.data, form.completion_rule.data = course.estimated_minutes, course.completion_rule
        form.grants_certificate.data, form.published.data = course.grants_certificate, course.published
        form.unit.data = course.owner_unit_id
    return form


@bp.route("/courses/manage/new", methods=["GET", "POST"])
@login_required
def new_course():
    """Create a course in the browser (a draft until published)."""
    tk.require("courses.author")
    form = _course_form()
    if form.validate_on_submit():
        unit = tk.db.session.get(tk.OrgUnit, form.unit.data)
        tk.require("courses.author", unit)

        def create() -> Course:
            course = services.save_course(None, form.data, unit)
            tk.audit("courses.course_created", "course", course.id, slug=course.slug)
            return course

        return tk.form_post(create, success=_("Course saved. Now add its lessons."),
                            redirect_to=lambda course: url_for("courses.edit_course", slug=course.slug), form=form,
                            on_error=lambda error: (render_template("courses/course_form.html", form=form,
                                                                    course=None), 422))
    status = 422 if request.method == "POST" else 200
    return render_template("courses/course_form.html", form=form, course=None), status


@bp.route("/courses/manage/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_course(slug: str):
    """Edit a browser-authored course and list its lessons."""
    course = _editable_course(slug)
    form = _course_form(course)

    def page(status: int):
        return render_template("courses/course_form.html", form=form, course=course,
                               locale=services.current_locale()), status

    if form.validate_on_submit():
        unit = tk.db.session.get(tk.OrgUnit, form.unit.data)
        tk.require("courses.author", unit)

        def save() -> None:
            services.save_course(course, form.data, unit)
            course.owner_unit_id = unit.id
            tk.audit("courses.course_edited", "course", course.id, slug=course.slug)

        return tk.form_post(save, success=_("Course saved."),
                            redirect_to=lambda _result: url_for("courses.edit_course", slug=course.slug), form=form,
                            on_error=lambda error: page(422))
    return page(422 if request.method == "POST" else 200)


def _lesson_editor(course: Course, lesson: Lesson | None):
    form = LessonForm()
    if lesson is not None and request.method == "GET":
        form.title_zh.data, form.title_en.data = lesson.titles.get("zh_CN", ""), lesson.titles.get("en", "")
        form.body_zh.data, form.body_en.data = lesson.bodies.get("zh_CN", ""), lesson.bodies.get("en", "")
        form.position.data, form.min_seconds.data = lesson.position, lesson.min_seconds
    preview = None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview = {"zh_CN": tk.render_markdown(form.body_zh.data or ""), "en": tk.render_markdown(form.body_en.data or "")}
    elif form.validate_on_submit():
        lesson = services.save_lesson(course, lesson, form.data)
        tk.audit("courses.lesson_saved", "lesson", lesson.id, course=course.slug)
        tk.db.session.commit()
        flash(_("Lesson saved."), "success")
        return redirect(url_for("courses.edit_course", slug=course.slug))
    status = 422 if request.method == "POST" and preview is None else 200
    return render_template("courses/lesson_form.html", form=form, course=course, lesson=lesson, preview=preview,
                           locale=services.current_locale()), status


@bp.route("/courses/manage/<slug>/lessons/new", methods=["GET", "POST"])
@login_required
def new_lesson(slug: str):
    """Write a new lesson (Markdown, with a preview that needs no JavaScript)."""
    return _lesson_editor(_editable_course(slug), None)


@bp.route("/courses/manage/<slug>/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@login_required
def edit_lesson(slug: str, lesson_id: int):
    """Edit a lesson of a browser-authored course."""
    course = _editable_course(slug)
    lesson = tk.db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        abort(404)
    return _lesson_editor(course, lesson)


# -- assigned learning ------------------------------------------------------------------------

@bp.get("/courses/assignments")
@login_required
def assignments():
    """Assignments on the units the viewer manages, with overdue counts."""
    tk.require("courses.assign")
    page = tk.paginate(services.assignments_query(current_user).options(
        joinedload(Assignment.course), joinedload(Assignment.unit)))
    counts = services.assignment_counts(list(page.items))
    return render_template("courses/assignments.html", page=page, counts=counts, locale=services.current_locale())


def _assignment_form() -> AssignmentForm:
    form = AssignmentForm()
    locale = services.current_locale()
    courses = tk.db.session.scalars(select(Course).where(services.visible_courses_condition(current_user))
                                    .order_by(Course.position, Course.id)).all()
    form.course.choices = [(c.id, c.title(locale)) for c in courses]
    units = tk.db.session.scalars(select(tk.OrgUnit).where(tk.unit_scope("courses.assign"), tk.OrgUnit.closed_at.is_(None))
                                  .order_by(tk.OrgUnit.path).limit(500)).all()
    form.unit.choices = [(u.id, u.name) for u in units]
    from flask import current_app

    stage_label = current_app.jinja_env.filters["stage_label"]
    form.stage.choices = [("", _("All members"))] + [(s, stage_label(s)) for s in tk.STAGES]
    return form


@bp.route("/courses/assignments/new", methods=["GET", "POST"])
@login_required
def new_assignment():
    """Assign a course to a unit's members (or one stage) with a due date."""
    tk.require("courses.assign")
    form = _assignment_form()
    if form.validate_on_submit():
        unit = tk.db.session.get(tk.OrgUnit, form.unit.data)
        tk.require("courses.assign", unit)
        course = tk.db.session.get(Course, form.course.data)
        if not services.can_view_course(course, current_user):
            abort(404)
        return tk.form_post(
            lambda: services.create_assignment(course, unit, form.due_on.data, form.stage.data or None,
                                               form.note.data or "", current_user),
            success=_("The course is assigned."),
            redirect_to=lambda assignment: url_for("courses.assignment", assignment_id=assignment.id), form=form,
            on_error=lambda error: (render_template("courses/assignment_form.html", form=form), 422))
    status = 422 if request.method == "POST" else 200
    return render_template("courses/assignment_form.html", form=form), status


def _assignment_or_404(assignment_id: int) -> Assignment:
    assignment = tk.db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    tk.require("courses.assign", assignment.unit)
    return assignment


@bp.get("/courses/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    """Completion per member and per unit; overdue members flagged."""
    assignment = _assignment_or_404(assignment_id)
    rows, per_unit = services.assignment_report(assignment)
    return render_template("courses/assignment.html", assignment=assignment, rows=rows, per_unit=per_unit,
                           locale=services.current_locale())


@bp.get("/courses/assignments/<int:assignment_id>/export.xlsx")
@login_required
def assignment_export(assignment_id: int):
    """The same report as an Excel workbook."""
    assignment = _assignment_or_404(assignment_id)
    rows, _units = services.assignment_report(assignment)
    locale = services.current_locale()
    from flask import current_app

    stage_label = current_app.jinja_env.filters["stage_label"]
    status_labels = {"completed": _("Completed"), "in_progress": _("In progress"), "not_started": _("Not started")}
    headers = [_("Name"), _("Home branch"), _("Host branch"), _("Membership stage"), _("Lessons completed"),
               _("Lessons"), _("Status"), _("Completed on"), _("Due date"), _("Overdue")]
    data = [[r.member.name, r.member.home_unit.name, r.member.host_unit.name if r.member.host_unit else "",
             stage_label(r.member.stage), r.done, r.total, status_labels[r.status],
             tk.local_date(r.completed_at) if r.completed_at else None, assignment.due_on, _("yes") if r.overdue else _("no")]
            for r in rows]
    tk.audit("courses.assignment_exported", "assignment", assignment.id, unit_id=assignment.unit_id)
    tk.db.session.commit()
    filename = f"{assignment.course.title(locale)}-{assignment.unit.name}.xlsx"
    return tk.xlsx_response(filename, headers, data, title=_("Assigned learning"))


@bp.post("/courses/assignments/<int:assignment_id>/cancel")
@login_required
def cancel_assignment(assignment_id: int):
    """Withdraw an assignment (members' progress stays)."""
    assignment = _assignment_or_404(assignment_id)
    assignment.cancelled_at = tk.utcnow()
    tk.audit("courses.assignment_cancelled", "assignment", assignment.id, unit_id=assignment.unit_id)
    tk.db.session.commit()
    flash(_("The assignment is withdrawn."), "success")
    return redirect(url_for("courses.assignments"))


# -- certificates --------------------------------------------------------------------------------

@bp.get("/certificates")
@tk.login_required_member
def certificates():
    """The member's own certificates."""
    certs = tk.db.session.scalars(services.own_certificates_query(tk.current_member())).all()
    return render_template("courses/certificates.html", certificates=certs, locale=services.current_locale())


def _certificate_or_404(code: str) -> Certificate:
    cert = services.certificate_by_code(code)
    if cert is None:
        abort(404)
    return cert


@bp.get("/certificates/<code>.pdf")
@login_required
def certificate_pdf(code: str):
    """Download a certificate as PDF (its holder, or an admin)."""
    cert = _certificate_or_404(code)
    if not services.may_download_certificate(cert, current_user):
        abort(404)
    locale = services.current_locale()
    return tk.pdf_response(services.certificate_pdf(cert, locale), f"{cert.member_name}-{cert.course_title(locale)}.pdf")


@bp.get("/certificates/verify/<code>")
def verify_certificate(code: str):
    """Public: is this certificate genuine and valid? Shows only name, course and date."""
    return services.verification_page(code, services.current_locale())


@bp.get("/certificates/manage")
@login_required
def manage_certificates():
    """Admins: every certificate, to find and revoke one."""
    tk.require("courses.certificates")
    query = select(Certificate).order_by(Certificate.issued_at.desc())
    code = (request.args.get("q") or "").strip()
    if code:
        query = query.where((Certificate.code == code.upper()) | (Certificate.member_name == code))
    return render_template("courses/manage_certificates.html", page=tk.paginate(query), q=code, form=RevokeForm(),
                           locale=services.current_locale())


@bp.post("/certificates/<code>/revoke")
@login_required
def revoke_certificate(code: str):
    """Revoke a certificate (admins), with a reason; audited."""
    tk.require("courses.certificates")
    cert = _certificate_or_404(code)
    form = RevokeForm()

    def page(status: int, error: str | None = None):
        found = tk.paginate(select(Certificate).where(Certificate.id == cert.id))
        return render_template("courses/manage_certificates.html", page=found, q=cert.code, form=form, error=error,
                               locale=services.current_locale()), status

    if not form.validate_on_submit():
        return page(422, _("Give a reason for the revocation."))
    return tk.form_post(lambda: services.revoke_certificate(cert, form.reason.data),
                        success=_("Certificate %(code)s is revoked.", code=cert.code),
                        redirect_to=url_for("courses.manage_certificates"), form=form,
                        on_error=lambda error: page(error.status))

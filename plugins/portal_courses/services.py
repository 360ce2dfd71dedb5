"""The online school's rules: visibility, reading and completion, certificates,
assigned learning, discussion, authoring and search documents.

Views, the API, the CLI and tests call these; every function that depends on
the clock takes ``now``.
"""
from __future__ import annotations

import functools
import html
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable

import nh3
from flask import current_app, has_request_context, url_for
from flask_babel import get_locale
from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy import Select, and_, bindparam, case, func, literal_column, not_, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_courses.models import (
    REPORT_REASONS, RULES, Assignment, Certificate, Comment, CommentReport, Course, Enrollment, Lesson, LessonProgress, pick,
    ReadingClock,
)

COMMENT_MAX = 2000
REPORT_NOTE_MAX = 300
#: Why a member reports a comment (the keys are stored).
REPORT_REASON_LABELS = {
    "spam": _l("Advertising or spam"),
    "offensive": _l("Insulting or offensive"),
    "personal_info": _l("Exposes personal information"),
    "off_topic": _l("Off topic"),
    "other": _l("Something else"),
}

CATEGORIES = {
    "getting-started": _l("Getting started"),
    "mobility": _l("Staying connected"),
    "rights": _l("Rights and welfare"),
    "theory": _l("Theory and policy"),
    "skills": _l("Skills"),
    "general": _l("General"),
}


def current_locale() -> str:
    """``zh_CN`` or ``en`` for the request being served."""
    locale = get_locale() if has_request_context() else None
    return "zh_CN" if locale is None or locale.language == "zh" else "en"


# -- visibility ------------------------------------------------------------------------

def _account_units(account) -> tuple[set[int], list]:
    member = getattr(account, "member", None)
    ids: set[int] = set()
    if member is not None:
        for unit in (member.home_unit, member.host_unit):
            if unit is not None:
                ids.update(unit.ancestor_ids())
    return ids, [role.unit for role in getattr(account, "roles", [])]


def visible_courses_condition(account, *, include_drafts: bool = False):
    """SQL condition on :class:`Course` for the courses ``account`` may study (or edit, with drafts)."""
    base = [Course.retired_at.is_(None)]
    if account is None:
        return and_(*base, Course.published.is_(True), Course.owner_unit_id.is_(None))
    if tk.is_admin(account):
        return and_(*base) if include_drafts else and_(*base, Course.published.is_(True))
    unit_ids, role_units = _account_units(account)
    reach = [Course.owner_unit_id.is_(None)]
    if unit_ids:
        reach.append(Course.owner_unit_id.in_(unit_ids))
    for unit in role_units:
        reach.append(Course.owner_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
    published = Course.published.is_(True)
    if include_drafts:
        authoring = [Course.owner_unit.has(tk.in_subtree(tk.OrgUnit.path, u.path)) for u in tk.granting_units("courses.author", account)]
        if authoring:
            published = or_(published, *authoring)
    return and_(*base, published, or_(*reach))


def can_view_course(course: Course | None, account) -> bool:
    if course is None:
        return False
    return tk.db.session.scalar(select(func.count(Course.id)).where(
        Course.id == course.id, visible_courses_condition(account, include_drafts=True))) == 1


def can_edit_course(course: Course) -> bool:
    """Browser-authored courses can be edited by authors over their unit (file courses: edit the files)."""
    if course.source != "web":
        return False
    return tk.can("courses.author", course.owner_unit) if course.owner_unit else tk.is_admin()


def catalogue(account, *, category: str | None = None, tag: str | None = None, course_ids: Iterable[int] | None = None,
              locale: str = "en") -> list[Course]:
    query = select(Course).where(visible_courses_condition(account)).order_by(Course.position, Course.id)
    if category:
        query = query.where(Course.category == category)
    if course_ids is not None:
        query = query.where(Course.id.in_(list(course_ids)))
    courses = list(tk.db.session.scalars(query))
    if tag:
        courses = [c for c in courses if tag in c.tag_list(locale) or any(tag in v for v in (c.tags or {}).values())]
    return courses


def categories_in_use(account) -> list[str]:
    return sorted(set(tk.db.session.scalars(select(Course.category).where(visible_courses_condition(account)))))


# -- progress ------------------------------------------------------------------------------

@dataclass
class Progress:
    done: int
    total: int
    completed_at: datetime | None = None
    quiz_passed: bool = False
    resume_lesson: Lesson | None = None
    started: bool = False
    done_ids: set[int] = field(default_factory=set)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def lesson_min_seconds(lesson: Lesson) -> int:
    """Seconds a member must spend on a lesson before it counts (guards against click-through).

    The lesson's own ``min_seconds`` when set; else half the estimated reading
    time (``reading_chars_per_minute``), between the ``min_reading_seconds`` and
    ``max_reading_seconds`` settings.
    """
    if lesson.min_seconds is not None:
        return lesson.min_seconds
    low = int(tk.get_setting("courses", "min_reading_seconds", 30))
    high = int(tk.get_setting("courses", "max_reading_seconds", 180))
    per_minute = max(1, int(tk.get_setting("courses", "reading_chars_per_minute", 400)))
    estimate = round(lesson.reading_chars / per_minute * 60 / 2)
    return max(low, min(high, estimate))


def enrollment(member, course: Course) -> Enrollment | None:
    return tk.db.session.scalar(select(Enrollment).where(Enrollment.member_id == member.id, Enrollment.course_id == course.id))


def course_progress(member, course: Course) -> Progress:
    """The member's progress in one course (see :func:`progress_map` for several)."""
    return progress_map(member, [course])[course.id]


def progress_map(member, courses: list[Course], *, enrollments: dict[int, Enrollment] | None = None) -> dict[int, Progress]:
    """Progress in each course, in a fixed number of queries whatever the number of courses.

    Lessons, completed lesson ids and enrollments are each loaded once for all
    ``courses`` (lists and dashboards would otherwise send three queries per course).
    Pass ``enrollments`` (course id → the member's enrollment) when already loaded.
    """
    courses = list({course.id: course for course in courses}.values())
    if not courses:
        return {}
    load_lessons(courses)
    lesson_ids = [lesson.id for course in courses for lesson in course.active_lessons]
    done_ids: set[int] = set()
    known = enrollments
    enrollments = dict(known or {})
    if member is not None and lesson_ids:
        done_ids = set(tk.db.session.scalars(select(LessonProgress.lesson_id).where(
            LessonProgress.member_id == member.id, LessonProgress.lesson_id.in_(lesson_ids),
            LessonProgress.completed_at.is_not(None))))
    if member is not None and known is None:
        enrollments = {e.course_id: e for e in tk.db.session.scalars(select(Enrollment).where(
            Enrollment.member_id == member.id, Enrollment.course_id.in_([c.id for c in courses])))}
    return {course.id: _progress(course, done_ids, enrollments.get(course.id)) for course in courses}


def load_lessons(courses: list[Course]) -> None:
    """Load the lessons of every course not loaded yet, in one query."""
    from sqlalchemy.orm.attributes import set_committed_value

    missing = [course for course in courses if "lessons" not in course.__dict__]
    if not missing:
        return
    by_course: dict[int, list[Lesson]] = {course.id: [] for course in missing}
    for lesson in tk.db.session.scalars(select(Lesson).where(Lesson.course_id.in_(list(by_course)))
                                        .order_by(Lesson.course_id, Lesson.position)):
        by_course[lesson.course_id].append(lesson)
    for course in missing:
        set_committed_value(course, "lessons", by_course[course.id])


@dataclass(frozen=True)
class Place:
    """Where a lesson sits among its course's active lessons (by position, then id)."""

    position: int
    total: int
    prev_id: int | None
    next_id: int | None


@functools.cache
def place_columns() -> tuple:
    """Scalar subqueries giving a :class:`Place` (in its field order) for each ``Lesson`` row of a query.

    The lesson page needs only its number and its neighbours: loading every lesson of the course
    (titles and bodies) for that was most of its own cost in a course of a hundred lessons.
    Built once: they hold no parameter, and building SQL expressions costs more than running them.
    """
    other = aliased(Lesson)
    active = and_(other.course_id == Lesson.course_id, other.retired_at.is_(None))
    before = or_(other.position < Lesson.position, and_(other.position == Lesson.position, other.id < Lesson.id))
    after = or_(other.position > Lesson.position, and_(other.position == Lesson.position, other.id > Lesson.id))
    return (select(func.count(other.id) + 1).where(active, before).scalar_subquery(),
            select(func.count(other.id)).where(active).scalar_subquery(),
            select(other.id).where(active, before).order_by(other.position.desc(), other.id.desc()).limit(1).scalar_subquery(),
            select(other.id).where(active, after).order_by(other.position, other.id).limit(1).scalar_subquery())


def lesson_place(lesson: Lesson) -> Place:
    """The :class:`Place` of ``lesson`` (one statement)."""
    return Place(*tk.db.session.execute(select(*place_columns()).where(Lesson.id == lesson.id)).one())


def _progress(course: Course, all_done_ids: set[int], enrolled: Enrollment | None) -> Progress:
    lessons = course.active_lessons
    done_ids = {lesson.id for lesson in lessons if lesson.id in all_done_ids}
    resume = None
    if enrolled and enrolled.last_lesson_id:
        resume = next((lesson for lesson in lessons if lesson.id == enrolled.last_lesson_id), None)
        if resume is not None and resume.id in done_ids:
            resume = next((lesson for lesson in lessons if lesson.id not in done_ids and lesson.position > resume.position), resume)
    if resume is None and lessons:
        resume = next((lesson for lesson in lessons if lesson.id not in done_ids), lessons[0])
    return Progress(done=len(done_ids), total=len(lessons), completed_at=enrolled.completed_at if enrolled else None,
                    quiz_passed=bool(enrolled and enrolled.quiz_passed_at), resume_lesson=resume,
                    started=enrolled is not None, done_ids=done_ids)


def lesson_progress(member, lesson: Lesson) -> LessonProgress | None:
    if member is None:
        return None
    return tk.db.session.scalar(select(LessonProgress).where(
        LessonProgress.member_id == member.id, LessonProgress.lesson_id == lesson.id))


# -- reading time: credited by the member's reading clock (see README "Reading time") --------

#: A heartbeat may come this many seconds later than the interval (slow phones, throttled timers).
HEARTBEAT_SLACK = 10
#: The most a reader without JavaScript is credited between two lesson requests.
PAGE_GAP_SECONDS = 600
#: What the lesson page's script reports: in front (``beat``), hidden or left (``pause``); requests are ``page``.
HEARTBEAT_STATES = ("beat", "pause")


def heartbeat_seconds() -> int:
    """How often a visible, focused lesson page reports reading (setting ``reading_heartbeat_seconds``)."""
    return int(tk.get_setting("courses", "reading_heartbeat_seconds", 15))


def _move_clock(member, lesson_id: int, state: str, now: datetime) -> tuple | None:
    """Point the member's reading clock at ``lesson_id``; returns the previous ``(lesson id, at, state)``, None at first.

    One UPDATE … RETURNING: the ``prev_*`` columns take the old values in the same statement
    (SQL evaluates every right-hand side on the old row), and the row lock makes parallel tabs queue.
    """
    session = tk.db.session
    previous = session.execute(
        update(ReadingClock).where(ReadingClock.member_id == member.id)
        .values(prev_lesson_id=ReadingClock.lesson_id, prev_at=ReadingClock.at, prev_state=ReadingClock.state,
                lesson_id=lesson_id, at=now, state=state)
        .returning(ReadingClock.prev_lesson_id, ReadingClock.prev_at, ReadingClock.prev_state)
        .execution_options(synchronize_session=False)).first()
    if previous is not None:
        return tuple(previous)
    try:
        with session.begin_nested():
            session.add(ReadingClock(member_id=member.id, lesson_id=lesson_id, at=now, state=state))
    except IntegrityError:  # the member's first event arrived twice at once: the other one made the row
        return _move_clock(member, lesson_id, state, now)
    return None


def _credit_for(previous: tuple | None, state: str, now: datetime) -> tuple[int | None, int]:
    """``(lesson id, seconds)`` that an event credits for the time since the member's previous event.

    The time goes to the previous event's lesson: that is what the member had in front of them.
    After a pause nothing (the page was hidden). After a heartbeat at most one interval plus
    slack: a longer silence means the page was hidden. A page's first heartbeat credits nothing
    for the time since the request (a tab opened in the background beats only once in front).
    Two lesson requests in a row (no JavaScript) credit at most ``PAGE_GAP_SECONDS``.
    """
    if previous is None or previous[2] == "pause" or (previous[2] == "page" and state != "page"):
        return None, 0
    lesson_id, at, previous_state = previous
    cap = PAGE_GAP_SECONDS if previous_state == "page" else heartbeat_seconds() + HEARTBEAT_SLACK
    return lesson_id, max(0, min(cap, round((now - at).total_seconds())))


def record_reading(member, lesson_id: int, state: str, now: datetime | None = None) -> int:
    """A lesson event of ``member`` (``page`` or one of :data:`HEARTBEAT_STATES`); returns the seconds credited. Caller commits.

    Two statements: move the clock, credit the previous lesson (only when something is credited).
    The credit lands only on a progress row, which exists only once the member opened the lesson
    through a page that checked they may see it; so the lesson id needs no check here.
    """
    now = now or tk.utcnow()
    credited_id, seconds = _credit_for(_move_clock(member, lesson_id, state, now), state, now)
    if seconds:
        tk.db.session.execute(
            update(LessonProgress).where(LessonProgress.member_id == member.id, LessonProgress.lesson_id == credited_id)
            .values(seconds_spent=LessonProgress.seconds_spent + seconds))
    return seconds


def _opened_progress(member, lesson: Lesson, now: datetime, credit: tuple[int | None, int] = (None, 0)) -> LessonProgress | None:
    """Set ``last_opened_at`` on the member's progress row and return the row (one UPDATE … RETURNING).

    ``credit`` (lesson id, seconds) from the reading clock is added in the same statement.
    """
    credited_id, seconds = credit
    ids = {lesson.id, credited_id} if seconds else {lesson.id}
    rows = tk.db.session.scalars(
        update(LessonProgress).where(LessonProgress.member_id == member.id, LessonProgress.lesson_id.in_(ids))
        .values(last_opened_at=case((LessonProgress.lesson_id == lesson.id, now), else_=LessonProgress.last_opened_at),
                seconds_spent=LessonProgress.seconds_spent + case((LessonProgress.lesson_id == credited_id, seconds), else_=0))
        .returning(LessonProgress)).all()
    return next((row for row in rows if row.lesson_id == lesson.id), None)


def _resume_at(member, lesson: Lesson) -> int:
    """Point the member's enrollment in the lesson's course at ``lesson``; how many rows were updated."""
    return tk.db.session.execute(
        update(Enrollment).where(Enrollment.member_id == member.id, Enrollment.course_id == lesson.course_id)
        .values(last_lesson_id=lesson.id)).rowcount


@functools.cache
def _opening_statement() -> Select:
    """The member's progress row with their reading clock and resume point (built once: building costs more than running)."""
    return (select(LessonProgress, ReadingClock.lesson_id, ReadingClock.state, ReadingClock.at, Enrollment.last_lesson_id)
            .outerjoin(ReadingClock, ReadingClock.member_id == LessonProgress.member_id)
            .outerjoin(Enrollment, and_(Enrollment.member_id == LessonProgress.member_id,
                                        Enrollment.course_id == bindparam("course_id")))
            .where(LessonProgress.member_id == bindparam("member_id"), LessonProgress.lesson_id == bindparam("lesson_id")))


def _unchanged_opening(member, lesson: Lesson, now: datetime) -> LessonProgress | None:
    """The member's progress row when opening ``lesson`` again now would change nothing, else None (one SELECT).

    Nothing changes when the member is on this lesson already: opened it less than one heartbeat
    window (interval plus slack) ago, the course resumes at it, and the reading clock points at it,
    running (``page`` or ``beat``, not ``pause``), moved within that window. The time since the
    clock's last move is then credited by the member's next event, as a write now would have
    credited it; at most the window is lost for a reader without JavaScript (the ``page`` gap cap
    counts from the clock's last move). A reload or a page read many times over thus writes nothing:
    on SQLite a write would queue the view behind every other writer.
    """
    row = tk.db.session.execute(_opening_statement(), {
        "member_id": member.id, "lesson_id": lesson.id, "course_id": lesson.course_id}).first()
    if row is None:
        return None
    progress, clock_lesson_id, state, moved_at, resume_id = row
    window = timedelta(seconds=heartbeat_seconds() + HEARTBEAT_SLACK)

    def recent(moment: datetime | None) -> bool:
        return moment is not None and timedelta(0) <= now - moment < window

    running = clock_lesson_id == lesson.id and state != "pause" and recent(moved_at)
    return progress if running and resume_id == lesson.id and recent(progress.last_opened_at) else None


def open_lesson(member, lesson: Lesson, now: datetime | None = None) -> LessonProgress:
    """Record that ``member`` opened ``lesson`` (a ``page`` reading event; remembers where to resume). Commits.

    Reopening the lesson the member is on writes nothing (see :func:`_unchanged_opening`): one SELECT.
    Otherwise the two commits keep what the request has loaded (account, course, lesson): the page
    renders from it and would otherwise load it all again. Once a member has opened the
    lesson and the course, this sends three UPDATEs (reading clock, progress, enrollment) besides that SELECT.
    """
    now = now or tk.utcnow()
    unchanged = _unchanged_opening(member, lesson, now)
    if unchanged is not None:
        return unchanged
    session = tk.db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()  # end the request's read transaction: this write starts a writer (SQLite)
        with tk.write_intent():
            credit = _credit_for(_move_clock(member, lesson.id, "page", now), "page", now)
            progress = _opened_progress(member, lesson, now, credit)
            if progress is None:
                progress = LessonProgress(member_id=member.id, lesson_id=lesson.id, started_at=now, last_opened_at=now)
                try:
                    with session.begin_nested():
                        session.add(progress)
                except IntegrityError:
                    progress = _opened_progress(member, lesson, now)
            if not _resume_at(member, lesson):
                enrolled = Enrollment(member_id=member.id, course_id=lesson.course_id, started_at=now,
                                      last_lesson_id=lesson.id)
                try:
                    with session.begin_nested():
                        session.add(enrolled)
                except IntegrityError:
                    _resume_at(member, lesson)
            session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return progress


_UNKNOWN: Any = object()


def seconds_left(member, lesson: Lesson, *, progress: Any = _UNKNOWN) -> int | None:
    """Seconds of reading still needed before ``lesson`` may be marked complete (0: now; None: never opened).

    The minimum less the time the reading clock credited, not the time since first opening.
    Pass ``progress`` (the member's row for the lesson, or None) when it is already loaded.
    """
    if progress is _UNKNOWN:
        progress = lesson_progress(member, lesson)
    if progress is None:
        return None
    if progress.completed_at is not None:
        return 0
    return max(0, lesson_min_seconds(lesson) - progress.seconds_spent)


def complete_lesson(member, lesson: Lesson, now: datetime | None = None) -> tuple[LessonProgress, bool]:
    """Mark ``lesson`` complete for ``member`` once they spent the minimum reading time on it; idempotent.

    The request is a ``page`` reading event first (a reader without JavaScript is credited the
    time since opening the lesson). Returns ``(progress, newly_completed)``; raises
    :class:`tk.Conflict` (409) when the lesson was never opened or too little time was spent. Records
    ``lesson.completed`` and, when the course's rule is met, completes the
    course. Caller commits.
    """
    now = now or tk.utcnow()
    if lesson.retired_at is not None or lesson.course.retired_at is not None:
        raise tk.Conflict(_("This lesson has been retired."), code="retired")
    record_reading(member, lesson.id, "page", now)
    progress = lesson_progress(member, lesson)
    if progress is None:
        raise tk.Conflict(_("Open the lesson and read it before marking it complete."), code="not_started",
                          details={"seconds_left": lesson_min_seconds(lesson)})
    if progress.completed_at is not None:
        return progress, False
    left = seconds_left(member, lesson, progress=progress)
    if left:
        raise tk.Conflict(_("Please keep reading: you can mark this lesson complete in %(num)d seconds.", num=left),
                          code="too_soon", details={"seconds_left": left})
    progress.completed_at = now
    tk.record_activity(member, "lesson.completed", "lesson", lesson.id, at=now,  # seconds: the xAPI result's duration
                       extras={"course": lesson.course.slug, "lesson": lesson.slug, "seconds": progress.seconds_spent})
    tk.db.session.flush()
    check_course_completion(member, lesson.course, now)
    return progress, True


def final_quiz(course: Course, member) -> dict | None:
    """The quiz plugin's answer about the course's final quiz for ``member`` (None when there is none)."""
    return tk.call_hook("portal_course_final_quiz", course_slug=course.slug, member=member)  # firstresult


def check_course_completion(member, course: Course, now: datetime | None = None) -> bool:
    """Complete the course when its rule is met (all lessons; and the final quiz passed when there is one)."""
    now = now or tk.utcnow()
    enrolled = enrollment(member, course)
    if enrolled is not None and enrolled.completed_at is not None:
        return False
    progress = course_progress(member, course)
    if progress.total == 0 or progress.done < progress.total:
        return False
    if course.needs_quiz and not (enrolled and enrolled.quiz_passed_at):
        quiz = final_quiz(course, member)
        if quiz is not None and not quiz.get("passed"):
            return False
    if enrolled is None:
        enrolled = Enrollment(member_id=member.id, course_id=course.id, started_at=now)
        tk.db.session.add(enrolled)
    enrolled.completed_at = now
    tk.record_activity(member, "course.completed", "course", course.id, at=now, extras={"course": course.slug})
    if course.grants_certificate:
        issue_certificate(member, course, now)
    return True


def quiz_passed(member, course_slug: str, now: datetime | None = None) -> None:
    """The quiz plugin reported ``quiz.passed`` for a course's final quiz: remember it and maybe complete."""
    now = now or tk.utcnow()
    course = tk.db.session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        return
    enrolled = enrollment(member, course)
    if enrolled is None:
        enrolled = Enrollment(member_id=member.id, course_id=course.id, started_at=now)
        tk.db.session.add(enrolled)
    if enrolled.quiz_passed_at is None:
        enrolled.quiz_passed_at = now
    tk.db.session.flush()
    check_course_completion(member, course, now)


# -- certificates ------------------------------------------------------------------------

def issue_certificate(member, course: Course, now: datetime | None = None) -> Certificate:
    """Issue (once) the completion certificate; records ``certificate.issued``."""
    now = now or tk.utcnow()
    existing = tk.db.session.scalar(select(Certificate).where(Certificate.member_id == member.id, Certificate.course_id == course.id))
    if existing is not None:
        return existing
    unit = member.home_unit
    try:
        cert = tk.add_with_unique_code(lambda code: Certificate(
            code=code, member_id=member.id, course_id=course.id, member_name=member.name,
            course_titles=dict(course.titles), issuing_unit_id=unit.id if unit else None,
            issuing_unit_name=unit.name if unit else "", issued_at=now))
    except IntegrityError:  # issued concurrently: the (member, course) pair is unique
        return tk.db.session.scalar(select(Certificate).where(Certificate.member_id == member.id, Certificate.course_id == course.id))
    tk.record_activity(member, "certificate.issued", "certificate", cert.id, at=now,
                       extras={"course": course.slug, "code": cert.code})
    issue_certificate_badge(cert)
    return cert


def issue_certificate_badge(cert: Certificate) -> None:
    """The certificate as an Open Badge too (``tk.issue_badge``: the same certificate twice issues it once)."""
    course = cert.course
    criteria = (_l("Complete every lesson of the course and pass its final quiz.") if course.needs_quiz
                else _l("Complete every lesson of the course."))
    tk.issue_badge(
        cert.member, key=f"course:{course.slug}", plugin="courses", name=course.titles,
        description=course.summaries if any((course.summaries or {}).values()) else criteria,
        criteria_narrative=criteria, criteria_path=tk.path_for("courses.course", slug=course.slug),
        source=f"certificate:{cert.id}", evidence_path=tk.path_for("courses.verify_certificate", code=cert.code),
        now=cert.issued_at)


def may_download_certificate(cert: Certificate, account) -> bool:
    """The holder downloads their certificate; those who manage certificates (admins) any of them."""
    member = getattr(account, "member", None)
    return (member is not None and cert.member_id == member.id) or tk.can("courses.certificates", None, account)


def own_certificates_query(member) -> Select:
    """The member's certificates, newest first."""
    return select(Certificate).where(Certificate.member_id == member.id).order_by(Certificate.issued_at.desc(),
                                                                                 Certificate.id.desc())


@functools.cache
def _lesson_comments_statement() -> Select:
    """A lesson's comments, oldest first, with their authors; the lesson id is parameter ``lesson_id`` (built once)."""
    return (select(Comment).options(joinedload(Comment.member)).where(Comment.lesson_id == bindparam("lesson_id"))
            .order_by(Comment.created_at, Comment.id))


def lesson_comments_query(lesson: Lesson) -> Select:
    """A lesson's comments, oldest first, with their authors."""
    return _lesson_comments_statement().params(lesson_id=lesson.id)


def sync_certificate_badges() -> int:
    """Issue every certificate as an Open Badge, revoked ones revoked too; returns how many. Caller commits.

    The backfill for certificates issued before Open Badges existed: running it again changes nothing.
    """
    certificates = tk.db.session.scalars(select(Certificate).options(joinedload(Certificate.course))
                                         .order_by(Certificate.id)).all()
    for cert in certificates:
        issue_certificate_badge(cert)
        if cert.revoked_at is not None:
            tk.revoke_badge(f"certificate:{cert.id}", cert.revoke_reason or "", now=cert.revoked_at)
    return len(certificates)


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with ``code`` as typed or scanned (any case), or ``None``."""
    code = tk.normalize_code(code)
    if not re.fullmatch(r"[A-Z0-9-]{4,20}", code):
        return None
    return tk.db.session.scalar(select(Certificate).where(Certificate.code == code))


def revoke_certificate(cert: Certificate, reason: str, now: datetime | None = None) -> None:
    """Revoke a certificate (admins); the verification page then says it is not valid. Caller commits."""
    reason = (reason or "").strip()
    if not reason:
        raise tk.Invalid(_("Give a reason for the revocation."), field="reason")
    if cert.revoked_at is not None:
        raise tk.Conflict(_("This certificate is already revoked."))
    cert.revoked_at = now or tk.utcnow()
    cert.revoke_reason = reason[:300]
    if has_request_context():
        from flask_login import current_user

        cert.revoked_by_id = current_user.id if current_user.is_authenticated else None
    tk.audit("certificate.revoked", "certificate", cert.id, code=cert.code, reason=cert.revoke_reason)
    tk.revoke_badge(f"certificate:{cert.id}", cert.revoke_reason, now=cert.revoked_at)


def verify_url(cert: Certificate) -> str:
    """The public verification page of ``cert`` (printed as a QR code)."""
    return url_for("courses.verify_certificate", code=cert.code, _external=True)


def certificate_status(cert: Certificate) -> str:
    """``valid`` or ``revoked`` (completion certificates do not expire)."""
    return tk.document_status(revoked=cert.revoked_at is not None)


def certificate_document(cert: Certificate, locale: str) -> tk.Document:
    """The printable facts of ``cert`` for the toolkit's certificate layout."""
    return tk.Document(title=_("Certificate of completion"), code=cert.code, verify_url=verify_url(cert),
                       preamble=_("This certifies that"), holder=cert.member_name,
                       lines=[(_("has completed the course"), cert.course_title(locale))],
                       issuer=cert.issuing_unit_name, issued_at=cert.issued_at, status=certificate_status(cert))


def certificate_pdf(cert: Certificate, locale: str) -> bytes:
    """The certificate as a PDF (A4 landscape, CJK font embedded, QR code to the verification page)."""
    return tk.document_pdf(certificate_document(cert, locale), "certificate")


def verification_page(code: str, locale: str) -> tuple[str, int]:
    """The public check of ``code``: validity, name, course and date only (never the revocation reason)."""
    cert = certificate_by_code(code)
    if cert is None:
        return tk.verification_page(_("Certificate check"), "unknown",
                                    message=_("A certificate with this code does not exist."))
    facts = [(_("Name"), cert.member_name), (_("Course"), cert.course_title(locale)),
             (_("Date"), tk.fmt_date(tk.local_date(cert.issued_at), "long")), (_("Verification code"), cert.code)]
    status = certificate_status(cert)
    message = (_("This certificate is genuine and valid.") if status == "valid"
               else _("This certificate has been revoked and is no longer valid."))
    return tk.verification_page(_("Certificate check"), status, facts, message=message)


# -- assigned learning ----------------------------------------------------------------------

def assignment_member_condition(assignment: Assignment):
    """Members an assignment targets: home or host unit under its unit, and its stage when set."""
    unit = assignment.unit
    condition = or_(tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)),
                    tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
    if assignment.stage:
        condition = and_(condition, tk.Member.stage == assignment.stage)
    return condition


def create_assignment(course: Course, unit, due_on: date, stage: str | None = None, note: str = "",
                      account=None, now: datetime | None = None) -> Assignment:
    """Assign a course to a unit's members (optionally one stage); notifies them. Caller commits."""
    now = now or tk.utcnow()
    if stage and stage not in tk.STAGES:
        raise tk.Invalid(_("Unknown membership stage."), field="stage")
    if due_on < tk.local_date(now):
        raise tk.Invalid(_("The due date cannot be in the past."), field="due_on")
    assignment = Assignment(course_id=course.id, unit_id=unit.id, stage=stage or None, due_on=due_on,
                            note=(note or "").strip()[:2000] or None, created_by_id=account.id if account else None,
                            created_at=now)
    tk.db.session.add(assignment)
    tk.db.session.flush()
    accounts = tk.db.session.scalars(select(tk.Member.account_id).where(assignment_member_condition(assignment))).all()
    title = course.title("zh_CN")
    url = url_for("courses.course", slug=course.slug) if has_request_context() else None
    tk.notify([a for a in accounts if a], _l("New assigned course: %(title)s (due %(date)s)", title=title, date=tk.fmt_date(due_on)),
              url=url, kind="courses.assigned")
    tk.audit("courses.assigned", "course", course.id, unit_id=unit.id, due_on=due_on.isoformat(), stage=stage or "")
    return assignment


@dataclass
class AssignmentRow:
    member: Any
    done: int
    total: int
    completed_at: datetime | None
    overdue: bool

    @property
    def status(self) -> str:
        if self.completed_at:
            return "completed"
        return "in_progress" if self.done else "not_started"


def assignment_report(assignment: Assignment, now: datetime | None = None) -> tuple[list[AssignmentRow], list[dict]]:
    """Per member (name order) and per home unit: progress, completion and overdue flags."""
    now = now or tk.utcnow()
    course = assignment.course
    lesson_ids = [lesson.id for lesson in course.active_lessons]
    members = list(tk.db.session.scalars(select(tk.Member).where(assignment_member_condition(assignment))
                                         .order_by(tk.Member.name, tk.Member.id)))
    ids = [m.id for m in members]
    done = dict(tk.db.session.execute(select(LessonProgress.member_id, func.count(LessonProgress.id)).where(
        LessonProgress.member_id.in_(ids), LessonProgress.lesson_id.in_(lesson_ids),
        LessonProgress.completed_at.is_not(None)).group_by(LessonProgress.member_id)).all()) if ids and lesson_ids else {}
    completed = dict(tk.db.session.execute(select(Enrollment.member_id, Enrollment.completed_at).where(
        Enrollment.course_id == course.id, Enrollment.member_id.in_(ids), Enrollment.completed_at.is_not(None))).all()) if ids else {}
    past_due = tk.local_date(now) > assignment.due_on
    rows = [AssignmentRow(member=m, done=done.get(m.id, 0), total=len(lesson_ids), completed_at=completed.get(m.id),
                          overdue=past_due and m.id not in completed) for m in members]
    units: dict[int, dict] = {}
    for row in rows:
        unit = row.member.home_unit
        entry = units.setdefault(unit.id, {"unit": unit, "total": 0, "completed": 0, "overdue": 0})
        entry["total"] += 1
        entry["completed"] += 1 if row.completed_at else 0
        entry["overdue"] += 1 if row.overdue else 0
    per_unit = sorted(units.values(), key=lambda e: e["unit"].path)
    for entry in per_unit:
        entry["percent"] = round(100 * entry["completed"] / entry["total"]) if entry["total"] else 0
    return rows, per_unit


def assignments_for_member(member, now: datetime | None = None) -> list[dict]:
    """Active assignments that target ``member``, with their progress and overdue flag."""
    now = now or tk.utcnow()
    assignments = _member_assignments(member)
    progress = progress_map(member, [a.course for a in assignments])
    return [_assignment_row(a, progress[a.course_id], now) for a in assignments]


def _member_assignments(member) -> list[Assignment]:
    """Active assignments on the member's home or host units (or above), one per course, due first."""
    unit_ids: set[int] = set()
    for unit in (member.home_unit, member.host_unit):
        if unit is not None:
            unit_ids.update(unit.ancestor_ids())
    if not unit_ids:
        return []
    query = select(Assignment).options(joinedload(Assignment.course)).where(
        Assignment.unit_id.in_(unit_ids), Assignment.cancelled_at.is_(None),
        or_(Assignment.stage.is_(None), Assignment.stage == member.stage)).order_by(Assignment.due_on)
    chosen, seen = [], set()
    for assignment in tk.db.session.scalars(query):
        if assignment.course_id in seen or assignment.course.retired_at is not None:
            continue
        seen.add(assignment.course_id)
        chosen.append(assignment)
    return chosen


def _assignment_row(assignment: Assignment, progress: Progress, now: datetime) -> dict:
    return {"assignment": assignment, "course": assignment.course, "progress": progress,
            "overdue": progress.completed_at is None and tk.local_date(now) > assignment.due_on}


def assignments_query(account):
    """Assignments on units the account may assign for, newest first."""
    return select(Assignment).join(tk.OrgUnit, Assignment.unit_id == tk.OrgUnit.id) \
        .where(tk.unit_scope("courses.assign", account), Assignment.cancelled_at.is_(None)) \
        .order_by(Assignment.due_on.desc(), Assignment.id.desc())


def overdue_counts(now: datetime | None = None) -> list[tuple[Assignment, int]]:
    """``(assignment, members overdue)`` for assignments past due (the alerts scan)."""
    now = now or tk.utcnow()
    result = []
    query = select(Assignment).where(Assignment.cancelled_at.is_(None), Assignment.due_on < tk.local_date(now),
                                     Assignment.due_on >= tk.local_date(now) - timedelta(days=30))
    for assignment in tk.db.session.scalars(query):
        rows, _units = assignment_report(assignment, now)
        overdue = sum(1 for row in rows if row.overdue)
        if overdue:
            result.append((assignment, overdue))
    return result


def overdue_alerts(now: datetime) -> list:
    """One ``Alert`` per assignment with overdue members, on the day after its due date only (``portal alerts scan``)."""
    return [tk.Alert(kind="courses.overdue", unit_id=assignment.unit_id, member_id=None,
                     message=_l("%(num)d member(s) did not complete the assigned course by its due date.", num=count),
                     url=assignment_path(assignment), permission="courses.assign")
            for assignment, count in overdue_counts(now)
            if assignment.due_on == tk.local_date(now) - timedelta(days=1)]


# -- discussion -------------------------------------------------------------------------------

def add_comment(member, lesson: Lesson, body: str, now: datetime | None = None) -> Comment:
    """Post a comment (Markdown, sanitized when shown). Caller commits."""
    if not tk.get_setting("courses", "comments_enabled", True):
        raise tk.Forbidden(_("The discussion is closed."))
    text = (body or "").strip()
    if not text:
        raise tk.Invalid(_("Write something before posting."), field="body")
    if len(text) > COMMENT_MAX:
        raise tk.Invalid(_("A comment can be at most %(num)d characters long.", num=COMMENT_MAX), field="body")
    comment = Comment(lesson_id=lesson.id, member_id=member.id, body=text, created_at=now or tk.utcnow())
    tk.db.session.add(comment)
    tk.db.session.flush()
    tk.record_activity(member, "lesson.commented", "comment", comment.id, at=comment.created_at,
                       extras={"course": lesson.course.slug, "lesson": lesson.id})
    return comment


def can_moderate(comment: Comment) -> bool:
    """May the current user moderate ``comment``: secretaries over its author (home, or host while hosted), admins;
    never on their own comment."""
    return tk.can_see_member(comment.member, "courses.moderate") and comment.member.account_id != _current_account_id() \
        or tk.is_admin()


def _current_account_id() -> int | None:
    from flask_login import current_user

    return current_user.id if has_request_context() and current_user.is_authenticated else None


def comment_path(comment: Comment) -> str:
    """The comment's place on its lesson page."""
    return _path("courses.lesson", slug=comment.lesson.course.slug, lesson_id=comment.lesson_id) + f"#comment-{comment.id}"


def _resolve_reports(comment: Comment, now: datetime) -> None:
    """A moderator looked at the comment: it is reviewed and its open reports are dealt with."""
    comment.reviewed_at = now
    tk.db.session.execute(update(CommentReport).where(CommentReport.comment_id == comment.id,
                                                      CommentReport.resolved_at.is_(None)).values(resolved_at=now))


def _notify_hidden(comment: Comment) -> None:
    """Tell the author why their comment is hidden (lazy strings: read in the author's language)."""
    if comment.member.account_id is None:
        return
    if comment.hidden_auto:
        title = _l("Your comment is hidden until the moderators review it")
        body = _l("Several members reported it.")
    else:
        title = _l("Your comment was hidden by the moderators")
        body = _l("Reason: %(reason)s", reason=comment.hidden_reason) if comment.hidden_reason else ""
    tk.notify([comment.member.account_id], title, body, url=comment_path(comment), kind="courses.comment_hidden")


def set_comment_hidden(comment: Comment, hidden: bool, reason: str = "", now: datetime | None = None) -> None:
    """Hide (with a reason) or restore a comment as a moderator; either way its open reports are dealt with.
    The author is told when it is hidden. Caller commits."""
    now = now or tk.utcnow()
    if hidden:
        comment.hidden_at = now
        comment.hidden_by_id = _current_account_id()
        comment.hidden_reason = (reason or "").strip()[:200] or None
    else:
        comment.hidden_at = comment.hidden_by_id = comment.hidden_reason = None
    comment.hidden_auto = False
    _resolve_reports(comment, now)
    tk.audit("courses.comment_hidden" if hidden else "courses.comment_shown", "comment", comment.id,
             unit_id=comment.member.home_unit_id, reason=comment.hidden_reason)
    if hidden:
        _notify_hidden(comment)


def dismiss_reports(comment: Comment, now: datetime | None = None) -> None:
    """Mark a comment reviewed and its open reports unfounded (it stays as it is). Caller commits."""
    _resolve_reports(comment, now or tk.utcnow())
    tk.audit("courses.comment_reports_dismissed", "comment", comment.id, unit_id=comment.member.home_unit_id)


def report_comment(member, comment: Comment, reason: str, note: str = "", now: datetime | None = None) -> CommentReport:
    """``member`` reports ``comment``: once per member (a unique constraint), never their own comment.

    When the open reports reach the ``report_hide_threshold`` setting (0: never) the comment is hidden
    pending review: moderators restore it or confirm with a reason. Caller commits.
    """
    now = now or tk.utcnow()
    if comment.member_id == member.id:
        raise tk.Forbidden(_("You cannot report your own comment."))
    if comment.hidden_at is not None:
        raise tk.Conflict(_("This comment is already hidden."))
    if reason not in REPORT_REASONS:
        raise tk.Invalid(_("Choose a reason."), field="reason")
    note = (note or "").strip()
    if len(note) > REPORT_NOTE_MAX:
        raise tk.Invalid(_("A note can be at most %(num)d characters long.", num=REPORT_NOTE_MAX), field="note")
    report = CommentReport(comment_id=comment.id, member_id=member.id, reason=reason, note=note or None, created_at=now)
    try:
        # the constraint, not a prior SELECT, refuses a second report: two at once still count once
        with tk.db.session.begin_nested():
            tk.db.session.add(report)
    except IntegrityError:
        raise tk.Conflict(_("You have already reported this comment.")) from None
    threshold = tk.get_setting("courses", "report_hide_threshold", 3)
    if threshold and open_report_counts([comment.id]).get(comment.id, 0) >= threshold:
        comment.hidden_at, comment.hidden_by_id, comment.hidden_reason, comment.hidden_auto = now, None, None, True
        tk.audit("courses.comment_auto_hidden", "comment", comment.id, unit_id=comment.member.home_unit_id,
                 actor_account_id=None, reports=threshold)
        _notify_hidden(comment)
    return report


def reported_by(member, comments: list[Comment]) -> set[int]:
    """Ids of the ``comments`` that ``member`` reported (to show "reported" instead of the report button)."""
    if member is None or not comments:
        return set()
    return set(tk.db.session.scalars(select(CommentReport.comment_id).where(
        CommentReport.member_id == member.id, CommentReport.comment_id.in_([c.id for c in comments]))))


def open_report_counts(comment_ids: list[int]) -> dict[int, int]:
    """``{comment id: open reports}`` in one statement."""
    if not comment_ids:
        return {}
    rows = tk.db.session.execute(select(CommentReport.comment_id, func.count(CommentReport.id)).where(
        CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None)).group_by(CommentReport.comment_id))
    return {comment_id: int(num) for comment_id, num in rows}


def open_reports(comment_ids: list[int]) -> dict[int, list[CommentReport]]:
    """The open reports of each comment, oldest first (the queue shows who reported, when, why)."""
    found: dict[int, list[CommentReport]] = {}
    if comment_ids:
        for report in tk.db.session.scalars(select(CommentReport).options(joinedload(CommentReport.member)).where(
                CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None))
                .order_by(CommentReport.created_at, CommentReport.id)):
            found.setdefault(report.comment_id, []).append(report)
    return found


def moderation_condition(account, unit=None):
    """SQL condition on :class:`Comment` for the queue: comments by members ``account`` moderates (home subtree,
    or hosted with them), on courses they can see, not their own; narrowed to ``unit``'s subtree when given."""
    authors = [tk.member_scope("courses.moderate", account),
               or_(tk.Member.account_id.is_(None), tk.Member.account_id != account.id)]
    if unit is not None:
        authors.append(or_(tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)),
                           tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))))
    return and_(Comment.member.has(and_(*authors)),
                Comment.lesson.has(Lesson.course.has(visible_courses_condition(account, include_drafts=True))))


def _has_open_report():
    return select(CommentReport.id).where(CommentReport.comment_id == Comment.id,
                                          CommentReport.resolved_at.is_(None)).exists()


QUEUE_TABS = {
    "new": lambda: and_(Comment.reviewed_at.is_(None), Comment.hidden_at.is_(None)),
    "reported": _has_open_report,
    "hidden": lambda: Comment.hidden_at.is_not(None),
}


def moderation_query(account, tab: str, unit=None):
    """The queue's tab (``new``: not reviewed yet; ``reported``: with open reports; ``hidden``), newest first."""
    return select(Comment).options(joinedload(Comment.member), joinedload(Comment.lesson).joinedload(Lesson.course)) \
        .where(moderation_condition(account, unit), QUEUE_TABS[tab]()).order_by(Comment.created_at.desc(), Comment.id.desc())


def moderation_counts(account, unit=None) -> dict[str, int]:
    """How many comments each tab lists."""
    return {tab: tk.count(select(Comment.id).where(moderation_condition(account, unit), condition()))
            for tab, condition in QUEUE_TABS.items()}


def reported_count(account, unit) -> int:
    """Comments with open reports under ``unit`` that ``account`` moderates (the unit dashboard widget)."""
    return tk.count(select(Comment.id).where(moderation_condition(account, unit), _has_open_report()))


def lesson_comments(lesson: Lesson) -> list[Comment]:
    return list(tk.db.session.scalars(_lesson_comments_statement(), {"lesson_id": lesson.id}))


# -- authoring ----------------------------------------------------------------------------------

def save_course(course: Course | None, data: dict, unit, now: datetime | None = None) -> Course:
    """Create or update a browser-authored course from form data. Caller commits."""
    now = now or tk.utcnow()
    slug = data["slug"].strip().lower()
    clash = tk.db.session.scalar(select(Course).where(Course.slug == slug))
    if clash is not None and clash is not course:
        raise tk.Invalid(_("This short name is already used by another course."), field="slug")
    if data.get("completion_rule") not in RULES:
        raise tk.Invalid(_("Unknown completion rule."), field="completion_rule")
    if course is None:
        course = Course(source="web", created_at=now, owner_unit_id=unit.id if unit else None, published=False)
        tk.db.session.add(course)
    course.slug = slug
    course.titles = {k: v for k, v in {"zh_CN": (data.get("title_zh") or "").strip(), "en": (data.get("title_en") or "").strip()}.items() if v}
    course.summaries = {k: v for k, v in {"zh_CN": (data.get("summary_zh") or "").strip(), "en": (data.get("summary_en") or "").strip()}.items() if v}
    course.category = data.get("category") or "general"
    tags = [t.strip() for t in re.split(r"[,，]", data.get("tags") or "") if t.strip()]
    course.tags = {"zh_CN": tags, "en": tags}
    course.estimated_minutes = int(data.get("estimated_minutes") or 0)
    course.grants_certificate = bool(data.get("grants_certificate"))
    course.completion_rule = data["completion_rule"]
    course.published = bool(data.get("published"))
    course.updated_at = now
    tk.db.session.flush()
    queue_course_documents(course)
    return course


def save_lesson(course: Course, lesson: Lesson | None, data: dict, now: datetime | None = None) -> Lesson:
    """Create or update a lesson of a browser-authored course. Caller commits."""
    now = now or tk.utcnow()
    if lesson is None:
        position = (max((item.position for item in course.lessons), default=0) or 0) + 1
        lesson = Lesson(course_id=course.id, slug=f"web-{secrets.token_hex(4)}", position=position, created_at=now)
        tk.db.session.add(lesson)
    lesson.titles = {k: v for k, v in {"zh_CN": (data.get("title_zh") or "").strip(), "en": (data.get("title_en") or "").strip()}.items() if v}
    lesson.bodies = {k: v for k, v in {"zh_CN": (data.get("body_zh") or "").strip(), "en": (data.get("body_en") or "").strip()}.items() if v}
    if data.get("position"):
        lesson.position = int(data["position"])
    lesson.min_seconds = int(data["min_seconds"]) if data.get("min_seconds") not in (None, "") else None
    lesson.updated_at = now
    tk.db.session.flush()
    tk.db.session.refresh(course)
    queue_lesson_documents(lesson, course)
    return lesson


# -- search documents ------------------------------------------------------------------------------

def plain_text(markdown: str) -> str:
    """Markdown to plain text (for the index)."""
    rendered = str(tk.render_markdown(markdown))
    text = nh3.clean(re.sub(r"</(p|h\d|li|tr|blockquote|pre)>", "\n", rendered), tags=set())
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def _scope(course: Course) -> str:
    return f"unit:{course.owner_unit_id}" if course.owner_unit_id else "members"


def _searchable(course: Course) -> bool:
    return course.published and course.retired_at is None


def course_documents(course: Course) -> list:
    docs = []
    for locale in sorted(set(course.titles) | set(course.summaries)):
        docs.append(tk.SearchDocument(
            key=f"courses:course:{course.id}:{locale}", type="course", title=pick(course.titles, locale, course.slug),
            body=pick(course.summaries, locale), url=_path("courses.course", slug=course.slug), scope=_scope(course),
            locale=locale, tags=" ".join((course.tags or {}).get(locale, []))))
    return docs


def lesson_documents(lesson: Lesson, course: Course) -> list:
    return [tk.SearchDocument(
        key=f"courses:lesson:{lesson.id}:{locale}", type="lesson", title=pick(lesson.titles, locale, lesson.slug),
        body=plain_text(body), url=_path("courses.lesson", slug=course.slug, lesson_id=lesson.id),
        scope=_scope(course), locale=locale)
        for locale, body in sorted((lesson.bodies or {}).items())]


def _keys(kind: str, obj_id: int) -> list[str]:
    return [f"courses:{kind}:{obj_id}:{locale}" for locale in ("zh_CN", "en")]


def queue_course_documents(course: Course) -> None:
    """Queue the course and its lessons for the index (or their removal when hidden)."""
    if not _searchable(course):
        queue_course_removal(course)
        return
    tk.search_remove(_keys("course", course.id))
    tk.search_update(course_documents(course))
    for lesson in course.active_lessons:
        queue_lesson_documents(lesson, course)


def queue_course_removal(course: Course) -> None:
    tk.search_remove(_keys("course", course.id))
    for lesson in course.lessons:
        tk.search_remove(_keys("lesson", lesson.id))


def queue_lesson_documents(lesson: Lesson, course: Course) -> None:
    tk.search_remove(_keys("lesson", lesson.id))
    if _searchable(course) and lesson.retired_at is None:
        tk.search_update(lesson_documents(lesson, course))


def queue_lesson_removal(lesson: Lesson) -> None:
    tk.search_remove(_keys("lesson", lesson.id))


def all_documents() -> Iterable:
    """Every searchable course and lesson (``portal search reindex``)."""
    for course in tk.db.session.scalars(select(Course).where(Course.published.is_(True), Course.retired_at.is_(None))):
        yield from course_documents(course)
        for lesson in course.active_lessons:
            yield from lesson_documents(lesson, course)


def dashboard_learning(member, limit: int = 5, now: datetime | None = None) -> dict:
    """The dashboard's assigned and started courses with progress, in 4 queries."""
    now = now or tk.utcnow()
    assignments = _member_assignments(member)
    enrollments = list(tk.db.session.scalars(select(Enrollment).options(joinedload(Enrollment.course))
                                             .where(Enrollment.member_id == member.id)
                                             .order_by(Enrollment.started_at.desc())))
    started = [e.course for e in enrollments if e.course.retired_at is None][:limit]
    progress = progress_map(member, [a.course for a in assignments] + started,
                            enrollments={e.course_id: e for e in enrollments})
    return {"assigned": [_assignment_row(a, progress[a.course_id], now) for a in assignments],
            "started": [{"course": course, "progress": progress[course.id]} for course in started]}


def assignment_counts(assignments: list[Assignment], now: datetime | None = None) -> dict[int, dict]:
    """``{assignment id: {"total", "completed", "overdue", "hosted"}}`` as ``assignment_report`` counts them, in one
    statement; ``hosted`` is how many of the total are incoming members (hosted under the unit, home elsewhere)."""
    now = now or tk.utcnow()
    if not assignments:
        return {}
    parts = [select(literal_column(str(int(a.id))).label("assignment_id"), func.count(tk.Member.id).label("total"),
                    func.count(Enrollment.id).label("completed"),
                    func.count(case((not_(tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, a.unit.path))),
                                     tk.Member.id))).label("hosted"))
             .select_from(tk.Member)
             .outerjoin(Enrollment, and_(Enrollment.member_id == tk.Member.id, Enrollment.course_id == a.course_id,
                                         Enrollment.completed_at.is_not(None)))
             .where(assignment_member_condition(a)) for a in assignments]
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    found = {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in tk.db.session.execute(query)}
    result = {}
    for a in assignments:
        total, completed, hosted = found.get(a.id, (0, 0, 0))
        result[a.id] = {"total": total, "completed": completed, "hosted": hosted,
                        "overdue": total - completed if tk.local_date(now) > a.due_on else 0}
    return result


def unit_assignment_summaries(unit, now: datetime | None = None) -> list[dict]:
    """Active assignments on ``unit``'s subtree with completion and overdue counts (unit dashboard), in 2 statements."""
    query = select(Assignment).options(joinedload(Assignment.course), joinedload(Assignment.unit)).join(
        tk.OrgUnit, Assignment.unit_id == tk.OrgUnit.id).where(
        tk.in_subtree(tk.OrgUnit.path, unit.path), Assignment.cancelled_at.is_(None)).order_by(Assignment.due_on.desc()).limit(10)
    assignments = list(tk.db.session.scalars(query))
    counts = assignment_counts(assignments, now)
    return [{"assignment": a, **counts[a.id]} for a in assignments]


def assignment_path(assignment: Assignment) -> str:
    return _path("courses.assignment", assignment_id=assignment.id)

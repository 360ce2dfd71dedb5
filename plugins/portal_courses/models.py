"""The online school's tables (all named ``courses_…``)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

RULE_LESSONS = "all_lessons"
RULE_LESSONS_AND_QUIZ = "all_lessons_and_quiz"
RULES = (RULE_LESSONS, RULE_LESSONS_AND_QUIZ)


def pick(texts: dict | None, locale: str, fallback: str = "") -> str:
    """The text for ``locale`` from a ``{locale: text}`` dict, else zh_CN, else en, else any."""
    texts = texts or {}
    for code in (locale, "zh_CN", "en"):
        if texts.get(code):
            return texts[code]
    return next((value for value in texts.values() if value), fallback)


class Course(db.Model):
    """A course: from a folder of files (``source == "files"``) or authored in the browser (``"web"``)."""

    __tablename__ = "courses_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    titles: Mapped[dict] = mapped_column(JSON, default=dict)
    summaries: Mapped[dict] = mapped_column(JSON, default=dict)
    category: Mapped[str] = mapped_column(String(40), default="general")
    tags: Mapped[dict] = mapped_column(JSON, default=dict)  # {locale: [tag, …]}
    estimated_minutes: Mapped[int] = mapped_column(default=0)
    points_hint: Mapped[int] = mapped_column(default=0)
    grants_certificate: Mapped[bool] = mapped_column(default=False)
    completion_rule: Mapped[str] = mapped_column(String(30), default=RULE_LESSONS)
    position: Mapped[int] = mapped_column(default=100)
    source: Mapped[str] = mapped_column(String(10), default="web")
    source_dir: Mapped[str | None] = mapped_column(String(500))
    quiz_file: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    published: Mapped[bool] = mapped_column(default=True)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    lessons = relationship("Lesson", back_populates="course", order_by="Lesson.position")
    owner_unit = relationship("OrgUnit")

    def title(self, locale: str) -> str:
        return pick(self.titles, locale, self.slug)

    def summary(self, locale: str) -> str:
        return pick(self.summaries, locale)

    def tag_list(self, locale: str) -> list[str]:
        tags = self.tags or {}
        return list(tags.get(locale) or tags.get("zh_CN") or tags.get("en") or [])

    @property
    def active_lessons(self) -> list["Lesson"]:
        return [lesson for lesson in self.lessons if lesson.retired_at is None]

    @property
    def needs_quiz(self) -> bool:
        return self.completion_rule == RULE_LESSONS_AND_QUIZ


class Lesson(db.Model):
    """A lesson of a course; ``slug`` is its file name without locale and extension."""

    __tablename__ = "courses_lesson"
    __table_args__ = (UniqueConstraint("course_id", "slug", name="uq_courses_lesson_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    titles: Mapped[dict] = mapped_column(JSON, default=dict)
    bodies: Mapped[dict] = mapped_column(JSON, default=dict)  # {locale: markdown}
    min_seconds: Mapped[int | None]  # explicit minimum reading time, else computed from length
    content_hash: Mapped[str | None] = mapped_column(String(64))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    course = relationship("Course", back_populates="lessons")

    def title(self, locale: str) -> str:
        return pick(self.titles, locale, self.slug)

    def body(self, locale: str) -> str:
        return pick(self.bodies, locale)

    @property
    def reading_chars(self) -> int:
        return max((len(text or "") for text in (self.bodies or {}).values()), default=0)


class LessonProgress(db.Model):
    """A member's reading of one lesson: first opened, last opened, time spent, completed."""

    __tablename__ = "courses_lesson_progress"
    __table_args__ = (UniqueConstraint("member_id", "lesson_id", name="uq_courses_lesson_progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("courses_lesson.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    completed_at: Mapped[datetime | None]
    #: Reading time credited by the member's reading clock (see :class:`ReadingClock`), not time since opening.
    seconds_spent: Mapped[int] = mapped_column(default=0, server_default="0")

    lesson = relationship("Lesson")


class ReadingClock(db.Model):
    """Where a member is reading now: the lesson of their latest lesson event, when, and how it was sent.

    One row per member, so reading time is credited to one lesson at a time whatever the number
    of open tabs. ``state`` is ``page`` (a lesson page or completion request), ``beat`` (the page's
    heartbeat while visible and focused) or ``pause`` (the page was hidden or left). The ``prev_*``
    columns receive the previous event in the same UPDATE (``SET prev_at = at, at = :now``), so the
    RETURNING clause hands back what the new event must credit in one statement on every database.
    """

    __tablename__ = "courses_reading_clock"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    #: No foreign key: heartbeats name a lesson unchecked (cheap); a missing lesson just earns no credit.
    lesson_id: Mapped[int]
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10))
    prev_lesson_id: Mapped[int | None]
    prev_at: Mapped[datetime | None]
    prev_state: Mapped[str | None] = mapped_column(String(10))


class Enrollment(db.Model):
    """A member's place in a course: where to resume, quiz passed, completed."""

    __tablename__ = "courses_enrollment"
    __table_args__ = (UniqueConstraint("member_id", "course_id", name="uq_courses_enrollment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    last_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("courses_lesson.id", ondelete="SET NULL"))
    quiz_passed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    course = relationship("Course")
    member = relationship("Member")
    last_lesson = relationship("Lesson")


class Assignment(db.Model):
    """A course assigned to a unit's members (optionally one membership stage) with a due date."""

    __tablename__ = "courses_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    due_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    cancelled_at: Mapped[datetime | None]

    course = relationship("Course")
    unit = relationship("OrgUnit")


class Comment(db.Model):
    """A comment under a lesson (the discussion); moderators hide, never delete."""

    __tablename__ = "courses_comment"
    __table_args__ = (Index("ix_courses_comment_lesson_at", "lesson_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("courses_lesson.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    #: Hidden by the report threshold, pending a moderator's review (not by a moderator).
    hidden_auto: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Last hidden, restored or cleared by a moderator: the "new" tab of the queue lists the unreviewed.
    reviewed_at: Mapped[datetime | None]

    member = relationship("Member")
    lesson = relationship("Lesson")


REPORT_REASONS = ("spam", "offensive", "personal_info", "off_topic", "other")


class CommentReport(db.Model):
    """A member's report of a comment: one per member and comment (the constraint makes double reports count once)."""

    __tablename__ = "courses_comment_report"
    __table_args__ = (UniqueConstraint("comment_id", "member_id", name="uq_courses_comment_report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("courses_comment.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    #: Set when a moderator hid, restored or cleared the comment: the report is dealt with.
    resolved_at: Mapped[datetime | None]

    comment = relationship("Comment")
    member = relationship("Member")


class Certificate(db.Model):
    """A completion certificate; the public verification page shows only name, course, date, validity."""

    __tablename__ = "courses_certificate"
    __table_args__ = (UniqueConstraint("member_id", "course_id", name="uq_courses_certificate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    member_name: Mapped[str] = mapped_column(String(100))
    course_titles: Mapped[dict] = mapped_column(JSON, default=dict)
    issuing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    issuing_unit_name: Mapped[str] = mapped_column(String(200), default="")
    issued_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(300))

    member = relationship("Member")
    course = relationship("Course")

    @property
    def valid(self) -> bool:
        return self.revoked_at is None

    def course_title(self, locale: str) -> str:
        return pick(self.course_titles, locale)

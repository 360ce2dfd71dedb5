"""Question bank, quizzes, attempts, responses and the daily quiz."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: The attempts a member is still taking: at most one per member and quiz (a partial unique index).
OPEN_ATTEMPT_SQL = "state = 'in_progress'"


class Category(db.Model):
    """A node of the question bank's category tree; ``path`` is the names joined by " / "."""

    __tablename__ = "quizzes_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes_category.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    # The unit whose secretaries keep this category (None: the organizers' central bank).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    parent = relationship("Category", remote_side=[id])
    unit = relationship("OrgUnit")


class Question(db.Model):
    """One question of the bank; ``data`` holds the type's answers (see formats.py)."""

    __tablename__ = "quizzes_question"
    __table_args__ = (Index("ix_quizzes_question_source", "source", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("quizzes_category.id"), index=True)
    # single / multi / truefalse / shortanswer / numerical / matching / essay / description
    qtype: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(10), default="markdown")  # moodle / html / plain / markdown
    general_feedback: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    default_mark: Mapped[float] = mapped_column(Float, default=1.0)
    idnumber: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # e.g. "course:<slug>"
    source_key: Mapped[str] = mapped_column(String(255), default="")
    fingerprint: Mapped[str] = mapped_column(String(40), default="")
    version: Mapped[int] = mapped_column(default=1)
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    category = relationship("Category", lazy="joined")
    tags = relationship("QuestionTag", cascade="all, delete-orphan", lazy="selectin")

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)

    @property
    def max_mark(self) -> float:
        return 0.0 if self.qtype == "description" else self.default_mark


class QuestionVersion(db.Model):
    """A question as it was at one version: every change to a question adds a row, none is ever changed.

    Responses point at the version the member answered, so a review shows what they saw.
    """

    __tablename__ = "quizzes_question_version"
    __table_args__ = (UniqueConstraint("question_id", "version", name="uq_quizzes_question_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    qtype: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(10), default="markdown")
    general_feedback: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    default_mark: Mapped[float] = mapped_column(Float, default=1.0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


class QuestionTag(db.Model):
    __tablename__ = "quizzes_question_tag"

    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Quiz(db.Model):
    """A quiz: fixed questions and/or random ones, its rules and who it is for."""

    __tablename__ = "quizzes_quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    titles: Mapped[dict] = mapped_column(JSON, default=dict)  # locale → title (course quizzes)
    source_fingerprint: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    course_slug: Mapped[str | None] = mapped_column(String(120), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    stages: Mapped[list] = mapped_column(JSON, default=list)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    time_limit_minutes: Mapped[int] = mapped_column(default=0)
    attempts_allowed: Mapped[int] = mapped_column(default=0)  # 0 = unlimited
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")  # highest / last / first / average
    pass_percent: Mapped[float] = mapped_column(Float, default=60.0)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_answers: Mapped[bool] = mapped_column(default=True)
    review_when: Mapped[str] = mapped_column(String(15), default="immediately")  # immediately / after_close / never
    review_show_answers: Mapped[bool] = mapped_column(default=True)
    review_show_feedback: Mapped[bool] = mapped_column(default=True)
    random_category_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes_category.id"))
    random_count: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    unit = relationship("OrgUnit")
    random_category = relationship("Category")
    slots = relationship("QuizSlot", order_by="QuizSlot.position", cascade="all, delete-orphan")


class QuizSlot(db.Model):
    """A fixed question of a quiz, in order, with its mark."""

    __tablename__ = "quizzes_slot"
    __table_args__ = (UniqueConstraint("quiz_id", "question_id", name="uq_quizzes_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id"))
    position: Mapped[int] = mapped_column(default=0)
    mark: Mapped[float] = mapped_column(Float, default=1.0)

    question = relationship("Question", lazy="joined")


class Attempt(db.Model):
    """One member's attempt at a quiz: the questions drawn, the deadline, the result.

    ``state``: ``in_progress`` → ``finished`` (graded) or ``needs_grading``
    (an essay waits for a secretary). The move out of ``in_progress`` is a
    single conditional UPDATE, so a double submit counts once.
    """

    __tablename__ = "quizzes_attempt"
    __table_args__ = (UniqueConstraint("quiz_id", "member_id", "number", name="uq_quizzes_attempt_number"),
                      Index("ix_quizzes_attempt_member", "member_id", "quiz_id"),
                      # one open attempt per member and quiz, even when starts race (issue 14)
                      Index("uq_quizzes_attempt_open", "quiz_id", "member_id", unique=True,
                            postgresql_where=text(OPEN_ATTEMPT_SQL), sqlite_where=text(OPEN_ATTEMPT_SQL)))

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(20), default="in_progress")
    layout: Mapped[list] = mapped_column(JSON, default=list)  # [{"q": id, "mark": m, "order": [choice ids]}]
    started_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    deadline: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    correct: Mapped[int] = mapped_column(default=0)

    quiz = relationship("Quiz")
    member = relationship("Member")
    responses = relationship("Response", cascade="all, delete-orphan", lazy="selectin")

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return round(100.0 * self.score / self.max_score, 1)


class Response(db.Model):
    """A member's answer to one question of an attempt, saved as it is given."""

    __tablename__ = "quizzes_response"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id", name="uq_quizzes_response"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quizzes_attempt.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id"))
    # The version the member saw (None: answered before versions were kept).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes_question_version.id", ondelete="SET NULL"))
    answer: Mapped[dict] = mapped_column(JSON, default=dict)  # {"value": …}
    saved_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    fraction: Mapped[float | None] = mapped_column(Float)
    manual: Mapped[bool] = mapped_column(default=False)  # graded by a person
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")

    @property
    def value(self):
        return (self.answer or {}).get("value")


class DailyResult(db.Model):
    """A member's daily quiz of one day: one row, one scored submission."""

    __tablename__ = "quizzes_daily"
    __table_args__ = (UniqueConstraint("member_id", "day", name="uq_quizzes_daily"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    question_ids: Mapped[list] = mapped_column(JSON, default=list)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    results: Mapped[list] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    correct: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

"""The rules of quizzes: the bank and its imports, attempts, grading, the daily quiz, results.

Views, the API, the CLI and the tests call these functions. Functions that
depend on the time take ``now`` (naive UTC) so tests control the clock.
Callers commit.
"""
from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from portal.toolkit import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_quizzes import formats, grading
from portal_quizzes.models import (
    Attempt, Category, DailyResult, Question, QuestionTag, QuestionVersion, Quiz, QuizSlot, Response,
)

log = logging.getLogger(__name__)
db = tk.db
PLUGIN = "quizzes"
COURSES_ROOT = "Courses"


def setting(key: str) -> Any:
    return tk.get_setting(PLUGIN, key)


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

def render_question_text(text: str | None, fmt: str) -> Markup:
    """Question text or feedback in its stored format, always sanitized: the one way every page and the API use."""
    text = text or ""
    if fmt == "markdown":
        return tk.render_markdown(text)
    if fmt == "html":
        return tk.sanitize_html(text)
    if fmt == "plain":
        return Markup("<p>") + Markup("<br>").join(escape(line) for line in text.split("\n")) + Markup("</p>")
    # Moodle's own format: HTML allowed, line breaks kept.
    return tk.sanitize_html("<p>" + text.replace("\n", "<br>") + "</p>")


def answer_text(text: str | None, fmt: str) -> str:
    """An answer shown inline (a choice in a list, "your answer", a select option): HTML formats lose their tags."""
    text = text or ""
    return Markup(text).striptags() if fmt in ("html", "moodle") and "<" in text else text


# ---------------------------------------------------------------------------
# Categories
# ---------------------------------------------------------------------------

def category_path_text(parts: Iterable[str]) -> str:
    return " / ".join(parts)


def ensure_category(parts: tuple[str, ...] | list[str]) -> Category:
    """The category with this path of names, created with its parents when missing."""
    parts = tuple(p.strip() for p in parts if p and p.strip()) or (_default_category_name(),)
    parent = None
    for depth in range(1, len(parts) + 1):
        path = category_path_text(parts[:depth])
        category = db.session.scalar(select(Category).where(Category.path == path))
        if category is None:
            category = Category(name=parts[depth - 1], parent_id=parent.id if parent else None, path=path)
            db.session.add(category)
            db.session.flush()
        parent = category
    return parent


def _default_category_name() -> str:
    return "Default"


def parse_category_option(value: str | None) -> tuple[str, ...]:
    """``"A/B"`` or ``"A / B"`` → ``("A", "B")``."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split("/") if part.strip())


def category_ids_under(category: Category) -> list[int]:
    """The category and every category below it."""
    return list(db.session.scalars(select(Category.id).where(
        or_(Category.id == category.id, Category.path.like(category.path.replace("%", r"\%") + " / %")))))


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.path)))


def category_parts(category: Category) -> tuple[str, ...]:
    return tuple(category.path.split(" / "))


# ---------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------

@dataclass
class ImportResult:
    counts: Counter = field(default_factory=Counter)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    questions: list[Question] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _apply(question: Question, parsed: formats.ParsedQuestion, category: Category) -> None:
    question.category_id = category.id
    question.qtype = parsed.qtype
    question.name = parsed.name[:255]
    question.text = parsed.text
    question.text_format = parsed.text_format
    question.general_feedback = parsed.general_feedback
    question.data = parsed.data
    question.idnumber = parsed.idnumber[:100]
    question.fingerprint = parsed.fingerprint()
    question.default_mark = 0.0 if parsed.qtype == "description" else 1.0
    question.retired = False
    wanted = {t[:100] for t in parsed.tags}
    question.tags = [t for t in question.tags if t.tag in wanted] + \
        [QuestionTag(tag=t) for t in sorted(wanted - {t.tag for t in question.tags})]


def import_parsed(parsed: list[formats.ParsedQuestion], *, source: str = "", keys: list[str] | None = None,
                  now: datetime | None = None) -> ImportResult:
    """Store parsed questions. With ``source`` and ``keys`` existing questions are updated in place
    (an unchanged question is left alone); questions with an ``[id:…]`` update the bank's
    question of the same id number; the rest are created."""
    now = now or tk.utcnow()
    result = ImportResult()
    matched: set[int] = set()
    for index, item in enumerate(parsed):
        category = ensure_category(item.category)
        key = keys[index] if keys else ""
        if source and key:
            existing = db.session.scalar(select(Question).where(Question.source == source, Question.source_key == key))
        else:
            existing = _bank_match(item, category, source, matched)
        if existing is not None and existing.fingerprint == item.fingerprint() and not existing.retired \
                and existing.category_id == category.id:
            result.unchanged += 1
            question = existing
        elif existing is not None:
            _apply(existing, item, category)
            existing.version += 1
            existing.updated_at = now
            record_version(existing)
            result.updated += 1
            result.changed_ids.append(existing.id)
            question = existing
        else:
            question = Question(source=source, source_key=key, created_at=now, updated_at=now, version=1)
            question.tags = []
            _apply(question, item, category)
            db.session.add(question)
            record_version(question)
            result.created += 1
        matched.add(question.id)  # a later question of the same name in this file is another question
        result.counts[item.qtype] += 1
        result.questions.append(question)
    db.session.flush()
    return result


def _bank_match(item: formats.ParsedQuestion, category: Category, source: str,
                matched: set[int]) -> Question | None:
    """The bank's question an imported one updates: same ``[id:…]`` (anywhere in the bank), else the same
    name in the same category; a question is matched once per import, so two of one name stay two."""
    query = select(Question).where(Question.source == source, Question.id.not_in(list(matched) or [0]))
    if item.idnumber:
        query = query.where(Question.idnumber == item.idnumber)
    elif item.name:
        query = query.where(Question.category_id == category.id, Question.name == item.name[:255])
    else:
        return None
    return db.session.scalar(query.order_by(Question.retired, Question.id))


def import_text(source_text: str, fmt: str, filename: str, category: tuple[str, ...] = ()) -> ImportResult:
    """Parse and store a whole file; raises :class:`formats.FormatError` (nothing stored) on any problem."""
    parsed = formats.parse(source_text, fmt, filename, category)
    result = import_parsed(parsed)
    for question_id in result.changed_ids:
        regrade_question(db.session.get(Question, question_id))
    tk.audit("quizzes.imported", "question_bank", None, format=fmt, file=filename, count=result.total)
    return result


def decode_upload(raw: bytes, filename: str) -> str:
    """UTF-8, or GB18030 when it reads as Chinese; FormatError otherwise (see :func:`formats.decode_text`)."""
    return formats.decode_text(raw, filename)


def to_parsed(question: Question) -> formats.ParsedQuestion:
    return formats.ParsedQuestion(
        question.qtype, question.name, question.text, question.text_format, question.general_feedback,
        question.data, category_parts(question.category), tuple(question.tag_names), question.idnumber)


def export_questions(questions: Iterable[Question]) -> str:
    return formats.export_gift([to_parsed(q) for q in questions])


def bank_query(category: Category | None = None, tag: str | None = None, text: str | None = None):
    query = select(Question).where(Question.retired.is_(False))
    if category is not None:
        query = query.where(Question.category_id.in_(category_ids_under(category)))
    if tag:
        query = query.where(Question.tags.any(QuestionTag.tag == tag))
    if text:
        query = query.where(or_(Question.name.contains(text), Question.text.contains(text)))
    return query.order_by(Question.category_id, Question.id)


def update_question_from_gift(question: Question, gift_text: str, now: datetime | None = None, account=None) -> int:
    """Correct one question from GIFT text and re-grade the attempts that used it; returns attempts re-graded.

    With ``account`` (a person correcting it) the new category must be one they keep, and the version
    records who made it."""
    parsed = formats.parse_gift(gift_text, f"question-{question.id}.gift", ())
    if len(parsed) != 1:
        raise formats.FormatError([formats.FormatProblem(f"question-{question.id}.gift", 1,
                                                         _("Write exactly one question."))])
    item = parsed[0]
    if item.category == ():
        item.category = category_parts(question.category)
    if item.fingerprint() == question.fingerprint:
        return 0
    target = ensure_category(item.category)
    if account is not None:  # a person's correction may not move the question out of the banks they keep
        require_category(target, account)
    _apply(question, item, target)
    question.version += 1
    question.updated_at = now or tk.utcnow()
    record_version(question, account)
    return regrade_question(question)


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------

def record_version(question: Question, account=None) -> QuestionVersion:
    """Keep the question as it is now as its version ``question.version`` (call after every change)."""
    db.session.flush()
    row = QuestionVersion(question_id=question.id, version=question.version, qtype=question.qtype, name=question.name,
                          text=question.text, text_format=question.text_format,
                          general_feedback=question.general_feedback, data=question.data,
                          default_mark=question.default_mark, created_at=question.updated_at,
                          created_by=account.id if account is not None else None)
    db.session.add(row)
    db.session.flush()
    return row


def current_version(question: Question) -> QuestionVersion:
    """The question's current version row (made now for a question stored before versions were kept)."""
    row = db.session.scalar(select(QuestionVersion).where(QuestionVersion.question_id == question.id,
                                                          QuestionVersion.version == question.version))
    return row if row is not None else record_version(question)


def question_versions(question: Question) -> list[QuestionVersion]:
    """The question's history, newest first."""
    return list(db.session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                                   .order_by(QuestionVersion.version.desc())))


def preload_seen_versions(attempt: Attempt, responses: dict[int, Response]) -> None:
    """Load every version an attempt's review shows in one query, so :func:`seen_version` finds them in the session."""
    ids = {r.version_id for r in responses.values() if r.version_id} | {e["v"] for e in attempt.layout if e.get("v")}
    if ids:
        db.session.scalars(select(QuestionVersion).where(QuestionVersion.id.in_(ids))).all()


def seen_version(entry: dict, question: Question, response: Response | None = None) -> Question | QuestionVersion:
    """What the member saw of an attempt's question: the version they answered (else the one the attempt drew),
    else, for attempts older than versions, the question itself."""
    version_id = (response.version_id if response is not None else None) or entry.get("v")
    version = db.session.get(QuestionVersion, version_id) if version_id else None
    return version if version is not None and version.question_id == question.id else question


# ---------------------------------------------------------------------------
# Courses: a course's final quiz
# ---------------------------------------------------------------------------

def _file_fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:40]


def _pick_title(titles: dict | str | None, slug: str) -> str:
    if isinstance(titles, str):
        return titles
    titles = titles or {}
    return titles.get("zh_CN") or titles.get("en") or next(iter(titles.values()), slug)


def sync_course_quiz(course: dict, now: datetime | None = None) -> Quiz | None:
    """Import a course's GIFT file as its final quiz, idempotently.

    An unchanged file changes nothing; a changed one updates the questions
    (matched by ``[id:…]``, else by name), retires those that left the file,
    and re-grades the attempts that used a corrected question.
    """
    now = now or tk.utcnow()
    slug = course["slug"]
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == slug))
    path = course.get("quiz_file")
    if path is None:
        if quiz is not None and quiz.published:
            quiz.published = False
        return quiz
    raw = Path(path).read_bytes()
    fingerprint = _file_fingerprint(raw)
    title = _pick_title(course.get("title"), slug)
    if quiz is not None and quiz.source_fingerprint == fingerprint:
        return quiz
    parsed = formats.parse_gift(decode_upload(raw, str(path)), str(path), (COURSES_ROOT, slug))
    keys, seen = [], Counter()
    for item in parsed:
        base = item.idnumber or item.name
        seen[base] += 1
        keys.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    result = import_parsed(parsed, source=f"course:{slug}", keys=keys, now=now)
    if quiz is None:
        quiz = Quiz(course_slug=slug, title=title, titles=course.get("title") or {}, created_at=now,
                    review_when="immediately", pass_percent=float(setting("course_pass_percent") or 60))
        db.session.add(quiz)
    quiz.title = title
    quiz.titles = course.get("title") if isinstance(course.get("title"), dict) else {}
    quiz.published = True
    quiz.source_fingerprint = fingerprint
    wanted = [q.id for q in result.questions]
    old = db.session.scalars(select(Question).where(Question.source == f"course:{slug}",
                                                    Question.id.not_in(wanted or [0]))).all()
    for question in old:
        question.retired = True
    db.session.flush()
    existing = {slot.question_id: slot for slot in quiz.slots}
    slots = []
    for position, question in enumerate(result.questions):
        slot = existing.get(question.id) or QuizSlot(question_id=question.id)
        slot.position, slot.mark = position, question.max_mark
        slots.append(slot)
    quiz.slots = slots
    db.session.flush()
    for question_id in result.changed_ids:
        regrade_question(db.session.get(Question, question_id))
    return quiz


def final_quiz_info(course_slug: str, member) -> dict | None:
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == course_slug, Quiz.published.is_(True)))
    if quiz is None:
        return None
    passed = member is not None and has_passed(quiz, member)
    return {"title": display_title(quiz), "url": quiz_url(quiz), "passed": passed}


def quiz_url(quiz: Quiz) -> str:
    """The quiz's page (also outside a request: the course↔quiz hook runs from the CLI sync)."""
    return tk.path_for("quizzes.quiz", quiz_id=quiz.id)


def display_title(quiz: Quiz) -> str:
    if quiz.titles:
        from flask_babel import get_locale

        locale = get_locale()
        key = "zh_CN" if locale is not None and locale.language == "zh" else "en"
        return quiz.titles.get(key) or quiz.title
    return quiz.title


def has_passed(quiz: Quiz, member) -> bool:
    return db.session.scalar(select(tk.Activity.id).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "quiz.passed",
        tk.Activity.object_type == "quiz", tk.Activity.object_id == str(quiz.id))) is not None


# ---------------------------------------------------------------------------
# Who may take a quiz
# ---------------------------------------------------------------------------

def is_assigned(quiz: Quiz, member) -> bool:
    """The quiz is for everyone, or for the member's home/host unit subtree, and their stage."""
    if not quiz.published:
        return False
    if quiz.unit is not None and not (quiz.unit.contains(member.home_unit) or quiz.unit.contains(member.host_unit)):
        return False
    return not quiz.stages or member.stage in quiz.stages


def is_open(quiz: Quiz, now: datetime) -> bool:
    return (quiz.opens_at is None or quiz.opens_at <= now) and (quiz.closes_at is None or now < quiz.closes_at)


def available_quizzes(member) -> list[Quiz]:
    """Published quizzes assigned to ``member``, newest first."""
    quizzes = db.session.scalars(select(Quiz).where(Quiz.published.is_(True)).order_by(Quiz.id.desc())).all()
    return [q for q in quizzes if is_assigned(q, member)]


def member_attempts(quiz: Quiz, member) -> list[Attempt]:
    return list(db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.member_id == member.id)
                                   .order_by(Attempt.number)))


def open_attempt(quiz: Quiz, member) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.member_id == member.id,
                                                   Attempt.state == "in_progress"))


# ---------------------------------------------------------------------------
# Attempts
# ---------------------------------------------------------------------------

def grace() -> timedelta:
    return timedelta(seconds=int(setting("grace_seconds") or 0))


def _layout(quiz: Quiz, member, number: int) -> list[dict]:
    rng = random.Random(f"{quiz.id}:{member.id}:{number}")
    items = [(slot.question, slot.mark) for slot in quiz.slots if not slot.question.retired]
    if quiz.random_category_id and quiz.random_count:
        fixed = {q.id for q, _m in items}
        pool = sorted(q for q in db.session.scalars(select(Question.id).where(
            Question.category_id.in_(category_ids_under(quiz.random_category)), Question.retired.is_(False),
            Question.qtype != "description")) if q not in fixed)
        for question_id in rng.sample(pool, min(quiz.random_count, len(pool))):
            question = db.session.get(Question, question_id)
            items.append((question, question.max_mark))
    if quiz.shuffle_questions:
        rng.shuffle(items)
    layout = []
    for question, mark in items:
        entry = {"q": question.id, "v": current_version(question).id,
                 "mark": mark if question.qtype != "description" else 0.0}
        order = _option_ids(question)
        if quiz.shuffle_answers and question.qtype in ("single", "multi", "matching"):
            rng.shuffle(order)
        entry["order"] = order
        layout.append(entry)
    return layout


def _option_ids(question: Question) -> list[str]:
    if question.qtype in ("single", "multi"):
        return [c["id"] for c in question.data["choices"]]
    if question.qtype == "matching":
        return list(dict.fromkeys(p["right_id"] for p in question.data["pairs"]))
    return []


def start_attempt(quiz: Quiz, member, now: datetime) -> tuple[Attempt, bool]:
    """Resume the open attempt or start a new one; returns ``(attempt, created)``.

    Concurrent starts meet on the database: one open attempt per member and
    quiz (``uq_quizzes_attempt_open``) and unique attempt numbers; the losers
    return the winner's attempt.
    """
    if not is_assigned(quiz, member):
        raise tk.NotFound(_("This quiz is not for you."))
    current = open_attempt(quiz, member)
    if current is not None:
        close_if_overdue(current, now)
        if current.state == "in_progress":
            return current, False
    if not is_open(quiz, now):
        raise tk.Conflict(_("This quiz is not open now."))
    done = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.member_id == member.id)) or 0
    if quiz.attempts_allowed and done >= quiz.attempts_allowed:
        raise tk.Conflict(_("You have used all your attempts at this quiz."))
    layout = _layout(quiz, member, done + 1)
    if not layout:
        raise tk.Conflict(_("This quiz has no questions yet."))
    deadline = now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    if quiz.closes_at is not None:
        deadline = min(deadline, quiz.closes_at) if deadline else quiz.closes_at
    attempt = Attempt(quiz_id=quiz.id, member_id=member.id, number=done + 1, layout=layout, started_at=now,
                      deadline=deadline, max_score=sum(e["mark"] for e in layout))
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        existing = open_attempt(quiz, member) or db.session.scalar(select(Attempt).where(
            Attempt.quiz_id == quiz.id, Attempt.member_id == member.id, Attempt.number == done + 1))
        if existing is None:
            raise
        return existing, False
    tk.record_activity(member, "quiz.started", "quiz_attempt", attempt.id,
                       extras={"quiz": quiz.id, **({"course": quiz.course_slug} if quiz.course_slug else {})}, at=now)
    return attempt, True


def attempt_questions(attempt: Attempt) -> list[tuple[dict, Question]]:
    ids = [e["q"] for e in attempt.layout]
    by_id = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids or [0])))}
    return [(entry, by_id[entry["q"]]) for entry in attempt.layout if entry["q"] in by_id]


def responses_by_question(attempt: Attempt) -> dict[int, Response]:
    return {r.question_id: r for r in attempt.responses}


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    return attempt.deadline is not None and now > attempt.deadline + grace()


def close_if_overdue(attempt: Attempt, now: datetime) -> bool:
    """Finish an attempt whose time ran out (with the answers saved in time)."""
    if attempt.state == "in_progress" and is_overdue(attempt, now):
        submit_attempt(attempt.id, now)
        db.session.refresh(attempt)
        return True
    return False


def save_response(attempt: Attempt, question_id: int, raw: Any, now: datetime) -> Response:
    """Save (or replace) the answer to one question; refused once the attempt is over or its time is up."""
    if attempt.state != "in_progress":
        raise tk.Conflict(_("This attempt is already submitted; the answer was not saved."))
    if is_overdue(attempt, now):
        close_if_overdue(attempt, now)
        raise tk.Conflict(_("The time is up; the answer was not saved."))
    question = next((q for _e, q in attempt_questions(attempt) if q.id == question_id), None)
    if question is None:
        raise tk.NotFound(_("This question is not part of the attempt."))
    try:
        value = grading.clean_response(question.qtype, question.data, raw)
    except ValueError:
        raise tk.BadRequest(_("This answer does not fit the question.")) from None
    seen = current_version(question).id  # the page shows the question as it is now
    response = db.session.scalar(select(Response).where(Response.attempt_id == attempt.id,
                                                        Response.question_id == question_id))
    if response is None:
        response = Response(attempt_id=attempt.id, question_id=question_id)
        try:
            with db.session.begin_nested():
                response.answer, response.saved_at, response.version_id = {"value": value}, now, seen
                db.session.add(response)
                db.session.flush()
            return response
        except IntegrityError:  # a concurrent save of the same question: update theirs
            response = db.session.scalar(select(Response).where(Response.attempt_id == attempt.id,
                                                                Response.question_id == question_id))
    response.answer, response.saved_at, response.version_id = {"value": value}, now, seen
    db.session.flush()
    return response


def submit_attempt(attempt_id: int, now: datetime) -> tuple[Attempt, bool]:
    """Finish an attempt once. Returns ``(attempt, True)`` for the submission that counted.

    The state moves out of ``in_progress`` in one conditional UPDATE: of two
    concurrent submissions (a double tap, a retry) exactly one changes a row.
    """
    changed = db.session.execute(
        update(Attempt).where(Attempt.id == attempt_id, Attempt.state == "in_progress")
        .values(state="grading", submitted_at=now).execution_options(synchronize_session=False)).rowcount
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is not None:
        db.session.refresh(attempt)
    if changed != 1 or attempt is None:
        return attempt, False
    grade_attempt(attempt)
    record_outcome(attempt, now)
    return attempt, True


def grade_attempt(attempt: Attempt) -> None:
    """(Re)compute each response's fraction and the attempt's score; essays wait for a person."""
    responses = responses_by_question(attempt)
    score, correct, waiting = 0.0, 0, False
    for entry, question in attempt_questions(attempt):
        if question.qtype == "description":
            continue
        response = responses.get(question.id)
        if question.qtype == "essay":
            if response is None or not (response.value or "").strip():
                if response is None:
                    response = Response(attempt_id=attempt.id, question_id=question.id, answer={"value": ""})
                    db.session.add(response)
                response.fraction, response.manual = 0.0, False
            elif not response.manual:
                response.fraction = None
                waiting = True
                continue
        else:
            fraction = grading.grade(question.qtype, question.data, response.value if response else None)
            if response is not None:
                response.fraction = fraction
            if fraction is None:
                continue
        fraction = response.fraction if response is not None else 0.0
        score += (fraction or 0.0) * entry["mark"]
        if fraction is not None and fraction >= grading.FULL_MARK:
            correct += 1
    attempt.score = round(score, 4)
    attempt.correct = correct
    attempt.max_score = sum(e["mark"] for e in attempt.layout)
    attempt.state = "needs_grading" if waiting else "finished"
    db.session.flush()


def quiz_grade(quiz: Quiz, member) -> float | None:
    """The member's grade in percent by the quiz's grading method (finished attempts only)."""
    attempts = [a for a in member_attempts(quiz, member) if a.state == "finished" and a.percent is not None]
    if not attempts:
        return None
    percents = [a.percent for a in attempts]
    method = quiz.grading_method
    if method == "last":
        return percents[-1]
    if method == "first":
        return percents[0]
    if method == "average":
        return round(sum(percents) / len(percents), 1)
    return max(percents)


def _extras(attempt: Attempt) -> dict:
    extras = {"score": attempt.score, "max_score": attempt.max_score, "correct": attempt.correct,
              "percent": attempt.percent, "attempt": attempt.id, "quiz": attempt.quiz_id}
    if attempt.quiz.course_slug:
        extras["course"] = attempt.quiz.course_slug
    return extras


def record_outcome(attempt: Attempt, now: datetime) -> None:
    """Activities for a finished attempt: attempted, then passed (once per quiz) or failed."""
    if attempt.state != "finished":
        return
    member, quiz = attempt.member, attempt.quiz
    tk.record_activity(member, "quiz.attempted", "quiz", quiz.id, key=f"quiz.attempted:{attempt.id}",
                       extras=_extras(attempt), at=now)
    grade = quiz_grade(quiz, member)
    if grade is not None and grade >= quiz.pass_percent:
        tk.record_activity(member, "quiz.passed", "quiz", quiz.id, extras={**_extras(attempt), "grade": grade}, at=now)
    else:
        tk.record_activity(member, "quiz.failed", "quiz", quiz.id, key=f"quiz.failed:{attempt.id}",
                           extras={**_extras(attempt), "grade": grade}, at=now)


def regrade_question(question: Question | None, now: datetime | None = None) -> int:
    """Re-grade every submitted attempt holding ``question``; returns how many were re-graded."""
    if question is None:
        return 0
    now = now or tk.utcnow()
    attempt_ids = db.session.scalars(select(Response.attempt_id).where(Response.question_id == question.id)).all()
    count = 0
    for attempt in db.session.scalars(select(Attempt).where(Attempt.id.in_(attempt_ids or [0]),
                                                            Attempt.state.in_(("finished", "needs_grading")))):
        count += regrade_attempt(attempt, now)
    return count


def regrade_attempt(attempt: Attempt, now: datetime) -> int:
    before = (attempt.score, attempt.state)
    grade_attempt(attempt)
    if attempt.state == "finished":
        record_outcome_after_regrade(attempt, now)
    return 1 if (attempt.score, attempt.state) != before else 0


def record_outcome_after_regrade(attempt: Attempt, now: datetime) -> None:
    """A corrected question may make a member pass: record it (an earlier pass is never taken back)."""
    grade = quiz_grade(attempt.quiz, attempt.member)
    if grade is not None and grade >= attempt.quiz.pass_percent:
        tk.record_activity(attempt.member, "quiz.passed", "quiz", attempt.quiz_id,
                           extras={**_extras(attempt), "grade": grade, "regraded": True}, at=now)


def regrade_quiz(quiz: Quiz, now: datetime | None = None) -> int:
    now = now or tk.utcnow()
    attempts = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id,
                                                        Attempt.state.in_(("finished", "needs_grading"))))
    return sum(regrade_attempt(a, now) for a in attempts)


def can_review(attempt: Attempt, now: datetime) -> bool:
    """May the member see right answers and feedback now?"""
    if attempt.state == "in_progress":
        return False
    when = attempt.quiz.review_when
    if when == "immediately":
        return True
    if when == "after_close":
        return attempt.quiz.closes_at is not None and now >= attempt.quiz.closes_at
    return False


def grade_essay(response: Response, fraction: float, comment: str, grader, now: datetime) -> Attempt:
    """A secretary's mark for an essay (never their own: :func:`tk.require_acting_on`); finishes the attempt
    when nothing else waits."""
    attempt = db.session.get(Attempt, response.attempt_id)
    tk.require_acting_on(attempt.member, "quizzes.grade", account=grader)
    if not 0.0 <= fraction <= 1.0:
        raise tk.BadRequest(_("The mark must be between 0 and the question's mark."))
    response.fraction, response.manual, response.comment = fraction, True, comment
    response.graded_by = grader.id if grader is not None else None
    was_waiting = attempt.state == "needs_grading"
    grade_attempt(attempt)
    if attempt.state == "finished" and was_waiting:
        record_outcome(attempt, now)
    elif attempt.state == "finished":
        record_outcome_after_regrade(attempt, now)
    return attempt


# ---------------------------------------------------------------------------
# Serialising questions for members (no answers)
# ---------------------------------------------------------------------------

def public_question(question: Question, order: list[str] | None = None) -> dict:
    """A question as a member may see it before answering: no right answers, no feedback."""
    data = question.data
    html = render_question_text(question.text, question.text_format)
    # "html" stays Markup so templates do not escape it a second time (the API serialises it as a string).
    item: dict[str, Any] = {"id": question.id, "type": question.qtype, "name": question.name,
                            "text": question.text, "format": question.text_format,
                            "text_format": question.text_format, "html": html, "text_html": html, "options": []}
    if question.qtype in ("single", "multi"):
        by_id = {c["id"]: c for c in data["choices"]}
        ids = order if order and set(order) == set(by_id) else list(by_id)
        item["options"] = [{"id": i, "text": by_id[i]["text"],
                            "html": render_question_text(by_id[i]["text"], by_id[i].get("format", question.text_format))}
                           for i in ids]
    elif question.qtype == "truefalse":
        item["options"] = [{"id": "true", "text": _("True")}, {"id": "false", "text": _("False")}]
    elif question.qtype == "matching":
        rights = {p["right_id"]: p["right"] for p in data["pairs"]}
        ids = order if order and set(order) == set(rights) else list(rights)
        item["items"] = [{"id": p["id"], "text": p["left"]} for p in data["pairs"] if p["left"]]
        item["options"] = [{"id": i, "text": rights[i]} for i in ids]
    return item


# ---------------------------------------------------------------------------
# Daily quiz
# ---------------------------------------------------------------------------

def daily_pool() -> list[int]:
    """Question ids the daily quiz draws from (configured categories and their sub-categories), one query."""
    paths = [category_path_text(parse_category_option(path)) for path in setting("daily_categories") or []]
    query = select(Question.id).where(Question.retired.is_(False),
                                      Question.qtype.in_(("single", "multi", "truefalse", "shortanswer", "numerical")))
    paths = [path for path in paths if path]
    if paths:
        under = [or_(Category.path == path, Category.path.like(path.replace("%", r"\%") + " / %")) for path in paths]
        query = query.join(Category, Question.category_id == Category.id).where(or_(*under))
    return sorted(db.session.scalars(query))


def daily_question_ids(member, day: date) -> list[int]:
    """The member's questions of the day: a sample seeded by member id and date (stable all day)."""
    existing = db.session.scalar(select(DailyResult).where(DailyResult.member_id == member.id, DailyResult.day == day))
    if existing is not None:
        return list(existing.question_ids)
    pool = daily_pool()
    count = int(setting("daily_count") or 5)
    rng = random.Random(f"daily:{member.id}:{day.isoformat()}")
    return rng.sample(pool, min(count, len(pool)))


def daily_questions(member, day: date) -> list[Question]:
    ids = daily_question_ids(member, day)
    by_id = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids or [0])))}
    return [by_id[i] for i in ids if i in by_id]


def daily_days(member, day: date) -> set[date]:
    """The days (within 400 before ``day``) the member did the daily quiz."""
    return set(db.session.scalars(select(DailyResult.day).where(
        DailyResult.member_id == member.id, DailyResult.day <= day, DailyResult.day > day - timedelta(days=400))))


def daily_overview(member, day: date) -> dict:
    """What the dashboard shows: today's result (or how many questions wait) and the streak, in 2 queries."""
    days = daily_days(member, day)
    done = daily_result(member, day) if day in days else None
    count = len(done.question_ids) if done else min(int(setting("daily_count") or 5), len(daily_pool()))
    return {"done": done, "streak": streak(member, day, days), "count": count}


def daily_result(member, day: date) -> DailyResult | None:
    return db.session.scalar(select(DailyResult).where(DailyResult.member_id == member.id, DailyResult.day == day))


def submit_daily(member, answers: dict, now: datetime, for_day: date | None = None) -> DailyResult:
    """Score today's daily quiz once; a second submission the same day raises :class:`tk.Conflict` (409).

    ``for_day`` is the day the questions were shown (answers written offline arrive later): the quiz is
    scored when it arrives, so answers for a day that is over are refused (409, ``day_closed``), not counted.
    """
    if not setting("daily_enabled"):
        raise tk.NotFound(_("The daily quiz is switched off."))
    day = tk.local_today(now)
    if for_day is not None and for_day != day:
        raise tk.Conflict(_("The daily quiz of %(day)s is closed: these answers arrived too late and were not "
                            "counted.", day=tk.fmt_date(for_day)), code="day_closed")
    if daily_result(member, day) is not None:
        raise tk.Conflict(_("You have already done today's quiz. Come back tomorrow!"))
    questions = daily_questions(member, day)
    if not questions:
        raise tk.NotFound(_("There are no daily quiz questions yet."))
    if not isinstance(answers, dict):
        raise tk.BadRequest(_("Send the answers as an object keyed by question id."))
    results, score, correct, stored = [], 0.0, 0, {}
    for question in questions:
        raw = answers.get(str(question.id), answers.get(question.id))
        try:
            value = grading.clean_response(question.qtype, question.data, raw)
        except ValueError:
            raise tk.BadRequest(_("This answer does not fit the question.")) from None
        fraction = grading.grade(question.qtype, question.data, value) or 0.0
        stored[str(question.id)] = value
        score += fraction
        correct += 1 if fraction >= grading.FULL_MARK else 0
        results.append({"id": question.id, "correct": fraction >= grading.FULL_MARK, "fraction": fraction,
                        "right_answer": grading.right_answer_text(question.qtype, question.data),
                        "feedback": grading.feedback_for(question.qtype, question.data, value),
                        "general_feedback": question.general_feedback, "text_format": question.text_format})
    row = DailyResult(member_id=member.id, day=day, question_ids=[q.id for q in questions], answers=stored,
                      results=results, score=round(score, 4), max_score=float(len(questions)), correct=correct,
                      submitted_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise tk.Conflict(_("You have already done today's quiz. Come back tomorrow!")) from None
    tk.record_activity(member, "daily_quiz.completed", "daily_quiz", day.isoformat(),
                       extras={"score": row.score, "max_score": row.max_score, "correct": correct,
                               "date": day.isoformat(), "streak": streak(member, day)}, at=now)
    return row


def streak(member, day: date, days: set[date] | None = None) -> int:
    """Consecutive days with a daily quiz up to ``day`` (or up to yesterday when today is not done yet)."""
    days = daily_days(member, day) if days is None else days
    cursor = day if day in days else day - timedelta(days=1)
    count = 0
    while cursor in days:
        count += 1
        cursor -= timedelta(days=1)
    return count


# ---------------------------------------------------------------------------
# For secretaries
# ---------------------------------------------------------------------------

def scoped_attempts(quiz: Quiz, unit=None):
    """Submitted attempts of members the current user may see (optionally under ``unit``)."""
    query = (select(Attempt).join(tk.Member, tk.Member.id == Attempt.member_id)
             .where(Attempt.quiz_id == quiz.id, Attempt.state != "in_progress", tk.member_scope("quizzes.results")))
    if unit is not None:
        query = query.where(tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
    return query.order_by(Attempt.member_id, Attempt.number)


def results_by_unit(quiz: Quiz, unit=None) -> dict:
    """Per home branch: members who tried, passed, average grade; and one row per member."""
    attempts = db.session.scalars(scoped_attempts(quiz, unit)).all()
    per_member: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        per_member[attempt.member_id].append(attempt)
    units: dict[int, dict] = {}
    members = []
    for items in per_member.values():
        member = items[0].member
        grade = quiz_grade(quiz, member)
        passed = has_passed(quiz, member)
        members.append({"member": member, "attempts": len(items), "grade": grade, "passed": passed,
                        "last": max(a.submitted_at or a.started_at for a in items)})
        row = units.setdefault(member.home_unit_id, {"unit": member.home_unit, "members": 0, "passed": 0, "grades": []})
        row["members"] += 1
        row["passed"] += 1 if passed else 0
        if grade is not None:
            row["grades"].append(grade)
    for row in units.values():
        row["average"] = round(sum(row["grades"]) / len(row["grades"]), 1) if row["grades"] else None
    members.sort(key=lambda m: (m["member"].home_unit.name, m["member"].name))
    return {"units": sorted(units.values(), key=lambda r: r["unit"].name), "members": members}


def item_analysis(quiz: Quiz, unit=None) -> list[dict]:
    """Per question: facility (mean fraction), how many answered, and how often each option was chosen."""
    attempts = db.session.scalars(scoped_attempts(quiz, unit)).all()
    stats: dict[int, dict] = {}
    questions: dict[int, Question] = {}
    for attempt in attempts:
        responses = responses_by_question(attempt)
        for _entry, question in attempt_questions(attempt):
            if question.qtype == "description":
                continue
            questions[question.id] = question
            row = stats.setdefault(question.id, {"n": 0, "sum": 0.0, "graded": 0, "answered": 0,
                                                 "choices": Counter(), "texts": Counter()})
            row["n"] += 1
            response = responses.get(question.id)
            value = response.value if response else None
            if value not in (None, "", [], {}):
                row["answered"] += 1
            if response is not None and response.fraction is not None:
                row["sum"] += response.fraction
                row["graded"] += 1
            elif response is None:
                row["graded"] += 1
            if question.qtype == "single" and value:
                row["choices"][value] += 1
            elif question.qtype == "multi" and value:
                row["choices"].update(value)
            elif question.qtype == "truefalse" and value is not None:
                row["choices"]["true" if value else "false"] += 1
            elif question.qtype in ("shortanswer", "numerical") and value not in (None, ""):
                row["texts"][grading.normalize_text(value)] += 1
    report = []
    for question_id, row in stats.items():
        question = questions[question_id]
        options = []
        if question.qtype in ("single", "multi"):
            options = [{"text": c["text"], "right": c["fraction"] > 0, "count": row["choices"][c["id"]]}
                       for c in question.data["choices"]]
        elif question.qtype == "truefalse":
            options = [{"text": _("True"), "right": question.data["correct"], "count": row["choices"]["true"]},
                       {"text": _("False"), "right": not question.data["correct"], "count": row["choices"]["false"]}]
        elif row["texts"]:
            options = [{"text": text, "right": (grading.grade(question.qtype, question.data, text) or 0) >= grading.FULL_MARK,
                        "count": count} for text, count in row["texts"].most_common(8)]
        report.append({"question": question, "attempts": row["n"], "answered": row["answered"],
                       "facility": round(100.0 * row["sum"] / row["graded"], 1) if row["graded"] else None,
                       "options": options})
    order = {entry["q"]: i for i, entry in enumerate(next(iter(attempts)).layout)} if attempts else {}
    report.sort(key=lambda r: (order.get(r["question"].id, 10 ** 6), r["question"].id))
    return report


def essay_queue_query():
    """Essay responses waiting for a mark, from members the current user may grade."""
    return (select(Response).join(Attempt, Attempt.id == Response.attempt_id)
            .join(Question, Question.id == Response.question_id)
            .join(tk.Member, tk.Member.id == Attempt.member_id)
            .where(Question.qtype == "essay", Response.fraction.is_(None), Attempt.state == "needs_grading",
                   tk.member_scope("quizzes.grade"))
            .order_by(Attempt.submitted_at, Response.id))


def export_rows(quiz: Quiz, unit=None) -> list[list]:
    rows = []
    for attempt in db.session.scalars(scoped_attempts(quiz, unit)):
        member = attempt.member
        rows.append([member.name, member.home_unit.name, member.host_unit.name if member.host_unit else "",
                     attempt.number, attempt.started_at, attempt.submitted_at, attempt.score, attempt.max_score,
                     attempt.percent, attempt.correct, attempt.state])
    return rows



# ---------------------------------------------------------------------------
# Questions written in the browser; branch banks
# ---------------------------------------------------------------------------

#: The types a question form writes (a "missing word" question is a choice or short-answer one with ``_____``).
FORM_TYPES = ("single", "multi", "truefalse", "shortanswer", "numerical", "matching", "essay", "description")
TEXT_FORMATS = ("markdown", "html", "plain", "moodle")


def can_keep_bank(account=None) -> bool:
    """Does the account keep the central bank (``quizzes.manage``) or a branch's (``quizzes.bank``)?"""
    return tk.can("quizzes.manage", account=account) or tk.can("quizzes.bank", account=account)


def require_category(category: Category | None, account=None) -> Category:
    """The category, if the account (default: the current user) keeps it: the central bank's (no unit) needs
    ``quizzes.manage``, a unit's needs ``quizzes.bank`` on that unit (404 outside their subtree)."""
    if category is None:
        raise tk.NotFound(_("Not found."))
    if category.unit is None:
        if not tk.can("quizzes.manage", account=account):
            raise tk.Forbidden(_("Only organizers keep the central question bank."))
    elif not (tk.can("quizzes.manage", account=account) or tk.can("quizzes.bank", category.unit, account=account)):
        raise tk.NotFound(_("Not found."))
    return category


def kept_categories() -> list[Category]:
    """The categories the current user keeps: every one for organizers, their units' subtrees for secretaries."""
    if tk.can("quizzes.manage"):
        return all_categories()
    units = tk.granting_units("quizzes.bank")
    if not units:
        return []
    inside = or_(*[tk.in_subtree(tk.OrgUnit.path, unit.path) for unit in units])
    return list(db.session.scalars(select(Category).where(Category.unit.has(inside)).order_by(Category.path)))


def create_category(name: str, unit, parent: Category | None = None) -> Category:
    """A new category kept by ``unit`` (None: the central bank), under ``parent`` when given."""
    name = (name or "").strip().replace("/", "-")
    if not name:
        raise tk.Invalid(_("Give the category a name."), field="name")
    if unit is None:
        tk.require("quizzes.manage")
    elif not (tk.can("quizzes.manage") or tk.can("quizzes.bank", unit)):
        raise tk.NotFound(_("Not found."))
    if parent is not None:
        require_category(parent)
    path = category_path_text([*(category_parts(parent) if parent else ()), name])
    if db.session.scalar(select(Category.id).where(Category.path == path)) is not None:
        raise tk.Conflict(_("A category with this name exists already."), field="name")
    category = Category(name=name, parent_id=parent.id if parent else None, path=path,
                        unit_id=unit.id if unit is not None else None)
    db.session.add(category)
    db.session.flush()
    tk.audit("quizzes.category_created", "question_category", category.id, path=path)
    return category


def _percent(value: str, field_name: str) -> float:
    try:
        number = float((value or "0").strip() or 0)
    except ValueError:
        raise tk.Invalid(_("Write a number."), field=field_name) from None
    if not -100.0 <= number <= 100.0:
        raise tk.Invalid(_("A weight is between -100 and 100 percent."), field=field_name)
    return round(number / 100.0, 7)


def _number_field(value: str, field_name: str) -> float:
    try:
        return float((value or "").strip().replace("，", "."))
    except ValueError:
        raise tk.Invalid(_("Write a number."), field=field_name) from None


def _rows(raw: dict[str, list[str]], *names: str) -> list[dict[str, str]]:
    """Parallel form lists (``choice_text``, ``choice_fraction``…) as rows, blank rows dropped."""
    length = max((len(raw.get(name, [])) for name in names), default=0)
    rows = []
    for index in range(length):
        row = {name: (raw.get(name, [])[index] if index < len(raw.get(name, [])) else "").strip() for name in names}
        if any(row[name] for name in names if not name.endswith(("_id", "_fraction", "_tolerance"))):
            rows.append(row)
    return rows


def _first(raw: dict[str, list[str]], name: str) -> str:
    return (raw.get(name) or [""])[0].strip()


def _keep_id(wanted: str, text: str, taken: set[str]) -> str:
    """The row's old id when it has one (old answers stay graded against it), else one made from its text."""
    if wanted and wanted not in taken:
        taken.add(wanted)
        return wanted
    new = formats.stable_id(text, taken)
    taken.add(new)
    return new


def question_data(qtype: str, raw: dict[str, list[str]]) -> dict:
    """The ``data`` of a question written in the form; :class:`tk.Invalid` names what is wrong."""
    if qtype in ("single", "multi"):
        taken: set[str] = set()
        choices = [{"id": _keep_id(r["choice_id"], r["choice_text"], taken), "text": r["choice_text"],
                    "fraction": _percent(r["choice_fraction"], "choices"), "feedback": r["choice_feedback"]}
                   for r in _rows(raw, "choice_id", "choice_text", "choice_fraction", "choice_feedback")]
        if len(choices) < 2 or any(not c["text"] for c in choices):
            raise tk.Invalid(_("A multiple choice question needs at least two answers."), field="choices")
        if not any(c["fraction"] > 0 for c in choices):
            raise tk.Invalid(_("No answer is marked right: give one a positive weight."), field="choices")
        return {"choices": choices}
    if qtype == "truefalse":
        return {"correct": _first(raw, "correct") == "true", "feedback_right": _first(raw, "feedback_right"),
                "feedback_wrong": _first(raw, "feedback_wrong")}
    if qtype == "shortanswer":
        taken = set()
        answers = [{"id": _keep_id(r["answer_id"], r["answer_text"], taken), "text": r["answer_text"],
                    "fraction": _percent(r["answer_fraction"] or "100", "answers"), "feedback": r["answer_feedback"]}
                   for r in _rows(raw, "answer_id", "answer_text", "answer_fraction", "answer_feedback")]
        if not any(a["fraction"] > 0 and a["text"] for a in answers):
            raise tk.Invalid(_("Give at least one accepted answer."), field="answers")
        return {"answers": answers, "case_sensitive": bool(raw.get("case_sensitive"))}
    if qtype == "numerical":
        answers = [{"value": _number_field(r["number_value"], "numbers"),
                    "tolerance": abs(_number_field(r["number_tolerance"] or "0", "numbers")),
                    "fraction": _percent(r["number_fraction"] or "100", "numbers"), "feedback": r["number_feedback"]}
                   for r in _rows(raw, "number_value", "number_tolerance", "number_fraction", "number_feedback")]
        if not any(a["fraction"] > 0 for a in answers):
            raise tk.Invalid(_("A numerical question needs at least one right answer."), field="numbers")
        return {"answers": answers}
    if qtype == "matching":
        left_taken, right_taken, right_ids, pairs = set(), set(), {}, []
        for r in _rows(raw, "pair_id", "pair_left", "pair_right"):
            if not r["pair_right"]:
                raise tk.Invalid(_("A matching item has nothing to match."), field="pairs")
            if r["pair_right"] not in right_ids:
                right_ids[r["pair_right"]] = formats.stable_id(r["pair_right"], right_taken)
                right_taken.add(right_ids[r["pair_right"]])
            pair_id = _keep_id(r["pair_id"], r["pair_left"], left_taken) if r["pair_left"] else ""
            pairs.append({"id": pair_id, "left": r["pair_left"], "right": r["pair_right"],
                          "right_id": right_ids[r["pair_right"]]})
        if sum(1 for p in pairs if p["left"]) < 2:
            raise tk.Invalid(_("A matching question needs at least two pairs."), field="pairs")
        return {"pairs": pairs}
    if qtype in ("essay", "description"):
        return {}
    raise tk.Invalid(_("Choose a question type."), field="qtype")


def draft_question(qtype: str, name: str, text: str, text_format: str, general_feedback: str, data: dict,
                   default_mark: float = 1.0) -> Question:
    """An unsaved question, for the preview (never added to the session)."""
    if text_format not in TEXT_FORMATS:
        raise tk.Invalid(_("Choose a text format."), field="text_format")
    return Question(qtype=qtype, name=(name or formats.default_name(text))[:255], text=text, text_format=text_format,
                    general_feedback=general_feedback or "", data=data,
                    default_mark=0.0 if qtype == "description" else default_mark)


def save_question(question: Question | None, draft: Question, category: Category, account=None,
                  now: datetime | None = None) -> tuple[Question, int]:
    """Store a question written in the browser: a new one, or a new version of ``question`` (its attempts
    are re-graded). Returns ``(question, attempts re-graded)``; an unchanged question stays as it is."""
    require_category(category, account)
    if question is not None:
        require_category(question.category, account)
    now = now or tk.utcnow()
    parsed = formats.ParsedQuestion(draft.qtype, draft.name, draft.text, draft.text_format, draft.general_feedback,
                                    draft.data, category_parts(category),
                                    tuple(question.tag_names) if question else (), question.idnumber if question else "")
    if question is not None and question.fingerprint == parsed.fingerprint() and question.category_id == category.id:
        return question, 0
    if question is None:
        question = Question(created_at=now, version=0, source="", source_key="")
        question.tags = []
        db.session.add(question)
    _apply(question, parsed, category)
    question.default_mark = draft.default_mark
    question.version += 1
    question.updated_at = now
    record_version(question, account)
    tk.audit("question.saved", "question", question.id, version=question.version)
    return question, regrade_question(question, now) if question.version > 1 else 0

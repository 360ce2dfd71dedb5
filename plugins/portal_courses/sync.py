"""Course content as files: reading course folders and syncing them into the database.

A course folder holds ``course.toml`` and Markdown lessons::

    courses/staying-connected/
      course.toml
      01-before-you-leave.md          (the course's default locale, "en" unless set)
      01-before-you-leave.zh_CN.md    (the zh_CN variant)
      final-quiz.gift                 (optional; named by ``quiz =``)
      images/…                        (optional)

A lesson file starts with an optional ``+++`` TOML front matter (``min_seconds``)
and then a ``# Title`` line. Files whose names do not start with a number
(README.md …) are ignored.

``sync_directory`` validates every folder first; when anything is wrong it
changes nothing and raises :class:`ContentErrors`, each message naming the
file and line. Otherwise it applies the changes idempotently: unchanged
lessons are not touched, changed ones are updated and queued for the search
index, lessons whose files disappeared are retired (never deleted, so
members' progress survives), and ``portal_course_synced`` is called for each
course.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from portal import toolkit as tk
from portal_courses.models import RULE_LESSONS, RULE_LESSONS_AND_QUIZ, RULES, Course, Lesson

LOCALES = ("zh_CN", "en")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
LESSON_FILE_RE = re.compile(r"^(?P<slug>(?P<num>\d+)[-_][A-Za-z0-9_-]+?)(?:\.(?P<locale>zh_CN|en))?\.md$")
COURSE_KEYS = {"slug", "title", "summary", "category", "tags", "estimated_minutes", "points_hint", "certificate",
               "completion", "quiz", "order", "default_locale"}
LESSON_KEYS = {"min_seconds"}


class ContentError(Exception):
    """One problem in a content file, located by file and line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line or 1}: {message}")


class ContentErrors(Exception):
    """Every problem found; nothing was changed."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class LessonSpec:
    slug: str
    position: int
    titles: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    min_seconds: int | None = None

    def content_hash(self) -> str:
        return _hash({"t": self.titles, "b": self.bodies, "m": self.min_seconds, "p": self.position})


@dataclass
class CourseSpec:
    directory: Path
    slug: str
    titles: dict[str, str]
    summaries: dict[str, str]
    category: str
    tags: dict[str, list[str]]
    estimated_minutes: int
    points_hint: int
    certificate: bool
    completion: str
    quiz: str | None
    order: int
    lessons: list[LessonSpec]

    def content_hash(self) -> str:
        data = {k: getattr(self, k) for k in ("slug", "titles", "summaries", "category", "tags", "estimated_minutes",
                                               "points_hint", "certificate", "completion", "quiz", "order")}
        data["dir"] = str(self.directory.resolve())
        return _hash(data)


@dataclass
class SyncReport:
    courses_created: int = 0
    courses_updated: int = 0
    courses_unchanged: int = 0
    courses_retired: int = 0
    lessons_created: int = 0
    lessons_updated: int = 0
    lessons_unchanged: int = 0
    lessons_retired: int = 0
    slugs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.slugs)} course(s): {self.courses_created} created, {self.courses_updated} updated, "
                f"{self.courses_unchanged} unchanged, {self.courses_retired} retired; lessons: "
                f"{self.lessons_created} created, {self.lessons_updated} updated, {self.lessons_unchanged} unchanged, "
                f"{self.lessons_retired} retired")


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def default_directory() -> Path:
    """The ``content_dir`` setting, else the repository's ``courses/`` folder."""
    configured = tk.get_setting("courses", "content_dir") or ""
    if configured:
        return Path(configured)
    return Path(tk.__file__).resolve().parent.parent / "courses"


# -- reading -------------------------------------------------------------------------

def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*[=.])")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


def _localized(value, path: Path, text: str, key: str, errors: list, *, required: bool) -> dict[str, str]:
    if value is None:
        if required:
            errors.append(ContentError(path, None, f"'{key}' is missing (a table with zh_CN and/or en)"))
        return {}
    if isinstance(value, str):
        return {"en": value.strip()}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        errors.append(ContentError(path, _key_line(text, key), f"'{key}' must be a table of texts per locale"))
        return {}
    unknown = set(value) - set(LOCALES)
    if unknown:
        errors.append(ContentError(path, _key_line(text, key), f"'{key}' has unknown locale(s) {sorted(unknown)}"))
    result = {k: v.strip() for k, v in value.items() if k in LOCALES and v.strip()}
    if required and not result:
        errors.append(ContentError(path, _key_line(text, key), f"'{key}' needs a text in zh_CN or en"))
    return result


def read_lesson_file(path: Path, errors: list) -> tuple[str, str, int | None] | None:
    """``(title, markdown body, min_seconds)`` of one lesson file, or None (errors appended)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(ContentError(path, 1, f"not UTF-8 text ({exc.reason})"))
        return None
    lines = text.splitlines()
    offset, min_seconds = 0, None
    if lines and lines[0].strip() == "+++":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
        except StopIteration:
            errors.append(ContentError(path, 1, "front matter opened with +++ is never closed"))
            return None
        try:
            meta = tomllib.loads("\n".join(lines[1:end]))
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            errors.append(ContentError(path, int(line.group(1)) + 1 if line else 2, f"front matter: {exc}"))
            return None
        for key in set(meta) - LESSON_KEYS:
            errors.append(ContentError(path, 1 + (_key_line("\n".join(lines[1:end]), key) or 1),
                                       f"unknown front matter key '{key}'"))
        if "min_seconds" in meta:
            value = meta["min_seconds"]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3600:
                errors.append(ContentError(path, 1 + (_key_line("\n".join(lines[1:end]), "min_seconds") or 1),
                                           "min_seconds must be a whole number of seconds between 0 and 3600"))
            else:
                min_seconds = value
        offset = end + 1
    while offset < len(lines) and not lines[offset].strip():
        offset += 1
    if offset >= len(lines) or not lines[offset].startswith("# "):
        errors.append(ContentError(path, offset + 1, "a lesson must start with a '# Title' line"))
        return None
    title = lines[offset][2:].strip()
    body = "\n".join(lines[offset + 1:]).strip() + "\n"
    if not title:
        errors.append(ContentError(path, offset + 1, "the lesson title is empty"))
        return None
    if not body.strip():
        errors.append(ContentError(path, offset + 2, "the lesson has no text"))
    return title, body, min_seconds


def read_course_dir(directory: Path, errors: list) -> CourseSpec | None:
    """Parse one course folder; problems are appended to ``errors``."""
    path = directory / "course.toml"
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        errors.append(ContentError(path, 1, f"not UTF-8 text ({exc.reason})"))
        return None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        errors.append(ContentError(path, int(line.group(1)) if line else 1, f"invalid TOML: {exc}"))
        return None
    before = len(errors)
    for key in sorted(set(data) - COURSE_KEYS):
        errors.append(ContentError(path, _key_line(text, key), f"unknown key '{key}'"))
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        errors.append(ContentError(path, _key_line(text, "slug"),
                                   "'slug' must be 2-80 lowercase letters, digits and dashes"))
    titles = _localized(data.get("title"), path, text, "title", errors, required=True)
    summaries = _localized(data.get("summary"), path, text, "summary", errors, required=False)

    def number(key: str, default: int, low: int = 0, high: int = 100000) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors.append(ContentError(path, _key_line(text, key), f"'{key}' must be a whole number from {low} to {high}"))
            return default
        return value

    estimated = number("estimated_minutes", 0, 0, 10000)
    points_hint = number("points_hint", 0, 0, 10000)
    order = number("order", 100, 0, 100000)
    category = data.get("category", "general")
    if not isinstance(category, str) or not re.match(r"^[a-z0-9-]{1,40}$", category):
        errors.append(ContentError(path, _key_line(text, "category"), "'category' must be a short lowercase key"))
        category = "general"
    tags_raw = data.get("tags", [])
    tags: dict[str, list[str]] = {}
    if isinstance(tags_raw, list) and all(isinstance(t, str) for t in tags_raw):
        tags = {"zh_CN": list(tags_raw), "en": list(tags_raw)}
    elif isinstance(tags_raw, dict) and all(isinstance(v, list) and all(isinstance(t, str) for t in v)
                                             for v in tags_raw.values()) and set(tags_raw) <= set(LOCALES):
        tags = {k: list(v) for k, v in tags_raw.items()}
    else:
        errors.append(ContentError(path, _key_line(text, "tags"), "'tags' must be a list of words or a table of lists per locale"))
    certificate = data.get("certificate", False)
    if not isinstance(certificate, bool):
        errors.append(ContentError(path, _key_line(text, "certificate"), "'certificate' must be true or false"))
        certificate = False
    quiz = data.get("quiz")
    if quiz is not None:
        if not isinstance(quiz, str) or "/" in quiz or "\\" in quiz or not quiz.endswith(".gift"):
            errors.append(ContentError(path, _key_line(text, "quiz"), "'quiz' must name a .gift file in the course folder"))
            quiz = None
        elif not (directory / quiz).is_file():
            errors.append(ContentError(path, _key_line(text, "quiz"), f"the quiz file '{quiz}' does not exist"))
            quiz = None
    completion = data.get("completion", RULE_LESSONS_AND_QUIZ if quiz else RULE_LESSONS)
    if completion not in RULES:
        errors.append(ContentError(path, _key_line(text, "completion"), f"'completion' must be one of {', '.join(RULES)}"))
        completion = RULE_LESSONS
    default_locale = data.get("default_locale", "en")
    if default_locale not in LOCALES:
        errors.append(ContentError(path, _key_line(text, "default_locale"), f"'default_locale' must be one of {', '.join(LOCALES)}"))
        default_locale = "en"

    lessons: dict[str, LessonSpec] = {}
    for file in sorted(directory.glob("*.md")):
        if not file.name[:1].isdigit():
            continue
        match = LESSON_FILE_RE.match(file.name)
        if not match:
            errors.append(ContentError(file, 1, "lesson file names look like 01-name.md or 01-name.zh_CN.md"))
            continue
        parsed = read_lesson_file(file, errors)
        if parsed is None:
            continue
        title, body, min_seconds = parsed
        spec = lessons.setdefault(match["slug"], LessonSpec(match["slug"], int(match["num"])))
        locale = match["locale"] or default_locale
        spec.titles[locale], spec.bodies[locale] = title, body
        if min_seconds is not None:
            spec.min_seconds = min_seconds
    if not lessons:
        errors.append(ContentError(path, 1, "the course has no lessons (files like 01-name.md)"))
    if len(errors) > before:
        return None
    return CourseSpec(directory=directory, slug=slug, titles=titles, summaries=summaries, category=category,
                      tags=tags, estimated_minutes=estimated, points_hint=points_hint, certificate=certificate,
                      completion=completion, quiz=quiz, order=order,
                      lessons=sorted(lessons.values(), key=lambda lesson: (lesson.position, lesson.slug)))


def read_directory(directory: Path) -> list[CourseSpec]:
    """Every course folder under ``directory`` (or ``directory`` itself when it holds course.toml)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentErrors([ContentError(directory, None, "no such folder")])
    folders = [directory] if (directory / "course.toml").is_file() else \
        sorted(d for d in directory.iterdir() if d.is_dir() and (d / "course.toml").is_file())
    errors: list[ContentError] = []
    specs = [spec for folder in folders if (spec := read_course_dir(folder, errors)) is not None]
    seen: dict[str, Path] = {}
    for spec in specs:
        if spec.slug in seen:
            errors.append(ContentError(spec.directory / "course.toml", None,
                                       f"slug '{spec.slug}' is also used by {seen[spec.slug]}"))
        seen[spec.slug] = spec.directory
    if errors:
        raise ContentErrors(errors)
    return specs


# -- applying ----------------------------------------------------------------------------

def sync_directory(directory: Path | None = None, *, now: datetime | None = None) -> SyncReport:
    """Create and update the courses of ``directory`` (default: :func:`default_directory`); commits.

    Raises :class:`ContentErrors` (nothing changed) when any file is invalid.
    """
    from portal_courses import services

    now = now or tk.utcnow()
    directory = Path(directory or default_directory()).resolve()
    specs = read_directory(directory)
    report = SyncReport()
    with tk.write_intent():
        existing = {c.slug: c for c in tk.db.session.scalars(select(Course).where(Course.slug.in_([s.slug for s in specs])))}
        conflicts = [ContentError(s.directory / "course.toml", 1, f"slug '{s.slug}' belongs to a course authored in the browser")
                     for s in specs if s.slug in existing and existing[s.slug].source != "files"]
        if conflicts:
            raise ContentErrors(conflicts)
        synced = []
        for spec in specs:
            unchanged_before = report.courses_unchanged
            course = _apply_course(spec, existing.get(spec.slug), now, report)
            synced.append((spec, course, report.courses_unchanged == unchanged_before))
        _retire_missing_courses(directory, {s.slug for s in specs}, now, report)
        tk.db.session.flush()
        for _spec, course, changed in synced:
            if changed:
                services.queue_course_documents(course)
        tk.db.session.commit()
        for spec, course, _changed in synced:
            tk.get_manager().call_each("portal_course_synced", course={
                "slug": course.slug, "title": dict(course.titles), "directory": spec.directory,
                "quiz_file": spec.directory / spec.quiz if spec.quiz else None})
        tk.db.session.commit()
    return report


def _apply_course(spec: CourseSpec, course: Course | None, now: datetime, report: SyncReport) -> Course:
    from portal_courses import services

    report.slugs.append(spec.slug)
    digest = spec.content_hash()
    if course is None:
        course = Course(slug=spec.slug, source="files", created_at=now)
        tk.db.session.add(course)
        report.courses_created += 1
    elif course.content_hash != digest or course.retired_at is not None:
        report.courses_updated += 1
    else:
        report.courses_unchanged += 1
    if course.content_hash != digest or course.retired_at is not None:
        course.titles, course.summaries, course.category, course.tags = spec.titles, spec.summaries, spec.category, spec.tags
        course.estimated_minutes, course.points_hint = spec.estimated_minutes, spec.points_hint
        course.grants_certificate, course.completion_rule, course.quiz_file = spec.certificate, spec.completion, spec.quiz
        course.position, course.source_dir, course.content_hash = spec.order, str(spec.directory.resolve()), digest
        course.published, course.retired_at, course.updated_at = True, None, now
    tk.db.session.flush()
    lessons = {lesson.slug: lesson for lesson in tk.db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}
    for lesson_spec in spec.lessons:
        lesson = lessons.pop(lesson_spec.slug, None)
        digest = lesson_spec.content_hash()
        if lesson is not None and lesson.content_hash == digest and lesson.retired_at is None:
            report.lessons_unchanged += 1
            continue
        if lesson is None:
            lesson = Lesson(course_id=course.id, slug=lesson_spec.slug, created_at=now)
            tk.db.session.add(lesson)
            report.lessons_created += 1
        else:
            report.lessons_updated += 1
        lesson.position, lesson.titles, lesson.bodies = lesson_spec.position, lesson_spec.titles, lesson_spec.bodies
        lesson.min_seconds, lesson.content_hash = lesson_spec.min_seconds, digest
        lesson.retired_at, lesson.updated_at = None, now
        tk.db.session.flush()
        services.queue_lesson_documents(lesson, course)
    for lesson in lessons.values():
        if lesson.retired_at is None:
            lesson.retired_at = now
            report.lessons_retired += 1
            services.queue_lesson_removal(lesson)
    return course


def _retire_missing_courses(directory: Path, present: set[str], now: datetime, report: SyncReport) -> None:
    """Retire file courses that lived in ``directory`` but whose folder is gone."""
    from portal_courses import services

    prefix = str(directory) + "/"
    query = select(Course).where(Course.source == "files", Course.retired_at.is_(None), Course.slug.not_in(present))
    for course in tk.db.session.scalars(query):
        if course.source_dir and (course.source_dir + "/").startswith(prefix):
            course.retired_at = now
            report.courses_retired += 1
            services.queue_course_removal(course)

"""Course content as files: `portal courses sync` is idempotent, keeps progress, names file and line."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.cli import cli
from portal.search.models import SearchQueueEntry
from portal_courses import services
from portal_courses.models import Course, Lesson, LessonProgress
from portal_courses.sync import ContentErrors, default_directory, read_directory, sync_directory

SHIPPED = Path(__file__).resolve().parent.parent / "courses"

COURSE_TOML = """slug = "demo-course"
category = "general"
estimated_minutes = 10

[title]
zh_CN = "演示课程"
en = "Demo course"
"""


def make_course(root: Path, lessons: dict[str, str], toml: str = COURSE_TOML) -> Path:
    folder = root / "demo-course"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text(toml, encoding="utf-8")
    for name, text in lessons.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_default_directory_is_the_shipped_courses(app, db):
    assert default_directory() == SHIPPED.resolve()


def test_shipped_courses_are_complete_and_bilingual(app, db):
    specs = {spec.slug: spec for spec in read_directory(SHIPPED)}
    assert set(specs) >= {"getting-started", "staying-connected", "workers-rights"}
    for spec in specs.values():
        assert spec.titles.keys() >= {"zh_CN", "en"} and spec.summaries.keys() >= {"zh_CN", "en"}
        assert len(spec.lessons) >= 4
        for lesson in spec.lessons:
            assert lesson.titles.keys() == {"zh_CN", "en"}, lesson.slug
            assert len(lesson.bodies["zh_CN"]) > 300 and len(lesson.bodies["en"].split()) > 150, lesson.slug
        assert spec.quiz and (spec.directory / spec.quiz).is_file()
    rights = specs["workers-rights"]
    assert "not legal advice" in rights.summaries["en"] and "不是法律意见" in rights.summaries["zh_CN"]
    assert "不是法律意见" in rights.lessons[0].bodies["zh_CN"]


@pytest.mark.parametrize("slug", ["getting-started", "staying-connected", "workers-rights"])
def test_shipped_quiz_is_gift_with_every_question_type(slug):
    text = (SHIPPED / slug / "final-quiz.gift").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    questions = [q for q in re.split(r"\n\s*\n", body) if q.strip()]
    assert len(questions) >= 7
    kinds = set()
    for question in questions:
        assert question.count("{") == 1 and question.count("}") == 1, question
        answers = question[question.index("{") + 1:question.index("}")].strip()
        if answers in ("T", "F"):
            kinds.add("truefalse")
        elif "~%" in answers:
            weights = [float(w) for w in re.findall(r"~%(-?[\d.]+)%", answers)]
            assert abs(sum(w for w in weights if w > 0) - 100) < 0.01, question
            kinds.add("multi")
        elif "~" in answers:
            assert answers.count("=") == 1, question
            kinds.add("single")
        else:
            assert answers.startswith("="), question
            kinds.add("short")
        # an unescaped ASCII colon outside the ::name:: would be read as GIFT syntax
        assert ":" not in question.split("::", 2)[-1], question
    assert kinds == {"truefalse", "multi", "single", "short"}


def test_sync_creates_then_is_idempotent(app, db, tmp_path):
    make_course(tmp_path, {"01-intro.md": "# Intro\n\nHello wage earners.\n",
                           "01-intro.zh_CN.md": "# 介绍\n\n你好，流动党员。\n",
                           "02-more.md": "+++\nmin_seconds = 5\n+++\n# More\n\nText.\n"})
    first = sync_directory(tmp_path)
    assert (first.courses_created, first.lessons_created) == (1, 2)
    course = db.session.scalar(select(Course).where(Course.slug == "demo-course"))
    assert course.titles == {"zh_CN": "演示课程", "en": "Demo course"} and course.source == "files"
    intro, more = course.active_lessons
    assert intro.titles == {"en": "Intro", "zh_CN": "介绍"} and more.min_seconds == 5
    stamps = {lesson.id: lesson.updated_at for lesson in course.lessons}
    queued = db.session.scalar(select(func.count(SearchQueueEntry.id)))

    second = sync_directory(tmp_path, now=tk.utcnow() + timedelta(hours=1))
    db.session.expire_all()
    assert (second.courses_unchanged, second.lessons_unchanged, second.lessons_updated) == (1, 2, 0)
    assert {lesson.id: lesson.updated_at for lesson in course.lessons} == stamps
    assert db.session.scalar(select(func.count(SearchQueueEntry.id))) == queued  # nothing changed, nothing queued


def test_changed_lesson_updated_removed_retired_progress_survives(app, db, org, tmp_path):
    folder = make_course(tmp_path, {"01-intro.md": "# Intro\n\nFirst text.\n", "02-more.md": "# More\n\nText.\n",
                                    "03-gone.md": "# Gone soon\n\nText.\n"})
    sync_directory(tmp_path)
    course = db.session.scalar(select(Course).where(Course.slug == "demo-course"))
    intro = course.active_lessons[0]
    member = org.member1
    t0 = tk.utcnow() - timedelta(hours=2)
    services.open_lesson(member, intro, now=t0)
    services.complete_lesson(member, intro, now=t0 + timedelta(minutes=5))
    db.session.commit()

    (folder / "01-intro.md").write_text("# Intro\n\nRewritten text about work injury.\n", encoding="utf-8")
    (folder / "03-gone.md").unlink()
    report = sync_directory(tmp_path)
    assert (report.lessons_updated, report.lessons_unchanged, report.lessons_retired) == (1, 1, 1)
    db.session.expire_all()
    lessons = {item.slug: item for item in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}
    assert lessons["01-intro"].id == intro.id and "work injury" in lessons["01-intro"].bodies["en"]
    assert lessons["03-gone"].retired_at is not None  # retired, not deleted
    assert [item.slug for item in course.active_lessons] == ["01-intro", "02-more"]
    progress = db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == intro.id))
    assert progress.completed_at is not None
    keys = [e.doc_key for e in db.session.scalars(select(SearchQueueEntry).order_by(SearchQueueEntry.id))]
    assert f"courses:lesson:{intro.id}:en" in keys[-6:]  # the changed lesson is queued for reindexing
    assert ("courses:lesson:%d:en" % lessons["03-gone"].id) in keys


class SyncRecorder:
    """A plugin implementing the courses plugin's published hook, registered for one test."""

    def __init__(self):
        self.calls = []

    @tk.hookimpl
    def portal_course_synced(self, course):
        self.calls.append(course)


def test_sync_calls_the_course_synced_hook(app, db, tmp_path):
    make_course(tmp_path, {"01-a.md": "# A\n\nText.\n", "quiz.gift": "::q:: ok? {T}\n"},
                'quiz = "quiz.gift"\n' + COURSE_TOML)
    recorder = SyncRecorder()
    tk.get_manager().pm.register(recorder, name="sync_recorder")
    try:
        sync_directory(tmp_path)
    finally:
        tk.get_manager().pm.unregister(recorder)
    calls = recorder.calls
    assert calls and calls[0]["slug"] == "demo-course"
    assert calls[0]["quiz_file"] == (tmp_path / "demo-course" / "quiz.gift").resolve()
    assert calls[0]["title"]["zh_CN"] == "演示课程"


@pytest.mark.parametrize("files,expected", [
    ({"course.toml": 'slug = "x"\ntitle = [oops\n'}, r"course\.toml:2: invalid TOML"),
    ({"course.toml": COURSE_TOML.replace("category", "colour = 3\ncategory")}, r"course\.toml:2: unknown key 'colour'"),
    ({"course.toml": COURSE_TOML.replace('slug = "demo-course"', 'slug = "Bad Slug"')}, r"course\.toml:1: 'slug'"),
    ({"course.toml": 'quiz = "missing.gift"\n' + COURSE_TOML}, r"course\.toml:1: the quiz file 'missing.gift'"),
    ({"course.toml": COURSE_TOML + 'fr = "Cours"\n'}, r"course\.toml:5: 'title' has unknown locale"),
    ({"01-a.md": "no heading here\n"}, r"01-a\.md:1: a lesson must start with a '# Title' line"),
    ({"01-a.md": "+++\nmin_seconds = -4\n+++\n# A\n\nText\n"}, r"01-a\.md:2: min_seconds"),
    ({"01-a.md": "\n\n# \n"}, r"01-a\.md:3: the lesson title is empty"),
])
def test_errors_name_file_and_line_and_change_nothing(app, db, tmp_path, files, expected):
    lessons = {"01-a.md": "# A\n\nText.\n"}
    toml = files.pop("course.toml", COURSE_TOML)
    lessons.update(files)
    make_course(tmp_path, lessons, toml)
    with pytest.raises(ContentErrors) as caught:
        sync_directory(tmp_path)
    assert re.search(expected, str(caught.value)), str(caught.value)
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_cli_sync_reports_errors_and_succeeds(app, db, tmp_path):
    make_course(tmp_path, {"01-a.md": "# A\n\nText.\n"})
    runner = app.test_cli_runner()
    result = runner.invoke(cli, args=["courses", "sync", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    (tmp_path / "demo-course" / "02-b.md").write_text("oops\n", encoding="utf-8")
    result = runner.invoke(cli, args=["courses", "sync", str(tmp_path)])
    assert result.exit_code != 0
    assert "02-b.md:1:" in result.output and "nothing was changed" in result.output


def test_shipped_courses_sync(app, db):
    report = sync_directory()
    assert report.courses_created >= 3 and report.lessons_created >= 12
    again = sync_directory()
    assert again.lessons_unchanged == report.lessons_created and again.lessons_updated == 0

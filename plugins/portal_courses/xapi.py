"""The online school's verbs as xAPI statements (``portal_xapi_verbs``).

Objects are the course and lesson pages, named by their own titles in each language; a comment
statement names the lesson discussed, never the comment's text.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from sqlalchemy import select

from portal import toolkit as tk
from portal_courses.models import Course, Lesson, pick

ADL = "http://adlnet.gov/expapi"
#: Catalogue locale of each language tag of an xAPI language map.
LOCALES = {"zh-CN": "zh_CN", "en-US": "en"}


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mappings of the school's verbs; ``labels`` are the stream's labels of the verbs (their display)."""
    return [
        tk.XapiVerb("lesson.completed", f"{ADL}/verbs/completed", tk.language_map(labels["lesson.completed"]),
                    f"{ADL}/activities/lesson", describe_lessons),
        tk.XapiVerb("course.completed", f"{ADL}/verbs/completed", tk.language_map(labels["course.completed"]),
                    f"{ADL}/activities/course", describe_courses),
        tk.XapiVerb("certificate.issued", "/xapi/verbs/certificate.issued",
                    tk.language_map(labels["certificate.issued"]),
                    tk.public_url("/xapi/activity-types/certificate"), describe_certificates),
        tk.XapiVerb("lesson.commented", f"{ADL}/verbs/commented", tk.language_map(labels["lesson.commented"]),
                    f"{ADL}/activities/lesson", describe_comments),
    ]


def titles(row: Course | Lesson) -> dict[str, str]:
    """``{"zh-CN": …, "en-US": …}`` of a course's or lesson's title (the other language's when one is missing)."""
    return {tag: pick(row.titles, locale, row.slug) for tag, locale in LOCALES.items()}



def _lessons(ids: set[int]) -> dict[int, Lesson]:
    """Lessons by id with their courses, in one query."""
    if not ids:
        return {}
    rows = tk.db.session.execute(select(Lesson, Course).join(Course, Lesson.course_id == Course.id)
                                 .where(Lesson.id.in_(ids))).all()
    return {lesson.id: lesson for lesson, _course in rows}


def _int(value: object) -> int | None:
    """An id kept as text in the stream (``object_id``, extras), or None when it is not one."""
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _lesson_path(lesson: Lesson) -> str:
    return f"/courses/{lesson.course.slug}/lessons/{lesson.id}"


def describe_lessons(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``lesson.completed``: the lesson, completion, and the reading time when it was kept at completion."""
    lessons = _lessons({_int(a.object_id) for a in activities} - {None})
    described = {}
    for activity in activities:
        lesson = lessons.get(_int(activity.object_id))
        if lesson is None:
            continue
        result: dict = {"completion": True}
        seconds = (activity.extras or {}).get("seconds")
        if isinstance(seconds, (int, float)) and seconds >= 0:
            result["duration"] = tk.iso_duration(seconds)
        described[activity.id] = tk.XapiObject(path=_lesson_path(lesson), name=titles(lesson), result=result)
    return described


def _courses(ids: set[int]) -> dict[int, Course]:
    """Courses by id, in one query."""
    if not ids:
        return {}
    return {course.id: course for course in tk.db.session.scalars(select(Course).where(Course.id.in_(ids)))}


def describe_courses(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``course.completed``: the course's page, completion true."""
    courses = _courses({_int(a.object_id) for a in activities} - {None})
    return {activity.id: tk.XapiObject(path=f"/courses/{course.slug}", name=titles(course), result={"completion": True})
            for activity in activities if (course := courses.get(_int(activity.object_id))) is not None}


def describe_certificates(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``certificate.issued``: the course's completion certificate (one object per course; the member's own
    certificate code stays out of the statement)."""
    slugs = {(a.extras or {}).get("course") for a in activities} - {None}
    courses = {course.slug: course for course in tk.db.session.scalars(select(Course).where(Course.slug.in_(slugs)))} \
        if slugs else {}
    return {activity.id: tk.XapiObject(path=f"/courses/{course.slug}/certificate", name=titles(course))
            for activity in activities if (course := courses.get((activity.extras or {}).get("course"))) is not None}


def describe_comments(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``lesson.commented``: the lesson discussed (the comment's words are the member's, not the record's)."""
    lessons = _lessons({_int((a.extras or {}).get("lesson")) for a in activities} - {None})
    return {activity.id: tk.XapiObject(path=_lesson_path(lesson), name=titles(lesson))
            for activity in activities if (lesson := lessons.get(_int((activity.extras or {}).get("lesson")))) is not None}

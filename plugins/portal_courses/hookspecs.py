"""Hooks the courses plugin publishes (through ``portal_addhooks``) for other plugins.

The course↔quiz contract: a quiz plugin implements these, marked
``@tk.hookimpl(optionalhook=True)`` so it still loads when courses is not
installed; it never imports this plugin (pluggy matches hooks by name).
Called like every hook: only on enabled plugins, failures isolated, each
implementation in a SAVEPOINT of its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from portal import toolkit as tk


class SyncedCourse(TypedDict):
    """What ``portal_course_synced`` is told about a course."""

    slug: str
    #: locale → title
    title: dict[str, str]
    directory: Path
    #: The GIFT file named in course.toml, or None.
    quiz_file: Path | None


class FinalQuiz(TypedDict):
    """A course's final quiz as ``portal_course_final_quiz`` offers it."""

    title: Any
    url: str
    passed: bool


@tk.hookspec
def portal_course_synced(course: SyncedCourse) -> None:
    """A course folder was synced (``portal courses sync``).

    Called for every course of the folder after the sync committed, each
    implementation in a SAVEPOINT; the sync commits again afterwards. A quiz
    plugin imports ``quiz_file`` as the course's final quiz (idempotently: an
    unchanged file changes nothing, a broken one keeps the old quiz) and, when
    that quiz is passed, records ``quiz.passed`` with ``extras={"course": slug}``.

    :param course: The synced course.
    :returns: Nothing.
    """


@tk.hookspec(firstresult=True)
def portal_course_final_quiz(course_slug: str, member: tk.Member) -> FinalQuiz | None:
    """The final quiz of a course for ``member``.

    Called on course pages and when completion is checked, inside the
    request's transaction. firstresult: the first non-None answer wins (an
    implementation that raises is skipped and the next one asked).

    :param course_slug: The course's slug.
    :param member: The member studying it.
    :returns: ``{"title", "url", "passed"}``, or None when the course has no final quiz.
    """

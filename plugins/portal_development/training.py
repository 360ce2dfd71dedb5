"""Concentrated training of candidates: classes, and the hours each candidate has done.

A ``training`` step records hours, days (counted as ``hours_per_day`` each) or a class attended (its
hours). A class may be a course of the online school: a ``course.completed`` activity of the person for
that course counts as attending it. Each class counts once, however it was attended.
"""
from __future__ import annotations

from typing import Any, Iterable

from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_development.models import DevCase, StepRecord, TrainingClass
from portal_development.settings import setting

db = tk.db
#: The most hours a class or one training record may count.
MAX_HOURS = 200
MAX_DAYS = 30


def _positive(value: Any, limit: int) -> int | None:
    """A whole number 1..limit given as an int or a digit string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 1 <= value <= limit else None


def clean_training(data: Any, case: DevCase | None = None) -> dict[str, int]:
    """A training step's data: exactly one of ``{"hours"}``, ``{"days"}`` or ``{"class_id"}`` (an existing class).

    ``case`` is accepted for the cleaners' common signature; a class anywhere may be attended.
    """
    given = {key: data.get(key) for key in ("hours", "days", "class_id")
             if isinstance(data, dict) and data.get(key) not in (None, "")}
    if len(given) != 1:
        raise tk.Invalid(_("Give the hours, the days or the class of the training (one of them)."), field="hours")
    key, raw = next(iter(given.items()))
    if key == "class_id":
        class_id = _positive(raw, tk.MAX_ID)
        if class_id is None or db.session.get(TrainingClass, class_id) is None:
            raise tk.Invalid(_("No such training class."), field="class_id")
        return {"class_id": class_id}
    limit = MAX_HOURS if key == "hours" else MAX_DAYS
    count = _positive(raw, limit)
    if count is None:
        raise tk.Invalid(_("Enter a whole number from 1 to %(limit)d.", limit=limit), field=key)
    return {key: count}


def create_class(unit: tk.OrgUnit, title: str, hours: Any, *, actor=None,
                 course_id: int | None = None) -> TrainingClass:
    """A new class held by ``unit`` (its secretaries or the committee above); the caller commits."""
    if actor is not None and not (tk.can("development.manage", unit, actor)
                                  or tk.can("development.approve", unit, actor)):
        raise tk.NotFound(_("Not found."))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Enter a title of at most 200 characters.")
    count = _positive(hours, MAX_HOURS)
    if count is None:
        errors["hours"] = _("Enter a whole number from 1 to %(limit)d.", limit=MAX_HOURS)
    course = None if course_id in (None, "") else _positive(course_id, tk.MAX_ID)
    if course_id not in (None, "") and course is None:
        errors["course_id"] = _("Enter the number of a course of the online school.")
    if errors:
        raise tk.Invalid(next(iter(errors.values())), errors)
    created = TrainingClass(unit_id=unit.id, title=title, hours=count, course_id=course)
    db.session.add(created)
    db.session.flush()
    tk.audit("development.training_class", "development_training_class", created.id, unit_id=unit.id,
             actor_account_id=getattr(actor, "id", None), hours=count)
    return created


def classes_for(unit: tk.OrgUnit) -> list[TrainingClass]:
    """The classes a candidate of ``unit`` may attend: held by the unit or a unit above it, newest first."""
    return list(db.session.scalars(db.select(TrainingClass).where(TrainingClass.unit_id.in_(unit.ancestor_ids()))
                                   .order_by(TrainingClass.created_at.desc(), TrainingClass.id.desc())))


def hours_for(cases: Iterable[DevCase], steps: Iterable[StepRecord] | None = None) -> dict[int, int]:
    """``{case_id: training hours done}`` for many cases in three queries (steps, classes, course completions).

    ``steps``: the cases' step records when the caller has them loaded already (then two queries).
    """
    cases = list(cases)
    hours = {case.id: 0 for case in cases}
    if not cases:
        return hours
    per_day = setting("hours_per_day")
    if steps is None:
        steps = db.session.execute(db.select(StepRecord.case_id, StepRecord.data).where(
            StepRecord.case_id.in_(hours), StepRecord.code == "training")).all()
    else:
        steps = [(step.case_id, step.data) for step in steps if step.code == "training"]
    course_classes, class_hours = _classes(steps)
    attended: dict[int, set[int]] = {case.id: set() for case in cases}
    for case_id, data in steps:
        data = data or {}
        if data.get("class_id") in class_hours:
            attended[case_id].add(data["class_id"])
        else:
            hours[case_id] += int(data.get("hours") or 0) + int(data.get("days") or 0) * per_day
    completed = _completed_courses({case.member_id for case in cases}, set(course_classes))
    for case in cases:
        for course_id in completed.get(case.member_id, ()):
            attended[case.id] |= course_classes.get(course_id, set())
        hours[case.id] += sum(class_hours[class_id] for class_id in attended[case.id])
    return hours


def _classes(steps) -> tuple[dict[int, set[int]], dict[int, int]]:
    """``({course_id: {class_id…}}, {class_id: hours})`` for the classes named by steps and every course class."""
    named = {data["class_id"] for _case, data in steps if data and data.get("class_id")}
    rows = db.session.scalars(db.select(TrainingClass).where(
        db.or_(TrainingClass.id.in_(named), TrainingClass.course_id.is_not(None))))
    by_course: dict[int, set[int]] = {}
    class_hours: dict[int, int] = {}
    for row in rows:
        class_hours[row.id] = row.hours
        if row.course_id is not None:
            by_course.setdefault(row.course_id, set()).add(row.id)
    return by_course, class_hours


def _completed_courses(member_ids: set[int], course_ids: set[int]) -> dict[int, set[int]]:
    """``{member_id: {course_id…}}``: the courses among ``course_ids`` each member completed (one query)."""
    if not course_ids:
        return {}
    rows = db.session.execute(db.select(tk.Activity.actor_id, tk.Activity.object_id).where(
        tk.Activity.actor_id.in_(member_ids), tk.Activity.verb == "course.completed",
        tk.Activity.object_type == "course", tk.Activity.object_id.in_([str(c) for c in course_ids]))).all()
    completed: dict[int, set[int]] = {}
    for member_id, object_id in rows:
        completed.setdefault(member_id, set()).add(int(object_id))
    return completed

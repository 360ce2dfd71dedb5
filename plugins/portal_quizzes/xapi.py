"""Quiz verbs as xAPI statements (``portal_xapi_verbs``).

A quiz attempt reads as the ADL assessment pattern: ``attempted`` when it starts, ``completed`` when it is
handed in (score, duration), then ``passed`` or ``failed``. The statements of one attempt share a
registration: a UUID derived from the attempt's address, so they stay together in the learning record
store and never meet another portal's attempts.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping, Sequence

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk
from portal_quizzes.models import Attempt, Quiz

ADL = "http://adlnet.gov/expapi"
ASSESSMENT = f"{ADL}/activities/assessment"
#: Catalogue locale of each language tag of an xAPI language map.
LOCALES = {"zh-CN": "zh_CN", "en-US": "en"}


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mappings of the quiz verbs; ``labels`` are the stream's labels of the verbs (their display)."""
    return [
        tk.XapiVerb("quiz.started", f"{ADL}/verbs/attempted", tk.language_map(labels["quiz.started"]),
                    ASSESSMENT, describe_started),
        tk.XapiVerb("quiz.attempted", f"{ADL}/verbs/completed", tk.language_map(labels["quiz.attempted"]),
                    ASSESSMENT, describe_finished),
        tk.XapiVerb("quiz.passed", f"{ADL}/verbs/passed", tk.language_map(labels["quiz.passed"]),
                    ASSESSMENT, describe_finished),
        tk.XapiVerb("quiz.failed", f"{ADL}/verbs/failed", tk.language_map(labels["quiz.failed"]),
                    ASSESSMENT, describe_finished),
        tk.XapiVerb("daily_quiz.completed", f"{ADL}/verbs/completed", tk.language_map(labels["daily_quiz.completed"]),
                    ASSESSMENT, describe_daily),
    ]


def registration(attempt_id: int) -> str:
    """The registration of every statement about attempt ``attempt_id`` (a UUID of the attempt's address)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, tk.public_url(f"/quizzes/attempts/{attempt_id}")))


def score(raw: Any, maximum: Any) -> dict | None:
    """An xAPI score from the points scored of the points possible; None when the attempt has none."""
    if not isinstance(raw, (int, float)) or not isinstance(maximum, (int, float)) or maximum <= 0:
        return None
    return {"scaled": max(-1.0, min(1.0, round(raw / maximum, 4))), "raw": raw, "min": min(0, raw), "max": maximum}



def _int(value: object) -> int | None:
    """An id kept as text in the stream (``object_id``, extras), or None when it is not one."""
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _rows(model: type, ids: set) -> dict:
    """Rows of ``model`` by id, in one query."""
    ids.discard(None)
    if not ids:
        return {}
    return {row.id: row for row in tk.db.session.scalars(select(model).where(model.id.in_(ids)))}


def _quiz_object(quiz: Quiz, **fields: Any) -> tk.XapiObject:
    """The quiz's page, named by its title in each language (course quizzes keep one per language)."""
    name = {tag: (quiz.titles or {}).get(locale) or quiz.title for tag, locale in LOCALES.items()}
    return tk.XapiObject(path=f"/quizzes/{quiz.id}", name=name, **fields)


def describe_started(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``quiz.started`` (object: the attempt's id): the quiz, and the attempt's registration."""
    quizzes = _rows(Quiz, {_int((a.extras or {}).get("quiz")) for a in activities})
    return {activity.id: _quiz_object(quiz, registration=registration(int(activity.object_id)))
            for activity in activities if (quiz := quizzes.get(_int((activity.extras or {}).get("quiz")))) is not None}


def describe_finished(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``quiz.attempted``/``passed``/``failed`` (object: the quiz): score, success, completion, duration."""
    quizzes = _rows(Quiz, {_int(a.object_id) for a in activities})
    attempts = _rows(Attempt, {_int((a.extras or {}).get("attempt")) for a in activities})
    described = {}
    for activity in activities:
        quiz, extras = quizzes.get(_int(activity.object_id)), activity.extras or {}
        if quiz is None:
            continue
        attempt = attempts.get(_int(extras.get("attempt")))
        result: dict[str, Any] = {"success": _success(activity, quiz, extras), "completion": True}
        if (points := score(extras.get("score"), extras.get("max_score"))) is not None:
            result["score"] = points
        if attempt is not None and attempt.submitted_at is not None:
            result["duration"] = tk.iso_duration((attempt.submitted_at - attempt.started_at).total_seconds())
        described[activity.id] = _quiz_object(
            quiz, result=result, registration=registration(attempt.id) if attempt is not None else None)
    return described


def _success(activity: tk.Activity, quiz: Quiz, extras: Mapping[str, Any]) -> bool:
    """Passed or failed by the verb; a finished attempt by its own percentage against the quiz's pass mark."""
    if activity.verb != "quiz.attempted":
        return activity.verb == "quiz.passed"
    percent = extras.get("percent")
    return isinstance(percent, (int, float)) and percent >= quiz.pass_percent


def describe_daily(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``daily_quiz.completed``: the daily quiz (one object for every day; the timestamp says which), its score."""
    name = tk.language_map(_l("Daily quiz"))
    described = {}
    for activity in activities:
        extras = activity.extras or {}
        result: dict[str, Any] = {"completion": True}
        if (points := score(extras.get("score"), extras.get("max_score"))) is not None:
            result["score"] = points
        described[activity.id] = tk.XapiObject(path="/quizzes/daily", name=name, result=result)
    return described

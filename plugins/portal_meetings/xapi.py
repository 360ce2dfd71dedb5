"""Meeting and notice verbs as xAPI statements (``portal_xapi_verbs``).

Attending is ADL's ``attended`` whether in the room or online (a context extension says which); a
meeting is named by its topic, with its kind as the description; a notice by its title (notices go
to a branch's members, so their titles are the branch's words, not anyone's private ones).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings.models import Meeting, Notice
from portal_meetings.vocabulary import KIND_LABELS

ADL = "http://adlnet.gov/expapi"


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mappings of attending a meeting (in the room, online) and signing for a notice."""
    attended = f"{ADL}/verbs/attended"
    return [
        tk.XapiVerb("meeting.attended", attended, tk.language_map(labels["meeting.attended"]),
                    f"{ADL}/activities/meeting", describe_meetings),
        tk.XapiVerb("meeting.attended_online", attended, tk.language_map(labels["meeting.attended_online"]),
                    f"{ADL}/activities/meeting", describe_meetings),
        tk.XapiVerb("notice.acknowledged", "/xapi/verbs/notice.acknowledged",
                    tk.language_map(labels["notice.acknowledged"]), tk.public_url("/xapi/activity-types/notice"),
                    describe_notices),
    ]


def _rows(model: type, activities: Sequence[tk.Activity]) -> dict[int, object]:
    """The rows of ``model`` the activities are about (``object_id``), in one query."""
    ids = {int(a.object_id) for a in activities if a.object_id.isdigit()}
    if not ids:
        return {}
    return {row.id: row for row in tk.db.session.scalars(select(model).where(model.id.in_(ids)))}


def describe_meetings(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``meeting.attended``/``meeting.attended_online``: the meeting by its topic, kind, and how it was attended."""
    meetings = _rows(Meeting, activities)
    mode = tk.public_url("/xapi/extensions/attendance")
    described = {}
    for activity in activities:
        meeting = meetings.get(int(activity.object_id)) if activity.object_id.isdigit() else None
        if meeting is None:
            continue
        kind = KIND_LABELS.get(meeting.kind)
        described[activity.id] = tk.XapiObject(
            path=f"/meetings/{meeting.id}", name=tk.language_map(meeting.topic),
            description=tk.language_map(kind) if kind is not None else None,
            extensions={mode: "online" if activity.verb == "meeting.attended_online" else "present"})
    return described


def describe_notices(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``notice.acknowledged``: the notice by its title."""
    notices = _rows(Notice, activities)
    return {activity.id: tk.XapiObject(path=f"/notices/{notice.id}", name=tk.language_map(notice.title))
            for activity in activities
            if (notice := notices.get(int(activity.object_id)) if activity.object_id.isdigit() else None) is not None}

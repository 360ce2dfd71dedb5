"""The development verb as an xAPI statement (``portal_xapi_verbs``).

Reaching a stage is said of the stage itself (one object per stage for everyone), never of the case
file with its vetting and notes.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mapping of ``development.stage`` (the portal's own verb)."""
    return [tk.XapiVerb("development.stage", "/xapi/verbs/development.stage",
                        tk.language_map(labels["development.stage"]),
                        tk.public_url("/xapi/activity-types/development-stage"), describe_stages)]


def describe_stages(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``development.stage``: the stage reached (kept in the stream's extras), by its name."""
    names = {stage: tk.language_map(_l("Stage: %(stage)s", stage=label))
             for stage, label in tk.STAGE_LABELS.items()}
    return {activity.id: tk.XapiObject(path=f"/development/stages/{stage}", name=names[stage])
            for activity in activities if (stage := (activity.extras or {}).get("stage")) in names}

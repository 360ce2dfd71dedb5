"""The standing verb as an xAPI statement (``portal_xapi_verbs``).

What the work was is written by the secretary about one member, so it stays out: the statement says
that assigned work was done, and when.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mapping of ``work.done`` (the portal's own verb)."""
    return [tk.XapiVerb("work.done", "/xapi/verbs/work.done", tk.language_map(labels["work.done"]),
                        tk.public_url("/xapi/activity-types/assigned-work"), describe_work)]


def describe_work(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``work.done``: the piece of assigned work, named as such."""
    name = tk.language_map(_l("Assigned work"))
    return {activity.id: tk.XapiObject(path=f"/standing/work/{activity.object_id}", name=name, result={"completion": True})
            for activity in activities}

"""The personal report verb as an xAPI statement (``portal_xapi_verbs``).

A report's words are the member's own: the statement names the report by its period only.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mapping of ``report.submitted`` (the portal's own verb)."""
    return [tk.XapiVerb("report.submitted", "/xapi/verbs/report.submitted", tk.language_map(labels["report.submitted"]),
                        tk.public_url("/xapi/activity-types/personal-report"), describe_reports)]


def describe_reports(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``report.submitted``: the report's page, named by its period (``2026-Q3``, kept in the stream's extras)."""
    described = {}
    for activity in activities:
        period = (activity.extras or {}).get("period")
        if period:
            described[activity.id] = tk.XapiObject(
                path=f"/reports/{activity.object_id}",
                name=tk.language_map(_l("Personal report for %(period)s", period=period)))
    return described

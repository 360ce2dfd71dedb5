"""Mobility verbs as xAPI statements (``portal_xapi_verbs``).

Where a member lives and works is theirs: no statement names a place, an employer or a phone. An
outflow is named as "Outflow registration", a reported change by the report page's title, and a
check-in or a contact by the branch concerned (branches are public facts of the organization).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

ADL = "http://adlnet.gov/expapi"


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mappings of the mobility verbs (registering an outflow is ADL's ``registered``; the rest the portal's)."""
    outflow, branch = tk.public_url("/xapi/activity-types/outflow"), tk.public_url("/xapi/activity-types/branch")
    return [
        tk.XapiVerb("mobility.registered", f"{ADL}/verbs/registered", tk.language_map(labels["mobility.registered"]),
                    outflow, describe_outflows),
        tk.XapiVerb("mobility.checked_in", "/xapi/verbs/mobility.checked_in",
                    tk.language_map(labels["mobility.checked_in"]), branch, describe_checkins),
        tk.XapiVerb("mobility.moved", "/xapi/verbs/mobility.moved", tk.language_map(labels["mobility.moved"]),
                    tk.public_url("/xapi/activity-types/change-report"), describe_moves),
        tk.XapiVerb("mobility.returned", "/xapi/verbs/mobility.returned", tk.language_map(labels["mobility.returned"]),
                    outflow, describe_outflows),
        tk.XapiVerb("contact.logged", "/xapi/verbs/contact.logged", tk.language_map(labels["contact.logged"]),
                    branch, describe_contacts),
    ]


def _unit_names(ids: set) -> dict[int, str]:
    """Branch names by id, in one query."""
    ids = {unit_id for unit_id in ids if isinstance(unit_id, int)}
    if not ids:
        return {}
    return dict(tk.db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.name).where(tk.OrgUnit.id.in_(ids))).all())


def _branches(activities: Sequence[tk.Activity], unit_of) -> dict[int, tk.XapiObject]:
    """Each activity's object: the branch ``unit_of(activity)`` names, by its page and its name."""
    names = _unit_names({unit_of(activity) for activity in activities})
    return {activity.id: tk.XapiObject(path=f"/units/{unit_id}", name=tk.language_map(names[unit_id]))
            for activity in activities if (unit_id := unit_of(activity)) in names}


def describe_outflows(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``mobility.registered``/``mobility.returned``: the outflow registration's page."""
    name = tk.language_map(_l("Outflow registration"))
    return {activity.id: tk.XapiObject(path=f"/mobility/outflows/{activity.object_id}", name=name)
            for activity in activities}


def describe_checkins(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``mobility.checked_in``: the host branch checked in at."""
    return _branches(activities, lambda activity: (activity.extras or {}).get("host_unit_id") or activity.host_unit_id)


def describe_contacts(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``contact.logged``: the home branch the member was in contact with."""
    return _branches(activities, lambda activity: activity.home_unit_id)


def describe_moves(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``mobility.moved``: the change report (what changed stays out: places and employers are personal)."""
    name = tk.language_map(_l("Report a change"))
    return {activity.id: tk.XapiObject(path="/mobility/report", name=name) for activity in activities}

"""Care verbs as xAPI statements (``portal_xapi_verbs``).

What a member asks for help with is theirs alone: a care request is named by its category only (never
its title, text or contact details) and a micro-wish by the word "micro-wish" (never its wording).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk
from portal_care.models import CareCategory
from portal_care.vocabulary import BUILTIN_CATEGORIES, URL_PREFIX


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mappings of the care verbs (the portal's own verb IRIs: xAPI's vocabulary has no asking for help)."""
    request_type = tk.public_url("/xapi/activity-types/care-request")
    return [
        tk.XapiVerb("care.requested", "/xapi/verbs/care.requested", tk.language_map(labels["care.requested"]),
                    request_type, describe_requests),
        tk.XapiVerb("care.resolved", "/xapi/verbs/care.resolved", tk.language_map(labels["care.resolved"]),
                    request_type, describe_requests),
        tk.XapiVerb("wish.fulfilled", "/xapi/verbs/wish.fulfilled", tk.language_map(labels["wish.fulfilled"]),
                    tk.public_url("/xapi/activity-types/micro-wish"), describe_wishes),
    ]


def category_names(keys: set[str]) -> dict[str, dict[str, str]]:
    """``{category key: language map}``: as admins renamed it, else the built-in name in each language (one query)."""
    keys.discard(None)  # type: ignore[arg-type]
    rows = {row.key: row for row in tk.db.session.scalars(select(CareCategory).where(CareCategory.key.in_(keys)))} \
        if keys else {}
    names = {}
    for key in keys:
        row, builtin = rows.get(key), BUILTIN_CATEGORIES.get(key)
        if row is not None and row.label:
            names[key] = tk.language_map(row.label)
        else:
            names[key] = tk.language_map(builtin if builtin is not None else key)
    return names


def describe_requests(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``care.requested``/``care.resolved``: the request, named by its category (kept in the stream's extras)."""
    names = category_names({(a.extras or {}).get("category") for a in activities})
    return {activity.id: tk.XapiObject(path=f"{URL_PREFIX}/requests/{activity.object_id}", name=names[category])
            for activity in activities if (category := (activity.extras or {}).get("category")) in names}


def describe_wishes(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``wish.fulfilled``: the micro-wish, named as such (its wording is the wisher's)."""
    name = tk.language_map(_l("Micro-wish"))
    return {activity.id: tk.XapiObject(path=f"{URL_PREFIX}/wishes/{activity.object_id}", name=name)
            for activity in activities}

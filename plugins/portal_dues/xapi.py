"""The dues verb as an xAPI statement (``portal_xapi_verbs``).

Dues follow income, so no statement carries an amount: paying is said of the month's dues, one
object per month for everyone.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

MONTH = re.compile(r"\d{4}-\d{2}")


def xapi_verbs(labels: Mapping[str, object]) -> list[tk.XapiVerb]:
    """The mapping of ``dues.paid`` (the portal's own verb: xAPI's vocabulary does not pay)."""
    return [tk.XapiVerb("dues.paid", "/xapi/verbs/dues.paid", tk.language_map(labels["dues.paid"]),
                        tk.public_url("/xapi/activity-types/dues-month"), describe_months)]


def describe_months(activities: Sequence[tk.Activity]) -> dict[int, tk.XapiObject]:
    """``dues.paid``: the month's dues (``2026-11``, kept in the stream's extras)."""
    described = {}
    for activity in activities:
        month = (activity.extras or {}).get("month")
        if isinstance(month, str) and MONTH.fullmatch(month):
            described[activity.id] = tk.XapiObject(path=f"/dues/months/{month}",
                                                   name=tk.language_map(_l("Dues for %(month)s", month=month)))
    return described

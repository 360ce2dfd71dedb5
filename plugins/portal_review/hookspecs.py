"""Hooks the review plugin publishes (added through ``portal_addhooks``)."""
from __future__ import annotations

from datetime import date
from typing import Any

from portal import toolkit as tk


@tk.hookspec
def portal_review_evidence(member: tk.Member, since: date, until: date) -> dict[str, Any] | None:
    """This plugin's evidence of ``member``'s year for the annual review (民主评议), or None when it has none.

    Called on enabled plugins only (a disabled plugin's key is then absent, never zero); read only. Implement
    with ``@tk.hookimpl(optionalhook=True)``.

    :param member: the member reviewed.
    :param since: the first local day of the period (1 January of the round's year).
    :param until: the last local day of the period (31 December, or today while the year runs).
    :returns: ``{"key": "meetings", "label": lazy string, "figures": {...} or a number,
              "lines": [(label, value), ...]}`` — ``figures`` is what the API answers under ``key``
              (e.g. ``{"attended": 10, "missed": 2}``), ``lines`` what the member's page and the year's PDF show.
    """

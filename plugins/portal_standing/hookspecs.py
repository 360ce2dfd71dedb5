"""Hooks the standing plugin publishes (added through ``portal_addhooks``)."""
from __future__ import annotations

from portal import toolkit as tk


@tk.hookspec
def portal_standing_verbs() -> dict[str, list[str]]:
    """Which activity verbs keep a member in good standing, per dimension.

    The dimensions are ``branch_life`` (a meeting attended anywhere, online counts), ``dues``
    (a month's dues paid) and ``work`` (assigned work done). The meetings plugin answers
    ``{"branch_life": ["meeting.attended", "meeting.attended_online"]}``; a volunteering plugin may add
    ``{"work": ["volunteer.served"]}``. Called whenever standing is computed; only enabled plugins
    are called; no database work. Implement it with ``@tk.hookimpl(optionalhook=True)``.

    :returns: ``{dimension: [verb, …]}``; the answers of all plugins are merged.
    """

"""Hooks the reports plugin publishes (added through ``portal_addhooks``)."""
from __future__ import annotations

from portal import toolkit as tk


@tk.hookspec
def portal_report_mentors(member: tk.Member) -> list[int]:
    """Accounts of ``member``'s mentors (培养联系人), who receive and may read their personal reports.

    Called when a report is submitted and when someone opens one; only enabled plugins are called;
    read-only (no writes). A development plugin implements it with ``@tk.hookimpl(optionalhook=True)``.

    :param member: the report's author.
    :returns: account ids (an empty list when the plugin knows no mentor).
    """

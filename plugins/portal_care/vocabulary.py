"""The care vocabularies: categories (admins rename, hide and add them), urgencies, statuses, limits."""
from __future__ import annotations

from flask import g, has_request_context
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

from .models import CareCategory

PLUGIN = "care"
URL_PREFIX = "/care"

BUILTIN_CATEGORIES: dict[str, object] = {
    "schooling": _l("Children's schooling"),
    "medical": _l("Medical care"),
    "wages": _l("Unpaid wages / legal help"),
    "employment": _l("Employment help"),
    "skills": _l("Skills training"),
    "family": _l("Family back home"),
    "hardship": _l("Hardship"),
    "other": _l("Other"),
}
URGENCIES = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
WHERE = {"hometown": _l("In my hometown"), "host": _l("Where I live and work now (host city)")}
CONTACT_PREFS = {"phone": _l("Phone call"), "message": _l("Text message"), "in_app": _l("Messages in the portal"),
                 "visit": _l("A visit")}
SUPPORT_KINDS = {"advice": _l("Advice"), "referral": _l("Referral"), "legal": _l("Legal aid"),
                 "money": _l("Money"), "in_kind": _l("In kind"), "visit": _l("Visit / condolence"),
                 "other": _l("Other")}
STATUSES = {
    "new": _l("New"), "accepted": _l("Accepted"), "in_progress": _l("In progress"),
    "waiting_for_member": _l("Waiting for the member"), "reopened": _l("Reopened"),
    "resolved": _l("Resolved"), "closed": _l("Closed"), "rejected": _l("Rejected"),
}
OPEN_STATUSES = ("new", "accepted", "in_progress", "waiting_for_member", "reopened")
ROUTED_BY = {"home": _l("Home branch (need in the hometown)"), "host": _l("Host branch (member consented)"),
             "no_consent": _l("Home branch (no consent to share with the host branch)"),
             "no_host": _l("Home branch (the member has no host branch)"), "rule": _l("Routing rule for the category")}
WISH_STATUSES = {"pending": _l("Waiting for approval"), "rejected": _l("Not approved"), "open": _l("Open"),
                 "claimed": _l("Claimed"), "fulfilled": _l("Fulfilled, waiting for confirmation"),
                 "confirmed": _l("Confirmed")}
TITLE_MAX, TEXT_MAX = 200, 5000


def _category_rows() -> dict:
    """Admins' category rows, read once per request."""
    cached = g.get("_care_categories") if has_request_context() else None
    if cached is None:
        cached = {row.key: row for row in tk.db.session.scalars(select(CareCategory))}
        if has_request_context():
            g._care_categories = cached
    return cached


def categories(include_inactive: bool = False) -> list[tuple[str, str, bool]]:
    """``[(key, label, active)]``: built-ins as admins changed them, then categories admins added."""
    rows = _category_rows()
    result = []
    for position, (key, label) in enumerate(BUILTIN_CATEGORIES.items()):
        row = rows.get(key)
        result.append((row.position if row else position * 10, key, (row.label if row and row.label else str(label)),
                       row.active if row else True))
    for key, row in rows.items():
        if key not in BUILTIN_CATEGORIES:
            result.append((row.position, key, row.label or key, row.active))
    result.sort(key=lambda item: (item[0], item[1]))
    return [(key, label, active) for _pos, key, label, active in result if active or include_inactive]


def category_label(key: str) -> str:
    """The category's name as :func:`categories` gives it (or the key), without building the whole list.

    Lists call this once per row: translating every built-in name for each row cost a fifth of the queue page.
    """
    row = _category_rows().get(key)
    if row is not None and row.label:
        return row.label
    builtin = BUILTIN_CATEGORIES.get(key)
    return str(builtin) if builtin is not None else key


def save_category(key: str, label: str | None, active: bool, position: int) -> CareCategory:
    """Rename, hide or add a category (caller commits)."""
    row = tk.db.session.get(CareCategory, key) or CareCategory(key=key)
    row.label = (label or "").strip() or None
    row.active = active
    row.position = position
    tk.db.session.add(row)
    if has_request_context():
        g.pop("_care_categories", None)
    return row

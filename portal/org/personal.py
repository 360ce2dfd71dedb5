"""A member's personal data: the core's sections, the plugins' sections, the page and the JSON export.

Every section is a :class:`~portal.plugins.types.PersonalSection` (typed columns
with translated labels). The page shows them in the reader's language and time
zone; the export (:func:`export_document`) keeps machine keys, codes and ISO
timestamps, and describes itself in ``schema`` (see docs/architecture.md,
"Personal data").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.activity.models import Activity
from portal.badges.models import BadgeAssertion
from portal.extensions import db
from portal.org.labels import EDUCATION_LABELS, GENDER_LABELS, STAGE_LABELS
from portal.org.models import Member
from portal.plugins.manager import CORE_PLUGIN, call_each, call_list
from portal.plugins.types import PersonalColumn, PersonalSection
from portal.timeutil import isoformat
from portal.web.formatting import fmt_date, fmt_datetime, fmt_number

#: Version of the export's layout; bump it when keys or types change meaning.
EXPORT_FORMAT = "portal-personal-data/2"
#: How many rows of a section the page shows (the export has them all).
PAGE_ROWS = 50


def core_sections(member: Member) -> list[PersonalSection]:
    """The profile, the activity stream and the Open Badges of ``member``."""
    profile = PersonalSection("profile", _l("Profile"), (
        ("name", _l("Name")), ("gender", _l("Gender"), "choice", GENDER_LABELS),
        ("birth_date", _l("Date of birth"), "date"), ("ethnicity", _l("Ethnicity")),
        ("education", _l("Education"), "choice", EDUCATION_LABELS), ("phone", _l("Phone")),
        ("id_number", _l("ID number")), ("stage", _l("Stage"), "choice", STAGE_LABELS),
        ("joined_on", _l("Joined on"), "date"), ("occupation", _l("Occupation")), ("industry", _l("Industry")),
        ("employer", _l("Employer")), ("current_province", _l("Current province")),
        ("current_city", _l("Current city")), ("home_unit", _l("Home branch")), ("host_unit", _l("Host branch")),
        ("is_away", _l("Working away from home"), "bool"), ("lost_contact", _l("Out of contact"), "bool"),
        ("hide_from_public_boards", _l("Hidden from public boards"), "bool"),
        ("last_active_at", _l("Last active"), "datetime"), ("created_at", _l("Created"), "datetime"),
        ("updated_at", _l("Last changed"), "datetime"),
    ), [_profile_row(member)])
    verbs = {v.verb: v.label for v in call_list("portal_activity_verbs")}
    activities = PersonalSection("activities", _l("Activities"), (
        ("at", _l("When"), "datetime"), ("verb", _l("What"), "choice", verbs),
        # the record an activity is about and its details are internal references: export only
        PersonalColumn("object_type", _l("Kind of record"), on_page=False),
        PersonalColumn("object_id", _l("Record reference"), on_page=False),
        PersonalColumn("extras", _l("Details"), "lines", on_page=False),
    ), [{"at": a.created_at, "verb": a.verb, "object_type": a.object_type, "object_id": a.object_id,
         "extras": a.extras or {}}
        for a in db.session.scalars(select(Activity).where(Activity.actor_id == member.id)
                                    .order_by(Activity.created_at.desc()).limit(5000))])
    return [profile, activities, _badges_section(member)]


def _badges_section(member: Member) -> PersonalSection:
    """The member's Open Badges: what was awarded, when, whether revoked, and where it can be checked."""
    assertions = db.session.scalars(select(BadgeAssertion).where(BadgeAssertion.member_id == member.id)
                                    .order_by(BadgeAssertion.issued_at.desc()))
    return PersonalSection("badges", _l("Open Badges"), (
        ("badge", _l("Badge")), ("issued_at", _l("Awarded"), "datetime"), ("revoked_at", _l("Revoked"), "datetime"),
        ("revocation_reason", _l("Reason for revocation")),
        ("recipient_type", _l("Recipient named by"), "choice",
         {"email": _l("E-mail address (hashed)"), "url": _l("Portal identity (hashed)")}),
        ("assertion", _l("Address for checking"), "url"),
    ), [{"badge": a.badge_class.name, "issued_at": a.issued_at, "revoked_at": a.revoked_at,
         "revocation_reason": a.revocation_reason or None, "recipient_type": a.recipient_type,
         "assertion": f"/badges/assertions/{a.uid}"} for a in assertions])


def _profile_row(member: Member) -> dict[str, Any]:
    row = {key: getattr(member, key) for key in (
        "name", "gender", "birth_date", "ethnicity", "education", "phone", "id_number", "stage", "joined_on",
        "occupation", "industry", "employer", "current_province", "current_city", "is_away", "lost_contact",
        "hide_from_public_boards", "last_active_at", "created_at", "updated_at")}
    row["home_unit"] = member.home_unit.name if member.home_unit else None
    row["host_unit"] = member.host_unit.name if member.host_unit else None
    return row


def personal_sections(member: Member) -> list[PersonalSection]:
    """Every section from the core and the enabled plugins (``portal_personal_data``).

    Plugins' section keys are prefixed with the plugin's name (``quizzes.attempts``), the core's are not.
    """
    sections: list[PersonalSection] = []
    results = sorted(call_each("portal_personal_data", member=member), key=lambda pair: pair[0] != CORE_PLUGIN)
    for plugin, result in results:
        if isinstance(result, dict):  # the old shape {title: [row dicts]} of third-party plugins
            result = [_legacy_section(title, rows) for title, rows in result.items()]
        prefix = "" if plugin == CORE_PLUGIN else f"{plugin}."
        sections += [PersonalSection(prefix + s.key, s.title, s.columns, list(s.rows)) for s in result]
    return sections


def _legacy_section(title: Any, rows: list[dict]) -> PersonalSection:
    keys: list[str] = []
    for row in rows:
        keys += [key for key in row if key not in keys]
    columns = tuple(PersonalColumn(key, _(key.replace("_", " ").capitalize()),
                                   _guess_kind([row.get(key) for row in rows])) for key in keys)
    return PersonalSection(str(title), title, columns, list(rows))


def _guess_kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, datetime) for v in present):
        return "datetime"
    if present and all(isinstance(v, date) and not isinstance(v, datetime) for v in present):
        return "date"
    if present and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present):
        return "number"
    if any(isinstance(v, (dict, list, tuple)) for v in present):
        return "lines"
    return "text"


# -- the export ----------------------------------------------------------------


def export_document(member: Member | None, account: Any) -> dict[str, Any]:
    """The JSON export: ``format``, ``account``, ``sections`` (``{key: [rows]}``) and their ``schema``."""
    sections = personal_sections(member) if member else []
    return {
        "format": EXPORT_FORMAT,
        "account": {"username": account.username, "display_name": account.display_name,
                    "phone": account.phone, "email": account.email, "locale": account.locale},
        "sections": {s.key: [{c.key: _machine(row.get(c.key)) for c in s.columns} for row in s.rows]
                     for s in sections},
        "schema": {s.key: {"title": str(s.title), "fields": {c.key: _field_schema(c) for c in s.columns}}
                   for s in sections},
    }


def _field_schema(column: PersonalColumn) -> dict[str, Any]:
    described: dict[str, Any] = {"label": str(column.label), "type": column.kind, "on_page": column.on_page}
    if column.choices:  # a choice's codes, or the keys of a lines field's dicts
        described["choices" if column.kind == "choice" else "keys"] = {
            str(code): str(text) for code, text in column.choices.items()}
    return described


def _machine(value: Any) -> Any:
    """A JSON value: ISO 8601 with offset for times, JSON numbers for decimals, nested values kept."""
    if isinstance(value, (date, datetime)):
        return isoformat(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _machine(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_machine(v) for v in value]
    return value


# -- the page ------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value as the page shows it: ``text``, or ``lines`` (one per line), or a link to ``href``."""

    text: str = ""
    lines: tuple[str, ...] = ()
    href: str = ""


@dataclass(frozen=True)
class SectionView:
    """A section ready for the template: translated title and headers, formatted cells, the row count."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    total: int


def page_sections(member: Member) -> list[SectionView]:
    """Every section of ``member`` formatted for the reader (first :data:`PAGE_ROWS` rows of each)."""
    views = []
    for section in personal_sections(member):
        columns = [c for c in section.columns if c.on_page]
        views.append(SectionView(section.key, str(section.title), tuple(str(c.label) for c in columns),
                                 [tuple(display_cell(c, row.get(c.key)) for c in columns)
                                  for row in section.rows[:PAGE_ROWS]], len(section.rows)))
    return views


def display_cell(column: PersonalColumn, value: Any) -> Cell:
    """``value`` of ``column`` in the reader's language and time zone."""
    if value is None or value == "":
        return Cell()
    if column.kind == "lines" or isinstance(value, (dict, list, tuple)):
        return Cell(lines=tuple(_lines(value, column.choices or {})))
    if column.kind == "datetime" and isinstance(value, datetime):
        return Cell(fmt_datetime(value))
    if column.kind in ("date", "datetime") and isinstance(value, date):
        return Cell(fmt_date(value))
    if column.kind == "bool":
        return Cell(_("yes") if value else _("no"))
    if column.kind == "number" and isinstance(value, (int, float, Decimal)):
        return Cell(fmt_number(value))
    if column.kind == "choice":
        return Cell(str((column.choices or {}).get(value, value)))
    if column.kind == "url":
        return Cell(str(value), href=str(value))
    return Cell(_display_scalar(value))


def _lines(value: Any, key_labels: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key_labels.get(k, k)}: {_display_scalar(v)}" for k, v in value.items()]
    return [_display_scalar(v) for v in value]


def _display_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_display_scalar(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_display_scalar(v) for v in value)
    return "" if value is None else str(value)

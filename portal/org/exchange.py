"""Member lists in and out of spreadsheets (export here; import in ``importer``).

The column titles are shared: whatever the export writes, in any language the
portal speaks, the importer reads back.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.org import labels
from portal.org.models import Member, OrgUnit, in_subtree

#: ``(field, title)`` of the exported columns, in order.
EXPORT_COLUMNS = (
    ("name", _l("Name")), ("gender", _l("Gender")), ("birth_date", _l("Birth date")), ("ethnicity", _l("Ethnicity")),
    ("education", _l("Education")), ("phone", _l("Phone number")), ("stage", _l("Membership stage")),
    ("joined_on", _l("Date joined")), ("occupation", _l("Occupation")), ("industry", _l("Industry")),
    ("employer", _l("Employer")), ("current_province", _l("Current province")), ("current_city", _l("Current city")),
    ("home_unit", _l("Home branch")), ("host_unit", _l("Host branch")), ("is_away", _l("Away")),
    ("lost_contact", _l("Lost contact")), ("last_active", _l("Last active")),
)
#: Columns the importer also reads (the export leaves them out).
IMPORT_ONLY_COLUMNS = (("id_number", _l("National ID number")), ("notes", _l("Notes")), ("username", _l("Username")))


def member_export_headers() -> list[str]:
    """Column titles in the user's language (also accepted by the importer)."""
    return [str(title) for _field, title in EXPORT_COLUMNS]


def member_export_rows(members: Iterable[Member]) -> Iterator[list]:
    """One row per member, coded values translated. National ID numbers are never exported."""
    for m in members:
        yield [m.name, labels.label(labels.GENDER_LABELS, m.gender), m.birth_date, m.ethnicity,
               labels.label(labels.EDUCATION_LABELS, m.education), m.phone,
               labels.label(labels.STAGE_LABELS, m.stage), m.joined_on, m.occupation, m.industry, m.employer,
               m.current_province, m.current_city, m.home_unit.name if m.home_unit else "",
               m.host_unit.name if m.host_unit else "", _("yes") if m.is_away else _("no"),
               _("yes") if m.lost_contact else _("no"), m.last_active_at]


def unit_members_query(unit: OrgUnit):
    """Members whose home unit lies in ``unit``'s subtree, in export order."""
    return (select(Member).where(Member.home_unit.has(in_subtree(OrgUnit.path, unit.path)))
            .order_by(Member.home_unit_id, Member.name, Member.id))


def export_unit_members(unit: OrgUnit) -> bytes:
    """The ``.xlsx`` workbook of ``unit``'s members (used by ``portal export members``)."""
    from portal.web.exports import xlsx_bytes

    members = db.session.scalars(unit_members_query(unit))
    return xlsx_bytes(member_export_headers(), member_export_rows(members), title=_("Members"))

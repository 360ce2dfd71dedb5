"""Member lists in and out of spreadsheets (export here; import in ``importer``)."""
from __future__ import annotations

from typing import Iterable, Iterator

from flask_babel import gettext as _

from portal.org import labels
from portal.org.models import Member


def member_export_headers() -> list[str]:
    """Column titles in the user's language (also accepted by the importer)."""
    return [_("Name"), _("Gender"), _("Birth date"), _("Ethnicity"), _("Education"), _("Phone number"),
            _("Membership stage"), _("Date joined"), _("Occupation"), _("Industry"), _("Employer"),
            _("Current province"), _("Current city"), _("Home branch"), _("Host branch"), _("Away"),
            _("Lost contact"), _("Last active")]


def member_export_rows(members: Iterable[Member]) -> Iterator[list]:
    """One row per member, coded values translated. National ID numbers are never exported."""
    for m in members:
        yield [m.name, labels.label(labels.GENDER_LABELS, m.gender), m.birth_date, m.ethnicity,
               labels.label(labels.EDUCATION_LABELS, m.education), m.phone,
               labels.label(labels.STAGE_LABELS, m.stage), m.joined_on, m.occupation, m.industry, m.employer,
               m.current_province, m.current_city, m.home_unit.name if m.home_unit else "",
               m.host_unit.name if m.host_unit else "", _("yes") if m.is_away else _("no"),
               _("yes") if m.lost_contact else _("no"), m.last_active_at]

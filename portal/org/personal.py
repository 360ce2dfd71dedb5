"""A member's personal data export: the core's part and the plugins' parts."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.activity.models import Activity
from portal.extensions import db
from portal.org.models import Member
from portal.plugins.manager import call_each
from portal.timeutil import isoformat


def _plain(value: Any) -> Any:
    return isoformat(value) if isinstance(value, (date, datetime)) else value


def core_personal_data(member: Member) -> dict[str, list[dict]]:
    """The profile and the activity stream of ``member``."""
    profile = {column.name: _plain(getattr(member, column.name)) for column in Member.__table__.columns}
    profile["home_unit"] = member.home_unit.name if member.home_unit else None
    profile["host_unit"] = member.host_unit.name if member.host_unit else None
    activities = [
        {"at": _plain(a.created_at), "verb": a.verb, "object_type": a.object_type, "object_id": a.object_id,
         "extras": a.extras}
        for a in db.session.scalars(select(Activity).where(Activity.actor_id == member.id)
                                    .order_by(Activity.created_at.desc()).limit(5000))
    ]
    return {_("Profile"): [profile], _("Activities"): activities}


def personal_data(member: Member) -> dict[str, list[dict]]:
    """Every section from the core and the enabled plugins (``portal_personal_data``)."""
    sections: dict[str, list[dict]] = {}
    for _plugin, result in call_each("portal_personal_data", member=member):
        for title, rows in result.items():
            sections[str(title)] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return sections

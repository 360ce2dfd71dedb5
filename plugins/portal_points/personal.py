"""What points hold about a member (personal data export) and their part of the member summary."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_points.models import PointsBadge, PointsEntry
from portal_points.reports import participation
from portal_points.services import badge_label, badges_of, entry_reason, level_for, member_total


def personal_data(member) -> list[tk.PersonalSection]:
    """Every ledger entry (with its reason) and badge of ``member``."""
    entries = tk.db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id)
                                    .order_by(PointsEntry.id))
    badges = tk.db.session.scalars(select(PointsBadge).where(PointsBadge.member_id == member.id))
    return [
        tk.PersonalSection("entries", _l("Points"), (
            ("date", _l("Date"), "datetime"), ("points", _l("Points"), "number"), ("reason", _l("Reason")),
        ), [{"date": e.created_at, "points": e.points, "reason": entry_reason(e)} for e in entries]),
        tk.PersonalSection("badges", _l("Badges"), (
            ("badge", _l("Badge")), ("date", _l("Awarded"), "datetime"),
        ), [{"badge": badge_label(b), "date": b.awarded_at} for b in badges]),
    ]


def member_summary(member, since: date | datetime | None, until: date | datetime | None) -> list[tuple[str, object]]:
    """Points earned in the period, the level reached and the badges held (open ends: all time, today)."""
    start = tk.local_date(since) if isinstance(since, datetime) else (since or date(2000, 1, 1))
    end = tk.local_date(until) if isinstance(until, datetime) else (until or tk.local_today())
    row = participation([member], start, end)[0]
    total = member_total(member.id)
    pairs = [(_("Points in this period"), row.total), (_("Points level"), level_for(total).number)]
    badges = badges_of(member.id)
    if badges:
        pairs.append((_("Badges"), ", ".join(badge_label(b) for b in badges)))
    return pairs


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's points evidence: the total earned in ``since..until`` (local days, inclusive)."""
    total = participation([member], since, until)[0].total
    return {"key": "points", "label": _l("Points"), "figures": total,
            "lines": [(_("Points earned in the year"), total)]}

"""What care holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk

from .models import CareRequest, CareWish
from .vocabulary import category_label


def personal_data(member) -> dict:
    """The member's requests, the comments on them (never internal notes) and their wishes."""
    requests = list(tk.db.session.scalars(select(CareRequest).where(CareRequest.member_id == member.id)
                                          .order_by(CareRequest.created_at)))
    rows, comments = [], []
    for req in requests:
        rows.append({"id": req.id, "created_at": req.created_at, "category": category_label(req.category),
                     "title": req.title, "description": req.description, "urgency": req.urgency, "where": req.where,
                     "contact_pref": req.contact_pref, "contact_detail": req.contact_detail,
                     "consent_host": req.consent_host, "unit": req.unit.name, "status": req.status,
                     "reject_reason": req.reject_reason, "resolution_summary": req.resolution_summary,
                     "support_kind": req.support_kind,
                     "support_amount": str(req.support_amount) if req.support_amount is not None else None,
                     "rating": req.rating, "rating_comment": req.rating_comment,
                     "attachments": ", ".join(a.original_name for a in req.attachments if not a.internal)})
        for event in req.events:
            if event.internal or not event.body:
                continue
            comments.append({"request_id": req.id, "at": event.created_at, "kind": event.kind,
                             "by": event.account.display_name if event.account else "", "text": event.body})
    wishes = [{"id": w.id, "created_at": w.created_at, "title": w.title, "description": w.description,
               "status": w.status}
              for w in tk.db.session.scalars(select(CareWish).where(CareWish.member_id == member.id))]
    return {_("Care requests"): rows, _("Care request comments"): comments, _("Micro-wishes"): wishes}


def member_summary(member, since: datetime, until: datetime) -> list[tuple[str, int]]:
    filed = tk.count(select(CareRequest).where(
        CareRequest.member_id == member.id, CareRequest.created_at >= since, CareRequest.created_at < until))
    helped = tk.count(select(tk.Activity).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "care.resolved",
        tk.Activity.created_at >= since, tk.Activity.created_at < until))
    wishes = tk.count(select(tk.Activity).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "wish.fulfilled",
        tk.Activity.created_at >= since, tk.Activity.created_at < until))
    return [(_("Care requests filed"), filed), (_("Care requests resolved as handler"), helped),
            (_("Micro-wishes fulfilled"), wishes)]

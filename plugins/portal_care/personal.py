"""What care holds about a member (personal data export) and its part of the member summary."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from .models import CareRequest, CareWish
from .vocabulary import CONTACT_PREFS, STATUSES, SUPPORT_KINDS, URGENCIES, WHERE, WISH_STATUSES, category_label

#: What a timeline entry the member may see is (the ``kind`` of a request event).
EVENT_KINDS = {"comment": _l("Comment"), "status": _l("Status change"), "assigned": _l("Assigned"),
               "escalated": _l("Passed up"), "rated": _l("Rating")}


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's requests, the comments on them (never internal notes) and their wishes."""
    requests = list(tk.db.session.scalars(select(CareRequest).where(CareRequest.member_id == member.id)
                                          .order_by(CareRequest.created_at)))
    rows, comments = [], []
    for req in requests:
        rows.append({"id": req.id, "created_at": req.created_at, "category": req.category,
                     "title": req.title, "description": req.description, "urgency": req.urgency, "where": req.where,
                     "contact_pref": req.contact_pref, "contact_detail": req.contact_detail,
                     "consent_host": req.consent_host, "unit": req.unit.name, "status": req.status,
                     "reject_reason": req.reject_reason, "resolution_summary": req.resolution_summary,
                     "support_kind": req.support_kind, "support_amount": req.support_amount,
                     "rating": req.rating, "rating_comment": req.rating_comment,
                     "attachments": [a.original_name for a in req.attachments if not a.internal]})
        for event in req.events:
            if event.internal or not event.body:
                continue
            comments.append({"request_id": req.id, "at": event.created_at, "kind": event.kind,
                             "by": event.account.display_name if event.account else "", "text": event.body})
    wishes = [{"id": w.id, "created_at": w.created_at, "title": w.title, "description": w.description,
               "status": w.status}
              for w in tk.db.session.scalars(select(CareWish).where(CareWish.member_id == member.id))]
    categories = {req.category: category_label(req.category) for req in requests}
    return [
        tk.PersonalSection("requests", _l("Care requests"), (
            ("id", _l("Number"), "number"), ("created_at", _l("Filed"), "datetime"),
            ("category", _l("Category"), "choice", categories), ("title", _l("Title")),
            ("description", _l("Description")), ("urgency", _l("Urgency"), "choice", URGENCIES),
            ("where", _l("Where help is needed"), "choice", WHERE),
            ("contact_pref", _l("How to contact me"), "choice", CONTACT_PREFS),
            ("contact_detail", _l("Contact details")), ("consent_host", _l("Host branch may see it"), "bool"),
            ("unit", _l("Handled by")), ("status", _l("Status"), "choice", STATUSES),
            ("reject_reason", _l("Reason for rejection")), ("resolution_summary", _l("Resolution")),
            ("support_kind", _l("Kind of support"), "choice", SUPPORT_KINDS),
            ("support_amount", _l("Amount"), "number"), ("rating", _l("Rating"), "number"),
            ("rating_comment", _l("Rating comment")), ("attachments", _l("Attachments"), "lines"),
        ), rows),
        tk.PersonalSection("comments", _l("Care request comments"), (
            ("request_id", _l("Request number"), "number"), ("at", _l("When"), "datetime"),
            ("kind", _l("Type of entry"), "choice", EVENT_KINDS), ("by", _l("By")), ("text", _l("Text")),
        ), comments),
        tk.PersonalSection("wishes", _l("Micro-wishes"), (
            ("id", _l("Number"), "number"), ("created_at", _l("Posted"), "datetime"), ("title", _l("Title")),
            ("description", _l("Description")), ("status", _l("Status"), "choice", WISH_STATUSES),
        ), wishes),
    ]


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


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's care evidence for local days ``since..until``.

    ``requests``: care requests the member filed; ``wishes_fulfilled``: micro-wishes they fulfilled for
    others (their volunteering); ``resolved``: requests they resolved as the handler.
    """
    start, end = tk.local_day_bounds(since)[0], tk.local_day_bounds(until)[1]
    filed = tk.count(select(CareRequest).where(
        CareRequest.member_id == member.id, CareRequest.created_at >= start, CareRequest.created_at < end))
    verbs = dict(tk.db.session.execute(
        select(tk.Activity.verb, func.count(tk.Activity.id))
        .where(tk.Activity.actor_id == member.id, tk.Activity.verb.in_(("care.resolved", "wish.fulfilled")),
               tk.Activity.created_at >= start, tk.Activity.created_at < end)
        .group_by(tk.Activity.verb)).all())
    figures = {"requests": filed, "wishes_fulfilled": verbs.get("wish.fulfilled", 0),
               "resolved": verbs.get("care.resolved", 0)}
    return {"key": "care", "label": _l("Care"), "figures": figures,
            "lines": [(_("Care requests filed"), filed), (_("Micro-wishes fulfilled"), figures["wishes_fulfilled"]),
                      (_("Care requests resolved as handler"), figures["resolved"])]}

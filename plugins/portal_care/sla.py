"""Response and resolution targets, overdue requests, and their escalation by ``portal alerts scan``."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from portal import toolkit as tk

from .models import CareEvent, CareRequest
from .notices import notify_accounts
from .vocabulary import OPEN_STATUSES, PLUGIN, STATUSES, URL_PREFIX

#: The settings' defaults: ``{urgency: (first response hours, resolution hours)}``.
SLA_DEFAULTS = {"urgent": (4, 72), "high": (24, 168), "normal": (48, 336), "low": (72, 720)}


def sla_hours(urgency: str) -> tuple[int, int]:
    """(first response, resolution) targets in hours for ``urgency`` (settings)."""
    return (int(tk.get_setting(PLUGIN, f"sla_response_hours_{urgency}") or 48),
            int(tk.get_setting(PLUGIN, f"sla_resolution_hours_{urgency}") or 336))


def is_open(req: CareRequest) -> bool:
    return req.status in OPEN_STATUSES


def overdue_kind(req: CareRequest, now: datetime) -> str | None:
    """``"response"`` or ``"resolution"`` when an open request missed a target, else None."""
    if not is_open(req):
        return None
    if req.first_response_at is None and req.respond_due_at < now:
        return "response"
    if req.resolve_due_at < now:
        return "resolution"
    return None


def overdue_condition(now: datetime):
    """SQL: open requests past one of their targets."""
    return and_(CareRequest.status.in_(OPEN_STATUSES), or_(
        and_(CareRequest.first_response_at.is_(None), CareRequest.respond_due_at < now),
        CareRequest.resolve_due_at < now))


def due_at(req: CareRequest) -> datetime | None:
    """The next target date: first response while nobody answered, else resolution (None once done)."""
    if not is_open(req):
        return None
    return req.respond_due_at if req.first_response_at is None else req.resolve_due_at


#: Who acts on an overdue request (the one rule: the nearest unit up the tree with someone holding it).
PERMISSION = "care.manage"


def escalation_target(req: CareRequest):
    """The unit an overdue request escalates to: the next unit with someone to act above the one it last reached.

    Not yet escalated, it reached whoever answers for its routing unit (the
    unit itself, or the parent of a branch without a secretary).
    """
    base = tk.db.session.get(tk.OrgUnit, req.escalated_unit_id) if req.escalated_unit_id else \
        tk.responsible_accounts(req.unit, PERMISSION)[0] or req.unit
    target, _accounts = tk.responsible_accounts(base.parent or base, PERMISSION)
    return target or base


def scan(now: datetime) -> list:
    """Escalate overdue requests one level up per missed target; auto-close long-resolved ones.

    Each missed target (first response, resolution) escalates once (its
    ``…_escalated_at`` is the marker): the request is shown to the next unit up
    with someone to act (:func:`tk.responsible_accounts`), an internal note is
    written, an ``Alert`` for that unit's people is returned, and the requester
    is told to whom it went. A reopened request may escalate again.
    """
    alerts = []
    for req in tk.db.session.scalars(select(CareRequest).where(overdue_condition(now)).order_by(CareRequest.id)):
        kinds = []
        if req.first_response_at is None and req.respond_due_at < now and req.response_escalated_at is None:
            kinds.append("response")
        if req.resolve_due_at < now and req.resolution_escalated_at is None:
            kinds.append("resolution")
        for kind in kinds:
            target = escalation_target(req)
            req.escalated_unit_id = target.id
            if kind == "response":
                req.response_escalated_at = now
                text = _("No first response by %(due)s: escalated to %(unit)s.", due=tk.fmt_datetime(req.respond_due_at),
                         unit=target.name)
            else:
                req.resolution_escalated_at = now
                text = _("Not resolved by %(due)s: escalated to %(unit)s.", due=tk.fmt_datetime(req.resolve_due_at),
                         unit=target.name)
            tk.db.session.add(CareEvent(request=req, kind="escalated", internal=True, body=text, created_at=now))
            alerts.append(tk.Alert(kind="care.overdue", unit_id=target.id, member_id=req.member_id,
                                   message=_l("Overdue care request “%(title)s” (%(unit)s)", title=req.title,
                                             unit=req.unit.name),
                                   url=f"{URL_PREFIX}/requests/{req.id}", permission=PERMISSION))
            if req.member is not None and req.member.account_id:
                alerts.append(tk.Alert(kind="care.escalated", unit_id=None, member_id=req.member_id,
                                       message=_l("Your care request “%(title)s” was escalated to %(unit)s",
                                                  title=req.title, unit=target.name),
                                       url=f"{URL_PREFIX}/requests/{req.id}", account_ids=(req.member.account_id,)))
    days = int(tk.get_setting(PLUGIN, "auto_close_days") or 0)
    if days > 0:
        for req in tk.db.session.scalars(select(CareRequest).where(
                CareRequest.status == "resolved", CareRequest.resolved_at < now - timedelta(days=days))):
            req.status, req.closed_at, req.updated_at = "closed", now, now
            tk.db.session.add(CareEvent(request=req, kind="status", from_status="resolved", to_status="closed",
                                        body=_("Closed automatically: no answer %(days)d days after resolution.", days=days),
                                        created_at=now))
            notify_accounts([req.member.account_id], None, _l("Care request “%(title)s”: %(status)s", title=req.title,
                                                     status=STATUSES["closed"]), req, kind="care.closed")
    return alerts

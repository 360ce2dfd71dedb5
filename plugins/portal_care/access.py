"""Who is what to a request (requester, handler, staff), what they may see, and the list filters."""
from __future__ import annotations

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import or_, true

from portal import toolkit as tk

from .models import CareRequest
from .vocabulary import OPEN_STATUSES, STATUSES

STAFF, HANDLER, REQUESTER = "staff", "handler", "requester"
ROLE_LABELS = {STAFF: _l("secretary of the receiving unit"), HANDLER: _l("handler"), REQUESTER: _l("requester")}


def roles_on(req: CareRequest, account) -> set[str]:
    """What ``account`` is to ``req``: requester, handler, staff (secretaries of the routing unit and above)."""
    if account is None or not getattr(account, "is_authenticated", True):
        return set()
    roles = set()
    if req.member is not None and req.member.account_id == account.id:
        roles.add(REQUESTER)
    if req.handler_account_id == account.id:
        roles.add(HANDLER)
    # Escalation only ever climbs to ancestors of the routing unit, whose secretaries this covers.
    if tk.can("care.manage", req.unit, account):
        roles.add(STAFF)
    return roles


def can_view(req: CareRequest, account) -> bool:
    return bool(roles_on(req, account))


def get_visible(request_id, account) -> CareRequest | None:
    """The request when ``account`` may see it, else None (callers answer 404)."""
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        return None
    req = tk.db.session.get(CareRequest, request_id)
    return req if req is not None and can_view(req, account) else None


def record_view(req: CareRequest, account, via: str = "page") -> None:
    """Audit-log a view by anyone other than the requester (caller commits)."""
    if roles_on(req, account) == {REQUESTER}:
        return
    tk.audit("care.request.viewed", "care_request", req.id, unit_id=req.unit_id,
             actor_account_id=account.id, via=via)


def staff_condition(account):
    """SQL on CareRequest: requests routed (or escalated) to units the account handles."""
    if tk.is_admin(account):
        return true()
    units = tk.granting_units("care.manage", account)
    if not units:
        return CareRequest.id.is_(None)
    conditions = []
    for unit in units:
        conditions.append(CareRequest.unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
    return or_(*conditions)


def list_condition(account):
    """SQL on CareRequest: everything ``account`` may see (own, handled, routed to their units)."""
    conditions = [CareRequest.handler_account_id == account.id, staff_condition(account)]
    if account.member is not None:
        conditions.append(CareRequest.member_id == account.member.id)
    return or_(*conditions)


def status_condition(status: str | None):
    """SQL for a ``?status=`` filter: ``open``, one status, or None/``all`` for every status."""
    if not status or status == "all":
        return None
    if status == "open":
        return CareRequest.status.in_(OPEN_STATUSES)
    if status in STATUSES:
        return CareRequest.status == status
    raise tk.Invalid(_("Unknown status."), {"status": _("Use open, all or one of: %(list)s.", list=", ".join(STATUSES))})

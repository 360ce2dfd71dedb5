"""Who is what to a request (requester, handler, staff), what they may see, and the list filters."""
from __future__ import annotations

from functools import cache

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import or_, select, true
from sqlalchemy.orm import aliased

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
    """SQL on CareRequest: requests routed (or escalated) to units the account handles.

    ``unit_id IN (the units' subtrees)``: the database reads the subtrees' ids once, then the requests
    through the ``(unit_id, status)`` index. An ``EXISTS`` per request (``CareRequest.unit.has``) walked
    every request of the queue's statuses instead (20 ms for one branch at 5 000 requests on SQLite).
    """
    if tk.is_admin(account):
        return true()
    units = tk.granting_units("care.manage", account)
    if not units:
        return CareRequest.id.is_(None)
    return CareRequest.unit_id.in_(subtree_ids(units))


def subtree_ids(units):
    """A ``select`` of the ids of the units at or below any of ``units`` (to embed in an ``IN``).

    On an alias of the unit table: a list joining the units must not correlate it away.
    """
    subtree = _subtree_alias()
    return select(subtree.id).where(or_(*[tk.in_subtree(subtree.path, unit.path) for unit in units]))


@cache
def _subtree_alias():
    """The alias :func:`subtree_ids` selects from, built once (building one per page cost ~0.5 ms)."""
    return aliased(tk.OrgUnit, name="subtree_unit")


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

"""The request workflow: the transition table, comments and internal notes, handlers, the timeline.

Functions that depend on the time take ``now`` so tests control the clock; they change the
session and leave committing to the caller.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Iterable

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

from .access import HANDLER, REQUESTER, STAFF, roles_on
from .attachments import check_uploads, store_uploads
from .models import CareEvent, CareRequest
from .notices import involved_accounts, notify_accounts
from .sla import is_open, sla_hours
from .vocabulary import STATUSES, SUPPORT_KINDS, TEXT_MAX

#: ``{from status: {to status: roles allowed to make that move}}``. Anything not listed is a 409.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "new": {"accepted": frozenset({STAFF}), "rejected": frozenset({STAFF}), "closed": frozenset({REQUESTER})},
    "accepted": {"in_progress": frozenset({STAFF, HANDLER}), "waiting_for_member": frozenset({STAFF, HANDLER}),
                 "resolved": frozenset({STAFF, HANDLER}), "rejected": frozenset({STAFF})},
    "in_progress": {"waiting_for_member": frozenset({STAFF, HANDLER}), "resolved": frozenset({STAFF, HANDLER})},
    "waiting_for_member": {"in_progress": frozenset({STAFF, HANDLER, REQUESTER}),
                           "resolved": frozenset({STAFF, HANDLER})},
    "reopened": {"in_progress": frozenset({STAFF, HANDLER}), "waiting_for_member": frozenset({STAFF, HANDLER}),
                 "resolved": frozenset({STAFF, HANDLER})},
    "resolved": {"closed": frozenset({REQUESTER, STAFF}), "reopened": frozenset({REQUESTER, STAFF})},
    "closed": {"reopened": frozenset({REQUESTER, STAFF})},
    "rejected": {},
}


#: Button labels of each move, as people say it.
ACTION_LABELS = {
    "accepted": _l("Accept"), "rejected": _l("Reject"), "in_progress": _l("Start work"),
    "waiting_for_member": _l("Ask the member"), "resolved": _l("Mark resolved"), "closed": _l("Close"),
    "reopened": _l("Reopen"),
}


def allowed_moves(req: CareRequest, account) -> list[str]:
    """The moves ``account`` may make from the request's current state (on one's own request: as the requester)."""
    roles = roles_on(req, account)
    if REQUESTER in roles:
        roles = roles - {STAFF}
    return [to for to, who in TRANSITIONS.get(req.status, {}).items() if roles & who]


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise tk.Invalid(_("Enter an amount like 1200 or 1200.50."),
                         {"support_amount": _("Enter an amount like 1200 or 1200.50.")}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise tk.Invalid(_("Enter an amount like 1200 or 1200.50."), {"support_amount": _("Enter an amount like 1200 or 1200.50.")})
    return amount.quantize(Decimal("0.01"))


def _first_response(req: CareRequest, roles: set[str], now: datetime) -> None:
    if req.first_response_at is None and roles & {STAFF, HANDLER}:
        req.first_response_at = now


def transition(req: CareRequest, account, to: str, *, now: datetime, comment: str | None = None,
               reason: str | None = None, summary: str | None = None, support_kind: str | None = None,
               support_amount=None, rating=None, rating_comment: str | None = None) -> CareEvent:
    """Move ``req`` to ``to`` as ``account``; the one place the transition table is enforced.

    Raises :class:`tk.Invalid` (422) for an unknown state or missing details,
    :class:`tk.Conflict` (409) when the move does not exist from the current
    state, :class:`tk.Forbidden` (403) when the account may not make it.
    """
    if to not in STATUSES:
        raise tk.Invalid(_("Unknown status."), {"to": _("Not a valid status.")})
    moves = TRANSITIONS.get(req.status, {})
    if to not in moves:
        raise tk.Conflict(_("A request that is %(current)s cannot become %(to)s.",
                           current=str(STATUSES[req.status]).lower(), to=str(STATUSES[to]).lower()))
    roles = roles_on(req, account)
    if not roles & moves[to]:
        raise tk.Forbidden(_("You may not make this change."))
    comment = (comment or "").strip()
    if len(comment) > TEXT_MAX:
        raise tk.Invalid(_("At most %(n)d characters.", n=TEXT_MAX), {"comment": _("At most %(n)d characters.", n=TEXT_MAX)})
    body = comment
    # On their own request a secretary acts as the requester when the move allows it; deciding it as staff
    # is acting on one's own record, which the one self-exclusion rule refuses.
    as_requester = REQUESTER in roles and REQUESTER in moves[to]
    if not as_requester and not (HANDLER in roles and HANDLER in moves[to]):
        tk.require_acting_on(req.member, "care.manage", req.unit, account=account)
    if to == "rejected":
        reason = (reason or comment or "").strip()
        if not reason:
            raise tk.Invalid(_("Say why the request is rejected."), {"reason": _("Say why the request is rejected.")})
        req.reject_reason = reason[:TEXT_MAX]
        body = req.reject_reason
        req.closed_at = now
    elif to == "resolved":
        summary = (summary or "").strip()
        fields = {}
        if not summary:
            fields["summary"] = _("Describe how the request was resolved.")
        if support_kind not in SUPPORT_KINDS:
            fields["support_kind"] = _("Choose what support was given.")
        try:
            amount = _amount(support_amount)
        except tk.Invalid as error:
            fields.update(error.field_errors)
            amount = None
        if support_kind == "money" and amount is None and "support_amount" not in fields:
            fields["support_amount"] = _("Enter the amount of money given.")
        if fields:
            raise tk.Invalid(_("Please correct the marked fields."), fields)
        req.resolution_summary = summary[:TEXT_MAX]
        req.support_kind = support_kind
        req.support_amount = amount
        req.resolved_at = now
        body = "\n\n".join(part for part in (req.resolution_summary, comment) if part)
    elif to == "closed" and req.status == "resolved" and as_requester:
        try:
            rating = int(rating)
        except (TypeError, ValueError):
            rating = None
        if rating is None or not 1 <= rating <= 5:
            raise tk.Invalid(_("Rate the help from 1 to 5."), {"rating": _("Rate the help from 1 to 5.")})
        req.rating = rating
        req.rating_comment = (rating_comment or "").strip()[:TEXT_MAX] or None
        body = "\n\n".join(part for part in (req.rating_comment, comment) if part)
        req.closed_at = now
    elif to == "closed":
        req.closed_at = now
    elif to == "reopened":
        respond_h, resolve_h = sla_hours(req.urgency)
        req.reopen_count += 1
        req.resolved_at = None
        req.closed_at = None
        req.rating = None
        req.rating_comment = None
        req.resolve_due_at = now + timedelta(hours=resolve_h)
        req.resolution_escalated_at = None
    previous = req.status
    if not as_requester:
        _first_response(req, roles, now)
    req.status = to
    req.updated_at = now
    event = CareEvent(request=req, account_id=account.id, kind="status", from_status=previous, to_status=to,
                      body=body, created_at=now)
    tk.db.session.add(event)
    if to == "resolved":
        _record_resolved(req, account, now)
    notify_accounts(involved_accounts(req), account,
            _l("Care request “%(title)s”: %(status)s", title=req.title, status=STATUSES[to]), req,
            body=body, kind=f"care.{to}")
    return event


def _record_resolved(req: CareRequest, account, now: datetime) -> None:
    """``care.resolved`` with the handler as actor (helpers earn points); once per request."""
    helper = req.handler.member if req.handler is not None and req.handler.member is not None else account.member
    if helper is None or helper.id == req.member_id:
        return
    tk.record_activity(helper, "care.resolved", "care_request", req.id, at=now,
                       extras={"category": req.category, "requester": req.member_id})


def add_comment(req: CareRequest, account, body: str, *, now: datetime, internal: bool = False,
                files: Iterable = ()) -> CareEvent:
    """A comment the member sees, or an internal note only staff and handlers see.

    A member's comment on a request waiting for them puts it back in progress.
    """
    roles = roles_on(req, account)
    if not roles:
        raise tk.NotFound(_("Not found."))
    if internal and not roles & {STAFF, HANDLER}:
        raise tk.Forbidden(_("Only secretaries and handlers can write internal notes."))
    body = (body or "").strip()
    uploads = check_uploads(files, existing=len(req.attachments))
    if not body and not uploads:
        raise tk.Invalid(_("Write a message or attach a file."), {"body": _("Write a message or attach a file.")})
    if len(body) > TEXT_MAX:
        raise tk.Invalid(_("At most %(n)d characters.", n=TEXT_MAX), {"body": _("At most %(n)d characters.", n=TEXT_MAX)})
    event = CareEvent(request=req, account_id=account.id, kind="note" if internal else "comment", internal=internal,
                      body=body, created_at=now)
    tk.db.session.add(event)
    tk.db.session.flush()
    store_uploads(req, uploads, account, internal=internal, event=event)
    req.updated_at = now
    if not internal:
        _first_response(req, roles, now)
    title = _l("New note on care request “%(title)s”", title=req.title) if internal else \
        _l("New comment on care request “%(title)s”", title=req.title)
    notify_accounts(involved_accounts(req, include_member=not internal), account, title, req,
            body="" if internal else body, kind="care.comment")
    if not internal and roles == {REQUESTER} and req.status == "waiting_for_member":
        transition(req, account, "in_progress", now=now)
    return event


def handler_choices(req: CareRequest) -> list:
    """Accounts that may be assigned: members of the receiving unit (home or hosted) and its secretaries."""
    ids = set(tk.member_accounts_for_unit(req.unit, include_hosted=True)) | set(tk.responsible_accounts(req.unit, "care.manage")[1])
    if req.handler_account_id:
        ids.add(req.handler_account_id)
    ids.discard(req.member.account_id if req.member else None)
    if not ids:
        return []
    return list(tk.db.session.scalars(select(tk.Account).where(tk.Account.id.in_(ids), tk.Account.is_active_account.is_(True))
                                      .order_by(tk.Account.display_name).limit(500)))


def assign(req: CareRequest, account, handler_id, *, now: datetime) -> CareEvent:
    """Give the request to a handler (staff only); a new request is accepted at the same time."""
    if STAFF not in roles_on(req, account):
        raise tk.Forbidden(_("Only secretaries of the receiving unit can assign a handler."))
    tk.require_acting_on(req.member, "care.manage", req.unit, account=account)
    if not is_open(req):
        raise tk.Conflict(_("Only open requests can be assigned."))
    try:
        handler_id = int(handler_id)
    except (TypeError, ValueError):
        handler_id = None
    handler = next((a for a in handler_choices(req) if a.id == handler_id), None)
    if handler is None:
        raise tk.Invalid(_("Choose a handler from the list."), {"handler": _("Choose a handler from the list.")})
    if req.status == "new":
        transition(req, account, "accepted", now=now)
    req.handler_account_id = handler.id
    req.handler = handler
    req.updated_at = now
    _first_response(req, {STAFF}, now)
    event = CareEvent(request=req, account_id=account.id, kind="assigned", body=handler.display_name, created_at=now)
    tk.db.session.add(event)
    notify_accounts([handler.id], account, _l("You were asked to handle care request “%(title)s”", title=req.title), req,
            kind="care.assigned")
    return event


def timeline(req: CareRequest, account) -> list[CareEvent]:
    """The request's events ``account`` may read (internal notes only for staff and handlers)."""
    insiders = bool(roles_on(req, account) & {STAFF, HANDLER})
    return [e for e in req.events if insiders or not e.internal]

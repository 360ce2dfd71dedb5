"""The rules of care: routing, the workflow's transition table, SLA and escalation, privacy,
attachments, drafts, dashboard figures and micro-wishes.

Views, the API, the alerts scan and tests all call these functions; each one that
depends on the time takes ``now`` so tests control the clock. Functions change the
session and leave committing to the caller.
"""
from __future__ import annotations

import os
import secrets
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, true

from portal import toolkit as tk
from portal_care.models import (
    CareAttachment, CareCategory, CareDraft, CareEvent, CareRequest, CareRoutingRule, CareWish,
)

PLUGIN = "care"
URL_PREFIX = "/care"

# -- vocabularies ------------------------------------------------------------

BUILTIN_CATEGORIES: dict[str, object] = {
    "schooling": _l("Children's schooling"),
    "medical": _l("Medical care"),
    "wages": _l("Unpaid wages / legal help"),
    "employment": _l("Employment help"),
    "skills": _l("Skills training"),
    "family": _l("Family back home"),
    "hardship": _l("Hardship"),
    "other": _l("Other"),
}
URGENCIES = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
WHERE = {"hometown": _l("In my hometown"), "host": _l("Where I live and work now (host city)")}
CONTACT_PREFS = {"phone": _l("Phone call"), "message": _l("Text message"), "in_app": _l("Messages in the portal"),
                 "visit": _l("A visit")}
SUPPORT_KINDS = {"advice": _l("Advice"), "referral": _l("Referral"), "legal": _l("Legal aid"),
                 "money": _l("Money"), "in_kind": _l("In kind"), "visit": _l("Visit / condolence"),
                 "other": _l("Other")}
STATUSES = {
    "new": _l("New"), "accepted": _l("Accepted"), "in_progress": _l("In progress"),
    "waiting_for_member": _l("Waiting for the member"), "reopened": _l("Reopened"),
    "resolved": _l("Resolved"), "closed": _l("Closed"), "rejected": _l("Rejected"),
}
OPEN_STATUSES = ("new", "accepted", "in_progress", "waiting_for_member", "reopened")
ROUTED_BY = {"home": _l("Home branch (need in the hometown)"), "host": _l("Host branch (member consented)"),
             "no_consent": _l("Home branch (no consent to share with the host branch)"),
             "no_host": _l("Home branch (the member has no host branch)"), "rule": _l("Routing rule for the category")}
WISH_STATUSES = {"pending": _l("Waiting for approval"), "rejected": _l("Not approved"), "open": _l("Open"),
                 "claimed": _l("Claimed"), "fulfilled": _l("Fulfilled, waiting for confirmation"),
                 "confirmed": _l("Confirmed")}

# -- the workflow ------------------------------------------------------------

STAFF, HANDLER, REQUESTER = "staff", "handler", "requester"
ROLE_LABELS = {STAFF: _l("secretary of the receiving unit"), HANDLER: _l("handler"), REQUESTER: _l("requester")}

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


class CareError(Exception):
    """A refused action: ``status`` (403, 404, 409, 422), a message and per-field messages."""

    status = 422

    def __init__(self, message: str, fields: dict | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status


class Invalid(CareError):
    status = 422


class NotAllowed(CareError):
    """The move does not exist from the current state."""

    status = 409


class Forbidden(CareError):
    status = 403


# -- categories and routing -------------------------------------------------


def _category_rows() -> dict:
    """Admins' category rows, read once per request."""
    cached = g.get("_care_categories") if has_request_context() else None
    if cached is None:
        cached = {row.key: row for row in tk.db.session.scalars(select(CareCategory))}
        if has_request_context():
            g._care_categories = cached
    return cached


def categories(include_inactive: bool = False) -> list[tuple[str, str, bool]]:
    """``[(key, label, active)]``: built-ins as admins changed them, then categories admins added."""
    rows = _category_rows()
    result = []
    for position, (key, label) in enumerate(BUILTIN_CATEGORIES.items()):
        row = rows.get(key)
        result.append((row.position if row else position * 10, key, (row.label if row and row.label else str(label)),
                       row.active if row else True))
    for key, row in rows.items():
        if key not in BUILTIN_CATEGORIES:
            result.append((row.position, key, row.label or key, row.active))
    result.sort(key=lambda item: (item[0], item[1]))
    return [(key, label, active) for _pos, key, label, active in result if active or include_inactive]


def category_label(key: str) -> str:
    for cat_key, label, _active in categories(include_inactive=True):
        if cat_key == key:
            return label
    return key


def save_category(key: str, label: str | None, active: bool, position: int) -> CareCategory:
    """Rename, hide or add a category (caller commits)."""
    row = tk.db.session.get(CareCategory, key) or CareCategory(key=key)
    row.label = (label or "").strip() or None
    row.active = active
    row.position = position
    tk.db.session.add(row)
    if has_request_context():
        g.pop("_care_categories", None)
    return row


def route(member, where: str, category: str, consent_host: bool) -> tuple[object, str]:
    """The unit a request goes to, and why.

    Hometown needs go to the home branch. Host-city needs go to the host branch
    when the member consented to share with it (else to the home branch). Then
    the most specific routing rule of the category (deepest scope containing
    that unit) may send it elsewhere, e.g. unpaid wages to a legal-aid unit.
    """
    if where == "host" and member.host_unit is not None and consent_host:
        unit, routed_by = member.host_unit, "host"
    elif where == "host":
        unit, routed_by = member.home_unit, "no_host" if member.host_unit is None else "no_consent"
    else:
        unit, routed_by = member.home_unit, "home"
    rules = tk.db.session.scalars(select(CareRoutingRule).where(
        CareRoutingRule.category == category, CareRoutingRule.where.in_(("any", where)))).all()
    matching = [r for r in rules if r.target_unit is not None and not r.target_unit.is_closed
                and (r.scope_unit is None or r.scope_unit.contains(unit))]
    if matching:
        best = max(matching, key=lambda r: (r.scope_unit.depth if r.scope_unit else -1, -r.id))
        return best.target_unit, "rule"
    return unit, routed_by


# -- SLA ---------------------------------------------------------------------


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


# -- privacy -----------------------------------------------------------------


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
    raise Invalid(_("Unknown status."), {"status": _("Use open, all or one of: %(list)s.", list=", ".join(STATUSES))})


# -- validation --------------------------------------------------------------

TITLE_MAX, TEXT_MAX = 200, 5000


def clean_request(data: dict) -> dict:
    """Check what a member typed (form or JSON); returns clean values or raises :class:`Invalid` with field messages."""
    errors: dict[str, str] = {}
    clean: dict = {}

    def text(name: str, maximum: int, required: bool) -> str:
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = _("Must be text.")
            return ""
        value = value.strip()
        if required and not value:
            errors[name] = _("This field is required.")
        elif len(value) > maximum:
            errors[name] = _("At most %(n)d characters.", n=maximum)
        return value

    def choice(name: str, options: Iterable[str], default: str | None = None) -> str | None:
        value = data.get(name) or default
        if value is None:
            errors[name] = _("This field is required.")
        elif value not in options:
            errors[name] = _("Not a valid choice.")
        return value

    clean["category"] = choice("category", [key for key, _label, _a in categories()])
    clean["title"] = text("title", TITLE_MAX, True)
    clean["description"] = text("description", TEXT_MAX, True)
    clean["urgency"] = choice("urgency", URGENCIES, "normal")
    clean["where"] = choice("where", WHERE)
    clean["contact_pref"] = choice("contact_pref", CONTACT_PREFS, "phone")
    clean["contact_detail"] = text("contact_detail", 100, False) or None
    consent = data.get("consent_host", False)
    if isinstance(consent, str):
        consent = consent.lower() in ("1", "y", "yes", "on", "true")
    elif not isinstance(consent, bool):
        errors["consent_host"] = _("Must be true or false.")
    clean["consent_host"] = bool(consent)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    return clean


# -- attachments -------------------------------------------------------------

#: Types we can recognise by their first bytes (the extension alone is not trusted).
FILE_TYPES = {
    "jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "gif": ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "pdf": ("application/pdf", lambda b: b.startswith(b"%PDF-")),
}


@dataclass
class Upload:
    """A checked file waiting to be stored."""

    name: str
    data: bytes
    content_type: str


def allowed_extensions() -> list[str]:
    configured = tk.get_setting(PLUGIN, "attachment_types") or []
    return [ext.lower().lstrip(".") for ext in configured if ext.lower().lstrip(".") in FILE_TYPES]


def check_uploads(files: Iterable, existing: int = 0) -> list[Upload]:
    """Read and check uploaded files (werkzeug ``FileStorage``); raise :class:`Invalid` on the first bad one."""
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    max_files = int(tk.get_setting(PLUGIN, "attachment_max_count") or 5)
    max_bytes = int(tk.get_setting(PLUGIN, "attachment_max_kb") or 5120) * 1024
    allowed = allowed_extensions()
    if existing + len(files) > max_files:
        raise Invalid(_("At most %(n)d attachments per request.", n=max_files),
                      {"attachments": _("At most %(n)d attachments per request.", n=max_files)})
    uploads = []
    for storage in files:
        name = os.path.basename(storage.filename.replace("\\", "/"))[:200] or "file"
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        data = storage.read(max_bytes + 1)
        if ext not in allowed:
            message = _("%(name)s: this file type is not accepted (allowed: %(types)s).", name=name,
                        types=", ".join(allowed))
            raise Invalid(message, {"attachments": message})
        if len(data) > max_bytes:
            message = _("%(name)s is too large (at most %(kb)d KB).", name=name, kb=max_bytes // 1024)
            raise Invalid(message, {"attachments": message})
        mime, sniff = FILE_TYPES[ext]
        if not data or not sniff(data):
            message = _("%(name)s is not a valid %(ext)s file.", name=name, ext=ext.upper())
            raise Invalid(message, {"attachments": message})
        uploads.append(Upload(name=name, data=data, content_type=mime))
    return uploads


def upload_limits() -> dict:
    """What the upload field tells the member: count, types, size, and the ``accept`` attribute."""
    exts = allowed_extensions()
    return {"count": int(tk.get_setting(PLUGIN, "attachment_max_count") or 5),
            "kb": int(tk.get_setting(PLUGIN, "attachment_max_kb") or 5120), "types": ", ".join(exts),
            "accept": ",".join(f".{ext}" for ext in exts)}


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "care"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_uploads(req: CareRequest, uploads: list[Upload], account, *, internal: bool = False,
                  event: CareEvent | None = None) -> list[CareAttachment]:
    """Write checked files under ``UPLOAD_DIR/care`` with random names and record them."""
    rows = []
    folder = upload_dir()
    for upload in uploads:
        stored = secrets.token_hex(20)
        (folder / stored).write_bytes(upload.data)
        row = CareAttachment(request=req, event_id=event.id if event is not None else None,
                             account_id=account.id if account else None, internal=internal,
                             original_name=upload.name, stored_name=stored, content_type=upload.content_type,
                             size=len(upload.data))
        tk.db.session.add(row)
        rows.append(row)
    return rows


def attachment_path(attachment: CareAttachment) -> Path:
    return upload_dir() / attachment.stored_name


def visible_attachments(req: CareRequest, account) -> list[CareAttachment]:
    """Attachments ``account`` may open (internal ones only for staff and handlers)."""
    roles = roles_on(req, account)
    return [a for a in req.attachments if not a.internal or roles & {STAFF, HANDLER}]


# -- filing ------------------------------------------------------------------


def _notify(account_ids: Iterable[int], actor, title: str, req: CareRequest, body: str = "", kind: str = "care") -> None:
    recipients = [aid for aid in dict.fromkeys(account_ids) if aid and (actor is None or aid != actor.id)]
    if recipients:
        tk.notify(recipients, title, body, url=f"{URL_PREFIX}/requests/{req.id}", kind=kind)


def involved_accounts(req: CareRequest, *, include_member: bool = True) -> list[int]:
    """Requester, handler and the secretaries of the routing (and escalation) unit."""
    ids = []
    if include_member and req.member and req.member.account_id:
        ids.append(req.member.account_id)
    if req.handler_account_id:
        ids.append(req.handler_account_id)
    ids.extend(tk.secretaries_of(req.unit))
    if req.escalated_unit_id:
        ids.extend(tk.secretaries_of(tk.db.session.get(tk.OrgUnit, req.escalated_unit_id), ("secretary", "organizer")))
    return ids


def file_request(member, data: dict, *, filed_by, now: datetime, files: Iterable = ()) -> CareRequest:
    """File a request for ``member`` (by the member or a secretary on their behalf).

    Validates everything (fields and attachments) before anything is written;
    routes it, sets its due dates, records ``care.requested`` and tells the
    receiving unit's secretaries.
    """
    clean = clean_request(data)
    uploads = check_uploads(files)
    unit, routed_by = route(member, clean["where"], clean["category"], clean["consent_host"])
    respond_h, resolve_h = sla_hours(clean["urgency"])
    req = CareRequest(member_id=member.id, member=member, filed_by_account_id=filed_by.id if filed_by else None,
                      unit_id=unit.id, unit=unit, routed_by=routed_by, status="new", created_at=now, updated_at=now,
                      respond_due_at=now + timedelta(hours=respond_h), resolve_due_at=now + timedelta(hours=resolve_h),
                      **clean)
    tk.db.session.add(req)
    tk.db.session.flush()
    event = CareEvent(request=req, account_id=filed_by.id if filed_by else None, kind="status",
                      to_status="new", created_at=now)
    tk.db.session.add(event)
    tk.db.session.flush()
    store_uploads(req, uploads, filed_by, event=event)
    tk.record_activity(member, "care.requested", "care_request", req.id, at=now,
                       extras={"category": req.category, "where": req.where})
    _notify(tk.secretaries_of(unit), filed_by, _l("New care request: %(title)s", title=req.title), req,
            kind="care.new")
    if filed_by is not None and member.account_id and filed_by.id != member.account_id:
        _notify([member.account_id], filed_by, _l("A care request was filed on your behalf: %(title)s", title=req.title),
                req, kind="care.new")
    draft = tk.db.session.get(CareDraft, member.id)
    if draft is not None and (filed_by is None or filed_by.id == member.account_id):
        tk.db.session.delete(draft)
    return req


# -- the workflow ------------------------------------------------------------


def allowed_moves(req: CareRequest, account) -> list[str]:
    """The moves ``account`` may make from the request's current state."""
    roles = roles_on(req, account)
    return [to for to, who in TRANSITIONS.get(req.status, {}).items() if roles & who]


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(_("Enter an amount like 1200 or 1200.50."), {"support_amount": _("Enter an amount like 1200 or 1200.50.")})
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise Invalid(_("Enter an amount like 1200 or 1200.50."), {"support_amount": _("Enter an amount like 1200 or 1200.50.")})
    return amount.quantize(Decimal("0.01"))


def _first_response(req: CareRequest, roles: set[str], now: datetime) -> None:
    if req.first_response_at is None and roles & {STAFF, HANDLER}:
        req.first_response_at = now


def transition(req: CareRequest, account, to: str, *, now: datetime, comment: str | None = None,
               reason: str | None = None, summary: str | None = None, support_kind: str | None = None,
               support_amount=None, rating=None, rating_comment: str | None = None) -> CareEvent:
    """Move ``req`` to ``to`` as ``account``; the one place the transition table is enforced.

    Raises :class:`Invalid` (422) for an unknown state or missing details,
    :class:`NotAllowed` (409) when the move does not exist from the current
    state, :class:`Forbidden` (403) when the account may not make it.
    """
    if to not in STATUSES:
        raise Invalid(_("Unknown status."), {"to": _("Not a valid status.")})
    moves = TRANSITIONS.get(req.status, {})
    if to not in moves:
        raise NotAllowed(_("A request that is %(current)s cannot become %(to)s.",
                           current=str(STATUSES[req.status]).lower(), to=str(STATUSES[to]).lower()))
    roles = roles_on(req, account)
    if not roles & moves[to]:
        raise Forbidden(_("You may not make this change."))
    comment = (comment or "").strip()
    if len(comment) > TEXT_MAX:
        raise Invalid(_("At most %(n)d characters.", n=TEXT_MAX), {"comment": _("At most %(n)d characters.", n=TEXT_MAX)})
    body = comment
    # Someone who is both (a secretary's own request) acts in their other capacity when it allows the move.
    as_requester = REQUESTER in roles and not (roles - {REQUESTER}) & moves[to]
    if to == "rejected":
        reason = (reason or comment or "").strip()
        if not reason:
            raise Invalid(_("Say why the request is rejected."), {"reason": _("Say why the request is rejected.")})
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
        except Invalid as error:
            fields.update(error.fields)
            amount = None
        if support_kind == "money" and amount is None and "support_amount" not in fields:
            fields["support_amount"] = _("Enter the amount of money given.")
        if fields:
            raise Invalid(_("Please correct the marked fields."), fields)
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
            raise Invalid(_("Rate the help from 1 to 5."), {"rating": _("Rate the help from 1 to 5.")})
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
    _notify(involved_accounts(req), account,
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
        raise CareError(_("Not found."), status=404)
    if internal and not roles & {STAFF, HANDLER}:
        raise Forbidden(_("Only secretaries and handlers can write internal notes."))
    body = (body or "").strip()
    uploads = check_uploads(files, existing=len(req.attachments))
    if not body and not uploads:
        raise Invalid(_("Write a message or attach a file."), {"body": _("Write a message or attach a file.")})
    if len(body) > TEXT_MAX:
        raise Invalid(_("At most %(n)d characters.", n=TEXT_MAX), {"body": _("At most %(n)d characters.", n=TEXT_MAX)})
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
    _notify(involved_accounts(req, include_member=not internal), account, title, req,
            body="" if internal else body, kind="care.comment")
    if not internal and roles == {REQUESTER} and req.status == "waiting_for_member":
        transition(req, account, "in_progress", now=now)
    return event


def handler_choices(req: CareRequest) -> list:
    """Accounts that may be assigned: members of the receiving unit (home or hosted) and its secretaries."""
    ids = set(tk.member_accounts_for_unit(req.unit, include_hosted=True)) | set(tk.secretaries_of(req.unit))
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
        raise Forbidden(_("Only secretaries of the receiving unit can assign a handler."))
    if not is_open(req):
        raise NotAllowed(_("Only open requests can be assigned."))
    try:
        handler_id = int(handler_id)
    except (TypeError, ValueError):
        handler_id = None
    handler = next((a for a in handler_choices(req) if a.id == handler_id), None)
    if handler is None:
        raise Invalid(_("Choose a handler from the list."), {"handler": _("Choose a handler from the list.")})
    if req.status == "new":
        transition(req, account, "accepted", now=now)
    req.handler_account_id = handler.id
    req.handler = handler
    req.updated_at = now
    _first_response(req, {STAFF}, now)
    event = CareEvent(request=req, account_id=account.id, kind="assigned", body=handler.display_name, created_at=now)
    tk.db.session.add(event)
    _notify([handler.id], account, _l("You were asked to handle care request “%(title)s”", title=req.title), req,
            kind="care.assigned")
    return event


def timeline(req: CareRequest, account) -> list[CareEvent]:
    """The request's events ``account`` may read (internal notes only for staff and handlers)."""
    insiders = bool(roles_on(req, account) & {STAFF, HANDLER})
    return [e for e in req.events if insiders or not e.internal]


# -- drafts (works without JavaScript) ---------------------------------------

DRAFT_FIELDS = ("category", "title", "description", "urgency", "where", "contact_pref", "contact_detail", "consent_host")


def save_draft(member, data: dict, *, now: datetime) -> CareDraft:
    """Keep what the member typed so far, unchecked except for length (caller commits)."""
    values = {}
    for name in DRAFT_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            values[name] = value[:TEXT_MAX]
        elif isinstance(value, bool):
            values[name] = value
    draft = tk.db.session.get(CareDraft, member.id) or CareDraft(member_id=member.id)
    draft.data = values
    draft.updated_at = now
    tk.db.session.add(draft)
    return draft


def get_draft(member) -> CareDraft | None:
    return tk.db.session.get(CareDraft, member.id) if member is not None else None


def discard_draft(member) -> None:
    draft = get_draft(member)
    if draft is not None:
        tk.db.session.delete(draft)


# -- escalation (``portal alerts scan``) ---------------------------------------


def scan(now: datetime) -> list:
    """Escalate overdue requests one level up per missed target; auto-close long-resolved ones.

    Each missed target (first response, resolution) escalates once: the request
    is shown to the parent of the unit it last reached, an internal note is
    written, and an ``Alert`` for the parent's secretaries is returned. A
    reopened request may escalate again.
    """
    alerts = []
    for req in tk.db.session.scalars(select(CareRequest).where(overdue_condition(now)).order_by(CareRequest.id)):
        kinds = []
        if req.first_response_at is None and req.respond_due_at < now and req.response_escalated_at is None:
            kinds.append("response")
        if req.resolve_due_at < now and req.resolution_escalated_at is None:
            kinds.append("resolution")
        for kind in kinds:
            base = tk.db.session.get(tk.OrgUnit, req.escalated_unit_id) if req.escalated_unit_id else req.unit
            target = base.parent or base
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
            recipients = tuple(dict.fromkeys(tk.secretaries_of(target, ("secretary", "organizer"))))
            alerts.append(tk.Alert(kind="care.overdue", unit_id=target.id, member_id=req.member_id,
                                   message=_l("Overdue care request “%(title)s” (%(unit)s)", title=req.title,
                                             unit=req.unit.name),
                                   url=f"{URL_PREFIX}/requests/{req.id}", account_ids=recipients))
    days = int(tk.get_setting(PLUGIN, "auto_close_days") or 0)
    if days > 0:
        for req in tk.db.session.scalars(select(CareRequest).where(
                CareRequest.status == "resolved", CareRequest.resolved_at < now - timedelta(days=days))):
            req.status, req.closed_at, req.updated_at = "closed", now, now
            tk.db.session.add(CareEvent(request=req, kind="status", from_status="resolved", to_status="closed",
                                        body=_("Closed automatically: no answer %(days)d days after resolution.", days=days),
                                        created_at=now))
            _notify([req.member.account_id], None, _l("Care request “%(title)s”: %(status)s", title=req.title,
                                                     status=STATUSES["closed"]), req, kind="care.closed")
    return alerts


# -- dashboard ---------------------------------------------------------------


@dataclass
class UnitFigures:
    unit_id: int | None
    name: str
    total: int = 0
    open: int = 0
    overdue: int = 0
    median_response_hours: float | None = None
    median_resolution_hours: float | None = None
    satisfaction: float | None = None
    ratings: int = 0


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 3600


def _figures(unit_id, name, rows, now) -> UnitFigures:
    fig = UnitFigures(unit_id=unit_id, name=name, total=len(rows))
    responses, resolutions, ratings = [], [], []
    for row in rows:
        if row.status in OPEN_STATUSES:
            fig.open += 1
            if (row.first_response_at is None and row.respond_due_at < now) or row.resolve_due_at < now:
                fig.overdue += 1
        if (hours := _hours(row.created_at, row.first_response_at)) is not None:
            responses.append(hours)
        if (hours := _hours(row.created_at, row.resolved_at)) is not None:
            resolutions.append(hours)
        if row.rating:
            ratings.append(row.rating)
    fig.median_response_hours = round(statistics.median(responses), 1) if responses else None
    fig.median_resolution_hours = round(statistics.median(resolutions), 1) if resolutions else None
    fig.satisfaction = round(sum(ratings) / len(ratings), 2) if ratings else None
    fig.ratings = len(ratings)
    return fig


def dashboard(unit, *, now: datetime, since: datetime | None = None) -> tuple[UnitFigures, list[UnitFigures]]:
    """Figures for ``unit``'s subtree (total) and per receiving unit in it.

    Open and overdue count every open request; medians and satisfaction cover
    requests filed since ``since`` (default: a year before ``now``).
    """
    since = since or now - timedelta(days=365)
    cols = (CareRequest.unit_id, CareRequest.status, CareRequest.created_at, CareRequest.first_response_at,
            CareRequest.resolved_at, CareRequest.rating, CareRequest.respond_due_at, CareRequest.resolve_due_at)
    query = (select(*cols, tk.OrgUnit.name).join(tk.OrgUnit, CareRequest.unit_id == tk.OrgUnit.id)
             .where(tk.in_subtree(tk.OrgUnit.path, unit.path),
                    or_(CareRequest.created_at >= since, CareRequest.status.in_(OPEN_STATUSES))))
    rows = tk.db.session.execute(query).all()
    by_unit: dict[int, list] = {}
    names: dict[int, str] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
        names[row.unit_id] = row.name
    # Medians and satisfaction only for the window; open/overdue for all open requests.
    def windowed(items):
        return [r for r in items if r.created_at >= since or r.status in OPEN_STATUSES]

    per_unit = [_figures(uid, names[uid], windowed(items), now) for uid, items in by_unit.items()]
    per_unit.sort(key=lambda f: (-f.overdue, -f.open, f.name))
    total = _figures(unit.id, unit.name, rows, now)
    return total, per_unit


def unit_counts(unit, *, now: datetime) -> dict[str, int]:
    """New, open and overdue requests routed into ``unit``'s subtree (for the unit widget), in one statement."""
    open_count, new_count, overdue_count = tk.db.session.execute(
        select(func.count(CareRequest.id),
               func.coalesce(func.sum(case((CareRequest.status == "new", 1), else_=0)), 0),
               func.coalesce(func.sum(case((overdue_condition(now), 1), else_=0)), 0))
        .join(tk.OrgUnit, CareRequest.unit_id == tk.OrgUnit.id)
        .where(tk.in_subtree(tk.OrgUnit.path, unit.path), CareRequest.status.in_(OPEN_STATUSES))).one()
    return {"new": int(new_count or 0), "open": int(open_count or 0), "overdue": int(overdue_count or 0)}


# -- micro-wishes ------------------------------------------------------------

WISH_VISIBLE = ("open", "claimed", "fulfilled", "confirmed")


def clean_wish(data: dict) -> dict:
    errors = {}
    title = (data.get("title") or "").strip() if isinstance(data.get("title", ""), str) else ""
    description = (data.get("description") or "").strip() if isinstance(data.get("description", ""), str) else ""
    if not title:
        errors["title"] = _("This field is required.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
    if len(description) > 2000:
        errors["description"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    return {"title": title, "description": description}


def create_wish(member, data: dict, *, now: datetime) -> CareWish:
    """A member posts a wish; their home branch's secretaries are asked to approve it."""
    wish = CareWish(member_id=member.id, member=member, status="pending", created_at=now, **clean_wish(data))
    tk.db.session.add(wish)
    tk.db.session.flush()
    recipients = tk.secretaries_of(member.home_unit)
    if recipients:
        tk.notify(recipients, _l("A micro-wish waits for approval: %(title)s", title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")
    return wish


def wish_reviewer(wish: CareWish, account) -> bool:
    """Secretaries (and organizers above) of the wisher's home branch review the wish."""
    return wish.member is not None and tk.can("care.manage", wish.member.home_unit, account)


def wish_scope_choices(wish: CareWish, account) -> list:
    """Units whose subtree may see the wish: the wisher's home and host branches and their
    ancestors that the reviewer handles, narrowest first."""
    ids: list[int] = []
    for unit in (wish.member.home_unit, wish.member.host_unit):
        if unit is not None:
            ids.extend(unit.ancestor_ids())
    units = tk.db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(set(ids)))).all()
    return sorted([u for u in units if tk.can("care.manage", u, account)], key=lambda u: (-u.depth, u.name))


def _member_unit_ids(member) -> set[int]:
    ids = set()
    for unit in (member.home_unit, member.host_unit):
        if unit is not None:
            ids.update(unit.ancestor_ids())
    return ids


def can_view_wish(wish: CareWish, account) -> bool:
    if account is None:
        return False
    member = account.member
    if member is not None and member.id in (wish.member_id, wish.claimer_member_id):
        return True
    if wish_reviewer(wish, account):
        return True
    if wish.status in WISH_VISIBLE and wish.visible_unit is not None:
        if tk.can("care.manage", wish.visible_unit, account):
            return True
        return member is not None and wish.visible_unit_id in _member_unit_ids(member)
    return False


def get_visible_wish(wish_id, account) -> CareWish | None:
    try:
        wish = tk.db.session.get(CareWish, int(wish_id))
    except (TypeError, ValueError):
        return None
    return wish if wish is not None and can_view_wish(wish, account) else None


def open_wishes_for(member, limit: int = 50) -> list[CareWish]:
    """Open wishes visible to ``member`` (posted within a subtree containing their home or host branch)."""
    if member is None:
        return []
    return list(tk.db.session.scalars(select(CareWish).where(
        CareWish.status == "open", CareWish.visible_unit_id.in_(_member_unit_ids(member)),
        CareWish.member_id != member.id).order_by(CareWish.created_at.desc()).limit(limit)))


def pending_wishes_for(account, limit: int = 100) -> list[CareWish]:
    """Wishes waiting for ``account``'s approval (members of branches they handle)."""
    if not tk.can("care.manage", None, account):
        return []
    return list(tk.db.session.scalars(select(CareWish).where(
        CareWish.status == "pending", CareWish.member.has(tk.member_scope("care.manage", account, include_hosted=False)))
        .order_by(CareWish.created_at).limit(limit)))


def review_wish(wish: CareWish, account, *, approve: bool, now: datetime, unit_id=None, reason: str = "") -> None:
    """Approve (choosing the subtree that sees it) or decline a pending wish."""
    if not wish_reviewer(wish, account):
        raise Forbidden(_("Only the wisher's secretary can review this wish."))
    if wish.status != "pending":
        raise NotAllowed(_("This wish has already been reviewed."))
    if approve:
        choices = {u.id: u for u in wish_scope_choices(wish, account)}
        try:
            unit = choices.get(int(unit_id))
        except (TypeError, ValueError):
            unit = None
        if unit is None:
            raise Invalid(_("Choose who may see the wish."), {"unit": _("Choose who may see the wish.")})
        wish.status, wish.visible_unit_id, wish.visible_unit = "open", unit.id, unit
        message = _("Your micro-wish “%(title)s” is published.", title=wish.title)
    else:
        reason = (reason or "").strip()
        if not reason:
            raise Invalid(_("Say why the wish is not approved."), {"reason": _("Say why the wish is not approved.")})
        wish.status, wish.reject_reason = "rejected", reason[:2000]
        message = _("Your micro-wish “%(title)s” was not approved.", title=wish.title)
    wish.reviewed_by_account_id, wish.reviewed_at = account.id, now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], message, reason if not approve else "", url=f"{URL_PREFIX}/wishes/{wish.id}",
                  kind="care.wish")


def claim_wish(wish: CareWish, member, *, now: datetime) -> None:
    if member is None or member.id == wish.member_id:
        raise Forbidden(_("You cannot claim your own wish."))
    if wish.status != "open":
        raise NotAllowed(_("This wish is not open to claim."))
    wish.status, wish.claimer_member_id, wish.claimed_at = "claimed", member.id, now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], _l("%(name)s will fulfil your micro-wish “%(title)s”.", name=member.name,
                                               title=wish.title), url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


def unclaim_wish(wish: CareWish, member) -> None:
    if member is None or wish.claimer_member_id != member.id:
        raise Forbidden(_("Only the member who claimed the wish can give it back."))
    if wish.status != "claimed":
        raise NotAllowed(_("This wish cannot be given back now."))
    wish.status, wish.claimer_member_id, wish.claimed_at = "open", None, None


def fulfil_wish(wish: CareWish, member, *, now: datetime) -> None:
    if member is None or wish.claimer_member_id != member.id:
        raise Forbidden(_("Only the member who claimed the wish can mark it fulfilled."))
    if wish.status != "claimed":
        raise NotAllowed(_("This wish is not claimed."))
    wish.status, wish.fulfilled_at = "fulfilled", now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], _l("Your micro-wish “%(title)s” was fulfilled. Please confirm.", title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


def confirm_wish(wish: CareWish, member, *, now: datetime) -> None:
    """The wisher confirms; ``wish.fulfilled`` is recorded for the fulfiller (who earns the points)."""
    if member is None or member.id != wish.member_id:
        raise Forbidden(_("Only the wisher can confirm."))
    if wish.status != "fulfilled":
        raise NotAllowed(_("This wish is not marked fulfilled."))
    wish.status, wish.confirmed_at = "confirmed", now
    claimer = wish.claimer or tk.db.session.get(tk.Member, wish.claimer_member_id)
    tk.record_activity(claimer, "wish.fulfilled", "care_wish", wish.id, at=now, extras={"wisher": wish.member_id})
    if claimer.account_id:
        tk.notify([claimer.account_id], _l("Thank you! %(name)s confirmed the micro-wish “%(title)s”.",
                                          name=wish.member.name, title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


WISH_ACTIONS = {"claim": claim_wish, "unclaim": unclaim_wish, "fulfil": fulfil_wish, "confirm": confirm_wish}


# -- personal data and summaries ---------------------------------------------


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
    def count(query):
        return tk.db.session.scalar(query) or 0

    filed = count(select(func.count(CareRequest.id)).where(
        CareRequest.member_id == member.id, CareRequest.created_at >= since, CareRequest.created_at < until))
    helped = count(select(func.count(tk.Activity.id)).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "care.resolved",
        tk.Activity.created_at >= since, tk.Activity.created_at < until))
    wishes = count(select(func.count(tk.Activity.id)).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb == "wish.fulfilled",
        tk.Activity.created_at >= since, tk.Activity.created_at < until))
    return [(_("Care requests filed"), filed), (_("Care requests resolved as handler"), helped),
            (_("Micro-wishes fulfilled"), wishes)]


def request_json(req: CareRequest, account) -> dict:
    """The API's view of a request for ``account`` (internal notes only for staff and handlers)."""
    roles = roles_on(req, account)
    return {
        "id": req.id, "title": req.title, "description": req.description, "category": req.category,
        "category_label": category_label(req.category), "urgency": req.urgency, "where": req.where,
        "contact_pref": req.contact_pref, "consent_host": req.consent_host, "status": req.status,
        "unit": {"id": req.unit.id, "name": req.unit.name}, "routed_by": req.routed_by,
        "handler": ({"id": req.handler.id, "name": req.handler.display_name} if req.handler else None),
        "created_at": req.created_at.isoformat(), "due_at": _iso(due_at(req)),
        "respond_due_at": _iso(req.respond_due_at), "resolve_due_at": _iso(req.resolve_due_at),
        "first_response_at": _iso(req.first_response_at), "resolved_at": _iso(req.resolved_at),
        "reject_reason": req.reject_reason, "resolution_summary": req.resolution_summary,
        "support_kind": req.support_kind,
        "support_amount": str(req.support_amount) if req.support_amount is not None else None,
        "rating": req.rating, "rating_comment": req.rating_comment,
        "allowed_transitions": allowed_moves(req, account), "roles": sorted(roles),
        "events": [{"id": e.id, "kind": e.kind, "internal": e.internal, "body": e.body, "from": e.from_status,
                    "to": e.to_status, "by": e.account.display_name if e.account else None,
                    "at": e.created_at.isoformat()} for e in timeline(req, account)],
        "attachments": [{"id": a.id, "name": a.original_name, "size": a.size,
                         "url": f"{URL_PREFIX}/attachments/{a.id}"} for a in visible_attachments(req, account)],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

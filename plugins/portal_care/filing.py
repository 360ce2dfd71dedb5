"""Filing a request (checked, routed, given due dates) and the drafts that keep what a member typed."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

from .attachments import check_uploads, store_uploads
from .models import CareDraft, CareEvent, CareRequest
from .notices import notify_accounts
from .routing import route
from .sla import sla_hours
from .vocabulary import CONTACT_PREFS, TEXT_MAX, TITLE_MAX, URGENCIES, WHERE, categories


def clean_request(data: dict) -> dict:
    """Check what a member typed (form or JSON); returns clean values or raises :class:`tk.Invalid` with field messages."""
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
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return clean


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
    notify_accounts(tk.responsible_accounts(unit, "care.manage")[1], filed_by, _l("New care request: %(title)s", title=req.title), req,
            kind="care.new")
    if filed_by is not None and member.account_id and filed_by.id != member.account_id:
        notify_accounts([member.account_id], filed_by, _l("A care request was filed on your behalf: %(title)s", title=req.title),
                req, kind="care.new")
    draft = tk.db.session.get(CareDraft, member.id)
    if draft is not None and (filed_by is None or filed_by.id == member.account_id):
        tk.db.session.delete(draft)
    return req


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

"""The member's self-assessment (个人对照检查): a draft kept while writing, then submitted.

Only the member writes it, while the round is at ``study`` or ``self``; after that it is part of the record.
A draft is saved as often as the page autosaves; a submitted one is changed by submitting again.
"""
from __future__ import annotations

from datetime import datetime

from flask import has_request_context
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_review.models import ReviewEntry
from portal_review.settings import setting

db = tk.db
#: The steps during which the self-assessment can still be written.
WRITABLE_STATUSES = ("study", "self")


def _check(entry: ReviewEntry, member: tk.Member | None) -> None:
    """Forbidden for anyone but the entry's member (when acting in a request); Conflict once ``self`` is over."""
    if member is not None and member.id != entry.member_id:
        raise tk.Forbidden(_("Only the member writes their self-assessment."))
    if entry.round.status not in WRITABLE_STATUSES:
        raise tk.Conflict(_("The self-assessment step of this round is over."))


def _clean(text, *, required: bool) -> str:
    if text is not None and not isinstance(text, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"text": _("Enter text.")})
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise tk.Invalid(_("Please correct the marked fields."), {"text": _("Write your self-assessment.")})
    limit = int(setting("self_max_chars"))
    if len(cleaned) > limit:
        raise tk.Invalid(_("Please correct the marked fields."), {"text": _("At most %(count)s characters.",
                                                                             count=limit)})
    return cleaned


def _acting_member(member: tk.Member | None) -> tk.Member | None:
    """The member acting: the one given, else the logged-in one (None outside a request: the demo, the CLI)."""
    return member if member is not None else tk.current_member() if has_request_context() else None


def save_draft(entry: ReviewEntry, text, *, now: datetime | None = None,
               member: tk.Member | None = None) -> ReviewEntry:
    """Keep ``text`` as the entry's draft; Conflict once it was submitted (submit again to change it)."""
    tk.lock(entry)
    _check(entry, _acting_member(member))
    if entry.self_submitted_at is not None:
        raise tk.Conflict(_("Your self-assessment was already submitted; submit it again to change it."))
    entry.self_text, entry.self_saved_at = _clean(text, required=False), now or tk.utcnow()
    db.session.flush()
    return entry


def submit(entry: ReviewEntry, text, *, now: datetime | None = None, member: tk.Member | None = None) -> ReviewEntry:
    """Submit the self-assessment (non-empty, at most ``self_max_chars``); a second submission replaces the first."""
    tk.lock(entry)
    _check(entry, _acting_member(member))
    now = now or tk.utcnow()
    entry.self_text, entry.self_saved_at, entry.self_submitted_at = _clean(text, required=True), now, now
    db.session.flush()
    return entry


def state(entry: ReviewEntry) -> str:
    """``"empty"``, ``"draft"`` or ``"submitted"``."""
    if entry.self_submitted_at is not None:
        return "submitted"
    return "draft" if entry.self_text else "empty"

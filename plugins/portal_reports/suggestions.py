"""The suggestion box (意见箱): sending, answering, the reply deadline and the public digest.

A member sends a suggestion to the home branch, the host branch or the committee above the home branch,
named or anonymous. An anonymous one keeps nothing that names the sender: ``author_member_id`` is NULL, no
audit entry, notification or activity names them, only the day (never the time) is kept, and the routes
that take it are :func:`portal.toolkit.unrecorded_post` (the core's double-submission rows name the
account). The sender keeps a reply token; only its sha256 is stored, and the token reads the reply.

States: submitted → assigned → replied → closed. ``reply_due`` is the day sent plus the
``suggestion_reply_days`` setting; the alerts scan tells the unit's answerers once when it passes.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import Select, select, update

from portal import toolkit as tk
from portal_reports.models import SUGGESTION_TARGETS, Suggestion

db = tk.db
PERMISSION = "reports.suggestions"
BODY_MAX = 5000
OPEN_STATUSES = ("submitted", "assigned")
TARGET_LABELS = {"home": _l("My home branch"), "host": _l("The branch hosting me"),
                 "committee": _l("The committee above my home branch")}
STATUS_LABELS = {"submitted": _l("Sent"), "assigned": _l("Being answered"), "replied": _l("Answered"),
                 "closed": _l("Closed")}


def token_hash(token: str) -> str:
    """The stored form of a reply token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unit_for(member: tk.Member, target: str) -> tk.OrgUnit | None:
    """The unit ``target`` (one of :data:`SUGGESTION_TARGETS`) means for ``member``, or None: the home or host
    branch (the branch, not the party group the member is kept in) or the committee above the home branch."""
    home = tk.branch_of(member.home_unit) if member.home_unit else None
    if target == "home":
        return home
    if target == "host":
        return tk.branch_of(member.host_unit) if member.host_unit else None
    return home.parent if home else None


def target_unit(member: tk.Member, target: str) -> tk.OrgUnit:
    """The unit a ``target`` means for ``member``; Invalid when there is none (no host branch, no committee)."""
    if target not in SUGGESTION_TARGETS:
        raise tk.Invalid(_("Please correct the marked fields."), {"target": _("Choose where to send it.")})
    unit = unit_for(member, target)
    if unit is None:
        message = _("You have no host branch.") if target == "host" else _("Your home branch has no committee above it.")
        raise tk.Invalid(message, {"target": message})
    return unit


def submit(member: tk.Member, data: dict, *, now: datetime | None = None) -> tuple[Suggestion, str]:
    """Send a suggestion → ``(suggestion, reply_token)``; the token is shown once and never stored."""
    body = data.get("body")
    anonymous = data.get("anonymous", False)
    errors = {}
    if not isinstance(body, str) or not body.strip():
        errors["body"] = _("Write your suggestion.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("At most %(n)d characters.", n=BODY_MAX)
    if not isinstance(anonymous, bool):
        errors["anonymous"] = _("Enter true or false.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    unit = target_unit(member, data.get("target"))
    today = tk.local_today(now)
    token = secrets.token_urlsafe(24)
    suggestion = Suggestion(author_member_id=None if anonymous else member.id, reply_token_hash=token_hash(token),
                            target=data["target"], unit_id=unit.id, body=body.strip(), status="submitted",
                            submitted_on=today,
                            reply_due=today + timedelta(days=int(tk.get_setting("reports", "suggestion_reply_days"))))
    db.session.add(suggestion)
    db.session.flush()
    # The answerers learn that something came, never from whom (the same words for a named one).
    answerers = tk.responsible_accounts(unit, PERMISSION)[1]
    tk.notify(answerers, _l("A new suggestion was sent to %(unit)s.", unit=unit.name),
              url=tk.path_for("reports_suggestions.show", suggestion_id=suggestion.id), kind="suggestion.new")
    return suggestion, token


def can_answer(suggestion: Suggestion, account) -> bool:
    """Holders of ``reports.suggestions`` on the suggestion's unit (or above it)."""
    return account is not None and tk.can(PERMISSION, suggestion.unit, account)


def visible_suggestion(suggestion_id: int, account) -> Suggestion:
    """The suggestion for its answerers or its named author; anyone else: 404."""
    suggestion = db.session.get(Suggestion, suggestion_id) if 0 < suggestion_id <= tk.MAX_ID else None
    if suggestion is None or not (can_answer(suggestion, account) or _is_author(suggestion, account)):
        raise tk.NotFound(_("Not found."))
    return suggestion


def _is_author(suggestion: Suggestion, account) -> bool:
    member = getattr(account, "member", None)
    return member is not None and suggestion.author_member_id == member.id


def answerable(suggestion_id: int, account) -> Suggestion:
    """The suggestion when ``account`` may answer it; its named author may only read it (403); others 404."""
    suggestion = visible_suggestion(suggestion_id, account)
    if not can_answer(suggestion, account):
        raise tk.Forbidden(_("Only the unit's answerers can do this."))
    return suggestion


def by_token(token: str) -> Suggestion:
    """The suggestion whose reply token this is; 404 otherwise."""
    suggestion = db.session.scalar(select(Suggestion).where(Suggestion.reply_token_hash == token_hash(token or "")))
    if suggestion is None:
        raise tk.NotFound(_("Not found."))
    return suggestion


def assign(suggestion: Suggestion, *, by) -> Suggestion:
    """The answerer takes it on: submitted → assigned."""
    if suggestion.status != "submitted":
        raise tk.Conflict(_("This suggestion is already being answered."))
    suggestion.status, suggestion.assigned_account_id = "assigned", by.id
    return suggestion


def reply(suggestion: Suggestion, text, *, by, digest: bool = False, now: datetime | None = None) -> Suggestion:
    """Answer it (submitted or assigned → replied); ``digest`` lists it in the unit's public digest when the
    ``suggestion_digest`` setting is on. A named author is told; an anonymous one reads it with the token."""
    if suggestion.status not in OPEN_STATUSES:
        raise tk.Conflict(_("This suggestion was already answered."))
    if not isinstance(text, str) or not text.strip():
        raise tk.Invalid(_("Please correct the marked fields."), {"reply": _("Write the reply.")})
    if len(text) > BODY_MAX:
        raise tk.Invalid(_("Please correct the marked fields."), {"reply": _("At most %(n)d characters.", n=BODY_MAX)})
    if not isinstance(digest, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"digest": _("Enter true or false.")})
    suggestion.status, suggestion.reply = "replied", text.strip()
    suggestion.replied_at, suggestion.replied_by_account_id = now or tk.utcnow(), by.id
    suggestion.assigned_account_id = suggestion.assigned_account_id or by.id
    suggestion.in_digest = digest and bool(tk.get_setting("reports", "suggestion_digest"))
    author = db.session.get(tk.Member, suggestion.author_member_id) if suggestion.author_member_id else None
    if author is not None and author.account_id:
        tk.notify([author.account_id], _l("Your suggestion to %(unit)s was answered.", unit=suggestion.unit.name),
                  url=tk.path_for("reports_suggestions.show", suggestion_id=suggestion.id), kind="suggestion.replied")
    return suggestion


def close(suggestion: Suggestion, *, now: datetime | None = None) -> Suggestion:
    """Close an answered suggestion."""
    if suggestion.status != "replied":
        raise tk.Conflict(_("Only an answered suggestion can be closed."))
    suggestion.status, suggestion.closed_at = "closed", now or tk.utcnow()
    return suggestion


def unit_suggestions(unit: tk.OrgUnit) -> list[Suggestion]:
    """The suggestions sent to ``unit``, open ones first, then the newest."""
    return list(db.session.scalars(
        select(Suggestion).where(Suggestion.unit_id == unit.id)
        .order_by(Suggestion.status.in_(OPEN_STATUSES).desc(), Suggestion.id.desc())))


def mine_query(member: tk.Member) -> Select:
    """A query of the member's named suggestions (an anonymous one is known only to its token), newest first."""
    return select(Suggestion).where(Suggestion.author_member_id == member.id).order_by(Suggestion.id.desc())


def mine(member: tk.Member) -> list[Suggestion]:
    """The member's named suggestions (an anonymous one is known only to its token), newest first."""
    return list(db.session.scalars(mine_query(member)))


def can_see_digest(unit: tk.OrgUnit, account) -> bool:
    """The unit's members (home or hosted, in its subtree) and its answerers."""
    if account is None:
        return False
    if tk.can(PERMISSION, unit, account):
        return True
    member = account.member
    return member is not None and any(
        own is not None and (own.id == unit.id or own.path.startswith(unit.path))
        for own in (member.home_unit, member.host_unit))


def digest_query(unit: tk.OrgUnit) -> Select:
    """A query of the answered suggestions the answerers put in the unit's digest, newest answer first."""
    return (select(Suggestion).where(Suggestion.unit_id == unit.id, Suggestion.in_digest.is_(True),
                                     Suggestion.status.in_(("replied", "closed")))
            .order_by(Suggestion.replied_at.desc(), Suggestion.id.desc()))


def digest(unit: tk.OrgUnit) -> list[Suggestion]:
    """Answered suggestions the answerers put in the unit's digest, newest answer first (no author shown)."""
    return list(db.session.scalars(digest_query(unit)))


def suggestion_json(suggestion: Suggestion, *, with_author: bool) -> dict:
    """The API shape; ``author`` only for a named one and only when ``with_author`` (never any id otherwise)."""
    author = None
    if with_author and suggestion.author_member_id is not None:
        member = db.session.get(tk.Member, suggestion.author_member_id)
        author = {"member_id": member.id, "name": member.name} if member else None
    return {"id": suggestion.id, "target": suggestion.target, "unit_id": suggestion.unit_id,
            "anonymous": suggestion.author_member_id is None, "author": author, "body": suggestion.body,
            "status": suggestion.status, "submitted_on": suggestion.submitted_on.isoformat(),
            "reply_due": suggestion.reply_due.isoformat() if suggestion.reply_due else None,
            "reply": suggestion.reply, "replied_at": tk.isoformat(suggestion.replied_at),
            "in_digest": suggestion.in_digest}


def scan(now: datetime) -> list[tk.Alert]:
    """Open suggestions past ``reply_due``: tell the unit's answerers once (``escalated_at``)."""
    today = tk.local_today(now)
    overdue = list(db.session.scalars(select(Suggestion).where(
        Suggestion.status.in_(OPEN_STATUSES), Suggestion.reply_due < today, Suggestion.escalated_at.is_(None))
        .order_by(Suggestion.id)))
    if not overdue:
        return []
    db.session.execute(update(Suggestion).where(Suggestion.id.in_([s.id for s in overdue])).values(escalated_at=now))
    return [tk.Alert("suggestion.overdue", s.unit_id, None,
                     _l("A suggestion sent to %(unit)s on %(day)s was due for an answer by %(due)s.",
                        unit=s.unit.name, day=s.submitted_on.isoformat(), due=s.reply_due.isoformat()),
                     url=tk.path_for("reports_suggestions.show", suggestion_id=s.id), permission=PERMISSION)
            for s in overdue]

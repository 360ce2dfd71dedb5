"""How each member receives each kind of message: immediate, in the daily digest, or off; unsubscribe tokens.

The kinds are those the enabled plugins declare (``portal_notification_kinds``); a message whose kind
no one declares falls under ``other`` ("Other messages"). An account without a stored choice gets the
``default_mode`` setting, or (when that is ``kind``) the declared kind's own default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from itsdangerous import BadSignature, URLSafeSerializer
from flask import current_app
from sqlalchemy import delete, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_email.models import EmailPreference

PLUGIN = "email"
OTHER = "other"
#: An unsubscribe token naming this instead of a kind turns every kind off.
ALL = "*"
INVALID_LINK = _l("This unsubscribe link is not valid. Open the link from the e-mail again, "
                  "or log in and change your e-mail settings.")
MODE_LABELS = {"immediate": _l("Immediately"), "digest": _l("In the daily digest"), "off": _l("Not by e-mail")}


@dataclass(frozen=True)
class Choice:
    """One line of the preferences page: a kind (``other`` included), its label and the mode in force."""

    kind: str
    label: Any
    mode: str


def kinds() -> list[tk.NotificationKind]:
    """The declared kinds, then ``other``."""
    return [*tk.notification_kinds(), tk.NotificationKind(OTHER, _l("Other messages"))]


def group_of(kind: str, declared: Iterable[tk.NotificationKind]) -> tk.NotificationKind:
    """The declaration a message's ``kind`` falls under (``other`` when none)."""
    return tk.declared_kind(kind, declared) or tk.NotificationKind(OTHER, _l("Other messages"))


def default_mode(kind: tk.NotificationKind) -> str:
    """The mode of an account that chose nothing for ``kind``."""
    chosen = tk.get_setting(PLUGIN, "default_mode")
    return kind.default_mode if chosen in (None, "", "kind") else chosen


def stored_modes(account_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``{account_id: {kind: mode}}`` of the stored choices."""
    ids = list(set(account_ids))
    modes: dict[int, dict[str, str]] = {account_id: {} for account_id in ids}
    if ids:
        for row in tk.db.session.scalars(select(EmailPreference).where(EmailPreference.account_id.in_(ids))):
            modes[row.account_id][row.kind] = row.mode
    return modes


def choices(account_id: int) -> list[Choice]:
    """The preferences page's lines for one account."""
    stored = stored_modes([account_id])[account_id]
    return [Choice(kind.kind, kind.label, stored.get(kind.kind) or default_mode(kind)) for kind in kinds()]


def save(account_id: int, modes: Mapping[str, str]) -> None:
    """Store ``{kind: mode}`` for the known kinds (caller commits); an unknown mode changes nothing.

    Raises :class:`tk.Invalid` naming the field (``mode-<kind>``) of a mode that is not one.
    """
    known = {kind.kind for kind in kinds()}
    bad = {f"mode-{kind}": _("Choose one of the offered ways.") for kind, mode in modes.items()
           if kind in known and mode not in tk.NOTIFICATION_MODES}
    if bad:
        raise tk.Invalid(_("Choose one of the offered ways."), bad)
    chosen = {kind: mode for kind, mode in modes.items() if kind in known}
    tk.db.session.execute(delete(EmailPreference).where(EmailPreference.account_id == account_id,
                                                        EmailPreference.kind.in_(list(chosen))))
    tk.db.session.add_all(EmailPreference(account_id=account_id, kind=kind, mode=mode) for kind, mode in chosen.items())


def turn_off(account_id: int, kind: str) -> None:
    """Stop e-mail of ``kind`` (:data:`ALL`: of every kind) for the account (caller commits)."""
    save(account_id, {item.kind: "off" for item in kinds() if kind in (ALL, item.kind)})
    tk.audit("email.unsubscribed", "account", account_id, actor_account_id=account_id, kind=kind)


# -- unsubscribe tokens (no login: the signature is the proof) ----------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="portal-email-unsubscribe")


def unsubscribe_token(account_id: int, kind: str) -> str:
    """A signed token that turns ``kind`` (or :data:`ALL`) off for the account."""
    return _serializer().dumps({"a": account_id, "k": kind})


def read_token(token: str) -> tuple[int, str]:
    """``(account_id, kind)`` of a genuine token; raises :class:`tk.NotFound` with a clear message otherwise."""
    try:
        data = _serializer().loads(token)
        return int(data["a"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise tk.NotFound(INVALID_LINK) from None


def kind_label(kind: str) -> Any:
    """What a token's kind is called on the confirmation page."""
    if kind == ALL:
        return _l("every message")
    return next((item.label for item in kinds() if item.kind == kind), _l("Other messages"))

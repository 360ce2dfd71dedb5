"""The e-mail pages: a member's preferences, the unsubscribe link (no login), the admin's status and test e-mail."""
from __future__ import annotations

import smtplib

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_email import preferences, sending
from portal_email.models import EmailSend

bp = Blueprint("email", __name__, url_prefix="/email", template_folder="templates")
tk.template_labels(bp, preferences.PLUGIN, mode=preferences.MODE_LABELS)


@bp.get("/preferences", endpoint="preferences")
@login_required
def preferences_page():
    """How the member receives each kind of message by e-mail."""
    return _render_preferences()


def _render_preferences(status: int = 200, errors: dict | None = None):
    return render_template("email/preferences.html", choices=preferences.choices(current_user.id),
                           modes=tk.NOTIFICATION_MODES, errors=errors or {}), status


@bp.post("/preferences")
@login_required
def save_preferences():
    """Store the chosen mode of each kind; a value that is no mode changes nothing."""
    modes = {kind.kind: request.form.get(f"mode-{kind.kind}", "") for kind in preferences.kinds()
             if f"mode-{kind.kind}" in request.form}
    return tk.form_post(lambda: preferences.save(current_user.id, modes), success=_("Your e-mail settings were saved."),
                        redirect_to=url_for("email.preferences"),
                        on_error=lambda error: _render_preferences(error.status, error.field_errors))


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """The confirmation page of an e-mail's unsubscribe link (no login: the link is signed)."""
    account, kind = _token_account(token)
    with tk.reader_locale(account.locale):  # the reader's language, logged in or not
        return render_template("email/unsubscribe.html", token=token, kind=kind,
                               kind_label=preferences.kind_label(kind), done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """Turn the link's kind off, or every kind (``scope=all``); a forged link changes nothing."""
    account, kind = _token_account(token)
    kind = preferences.ALL if request.form.get("scope") == "all" else kind
    preferences.turn_off(account.id, kind)
    tk.db.session.commit()
    with tk.reader_locale(account.locale):
        return render_template("email/unsubscribe.html", token=token, kind=kind,
                               kind_label=preferences.kind_label(kind), done=True)


def _token_account(token: str) -> tuple[tk.Account, str]:
    """The account and kind a genuine link names; 404 with a clear message for a forged one or a gone account."""
    account_id, kind = preferences.read_token(token)
    account = tk.db.session.get(tk.Account, account_id)
    if account is None:
        raise tk.NotFound(preferences.INVALID_LINK)
    return account, kind


@bp.get("/unsubscribe/<token>/one-click")
def one_click_page(token: str):
    """A person opening the ``List-Unsubscribe`` address gets the confirmation page."""
    return redirect(url_for("email.unsubscribe", token=token))


@bp.post("/unsubscribe/<token>/one-click")
@tk.csrf_exempt  # RFC 8058 one-click: the mail provider posts without a session; the signed token is the proof
def one_click(token: str):
    """The mail provider's one-click unsubscribe (``List-Unsubscribe-Post``): the link's kind off."""
    account, kind = _token_account(token)
    preferences.turn_off(account.id, kind)
    tk.db.session.commit()
    return "", 204


@bp.get("/admin")
@login_required
def admin():
    """The send log's state (sent, failed and retried, stuck) and the test e-mail form."""
    tk.require("settings.manage")
    counts = dict(tk.db.session.execute(select(EmailSend.status, func.count()).group_by(EmailSend.status)).all())
    failures = tk.db.session.scalars(select(EmailSend).where(EmailSend.status != "sent")
                                     .order_by(EmailSend.claimed_at.desc()).limit(20)).all()
    return render_template("email/admin.html", counts=counts, failures=failures,
                           host=tk.get_setting(preferences.PLUGIN, "smtp_host"))


@bp.post("/admin/test")
@login_required
def send_test():
    """Send a test e-mail to the given address now, so the admin sees whether the settings work."""
    tk.require("settings.manage")
    address = (request.form.get("address") or "").strip()
    return tk.form_post(lambda: _send_test(address), success=_("The test e-mail was sent to %(address)s.", address=address),
                        redirect_to=url_for("email.admin"), on_error=url_for("email.admin"))


def _send_test(address: str) -> None:
    if "@" not in address:
        raise tk.Invalid(_("This is not an e-mail address (like name@example.org)."), field="address")
    try:
        sending.send_test(address)
    except (OSError, smtplib.SMTPException) as error:
        raise tk.Conflict(_("The test e-mail could not be sent: %(error)s", error=str(error) or type(error).__name__)) from None

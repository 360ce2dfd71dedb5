"""The SMS log: what the ``log`` provider was handed, for admins."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import select

from portal import toolkit as tk
from portal_sms_example.models import SmsLogEntry
from portal_sms_example.providers import PROVIDER_KINDS, provider_kind

bp = Blueprint("sms_example", __name__, url_prefix="/sms-example", template_folder="templates")


@bp.get("/log")
@login_required
def log():
    """The latest messages the ``log`` provider kept, newest first."""
    tk.require("settings.manage")
    entries = tk.db.session.scalars(select(SmsLogEntry).order_by(SmsLogEntry.id.desc()).limit(200)).all()
    provider = tk.get_setting("sms_example", "provider") or ""
    return render_template("sms_example/log.html", entries=entries, provider=provider,
                           provider_meaning=PROVIDER_KINDS[provider_kind(provider)])

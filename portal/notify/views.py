"""The in-app inbox."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import db
from portal.notify.models import Notification
from portal.notify.services import mark_read, message_count
from portal.web.pagination import paginate
from portal.web.ui import safe_next_url

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.get("/")
@login_required
def index():
    """Newest messages first, unread ones marked."""
    page = paginate(select(Notification).where(Notification.account_id == current_user.id)
                    .order_by(Notification.created_at.desc(), Notification.id.desc()),
                    total=message_count(current_user.id))  # a statement built once, not derived per request
    return render_template("inbox/index.html", page=page)


@bp.post("/<int:notification_id>/open")
@login_required
def open_message(notification_id: int):
    """Mark a message read and follow its link."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.account_id != current_user.id:
        abort(404)
    mark_read(current_user.id, note.id)
    db.session.commit()
    return redirect(safe_next_url(note.url, url_for("inbox.index")))


@bp.post("/read-all")
@login_required
def read_all():
    """Mark every message read."""
    mark_read(current_user.id)
    db.session.commit()
    return redirect(url_for("inbox.index"))

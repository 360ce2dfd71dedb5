"""``member.daily_login``: the first authenticated request of each local day, recorded once.

A member who stays logged in for days (remember-me cookie, bearer token) still
"logs in" each day they use the portal, which is what a points rule like
"daily login 1 (cap 1)" means. The activity's idempotency key is
``member.daily_login:<member id>:<local date>``, so concurrent first requests
yield one activity; a session flag saves the lookup on later requests.
"""
from __future__ import annotations

import logging
from flask import request, session
from flask_login import current_user
from sqlalchemy import select

from portal.activity.models import Activity
from portal.database import write_intent
from portal.extensions import db
from portal.timeutil import local_today

log = logging.getLogger(__name__)

DAILY_LOGIN_VERB = "member.daily_login"
_SESSION_KEY = "_daily_login"


def record_daily_login() -> None:
    """``before_request``: record today's ``member.daily_login`` for the current member, once.

    Never fails the request: an error is logged and the request goes on.
    """
    if request.endpoint is None or request.endpoint == "static" or request.endpoint.endswith(".static"):
        return
    if not current_user or not current_user.is_authenticated:
        return
    today = local_today().isoformat()
    if session.get(_SESSION_KEY) == today:
        return
    member = current_user.member
    if member is None:
        return
    member_id = member.id
    key = f"{DAILY_LOGIN_VERB}:{member_id}:{today}"
    try:
        if db.session.scalar(select(Activity.id).where(Activity.idempotency_key == key)) is None:
            from portal.activity.services import record_activity
            from portal.org.models import Member

            db.session.rollback()  # end the read transaction so SQLite begins the write as IMMEDIATE
            with write_intent():
                record_activity(db.session.get(Member, member_id), DAILY_LOGIN_VERB, "day", today, key=key)
                db.session.commit()
    except Exception:  # the page matters more than the record
        db.session.rollback()
        log.exception("could not record the daily login of member %s", member_id)
        return
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        session[_SESSION_KEY] = today

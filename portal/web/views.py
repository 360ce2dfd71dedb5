"""Pages every member sees: home, dashboards, language switch, own data, search, errors."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from portal import ratelimit
from portal.extensions import db
from portal.i18n import normalize_locale
from portal.org.models import OrgUnit
from portal.org.permissions import manageable_units, require
from portal.org.personal import PAGE_ROWS, export_document, page_sections
from portal.web.widgets import render_widgets
from portal.web.ui import safe_next_url
from portal.web.formatting import html_lang

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    """Members go to their dashboard; visitors see the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@login_required
def dashboard():
    """The member dashboard, composed of every enabled plugin's widgets."""
    widgets = render_widgets("portal_dashboard_widgets", account=current_user)
    units = manageable_units("units.dashboard") if current_user.roles else []
    return render_template("web/dashboard.html", widgets=widgets, units=units)


@bp.get("/units/<int:unit_id>/dashboard")
@login_required
def unit_dashboard(unit_id: int):
    """A secretary's dashboard for one unit's subtree."""
    unit = db.session.get(OrgUnit, unit_id) or abort(404)
    require("units.dashboard", unit)
    widgets = render_widgets("portal_unit_dashboard_widgets", account=current_user, unit=unit)
    return render_template("web/unit_dashboard.html", unit=unit, widgets=widgets)


@bp.post("/locale")
def set_locale():
    """The language switcher: remember the choice in the session and on the account."""
    code = normalize_locale(request.form.get("locale"))
    if code is None:
        flash(_("This language is not available."), "error")
    else:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next_url(request.form.get("next"), url_for("web.home")))


@bp.get("/me")
@login_required
def me():
    """Everything the portal holds about the current member, by section."""
    member = current_user.member
    sections = page_sections(member) if member else []
    return render_template("web/me.html", member=member, sections=sections, page_rows=PAGE_ROWS)


@bp.get("/me/export.json")
@login_required
def me_export():
    """Download the same data as JSON: machine keys, codes, ISO times and a ``schema`` (docs/architecture.md)."""
    body = json.dumps(export_document(current_user.member, current_user), ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=my-data.json"})


@bp.get("/search")
def search():
    """Full-text search over what the viewer may see."""
    from portal.search.service import search as run_search, suggest

    query = (request.args.get("q") or "").strip()
    viewer = current_user if current_user.is_authenticated else None
    if query:  # the page is limited like the API: per account, else per client address
        ratelimit.limit("search", f"account:{viewer.id}" if viewer else f"ip:{request.remote_addr}",
                        current_app.config["RATE_LIMIT_SEARCH"])
    results = run_search(query, viewer) if query else []
    suggestion = suggest(query, viewer) if query and not results else None
    return render_template("web/search.html", query=query, results=results, suggestion=suggestion)


def render_error(exc: HTTPException):
    """An HTML error page in the user's language (5xx: :func:`render_server_error`)."""
    if (exc.code or 500) >= 500:
        return render_server_error(exc.code or 500)
    messages = {
        400: _("The request was not understood. Please go back and try again."),
        403: _("You are not allowed to see this page."),
        404: _("This page does not exist, or you are not allowed to see it."),
        405: _("This action is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    if exc.code == 400 and "CSRF" in (exc.description or ""):
        message = _("The form has expired. Please reload the page and submit it again.")
    else:
        message = messages.get(exc.code, _("Something went wrong."))
    return render_template("web/error.html", code=exc.code, message=message), exc.code


def render_server_error(code: int) -> tuple[str, int]:
    """The 5xx page, which must not fail in turn: it never touches the database.

    The session is rolled back (it may hold a failed transaction); the page is
    rendered without context processors, navigation, settings or the account,
    and the language falls back to English when choosing it needs the database.
    """
    try:
        db.session.rollback()
    except Exception:  # a broken connection: the page does not need it
        log.exception("could not roll back after a server error")
    try:
        texts = {"message": _("Something went wrong."), "back": _("Back to the start"), "lang": html_lang()}
    except Exception:  # choosing the language read the account from the database
        texts = {"message": "Something went wrong.", "back": "Back to the start", "lang": "en"}
    return current_app.jinja_env.get_template("web/error_plain.html").render(code=code, **texts), code

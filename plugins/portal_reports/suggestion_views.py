"""Suggestion box pages (blueprint ``reports_suggestions`` under ``/suggestions``): thin views over ``suggestions``.

Sending is :func:`portal.toolkit.unrecorded_post` (no one-time token row naming the account); the sender is
sent to the reply page whose address carries the reply token, to bookmark.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_reports import suggestions
from portal_reports.models import SUGGESTION_TARGETS

bp = Blueprint("reports_suggestions", __name__, url_prefix="/suggestions", template_folder="templates")
db = tk.db
tk.template_labels(bp, "reports_suggestions", target=suggestions.TARGET_LABELS, status=suggestions.STATUS_LABELS)


def _targets(member: tk.Member) -> list[str]:
    """The targets this member can send to (no host branch, no committee: not offered)."""
    return [t for t in SUGGESTION_TARGETS if suggestions.unit_for(member, t) is not None]


@bp.get("/")
@tk.login_required_member
def new():
    """Write a suggestion; the member's named suggestions below."""
    member = tk.current_member()
    return render_template("reports/suggestions/new.html", targets=_targets(member), mine=suggestions.mine(member))


@bp.post("/")
@tk.unrecorded_post
@tk.login_required_member
def send():
    """Send it; the browser goes to the reply page (its address holds the reply token)."""
    member = tk.current_member()
    data = {"target": request.form.get("target"), "body": request.form.get("body", ""),
            "anonymous": request.form.get("anonymous") == "1"}
    return tk.form_post(lambda: suggestions.submit(member, data, now=tk.utcnow()),
                        success=_("Sent. Bookmark the next page, or keep its address: it shows the answer."),
                        redirect_to=lambda result: url_for("reports_suggestions.reply_page", token=result[1]),
                        on_error=url_for("reports_suggestions.new"))


@bp.get("/reply")
def reply_page():
    """The suggestion and its answer, for whoever holds the reply token (no login: the token is the proof)."""
    token = request.args.get("token", "")
    suggestion = suggestions.by_token(token) if token else None
    return render_template("reports/suggestions/reply.html", suggestion=suggestion)


@bp.get("/received")
@login_required
def received():
    """The suggestions sent to a unit (``?unit=``, default the first one the answerer holds)."""
    unit = tk.unit_from_arg(request.args.get("unit"), suggestions.PERMISSION)
    units = tk.granting_units(suggestions.PERMISSION)
    return render_template("reports/suggestions/received.html", unit=unit, units=units,
                           items=suggestions.unit_suggestions(unit), today=tk.local_today())


@bp.get("/digest")
@login_required
def digest():
    """A unit's answered suggestions, without authors (``?unit=``, default the member's home branch)."""
    raw = request.args.get("unit", "")
    member = tk.current_member()
    if raw:
        unit = db.session.get(tk.OrgUnit, int(raw)) if raw.isdigit() and 0 < int(raw) <= tk.MAX_ID else None
    else:
        unit = tk.branch_of(member.home_unit) if member is not None and member.home_unit else None
    if unit is None or not suggestions.can_see_digest(unit, current_user):
        abort(404)
    return render_template("reports/suggestions/digest.html", unit=unit, items=suggestions.digest(unit))


@bp.get("/<int:suggestion_id>")
@login_required
def show(suggestion_id: int):
    """One suggestion: its answerers (with the actions) or its named author."""
    suggestion = suggestions.visible_suggestion(suggestion_id, current_user)
    author = db.session.get(tk.Member, suggestion.author_member_id) if suggestion.author_member_id else None
    return render_template("reports/suggestions/show.html", suggestion=suggestion, author=author,
                           answerer=suggestions.can_answer(suggestion, current_user))


def _act(suggestion_id: int, action, success: str):
    suggestion = suggestions.answerable(suggestion_id, current_user)
    here = url_for("reports_suggestions.show", suggestion_id=suggestion.id)
    return tk.form_post(lambda: action(suggestion), success=success, redirect_to=here, on_error=here)


@bp.post("/<int:suggestion_id>/assign")
@login_required
def assign(suggestion_id: int):
    """Take the suggestion on."""
    return _act(suggestion_id, lambda s: suggestions.assign(s, by=current_user), _("You are answering it."))


@bp.post("/<int:suggestion_id>/reply")
@login_required
def reply(suggestion_id: int):
    """Answer it, optionally for the unit's digest."""
    return _act(suggestion_id, lambda s: suggestions.reply(s, request.form.get("reply"), by=current_user,
                                                           digest=request.form.get("digest") == "1",
                                                           now=tk.utcnow()),
                _("Answer saved."))


@bp.post("/<int:suggestion_id>/close")
@login_required
def close(suggestion_id: int):
    """Close an answered suggestion."""
    return _act(suggestion_id, lambda s: suggestions.close(s, now=tk.utcnow()), _("Closed."))

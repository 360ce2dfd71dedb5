"""The member's review pages under ``/review`` (phone-first): my round, the self-assessment, the rating page.

Thin views: the rules live in ``selfassess`` (drafts and submitting), ``ratings`` (anonymous ratings and the
caller's progress) and ``evidence`` (the year's figures and the 年度纪实 PDF). A member reaches only rounds they
are an entry of; any other round answers 404, so its existence is not told. Rating is
:func:`portal.toolkit.unrecorded_post`: no double-submission row may name the rater.
"""
from __future__ import annotations

from datetime import date, timezone

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from portal.toolkit import gettext as _
from sqlalchemy.orm import contains_eager

from portal import toolkit as tk
from portal_review import evidence, ratings, selfassess, vocabulary
from portal_review.models import GRADES, ReviewEntry, ReviewRound
from portal_review.settings import setting

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates", static_folder="static",
               static_url_path="/static")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
db = tk.db
#: The steps after which the member reads their grade and feedback.
_GRADE_SHOWN = ("reported", "closed")


def _today() -> date:
    return tk.local_today(tk.utcnow())


def _my_entries(member: tk.Member) -> list[ReviewEntry]:
    """The member's entries with their rounds (one statement), newest round first."""
    return list(db.session.scalars(db.select(ReviewEntry).join(ReviewRound)
                                   .options(contains_eager(ReviewEntry.round))
                                   .where(ReviewEntry.member_id == member.id)
                                   .order_by(ReviewRound.year.desc(), ReviewRound.id.desc())).unique())


def _my_entry_or_404(member: tk.Member, round_id: int) -> ReviewEntry:
    """The member's entry in round ``round_id``; 404 when they are not in it (the round is not told)."""
    entry = db.session.scalar(db.select(ReviewEntry).where(ReviewEntry.round_id == round_id,
                                                           ReviewEntry.member_id == member.id))
    if entry is None:
        abort(404)
    return entry


@bp.get("/")
@tk.login_required_member
def mine():
    """My review: the round's steps and dates, my evidence of the year, links to act, grade once reported."""
    member = tk.current_member()
    entries = _my_entries(member)
    entry = entries[0] if entries else None
    today = _today()
    year = entry.round.year if entry else today.year
    progress = ratings.progress(entry.round, member) if entry and entry.round.status == "mutual" else None
    return render_template("review/mine.html", member=member, entry=entry, earlier=entries[1:], year=year,
                           sections=evidence.sections(member, year, today), progress=progress,
                           steps=vocabulary.STATUS_LABELS, grade_shown=_GRADE_SHOWN)


@bp.get("/year/<int:year>.pdf")
@tk.login_required_member
def year_pdf(year: int):
    """My year in one document (年度纪实): the evidence of each enabled plugin and the grade once reported."""
    today = _today()
    if not 2000 <= year <= today.year:
        abort(404)
    member = tk.current_member()
    return tk.pdf_response(evidence.year_pdf(member, year, today),
                           _("Year record %(year)s %(name)s.pdf", year=year, name=member.name))


# -- self-assessment ----------------------------------------------------------------------------------------------


def _render_self(entry: ReviewEntry, *, text: str | None = None, errors: dict | None = None, status: int = 200):
    saved = entry.self_saved_at
    # when the portal last kept this text (ms since 1970): a newer copy on the device is restored over it
    server_saved = int(saved.replace(tzinfo=timezone.utc).timestamp() * 1000) if saved else 0
    return render_template("review/self.html", entry=entry, round=entry.round, errors=errors or {},
                           text=entry.self_text if text is None else text, server_saved=server_saved,
                           editable=entry.round.status in ("study", "self"),
                           max_chars=setting("self_max_chars")), status


@bp.route("/<int:round_id>/self", methods=["GET", "POST"])
@tk.login_required_member
def self_assessment(round_id: int):
    """Write my self-assessment (kept as a draft while typing) and submit it; a refused one comes back as typed."""
    entry = _my_entry_or_404(tk.current_member(), round_id)
    if request.method == "GET":
        return _render_self(entry)
    text = request.form.get("text", "")
    return tk.form_post(lambda: selfassess.submit(entry, text),
                        success=_("Your self-assessment was submitted to the branch."),
                        redirect_to=url_for("review.mine"),
                        on_error=lambda error: _render_self(entry, text=text, errors=error.field_errors,
                                                            status=error.status))


@bp.post("/<int:round_id>/self/draft")
@tk.login_required_member
def self_draft(round_id: int):
    """The self-assessment page's autosave (fetch, JSON ``{"text"}``): keep the draft, answer when it was kept."""
    entry = _my_entry_or_404(tk.current_member(), round_id)
    text = (request.get_json(silent=True) or {}).get("text")
    if not isinstance(text, str):
        return jsonify({"error": {"code": "invalid", "message": _("Send the text as \"text\".")}}), 422
    try:
        selfassess.save_draft(entry, text, now=tk.utcnow())
    except tk.ServiceError as error:
        db.session.rollback()
        return jsonify({"error": {"code": error.code, "message": str(error.message)}}), error.status
    db.session.commit()
    return jsonify({"saved_at": tk.fmt_datetime(entry.self_saved_at)})


# -- mutual assessment --------------------------------------------------------------------------------------------


@bp.get("/<int:round_id>/rate")
@tk.login_required_member
def rate_page(round_id: int):
    """The others of my round, a short form each (four grades and a comment), and "rated n of m"."""
    member = tk.current_member()
    entry = _my_entry_or_404(member, round_id)
    rated, of = ratings.progress(entry.round, member)
    return render_template("review/rate.html", entry=entry, round=entry.round, others=ratings.others(entry),
                           rated=rated, of=of, mine=ratings.rated_ids(entry.round, member), grades=GRADES, open=entry.round.status == "mutual",
                           max_comment=setting("comment_max_chars"))


@bp.post("/<int:round_id>/rate/<int:member_id>")
@tk.unrecorded_post
@tk.login_required_member
def rate(round_id: int, member_id: int):
    """Rate one member of my round (a second rating replaces the first). Nothing recorded names me."""
    member = tk.current_member()
    entry = _my_entry_or_404(member, round_id)
    return tk.form_post(lambda: ratings.rate(entry.round, member, member_id, request.form.get("rating", ""),
                                             request.form.get("comment", ""), today=_today()),
                        success=_("Your rating was kept. Nobody can see who gave it."),
                        redirect_to=url_for("review.rate_page", round_id=round_id) + f"#member-{member_id}",
                        on_error=url_for("review.rate_page", round_id=round_id) + f"#member-{member_id}")

"""The secretaries' review pages under /review/manage: a unit's rounds (list and open), a round (steps and dates,
the entries with their self-assessment, host opinion, rating tallies, proposed and decided grades, the one-third
meter), a member's entry (evidence, self-assessment, host opinion, tallies, the grade forms, the improvement plan
and the handling steps), the results (page, ``.xlsx``, PDF: tallies only, never who rated whom) and the host
opinions a host branch's secretary owes.

Thin views: parse input, call ``rounds``, ``grading``, ``results``, ``ratings``, ``hostopinion`` or ``evidence``
(which check the permissions and the rules), render.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_review import evidence, grading, hostopinion, ratings, results, rounds, vocabulary
from portal_review.forms import (FOLLOW_UP_ROWS, DatesForm, DecideForm, ExcellentReasonForm, FeedbackForm,
                                 HandlingForm, HostOpinionForm, OpenRoundForm, PlanForm, ProposeForm)
from portal_review.models import ROUND_STEPS, HostOpinion, ReviewEntry, ReviewRound
from portal_review.settings import setting

bp = Blueprint("review_manage", __name__, url_prefix="/review/manage", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
MANAGE = "review.manage"
APPROVE = "review.approve"


# -- helpers -------------------------------------------------------------------------------------------------------


def _permission() -> str:
    """The permission the rounds are read with: running the review, or (a committee above) receiving results."""
    return MANAGE if tk.can(MANAGE) else APPROVE


def _year() -> int:
    """``?year=`` (this local year by default; 404 when it is not a plausible year)."""
    value = request.args.get("year", "")
    if not value:
        return tk.local_today().year
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        abort(404)
    return int(value)


def _day(value: str | None, name: str, *, required: bool = True) -> date | None:
    """A ``YYYY-MM-DD`` field as a day; Invalid under the field when it is not one."""
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise tk.Invalid(_("Enter a day as YYYY-MM-DD."), field=name) from None


def _oversees(round_: ReviewRound) -> bool:
    """Whether the account runs the round or receives its results (the committee above)."""
    return rounds.can_manage(round_, current_user) or tk.can(APPROVE, round_.unit)


def _round(round_id: int) -> ReviewRound:
    """The round for its managers and the committee above; 404 for those who do not see it, 403 for those who
    see it only as a member or a host (their pages are ``review.mine`` and the host opinions owed)."""
    round_ = rounds.visible_round(round_id, current_user)
    if not _oversees(round_):
        raise tk.Forbidden(_("The branch secretary runs the review."))
    return round_


def _hosts(entry: ReviewEntry) -> bool:
    """Whether the account answers for the host branch of ``entry`` (the member is away there)."""
    return entry.host_unit_id is not None and tk.can(MANAGE, tk.db.session.get(tk.OrgUnit, entry.host_unit_id))


def _managed_entry(round_id: int, member_id: int) -> ReviewEntry:
    """The entry for a write, seen through its round (the services check ``review.manage`` and self-exclusion)."""
    round_ = _round(round_id)
    entry = None if member_id > tk.MAX_ID else tk.db.session.scalar(
        select(ReviewEntry).where(ReviewEntry.round_id == round_.id, ReviewEntry.member_id == member_id))
    if entry is None:
        abort(404)
    return entry


def _one_third(summary) -> dict:
    """What the one-third meter shows: excellent so far, full members, the usual most, over or not."""
    one_in = setting("excellent_one_in")
    excellent = summary.counts.get("excellent", 0)
    return {"excellent": excellent, "full": summary.full_count, "most": summary.full_count // one_in,
            "exceeds": summary.exceeds_one_third, "reason": summary.excellent_reason,
            "svg": tk.meter(excellent, max(summary.full_count, 1),
                            _("Excellent: %(n)d of %(m)d full members", n=excellent, m=summary.full_count))}


def _host_opinions(round_: ReviewRound, entry_ids: list[int]) -> dict[int, HostOpinion]:
    """The host opinions of the round's entries ``entry_ids`` by entry id (one query)."""
    rows = tk.db.session.scalars(select(HostOpinion).join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
                                 .where(ReviewEntry.round_id == round_.id, HostOpinion.entry_id.in_(entry_ids)))
    return {row.entry_id: row for row in rows}


# -- rounds of a unit ----------------------------------------------------------------------------------------------


def _render_rounds(unit: tk.OrgUnit, year: int, form: OpenRoundForm | None = None, status: int = 200):
    form = form or OpenRoundForm(formdata=None, data={"year": str(year)})
    permission = _permission()
    return render_template("review/manage_rounds.html", unit=unit, year=year, rounds=rounds.rounds_for(unit, year),
                           units=tk.unit_choices(permission), form=form, can_open=tk.can(MANAGE, unit),
                           owed=len(hostopinion.owed(current_user)) if tk.can(MANAGE) else 0), status


@bp.get("/", endpoint="rounds")
@login_required
def rounds_page():
    """The unit's round of the year (``?unit=``, ``?year=``) and the form to open one."""
    return _render_rounds(tk.unit_from_arg(request.args.get("unit"), _permission()), _year())


@bp.post("/")
@login_required
def open_round():
    """Open the review of a year for the unit: an entry for every member, the host opinions asked."""
    unit = tk.unit_from_arg(request.form.get("unit") or request.args.get("unit"), MANAGE)
    form = OpenRoundForm()

    def action() -> ReviewRound:
        year = (form.year.data or "").strip()
        if not year.isdigit():
            raise tk.Invalid(_("Give a year such as %(year)d.", year=tk.local_today().year), field="year")
        return rounds.open_round(unit, int(year), actor=current_user)

    return tk.form_post(action, form=form, success=_("Review opened."),
                        redirect_to=lambda round_: url_for("review_manage.round_page", round_id=round_.id),
                        on_error=lambda error: _render_rounds(unit, tk.local_today().year, form,
                                                              status=error.status))


# -- a round -------------------------------------------------------------------------------------------------------


def _entries_page(round_: ReviewRound, total: int) -> tk.Page:
    """The page of the round's entries named by ``?page=`` (from 1; a bad value is page 1, as ``tk.paginate``)."""
    per_page = current_app.config["PER_PAGE"]
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    number = min(number, max(1, -(-total // per_page)))
    return tk.Page(items=rounds.entries_page(round_, limit=per_page, offset=(number - 1) * per_page), page=number,
                   per_page=per_page, total=total)


def _render_round(round_: ReviewRound, dates: DatesForm | None = None, reason: ExcellentReasonForm | None = None,
                  status: int = 200):
    days = {name: getattr(round_, name) for name in rounds.DATE_FIELDS}
    dates = dates or DatesForm(formdata=None, data={name: day.isoformat() if day else ""
                                                    for name, day in days.items()})
    reason = reason or ExcellentReasonForm(formdata=None, data={"reason": round_.excellent_reason or ""})
    # the counts and the meter: the whole round, whatever the page, in one grouped statement that counts the
    # entries for the pager too (the lists of members by grade are the results page's)
    summary = results.counts(round_)
    page = _entries_page(round_, summary.entry_count)
    return render_template("review/manage_round.html", round=round_, entries=page.items, page=page,
                           tallies=ratings.tallies(round_, [entry.member_id for entry in page.items],
                                                   comments=False),
                           opinions=_host_opinions(round_, [entry.id for entry in page.items]),
                           meter=_one_third(summary), summary=summary, dates=dates, reason=reason,
                           can_manage=rounds.can_manage(round_, current_user), steps=ROUND_STEPS,
                           next_step=rounds.next_status(round_.status)), status


@bp.get("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    """The round: its steps and dates, every entry at a glance, the one-third meter."""
    return _render_round(_round(round_id))


@bp.post("/rounds/<int:round_id>/dates")
@login_required
def set_dates(round_id: int):
    """Set the days of the steps (empty fields clear a day)."""
    round_ = _round(round_id)
    form = DatesForm()
    return tk.form_post(
        lambda: rounds.set_dates(round_, actor=current_user,
                                 **{name: _day(form[name].data, name, required=False) for name in rounds.DATE_FIELDS}),
        form=form, success=_("Dates saved."), redirect_to=url_for("review_manage.round_page", round_id=round_id),
        on_error=lambda error: _render_round(round_, dates=form, status=error.status))


@bp.post("/rounds/<int:round_id>/status")
@login_required
def move(round_id: int):
    """Move the round to its next step (each move checked; reporting upward needs every grade and plan)."""
    round_ = _round(round_id)
    status = request.form.get("status", "")
    return tk.form_post(lambda: rounds.move(round_, status, actor=current_user),
                        success=lambda _r: _("The review is now at: %(step)s",
                                             step=vocabulary.STATUS_LABELS.get(status, status)),
                        redirect_to=url_for("review_manage.round_page", round_id=round_id),
                        on_error=url_for("review_manage.round_page", round_id=round_id))


@bp.post("/rounds/<int:round_id>/excellent-reason")
@login_required
def excellent_reason(round_id: int):
    """Why more than one third were graded excellent."""
    round_ = _round(round_id)
    form = ExcellentReasonForm()
    return tk.form_post(lambda: grading.set_excellent_reason(round_, form.reason.data or "", actor=current_user),
                        form=form, success=_("Reason saved."),
                        redirect_to=url_for("review_manage.round_page", round_id=round_id),
                        on_error=lambda error: _render_round(round_, reason=form, status=error.status))


# -- a member's entry ----------------------------------------------------------------------------------------------


def _entry_forms(entry: ReviewEntry, plan) -> dict:
    """The entry page's forms, filled from what is recorded."""
    blank = {"formdata": None}
    return {
        "propose": ProposeForm(**blank, prefix="propose", data={"grade": entry.proposed_grade or "qualified"}),
        "decide": DecideForm(**blank, prefix="decide", data={"grade": entry.grade or entry.proposed_grade or "qualified",
                                            "on": (entry.decided_on or tk.local_today()).isoformat(),
                                            "reason": entry.grade_reason}),
        "plan": PlanForm(**blank, data={"plan": plan.plan if plan else ""}),
        "handling": HandlingForm(**blank, data={"decided_on": tk.local_today().isoformat()}),
        "feedback": FeedbackForm(**blank, data={"feedback": entry.feedback}),
        "reason": ExcellentReasonForm(**blank, data={"reason": entry.round.excellent_reason or ""}),
    }


def _render_entry(entry: ReviewEntry, *, host_view: bool, forms: dict | None = None, status: int = 200):
    """The entry page; a host branch's secretary sees the evidence and self-assessment, not the tallies."""
    round_ = entry.round
    plan = grading.plan_of(entry)
    all_forms = _entry_forms(entry, plan)
    all_forms.update(forms or {})
    opinion = tk.db.session.scalar(select(HostOpinion).where(HostOpinion.entry_id == entry.id))
    if opinion is not None and host_view:  # the host's form posts to ``host_opinion`` (its prefixed fields)
        all_forms["host"] = HostOpinionForm(formdata=None, prefix=f"o{opinion.id}",
                                            data={"opinion": opinion.opinion or "",
                                                  "proposed_grade": opinion.proposed_grade or ""})
    handlings = grading.handling_of(entry)
    tallies = None if host_view else ratings.tallies(round_).get(entry.member_id)
    return render_template(
        "review/manage_entry.html", round=round_, entry=entry, opinion=opinion, plan=plan, handlings=handlings,
        follow_up_rows=_follow_up_rows(plan), tallies=tallies, host_view=host_view,
        can_manage=not host_view and rounds.can_manage(round_, current_user), forms=all_forms,
        sections=evidence.sections(entry.member, round_.year, tk.local_today()),
        meter=None if host_view else _one_third(results.counts(round_)),
        graded=entry.member.stage == "full" or setting("grade_probationary")), status


def _follow_up_rows(plan) -> list[dict]:
    """The plan's follow-ups padded with empty rows to ``FOLLOW_UP_ROWS`` (one more when they are all used)."""
    rows = list(plan.follow_ups) if plan else []
    return rows + [{"due_on": "", "done_on": "", "notes": ""}] * max(FOLLOW_UP_ROWS - len(rows), 1)


@bp.get("/rounds/<int:round_id>/members/<int:member_id>")
@login_required
def entry(round_id: int, member_id: int):
    """A member's entry: the year's evidence, the self-assessment, the host's opinion, the tallies, the grade.

    For the round's managers and the committee above; a host branch's secretary sees the evidence and the
    self-assessment of a member away there, not the tallies; the member's own page is ``review.mine``.
    Every read is audited (``rounds.visible_entry``).
    """
    round_ = rounds.visible_round(round_id, current_user)
    found = rounds.visible_entry(round_, member_id, current_user)
    if _oversees(round_):
        return _render_entry(found, host_view=False)
    if _hosts(found):
        return _render_entry(found, host_view=True)
    raise tk.Forbidden(_("The branch secretary runs the review."))


@bp.get("/rounds/<int:round_id>/members/<int:member_id>/year.pdf")
@login_required
def entry_year_pdf(round_id: int, member_id: int):
    """The member's year in one document (年度纪实) for the round's year, attached to the entry; the same readers as
    the entry page (the read is audited)."""
    round_ = rounds.visible_round(round_id, current_user)
    found = rounds.visible_entry(round_, member_id, current_user)
    if not (_oversees(round_) or _hosts(found)):
        raise tk.Forbidden(_("The branch secretary runs the review."))
    tk.db.session.commit()  # the audited read
    return tk.pdf_response(evidence.year_pdf(found.member, round_.year, tk.local_today()),
                           _("Year record %(year)s %(name)s.pdf", year=round_.year, name=found.member.name))


def _entry_post(round_id: int, member_id: int, form_key: str, form, action, success) -> object:
    """Run one of the entry page's forms; on a refusal show the page again with what was typed."""
    found = _managed_entry(round_id, member_id)
    back = url_for("review_manage.entry", round_id=round_id, member_id=member_id)
    return tk.form_post(lambda: action(found), form=form, success=success, redirect_to=back,
                        on_error=lambda error: _render_entry(found, host_view=False, forms={form_key: form},
                                                             status=error.status))


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/propose")
@login_required
def propose(round_id: int, member_id: int):
    """The branch committee's proposed grade."""
    form = ProposeForm(prefix="propose")
    return _entry_post(round_id, member_id, "propose", form,
                       lambda found: grading.propose(found, form.grade.data or "", actor=current_user,
                                                     reason=form.reason.data or ""),
                       _("Proposed grade saved."))


def _decided(decision) -> str:
    """The message after a decision: asks for the reason when excellent now exceeds one third without one."""
    if decision.exceeds_one_third and not (decision.entry.round.excellent_reason or "").strip():
        return f"{_('Grade recorded.')} {grading.warning(decision)}"
    return _("Grade recorded.")


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/decide")
@login_required
def decide(round_id: int, member_id: int):
    """The grade the branch assembly decided (the one-third check and the away rule apply)."""
    form = DecideForm(prefix="decide")
    found = _managed_entry(round_id, member_id)
    back = url_for("review_manage.entry", round_id=round_id, member_id=member_id)
    return tk.form_post(
        lambda: grading.decide(found, form.grade.data or "", actor=current_user, reason=form.reason.data or "",
                               on=_day(form.on.data, "on", required=False)),
        form=form, success=_decided,
        redirect_to=lambda decision: back + ("#excellent-reason" if decision.exceeds_one_third else "#grading"),
        on_error=lambda error: _render_entry(found, host_view=False, forms={"decide": form}, status=error.status))


def _follow_ups() -> list[dict]:
    """The plan's follow-up rows as typed (``due_on``, ``done_on``, ``notes``); rows without a due day are dropped."""
    dues, dones = request.form.getlist("due_on"), request.form.getlist("done_on")
    notes = request.form.getlist("follow_notes")
    rows = []
    for index, due in enumerate(dues):
        due_on = _day(due, "follow_ups", required=False)
        if due_on is None:
            continue
        done = dones[index] if index < len(dones) else ""
        done_on = _day(done, "follow_ups", required=False)
        rows.append({"due_on": due_on.isoformat(), "done_on": done_on.isoformat() if done_on else None,
                     "notes": (notes[index] if index < len(notes) else "").strip()})
    return rows


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/plan")
@login_required
def plan(round_id: int, member_id: int):
    """The improvement plan of a member graded basically qualified, with its follow-up dates."""
    form = PlanForm()
    return _entry_post(round_id, member_id, "plan", form,
                       lambda found: grading.save_plan(found, form.plan.data or "", _follow_ups(),
                                                       actor=current_user),
                       _("Improvement plan saved."))


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/handling")
@login_required
def handling(round_id: int, member_id: int):
    """Record a handling step for a member graded unqualified (the portal carries nothing out)."""
    form = HandlingForm()
    return _entry_post(round_id, member_id, "handling", form,
                       lambda found: grading.record_handling(
                           found, form.kind.data or "", actor=current_user,
                           decided_on=_day(form.decided_on.data, "decided_on"),
                           until=_day(form.until.data, "until", required=False), notes=form.notes.data or ""),
                       _("Handling step recorded."))


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/feedback")
@login_required
def feedback(round_id: int, member_id: int):
    """The feedback the member reads with their grade."""
    form = FeedbackForm()
    return _entry_post(round_id, member_id, "feedback", form,
                       lambda found: grading.set_feedback(found, form.feedback.data or "", actor=current_user),
                       _("Feedback saved."))


# -- results -------------------------------------------------------------------------------------------------------


@bp.get("/rounds/<int:round_id>/results")
@login_required
def results_page(round_id: int):
    """The results: counts per grade, the one-third check, the lists (tallies only, never who rated whom)."""
    round_ = _round(round_id)
    summary = results.results(round_)
    return render_template("review/manage_results.html", round=round_, summary=summary, meter=_one_third(summary),
                           chart=tk.bar_chart([(str(label), summary.counts.get(code, 0))
                                               for code, label in vocabulary.GRADE_LABELS.items()],
                                              _("Members per grade")))


@bp.get("/rounds/<int:round_id>/results.xlsx")
@login_required
def results_xlsx(round_id: int):
    """The results as a spreadsheet, one row per member (tallies only)."""
    round_ = _round(round_id)
    return tk.xlsx_response(results.filename(round_, ".xlsx"), results.headers(), results.rows(round_),
                            title=str(round_.year))


@bp.get("/rounds/<int:round_id>/results.pdf")
@login_required
def results_pdf(round_id: int):
    """The results as a PDF (tallies only)."""
    round_ = _round(round_id)
    return tk.pdf_response(results.pdf(round_), results.filename(round_, ".pdf"), inline=True)


# -- host opinions owed --------------------------------------------------------------------------------------------


def _render_owed(failed: HostOpinionForm | None = None, failed_id: int | None = None, status: int = 200):
    """The opinions owed, each with its form (the one refused carries what was typed and its errors)."""
    opinions = hostopinion.owed(current_user)
    entries = {entry.id: entry for entry in tk.db.session.scalars(
        select(ReviewEntry).where(ReviewEntry.id.in_([opinion.entry_id for opinion in opinions])))}
    forms = {opinion.id: HostOpinionForm(formdata=None, prefix=f"o{opinion.id}",
                                         data={"opinion": opinion.opinion or "",
                                               "proposed_grade": opinion.proposed_grade or ""})
             for opinion in opinions}
    if failed is not None and failed_id in forms:
        forms[failed_id] = failed
    return render_template("review/manage_owed.html", opinions=opinions, entries=entries, forms=forms,
                           today=tk.local_today()), status


@bp.get("/host-opinions")
@login_required
def owed():
    """The opinions the account's host branches owe on members away, with the form for each."""
    if not tk.can(MANAGE):
        abort(403)
    return _render_owed()


@bp.post("/host-opinions/<int:opinion_id>")
@login_required
def host_opinion(opinion_id: int):
    """Give (or correct, until the member is graded) the host branch's opinion; the home branch is told."""
    opinion = hostopinion.get_owed(opinion_id, current_user)
    form = HostOpinionForm(prefix=f"o{opinion_id}")
    return tk.form_post(lambda: hostopinion.submit(opinion, form.opinion.data or "", form.proposed_grade.data or None,
                                                   actor=current_user),
                        form=form, success=_("Opinion sent to the home branch."),
                        redirect_to=url_for("review_manage.owed"),
                        on_error=lambda error: _render_owed(form, opinion_id, status=error.status))

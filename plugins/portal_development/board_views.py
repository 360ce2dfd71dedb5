"""The pipeline board under /development/board: a unit subtree's cases per stage, what is overdue, what waits for
the other place, probations ending soon, the annual plan, the public-notice log, training classes, the ``.xlsx``
exports and the per-person record PDF (纪实表).

Thin views: parse input, check permission, call ``board`` (pipeline, plan, logs, rows, PDF), ``training``
(classes) or ``cases`` (who sees a case, with the audit of the read), render.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from portal.toolkit import gettext as _, lazy_gettext as _l

from portal import toolkit as tk
from portal_development import board, cases, training, vocabulary
from portal_development.board_forms import PlanForm, TrainingClassForm

bp = Blueprint("development_board", __name__, url_prefix="/development/board", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
MANAGE = "development.manage"
APPROVE = "development.approve"
#: Column headings of the board's spreadsheet, in the order of ``board.board_rows``.
BOARD_HEADERS = (_l("Name"), _l("Branch"), _l("Host branch"), _l("Stage"), _l("Applied on"), _l("Activist since"),
                 _l("Candidate since"), _l("Admission vote"), _l("Probation ends on"), _l("Next deadline"),
                 _l("Due on"), _l("Overdue items"))
#: Column headings of the public-notice log, in the order of ``board.notice_rows``.
NOTICE_HEADERS = (_l("Name"), _l("Branch"), _l("Place"), _l("From"), _l("Until"), _l("Posted at"), _l("Objections"),
                  _l("Unresolved"))


def _permission() -> str:
    """The permission the board is read with: keeping cases, or (for a committee that only approves) approving."""
    return MANAGE if tk.can(MANAGE) else APPROVE


def _unit() -> tk.OrgUnit:
    """The unit of ``?unit=`` (404 outside the account's scope), or the first one the account holds."""
    return tk.unit_from_arg(request.args.get("unit"), _permission())


def _year() -> int:
    """``?year=`` (this year by default; 404 when it is not a plausible year)."""
    value = request.args.get("year", "")
    if not value:
        return tk.local_today().year
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        abort(404)
    return int(value)


def _target() -> int:
    """The plan's target as typed (``tk.Invalid`` under the field unless a whole number; ``board`` checks the range)."""
    value = request.form.get("target", "").strip()
    if not value.isdigit():
        raise tk.Invalid(_("Give a whole number from 0 to 10000."), field="target")
    return int(value)


def _units() -> list[tuple[int, str]]:
    """The unit picker's choices; none when there is nothing to pick (the account keeps one branch only)."""
    permission = _permission()
    tops = tk.manageable_units(permission)
    if len(tops) == 1 and tops[0].kind == "branch":
        return []
    return tk.unit_choices(permission)


# -- the board -----------------------------------------------------------------------------------------------------


@bp.get("/", endpoint="board")
@login_required
def board_page():
    """The pipeline of the unit's subtree: counts per stage, overdue, waiting, probation endings, plan."""
    unit = _unit()
    today = tk.local_today()
    # The same for everyone who may read the unit's board: rendered once a day, kept until a case, a step, a mentor,
    # a vetting, a notice, a vote, a plan, a training class or a setting changes (the composition cache's stamps).
    content = tk.cached("development.board", (unit.id, today.isoformat()), lambda: Markup(render_template(
        "development/_board_pipeline.html", unit=unit, pipeline=board.pipeline(unit, today),
        stages=vocabulary.STAGE_LABELS)))
    return render_template("development/board.html", unit=unit, units=_units(), content=content)


@bp.get("/board.xlsx")
@login_required
def board_xlsx():
    """The board's cases as a spreadsheet (one row per open case)."""
    unit = _unit()
    return tk.xlsx_response(_("Development %(unit)s.xlsx", unit=unit.name), [str(h) for h in BOARD_HEADERS],
                            board.board_rows(unit, tk.local_today()), title=_("Development"))


@bp.get("/probation")
@login_required
def probation():
    """Probations ending within the window (setting ``probation_window_days``): prepare the conversion."""
    unit = _unit()
    today = tk.local_today()
    return render_template("development/board_probation.html", unit=unit, units=_units(),
                           pipeline=board.pipeline(unit, today), today=today)


# -- plan ----------------------------------------------------------------------------------------------------------


def _render_plan(unit: tk.OrgUnit, form: PlanForm | None = None, status: int = 200):
    """This year's plan (the pipeline's) with the admissions so far and the form, filled from the plan."""
    today = tk.local_today()
    pipeline = board.pipeline(unit, today)
    plan = pipeline.plan
    if form is None:
        form = PlanForm(formdata=None, data={"target": plan.target if plan else "", "notes": plan.notes if plan else ""})
    return render_template("development/board_plan.html", unit=unit, units=_units(), year=today.year, plan=plan,
                           pipeline=pipeline, form=form), status


@bp.get("/plan")
@login_required
def plan():
    """This year's plan of the unit: the target, the notes, and how many were admitted so far."""
    return _render_plan(_unit())


@bp.post("/plan")
@login_required
def save_plan():
    """Set this year's target and notes (the unit's secretaries or the committee above)."""
    unit = _unit()
    form = PlanForm()
    return tk.form_post(
        lambda: board.save_plan(unit, tk.local_today().year, _target(), request.form.get("notes", ""),
                                actor=current_user),
        form=form, success=_("Plan saved."), redirect_to=url_for("development_board.plan", unit=unit.id),
        on_error=lambda error: _render_plan(unit, form, status=error.status))


# -- public notices ------------------------------------------------------------------------------------------------


@bp.get("/notices")
@login_required
def notices():
    """The year's public notices in the subtree, with their objections and how they were resolved."""
    unit, year = _unit(), _year()
    return render_template("development/board_notices.html", unit=unit, units=_units(), year=year,
                           log=board.notice_log(unit, year))


@bp.get("/notices.xlsx")
@login_required
def notices_xlsx():
    """The public-notice log of the year as a spreadsheet."""
    unit, year = _unit(), _year()
    return tk.xlsx_response(_("Public notices %(unit)s %(year)s.xlsx", unit=unit.name, year=year),
                            [str(h) for h in NOTICE_HEADERS], board.notice_rows(unit, year), title=str(year))


# -- training classes ----------------------------------------------------------------------------------------------


def _render_training(unit: tk.OrgUnit, form: TrainingClassForm | None = None, status: int = 200):
    return render_template("development/board_training.html", unit=unit, units=_units(),
                           classes=training.classes_for(unit), form=form or TrainingClassForm(formdata=None)), status


@bp.get("/training")
@login_required
def training_page():
    """The unit's training classes for candidates."""
    return _render_training(_unit())


@bp.post("/training")
@login_required
def create_class():
    """A new training class of the unit (``development.manage``), possibly a course of the online school."""
    unit = _unit()
    form = TrainingClassForm()
    return tk.form_post(
        lambda: training.create_class(unit, request.form.get("title", ""), request.form.get("hours", ""),
                                      actor=current_user, course_id=request.form.get("course_id", "")),
        form=form, success=_("Training class created."),
        redirect_to=url_for("development_board.training_page", unit=unit.id),
        on_error=lambda error: _render_training(unit, form, status=error.status))


# -- the record --------------------------------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/record.pdf")
@login_required
def record_pdf(case_id: int):
    """The per-person record (纪实表) as a PDF, for those who keep, host, approve or mentor the case (the read is
    audited).

    Not the person's (403): see ``cases.printable_case``.
    """
    case = cases.printable_case(case_id, current_user)
    return tk.pdf_response(board.record_pdf(case), _("Development record %(name)s.pdf", name=case.member.name),
                           inline=True)

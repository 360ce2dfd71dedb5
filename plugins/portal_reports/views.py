"""The personal report pages: the member writes (draft autosaved) and sees their reports; readers read,
comment and return; secretaries see who is overdue, also as ``.xlsx``.

Thin views: the rules live in ``writing`` (drafts, submitting), ``reading`` (who may read, the audit,
comments, returns) and ``schedule`` (periods, the overdue list). A report nobody may read answers 404,
so its existence is not told.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_reports import reading, schedule, writing
from portal_reports.models import Report

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates", static_folder="static",
               static_url_path="/static")
db = tk.db
#: The longest report the pages accept (the API and services check it too).
MAX_BODY = 20000
#: Reports on one page of the inbox.
INBOX_PER_PAGE = 50


def _now() -> datetime:
    return tk.utcnow()


def _report_or_404(report_id: int) -> Report:
    """The report, if the current account may read it; 404 otherwise (existence is not told)."""
    report = reading.get_readable(report_id, current_user)
    if report.status == "draft":  # the author's draft is on the writing page
        abort(404)
    return report


def _page_number() -> int:
    """``?page=`` from 1 (a bad value is page 1, as ``tk.paginate`` reads it)."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _period_or_404(member: tk.Member, period: str) -> str:
    """``period`` if the member may write for it now (the current or the previous period), else 404."""
    if period not in schedule.writable_periods(member, _now()):
        abort(404)
    return period


# -- the member ---------------------------------------------------------------------------------------------------


@bp.get("/")
@tk.login_required_member
def mine():
    """My reports (newest first) and the periods I may write for now."""
    member = tk.current_member()
    reports = list(db.session.scalars(writing.reports_of(member)))
    by_period = {report.period: report for report in reports}
    periods = [(period, by_period.get(period)) for period in schedule.writable_periods(member, _now())]
    return render_template("reports/mine.html", member=member, reports=reports, periods=periods)


def _render_write(member: tk.Member, period: str, *, body: str | None = None, share: bool | None = None,
                  errors: dict | None = None, status: int = 200):
    report = db.session.scalar(db.select(Report).where(Report.member_id == member.id, Report.period == period))
    if report is not None and report.status not in ("draft", "returned"):
        # already submitted: nothing to write; the member reads it instead
        return render_template("reports/write.html", member=member, period=period, report=report, locked=True,
                               errors={}, body="", share=False, max_body=MAX_BODY), status
    # when the portal last kept this text (ms since 1970): a newer copy on the device is restored over it
    server_saved = int(report.updated_at.replace(tzinfo=timezone.utc).timestamp() * 1000) if report else 0
    return render_template(
        "reports/write.html", member=member, period=period, report=report, locked=False, errors=errors or {},
        server_saved=server_saved,
        body=body if body is not None else (report.body if report else ""),
        share=share if share is not None else bool(report and report.share_with_host), max_body=MAX_BODY), status


@bp.route("/write/<period>", methods=["GET", "POST"])
@tk.login_required_member
def write(period: str):
    """Write the report for ``period`` (kept as a draft while typing) and send it to the branch.

    A report that was returned is edited here and sent again; a refused one (empty, too long) comes
    back with what was typed.
    """
    member = tk.current_member()
    period = _period_or_404(member, period)
    if request.method == "GET":
        return _render_write(member, period)
    body = request.form.get("body", "")
    share = request.form.get("share_with_host") in ("1", "on", "y")
    return tk.form_post(lambda: writing.submit(member, period, body, share_with_host=share, now=_now()),
                        success=_("Your report was sent to the branch."), redirect_to=url_for("reports.mine"),
                        on_error=lambda error: _render_write(member, period, body=body, share=share,
                                                             errors=error.field_errors, status=error.status))


@bp.post("/write/<period>/draft")
@tk.login_required_member
def draft(period: str):
    """The writing page's autosave (fetch, JSON ``{"body"}``): upsert the draft, answer when it was kept."""
    member = tk.current_member()
    period = _period_or_404(member, period)
    payload = request.get_json(silent=True) or {}
    body, share = payload.get("body"), payload.get("share_with_host")
    if not isinstance(body, str) or not isinstance(share, (bool, type(None))):
        return jsonify({"error": {"code": "invalid", "message": _("Send the text as \"body\".")}}), 422
    try:
        report = writing.save_draft(member, period, body, share_with_host=share, now=_now())
    except tk.ServiceError as error:
        db.session.rollback()
        return jsonify({"error": {"code": error.code, "message": str(error.message)}}), error.status
    db.session.commit()
    return jsonify({"id": report.id, "status": report.status,
                    "saved_at": tk.fmt_datetime(report.updated_at)})


# -- readers ------------------------------------------------------------------------------------------------------


@bp.get("/inbox")
@login_required
def inbox():
    """The reports sent to a unit the reader holds ``reports.read`` on (its subtree; copies shared with it as host)."""
    unit = tk.unit_from_arg(request.args.get("unit"), "reports.read")
    total = reading.inbox_count(unit)
    number = min(_page_number(), max(1, -(-total // INBOX_PER_PAGE)))
    page = tk.Page(items=reading.inbox_reports(unit, limit=INBOX_PER_PAGE, offset=(number - 1) * INBOX_PER_PAGE),
                   page=number, per_page=INBOX_PER_PAGE, total=total)
    return render_template("reports/inbox.html", unit=unit, page=page,
                           units=tk.manageable_units("reports.read"))


@bp.get("/<int:report_id>")
@login_required
def show(report_id: int):
    """One report; the author sees it and its comments, a reader's visit is audited (and marks it read)."""
    report = _report_or_404(report_id)
    if report.member.account_id != current_user.id:
        _open_as_reader(report)
    return render_template("reports/show.html", report=report,
                           is_author=report.member.account_id == current_user.id, errors={}, values={})


def _open_as_reader(report: Report) -> None:
    """Audit the read (written alone by ``tk.audit`` on a GET); the first read also marks the report read.

    A page GET writes here, so the request's read transaction is ended first and the UPDATE runs as a
    writer (SQLite); what the request loaded is kept for the page.
    """
    if report.status != "submitted":
        reading.open_report(report, current_user, now=_now())
        return
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
        with tk.write_intent():
            reading.open_report(report, current_user, now=_now())
            session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


@bp.post("/<int:report_id>/comment")
@login_required
def comment(report_id: int):
    """A reader comments; ``return`` asks the member for more (they are notified either way)."""
    report = _report_or_404(report_id)
    values = {"body": request.form.get("body", ""), "return": request.form.get("return") in ("1", "on", "y")}

    def rerender(error: tk.ServiceError):
        return render_template("reports/show.html", report=report, is_author=False, errors=error.field_errors,
                               values=values), error.status

    return tk.form_post(lambda: reading.comment(report, current_user, values["body"], returned=values["return"],
                                                now=_now()),
                        success=_("Returned to the member for more.") if values["return"] else _("Comment sent."),
                        redirect_to=url_for("reports.show", report_id=report.id), on_error=rerender)


# -- the overdue list ---------------------------------------------------------------------------------------------


@bp.get("/overdue")
@login_required
def overdue():
    """Members of the unit's subtree without a report for their previous period, by stage."""
    unit = tk.unit_from_arg(request.args.get("unit"), "reports.read")
    rows = schedule.overdue(unit, _now())
    return render_template("reports/overdue.html", unit=unit, rows=rows,
                           units=tk.manageable_units("reports.read"))


@bp.get("/overdue.xlsx")
@login_required
def overdue_xlsx():
    """The overdue list as a workbook."""
    unit = tk.unit_from_arg(request.args.get("unit"), "reports.read")
    return schedule.overdue_xlsx(unit, _now())

"""Writing a personal report: the draft kept while writing, submitting it, resubmitting it after a return.

One row per member and period (``Report``): the draft is that row in status ``draft``; submitting turns it
``submitted``. A report already submitted cannot be sent again (409) unless a reader returned it for more:
then the same row is resubmitted with the new body. Each submission is one ``report.submitted`` activity,
keyed ``report.submitted:<id>:<n>`` where ``n`` counts the submissions of that report (one more than the
returns so far), so a resubmission after a return is a new act.
"""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal import toolkit as tk
from portal_reports import schedule
from portal_reports.models import Report, ReportComment

db = tk.db
#: The longest report body, in characters.
BODY_MAX = 20000


def get_report(member: tk.Member, period_key: str) -> Report | None:
    """``member``'s report (or draft) for ``period_key``, if any."""
    return db.session.scalar(select(Report).where(Report.member_id == member.id, Report.period == period_key))


def reports_of(member: tk.Member) -> Select:
    """A query of ``member``'s reports and drafts, newest period first (their page and ``tk.api_page``)."""
    return select(Report).where(Report.member_id == member.id).order_by(Report.period.desc(), Report.id.desc())


def _clean_body(body, *, required: bool) -> str:
    if body is not None and not isinstance(body, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"body": _("Enter text.")})
    text = (body or "").strip()
    if required and not text:
        raise tk.Invalid(_("Please correct the marked fields."), {"body": _("Write your report.")})
    if len(text) > BODY_MAX:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"body": _("At most %(count)s characters.", count=BODY_MAX)})
    return text


def _new_report(member: tk.Member, period_key: str, now: datetime) -> Report:
    report = Report(member_id=member.id, home_unit_id=member.home_unit_id, stage=member.stage, period=period_key,
                    status="draft", host_unit_id=member.host_unit_id, created_at=now, updated_at=now)
    db.session.add(report)
    return report


def save_draft(member: tk.Member, period_key: str, body, *, share_with_host: bool | None = None,
               now: datetime | None = None) -> Report:
    """Keep ``body`` as ``member``'s draft for the period (upsert); refused once the report was submitted.

    A returned report is edited the same way (its status stays ``returned`` until it is resubmitted).
    """
    now = now or tk.utcnow()
    period = schedule.check_period(member, period_key, tk.local_today(now))
    text = _clean_body(body, required=False)
    report = get_report(member, period.key)
    if report is None:
        report = _new_report(member, period.key, now)
    else:
        tk.lock(report)
        if report.status not in ("draft", "returned"):
            raise tk.Conflict(_("This report was already submitted."))
    report.body, report.updated_at = text, now
    if share_with_host is not None:
        report.share_with_host = bool(share_with_host) and member.host_unit_id is not None
    db.session.flush()
    return report


def submission_count(report: Report) -> int:
    """How many times the report has been submitted: once, plus once after each return."""
    if report.status == "draft":
        return 0
    returns = db.session.scalar(select(func.count(ReportComment.id)).where(
        ReportComment.report_id == report.id, ReportComment.returned.is_(True))) or 0
    return returns + 1 - (report.status == "returned")


def submit(member: tk.Member, period_key: str | None, body, *, share_with_host: bool | None = None,
           now: datetime | None = None) -> Report:
    """Submit ``member``'s report for the period (``share_with_host``: None keeps the draft's choice).

    Creates the row or turns the draft into the report; a returned report is resubmitted (same row).
    tk.Conflict when the period's report was already submitted and not returned.
    """
    now = now or tk.utcnow()
    period = schedule.check_period(member, period_key, tk.local_today(now))
    text = _clean_body(body, required=True)
    share = share_with_host
    if share is not None and not isinstance(share, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"share_with_host": _("Enter true or false.")})
    report = get_report(member, period.key)
    if report is None:
        report = _new_report(member, period.key, now)
    else:
        tk.lock(report)
        if report.status not in ("draft", "returned"):
            raise tk.Conflict(_("You already submitted your report for this period."))
    if share is not None:
        report.share_with_host = share and member.host_unit_id is not None
    report.body, report.status, report.submitted_at, report.updated_at = text, "submitted", now, now
    report.home_unit_id, report.stage, report.host_unit_id = member.home_unit_id, member.stage, member.host_unit_id
    db.session.flush()
    count = submission_count(report)
    tk.record_activity(member, "report.submitted", "report", report.id,
                       key=f"report.submitted:{report.id}:{count}", at=now, extras={"period": report.period})
    _tell_readers(report, resubmitted=count > 1)
    return report


def _tell_readers(report: Report, *, resubmitted: bool) -> None:
    """Tell the home branch's secretaries, the mentors and (when shared) the host branch."""
    from portal_reports import reading

    accounts = set(reading.reader_accounts(report)) - {report.member.account_id}
    if not accounts:
        return
    title = (_l("%(name)s resubmitted the personal report for %(period)s", name=report.member.name,
                period=report.period) if resubmitted else
             _l("%(name)s submitted a personal report for %(period)s", name=report.member.name, period=report.period))
    tk.notify(sorted(accounts), title, url=report_url(report), kind="reports")


def report_url(report: Report) -> str:
    """Where a reader opens the report."""
    return tk.path_for("reports.show", report_id=report.id)


def report_json(report: Report) -> dict:
    """The report as the API shows it to someone allowed to read it."""
    return {"id": report.id, "member_id": report.member_id, "period": report.period, "status": report.status,
            "stage": report.stage, "body": report.body, "share_with_host": report.share_with_host,
            "submitted_at": tk.isoformat(report.submitted_at),
            "comments": [{"id": c.id, "body": c.body, "returned": c.returned,
                          "created_at": tk.isoformat(c.created_at)} for c in report.comments]}

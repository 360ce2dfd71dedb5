"""What reports and the suggestion box hold about a member (personal data export) and their part of the member summary.

A member's named suggestions are theirs; an anonymous one is linked to nobody, so it appears in no
one's export (the reply token is the only way back to it, and only its hash is stored).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from . import schedule
from .models import Report, ReportComment, Suggestion

#: Shown for the codes the export keeps (the pages translate them the same way).
REPORT_STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "read": _l("Read"),
                        "commented": _l("Commented"), "returned": _l("Returned for more")}
TARGET_LABELS = {"home": _l("Home branch"), "host": _l("Host branch"), "committee": _l("The committee above")}
SUGGESTION_STATUS_LABELS = {"submitted": _l("Submitted"), "assigned": _l("Assigned"), "replied": _l("Replied"),
                            "closed": _l("Closed")}


def _comments(member) -> dict[int, list[str]]:
    """report id → its comments as lines (``2026-11-20: text``; a return is marked), oldest first."""
    lines: dict[int, list[str]] = defaultdict(list)
    for report_id, body, returned, created_at in tk.db.session.execute(
            select(ReportComment.report_id, ReportComment.body, ReportComment.returned, ReportComment.created_at)
            .join(Report, Report.id == ReportComment.report_id)
            .where(Report.member_id == member.id).order_by(ReportComment.id)):
        mark = _(" (returned for more)") if returned else ""
        lines[report_id].append(f"{tk.local_date(created_at).isoformat()}{mark}: {body}")
    return lines


def _report_rows(member) -> list[dict]:
    """The member's reports (drafts too), newest period first, each with its comments."""
    comments = _comments(member)
    rows = tk.db.session.execute(
        select(Report.id, Report.period, Report.stage, Report.status, Report.body, Report.share_with_host,
               Report.submitted_at, Report.first_read_at, Report.updated_at)
        .where(Report.member_id == member.id).order_by(Report.period.desc(), Report.id.desc())).all()
    return [{"period": r.period, "stage": r.stage, "status": r.status, "body": r.body,
             "share_with_host": r.share_with_host, "submitted_at": r.submitted_at, "first_read_at": r.first_read_at,
             "updated_at": r.updated_at, "comments": comments.get(r.id, [])} for r in rows]


def _suggestion_rows(member) -> list[dict]:
    """The member's NAMED suggestions with their replies, newest first."""
    rows = tk.db.session.execute(
        select(Suggestion.submitted_on, Suggestion.target, tk.OrgUnit.name.label("unit"), Suggestion.body,
               Suggestion.status, Suggestion.reply, Suggestion.replied_at)
        .join(tk.OrgUnit, tk.OrgUnit.id == Suggestion.unit_id)
        .where(Suggestion.author_member_id == member.id)
        .order_by(Suggestion.submitted_on.desc(), Suggestion.id.desc())).all()
    return [{"submitted_on": r.submitted_on, "target": r.target, "unit": r.unit, "body": r.body, "status": r.status,
             "reply": r.reply, "replied_at": r.replied_at} for r in rows]


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's reports (with the readers' comments) and named suggestions (with the replies)."""
    return [
        tk.PersonalSection("reports", _l("Personal reports"), (
            ("period", _l("Period")), ("stage", _l("Stage when written"), "choice", tk.STAGE_LABELS),
            ("status", _l("Status"), "choice", REPORT_STATUS_LABELS), ("body", _l("Report")),
            ("share_with_host", _l("Shared with the host branch"), "bool"),
            ("submitted_at", _l("Submitted"), "datetime"), ("first_read_at", _l("First read"), "datetime"),
            ("updated_at", _l("Last changed"), "datetime"), ("comments", _l("Comments"), "lines"),
        ), _report_rows(member)),
        tk.PersonalSection("suggestions", _l("Suggestions sent with my name"), (
            ("submitted_on", _l("Sent on"), "date"), ("target", _l("Sent to"), "choice", TARGET_LABELS),
            ("unit", _l("Unit")), ("body", _l("Suggestion")),
            ("status", _l("Status"), "choice", SUGGESTION_STATUS_LABELS), ("reply", _l("Reply")),
            ("replied_at", _l("Replied"), "datetime"),
        ), _suggestion_rows(member)),
    ]


def member_summary(member, since: datetime | None, until: datetime | None) -> list[tuple[str, int]]:
    """Reports submitted in the period (by the day last submitted) and named suggestions sent (two counts)."""
    reports = select(func.count(Report.id)).where(Report.member_id == member.id, Report.submitted_at.is_not(None),
                                                 Report.status != "draft")
    suggestions = select(func.count(Suggestion.id)).where(Suggestion.author_member_id == member.id)
    if since is not None:
        reports = reports.where(Report.submitted_at >= since)
        suggestions = suggestions.where(Suggestion.submitted_on >= tk.local_date(since))
    if until is not None:
        reports = reports.where(Report.submitted_at < until)
        suggestions = suggestions.where(Suggestion.submitted_on < tk.local_date(until))
    return [(_("Personal reports submitted"), tk.db.session.scalar(reports) or 0),
            (_("Suggestions sent (named)"), tk.db.session.scalar(suggestions) or 0)]


def review_evidence(member, since: date, until: date) -> dict | None:
    """The annual review's reports evidence for local days ``since..until``: reports submitted, reports missing.

    The periods are those of the member's reporting frequency that start in the period; a period is
    missing when it is over by ``until`` and no report past the draft exists for it. One query. None for a
    member who writes no reports at their stage.
    """
    months = schedule.FREQUENCY_MONTHS.get(schedule.frequency_for(member) or "")
    if months is None:
        return None
    periods, day = [], since
    while day <= until:
        period = schedule.period_of(day, months)
        periods.append(period)
        day = period.end
    sent = set(tk.db.session.scalars(select(Report.period).where(
        Report.member_id == member.id, Report.status != "draft", Report.submitted_at.is_not(None),
        Report.period.in_([period.key for period in periods]))))
    missing = sum(1 for period in periods if period.key not in sent and period.end <= until + timedelta(days=1))
    return {"key": "reports", "label": _l("Personal reports"),
            "figures": {"submitted": len(sent), "missing": missing},
            "lines": [(_("Personal reports submitted"), len(sent)), (_("Personal reports missing"), missing)]}

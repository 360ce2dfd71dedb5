"""Who may read a personal report, reading it (audited), commenting on it and returning it for more.

A report is private. It is read by its author; by holders of ``reports.read`` on the author's home unit
(the branch's secretaries, and those above; also of the member's home unit now, after a transfer);
by the author's mentors (``portal_report_mentors``); and by holders of ``reports.read`` on the host unit
only when the member shared it with the host branch.
Anyone else is answered 404. Every read by someone other than the author is audited; the first one
moves ``submitted`` → ``read``. A comment moves it to ``commented``; a comment that returns it moves it
to ``returned`` (the member may edit and resubmit). The member is told of every comment.
"""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import Row, Select, func, select, union_all, update

from portal import toolkit as tk
from portal_reports.models import Report, ReportComment

db = tk.db
#: The longest comment, in characters.
COMMENT_MAX = 5000


def mentor_accounts(member: tk.Member) -> set[int]:
    """Account ids of ``member``'s mentors, as the enabled plugins declare them."""
    return {int(account_id) for account_id in tk.call_list("portal_report_mentors", member=member)}


def _host_shared(report: Report) -> tk.OrgUnit | None:
    """The host unit a copy of the report goes to, when the member shared it."""
    if not report.share_with_host or report.host_unit_id is None:
        return None
    return db.session.get(tk.OrgUnit, report.host_unit_id)


def can_read(report: Report, account) -> bool:
    """May ``account`` read ``report``? A draft is for its author only."""
    if account is None or not getattr(account, "is_authenticated", False):
        return False
    if report.member.account_id == account.id:
        return True
    if report.status == "draft":
        return False
    # the branch it was sent to, and the member's home branch now (their file follows a transfer)
    for unit_id in {report.home_unit_id, report.member.home_unit_id}:
        if tk.can("reports.read", db.session.get(tk.OrgUnit, unit_id), account):
            return True
    host = _host_shared(report)
    if host is not None and tk.can("reports.read", host, account):
        return True
    return account.id in mentor_accounts(report.member)


def reader_accounts(report: Report) -> list[int]:
    """Who is told of a submission: the home branch's responsible readers, the mentors, the host if shared."""
    accounts = set(tk.responsible_accounts(db.session.get(tk.OrgUnit, report.home_unit_id), "reports.read")[1])
    accounts |= mentor_accounts(report.member)
    host = _host_shared(report)
    if host is not None:
        accounts |= set(tk.responsible_accounts(host, "reports.read")[1])
    return sorted(accounts)


def get_readable(report_id: int, account) -> Report:
    """The report ``account`` may read; tk.NotFound otherwise (its existence is not told)."""
    report = db.session.get(Report, report_id) if 0 < report_id <= tk.MAX_ID else None
    if report is None or not can_read(report, account):
        raise tk.NotFound(_("Not found."))
    return report


def open_report(report: Report, account, *, now: datetime | None = None) -> None:
    """Record that ``account`` (not the author) read the report: audited every time; the first read marks it read.

    On a reading page (GET) both are written in short transactions of their own, as the audit does: turning
    the page's reader transaction into a writer fails on SQLite when another request wrote meanwhile.
    Otherwise the caller commits.
    """
    if report.member.account_id == account.id:
        return
    now = now or tk.utcnow()
    tk.audit("reports.read", "report", report.id, unit_id=report.home_unit_id, actor_account_id=account.id,
             member_id=report.member_id, period=report.period)
    if report.status != "submitted":
        return
    if tk.is_reading_request():
        _mark_read_alone(report, now)
    else:
        report.status, report.first_read_at = "read", report.first_read_at or now


def _mark_read_alone(report: Report, now: datetime) -> None:
    """``submitted`` → ``read`` in a transaction of its own (only if still submitted: two readers at once)."""
    with tk.write_intent(), db.engine.begin() as connection:
        connection.execute(update(Report).where(Report.id == report.id, Report.status == "submitted")
                           .values(status="read", first_read_at=now))
        tk.bump_cache(Report.__tablename__, connection=connection)  # outside the session: the cache cannot see it
    db.session.expire(report, ["status", "first_read_at"])


def comment(report: Report, account, body, *, returned: bool = False, now: datetime | None = None) -> ReportComment:
    """A reader (not the author) comments; ``returned`` asks the member for more. The member is told.

    tk.Forbidden for the author; tk.Conflict on a draft or a report already returned (nothing to comment on).
    """
    now = now or tk.utcnow()
    if report.member.account_id == account.id:
        raise tk.Forbidden(_("You cannot comment on your own report."))
    if not isinstance(returned, bool):
        raise tk.Invalid(_("Please correct the marked fields."), {"return": _("Enter true or false.")})
    text = body.strip() if isinstance(body, str) else ""
    if not text or len(text) > COMMENT_MAX:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"body": _("Write a comment of at most %(count)s characters.", count=COMMENT_MAX)})
    tk.lock(report)
    if report.status in ("draft", "returned"):
        raise tk.Conflict(_("This report is back with the member; wait until they resubmit it."))
    if report.first_read_at is None:
        open_report(report, account, now=now)
    note = ReportComment(report_id=report.id, author_account_id=account.id, body=text, returned=returned,
                         created_at=now)
    db.session.add(note)
    report.status, report.updated_at = ("returned" if returned else "commented"), now
    tk.audit("reports.return" if returned else "reports.comment", "report", report.id, unit_id=report.home_unit_id,
             actor_account_id=account.id)
    db.session.flush()
    _tell_member(report, returned)
    return note


def _tell_member(report: Report, returned: bool) -> None:
    if report.member.account_id is None:
        return
    from portal_reports.writing import report_url

    title = (_l("Your personal report for %(period)s was returned for more", period=report.period) if returned
             else _l("Your personal report for %(period)s has a new comment", period=report.period))
    tk.notify([report.member.account_id], title, url=report_url(report), kind="reports")


def unit_overview(unit: tk.OrgUnit, period_key: str) -> dict:
    """The reports of the unit's subtree for the period (past the draft) and the members still owing one."""
    from portal_reports import schedule

    units = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    reports = db.session.scalars(select(Report).where(
        Report.home_unit_id.in_(units), Report.period == period_key, Report.status != "draft")
        .order_by(Report.submitted_at, Report.id)).unique().all()
    return {"submitted": list(reports), "missing": schedule.missing(unit, period_key)}


def _inbox_halves(unit: tk.OrgUnit, *columns) -> tuple[Select, Select]:
    """The inbox of ``unit`` as two disjoint halves selecting ``columns``: the reports sent from its subtree,
    and the copies shared with it as host by members of other units.

    An OR of the two is planned as a scan of the subtree's reports and a sort on PostgreSQL; each half alone
    reads one covering index (``ix_reports_report_home_sent``, ``ix_reports_report_host_sent``). Disjoint, so
    they are joined by UNION ALL and their counts add up.
    """
    units = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    sent = Report.status != "draft"
    home = select(*columns).where(Report.home_unit_id.in_(units), sent)
    host = select(*columns).where(Report.host_unit_id.in_(units), Report.share_with_host, sent,
                                  Report.home_unit_id.not_in(units))
    return home, host


def inbox_count(unit: tk.OrgUnit) -> int:
    """How many reports ``unit``'s inbox lists (one statement, counted in the two indexes)."""
    home, host = _inbox_halves(unit, func.count())
    return db.session.scalar(select(home.scalar_subquery() + host.scalar_subquery())) or 0


def inbox_reports(unit: tk.OrgUnit, *, limit: int, offset: int = 0) -> list[Row]:
    """One page of ``unit``'s inbox, newest first, in one statement: rows of ``id, member_name, period, status,
    home_unit_id, host_unit_id, submitted_at`` (listing is not reading: no body).

    The page's ids are picked from the index entries of both halves, then only those reports are read, as
    plain rows: a list needs no report objects with their members and units (a third of the page's time).
    """
    ids = union_all(*_inbox_halves(unit, Report.id, Report.submitted_at)).subquery()
    page = select(ids.c.id).order_by(ids.c.submitted_at.desc(), ids.c.id.desc()).limit(limit).offset(offset)
    return list(db.session.execute(
        select(Report.id, tk.Member.name.label("member_name"), Report.period, Report.status, Report.home_unit_id,
               Report.host_unit_id, Report.submitted_at)
        .join(tk.Member, tk.Member.id == Report.member_id).where(Report.id.in_(page))
        .order_by(Report.submitted_at.desc(), Report.id.desc())))

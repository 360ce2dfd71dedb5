"""The reports demo: a year of personal reports (some missing, some returned, one draft), a named suggestion answered
and in the digest and an anonymous one waiting — built twice; and what the reports hold in a member's personal data."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_reports import personal, schedule, suggestions
from portal_reports.models import Report, ReportComment, Suggestion
from tests.helpers.demo import demo_built_twice

#: 2026-11-20 12:00 local: Q4 is the current quarter, Q3 the one reports are overdue for.
NOW = datetime(2026, 11, 20, 4, 0)


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) at a fixed clock, built twice; returns the counts after the first run."""
    yield from demo_built_twice(app, _counts, NOW)


@pytest.fixture
def db(app, built):
    """Reads of the module's demo in an app context (nothing is wiped between these tests)."""
    with app.app_context():
        yield tk.db
        tk.db.session.remove()


def _counts() -> tuple[int, ...]:
    return tuple(tk.db.session.scalar(select(func.count()).select_from(table)) for table in (
        Report, ReportComment, Suggestion)) + (tk.db.session.scalar(
            select(func.count(tk.Activity.id)).where(tk.Activity.verb == "report.submitted")),)


def _member(username: str) -> tk.Member:
    return tk.db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == username))


def _unit(name: str) -> tk.OrgUnit:
    return tk.db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == name))


def test_demo_builds_twice_without_duplicates(built, db):
    assert _counts() == built
    reports, comments, suggestions_, activities = built
    assert reports >= 10 and comments >= 3 and suggestions_ == 2
    # every submission is one activity: the resubmission after a return is a second act of the same report
    resubmitted = db.session.scalar(select(func.count(ReportComment.id)).join(Report).where(
        ReportComment.returned.is_(True), Report.status != "returned"))
    submitted = db.session.scalar(select(func.count(Report.id)).where(Report.status != "draft"))
    assert activities == submitted + resubmitted


def test_a_year_of_reports_quarterly_for_the_away_member(built, db):
    member1 = _member("member1")
    assert schedule.frequency_for(member1) == "quarterly"
    periods = set(db.session.scalars(select(Report.period).where(Report.member_id == member1.id)))
    assert periods == {"2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"}
    shared = db.session.scalars(select(Report).where(Report.member_id == member1.id)).all()
    assert all(report.share_with_host for report in shared)
    # one was returned for more and resubmitted, the latest was read and commented by the host branch
    assert {r.period: r.status for r in shared}["2026-Q2"] == "submitted"
    assert {r.period: r.status for r in shared}["2026-Q3"] == "commented"


def test_statuses_returned_draft_unread_and_missing(built, db):
    member2 = _member("member2")
    mine = {r.period: r for r in db.session.scalars(select(Report).where(Report.member_id == member2.id))}
    assert mine["2026-Q3"].status == "returned" and mine["2026-Q3"].comments[-1].returned
    assert mine["2026-Q4"].status == "draft" and mine["2026-Q4"].submitted_at is None
    statuses = set(db.session.scalars(select(Report.status)))
    assert {"submitted", "read", "commented", "returned", "draft"} <= statuses
    # every read by someone else was audited
    reads = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reports.read"))
    read = db.session.scalar(select(func.count(Report.id)).where(Report.first_read_at.is_not(None)))
    assert reads >= read > 0
    home = _unit("东岭村党支部")
    root = _unit("青山县委")
    assert schedule.overdue(root, NOW), "some reports are missing, so the overdue list has names"
    assert all(row["period"] in {"2026-Q3", "2025"} for row in schedule.overdue(home, NOW))


def test_suggestions_named_answered_in_digest_and_anonymous_waiting(built, db):
    home = _unit("东岭村党支部")
    host = _unit("青山县驻深圳流动党员党支部")
    member2 = _member("member2")
    named = suggestions.digest(home)
    assert [s.author_member_id for s in named] == [member2.id] and named[0].reply
    anonymous = db.session.scalar(select(Suggestion).where(Suggestion.unit_id == host.id))
    assert anonymous.author_member_id is None and anonymous.status == "submitted"
    member1 = _member("member1")
    # nothing of the anonymous one leads to member1: not his personal data, not his name in the audit
    sections = {s.key: s for s in personal.personal_data(member1)}
    assert sections["suggestions"].rows == []
    assert not db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.target_type == "suggestion"))


def test_personal_data_and_summary(built, db):
    member2 = _member("member2")
    sections = {s.key: s for s in personal.personal_data(member2)}
    rows = {row["period"]: row for row in sections["reports"].rows}
    assert rows["2026-Q4"]["status"] == "draft"
    assert rows["2026-Q3"]["comments"] and "2026-" in rows["2026-Q3"]["comments"][0]
    assert [row["status"] for row in sections["suggestions"].rows] == ["replied"]
    summary = dict(personal.member_summary(member2, datetime(2026, 1, 1), None))
    submitted_this_year = db.session.scalar(select(func.count(Report.id)).where(
        Report.member_id == member2.id, Report.status != "draft", Report.submitted_at >= datetime(2026, 1, 1)))
    assert list(summary.values()) == [submitted_this_year, 1]


def test_my_data_page_and_export_show_the_reports(app, built):
    client = app.test_client()
    assert client.post("/login", data={"login": "member2", "password": "pass-1234"}).status_code == 302
    page = client.get("/me").get_data(as_text=True)
    assert "本季度思想汇报（草稿）" in page and "建议支部把每月主题党日" in page
    export = client.get("/me/export.json").get_data(as_text=True)
    assert "本季度思想汇报（草稿）" in export

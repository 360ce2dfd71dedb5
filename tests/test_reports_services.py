"""Personal reports, the services: periods per stage, drafts, submitting and resubmitting after a return,
who may read (the privacy matrix, mentors through the hook), the audit of every read, comments and returns,
reminders told once, and the overdue list by stage (also as ``.xlsx``).

member1 is a full member away (quarterly), member2 a full member at home (yearly); a fixed ``now`` in
local November 2026 (2026-Q4, 2026-H2, 2026).
"""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal_reports import reading, schedule, writing
from portal_reports.models import Report, ReportReminder
from tests.helpers.factories import Factory

NOW = datetime(2026, 11, 20, 2, 0)  # 10:00 on 20 November 2026, Shanghai
BODY = "这个季度我参加了三次组织生活。"


def _audits(db, report: Report) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.read",
                                                            AuditEntry.target_id == str(report.id))))


def _activity_keys(db, member) -> list[str]:
    return list(db.session.scalars(select(tk.Activity.idempotency_key).where(tk.Activity.actor_id == member.id,
                                                                 tk.Activity.verb == "report.submitted")))


def _submit(db, member, period="2026-Q4", body=BODY, **kwargs) -> Report:
    report = writing.submit(member, period, body, now=NOW, **kwargs)
    db.session.commit()
    return report


class Mentors:
    """A development plugin naming mentors (registered for one test)."""

    def __init__(self):
        self.of: dict[int, list[int]] = {}

    @tk.hookimpl
    def portal_report_mentors(self, member):
        return self.of.get(member.id, [])


@pytest.fixture
def mentors(app):
    plugin = Mentors()
    tk.get_manager().pm.register(plugin, name="test_mentors")
    yield plugin
    tk.get_manager().pm.unregister(plugin)


# -- periods --------------------------------------------------------------------------------------------------------

def test_period_keys_and_parsing():
    assert schedule.period_of(date(2026, 11, 20), 3).key == "2026-Q4"
    assert schedule.period_of(date(2026, 11, 20), 6).key == "2026-H2"
    assert schedule.period_of(date(2026, 11, 20), 12).key == "2026"
    q1 = schedule.parse_period("2026-Q1")
    assert (q1.start, q1.end, q1.previous().key) == (date(2026, 1, 1), date(2026, 4, 1), "2025-Q4")
    assert schedule.parse_period("2026-H1").previous().key == "2025-H2"
    assert schedule.parse_period("2026").end == date(2027, 1, 1)
    for bad in ("2026-Q5", "2026-11", "26", "", None, 2026, "2026-H3"):
        assert schedule.parse_period(bad) is None


def test_frequency_by_stage_and_away(db, org):
    assert schedule.frequency_for(org.member1) == "quarterly"  # full, away
    assert schedule.frequency_for(org.member2) == "yearly"  # full, at home
    factory = Factory(db)
    assert schedule.frequency_for(factory.member(org.home, stage="probationary")) == "quarterly"
    assert schedule.frequency_for(factory.member(org.home, stage="applicant")) is None
    tk.set_setting("reports", "frequency_full", "half_yearly")
    assert schedule.writable_periods(org.member2, NOW) == ["2026-H2", "2026-H1"]
    assert schedule.writable_periods(org.member1, NOW) == ["2026-Q4", "2026-Q3"]


def test_period_must_match_the_members_frequency(db, org):
    with pytest.raises(tk.Invalid):
        writing.submit(org.member2, "2026-Q4", BODY, now=NOW)  # member2 reports yearly
    with pytest.raises(tk.Invalid):
        writing.submit(org.member1, "2026-Q2", BODY, now=NOW)  # neither current nor previous
    with pytest.raises(tk.Invalid):
        writing.submit(org.member1, "2026-Q4", "   ", now=NOW)
    db.session.rollback()
    assert _submit(db, org.member2, "2026").status == "submitted"
    assert _submit(db, org.member1, "2026-Q3").period == "2026-Q3"  # the previous quarter, late


# -- drafts, submitting, resubmitting -------------------------------------------------------------------------------

def test_draft_is_upserted_then_submitted_in_the_same_row(db, org):
    first = writing.save_draft(org.member1, "2026-Q4", "开头", now=NOW)
    again = writing.save_draft(org.member1, "2026-Q4", "开头，接着写", now=NOW)
    db.session.commit()
    assert first.id == again.id and again.status == "draft" and again.body == "开头，接着写"
    assert _activity_keys(db, org.member1) == []  # a draft is not an act
    report = _submit(db, org.member1)
    assert (report.id, report.status, report.body) == (first.id, "submitted", BODY)
    with pytest.raises(tk.Conflict):
        writing.save_draft(org.member1, "2026-Q4", "改一下", now=NOW)


def test_second_submission_conflicts_unless_returned(db, org):
    report = _submit(db, org.member1)
    assert _activity_keys(db, org.member1) == [f"report.submitted:{report.id}:1"]
    with pytest.raises(tk.Conflict):
        writing.submit(org.member1, "2026-Q4", "再交一次", now=NOW)
    db.session.rollback()
    reading.comment(report, org.home_sec, "请补充学习体会。", returned=True, now=NOW)
    db.session.commit()
    assert report.status == "returned"
    writing.save_draft(org.member1, "2026-Q4", "补充中", now=NOW)  # a returned report is edited like a draft
    again = _submit(db, org.member1, body="补充了学习体会。")
    assert (again.id, again.status, again.body) == (report.id, "submitted", "补充了学习体会。")
    assert sorted(_activity_keys(db, org.member1)) == [f"report.submitted:{report.id}:1",
                                                       f"report.submitted:{report.id}:2"]
    assert db.session.scalar(select(func.count(Report.id)).where(Report.member_id == org.member1.id)) == 1


def test_share_with_host_only_for_hosted_members(db, org):
    assert _submit(db, org.member1, share_with_host=True).share_with_host is True
    assert _submit(db, org.member2, "2026", share_with_host=True).share_with_host is False  # no host unit


# -- who reads ------------------------------------------------------------------------------------------------------

def test_privacy_matrix(db, org, mentors):
    shared = _submit(db, org.member1, share_with_host=True)
    private = _submit(db, org.member1, "2026-Q3")
    mentor = Factory(db).member(org.foreign, "mentor-x")
    mentors.of[org.member1.id] = [mentor.account_id]
    readers = {"member1": True, "home_sec": True, "organizer": True, "admin": True, "mentor": True,
               "member2": False, "outsider": False, "foreign_sec": False}
    accounts = {**org.accounts, "mentor": mentor.account}
    for name, allowed in readers.items():
        assert reading.can_read(private, accounts[name]) is allowed, name
        assert reading.can_read(shared, accounts[name]) is allowed, name
    assert reading.can_read(shared, org.host_sec) is True
    assert reading.can_read(private, org.host_sec) is False  # the host reads only what is shared with it
    assert reading.can_read(private, None) is False
    with pytest.raises(tk.NotFound):
        reading.get_readable(private.id, org.member2.account)


def test_a_draft_is_for_its_author_only(db, org):
    draft = writing.save_draft(org.member1, "2026-Q4", "还没写完", now=NOW)
    db.session.commit()
    assert reading.can_read(draft, org.member1.account) and not reading.can_read(draft, org.home_sec)


def test_every_read_by_someone_else_is_audited_and_the_first_marks_it_read(db, org):
    report = _submit(db, org.member1)
    reading.open_report(report, org.member1.account, now=NOW)  # the author: no audit, still submitted
    assert report.status == "submitted" and _audits(db, report) == []
    reading.open_report(report, org.home_sec, now=NOW)
    reading.open_report(report, org.organizer, now=NOW)
    db.session.commit()
    entries = _audits(db, report)
    assert {entry.actor_account_id for entry in entries} == {org.home_sec.id, org.organizer.id}
    assert report.status == "read" and report.first_read_at == NOW


def test_submission_tells_the_readers(db, org, mentors):
    mentor = Factory(db).member(org.home, "mentor-y")
    mentors.of[org.member1.id] = [mentor.account_id]
    _submit(db, org.member1, share_with_host=True)
    told = set(db.session.scalars(select(Notification.account_id)))
    assert {org.home_sec.id, mentor.account_id, org.host_sec.id} <= told
    assert org.member1.account_id not in told and org.foreign_sec.id not in told


def test_comment_and_return_notify_the_member(db, org):
    report = _submit(db, org.member1)
    reading.comment(report, org.home_sec, "写得很好。", now=NOW)
    db.session.commit()
    assert report.status == "commented" and report.first_read_at is not None
    assert len(_audits(db, report)) == 1  # commenting unread counts as the read
    reading.comment(report, org.home_sec, "请再补充。", returned=True, now=NOW)
    db.session.commit()
    assert report.status == "returned" and [c.returned for c in report.comments] == [False, True]
    notes = db.session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == org.member1.account_id))
    assert notes == 2
    with pytest.raises(tk.Conflict):  # back with the member until resubmitted
        reading.comment(report, org.home_sec, "还有", now=NOW)
    with pytest.raises(tk.Forbidden):
        reading.comment(report, org.member1.account, "我自己", now=NOW)
    with pytest.raises(tk.Invalid):
        reading.comment(_submit(db, org.member2, "2026"), org.home_sec, " ", now=NOW)


# -- the unit's overview, the overdue list, reminders ---------------------------------------------------------------

def test_unit_overview_lists_submitted_and_missing(db, org):
    late = Factory(db).member(org.home, stage="activist")
    _submit(db, org.member1)
    overview = reading.unit_overview(org.home, "2026-Q4")
    assert [r.member_id for r in overview["submitted"]] == [org.member1.id]
    missing = {m.id for m in overview["missing"]}
    assert late.id in missing and org.member1.id not in missing
    assert org.member2.id not in missing  # yearly: owes nothing for a quarter
    assert org.member2.id in {m.id for m in reading.unit_overview(org.township, "2026")["missing"]}


def test_overdue_list_by_stage_and_xlsx(db, org):
    activist = Factory(db).member(org.home, name="积极分子甲", stage="activist")
    _submit(db, org.member1, "2026-Q3")  # member1 sent the previous quarter's
    rows = schedule.overdue(org.township, NOW)
    owed = {(row["member"].id, row["period"]) for row in rows}
    assert (activist.id, "2026-Q3") in owed and (org.member2.id, "2025") in owed
    assert org.member1.id not in {member_id for member_id, _p in owed}
    stages = [row["stage"] for row in rows]
    assert stages == sorted(stages, key=tk.STAGES.index)
    assert org.outsider.id not in {row["member"].id for row in schedule.overdue(org.home, NOW)}
    response = schedule.overdue_xlsx(org.township, NOW)
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    names = [cell.value for cell in sheet["A"]]
    assert "积极分子甲" in names and org.member1.name not in names


def test_reminders_once_before_the_period_ends(db, org):
    assert schedule.scan(datetime(2026, 11, 1, 2)) == []  # 60 days before the quarter ends
    alerts = schedule.scan(datetime(2026, 12, 20, 2))  # within 14 days of 31 December
    db.session.commit()
    told = {alert.member_id for alert in alerts}
    assert {org.member1.id, org.member2.id} <= told  # Q4 and the year 2026 both end on 31 December
    assert schedule.scan(datetime(2026, 12, 21, 2)) == []  # told once
    assert db.session.scalar(select(func.count(ReportReminder.id))) == len(alerts)


def test_no_reminder_once_submitted(db, org):
    _submit(db, org.member1)
    alerts = schedule.scan(datetime(2026, 12, 20, 2))
    assert org.member1.id not in {alert.member_id for alert in alerts}


def test_reports_follow_a_transfer(db, org):
    """The branch a report was sent to keeps reading it; the member's new home branch reads it too."""
    report = _submit(db, org.member2, "2026")
    assert not reading.can_read(report, org.foreign_sec)
    org.member2.home_unit_id = org.foreign.id
    db.session.commit()
    db.session.expire_all()
    assert reading.can_read(report, org.foreign_sec) and reading.can_read(report, org.home_sec)

"""Compliance (required vs held), reminders, the register and the minutes book; points and mobility reading meetings."""
from __future__ import annotations

import io
import secrets
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_meetings import attendance, compliance
from portal_meetings.models import Attendee, Meeting, PeriodReminder
from portal_mobility import certificates, checkins, outflows
from portal_points.models import PointsEntry
from tests.conftest import login
from tests.helpers.query_counter import count_queries

BRANCH_KINDS = ["assembly", "committee", "lecture", "theme_day", "life_meeting"]


def _utc(year, month, day, hour=0, minute=0) -> datetime:
    """A local (Asia/Shanghai, UTC+8) wall-clock time as the naive UTC the database stores."""
    return datetime(year, month, day, hour, minute) - timedelta(hours=8)


def _meeting(unit, kind, starts_at: datetime, status="held", *, topic=None, mode="onsite", attendees=(),
             **fields) -> Meeting:
    """A meeting written straight through the model (``attendees``: (member, status[, leave reason]))."""
    meeting = Meeting(unit_id=unit.id, kind=kind, topic=topic or f"{kind} {starts_at:%Y-%m-%d %H:%M}",
                      starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), mode=mode, status=status,
                      checkin_secret=secrets.token_hex(16), **fields)
    tk.db.session.add(meeting)
    tk.db.session.flush()
    for member, state, *reason in attendees:
        tk.db.session.add(Attendee(meeting_id=meeting.id, member_id=member.id, status=state,
                                   leave_reason=reason[0] if reason else None,
                                   leave_state="approved" if reason else None))
    tk.db.session.commit()
    return meeting


def _by_kind(rows):
    return {row["kind"]: row for row in rows}


# -- periods ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, key, start, end, months, label", [
    ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 12, 1), 1, "11/2026"),
    ("2026-1", "2026-01", date(2026, 1, 1), date(2026, 2, 1), 1, "1/2026"),
    ("2026-12", "2026-12", date(2026, 12, 1), date(2027, 1, 1), 1, "12/2026"),
    ("2026-Q4", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1), 3, "2026 Q4"),
    (" 2026-q2 ", "2026-Q2", date(2026, 4, 1), date(2026, 7, 1), 3, "2026 Q2"),
    ("2026", "2026", date(2026, 1, 1), date(2027, 1, 1), 12, "Year 2026"),
])
def test_periods_are_read_from_month_quarter_and_year_keys(app, db, text, key, start, end, months, label):
    period = compliance.parse_period(text)
    assert (period.key, period.start, period.end, period.months, str(period.label)) == (key, start, end, months,
                                                                                      label)
    assert compliance.parse_period(period.key) == period


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "2026-00", "26", "2026/11", "0000", "2026-Q4x", None])
def test_a_period_that_cannot_be_read_is_refused_on_the_period_field(app, db, text):
    with pytest.raises(tk.Invalid) as refused:
        compliance.parse_period(text)
    assert refused.value.field_errors.keys() == {"period"}


def test_the_current_period_is_the_one_containing_the_local_day(app, db):
    today = date(2026, 12, 26)
    assert compliance.current_period("month", today).key == "2026-12"
    assert compliance.current_period("quarter", today).key == "2026-Q4"
    assert compliance.current_period("year", today).key == "2026"
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai: the fourth quarter
    assert compliance.current_period(today=tk.local_today(datetime(2026, 9, 30, 17, 0))).key == "2026-Q4"
    with pytest.raises(tk.Invalid):
        compliance.current_period("week", today)


# -- required vs held -----------------------------------------------------------------------

@pytest.fixture
def fourth_quarter(db, org):
    """Meetings of the home branch in and around 2026 Q4 (local dates), and one of another branch."""
    home = org.home
    _meeting(home, "assembly", _utc(2026, 11, 5, 19, 30), "minuted")
    _meeting(home, "assembly", _utc(2026, 12, 20, 19, 30), "notified")  # called, not held: does not count
    _meeting(home, "assembly", _utc(2026, 12, 21, 19, 30), "cancelled")
    _meeting(home, "committee", _utc(2026, 10, 8, 9), "held")
    _meeting(home, "committee", _utc(2026, 11, 8, 9), "archived")
    # 31 December 23:30 in Shanghai is still Q4 (15:30 UTC); 1 January 00:30 is not (16:30 UTC on 31 December)
    _meeting(home, "theme_day", _utc(2026, 12, 31, 23, 30), "held")
    _meeting(home, "theme_day", _utc(2027, 1, 1, 0, 30), "held")
    _meeting(home, "theme_day", _utc(2026, 10, 1, 0, 30), "held")   # 30 September 16:30 UTC: in Q4
    _meeting(home, "theme_day", _utc(2026, 9, 30, 23, 30), "held")  # Q3
    _meeting(home, "life_meeting", _utc(2026, 3, 1, 9), "held")     # the year's one, outside the quarter
    _meeting(org.foreign, "assembly", _utc(2026, 11, 6, 19, 30), "held")
    return home


def test_required_vs_held_per_kind_of_the_unit_in_a_quarter(app, db, org, fourth_quarter):
    rows = compliance.unit_compliance(org.home, compliance.parse_period("2026-Q4"))
    assert [row["kind"] for row in rows] == BRANCH_KINDS  # group meetings are for groups
    got = {row["kind"]: (row["frequency"], row["required"], row["held"], row["window"], row["met"]) for row in rows}
    assert got == {
        "assembly": ("quarterly", 1, 1, "2026-Q4", True),
        "committee": ("monthly", 3, 2, "2026-Q4", False),
        "lecture": ("quarterly", 1, 0, "2026-Q4", False),
        "theme_day": ("monthly", 3, 2, "2026-Q4", False),
        "life_meeting": ("yearly", 1, 1, "2026", True),  # judged by the year the quarter lies in
    }


def test_a_month_view_counts_longer_kinds_in_their_enclosing_period(app, db, org, fourth_quarter):
    november = _by_kind(compliance.unit_compliance(org.home, compliance.parse_period("2026-11")))
    assert (november["assembly"]["required"], november["assembly"]["held"], november["assembly"]["window"]) == \
        (1, 1, "2026-Q4")
    assert (november["committee"]["required"], november["committee"]["held"], november["committee"]["window"]) == \
        (1, 1, "2026-11")
    assert november["life_meeting"]["window"] == "2026"
    december = _by_kind(compliance.unit_compliance(org.home, compliance.parse_period("2026-12")))
    assert december["committee"]["held"] == 0 and december["theme_day"]["held"] == 1
    year = _by_kind(compliance.unit_compliance(org.home, compliance.parse_period("2026")))
    assert (year["committee"]["required"], year["assembly"]["required"], year["theme_day"]["held"]) == (12, 4, 3)


def test_the_settings_decide_which_kinds_are_required_and_how_often(app, db, org, fourth_quarter):
    tk.set_setting("meetings", "frequency_lecture", "none")
    tk.set_setting("meetings", "frequency_assembly", "monthly")
    db.session.commit()
    rows = _by_kind(compliance.unit_compliance(org.home, compliance.parse_period("2026-Q4")))
    assert "lecture" not in rows and rows["assembly"]["required"] == 3
    assert compliance.unit_compliance(org.township, compliance.parse_period("2026-Q4")) == []  # a committee
    tk.set_setting("meetings", "branch_unit_kinds", ["branch", "general_branch", "committee"])
    db.session.commit()
    assert [row["kind"] for row in compliance.unit_compliance(org.township, compliance.parse_period("2026-Q4"))]


def test_group_meetings_are_required_of_groups_only(app, db, org, factory):
    group = factory.unit("First Party Group", "group", org.home)
    _meeting(group, "group", _utc(2026, 11, 12, 20), "held")
    rows = compliance.unit_compliance(group, compliance.parse_period("2026-11"))
    assert [(row["kind"], row["required"], row["held"], row["met"]) for row in rows] == [("group", 1, 1, True)]


def test_the_subtree_table_lists_every_unit_that_must_hold_meetings(app, db, org, fourth_quarter, factory):
    group = factory.unit("First Party Group", "group", org.home)
    factory.unit("Closed Branch", "branch", org.township, closed_at=tk.utcnow())
    table = compliance.subtree_compliance(org.root, compliance.parse_period("2026-Q4"))
    names = [unit.name for unit, _rows in table]
    assert set(names) == {org.home.name, org.foreign.name, org.mobile.name, org.host.name, group.name}
    assert names.index(org.home.name) < names.index(group.name)  # tree order
    rows = {unit.id: _by_kind(unit_rows) for unit, unit_rows in table}
    assert rows[org.home.id] == _by_kind(compliance.unit_compliance(org.home, compliance.parse_period("2026-Q4")))
    assert rows[org.foreign.id]["assembly"]["held"] == 1 and rows[org.host.id]["assembly"]["held"] == 0
    assert list(rows[group.id]) == ["group"]
    below_township = compliance.subtree_compliance(org.township, compliance.parse_period("2026-Q4"))
    assert {unit.name for unit, _rows in below_township} == {org.home.name, org.foreign.name, group.name}


def test_the_subtree_table_costs_the_same_queries_for_more_units(app, db, org, factory):
    period = compliance.parse_period("2026-Q4")
    _meeting(org.home, "assembly", _utc(2026, 11, 5, 19), "held")
    tk.get_setting("meetings", "branch_unit_kinds")  # settings are read once per request: not what is pinned
    with count_queries() as few:
        small = compliance.subtree_compliance(org.root, period)
    for number in range(12):
        branch = factory.unit(f"Branch {number}", "branch", org.township)
        _meeting(branch, "committee", _utc(2026, 10, 3 + number, 9), "held")
    tk.get_setting("meetings", "branch_unit_kinds")
    with count_queries() as many:
        large = compliance.subtree_compliance(org.root, period)
    assert len(large) == len(small) + 12
    assert len(many) == len(few) <= 3, many.report()


# -- reminders ------------------------------------------------------------------------------

def _inbox(account) -> list[str]:
    return list(tk.db.session.scalars(select(Notification.title).where(Notification.account_id == account.id)
                                      .order_by(Notification.id)))


def test_secretaries_are_reminded_once_before_the_period_ends(app, db, org):
    now = _utc(2026, 12, 26, 9)  # six days before the quarter, the month and the year end
    _meeting(org.home, "assembly", _utc(2026, 11, 5, 19, 30), "held")
    _meeting(org.home, "committee", _utc(2026, 12, 3, 9), "held")
    _meeting(org.home, "theme_day", _utc(2026, 12, 1, 9), "held")
    _meeting(org.home, "life_meeting", _utc(2026, 6, 1, 9), "held")
    _meeting(org.home, "lecture", _utc(2026, 12, 27, 9), "notified")  # still to come: not held yet
    alerts = compliance.scan(now)
    home = [alert for alert in alerts if alert.unit_id == org.home.id]
    assert [alert.message._kwargs["kind"] for alert in home] == [compliance.KIND_LABELS["lecture"]]
    alert = home[0]
    assert (alert.kind, alert.permission, alert.account_ids) == ("meetings.compliance", "meetings.manage", ())
    assert str(alert.message) == (f"{org.home.name}: 0 of 1 Party lecture held in 2026 Q4, "
                                  "which ends on 2026-12-31")
    assert alert.url == f"/meetings/manage/compliance?unit={org.home.id}&period=2026-Q4"
    foreign = {alert.message._kwargs["kind"] for alert in alerts if alert.unit_id == org.foreign.id}
    assert foreign == {compliance.KIND_LABELS[kind] for kind in BRANCH_KINDS}
    assert not [alert for alert in alerts if alert.unit_id in (org.root.id, org.township.id)]
    tk.deliver_alerts(alerts)
    db.session.commit()
    assert _inbox(org.home_sec) == [str(alert.message)]
    markers = set(db.session.execute(select(PeriodReminder.kind, PeriodReminder.period)
                                     .where(PeriodReminder.unit_id == org.home.id)).all())
    assert markers == {("lecture", "2026-Q4")}
    assert compliance.scan(now + timedelta(days=1)) == []  # told once per unit, kind and period


def test_no_reminder_while_the_period_is_far_from_its_end(app, db, org):
    assert compliance.scan(_utc(2026, 12, 10, 9)) == []  # 22 days left, the default warns 7 days ahead
    # a reminder is about the local day: 31 December 17:00 UTC is already 1 January in Shanghai
    tk.set_setting("meetings", "compliance_reminder_days", 1)
    db.session.commit()
    assert compliance.scan(datetime(2026, 12, 31, 17, 0)) == []
    last_day = compliance.scan(datetime(2026, 12, 31, 15, 0))  # 23:00 on 31 December in Shanghai
    assert {str(alert.message._kwargs["period"]) for alert in last_day} == {"12/2026", "2026 Q4", "Year 2026"}
    tk.set_setting("meetings", "compliance_reminder_days", 30)
    db.session.commit()
    assert compliance.scan(_utc(2026, 12, 10, 9)) == []  # those periods were told already
    november = {(alert.unit_id, str(alert.message._kwargs["period"])) for alert in compliance.scan(
        _utc(2026, 11, 10, 9))}
    assert (org.home.id, "11/2026") in november and (org.home.id, "2026 Q4") not in november  # 52 days left


def test_the_reminder_scan_costs_the_same_queries_for_more_units(app, db, org, factory):
    now = _utc(2026, 12, 26, 9)
    tk.get_setting("meetings", "branch_unit_kinds")  # settings are read once per request: not what is pinned
    with count_queries() as few:
        small = compliance.scan(now)
    db.session.rollback()
    for number in range(15):
        factory.unit(f"Branch {number}", "branch", org.township)
    tk.get_setting("meetings", "branch_unit_kinds")
    with count_queries() as many:
        large = compliance.scan(now)
    assert len(large) == len(small) + 15 * len(BRANCH_KINDS)
    assert len(many) == len(few) <= 6, many.report()


def test_expected_members_are_reminded_once_before_a_called_meeting(app, db, org):
    now = _utc(2026, 12, 26, 9)
    soon = _meeting(org.home, "assembly", _utc(2026, 12, 26, 19, 30), "notified", topic="学习党章",
                    place="村委会议室", attendees=[(org.member1, "expected"), (org.member2, "leave", "出差"),
                                                   (org.outsider, "expected")])
    later = _meeting(org.home, "lecture", _utc(2026, 12, 28, 19, 30), "notified",
                     attendees=[(org.member2, "expected")])
    _meeting(org.home, "committee", _utc(2026, 12, 26, 15), "draft", attendees=[(org.member2, "expected")])
    alerts = [alert for alert in compliance.scan(now) if alert.kind == "meetings.starts_soon"]
    assert len(alerts) == 1
    assert set(alerts[0].account_ids) == {org.member1.account_id, org.outsider.account_id}
    assert str(alerts[0].message) == "Branch assembly “学习党章” starts at 2026-12-26 19:30: 村委会议室"
    assert alerts[0].url == f"/meetings/{soon.id}"
    tk.deliver_alerts(alerts)
    db.session.commit()
    assert _inbox(org.member1.account) == [str(alerts[0].message)] and _inbox(org.member2.account) == []
    assert db.session.get(Meeting, soon.id).reminded_at == now and db.session.get(Meeting, later.id).reminded_at is None
    again = [alert for alert in compliance.scan(now + timedelta(hours=1)) if alert.kind == "meetings.starts_soon"]
    assert again == []
    next_day = [alert for alert in compliance.scan(_utc(2026, 12, 27, 20)) if alert.kind == "meetings.starts_soon"]
    assert [alert.url for alert in next_day] == [f"/meetings/{later.id}"]
    tk.set_setting("meetings", "meeting_reminder_hours", 0)
    db.session.commit()
    _meeting(org.home, "theme_day", _utc(2026, 12, 28, 9), "notified", attendees=[(org.member1, "expected")])
    assert [a for a in compliance.scan(_utc(2026, 12, 28, 8)) if a.kind == "meetings.starts_soon"] == []


# -- the register and the minutes book ----------------------------------------------------------

@pytest.fixture
def held_quarter(db, org):
    first = _meeting(org.home, "assembly", _utc(2026, 7, 5, 19, 30), "minuted", topic="学习党章第一章",
                     place="村委会议室", host_name="赵书记", recorder_name="钱委员", lecturer_name="孙老师",
                     agenda="一、学习党章", minutes="大家认真学习了党章。", decisions="按时交纳党费。",
                     attendees=[(org.member1, "online"), (org.member2, "leave", "外出务工")])
    second = _meeting(org.home, "committee", _utc(2026, 8, 3, 9), "held", topic="研究发展党员工作",
                      attendees=[(org.member2, "present"), (org.member1, "expected")])
    _meeting(org.home, "lecture", _utc(2026, 9, 28, 19), "notified", topic="秋季党课")
    _meeting(org.home, "theme_day", _utc(2026, 9, 29, 9), "draft", topic="草稿会议")
    _meeting(org.foreign, "assembly", _utc(2026, 8, 6, 9), "held", topic="别的支部")
    return first, second


def test_the_register_lists_each_meeting_with_attendance_and_the_compliance_figures(app, db, org, held_quarter):
    response = compliance.register_xlsx(org.home, compliance.parse_period("2026-Q3"))
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header = values.index(["Starts", "Kind", "Topic", "Mode", "Place", "Host", "Recorder", "Lecturer", "Expected",
                           "Present", "Online", "On leave", "Absent", "Status"])
    heading = [row[0] for row in values[:header] if row and row[0]]
    assert heading[:2] == ["Meeting register", f"{org.home.name} · 2026 Q3"]
    assert "Branch assembly: 1 held of 1 required" in heading
    assert "Annual life meeting: 0 held of 1 required (Year 2026)" in heading
    rows = values[header + 1:]
    assert [row[2] for row in rows] == ["学习党章第一章", "研究发展党员工作", "秋季党课"]  # no draft, no other unit
    first = rows[0]
    assert first[0] == datetime(2026, 7, 5, 19, 30)  # local time
    assert first[1:8] == ["Branch assembly", "学习党章第一章", "On site", "村委会议室", "赵书记", "钱委员", "孙老师"]
    assert first[8:] == [2, 0, 1, 1, 0, "Minuted"]
    assert rows[1][8:] == [2, 1, 0, 0, 1, "Held"]
    assert rows[2][8:] == [0, 0, 0, 0, 0, "Called"]


def test_the_minutes_book_prints_one_held_meeting_per_page(app, db, org, held_quarter):
    response = compliance.minutes_book_pdf(org.home, compliance.parse_period("2026-Q3"))
    assert response.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 2
    first, second = (page.extract_text() for page in pages)
    for text in ("学习党章第一章", "赵书记", "钱委员", "孙老师", "大家认真学习了党章", "按时交纳党费", "张伟",
                 "外出务工", "2026-07-05 19:30"):
        assert text in first, text
    assert "研究发展党员工作" not in first and "研究发展党员工作" in second
    assert "秋季党课" not in first + second  # called, not held
    assert "Absent (1): 张伟" in second and "Present (1): 李芳" in second


def test_an_empty_minutes_book_says_so(app, db, org):
    response = compliance.minutes_book_pdf(org.foreign, compliance.parse_period("2026-Q1"))
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 1 and "No meeting was held in this period." in pages[0].extract_text()


# -- points and mobility read the attendance ----------------------------------------------------

def test_attending_online_earns_the_meeting_points_once(app, db, org):
    meeting = _meeting(org.home, "lecture", _utc(2026, 12, 3, 19), "notified", mode="online",
                       attendees=[(org.member2, "expected")])
    at = meeting.starts_at + timedelta(minutes=5)
    row, created = attendance.check_in(meeting, org.member2, None, now=at)
    db.session.commit()
    assert created and row.status == "online"
    entries = db.session.execute(select(PointsEntry.verb, PointsEntry.points).where(
        PointsEntry.member_id == org.member2.id)).all()
    assert entries == [("meeting.attended_online", 3)]
    attendance.check_in(meeting, org.member2, None, now=at + timedelta(minutes=1))
    db.session.commit()
    assert db.session.scalar(select(func.count(PointsEntry.id)).where(PointsEntry.member_id == org.member2.id)) == 1


def _record(member, verb, meeting_id, unit, at):
    tk.record_activity(member, verb, "meeting", meeting_id, key=f"meeting.attended:{member.id}:{meeting_id}", at=at,
                       extras={"unit_id": unit.id, "kind": "assembly", "at_host": unit.id != member.home_unit_id})


def test_the_annual_review_counts_meetings_attended_online(app, db, org):
    issued = tk.utcnow() - timedelta(days=100)
    outflow = outflows.register_outflow(org.member2, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-03-01", "reason": "务工"}, now=issued)
    certificate = outflows.approve_outflow(outflow, now=issued)
    _record(org.member2, "meeting.attended", 1, org.home, issued + timedelta(days=1))
    _record(org.member2, "meeting.attended_online", 2, org.home, issued + timedelta(days=2))
    db.session.commit()
    facts = certificates.review_facts(certificate, tk.utcnow())
    assert facts["counts"]["meeting.attended"] == 2 and "meeting.attended_online" not in facts["counts"]


def test_the_certificate_lists_meetings_attended_at_the_host_branch_while_valid(app, db, org, factory, client):
    issued = tk.utcnow() - timedelta(days=60)
    member = org.member2
    outflow = outflows.register_outflow(member, {"destination_province": "广东省", "destination_city": "深圳市",
                                                 "start_date": "2025-03-01", "reason": "务工"}, now=issued)
    certificate = outflows.approve_outflow(outflow, now=issued)
    checkin = checkins.request_checkin(member, org.host, now=issued + timedelta(days=1))
    checkins.confirm_checkin(checkin, by_account=org.host_sec, now=issued + timedelta(days=2))
    cell = factory.unit("Shenzhen Group One", "group", org.host)
    _record(member, "meeting.attended", 11, org.host, issued + timedelta(days=10))
    _record(member, "meeting.attended_online", 12, cell, issued + timedelta(days=20))
    _record(member, "meeting.attended", 13, org.home, issued + timedelta(days=30))   # at home: not listed
    _record(member, "meeting.attended", 14, org.host, issued - timedelta(days=5))    # before the certificate
    tk.record_activity(member, "meeting.attended", "meeting", "15", key="odd-extras", at=issued + timedelta(days=3),
                       extras={})  # no unit named: not listed
    db.session.commit()
    listed = certificates.meetings_at_host(certificate)
    assert [(row["unit"].id, row["online"]) for row in listed] == [(cell.id, True), (org.host.id, False)]
    login(client, "home-secretary")
    page = client.get(f"/mobility/certificates/{certificate.id}").get_data(as_text=True)
    assert "Meetings attended at the host branch" in page and cell.name in page and "online" in page
    certificates.close_certificate(certificate, "returned", issued + timedelta(days=15))
    db.session.commit()
    assert [row["unit"].id for row in certificates.meetings_at_host(certificate)] == [org.host.id]

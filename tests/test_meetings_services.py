"""Meetings services: calling and the life cycle, the expected list, the rotating code, check-in, leave,
the register and the attendance summary (plugins/portal_meetings/meetings.py and attendance.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_meetings import attendance, meetings
from portal_meetings.models import Attendee, Meeting
from tests.helpers.query_counter import count_queries

#: 11:00 local on 1 December 2026; the meeting below runs 19:30–21:00 local (11:30–13:00 UTC).
NOW = datetime(2026, 12, 1, 3, 0)
START = datetime(2026, 12, 1, 11, 30)
DURING = START + timedelta(minutes=10)
AFTER = datetime(2026, 12, 1, 14, 0)
DATA = {"kind": "assembly", "topic": "Quarterly assembly", "starts_at": "2026-12-01T19:30",
        "ends_at": "2026-12-01T21:00", "mode": "hybrid", "place": "Village hall"}


def _meeting(org, unit=None, by=None, **changes) -> Meeting:
    unit = unit or org.home
    by = by or (org.host_sec if unit is org.host else org.home_sec)
    meeting = meetings.create_meeting(unit, {**DATA, **changes}, by=by, now=NOW)
    tk.db.session.commit()
    return meeting


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _activities(db, member) -> list[tk.Activity]:
    db.session.expire_all()
    return list(db.session.scalars(select(tk.Activity).where(tk.Activity.actor_id == member.id,
                                                             tk.Activity.verb.like("meeting.%"))))


def test_local_times_are_stored_as_utc_and_the_meeting_is_called(db, org):
    meeting = _meeting(org)
    assert (meeting.starts_at, meeting.ends_at) == (START, datetime(2026, 12, 1, 13, 0))
    assert meeting.status == "notified" and meeting.notified_at == NOW
    assert meetings.parse_local_datetime("2026-12-01T19:30+08:00", "starts_at") == START
    assert meetings.parse_local_datetime("2026-12-01T11:30Z", "starts_at") == START
    draft = meetings.create_meeting(org.home, DATA, by=org.home_sec, now=NOW, call=False)
    assert draft.status == "draft" and draft.attendees == []


@pytest.mark.parametrize("changes, field", [
    ({"ends_at": "2026-12-01T19:00"}, "ends_at"),
    ({"ends_at": "2026-12-01T19:30"}, "ends_at"),
    ({"kind": "picnic"}, "kind"),
    ({"mode": "radio"}, "mode"),
    ({"topic": "  "}, "topic"),
    ({"starts_at": "tomorrow evening"}, "starts_at"),
    ({"place": ""}, "place"),
    ({"online_url": "javascript:alert(1)"}, "online_url"),
])
def test_bad_input_is_refused_with_the_field_and_nothing_written(db, org, changes, field):
    with pytest.raises(tk.Invalid) as refused:
        meetings.create_meeting(org.home, {**DATA, **changes}, by=org.home_sec, now=NOW)
    assert field in refused.value.field_errors
    db.session.rollback()
    assert _count(db, Meeting) == 0


def test_an_online_meeting_needs_no_place(db, org):
    meeting = _meeting(org, mode="online", place="", online_url="https://meet.example.org/abc")
    assert meeting.place is None and meeting.online_url == "https://meet.example.org/abc"


@pytest.mark.parametrize("who", ["foreign_sec", "host_sec", "member2"])
def test_only_managers_of_the_unit_call_its_meetings(app, db, org, who):
    with app.test_request_context():
        with pytest.raises(tk.NotFound):
            meetings.create_meeting(org.home, DATA, by=org.accounts[who], now=NOW)
    db.session.rollback()
    assert _count(db, Meeting) == 0
    assert meetings.create_meeting(org.home, DATA, by=org.organizer, now=NOW).id


def test_expected_list_home_members_hosted_members_and_the_committee(db, org):
    home = _meeting(org)
    roles = {row.member_id: row.role for row in home.attendees}
    assert roles[org.member1.id] == "voting" and roles[org.member2.id] == "voting"
    assert org.outsider.id not in roles
    host = _meeting(org, org.host, kind="group")
    assert {row.member_id: row.role for row in host.attendees}[org.member1.id] == "hosted"
    assert org.member2.id not in {row.member_id for row in host.attendees}
    committee = _meeting(org, kind="committee")
    assert {row.member_id for row in committee.attendees} == {org.home_sec.member.id}
    assert {row.role for row in committee.attendees} == {"committee"}


def test_probationary_members_are_listed_as_such_and_applicants_not(db, org):
    org.member2.stage = "probationary"
    org.outsider.home_unit_id = org.home.id
    org.outsider.stage = "applicant"
    db.session.commit()
    meeting = _meeting(org)
    roles = {row.member_id: row.role for row in meeting.attendees}
    assert roles[org.member2.id] == "probationary" and org.outsider.id not in roles


def test_refresh_keeps_rows_added_by_hand_and_follows_the_unit(db, org):
    meeting = _meeting(org)
    meetings.add_attendee(meeting, org.outsider, "attending", by=org.home_sec)
    org.member2.home_unit_id = org.foreign.id
    db.session.commit()
    meetings.update_meeting(meeting, {"topic": "Renamed"}, by=org.home_sec, now=NOW)
    listed = {row.member_id: row for row in meeting.attendees}
    assert org.member2.id not in listed
    assert listed[org.outsider.id].role == "attending" and listed[org.outsider.id].automatic is False
    meetings.remove_attendee(meeting, org.outsider, by=org.home_sec)
    assert org.outsider.id not in {row.member_id for row in meeting.attendees}


def test_someone_taken_off_the_list_stays_off_when_the_list_is_refreshed(db, org):
    meeting = _meeting(org)
    meetings.remove_attendee(meeting, org.member2, by=org.home_sec)
    meetings.update_meeting(meeting, {"topic": "Renamed"}, by=org.home_sec, now=NOW)
    db.session.commit()
    assert org.member2.id not in {row.member_id for row in meeting.attendees}
    meetings.add_attendee(meeting, org.member2, "attending", by=org.home_sec)
    meetings.update_meeting(meeting, {"topic": "Renamed again"}, by=org.home_sec, now=NOW)
    assert {row.member_id: row.role for row in meeting.attendees}[org.member2.id] == "attending"


def test_calling_moving_and_cancelling_tell_the_expected_members(db, org):
    account = org.member2.account_id
    meeting = meetings.create_meeting(org.home, DATA, by=org.home_sec, now=NOW, call=False)
    assert _count(db, Notification, Notification.account_id == account) == 0
    meetings.call_meeting(meeting, by=org.home_sec, now=NOW)
    meetings.update_meeting(meeting, {"topic": "Only the topic"}, by=org.home_sec, now=NOW)
    assert _count(db, Notification, Notification.account_id == account) == 1
    meetings.update_meeting(meeting, {"place": "School"}, by=org.home_sec, now=NOW)
    meetings.cancel_meeting(meeting, "Typhoon", by=org.home_sec, now=NOW)
    db.session.commit()
    titles = list(db.session.scalars(select(Notification.title).where(Notification.account_id == account)
                                     .order_by(Notification.id)))
    assert titles == ["Meeting called: Quarterly assembly", "Meeting moved: Only the topic",
                      "Meeting cancelled: Only the topic"]
    assert all(url == f"/meetings/{meeting.id}" for url in db.session.scalars(
        select(Notification.url).where(Notification.account_id == account)))


def test_life_cycle(db, org):
    meeting = _meeting(org)
    with pytest.raises(tk.Conflict):
        meetings.mark_held(meeting, by=org.home_sec, now=NOW)  # not started yet
    with pytest.raises(tk.Conflict):
        meetings.record_minutes(meeting, {"minutes": "x"}, by=org.home_sec, now=NOW)
    meetings.mark_held(meeting, by=org.home_sec, now=AFTER)
    with pytest.raises(tk.Invalid):
        meetings.record_minutes(meeting, {"minutes": " "}, by=org.home_sec, now=AFTER)
    with pytest.raises(tk.Conflict):
        meetings.archive_meeting(meeting, by=org.home_sec, now=AFTER)
    meetings.record_minutes(meeting, {"minutes": "Discussed the harvest.", "decisions": "Help the Wangs.",
                                      "host_name": "张书记"}, by=org.home_sec, now=AFTER)
    meetings.archive_meeting(meeting, by=org.home_sec, now=AFTER)
    assert (meeting.status, meeting.host_name) == ("archived", "张书记")
    with pytest.raises(tk.Conflict):
        meetings.cancel_meeting(meeting, "late", by=org.home_sec, now=AFTER)
    with pytest.raises(tk.Conflict):
        meetings.update_meeting(meeting, {"starts_at": "2026-12-02T19:30", "ends_at": "2026-12-02T21:00"},
                                by=org.home_sec, now=AFTER)


def test_a_past_draft_can_be_recorded_as_held_with_its_list(db, org):
    meeting = meetings.create_meeting(org.home, DATA, by=org.home_sec, now=NOW, call=False)
    meetings.mark_held(meeting, by=org.home_sec, now=AFTER)
    assert meeting.status == "held" and org.member2.id in {row.member_id for row in meeting.attendees}


def test_the_code_rotates_and_the_previous_slot_is_still_accepted(db, org):
    meeting = _meeting(org)
    seconds = tk.get_setting("meetings", "checkin_code_seconds")
    first = attendance.current_code(meeting, DURING)
    assert len(first) == 8 and attendance.current_code(meeting, DURING) == first
    later = DURING + timedelta(seconds=seconds)
    assert attendance.current_code(meeting, later) != first
    assert attendance.code_matches(meeting, first, later)
    assert not attendance.code_matches(meeting, first, later + timedelta(seconds=seconds))
    assert attendance.code_matches(meeting, first.lower(), DURING)


def test_a_code_from_another_meeting_or_outside_the_window_is_refused(db, org):
    meeting, other = _meeting(org), _meeting(org, topic="Another")
    with pytest.raises(tk.Invalid) as wrong:
        attendance.check_in(meeting, org.member2, attendance.current_code(other, DURING), now=DURING)
    assert wrong.value.field_errors == {"code": wrong.value.message}
    early = START - timedelta(minutes=tk.get_setting("meetings", "checkin_opens_minutes") + 1)
    with pytest.raises(tk.Conflict):
        attendance.check_in(meeting, org.member2, attendance.current_code(meeting, early), now=early)
    db.session.rollback()
    assert _count(db, tk.Activity) == 0
    assert {row.status for row in db.session.get(Meeting, meeting.id).attendees} == {"expected"}


def test_checking_in_twice_records_one_activity_and_one_row(db, org):
    meeting = _meeting(org)
    code = attendance.current_code(meeting, DURING)
    row, created = attendance.check_in(meeting, org.member2, code, now=DURING)
    again, created_again = attendance.check_in(meeting, org.member2, code, now=DURING + timedelta(minutes=1))
    db.session.commit()
    assert (created, created_again, again.id) == (True, False, row.id)
    assert (row.status, row.method) == ("present", "qr")
    activities = _activities(db, org.member2)
    assert len(activities) == 1 and row.activity_id == activities[0].id
    assert _count(db, Attendee, Attendee.member_id == org.member2.id) == 1


def test_attendance_at_the_host_branch_counts_for_the_home_branch(db, org):
    meeting = _meeting(org, org.host, kind="group")
    attendance.check_in(meeting, org.member1, attendance.current_code(meeting, DURING), now=DURING)
    db.session.commit()
    [activity] = _activities(db, org.member1)
    assert activity.verb == "meeting.attended" and activity.home_unit_id == org.home.id
    assert activity.extras == {"unit_id": org.host.id, "kind": "group", "at_host": True}
    home = _meeting(org)
    attendance.check_in(home, org.member2, attendance.current_code(home, DURING), now=DURING)
    db.session.commit()
    assert _activities(db, org.member2)[0].extras["at_host"] is False


def test_online_then_present_is_still_one_activity(db, org):
    meeting = _meeting(org)
    row, created = attendance.check_in(meeting, org.member2, None, now=DURING)
    assert (row.status, created) == ("online", True)
    row, created = attendance.check_in(meeting, org.member2, attendance.current_code(meeting, DURING), now=DURING)
    db.session.commit()
    assert (row.status, created) == ("present", False)
    [activity] = _activities(db, org.member2)
    assert activity.verb == "meeting.attended_online"


def test_without_a_code_only_listed_members_of_online_meetings_join(db, org):
    onsite = _meeting(org, mode="onsite")
    with pytest.raises(tk.Invalid):
        attendance.check_in(onsite, org.member2, None, now=DURING)
    online = _meeting(org, mode="online", place="")
    with pytest.raises(tk.Invalid):
        attendance.check_in(online, org.outsider, None, now=DURING)


def test_an_unlisted_member_with_the_code_is_added_as_a_guest(db, org):
    meeting = _meeting(org)
    row, created = attendance.check_in(meeting, org.outsider, attendance.current_code(meeting, DURING), now=DURING)
    assert created and (row.role, row.automatic, row.status) == ("guest", False, "present")


def test_leave_request_before_the_start_and_the_decision(db, org):
    meeting = _meeting(org)
    with pytest.raises(tk.Invalid):
        attendance.request_leave(meeting, org.member2, "  ", now=NOW)
    row = attendance.request_leave(meeting, org.member2, "Harvest", now=NOW)
    assert (row.status, row.leave_state, row.leave_reason) == ("leave_requested", "requested", "Harvest")
    assert _count(db, Notification, Notification.account_id == org.home_sec.id,
                  Notification.title == f"Leave requested: {org.member2.name}") == 1
    attendance.decide_leave(meeting, org.member2, False, by=org.home_sec, now=NOW)
    assert (row.status, row.leave_state) == ("expected", "refused")
    with pytest.raises(tk.Conflict):
        attendance.decide_leave(meeting, org.member2, True, by=org.home_sec, now=NOW)
    attendance.request_leave(meeting, org.member2, "Harvest, really", now=NOW)
    attendance.decide_leave(meeting, org.member2, True, by=org.home_sec, now=NOW)
    assert (row.status, row.leave_state) == ("leave", "approved")
    with pytest.raises(tk.Conflict):
        attendance.request_leave(meeting, org.member1, "Too late", now=START)
    with pytest.raises(tk.Conflict):
        attendance.request_leave(meeting, org.outsider, "Not listed", now=NOW)


def test_nobody_decides_their_own_leave(app, db, org):
    meeting = _meeting(org, kind="committee")
    member = org.home_sec.member
    attendance.request_leave(meeting, member, "Ill", now=NOW)
    with app.test_request_context():
        with pytest.raises(tk.Forbidden):
            attendance.decide_leave(meeting, member, True, by=org.home_sec, now=NOW)


def test_the_register_counts_once_and_cannot_uncount(db, org):
    meeting = _meeting(org)
    attendance.mark(meeting, org.member2, "present", by=org.home_sec, now=DURING)
    attendance.mark(meeting, org.member2, "online", by=org.home_sec, now=DURING)
    row = attendance.attendee_of(meeting, org.member2)
    assert (row.status, row.method) == ("present", "register")
    for status in ("absent", "leave"):
        with pytest.raises(tk.Conflict) as refused:
            attendance.mark(meeting, org.member2, status, by=org.home_sec, now=AFTER)
        assert refused.value.code == "already_counted"
    attendance.mark(meeting, org.member1, "absent", by=org.home_sec, now=AFTER)
    with pytest.raises(tk.Invalid):
        attendance.mark(meeting, org.member1, "sleeping", by=org.home_sec, now=AFTER)
    with pytest.raises(tk.Conflict):
        attendance.mark(meeting, org.member1, "present", by=org.home_sec, now=NOW)  # hours before it opens
    db.session.commit()
    assert len(_activities(db, org.member2)) == 1 and _activities(db, org.member1) == []


def test_summary_counts_and_a_home_secretary_sees_only_their_members(db, org):
    host = _meeting(org, org.host, kind="group")
    attendance.check_in(host, org.member1, attendance.current_code(host, DURING), now=DURING)
    db.session.commit()
    full = attendance.summary(host, account=org.host_sec, now=AFTER)
    assert full["expected"] == len(host.attendees) >= 2
    assert full["present"] == 1 and full["absent"] == full["expected"] - 1
    own = attendance.summary(host, account=org.home_sec, now=AFTER)
    assert own["expected"] == 1 and own["present"] == 1 and own["absent"] == 0
    assert [(m["member_id"], m["status"]) for m in own["members"]] == [(org.member1.id, "present")]
    assert attendance.visible_rows(host, org.foreign_sec) is None


def test_summary_before_the_start_counts_no_one_absent(db, org):
    meeting = _meeting(org)
    attendance.request_leave(meeting, org.member2, "Harvest", now=NOW)
    attendance.decide_leave(meeting, org.member2, True, by=org.home_sec, now=NOW)
    before = attendance.summary(meeting, now=NOW)
    assert before["leave"] == 1 and before["absent"] == 0
    assert {m["status"] for m in before["members"]} == {"expected", "leave"}
    after = attendance.summary(meeting, now=AFTER)
    assert after["absent"] == after["expected"] - 1
    assert {m["status"] for m in after["members"]} == {"absent", "leave"}


def test_members_see_upcoming_meetings_at_home_and_at_the_host(db, org):
    home, host = _meeting(org), _meeting(org, org.host, kind="group")
    draft = meetings.create_meeting(org.home, DATA, by=org.home_sec, now=NOW, call=False)
    db.session.commit()
    with_patch = meetings.upcoming_for_member(org.member1, now=NOW)
    assert {m.id for m in with_patch} == {home.id, host.id} and draft.id not in {m.id for m in with_patch}
    assert {m.id for m in meetings.upcoming_for_member(org.member2, now=NOW)} == {home.id}
    assert meetings.upcoming_for_member(org.member2, now=AFTER) == []


@pytest.mark.postgres
def test_upcoming_meetings_are_found_through_indexes_on_postgresql(db, org):
    """"Listed OR held by the member's units" in one WHERE made PostgreSQL read every meeting of the county for a
    member's page (issue 20: 57 ms, a filter with a hashed SubPlan); each half must be an indexed lookup. Seq scans
    are priced out so that a tiny test database is planned like a large one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    _meeting(org), _meeting(org, org.host, kind="group")
    with count_queries() as queries:
        meetings.upcoming_for_member(org.member1, now=NOW)
    statement = next(q for q in queries if "FROM meetings_meeting" in q.sql)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement.sql, statement.parameters))
    assert "SubPlan" not in plan and "Seq Scan on meetings_meeting" not in plan, plan
    assert "Index Cond: (member_id = " in plan and "Index Cond: (unit_id = ANY" in plan, plan


def test_visibility(db, org):
    meeting = _meeting(org, org.host, kind="group")
    assert meetings.can_view(meeting, org.member1.account) and meetings.can_view(meeting, org.home_sec)
    assert not meetings.can_view(meeting, org.member2.account)
    assert not meetings.can_view(meeting, org.foreign_sec) and not meetings.can_view(meeting, None)
    draft = meetings.create_meeting(org.host, DATA, by=org.host_sec, now=NOW, call=False)
    assert not meetings.can_view(draft, org.member1.account) and meetings.can_view(draft, org.host_sec)


def test_the_called_members_are_told_the_local_time_and_place(db, org):
    meeting = meetings.create_meeting(org.home, DATA, by=org.home_sec, now=NOW)
    db.session.commit()
    note = db.session.scalar(select(Notification).where(Notification.account_id == org.member2.account_id))
    local = tk.to_local(meeting.starts_at).strftime("%Y-%m-%d %H:%M")
    assert local in note.display_body and (meeting.place or "") in note.display_body
    assert meeting.starts_at.strftime("%H:%M") not in note.display_body  # not the stored UTC time

"""The member's meeting pages: who sees what (GET matrix), local times in zh_CN, check-in by the
QR code's URL, joining online, leave, the .ics files and the dashboard panels.

Pages read the real clock, so meetings that must be open are placed around now; the
fixed meeting (2026-12-01 19:30 in Shanghai) only checks how times are shown and written.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from icalendar import Calendar
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_meetings import attendance, meetings, widgets
from portal_meetings.models import Attendee
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, db_fingerprint, expect, logged_in

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
DEC_1 = {"starts_at": "2026-12-01T19:30", "ends_at": "2026-12-01T21:00"}  # local time: 11:30–13:00 UTC


def _local(at: datetime) -> str:
    """A naive-UTC instant as the local time a form takes."""
    return tk.to_local(at).strftime("%Y-%m-%dT%H:%M")


def _meeting(db, org, unit=None, *, topic="Study the new rules", kind="assembly", mode="onsite", times=None,
             online_url=None, by=None, call=True):
    """A meeting of ``unit`` (the home branch) called by its secretary; ``times`` local, default: in progress now."""
    now = tk.utcnow()
    times = times or {"starts_at": _local(now - timedelta(minutes=10)), "ends_at": _local(now + timedelta(hours=1))}
    data = {"kind": kind, "topic": topic, "mode": mode, "place": "Village hall" if mode != "online" else "",
            "online_url": online_url or "", **times}
    meeting = meetings.create_meeting(unit or org.home, data, by=by or org.home_sec, call=call)
    db.session.commit()
    return meeting


def _activities(db, member) -> int:
    return db.session.scalar(select(func.count(tk.Activity.id)).where(
        tk.Activity.actor_id == member.id, tk.Activity.verb.in_(("meeting.attended", "meeting.attended_online"))))


def _login(client, username: str) -> None:
    """Log in and make today's first request (the daily login is recorded then, not by the page under test)."""
    login(client, username)
    client.get("/")


def _row(db, meeting, member) -> Attendee | None:
    db.session.expire_all()
    return db.session.scalar(select(Attendee).where(Attendee.meeting_id == meeting.id,
                                                    Attendee.member_id == member.id))


def test_permission_matrix(app, db, org):
    """Home meeting: its members and managers see it; other branches get 404; accounts without a member
    profile have no check-in page or calendar (403). The code lets a guest from another branch in."""
    meeting = _meeting(db, org)
    code = attendance.current_code(meeting)
    seen = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "meetings.mine": logged_in(),
        "meetings.show": seen,
        "meetings.ics": seen,
        "meetings.checkin": expect(200, anonymous=302, organizer=403, admin=403),
        "meetings.calendar": expect(200, anonymous=302, organizer=403, admin=403),
    }, blueprints={"meetings"}, url_values={
        "meetings.show": {"meeting_id": meeting.id}, "meetings.ics": {"meeting_id": meeting.id},
        "meetings.checkin": {"meeting_id": meeting.id, "code": code},
    })
    assert checked == 5 * 9


def test_checkin_page_without_a_current_code_is_hidden_from_others(app, client, db, org):
    meeting = _meeting(db, org)
    login(client, "outsider")
    assert client.get(f"/meetings/{meeting.id}/checkin").status_code == 404
    assert client.get(f"/meetings/{meeting.id}/checkin?code=AAAAAAAA").status_code == 404
    # a draft is nobody's business but the secretaries', code or not
    draft = _meeting(db, org, call=False)
    assert client.get(f"/meetings/{draft.id}/checkin?code={attendance.current_code(draft)}").status_code == 404
    login(client, "member2")
    assert client.get(f"/meetings/{draft.id}").status_code == 404


def test_member_of_another_branch_gets_404_and_hosted_member_sees_the_host_branch(app, db, org):
    host_meeting = _meeting(db, org, org.host, topic="Shenzhen theme day", kind="theme_day", by=org.host_sec)
    for username, status in (("member1", 200), ("member2", 404), ("outsider", 404), ("host-secretary", 200),
                             ("home-secretary", 404)):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/meetings/{host_meeting.id}").status_code == status, username
        assert client.get(f"/meetings/{host_meeting.id}.ics").status_code == status, username
    client = app.test_client()
    login(client, "member1")
    mine = client.get("/meetings/").get_data(as_text=True)
    assert "Shenzhen theme day" in mine and "Host branch" in mine


def test_my_meetings_in_chinese_show_local_times(app, client, db, org):
    meeting = _meeting(db, org, topic="支部党员大会：学习新条例", times=DEC_1)
    login(client, "member2")
    page = client.get(f"/meetings/{meeting.id}", headers=ZH)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="zh-CN"' in html
    assert "19:30" in html and "21:00" in html and "11:30" not in html
    assert "2026/12/1" in html  # the zh_CN date format: the page is rendered in Chinese
    listing = client.get("/meetings/", headers=ZH).get_data(as_text=True)
    assert "支部党员大会：学习新条例" in listing and "19:30" in listing and "11:30" not in listing


def test_checkin_through_the_qr_url_counts_once(app, client, db, org):
    meeting = _meeting(db, org)
    code = attendance.current_code(meeting)
    anonymous = client.get(f"/meetings/{meeting.id}/checkin?code={code}")  # scanned before logging in
    assert anonymous.status_code == 302
    assert anonymous.location.startswith("/login?next=") and unquote(anonymous.location).endswith(
        f"/meetings/{meeting.id}/checkin?code={code}")
    _login(client, "member1")
    before = db_fingerprint()
    page = client.get(f"/meetings/{meeting.id}/checkin?code={code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'name="code" value="{code}"' in html and "meetings-big" in html
    assert db_fingerprint() == before  # opening the scanned link writes nothing
    assert _row(db, meeting, org.member1).status == "expected"

    response = client.post(f"/meetings/{meeting.id}/checkin", data={"code": code})
    assert response.status_code == 302 and response.location.endswith(f"/meetings/{meeting.id}")
    row = _row(db, meeting, org.member1)
    assert (row.status, row.method) == ("present", "qr") and row.activity_id is not None
    assert _activities(db, org.member1) == 1
    shown = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    local = tk.to_local(row.checked_in_at).strftime("%H:%M")
    assert f"Checked in at {local}" in shown and "Your attendance is counted" in shown

    again = client.post(f"/meetings/{meeting.id}/checkin", data={"code": code}, follow_redirects=True)
    assert "already counted" in again.get_data(as_text=True)
    assert _activities(db, org.member1) == 1
    # the QR link now says so instead of offering the button again
    assert "meetings-big" not in client.get(f"/meetings/{meeting.id}/checkin?code={code}").get_data(as_text=True)


def test_wrong_code_or_closed_window_writes_nothing(app, client, db, org):
    meeting = _meeting(db, org)
    other = _meeting(db, org, topic="Another meeting")
    _login(client, "member1")
    before = db_fingerprint()
    response = client.post(f"/meetings/{meeting.id}/checkin", data={"code": attendance.current_code(other)},
                           follow_redirects=True)
    assert "This code is not for this meeting." in response.get_data(as_text=True)
    assert db_fingerprint() == before and _activities(db, org.member1) == 0

    now = tk.utcnow()
    past = _meeting(db, org, topic="Last week", times={"starts_at": _local(now - timedelta(days=7)),
                                                       "ends_at": _local(now - timedelta(days=7, hours=-1))})
    before = db_fingerprint()
    response = client.post(f"/meetings/{past.id}/checkin", data={"code": attendance.current_code(past)},
                           follow_redirects=True)
    assert "Check-in is not open for this meeting now." in response.get_data(as_text=True)
    assert db_fingerprint() == before
    # my meetings: the one in progress is listed once (coming up), last week's under past ones as absent
    listing = client.get("/meetings/").get_data(as_text=True)
    assert listing.count("Study the new rules") == 1
    past_part = listing.split('id="past"')[1]
    assert "Last week" in past_part and "Absent" in past_part and "Study the new rules" not in past_part


def test_past_meetings_are_listed_ten_at_a_time_newest_first(app, client, db, org):
    """A phone page: the ten newest past meetings, then "Older meetings" pages back (no count is needed)."""
    now = tk.utcnow()
    for weeks in range(1, 13):  # twelve weekly meetings, the newest a week ago
        start = now - timedelta(weeks=weeks)
        _meeting(db, org, topic=f"Week {weeks:02d}", times={"starts_at": _local(start),
                                                           "ends_at": _local(start + timedelta(hours=1))})
    _meeting(db, org, topic="Next week", times={"starts_at": _local(now + timedelta(weeks=1)),
                                                "ends_at": _local(now + timedelta(weeks=1, hours=1))})
    _login(client, "member2")
    first = client.get("/meetings/").get_data(as_text=True)
    shown = [f"Week {weeks:02d}" for weeks in range(1, 11)]
    past = first.split('id="past"')[1]
    assert [topic for topic in shown if topic in past] == shown and "Week 11" not in past
    assert past.index("Week 01") < past.index("Week 10")  # newest first
    assert "Next week" in first.split('id="past"')[0]  # coming up: on every page of the past ones
    assert 'href="/meetings/?page=2#past"' in past and "Newer meetings" not in past
    second = client.get("/meetings/?page=2").get_data(as_text=True)
    past = second.split('id="past"')[1]
    assert "Week 11" in past and "Week 12" in past and "Week 10" not in past
    assert 'href="/meetings/#past"' in past and "?page=3" not in past
    assert "Next week" in second.split('id="past"')[0]
    assert client.get("/meetings/?page=x").get_data(as_text=True).count("Week 01") == 1  # read as the first page
    assert client.get("/meetings/?page=99999999999").status_code == 200  # far past the end: nothing listed


def test_guest_from_another_branch_checks_in_with_the_code(app, client, db, org):
    meeting = _meeting(db, org)
    login(client, "outsider")
    code = attendance.current_code(meeting)
    assert client.get(f"/meetings/{meeting.id}/checkin?code={code}").status_code == 200
    response = client.post(f"/meetings/{meeting.id}/checkin", data={"code": code})
    assert response.status_code == 302
    row = _row(db, meeting, org.outsider)
    assert (row.role, row.status) == ("guest", "present") and _activities(db, org.outsider) == 1
    assert client.get(f"/meetings/{meeting.id}").status_code == 200  # now listed, so the page is theirs too


def test_join_online_records_then_opens_the_link(app, client, db, org):
    meeting = _meeting(db, org, mode="hybrid", online_url="https://meet.example.org/room-7")
    _login(client, "member2")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Join online" in page and "https://meet.example.org/room-7" not in page  # the link goes through the portal
    response = client.post(f"/meetings/{meeting.id}/join")
    assert response.status_code == 302 and response.location == "https://meet.example.org/room-7"
    row = _row(db, meeting, org.member2)
    assert (row.status, row.method) == ("online", "online") and _activities(db, org.member2) == 1
    client.post(f"/meetings/{meeting.id}/join")
    assert _activities(db, org.member2) == 1

    onsite = _meeting(db, org, topic="On site only")
    before = db_fingerprint()
    refused = client.post(f"/meetings/{onsite.id}/join", follow_redirects=True)
    assert "Scan the code shown at the meeting to check in." in refused.get_data(as_text=True)
    assert db_fingerprint() == before


def test_leave_request_before_the_start(app, client, db, org):
    now = tk.utcnow()
    meeting = _meeting(db, org, times={"starts_at": _local(now + timedelta(days=2)),
                                       "ends_at": _local(now + timedelta(days=2, hours=2))})
    _login(client, "member2")
    assert "Ask for leave" in client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    before = db_fingerprint()
    refused = client.post(f"/meetings/{meeting.id}/leave", data={"reason": "  "}, follow_redirects=True)
    assert "Give a reason for your leave." in refused.get_data(as_text=True) and db_fingerprint() == before
    response = client.post(f"/meetings/{meeting.id}/leave", data={"reason": "Working a night shift in Dongguan"})
    assert response.status_code == 302
    row = _row(db, meeting, org.member2)
    assert (row.status, row.leave_reason) == ("leave_requested", "Working a night shift in Dongguan")
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Leave requested" in page and "Working a night shift in Dongguan" in page


def _event(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    return events


def _sequence_after(db, client, meeting, change) -> tuple[int, int, object]:
    """SEQUENCE before and after ``change`` (the row last changed an hour ago, the change happens now)."""
    meeting.updated_at = tk.utcnow() - timedelta(hours=1)
    db.session.commit()
    (before,) = _event(client.get(f"/meetings/{meeting.id}.ics"))
    change()
    db.session.commit()
    (after,) = _event(client.get(f"/meetings/{meeting.id}.ics"))
    return int(before["sequence"]), int(after["sequence"]), after


def test_ics_of_a_meeting_moved_and_cancelled(app, client, db, org):
    meeting = _meeting(db, org, topic="学习新条例", times=DEC_1)
    login(client, "member2")
    (event,) = _event(client.get(f"/meetings/{meeting.id}.ics"))
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 11, 30, tzinfo=timezone.utc)
    assert event.decoded("dtend") == datetime(2026, 12, 1, 13, 0, tzinfo=timezone.utc)
    assert str(event["uid"]) == f"meeting-{meeting.id}@localhost"
    assert str(event["summary"]) == "Branch assembly: 学习新条例"
    assert str(event["location"]) == "Village hall" and str(event["url"]).endswith(f"/meetings/{meeting.id}")
    assert str(event["status"]) == "CONFIRMED"

    before, after, moved = _sequence_after(db, client, meeting, lambda: meetings.update_meeting(
        meeting, {"starts_at": "2026-12-02T19:30", "ends_at": "2026-12-02T21:00"}, by=org.home_sec))
    assert moved.decoded("dtstart") == datetime(2026, 12, 2, 11, 30, tzinfo=timezone.utc)
    assert after > before and str(moved["uid"]) == str(event["uid"])

    before, after, cancelled = _sequence_after(db, client, meeting, lambda: meetings.cancel_meeting(
        meeting, "The hall is flooded", by=org.home_sec))
    assert str(cancelled["status"]) == "CANCELLED" and after > before


def test_calendar_feed_has_my_meetings_at_home_and_host(app, db, org):
    now = tk.utcnow()
    soon = {"starts_at": _local(now + timedelta(days=3)), "ends_at": _local(now + timedelta(days=3, hours=2))}
    home = _meeting(db, org, topic="Home assembly", times=soon)
    host = _meeting(db, org, org.host, topic="Host theme day", kind="theme_day", times=soon, by=org.host_sec)
    foreign = _meeting(db, org, org.foreign, topic="Foreign assembly", times=soon, by=org.foreign_sec)
    client = app.test_client()
    login(client, "member1")
    uids = {str(event["uid"]) for event in _event(client.get("/meetings/calendar.ics"))}
    assert uids == {f"meeting-{home.id}@localhost", f"meeting-{host.id}@localhost"}
    assert f"meeting-{foreign.id}@localhost" not in uids


def test_dashboard_panels(app, client, db, org):
    now = tk.utcnow()
    for day in range(1, 5):
        _meeting(db, org, topic=f"Meeting on day {day}", times={
            "starts_at": _local(now + timedelta(days=day)), "ends_at": _local(now + timedelta(days=day, hours=1))})
    panels = widgets.member_widgets(org.member2.account)
    assert [str(panel.title) for panel in panels] == ["Upcoming meetings"]
    assert [meeting.topic for meeting, _home in panels[0].context["meetings"]] == [
        "Meeting on day 1", "Meeting on day 2", "Meeting on day 3"]
    assert widgets.member_widgets(org.admin) == []
    login(client, "member2")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Upcoming meetings" in dashboard and "Meeting on day 3" in dashboard and "Meeting on day 4" not in dashboard

    assert widgets.unit_widgets(org.member2.account, org.home) == []
    (panel,) = widgets.unit_widgets(org.home_sec, org.home)
    assert {row["kind"] for row in panel.context["rows"]} >= {"assembly", "committee", "theme_day"}
    assert widgets.unit_widgets(org.home_sec, org.township) == []  # a committee above holds no branch meetings
    client = app.test_client()
    login(client, "home-secretary")
    unit_page = client.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Meetings this quarter" in unit_page and "/meetings/manage/compliance?unit=" in unit_page

"""The secretary's meeting pages (blueprint ``meetings_manage``): who may open them, calling and editing a
meeting with per-field messages, the register, the projector's QR code, compliance and the downloads."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import cache
from portal import toolkit as tk
from portal_meetings import attendance, compliance, meetings
from portal_meetings.models import Attachment, Attendee, Meeting
from tests.conftest import login
from tests.helpers.query_counter import count_queries
from tests.helpers.permission_matrix import check_matrix, expect

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORM = {"unit": "", "kind": "assembly", "topic": "第四季度党员大会", "starts_at": "2026-12-10T19:30",
        "ends_at": "2026-12-10T21:00", "place": "村委会会议室", "mode": "onsite", "online_url": "", "host_name": "",
        "recorder_name": "", "lecturer_name": "", "agenda": "1. 学习\n2. 讨论"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _local(at) -> str:
    return tk.to_local(at).strftime("%Y-%m-%dT%H:%M")


def _meeting(db, org, *, unit=None, starts_in=timedelta(hours=-1), hours=2, call=True, kind="assembly",
             mode="onsite") -> Meeting:
    """A meeting of the home branch (by default) that started an hour ago."""
    start = tk.utcnow() + starts_in
    meeting = meetings.create_meeting(unit or org.home, {
        "kind": kind, "topic": "Theme day", "starts_at": _local(start), "ends_at": _local(start + timedelta(hours=hours)),
        "place": "Village hall", "mode": mode}, by=None, now=tk.utcnow(), call=call)
    db.session.commit()
    return meeting


def _held(db, org, **kwargs) -> Meeting:
    meeting = _meeting(db, org, **kwargs)
    meetings.mark_held(meeting, by=None, now=tk.utcnow())
    db.session.commit()
    return meeting


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def test_get_permission_matrix(app, db, org):
    meeting = _held(db, org)
    item = meetings.add_attachment(meeting, _png(), by=None)
    db.session.commit()
    managers_anywhere = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200,
                               admin=200)
    # the home branch's meeting: its secretary and those above; other secretaries 404, members 404
    home_meeting = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
    # the home branch's figures: members hold the permission nowhere (403); other secretaries 404
    home_unit = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200, organizer=200,
                       admin=200)
    unit = {"unit": org.home.id, "period": "2026-Q4"}
    checked = check_matrix(app, org, {
        "meetings_manage.index": managers_anywhere,
        "meetings_manage.new": managers_anywhere,
        "meetings_manage.meeting": home_meeting,
        "meetings_manage.edit": home_meeting,
        "meetings_manage.register": home_meeting,
        "meetings_manage.qr": home_meeting,
        "meetings_manage.attachment": home_meeting,
        "meetings_manage.compliance": home_unit,
        "meetings_manage.register_xlsx": home_unit,
        "meetings_manage.minutes_pdf": home_unit,
    }, blueprints={"meetings_manage"}, url_values={
        "meetings_manage.meeting": {"meeting_id": meeting.id}, "meetings_manage.edit": {"meeting_id": meeting.id},
        "meetings_manage.register": {"meeting_id": meeting.id}, "meetings_manage.qr": {"meeting_id": meeting.id},
        "meetings_manage.attachment": {"attachment_id": item.id}, "meetings_manage.compliance": unit,
        "meetings_manage.register_xlsx": unit, "meetings_manage.minutes_pdf": unit,
    })
    assert checked == 10 * 9


def _png():
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(PNG), filename="sign-in.png", content_type="image/png")


def test_index_lists_the_units_meetings_newest_first_and_filters_by_period(app, db, org):
    older = _meeting(db, org, starts_in=timedelta(days=-40))
    newer = _meeting(db, org, starts_in=timedelta(days=2))
    newer.topic = "Newer meeting"
    _meeting(db, org, unit=org.foreign)  # another branch's: not listed
    db.session.commit()
    client = _client(app, "home-secretary")
    page = client.get("/meetings/manage/").get_data(as_text=True)
    assert "East Ridge Village Branch" in page and "New meeting" in page
    assert page.index("Newer meeting") < page.index("Theme day")
    listed = re.findall(r'href="/meetings/manage/(\d+)"', page)
    assert listed == [str(newer.id), str(older.id)]  # newest first, the foreign branch's not there
    month = compliance.period_of(tk.local_date(older.starts_at), 1).key  # 42 days apart: another month
    filtered = client.get(f"/meetings/manage/?unit={org.home.id}&period={month}").get_data(as_text=True)
    assert re.findall(r'href="/meetings/manage/(\d+)"', filtered) == [str(older.id)]
    bad = client.get(f"/meetings/manage/?unit={org.home.id}&period=2026-Q9")
    assert bad.status_code == 422 and 'id="period-err"' in bad.get_data(as_text=True)
    # a unit outside the secretary's scope: 404, as for every unit page
    assert client.get(f"/meetings/manage/?unit={org.foreign.id}").status_code == 404


def test_the_register_list_is_kept_and_changes_at_once_with_an_attendance_or_an_edit(app, db, org):
    """The list with its counts is rendered once for every secretary of the unit (the composition cache); a tick
    in the register, a new meeting or an edited topic shows on the next request."""
    meeting = _held(db, org)
    url = f"/meetings/manage/?unit={org.home.id}"
    secretary, organizer = _client(app, "home-secretary"), _client(app, "organizer")
    secretary.get(url)
    hits = cache.stats(app).hits
    page = organizer.get(url).get_data(as_text=True)
    assert cache.stats(app).hits > hits, "the list was computed again for another secretary"
    listed = len(meeting.attendees)
    assert f"{listed} listed · 0 came · 0 on leave" in page

    register = f"/meetings/manage/{meeting.id}/register"
    assert secretary.post(register, data={"member_id": org.member2.id, "status": "present"}).status_code == 302
    assert f"{listed} listed · 1 came · 0 on leave" in organizer.get(url).get_data(as_text=True)

    meeting.topic = "Renamed theme day"
    _meeting(db, org, starts_in=timedelta(days=3)).topic = "Assembly next week"
    db.session.commit()
    page = secretary.get(url).get_data(as_text=True)
    assert "Renamed theme day" in page and "Assembly next week" in page and "2 meetings" in page


def _cold_statements(app, client, url: str):
    """The statements of ``url`` computed afresh (nothing kept), after the day's first request."""
    client.get(url)
    cache.clear(app)
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    return queries


def test_the_register_list_cold_sends_the_same_statements_for_many_meetings(app, db, org):
    client = _client(app, "home-secretary")
    url = f"/meetings/manage/?unit={org.home.id}"
    _held(db, org)
    few = _cold_statements(app, client, url)
    for days in range(1, 13):
        meeting = _held(db, org, starts_in=timedelta(days=-days))
        attendance.mark(meeting, org.member2, "present", by=None, now=meeting.ends_at)
        db.session.commit()
    many = _cold_statements(app, client, url)
    assert len(many) == len(few) <= 8, few.report() + "\n" + many.report()


def test_creating_a_meeting_as_draft_or_called(app, db, org):
    client = _client(app, "home-secretary")
    form = {**FORM, "unit": str(org.home.id)}
    response = client.post("/meetings/manage/new", data={**form, "action": "draft"})
    assert response.status_code == 302
    draft = db.session.scalar(select(Meeting))
    assert (draft.status, draft.topic, draft.unit_id, draft.attendees) == ("draft", "第四季度党员大会", org.home.id, [])
    assert _local(draft.starts_at) == "2026-12-10T19:30"  # typed as local time, stored as UTC
    response = client.post("/meetings/manage/new", data={**form, "topic": "Called", "action": "call"})
    called = db.session.scalar(select(Meeting).where(Meeting.topic == "Called"))
    assert response.headers["Location"].endswith(f"/meetings/manage/{called.id}")
    assert called.status == "notified"
    assert {org.member1.id, org.member2.id} <= {row.member_id for row in called.attendees}


def test_bad_fields_answer_422_with_a_message_under_each_field_and_write_nothing(app, db, org):
    client = _client(app, "home-secretary")
    response = client.post("/meetings/manage/new", data={**FORM, "unit": str(org.home.id), "topic": "",
                                                         "starts_at": "tomorrow", "place": "", "action": "call"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("topic", "starts_at", "place"):
        assert f'id="{field}-err"' in page, field
    assert 'value="村委会会议室"' not in page and "1. 学习" in page  # what was typed is kept
    assert tk.count(select(Meeting)) == 0
    response = client.post("/meetings/manage/new", data={**FORM, "action": "call"})  # no unit chosen
    assert response.status_code == 422 and 'id="unit-err"' in response.get_data(as_text=True)
    assert tk.count(select(Meeting)) == 0


def test_a_meeting_ending_before_it_starts_is_refused(app, db, org):
    client = _client(app, "home-secretary")
    response = client.post("/meetings/manage/new", data={**FORM, "unit": str(org.home.id), "ends_at": "2026-12-10T18:00",
                                                         "action": "call"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="ends_at-err"' in page and "The meeting must end after it starts." in page
    assert tk.count(select(Meeting)) == 0
    meeting = _meeting(db, org, starts_in=timedelta(days=3))
    response = client.post(f"/meetings/manage/{meeting.id}/edit", data={**FORM, "ends_at": "2026-12-10T18:00"})
    assert response.status_code == 422 and 'id="ends_at-err"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.topic == "Theme day"


def test_form_errors_read_in_chinese(app, db, org):
    """The per-field messages come from the plugin's catalog (passes once the zh_CN catalog is translated)."""
    client = _client(app, "home-secretary")
    client.post("/locale", data={"locale": "zh_CN"})
    response = client.post("/meetings/manage/new", data={**FORM, "unit": str(org.home.id), "topic": "",
                                                         "ends_at": "2026-12-10T18:00", "action": "call"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-err">([^<]+)</p>', page))
    assert set(errors) >= {"topic", "ends_at"}
    assert all(CJK.search(message) for message in errors.values()), errors
    assert tk.count(select(Meeting)) == 0


def test_a_foreign_secretary_gets_404_on_every_page_of_the_meeting(app, db, org):
    meeting = _held(db, org)
    client = _client(app, "foreign-secretary")
    for path in ("", "/edit", "/register", "/qr"):
        assert client.get(f"/meetings/manage/{meeting.id}{path}").status_code == 404, path
    for path, data in (("/state", {"to": "archive"}), ("/register", {"member_id": org.member2.id, "status": "present"}),
                       ("/minutes", {"minutes": "x"})):
        assert client.post(f"/meetings/manage/{meeting.id}{path}", data=data).status_code == 404, path
    assert client.get(f"/meetings/manage/compliance?unit={org.home.id}").status_code == 404
    assert db.session.get(Meeting, meeting.id).status == "held"


def test_the_life_cycle_buttons(app, db, org):
    client = _client(app, "home-secretary")
    draft = _meeting(db, org, call=False)
    page = client.get(f"/meetings/manage/{draft.id}").get_data(as_text=True)
    assert "Call the meeting" in page and "Mark as held" in page and "Cancel the meeting" in page
    assert client.post(f"/meetings/manage/{draft.id}/state", data={"to": "call"}).status_code == 302
    assert db.session.get(Meeting, draft.id).status == "notified"
    response = client.post(f"/meetings/manage/{draft.id}/state", data={"to": "cancel", "reason": ""})
    assert response.status_code == 422 and db.session.get(Meeting, draft.id).status == "notified"
    client.post(f"/meetings/manage/{draft.id}/state", data={"to": "held"})
    assert db.session.get(Meeting, draft.id).status == "held"
    response = client.post(f"/meetings/manage/{draft.id}/minutes", data={"minutes": "", "decisions": "None"})
    assert response.status_code == 422 and 'id="minutes-err"' in response.get_data(as_text=True)
    client.post(f"/meetings/manage/{draft.id}/minutes", data={"minutes": "We studied.", "decisions": "Plant trees.",
                                                             "host_name": "Secretary Li"})
    meeting = db.session.get(Meeting, draft.id)
    assert (meeting.status, meeting.minutes, meeting.host_name) == ("minuted", "We studied.", "Secretary Li")
    client.post(f"/meetings/manage/{draft.id}/state", data={"to": "archive"})
    assert db.session.get(Meeting, draft.id).status == "archived"
    later = _meeting(db, org, starts_in=timedelta(days=5))
    client.post(f"/meetings/manage/{later.id}/state", data={"to": "cancel", "reason": "Typhoon warning"})
    assert (db.session.get(Meeting, later.id).status, db.session.get(Meeting, later.id).cancel_reason) == \
        ("cancelled", "Typhoon warning")


def test_attachments_are_uploaded_and_served_after_the_check(app, db, org):
    meeting = _held(db, org)
    client = _client(app, "home-secretary")
    response = client.post(f"/meetings/manage/{meeting.id}/attachments",
                           data={"file": (io.BytesIO(PNG), "sign-in.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    item = db.session.scalar(select(Attachment))
    assert item.filename == "sign-in.png"
    assert client.get(f"/meetings/manage/{meeting.id}").get_data(as_text=True).count("sign-in.png") == 1
    served = client.get(f"/meetings/manage/attachments/{item.id}")
    assert served.status_code == 200 and served.data == PNG
    bad = client.post(f"/meetings/manage/{meeting.id}/attachments",
                      data={"file": (io.BytesIO(b"MZ not an image"), "virus.exe")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and tk.count(select(Attachment)) == 1
    assert _client(app, "host-secretary").get(f"/meetings/manage/attachments/{item.id}").status_code == 404


def _activities(member, meeting) -> int:
    return tk.db.session.scalar(select(func.count()).select_from(tk.Activity).where(
        tk.Activity.actor_id == member.id, tk.Activity.object_type == "meeting",
        tk.Activity.object_id == str(meeting.id)))


def test_ticking_the_register_records_one_activity_and_refuses_uncounting(app, db, org):
    meeting = _held(db, org)
    client = _client(app, "home-secretary")
    page = client.get(f"/meetings/manage/{meeting.id}/register").get_data(as_text=True)
    assert 'data-count="present">0<' in page and f'data-count="expected">{len(meeting.attendees)}<' in page
    register = f"/meetings/manage/{meeting.id}/register"
    assert client.post(register, data={"member_id": org.member2.id, "status": "present"}).status_code == 302
    assert client.post(register, data={"member_id": org.member2.id, "status": "online"}).status_code == 302
    row = db.session.scalar(select(Attendee).where(Attendee.member_id == org.member2.id))
    assert row.status in ("present", "online") and row.method == "register" and row.activity_id is not None
    assert _activities(org.member2, meeting) == 1  # ticked twice, counted once
    refused = client.post(register, data={"member_id": org.member2.id, "status": "absent"})
    assert refused.status_code == 409
    assert "already counted" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attendee, row.id).status in ("present", "online")
    assert client.post(register, data={"member_id": org.member1.id, "status": "absent"}).status_code == 302
    page = client.get(register).get_data(as_text=True)
    absent = len(meeting.attendees) - 1  # started: everyone not present counts as absent
    assert f'data-count="absent">{absent}<' in page and 'data-count="present">1<' in page
    # someone not on the list cannot be ticked from the register form
    response = client.post(register, data={"member_id": org.outsider.id, "status": "present"})
    assert response.status_code == 422 and _activities(org.outsider, meeting) == 0


def test_leave_requests_are_approved_or_refused(app, db, org):
    meeting = _meeting(db, org, starts_in=timedelta(days=2))
    attendance.request_leave(meeting, org.member1, "Working a night shift in Shenzhen", now=tk.utcnow())
    attendance.request_leave(meeting, org.member2, "At the hospital with my mother", now=tk.utcnow())
    db.session.commit()
    client = _client(app, "home-secretary")
    page = client.get(f"/meetings/manage/{meeting.id}/register").get_data(as_text=True)
    assert "Working a night shift in Shenzhen" in page and page.count("Approve leave") == 2
    client.post(f"/meetings/manage/{meeting.id}/leave", data={"member_id": org.member1.id, "decision": "approve"})
    client.post(f"/meetings/manage/{meeting.id}/leave", data={"member_id": org.member2.id, "decision": "refuse"})
    rows = {row.member_id: row for row in db.session.scalars(select(Attendee))}
    assert (rows[org.member1.id].status, rows[org.member1.id].leave_state) == ("leave", "approved")
    assert (rows[org.member2.id].status, rows[org.member2.id].leave_state) == ("expected", "refused")
    again = client.post(f"/meetings/manage/{meeting.id}/leave", data={"member_id": org.member2.id, "decision": "approve"})
    assert again.status_code == 409


def test_adding_and_removing_people(app, db, org, factory):
    meeting = _meeting(db, org, starts_in=timedelta(days=2))
    activist = factory.member(org.home, "activist1", name="赵敏", stage="activist")
    db.session.commit()
    client = _client(app, "home-secretary")
    found = client.get(f"/meetings/manage/{meeting.id}/register?q=赵").get_data(as_text=True)
    assert "赵敏" in found and "Add: Activist" in found
    assert "王强" not in client.get(f"/meetings/manage/{meeting.id}/register?q=王").get_data(as_text=True)
    client.post(f"/meetings/manage/{meeting.id}/attendees", data={"member_id": activist.id, "role": "activist"})
    row = db.session.scalar(select(Attendee).where(Attendee.member_id == activist.id))
    assert (row.role, row.automatic) == ("activist", False)
    # someone of another branch cannot be added
    response = client.post(f"/meetings/manage/{meeting.id}/attendees",
                           data={"member_id": org.outsider.id, "role": "attending"})
    assert response.status_code == 422 and 'outsider' not in {r.member.account.username for r in
                                                               db.session.scalars(select(Attendee))}
    client.post(f"/meetings/manage/{meeting.id}/attendees/remove", data={"member_id": org.member2.id})
    listed = {r.member_id for r in db.session.scalars(select(Attendee))}
    assert activist.id in listed and org.member1.id in listed and org.member2.id not in listed


def test_the_qr_page_shows_a_code_that_check_in_accepts(app, db, org):
    meeting = _held(db, org)
    seconds = tk.get_setting("meetings", "checkin_code_seconds")
    page = _client(app, "home-secretary").get(f"/meetings/manage/{meeting.id}/qr").get_data(as_text=True)
    code = re.search(r'class="meetings-code"[^>]*>([A-Z2-7]{8})<', page).group(1)
    assert f'<meta http-equiv="refresh" content="{seconds // 2}">' in page
    assert "<svg" in page and f"/meetings/{meeting.id}/checkin?code={code}" in page
    row, created = attendance.check_in(meeting, org.member2, code, now=tk.utcnow())
    assert created and row.status == "present" and row.method == "qr"


def test_the_qr_page_outside_the_window_shows_no_code(app, db, org):
    meeting = _meeting(db, org, starts_in=timedelta(days=3))
    page = _client(app, "home-secretary").get(f"/meetings/manage/{meeting.id}/qr").get_data(as_text=True)
    assert "Check-in is closed" in page
    assert attendance.current_code(meeting) not in page and "<svg" not in page and "http-equiv" not in page


def test_compliance_page_shows_required_and_held(app, db, org):
    for day in ("2026-10-08T19:00", "2026-11-12T19:00"):
        meeting = meetings.create_meeting(org.home, {"kind": "theme_day", "topic": "Theme day", "starts_at": day,
                                                     "ends_at": day[:11] + "21:00", "place": "Hall", "mode": "onsite"},
                                          by=None, now=tk.utcnow())
        meetings.mark_held(meeting, by=None, now=meeting.ends_at)
    db.session.commit()
    client = _client(app, "organizer")
    response = client.get(f"/meetings/manage/compliance?unit={org.home.id}&period=2026-Q4")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    theme = re.search(r'<tr class="([a-z-]+)" data-kind="theme_day">(.*?)</tr>', page, re.S)
    assert theme.group(1) == "meetings-shortfall"
    assert "<td>3</td><td>2</td>" in theme.group(2) and "Short by 1" in theme.group(2)
    whole = client.get(f"/meetings/manage/compliance?unit={org.root.id}&period=2026-Q4").get_data(as_text=True)
    assert "East Ridge Village Branch" in whole and "2 of 3 held" in whole
    bad = client.get(f"/meetings/manage/compliance?unit={org.home.id}&period=Q4")
    assert bad.status_code == 422 and 'id="period-err"' in bad.get_data(as_text=True)


def test_downloads_have_the_right_type(app, db, org):
    _held(db, org)
    client = _client(app, "home-secretary")
    period = compliance.current_period("quarter").key
    xlsx = client.get(f"/meetings/manage/compliance/register.xlsx?unit={org.home.id}&period={period}")
    assert xlsx.status_code == 200
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx.data[:2] == b"PK"
    pdf = client.get(f"/meetings/manage/compliance/minutes.pdf?unit={org.home.id}&period={period}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:4] == b"%PDF"
    assert client.get(f"/meetings/manage/compliance/minutes.pdf?unit={org.home.id}&period=soon").status_code != 200


def test_a_secretary_does_not_tick_their_own_row(app, db, org):
    meeting = _held(db, org)
    own = org.home_sec.member
    assert own.id in {row.member_id for row in meeting.attendees}
    client = _client(app, "home-secretary")
    page = client.get(f"/meetings/manage/{meeting.id}/register").get_data(as_text=True)
    row = page[page.index(f'id="member-{own.id}"'):]
    row = row[:row.index("</li>")]
    assert 'name="status"' not in row and "recorded by another secretary" in row
    assert client.post(f"/meetings/manage/{meeting.id}/register",
                       data={"member_id": own.id, "status": "present"}).status_code == 403
    assert _activities(own, meeting) == 0


def test_the_host_branch_ticks_a_hosted_member_and_it_counts_for_home(app, db, org):
    meeting = _held(db, org, unit=org.host)
    assert {row.member_id: row.role for row in meeting.attendees}.get(org.member1.id) == "hosted"
    client = _client(app, "host-secretary")
    client.post(f"/meetings/manage/{meeting.id}/register", data={"member_id": org.member1.id, "status": "present"})
    activity = db.session.scalar(select(tk.Activity).where(tk.Activity.actor_id == org.member1.id))
    assert (activity.verb, activity.home_unit_id) == ("meeting.attended", org.home.id)

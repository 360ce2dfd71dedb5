"""What meetings hold about a member: their attendance rows and notice receipts (and nobody else's), and the
member summary's grouped counts."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal_meetings import personal
from portal_meetings.models import Attendee, Meeting, Notice, NoticeReceipt

T0 = datetime(2026, 10, 10, 1, 0)  # 09:00 local


def _meeting(db, unit, topic: str, starts_at: datetime, status: str = "held", kind: str = "theme_day") -> Meeting:
    meeting = Meeting(unit_id=unit.id, kind=kind, topic=topic, starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=2), status=status, checkin_secret="s" * 32)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def _row(db, meeting, member, status: str, **fields) -> Attendee:
    row = Attendee(meeting_id=meeting.id, member_id=member.id, status=status, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def _setup(db, org):
    """member1: present at the host branch, on leave at home, nothing recorded at a past meeting (absent),
    listed for a future one and for a cancelled one; member2: present. One notice each, member1 signed."""
    theme = _meeting(db, org.host, "深圳主题党日", T0)
    assembly = _meeting(db, org.home, "支部党员大会", T0 + timedelta(days=5), kind="assembly")
    missed = _meeting(db, org.home, "支委会扩大会议", T0 + timedelta(days=8), kind="committee")
    future = _meeting(db, org.home, "党课", datetime(2099, 1, 1), status="notified", kind="lecture")
    cancelled = _meeting(db, org.home, "返乡座谈", T0 + timedelta(days=9), status="cancelled", kind="homecoming")
    _row(db, theme, org.member1, "present", role="hosted", method="qr", checked_in_at=T0 + timedelta(minutes=3))
    _row(db, assembly, org.member1, "leave", leave_reason="在深圳上夜班", leave_state="approved")
    _row(db, missed, org.member1, "expected")
    _row(db, future, org.member1, "expected")
    _row(db, cancelled, org.member1, "expected")
    _row(db, assembly, org.member2, "present", method="register", leave_reason="秘密的理由")
    notice = Notice(unit_id=org.home.id, title="冬季走访通知", body="请签收", requires_ack=True,
                    deadline=T0 + timedelta(days=3))
    other = Notice(unit_id=org.home.id, title="只发给李四的通知", body="")
    db.session.add_all([notice, other])
    db.session.flush()
    db.session.add_all([
        NoticeReceipt(notice_id=notice.id, member_id=org.member1.id, delivered_at=T0, read_at=T0 + timedelta(hours=1),
                      acknowledged_at=T0 + timedelta(hours=2), reply="收到"),
        NoticeReceipt(notice_id=notice.id, member_id=org.member2.id, delivered_at=T0),
        NoticeReceipt(notice_id=other.id, member_id=org.member2.id, delivered_at=T0),
    ])
    db.session.commit()


def _section(sections, key):
    return next(section for section in sections if section.key == key)


def test_personal_data_holds_the_members_rows_and_nobody_elses(db, org):
    _setup(db, org)
    sections = personal.personal_data(org.member1)
    rows = _section(sections, "attendance").rows
    assert [row["meeting"] for row in rows] == ["深圳主题党日", "支部党员大会", "支委会扩大会议", "返乡座谈", "党课"]
    first = rows[0]
    assert (first["unit"], first["status"], first["method"], first["role"]) == (org.host.name, "present", "qr", "hosted")
    assert first["starts_at"] == T0
    assert (rows[1]["status"], rows[1]["leave_reason"], rows[1]["leave_state"]) == ("leave", "在深圳上夜班", "approved")
    # nothing recorded at a held meeting that ended reads as absent; a future or cancelled one stays expected
    assert [row["status"] for row in rows[2:]] == ["absent", "expected", "expected"]
    assert "秘密的理由" not in str(rows)  # member2's row on the same meeting is not member1's data
    receipts = _section(sections, "notices").rows
    assert [r["title"] for r in receipts] == ["冬季走访通知"]
    assert receipts[0]["acknowledged_at"] == T0 + timedelta(hours=2) and receipts[0]["reply"] == "收到"
    other = personal.personal_data(org.member2)
    assert [r["meeting"] for r in _section(other, "attendance").rows] == ["支部党员大会"]
    assert {r["title"] for r in _section(other, "notices").rows} == {"冬季走访通知", "只发给李四的通知"}
    assert all(r["acknowledged_at"] is None for r in _section(other, "notices").rows)
    assert personal.personal_data(org.outsider)[0].rows == []


def test_personal_data_shows_on_my_data_page(db, org, client):
    from tests.conftest import login

    _setup(db, org)
    login(client, "member1")
    page = client.get("/me").get_data(as_text=True)
    assert "深圳主题党日" in page and "在深圳上夜班" in page and "冬季走访通知" in page
    assert "只发给李四的通知" not in page
    export = client.get("/me/export.json").get_json()
    assert [r["meeting"] for r in export["sections"]["meetings.attendance"]][:2] == ["深圳主题党日", "支部党员大会"]


def test_member_summary_counts_attended_missed_leave_and_signed(db, org):
    _setup(db, org)
    period = (T0 - timedelta(days=1), T0 + timedelta(days=30))
    assert dict((str(k), v) for k, v in personal.member_summary(org.member1, *period)) == {
        "Meetings attended": 1, "Meetings missed": 1, "Meetings on leave": 1, "Notices signed": 1}
    assert dict((str(k), v) for k, v in personal.member_summary(org.member2, *period)) == {
        "Meetings attended": 1, "Meetings missed": 0, "Meetings on leave": 0, "Notices signed": 0}
    # open ends: everything; a later period: nothing
    assert personal.member_summary(org.member1, None, None)[0][1] == 1
    assert [v for _k, v in personal.member_summary(org.member1, T0 + timedelta(days=40), T0 + timedelta(days=50))] \
        == [0, 0, 0, 0]

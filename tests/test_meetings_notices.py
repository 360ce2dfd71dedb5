"""Notices (通知): audiences, refusals that write nothing, read receipts, sign-off (签收), receipts, escalation.

The standard org: home_sec (a member of the home branch) sends; member1 (home, away, hosted at
the Shenzhen host branch) and member2 (home, at home) receive; the foreign secretary may not send
to the home branch. Sign-off deadlines and the scan's ``now`` are fixed local (Asia/Shanghai) times.
"""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_meetings import notices
from portal_meetings.models import Notice, NoticeReceipt
from tests.conftest import api_token, login

#: 2026-11-20 10:00 in Shanghai (naive UTC, as stored): when the scan test's notice is sent.
SENT = datetime(2026, 11, 20, 2, 0)
#: 2026-12-01 18:00 in Shanghai: its sign-off deadline, and the same written as people do.
DEADLINE = datetime(2026, 12, 1, 10, 0)
DEADLINE_LOCAL = "2026-12-01T18:00"
FUTURE = "2099-12-31"
ZH = {"Accept-Language": "zh-CN"}


def _count(model, *where) -> int:
    return tk.db.session.scalar(select(func.count()).select_from(model).where(*where))


def _send(org, audience="unit", unit=None, by=None, now=SENT, **data):
    notice = notices.send_notice(unit or org.home, {"title": "Branch assembly on Sunday", "body": "Come **all**.",
                                                    "audience": audience, "requires_ack": True,
                                                    "deadline": DEADLINE_LOCAL, **data},
                                 by=by or org.home_sec, now=now)
    tk.db.session.commit()
    return notice


def _addressees(notice) -> set[int]:
    return set(tk.db.session.scalars(select(NoticeReceipt.member_id).where(NoticeReceipt.notice_id == notice.id)))


def test_audiences(db, org, factory):
    home_sec_member = org.home_sec.member.id
    assert _addressees(_send(org)) == {org.member1.id, org.member2.id, home_sec_member}
    # the host branch's own members and the members hosted there
    host = _send(org, unit=org.host, by=org.host_sec)
    assert _addressees(host) == {org.member1.id, org.host_sec.member.id}
    subtree = _send(org, "subtree", unit=org.township, by=org.organizer)
    assert _addressees(subtree) == {org.member1.id, org.member2.id, home_sec_member, org.outsider.id,
                                    org.foreign_sec.member.id}
    assert _addressees(_send(org, "away")) == {org.member1.id}
    assert _addressees(_send(org, "list", member_ids=[org.member2.id])) == {org.member2.id}
    # applicants are not members: nobody sends them branch notices
    factory.member(org.home, "applicant", stage="applicant")
    assert _addressees(_send(org)) == {org.member1.id, org.member2.id, home_sec_member}


def test_sending_tells_each_addressee(db, org):
    notice = _send(org, "list", member_ids=[org.member1.id, org.member2.id])
    inbox = db.session.scalars(select(Notification).where(Notification.kind == "notice")).all()
    assert {note.account_id for note in inbox} == {org.member1.account_id, org.member2.account_id}
    assert all(note.url == f"/notices/{notice.id}" for note in inbox)
    assert notice.deadline == DEADLINE  # local 18:00 stored as UTC
    date_only = _send(org, deadline="2026-12-01")
    assert date_only.deadline == datetime(2026, 12, 1, 16, 0)  # the end of that local day


def test_refusals_write_nothing(db, org):
    before = (_count(Notice), _count(NoticeReceipt), _count(Notification))
    with pytest.raises(tk.NotFound):
        _send(org, by=org.foreign_sec)
    with pytest.raises(tk.Forbidden):
        _send(org, by=org.member2.account)
    with pytest.raises(tk.Invalid) as error:  # outsider is not the home branch's member
        _send(org, "list", member_ids=[org.member2.id, org.outsider.id])
    assert set(error.value.field_errors) == {"member_ids"}
    with pytest.raises(tk.Invalid) as error:
        _send(org, title=" ", audience="everyone", kind="gossip", deadline="2026-11-19")
    assert set(error.value.field_errors) == {"title", "audience", "kind", "deadline"}
    with pytest.raises(tk.Invalid) as error:
        _send(org, deadline="")
    assert "deadline" in error.value.field_errors  # a notice to be signed needs a deadline
    with pytest.raises(tk.Invalid) as error:
        _send(org, deadline="next week")
    assert "deadline" in error.value.field_errors
    db.session.rollback()
    assert (_count(Notice), _count(NoticeReceipt), _count(Notification)) == before


def test_api_send_and_refusals(client, db, org):
    body = {"unit_id": org.home.id, "audience": "unit", "title": "Dues for the fourth quarter", "body": "Please pay.",
            "requires_ack": True, "deadline": FUTURE, "kind": "dues"}
    response = client.post("/api/v1/notices", json=body, headers=api_token(client, "home-secretary"))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["audience_count"] == 3 and response.json["kind"] == "dues"
    before = (_count(Notice), _count(NoticeReceipt))
    foreign = api_token(client, "foreign-secretary")
    assert client.post("/api/v1/notices", json=body, headers=foreign).status_code == 404
    assert client.post("/api/v1/notices", json=body, headers=api_token(client, "member2")).status_code == 403
    assert client.post("/api/v1/notices", json={**body, "unit_id": 999999},
                       headers=foreign).status_code == 404
    response = client.post("/api/v1/notices", json={**body, "title": "", "deadline": "2020-01-01"},
                           headers=api_token(client, "home-secretary"))
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"title", "deadline"}
    assert (_count(Notice), _count(NoticeReceipt)) == before


def test_refusal_messages_in_chinese(client, db, org):
    headers = {**api_token(client, "home-secretary"), **ZH}
    response = client.post("/api/v1/notices", json={"unit_id": org.home.id, "audience": "list", "title": "",
                                                    "requires_ack": True, "deadline": "2020-01-01"}, headers=headers)
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert fields == {"title": "请填写标题。", "member_ids": "请至少选择一名党员。", "deadline": "签收截止时间必须晚于现在。"}
    assert response.json["error"]["message"] == "请更正标出的栏目。"


def test_unread_first_and_opening_marks_read(client, db, org):
    first = _send(org, title="First", now=datetime(2026, 11, 20, 2, 0))
    second = _send(org, title="Second", now=datetime(2026, 11, 21, 2, 0))
    headers = api_token(client, "member2")
    assert [n["title"] for n in client.get("/api/v1/notices", headers=headers).json["notices"]] == ["Second", "First"]
    data = client.get(f"/api/v1/notices/{second.id}", headers=headers).json
    assert data["read"] is True and data["acknowledged"] is False and data["body"] == "Come **all**."
    listed = client.get("/api/v1/notices", headers=headers).json["notices"]
    assert [(n["title"], n["read"]) for n in listed] == [("First", False), ("Second", True)]
    assert listed[0]["deadline"] == "2026-12-01T18:00:00+08:00" and listed[0]["unit"]["id"] == org.home.id
    read_at = notices.receipt_of(second, org.member2).read_at
    client.get(f"/api/v1/notices/{second.id}", headers=headers)  # a second read keeps the first time
    assert notices.receipt_of(second, org.member2).read_at == read_at
    # the page: unread first, and opening marks read
    login(client, "member2")
    page = client.get("/notices/").get_data(as_text=True)
    assert page.index("First") < page.index("Second")
    response = client.get(f"/notices/{first.id}")
    assert response.status_code == 200 and "<strong>all</strong>" in response.get_data(as_text=True)
    assert notices.receipt_of(first, org.member2).read_at is not None
    assert notices.receipt_of(first, org.member1).read_at is None


def test_visible_only_to_addressees_and_senders(client, db, org):
    notice = _send(org, "list", member_ids=[org.member2.id])
    for username, status in (("member2", 200), ("member1", 404), ("outsider", 404), ("home-secretary", 200),
                             ("organizer", 200), ("host-secretary", 404), ("foreign-secretary", 404)):
        assert client.get(f"/api/v1/notices/{notice.id}", headers=api_token(client, username)).status_code == status
    # only the addressee's read is a read receipt
    assert set(db.session.scalars(select(NoticeReceipt.member_id).where(NoticeReceipt.read_at.is_not(None)))) == {
        org.member2.id}


def test_sign_twice_records_one_activity(client, db, org):
    notice = _send(org)
    headers = api_token(client, "member1")
    first = client.post(f"/api/v1/notices/{notice.id}/ack", json={"reply": "I will join online."}, headers=headers)
    assert first.status_code == 200 and first.json["acknowledged"] is True and first.json["read"] is True
    again = client.post(f"/api/v1/notices/{notice.id}/ack", headers=headers)
    assert again.status_code == 200 and again.json["acknowledged_at"] == first.json["acknowledged_at"]
    assert again.json["reply"] == "I will join online."
    activities = db.session.scalars(select(tk.Activity).where(tk.Activity.verb == "notice.acknowledged")).all()
    assert [(a.actor_id, a.object_type, a.object_id) for a in activities] == [(org.member1.id, "notice", str(notice.id))]
    # not an addressee: nothing to sign
    assert client.post(f"/api/v1/notices/{notice.id}/ack", headers=api_token(client, "outsider")).status_code == 404
    plain = _send(org, requires_ack=False, deadline="")
    assert client.post(f"/api/v1/notices/{plain.id}/ack", headers=headers).status_code == 409


def test_sign_on_the_page(client, db, org):
    notice = _send(org)
    login(client, "member2")
    response = client.post(f"/notices/{notice.id}/ack", data={"reply": "Noted"})
    assert response.status_code == 302
    receipt = notices.receipt_of(notice, org.member2)
    assert receipt.acknowledged_at is not None and receipt.reply == "Noted"
    assert "You signed for this notice" in client.get(f"/notices/{notice.id}").get_data(as_text=True)


def test_receipts_counts(client, db, org):
    notice = _send(org)
    notices.open_notice(notice, org.member1, now=SENT)
    notices.acknowledge(notice, org.member2, now=SENT)
    db.session.commit()
    assert notices.receipts_summary(notice) == {"audience": 3, "read": 2, "acknowledged": 1, "escalated": 0,
                                                "called": 0}
    data = client.get(f"/api/v1/notices/{notice.id}/receipts", headers=api_token(client, "home-secretary")).json
    assert (data["audience"], data["read"], data["acknowledged"]) == (3, 2, 1)
    by_member = {row["member_id"]: row for row in data["members"]}
    assert by_member[org.member2.id]["acknowledged"] and by_member[org.member1.id]["read"]
    assert not by_member[org.member1.id]["acknowledged"]
    for username in ("member2", "host-secretary", "foreign-secretary"):
        response = client.get(f"/api/v1/notices/{notice.id}/receipts", headers=api_token(client, username))
        assert response.status_code == 404, username
    login(client, "home-secretary")
    sent = client.get(f"/notices/sent?unit={org.home.id}").get_data(as_text=True)
    assert "Branch assembly on Sunday" in sent and "2/3" in sent and "1/3" in sent
    sheet = load_workbook(io.BytesIO(client.get(f"/notices/{notice.id}/receipts.xlsx").data)).active
    names = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert {"张伟", "李芳"} <= set(names)


def test_escalation_tells_the_contact_person_once(client, db, org):
    org.member1.contact_member_id = org.member2.id  # 1+1: member2 keeps in touch with member1
    db.session.commit()
    notice = _send(org)
    notices.acknowledge(notice, org.member2, now=SENT)
    db.session.commit()
    before_deadline = datetime(2026, 12, 1, 9, 59)  # 17:59 in Shanghai
    assert notices.scan(before_deadline) == []
    now = datetime(2026, 12, 2, 1, 0)  # 09:00 the next morning in Shanghai
    alerts = notices.scan(now)
    db.session.commit()
    to_contact = [a for a in alerts if a.kind == "notice.unsigned"]
    assert [(a.member_id, a.account_ids) for a in to_contact] == [(org.member1.id, (org.member2.account_id,))]
    summary = [a for a in alerts if a.kind == "notice.escalated"]
    assert [(a.account_ids, a.url) for a in summary] == [((org.home_sec.id,), f"/notices/{notice.id}/receipts")]
    assert "2" in str(summary[0].message)  # member1 and the secretary herself have not signed
    escalated = {r.member_id for r in notices.receipts(notice) if r.escalated_at}
    assert escalated == {org.member1.id, org.home_sec.member.id}
    assert notice.escalated_at == now
    assert notices.scan(now) == [] and notices.scan(datetime(2026, 12, 9)) == []
    assert [r.member_id for r in notices.call_list(notice, now)] == sorted(
        [org.member1.id, org.home_sec.member.id], key=lambda i: db.session.get(tk.Member, i).name)


def test_scan_is_cheap_with_many_notices(db, org):
    from tests.helpers.query_counter import count_queries

    for index in range(5):
        _send(org, title=f"Notice {index}")
    with count_queries() as queries:
        alerts = notices.scan(datetime(2026, 12, 2, 1, 0))
    assert len([a for a in alerts if a.kind == "notice.escalated"]) == 5
    assert len(queries) <= 4, queries.report()  # due notices, their unsigned receipts, two UPDATEs


def test_call_list_on_the_receipts_page(client, db, org):
    notice = _send(org)
    login(client, "home-secretary")
    assert "call-list" not in client.get(f"/notices/{notice.id}/receipts").get_data(as_text=True)
    # before the deadline nobody is called
    response = client.post(f"/notices/{notice.id}/receipts/{org.member1.id}/called", data={"note": "x"})
    assert response.status_code == 303 and notices.receipt_of(notice, org.member1).called_at is None
    notice.deadline = datetime(2026, 11, 21)  # passed
    db.session.commit()
    page = client.get(f"/notices/{notice.id}/receipts").get_data(as_text=True)
    assert "call-list" in page and "张伟" in page
    response = client.post(f"/notices/{notice.id}/receipts/{org.member1.id}/called", data={"note": "Will sign tonight"})
    assert response.status_code == 302
    receipt = notices.receipt_of(notice, org.member1)
    assert receipt.called_at is not None and receipt.call_note == "Will sign tonight"
    assert receipt.called_by_account_id == org.home_sec.id


def test_new_notice_page(app, client, db, org):
    login(client, "home-secretary")
    page = client.get(f"/notices/new?unit={org.home.id}").get_data(as_text=True)
    assert "李芳" in page  # the chosen-list boxes
    response = client.post("/notices/new", data={"unit": str(org.home.id), "audience": "list", "kind": "meeting",
                                                 "title": "Theme day", "body": "Bring your card.",
                                                 "member_ids": [str(org.member2.id)], "requires_ack": "y",
                                                 "deadline": "2099-01-01T09:00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    notice = db.session.scalars(select(Notice)).one()
    assert (notice.audience, notice.kind, notice.requires_ack) == ("list", "meeting", True)
    assert _addressees(notice) == {org.member2.id}
    response = client.post("/notices/new", data={"unit": str(org.home.id), "audience": "unit", "title": "",
                                                 "requires_ack": "y", "deadline": ""})
    assert response.status_code == 422 and "Enter a title." in response.get_data(as_text=True)
    client = app.test_client()
    login(client, "foreign-secretary")
    assert client.get(f"/notices/new?unit={org.home.id}").status_code == 404
    response = client.post("/notices/new", data={"unit": str(org.home.id), "audience": "unit", "title": "Hi"})
    assert response.status_code == 404 and _count(Notice) == 1


def test_get_permission_matrix(app, db, org):
    from tests.helpers.permission_matrix import check_matrix, expect, logged_in

    notice = _send(org, deadline=FUTURE, now=tk.utcnow())
    senders = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200, admin=200)
    readers = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200)
    followers = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "meetings_notices.mine": logged_in(),
        "meetings_notices.show": readers,
        "meetings_notices.sent": senders,
        "meetings_notices.new": senders,
        "meetings_notices.receipts": followers,
        "meetings_notices.receipts_xlsx": followers,
        "meetings_notices_api.list_notices": expect(200, anonymous=401),
        "meetings_notices_api.get": {**readers, "anonymous": (401,)},
        "meetings_notices_api.receipts": {**followers, "anonymous": (401,)},
    }, blueprints={"meetings_notices", "meetings_notices_api"}, url_values={
        "meetings_notices.show": {"notice_id": notice.id}, "meetings_notices.receipts": {"notice_id": notice.id},
        "meetings_notices.receipts_xlsx": {"notice_id": notice.id},
        "meetings_notices_api.get": {"notice_id": notice.id}, "meetings_notices_api.receipts": {"notice_id": notice.id},
    })
    assert checked == 9 * 9


def test_unknown_units_and_notices_are_404(client, db, org):
    login(client, "home-secretary")
    for url in ("/notices/sent?unit=999999", "/notices/new?unit=999999", "/notices/999999",
                "/notices/999999/receipts"):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/notices/999999", headers=api_token(client, "member1")).status_code == 404

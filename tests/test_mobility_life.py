"""The whole life of a mobile member through two branches, and what each side may see on the way."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.activity.models import Activity
from portal_mobility import moves, outflows, returns
from portal.toolkit import ServiceError
from portal_meetings import attendance
from portal_meetings.models import Meeting
from portal_mobility.models import Certificate, CheckIn, Move, Outflow
from tests.conftest import login


def _as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _verbs(db, member_id):
    return [a.verb for a in db.session.scalars(select(Activity).where(Activity.actor_id == member_id)
                                                .order_by(Activity.id)) if not a.verb.startswith("member.")]


def test_whole_life_through_two_branches(app, db, org):
    member, home, host = _as(app, "member2"), _as(app, "home-secretary"), _as(app, "host-secretary")
    foreign = _as(app, "foreign-secretary")
    today = tk.local_today()

    # 1. register (the member, on the form)
    response = member.post("/mobility/outflows/new", data={
        "destination_province": "广东省", "destination_city": "深圳市", "destination_district": "宝安区",
        "employer": "深圳市华达电子有限公司", "industry": "制造业", "start_date": (today - timedelta(days=30)).isoformat(),
        "expected_months": "12", "reason": "外出务工", "contact_there": "13900000000"})
    assert response.status_code == 302
    outflow = db.session.scalar(select(Outflow).where(Outflow.member_id == org.member2.id))
    assert outflow.status == "pending" and outflow.destination_city == "深圳市"
    assert "waiting for approval" in member.get("/mobility/").get_data(as_text=True)
    # the host branch does not know the member yet; a foreign branch never does
    assert host.get(f"/mobility/outflows/{outflow.id}").status_code == 404
    assert foreign.get(f"/mobility/outflows/{outflow.id}").status_code == 404
    # the member cannot approve their own registration, nor can the host
    assert member.post(f"/mobility/outflows/{outflow.id}/decide", data={"action": "approve"}).status_code == 404
    assert host.post(f"/mobility/outflows/{outflow.id}/decide", data={"action": "approve"}).status_code == 404

    # 2. the home branch approves: a certificate is issued, the member is away
    page = home.get(f"/mobility/units/{org.home.id}?tab=pending").get_data(as_text=True)
    assert "李芳" in page
    assert home.post(f"/mobility/outflows/{outflow.id}/decide", data={"action": "approve"}).status_code == 302
    db.session.expire_all()
    certificate = db.session.scalar(select(Certificate).where(Certificate.member_id == org.member2.id))
    assert certificate.status == "active" and certificate.issuing_unit_id == org.home.id
    assert certificate.valid_until == tk.local_today() + timedelta(days=365)
    assert db.session.get(tk.Member, org.member2.id).is_away is True

    # 3. check in: find the host branch by city, ask, the host secretary confirms
    found = member.get("/mobility/checkin?city=深圳").get_data(as_text=True)
    assert org.host.name in found and org.foreign.name not in found
    assert member.post("/mobility/checkin", data={"host_unit_id": org.host.id}).status_code == 302
    checkin = db.session.scalar(select(CheckIn).where(CheckIn.member_id == org.member2.id))
    assert checkin.status == "pending"
    assert "李芳" in host.get(f"/mobility/units/{org.host.id}?tab=pending").get_data(as_text=True)
    assert home.post(f"/mobility/checkins/{checkin.id}/decide", data={"action": "confirm"}).status_code == 404
    assert host.post(f"/mobility/checkins/{checkin.id}/decide", data={"action": "confirm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(tk.Member, org.member2.id).host_unit_id == org.host.id

    # from now on the host side sees the member's mobility basics — but not the home branch's contact log
    assert home.post(f"/mobility/members/{org.member2.id}/contacts",
                     data={"channel": "call", "contacted_on": today.isoformat(), "note": "电话问候"}).status_code == 302
    host_view = host.get(f"/mobility/members/{org.member2.id}")
    assert host_view.status_code == 200
    assert certificate.number in host_view.get_data(as_text=True)
    assert "电话问候" not in host_view.get_data(as_text=True)
    assert "电话问候" in home.get(f"/mobility/members/{org.member2.id}").get_data(as_text=True)
    assert host.post(f"/mobility/members/{org.member2.id}/contacts",
                     data={"channel": "call", "contacted_on": today.isoformat()}).status_code == 404
    assert "李芳" in host.get(f"/mobility/units/{org.host.id}?tab=incoming").get_data(as_text=True)
    for url in (f"/mobility/members/{org.member2.id}", f"/mobility/outflows/{outflow.id}",
                f"/mobility/certificates/{certificate.id}", f"/mobility/certificates/{certificate.id}.pdf"):
        assert foreign.get(url).status_code == 404, url
    # the host may not record the return or review the certificate: those are the home branch's
    assert host.get(f"/mobility/outflows/{outflow.id}/return").status_code == 404
    assert host.get(f"/mobility/certificates/{certificate.id}/review").status_code == 404

    # 4. move: a new employer in the same city, reported 20 days late → flagged, check-in kept
    response = member.post("/mobility/report", data={
        "changed_on": (today - timedelta(days=20)).isoformat(), "current_province": "广东省",
        "current_city": "深圳市", "employer": "深圳市新科技有限公司", "phone": "13900000000"})
    assert response.status_code == 302
    move = db.session.scalar(select(Move).where(Move.member_id == org.member2.id, Move.kind == "change"))
    assert move.late is True and move.new_values == {"employer": "深圳市新科技有限公司", "phone": "13900000000"}
    db.session.expire_all()
    refreshed = db.session.get(tk.Member, org.member2.id)
    assert refreshed.employer == "深圳市新科技有限公司" and refreshed.host_unit_id == org.host.id
    assert "深圳市新科技有限公司" in home.get(f"/mobility/units/{org.home.id}?tab=changes").get_data(as_text=True)

    # 5. attend a meeting at the host branch (its secretary ticks the register): the home branch sees it
    #    in the participation summary (the meetings plugin's figures, and the stream's verb at the host)
    started = tk.utcnow() - timedelta(hours=1)
    meeting = Meeting(unit_id=org.host.id, kind="theme_day", topic="主题党日", starts_at=started,
                      ends_at=started + timedelta(hours=2), status="notified", checkin_secret="s" * 32)
    db.session.add(meeting)
    db.session.flush()
    attendance.mark(meeting, refreshed, "present", by=org.host_sec)
    db.session.commit()
    live = home.get(f"/mobility/outflows/{outflow.id}").get_data(as_text=True)
    assert "Meetings attended" in live and "Attended a meeting" in live

    # 6. return: certificate handed back and closed, the stay summarised for the home branch
    response = member.post(f"/mobility/outflows/{outflow.id}/return",
                           data={"returned_on": today.isoformat(), "certificate_returned": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    outflow = db.session.get(Outflow, outflow.id)
    back = db.session.get(tk.Member, org.member2.id)
    assert outflow.status == "returned" and back.is_away is False and back.host_unit_id is None
    assert db.session.get(Certificate, certificate.id).status == "closed"
    assert db.session.get(CheckIn, checkin.id).status == "ended"
    sections, facts = returns.stored_summary(outflow)
    assert facts == {"plugin": "mobility", "days": 30, "certificate_returned": True}
    flat = {item[0]: item[1] for section in sections for item in section["items"]}
    assert flat["Meetings attended"] == 1 and flat["Changes reported late"] == 1 and flat["Contacts logged"] == 1
    summary_page = home.get(f"/mobility/outflows/{outflow.id}").get_data(as_text=True)
    assert "Summary of the time away" in summary_page and "30 days away" in summary_page
    # once back home the host branch no longer sees the member
    assert host.get(f"/mobility/members/{org.member2.id}").status_code == 404
    verify = app.test_client().get(f"/certificates/mobility/verify/{certificate.number}").get_data(as_text=True)
    assert "Not valid" in verify

    assert _verbs(db, org.member2.id) == ["mobility.registered", "mobility.checked_in", "contact.logged",
                                          "mobility.moved", "meeting.attended", "mobility.returned"]


def test_request_changes_then_resubmit(app, db, org):
    member, home = _as(app, "member2"), _as(app, "home-secretary")
    outflow = outflows.register_outflow(org.member2, {"destination_province": "浙江省", "destination_city": "杭州市",
                                                      "start_date": "2026-01-01", "reason": "务工"})
    db.session.commit()
    # asking for changes needs a note: nothing changes without one
    home.post(f"/mobility/outflows/{outflow.id}/decide", data={"action": "changes", "note": ""})
    db.session.expire_all()
    assert db.session.get(Outflow, outflow.id).status == "pending"
    home.post(f"/mobility/outflows/{outflow.id}/decide", data={"action": "changes", "note": "请补充工作单位"})
    db.session.expire_all()
    assert db.session.get(Outflow, outflow.id).status == "changes_requested"
    assert "请补充工作单位" in member.get("/mobility/").get_data(as_text=True)
    response = member.post(f"/mobility/outflows/{outflow.id}/edit", data={
        "destination_province": "浙江省", "destination_city": "杭州市", "employer": "杭州顺风物流有限公司",
        "start_date": "2026-01-01", "reason": "务工"})
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(Outflow, outflow.id)
    assert again.status == "pending" and again.employer == "杭州顺风物流有限公司"


def test_bad_outflow_form_keeps_input_and_changes_nothing(app, db, org):
    member = _as(app, "member2")
    # the destination is one place picker now (issue 12): empty, a province alone, unknown text are refused
    response = member.post("/mobility/outflows/new", data={
        "destination": "", "start_date": "not-a-date", "reason": "我写的理由", "expected_months": "999"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "我写的理由" in page and "This field is required." in page and "YYYY-MM-DD" in page
    for text, message in (("广东", "Name the city"), ("火星市", "No place called"), ("朝阳区", "could mean several")):
        page = member.post("/mobility/outflows/new", data={"destination": text, "start_date": "2026-01-01",
                                                            "reason": "务工"}).get_data(as_text=True)
        assert message in page and f'value="{text}"' in page, text
    assert db.session.scalar(select(tk.db.func.count(Outflow.id))) == 0


def test_arrival_without_certificate_needs_home_identity_check(app, db, org):
    host, home, foreign = _as(app, "host-secretary"), _as(app, "home-secretary"), _as(app, "foreign-secretary")
    # wrong details: a clear message, nothing stored
    response = host.post(f"/mobility/units/{org.host.id}/arrivals/new",
                         data={"name": "李芳", "phone": "000", "home_unit_id": org.home.id})
    assert response.status_code == 422 and "No member with this name" in response.get_data(as_text=True)
    assert db.session.scalar(select(tk.db.func.count(CheckIn.id))) == 0
    assert foreign.post(f"/mobility/units/{org.host.id}/arrivals/new",
                        data={"name": "李芳", "phone": org.member2.phone, "home_unit_id": org.home.id}).status_code == 404
    response = host.post(f"/mobility/units/{org.host.id}/arrivals/new",
                         data={"name": "李芳", "phone": org.member2.phone, "home_unit_id": org.home.id})
    assert response.status_code == 302
    checkin = db.session.scalar(select(CheckIn))
    assert checkin.source == "host" and checkin.identity_status == "pending"
    # the host cannot confirm before the home branch confirmed the identity
    host.post(f"/mobility/checkins/{checkin.id}/decide", data={"action": "confirm"})
    db.session.expire_all()
    assert db.session.get(CheckIn, checkin.id).status == "pending"
    assert foreign.post(f"/mobility/checkins/{checkin.id}/identity", data={"action": "confirm"}).status_code == 404
    assert "Identity check" in home.get(f"/mobility/members/{org.member2.id}").get_data(as_text=True)
    assert home.post(f"/mobility/checkins/{checkin.id}/identity", data={"action": "confirm"}).status_code == 302
    assert host.post(f"/mobility/checkins/{checkin.id}/decide", data={"action": "confirm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(tk.Member, org.member2.id).host_unit_id == org.host.id


def test_moving_to_another_city_ends_the_host_check_in(app, db, org):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-01-01", "reason": "务工"})
    outflows.approve_outflow(outflow)
    db.session.commit()
    move = moves.report_move(org.member1, {"changed_on": tk.local_today().isoformat(),
                                              "current_province": "浙江省", "current_city": "杭州市"})
    db.session.commit()
    assert move.late is False and org.member1.host_unit_id is None and org.member1.current_city == "杭州市"
    with pytest.raises(ServiceError):
        moves.report_move(org.member1, {"changed_on": tk.local_today().isoformat(), "current_city": "杭州市"})


def test_confirm_details_prompt_and_confirmation(app, db, org):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-01-01", "reason": "务工"})
    start = tk.utcnow()
    outflows.approve_outflow(outflow, now=start)
    db.session.commit()
    assert not moves.confirmation_due(org.member1, start + timedelta(days=89))
    later = start + timedelta(days=91)
    assert moves.confirmation_due(org.member1, later)
    alerts = moves.scan_prompts(later)
    assert [a.kind for a in alerts] == ["mobility.confirm_details"]
    assert moves.scan_prompts(later + timedelta(days=1)) == []  # prompted once per period
    moves.confirm_details(org.member1, now=later + timedelta(days=2))
    assert not moves.confirmation_due(org.member1, later + timedelta(days=3))

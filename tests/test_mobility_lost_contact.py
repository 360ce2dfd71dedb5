"""Contact people, the contact log and the lost-contact scan (with a controllable clock)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import alerts
from portal import toolkit as tk
from portal.notify.models import Notification
from portal_mobility import contacts, outflows
from portal_mobility.models import ContactLog, LostContactCase
from tests.conftest import login


def _away(org, start):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": start.date().isoformat(), "reason": "务工"}, now=start)
    outflows.approve_outflow(outflow, now=start)
    tk.db.session.commit()
    return outflow


def _inbox(account, kind):
    return [n.title for n in tk.db.session.scalars(select(Notification).where(
        Notification.account_id == account.id, Notification.kind == kind))]


def test_lost_contact_flag_escalation_and_recovery(app, db, org):
    t0 = tk.utcnow()
    org.member1.created_at = t0 - timedelta(days=400)
    org.member2.created_at = t0 - timedelta(days=400)  # at home: never flagged
    _away(org, t0)

    alerts.scan(now=t0 + timedelta(days=89))
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).lost_contact is False

    # day 91: no activity and no logged contact for 90 days → flagged, the home secretary is told
    alerts.scan(now=t0 + timedelta(days=91))
    db.session.expire_all()
    member = tk.db.session.get(tk.Member, org.member1.id)
    assert member.lost_contact is True and tk.db.session.get(tk.Member, org.member2.id).lost_contact is False
    assert len(_inbox(org.home_sec, "alert.mobility.lost_contact")) == 1
    assert _inbox(org.foreign_sec, "alert.mobility.lost_contact") == []
    case = tk.db.session.scalar(select(LostContactCase))
    assert case.escalated_at is None and case.unit_id == org.home.id

    # a later scan within the escalation period raises nothing new
    alerts.scan(now=t0 + timedelta(days=110))
    assert len(_inbox(org.home_sec, "alert.mobility.lost_contact")) == 1
    assert _inbox(org.organizer, "alert.mobility.lost_contact_escalated") == []

    # 30 more days: escalated up the tree to the first unit with someone to act (the township has nobody:
    # the county committee, whose organizer hears)
    alerts.scan(now=t0 + timedelta(days=122))
    db.session.expire_all()
    case = tk.db.session.scalar(select(LostContactCase))
    assert case.escalated_at is not None and case.escalated_unit_id == org.root.id
    assert len(_inbox(org.organizer, "alert.mobility.lost_contact_escalated")) == 1
    alerts.scan(now=t0 + timedelta(days=130))
    assert len(_inbox(org.organizer, "alert.mobility.lost_contact_escalated")) == 1

    # the home secretary sees them on the lost-contact list
    home = app.test_client()
    login(home, "home-secretary")
    assert "张伟" in home.get(f"/mobility/units/{org.home.id}?tab=lost").get_data(as_text=True)
    host = app.test_client()
    login(host, "host-secretary")
    assert "张伟" not in host.get(f"/mobility/units/{org.host.id}?tab=lost").get_data(as_text=True)

    # a logged phone call brings them back
    contacts.log_contact(tk.db.session.get(tk.Member, org.member1.id), "call", (t0 + timedelta(days=131)).date(),
                         "终于联系上", by_account=org.home_sec, now=t0 + timedelta(days=131))
    tk.db.session.commit()
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).lost_contact is False
    assert tk.db.session.scalar(select(LostContactCase)).cleared_at is not None
    alerts.scan(now=t0 + timedelta(days=140))
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).lost_contact is False


def test_recent_contact_or_activity_keeps_a_member_in_touch(app, db, org):
    t0 = tk.utcnow()
    org.member1.created_at = t0 - timedelta(days=400)
    _away(org, t0)
    contacts.log_contact(org.member1, "video", (t0 + timedelta(days=60)).date(), by_account=org.home_sec,
                         now=t0 + timedelta(days=60))
    db.session.commit()
    assert contacts.scan_lost_contact(t0 + timedelta(days=120)) == []
    flagged = contacts.scan_lost_contact(t0 + timedelta(days=151))
    assert [a.kind for a in flagged] == ["mobility.lost_contact"] and flagged[0].unit_id == org.home.id
    db.session.commit()
    # any activity in the stream clears the flag at once
    tk.record_activity(org.member1, "lesson.completed", "lesson", 1, at=t0 + timedelta(days=152))
    db.session.commit()
    assert org.member1.lost_contact is False


def test_threshold_is_a_setting(app, db, org):
    tk.set_setting("mobility", "lost_contact_days", 30)
    t0 = tk.utcnow()
    org.member1.created_at = t0 - timedelta(days=400)
    _away(org, t0)
    assert contacts.scan_lost_contact(t0 + timedelta(days=29)) == []
    assert len(contacts.scan_lost_contact(t0 + timedelta(days=31))) == 1


def test_contact_person_and_log_by_the_home_branch_only(app, db, org, factory):
    _away(org, tk.utcnow())
    home, host = app.test_client(), app.test_client()
    login(home, "home-secretary")
    login(host, "host-secretary")
    # 1+1: a member of the same branch who is at home
    assert home.post(f"/mobility/members/{org.member1.id}/contact-person",
                     data={"contact_member_id": org.member2.id}).status_code == 302
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).contact_member_id == org.member2.id
    # not someone from another branch
    home.post(f"/mobility/members/{org.member1.id}/contact-person", data={"contact_member_id": org.outsider.id})
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).contact_member_id == org.member2.id
    assert host.post(f"/mobility/members/{org.member1.id}/contact-person",
                     data={"contact_member_id": org.member2.id}).status_code == 404
    # the log: channel and date are checked, a bad entry keeps the note and stores nothing
    bad = home.post(f"/mobility/members/{org.member1.id}/contacts",
                    data={"channel": "telepathy", "contacted_on": "2099-01-01", "note": "我的记录"})
    assert bad.status_code == 422 and "我的记录" in bad.get_data(as_text=True)
    assert tk.db.session.scalar(select(tk.db.func.count(ContactLog.id))) == 0
    for channel in ("call", "message", "visit", "video"):
        assert home.post(f"/mobility/members/{org.member1.id}/contacts", data={
            "channel": channel, "contacted_on": tk.local_today().isoformat(), "note": channel}).status_code == 302
    entries = contacts.contacts_of(org.member1)
    assert sorted(e.channel for e in entries) == ["call", "message", "video", "visit"]
    assert all(e.by_account_id == org.home_sec.id for e in entries)
    verbs = [a.verb for a in tk.db.session.scalars(select(tk.Activity).where(tk.Activity.actor_id == org.member1.id))]
    assert verbs.count("contact.logged") == 4


def test_lost_contact_list_shows_what_was_tried(app, db, org):
    t0 = tk.utcnow()
    org.member1.created_at = t0 - timedelta(days=400)
    _away(org, t0 - timedelta(days=120))
    contacts.assign_contact(org.member1, org.member2)
    contacts.log_contact(org.member1, "visit", tk.local_date(t0 - timedelta(days=100)), "见到本人", by_account=org.home_sec,
                         now=t0 - timedelta(days=100))
    db.session.commit()
    alerts.scan(now=t0)
    # attempts that reach nobody are logged, shown, and do not end the case
    for days_ago, channel in ((5, "call"), (2, "message")):
        contacts.log_contact(org.member1, channel, tk.local_date(t0 - timedelta(days=days_ago)), "无人接听",
                             by_account=org.home_sec, now=t0 + timedelta(minutes=days_ago), reached=False)
    db.session.commit()
    db.session.expire_all()
    member = tk.db.session.get(tk.Member, org.member1.id)
    assert member.lost_contact is True and contacts.open_case(member) is not None
    [row] = contacts.lost_contact_rows([member], t0)
    assert row.days == 100 and row.last_contact.channel == "visit" and row.attempts == 2
    assert [e.channel for e in row.recent_attempts] == ["message", "call"]

    home = app.test_client()
    login(home, "home-secretary")
    page = home.get(f"/mobility/units/{org.home.id}?tab=lost").get_data(as_text=True)
    assert "张伟" in page and "李芳" in page and "无人接听" in page and ">100<" in page
    # the form records an unanswered attempt the same way
    assert home.post(f"/mobility/members/{org.member1.id}/contacts", data={
        "channel": "call", "contacted_on": tk.local_today().isoformat(), "not_reached": "y"}).status_code == 302
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member1.id).lost_contact is True
    assert contacts.lost_contact_rows([tk.db.session.get(tk.Member, org.member1.id)], t0)[0].attempts == 3

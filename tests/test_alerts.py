"""Alerts reach a person: the one rule (``tk.responsible_accounts``), members told what concerns them, the preview."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from portal import alerts
from portal import toolkit as tk
from portal.cli import cli
from portal.notify.models import Notification
from portal.org.models import RoleAssignment
from portal.plugins.manager import get_manager
from portal_mobility import moves, outflows
from portal_mobility.models import Certificate, LostContactCase

OLD = timedelta(days=400)


def _lost(factory, unit, count: int, now: datetime, prefix: str) -> list:
    """``count`` away members of ``unit`` not heard of for 400 days."""
    return [factory.member(unit, f"{prefix}{i}", is_away=True, created_at=now - OLD) for i in range(count)]


def _alerts_to(account, kind: str) -> int:
    return tk.db.session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == account.id, Notification.kind == kind))


def _all_notes() -> int:
    return tk.db.session.scalar(select(func.count(Notification.id)))


def test_the_rule_walks_up_to_the_first_unit_with_someone_to_act(db, org, factory):
    silent = factory.unit("Silent Hill Village Branch", "branch", org.township)
    assert tk.responsible_accounts(org.home, "mobility.manage") == (org.home, [org.home_sec.id])
    # a branch without a secretary account: not its (empty) township, the committee's organizer
    assert tk.responsible_accounts(silent, "mobility.manage") == (org.root, [org.organizer.id])
    # the permission decides who counts: a secretary may not manage units, the organizer may
    assert tk.responsible_accounts(org.home, "units.manage") == (org.root, [org.organizer.id])
    # a deactivated account acts for nobody
    org.organizer.is_active_account = False
    db.session.commit()
    assert tk.responsible_accounts(silent, "mobility.manage") == (org.root, [org.admin.id])


def test_a_tree_with_nobody_falls_to_the_admins(db, org, factory):
    alone = factory.unit("Lone County", "committee")
    branch = factory.unit("Lone Branch", "branch", alone)
    assert tk.responsible_accounts(branch, "mobility.manage") == (alone, [org.admin.id])
    now = tk.utcnow()
    _lost(factory, branch, 2, now, "lone")
    alerts.scan(now=now)
    assert _alerts_to(org.admin, "alert.mobility.lost_contact") == 2


def test_every_flagged_member_reaches_someone(db, org, factory):
    """The issue's branch without a secretary account: 21 members flagged must mean 21 alerts delivered."""
    now = tk.utcnow()
    silent = factory.unit("Silent Hill Village Branch", "branch", org.township)
    _lost(factory, org.home, 3, now, "home")
    _lost(factory, silent, 18, now, "silent")
    alerts.scan(now=now)
    flagged = tk.db.session.scalar(select(func.count(LostContactCase.id)))
    delivered = tk.db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "alert.mobility.lost_contact"))
    assert flagged == delivered == 21
    assert _alerts_to(org.home_sec, "alert.mobility.lost_contact") == 3
    assert _alerts_to(org.organizer, "alert.mobility.lost_contact") == 18
    # the next day's scan tells nobody again
    alerts.scan(now=now + timedelta(days=1))
    assert tk.db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "alert.mobility.lost_contact")) == 21


def _certificate(org, now):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": tk.local_date(now - timedelta(days=340)).isoformat(),
                                                      "reason": "务工"}, now=now - timedelta(days=340))
    outflows.approve_outflow(outflow, now=now - timedelta(days=340))
    tk.db.session.commit()
    return tk.db.session.scalar(select(Certificate).where(Certificate.member_id == org.member1.id))


def test_review_due_reaches_the_branch_side_and_the_member_once(db, org, factory):
    now = tk.utcnow()
    certificate = _certificate(org, now)
    # the home branch's secretary left: the review falls to the committee
    db.session.execute(delete(RoleAssignment).where(RoleAssignment.account_id == org.home_sec.id))
    db.session.commit()
    assert certificate.valid_until - tk.local_date(now) <= timedelta(days=30)
    alerts.scan(now=now)
    assert _alerts_to(org.organizer, "alert.mobility.review_due") == 1
    assert _alerts_to(org.member1.account, "alert.mobility.review_due_member") == 1
    alerts.scan(now=now + timedelta(days=1))
    assert _alerts_to(org.member1.account, "alert.mobility.review_due_member") == 1
    assert _alerts_to(org.organizer, "alert.mobility.review_due") == 1


def test_a_late_move_report_tells_the_member_the_rule(db, org):
    now = tk.utcnow()
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": tk.local_date(now - timedelta(days=60)).isoformat(),
                                                      "reason": "务工"}, now=now - timedelta(days=60))
    outflows.approve_outflow(outflow, now=now - timedelta(days=60))
    db.session.commit()
    moves.report_move(org.member1, {"changed_on": tk.local_date(now - timedelta(days=3)).isoformat(),
                                    "employer": "新公司"}, now=now)
    db.session.commit()
    assert _alerts_to(org.member1.account, "mobility.move_late") == 0
    moves.report_move(org.member1, {"changed_on": tk.local_date(now - timedelta(days=20)).isoformat(),
                                    "employer": "另一家公司"}, now=now)
    db.session.commit()
    notes = list(db.session.scalars(select(Notification).where(Notification.account_id == org.member1.account_id,
                                                                Notification.kind == "mobility.move_late")))
    assert len(notes) == 1 and "15 days" in notes[0].display_body and "20 days" in notes[0].display_body
    assert _alerts_to(org.home_sec, "mobility.moved") == 2


def test_scan_at_previews_and_writes_nothing(app, db, org, factory):
    now = tk.utcnow()
    silent = factory.unit("Silent Hill Village Branch", "branch", org.township)
    _lost(factory, silent, 2, now - timedelta(days=10), "silent")
    # only the lost-contact alerts are counted here: the meetings plugin's period-end reminders would fire near a month's end
    tk.set_setting("meetings", "compliance_reminder_days", 0)
    tk.set_setting("reports", "reminder_days", 0)  # nor the reports' reminders before a period ends
    db.session.commit()
    # … nor the 6-month rule's steps (these members have done nothing for months: standing would speak too)
    manager = get_manager()
    manager.set_enabled("standing", False)
    db.session.commit()
    manager.forget_states()
    try:
        _preview_then_scan(app, db, org, now)
    finally:
        manager.set_enabled("standing", True)
        db.session.commit()
        manager.forget_states()


def _preview_then_scan(app, db, org, now):
    before = _all_notes()
    # a day before anyone is lost for 90 days nothing would be raised …
    early = app.test_cli_runner().invoke(cli, ["alerts", "scan", "--at", "2020-01-01"])
    assert early.exit_code == 0, early.output
    assert "0 message(s) would be sent" in early.output
    # … later, the committee's organizer would hear of both (local time accepted to the minute)
    day = tk.local_today(now + timedelta(days=30)).isoformat()
    result = app.test_cli_runner().invoke(cli, ["alerts", "scan", "--at", f"{day}T09:00"])
    assert result.exit_code == 0, result.output
    assert "County Committee" in result.output and "organizer" in result.output
    assert result.output.count("mobility.lost_contact]") == 2
    assert "2 message(s) would be sent" in result.output
    db.session.expire_all()
    assert _all_notes() == before
    assert tk.db.session.scalar(select(func.count(LostContactCase.id))) == 0
    assert not any(m.lost_contact for m in tk.db.session.scalars(select(tk.Member)))
    # the real scan then does what the preview said
    assert app.test_cli_runner().invoke(cli, ["alerts", "scan"]).output.strip() == "2 alert(s) raised"
    assert _alerts_to(org.organizer, "alert.mobility.lost_contact") == 2


def test_scan_at_reads_a_local_date_as_local_midnight(app, monkeypatch):
    seen = []
    monkeypatch.setattr(alerts, "preview", lambda now: seen.append(now) or [])
    assert app.test_cli_runner().invoke(cli, ["alerts", "scan", "--at", "2026-12-01"]).exit_code == 0
    assert seen == [datetime(2026, 11, 30, 16, 0)]  # Asia/Shanghai midnight, stored as naive UTC
    bad = app.test_cli_runner().invoke(cli, ["alerts", "scan", "--at", "tomorrow"])
    assert bad.exit_code != 0


def test_demo_shows_an_alert_reaching_the_committee(db, app):
    from portal.demo import build_demo

    build_demo(members=4, password="demo-2026")
    build_demo(members=4, password="demo-2026")  # twice: told once
    organizer = db.session.scalar(select(tk.Account).where(tk.Account.username == "organizer"))
    titles = [n.title for n in db.session.scalars(select(Notification).where(
        Notification.account_id == organizer.id, Notification.kind == "alert.mobility.lost_contact"))]
    assert len(titles) == 1 and "吴秀兰" in titles[0]
    # the demo's lost member in the home branch shows what was tried
    from portal_mobility import contacts, queries

    home = db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "东岭村党支部"))
    rows = {row.member.name: row for row in contacts.lost_contact_rows(queries.lost_contact_members(home), tk.utcnow())}
    assert rows["周志强"].attempts == 2

"""Dues arrears: the run of consecutive unpaid months, its reset, and the countdown scan that tells each step once."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import alerts as core_alerts
from portal import toolkit as tk
from portal.notify.models import Notification
from portal.org.models import Member
from portal_dues import arrears, payments, profiles
from portal_dues.models import ArrearsNotice, DuesProfile, Payment, PaymentMonth, RebaseReminder, Reduction
from tests.helpers.query_counter import count_queries


def _utc(year, month, day, hour=10) -> datetime:
    """A local (Asia/Shanghai, UTC+8) wall-clock time as the naive UTC the database stores."""
    return datetime(year, month, day, hour) - timedelta(hours=8)


NOW = _utc(2026, 11, 15)


def _profile(member, valid_from: str, org, base="4000.00", now=None):
    profiles.set_profile(member, {"category": "salaried", "monthly_base": base, "valid_from": valid_from},
                         by=org.home_sec, now=now or _utc(2026, 1, 5))
    tk.db.session.commit()


def _pay(member, months: list[str], org, now=NOW, amount=None):
    payment = payments.record_payment(member, {"months": months, "amount": amount or f"{40 * len(months)}.00",
                                               "channel": "cash"}, by=org.home_sec, now=now)
    tk.db.session.commit()
    return payment


def _told(kind: str) -> list[int]:
    """Account ids that got the alert ``kind`` (``dues.arrears_3`` …), in id order."""
    return sorted(tk.db.session.scalars(select(Notification.account_id).where(Notification.kind == f"alert.{kind}")))


# -- the run ---------------------------------------------------------------------------------------------------


def test_four_unpaid_months_are_at_the_talk_step(app, db, org):
    _profile(org.member2, "2026-07", org)
    assert arrears.arrears_for(org.member2, NOW) == (4, date(2026, 7, 1))
    assert arrears.step_for(4) == 3
    rows = arrears.arrears_in_unit(org.home, NOW)
    assert [(row["member_id"], row["months_unpaid"], row["since"], row["step"]) for row in rows] == [
        (org.member2.id, 4, date(2026, 7, 1), 3)]
    assert rows[0]["member"].name == "李芳"
    # the member's branch line only: the foreign branch and the host branch see nothing of it
    assert arrears.arrears_in_unit(org.foreign, NOW) == []
    assert [row["member_id"] for row in arrears.arrears_in_unit(org.root, NOW)] == [org.member2.id]


def test_the_current_month_is_not_yet_in_arrears(app, db, org):
    _profile(org.member2, "2026-11", org)
    assert arrears.arrears_for(org.member2, NOW) == (0, None)
    # the first day of December (local) makes November late, even at 00:30 Beijing time (still 30 Nov in UTC)
    assert arrears.arrears_for(org.member2, datetime(2026, 11, 30, 16, 30)) == (1, date(2026, 11, 1))


def test_paying_a_month_resets_the_run(app, db, org):
    _profile(org.member2, "2026-07", org)
    _pay(org.member2, ["2026-08"], org)
    assert arrears.arrears_for(org.member2, NOW) == (2, date(2026, 9, 1))
    _pay(org.member2, ["2026-10"], org)
    assert arrears.arrears_for(org.member2, NOW) == (0, None)
    assert arrears.arrears_in_unit(org.home, NOW) == []


def test_a_paid_month_ahead_does_not_count_and_a_rejected_one_is_unpaid(app, db, org):
    _profile(org.member2, "2026-09", org)
    _pay(org.member2, ["2026-11"], org)  # the current month: the run still ends at October
    assert arrears.arrears_for(org.member2, NOW) == (2, date(2026, 9, 1))
    rejected = Payment(member_id=org.member2.id, home_unit_id=org.home.id, collecting_unit_id=org.home.id,
                       amount=Decimal("40.00"), channel="transfer", status="rejected", paid_on=date(2026, 11, 1))
    db.session.add(rejected)
    db.session.flush()
    db.session.add(PaymentMonth(payment_id=rejected.id, member_id=org.member2.id, month=date(2026, 10, 1),
                                amount_due=Decimal("40.00")))
    db.session.commit()
    assert arrears.arrears_for(org.member2, NOW) == (2, date(2026, 9, 1))


def test_nothing_owed_ends_the_run(app, db, org):
    # no profile: nothing owed, nothing in arrears
    assert arrears.arrears_for(org.member2, NOW) == (0, None)
    _profile(org.member2, "2026-05", org)
    assert arrears.arrears_for(org.member2, NOW) == (6, date(2026, 5, 1))
    # an approved exemption for August: the run starts after it
    db.session.add(Reduction(member_id=org.member2.id, monthly_due=Decimal("0.00"), from_month=date(2026, 8, 1),
                             to_month=date(2026, 8, 1), reason="illness", state="approved"))
    # a reduction still waiting changes nothing
    db.session.add(Reduction(member_id=org.member2.id, monthly_due=Decimal("0.00"), from_month=date(2026, 10, 1),
                             reason="illness", state="branch_agreed"))
    db.session.commit()
    assert arrears.arrears_for(org.member2, NOW) == (2, date(2026, 9, 1))


def test_probationary_members_owe_from_their_admission_and_applicants_never(app, db, org, factory):
    probationary = factory.member(org.home, "newcomer", name="赵新", stage="probationary", joined_on=date(2026, 9, 20))
    _profile(probationary, "2026-06", org)
    assert arrears.arrears_for(probationary, NOW) == (2, date(2026, 9, 1))
    applicant = factory.member(org.home, "applicant", name="钱申", stage="applicant")
    db.session.add(DuesProfile(member_id=applicant.id, category="student", monthly_due=Decimal("0.20"),
                               valid_from=date(2026, 1, 1)))
    db.session.commit()
    assert arrears.arrears_for(applicant, NOW) == (0, None)
    assert [row["member_id"] for row in arrears.arrears_in_unit(org.home, NOW)] == [probationary.id]


def test_a_new_profile_keeps_the_run_going(app, db, org):
    _profile(org.member2, "2026-06", org)
    _profile(org.member2, "2026-09", org, base="12000.00")  # re-based: still owed, the run does not break
    assert arrears.arrears_for(org.member2, NOW) == (5, date(2026, 6, 1))


def _bulk_members(unit, count: int, *, start: date = date(2026, 3, 1)) -> list[int]:
    """``count`` members with a profile from ``start``, every other one having paid October (straight inserts)."""
    members = [Member(name=f"成员{n:03d}", home_unit_id=unit.id, stage="full") for n in range(count)]
    tk.db.session.add_all(members)
    tk.db.session.flush()
    for n, member in enumerate(members):
        tk.db.session.add(DuesProfile(member_id=member.id, category="salaried", monthly_base=Decimal("4000.00"),
                                      rate=Decimal("0.01"), monthly_due=Decimal("40.00"), valid_from=start))
        if n % 2:
            payment = Payment(member_id=member.id, home_unit_id=unit.id, collecting_unit_id=unit.id,
                              amount=Decimal("40.00"), channel="cash", status="confirmed", paid_on=date(2026, 11, 2))
            tk.db.session.add(payment)
            tk.db.session.flush()
            tk.db.session.add(PaymentMonth(payment_id=payment.id, member_id=member.id, month=date(2026, 10, 1),
                                           amount_due=Decimal("40.00")))
    tk.db.session.commit()
    return [member.id for member in members]


def test_arrears_in_unit_queries_stay_flat(app, db, org):
    arrears.arrears_in_unit(org.township, NOW)  # the settings load once per request: not what is measured
    _bulk_members(org.home, 5)
    with count_queries() as few:
        small = arrears.arrears_in_unit(org.township, NOW)
    _bulk_members(org.foreign, 50)
    with count_queries() as many:
        large = arrears.arrears_in_unit(org.township, NOW)
    assert len(small) == 3 and len(large) == 3 + 25
    assert {row["months_unpaid"] for row in large} == {8}
    assert len(many) == len(few) <= 6, many.report()


# -- the countdown scan ----------------------------------------------------------------------------------------


def test_the_scan_tells_each_step_once_to_the_right_people(app, db, org):
    member = org.member1  # home branch, hosted at the host branch; member2 is the contact person
    member.contact_member_id = org.member2.id
    db.session.commit()
    _profile(member, "2026-01", org)
    member_account, contact = org.member1.account_id, org.member2.account_id
    home_sec, host_sec = org.home_sec.id, org.host_sec.id

    def scan_at(month: int, day: int = 15) -> None:
        core_alerts.scan(_utc(2026, month, day))

    scan_at(1)  # January is not over: nothing
    assert _told("dues.arrears_1") == []
    scan_at(2)
    assert _told("dues.arrears_1") == [member_account]
    scan_at(2, 16)
    scan_at(3)  # two months: no new step
    assert _told("dues.arrears_1") == [member_account] and _told("dues.arrears_3") == []
    scan_at(4)
    assert _told("dues.arrears_3") == [home_sec]
    scan_at(5)
    scan_at(6)
    assert _told("dues.arrears_5") == sorted([member_account, home_sec, host_sec, contact])
    scan_at(7)
    scan_at(7, 20)
    assert _told("dues.arrears_6") == [home_sec]
    assert _told("dues.arrears_1") == [member_account] and _told("dues.arrears_3") == [home_sec]
    notices = db.session.execute(select(ArrearsNotice.since, ArrearsNotice.step)
                                 .where(ArrearsNotice.member_id == member.id)).all()
    assert sorted(notices) == [(date(2026, 1, 1), step) for step in (1, 3, 5, 6)]
    # the home branch's alert names the member and leads to the arrears page
    case = db.session.scalar(select(Notification).where(Notification.kind == "alert.dues.arrears_6"))
    assert "张伟" in case.title and case.url == f"/dues/manage/arrears?unit={org.home.id}"


def test_a_payment_starts_a_new_countdown(app, db, org):
    _profile(org.member2, "2026-01", org)
    core_alerts.scan(_utc(2026, 4, 15))  # three months: the talk step (the reminder is marked, not sent late)
    assert _told("dues.arrears_3") == [org.home_sec.id] and _told("dues.arrears_1") == []
    _pay(org.member2, ["2026-02", "2026-03"], org, now=_utc(2026, 4, 20))
    assert arrears.arrears_for(org.member2, _utc(2026, 5, 15)) == (1, date(2026, 4, 1))
    core_alerts.scan(_utc(2026, 5, 15))  # a new run (since April): its reminder goes to the member
    assert _told("dues.arrears_1") == [org.member2.account_id]
    assert _told("dues.arrears_3") == [org.home_sec.id]


def test_a_long_run_found_at_once_tells_only_its_highest_step(app, db, org):
    _profile(org.member2, "2026-01", org)
    alerts = arrears.scan(_utc(2026, 8, 15))
    assert {alert.kind for alert in alerts} == {"dues.arrears_6"}
    assert [a.unit_id for a in alerts] == [org.home.id] and alerts[0].permission == "dues.manage"
    assert arrears.scan(_utc(2026, 8, 16)) == []


def test_the_january_scan_asks_for_re_basing_once(app, db, org, factory):
    _profile(org.member1, "2026-03", org)
    _profile(org.member2, "2026-03", org)
    rebased = factory.member(org.foreign, "rebased", name="孙立")
    db.session.add(DuesProfile(member_id=rebased.id, category="student", monthly_due=Decimal("0.20"),
                               valid_from=date(2027, 1, 1)))
    db.session.commit()
    assert [a for a in arrears.scan(_utc(2026, 12, 15)) if a.kind == "dues.rebase"] == []
    alerts = [a for a in arrears.scan(_utc(2027, 1, 10)) if a.kind == "dues.rebase"]
    assert [(a.unit_id, a.permission) for a in alerts] == [(org.home.id, "dues.manage")]
    assert str(alerts[0].message) == "East Ridge Village Branch: 2 members' dues were not re-based for 2027."
    assert [a for a in arrears.scan(_utc(2027, 1, 11)) if a.kind == "dues.rebase"] == []
    assert db.session.scalars(select(RebaseReminder.unit_id)).all() == [org.home.id]


def test_the_scan_stays_cheap(app, db, org):
    arrears.scan(_utc(2026, 11, 15))  # the settings load once per request: not what is measured
    _bulk_members(org.home, 20)
    with count_queries() as few:
        told_few = arrears.scan(_utc(2026, 11, 15))
    db.session.rollback()
    _bulk_members(org.foreign, 300)
    with count_queries() as many:
        told_many = arrears.scan(_utc(2026, 11, 15))
    assert len(told_few) == 10 and len(told_many) == 160
    assert len(many) == len(few) <= 8, many.report()

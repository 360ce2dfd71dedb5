"""The dues demo: a profile for every demo member, a year of payments (monthly and by the quarter, one at the
Shenzhen host branch, one on the member's behalf), a member four months behind, a reported payment waiting for
the secretary and a reduction waiting for the upper committee — built twice."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_dues import arrears, money, profiles
from portal_dues.models import DuesProfile, Payment, PaymentMonth, Reduction
from tests.helpers.demo import demo_built_twice

#: 2026-11-20 12:00 local: the collection day of November is past, December still ahead.
NOW = datetime(2026, 11, 20, 4, 0)
CURRENT = date(2026, 11, 1)


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) at a fixed clock, built twice (once for the module, wiped afterwards).

    Returns the counts after the first run."""
    yield from demo_built_twice(app, _counts, NOW)


@pytest.fixture
def db(app, built):
    """Reads of the module's demo in an app context (nothing is wiped between these tests)."""
    with app.app_context():
        yield tk.db
        tk.db.session.remove()


def _counts() -> tuple[int, ...]:
    return tuple(tk.db.session.scalar(select(func.count()).select_from(table)) for table in (
        DuesProfile, Payment, PaymentMonth, Reduction)) + (tk.db.session.scalar(
            select(func.count(tk.Activity.id)).where(tk.Activity.verb == "dues.paid")),)


def _member(username: str) -> tk.Member:
    return tk.db.session.scalar(select(tk.Member).join(tk.Account).where(tk.Account.username == username))


def _payers() -> list[tk.Member]:
    return [m for m in tk.db.session.scalars(select(tk.Member).where(tk.Member.account_id.is_not(None)))
            if tk.is_member_stage(m.stage) and not m.lost_contact]


def test_demo_builds_twice_without_duplicates(built, db):
    assert _counts() == built
    profiles_, payments_, months, reductions, activities = built
    assert payments_ > 50 and reductions == 1
    # every confirmed month is one activity (the reported one is not counted yet)
    confirmed = db.session.scalar(select(func.count(PaymentMonth.id)).join(Payment).where(Payment.status == "confirmed"))
    assert activities == confirmed == months - 1


def test_every_member_has_a_profile_and_applicants_none(built, db):
    payers = _payers()
    with_profile = set(db.session.scalars(select(DuesProfile.member_id)))
    assert {m.id for m in payers} <= with_profile
    others = db.session.scalars(select(tk.Member.id).where(tk.Member.stage.in_(("applicant", "activist", "candidate"))))
    assert not with_profile & set(others)
    lost = db.session.scalars(select(tk.Member.id).where(tk.Member.lost_contact.is_(True))).all()
    assert lost and not with_profile & set(lost)  # out of contact: no profile, no payment, no activity
    categories = set(db.session.scalars(select(DuesProfile.category)))
    assert {"salaried", "retired", "farmer", "student", "self_employed"} <= categories
    # salaried bases at the tier boundaries: 3000.00 → 0.5 %, 3000.01 → 1 %, 5000.00 → 1 %, 10000.00 → 1.5 %
    due = {(p.monthly_base - p.insurance_deduction, p.monthly_due) for p in db.session.scalars(
        select(DuesProfile).where(DuesProfile.category == "salaried"))}
    assert {(Decimal("3000.00"), Decimal("15.00")), (Decimal("3000.01"), Decimal("30.00")),
            (Decimal("5000.00"), Decimal("50.00")), (Decimal("10000.00"), Decimal("150.00"))} <= due
    # member1 was re-based this January: two rows, the history kept
    rows = db.session.scalars(select(DuesProfile).where(DuesProfile.member_id == _member("member1").id)
                              .order_by(DuesProfile.valid_from)).all()
    assert [r.valid_from for r in rows] == [date(2025, 11, 1), date(2026, 1, 1)]
    assert [r.monthly_due for r in rows] == [Decimal("45.00"), Decimal("50.00")]


def test_member1_pays_by_the_quarter_once_at_the_host_branch_once_on_behalf(built, db):
    member1 = _member("member1")
    rows = db.session.scalars(select(Payment).where(Payment.member_id == member1.id).order_by(Payment.paid_on)).all()
    assert all(r.status == "confirmed" for r in rows)
    at_host = [r for r in rows if r.channel == "host_branch"]
    assert len(at_host) == 1 and at_host[0] is rows[-1]
    shenzhen = member1.host_unit
    assert at_host[0].collecting_unit_id == shenzhen.id and at_host[0].home_unit_id == member1.home_unit_id
    assert [money.month_key(m.month) for m in at_host[0].months] == ["2026-10", "2026-11", "2026-12"]
    assert at_host[0].recorded_by_account_id == db.session.scalar(
        select(tk.Account.id).where(tk.Account.username == "host-secretary"))
    # counted for the home branch: the activities of those months belong to 东岭村 and say at_host
    activities = db.session.scalars(select(tk.Activity).where(tk.Activity.actor_id == member1.id,
                                                              tk.Activity.verb == "dues.paid")).all()
    hosted = [a for a in activities if a.extras["payment_id"] == at_host[0].id]
    assert len(hosted) == 3 and all(a.extras["at_host"] and a.home_unit_id == member1.home_unit_id for a in hosted)
    on_behalf = [r for r in rows if r.channel == "on_behalf"]
    assert len(on_behalf) == 1 and on_behalf[0].payer_name and on_behalf[0] is rows[-2]
    assert arrears.arrears_for(member1, now=NOW) == (0, None)


def test_member_four_months_behind_has_a_talk_due(built, db):
    home = db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "东岭村党支部"))
    listed = {row["member_id"]: row for row in arrears.arrears_in_unit(home, now=NOW)}
    talk = [row for row in listed.values() if row["months_unpaid"] == 4]
    assert len(talk) == 1 and talk[0]["since"] == date(2026, 7, 1) and talk[0]["step"] == 3
    behind = {months for m in _payers() if (months := arrears.arrears_for(m, now=NOW)[0])}
    assert behind == {1, 2, 4}  # a few in arrears; everyone else paid up to last month


def test_member2_reported_last_month_and_waits_for_the_secretary(built, db):
    member2 = _member("member2")
    reported = db.session.scalars(select(Payment).where(Payment.status == "reported")).all()
    assert len(reported) == 1 and reported[0].member_id == member2.id
    assert [money.month_key(m.month) for m in reported[0].months] == ["2026-10"]
    assert reported[0].proof_stored_name and reported[0].amount == profiles.due_for(member2, date(2026, 10, 1))
    assert arrears.arrears_for(member2, now=NOW)[0] == 0  # a reported month is not in arrears


def test_reduction_waits_for_the_upper_committee(built, db):
    reduction = db.session.scalar(select(Reduction))
    assert reduction.state == "branch_agreed" and reduction.branch_note and reduction.upper_decided_at is None
    assert (reduction.from_month, reduction.to_month) == (CURRENT, date(2027, 4, 1))
    assert reduction.monthly_due < profiles.due_for(reduction.member, CURRENT)  # not approved: the amount holds

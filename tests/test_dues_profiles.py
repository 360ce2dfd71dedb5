"""Dues money and profiles: strict amounts, rounding, the tier tables at each boundary, farmers, students,
the insurance deduction, profile history, probationary members, and reductions member → branch → upper."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import Conflict, Forbidden, Invalid, NotFound
from portal_dues import money, profiles
from portal_dues.models import DuesProfile

NOW = datetime(2026, 11, 10, 2, 0)  # 2026-11-10 10:00 in Shanghai
NOV, OCT, DEC = date(2026, 11, 1), date(2026, 10, 1), date(2026, 12, 1)


# -- money -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("4000.00", "4000.00"), ("40", "40.00"), ("0.5", "0.50"), (" 12.34 ", "12.34")])
def test_amounts_parse_to_decimals(db, text, value):
    assert money.parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1e3", "-5", "12.345", "", "abc", "1,000", "+5", "NaN", "Infinity", 40.0, 40, None])
def test_amounts_other_than_plain_yuan_strings_are_refused(db, text):
    with pytest.raises(Invalid) as refused:
        money.parse_amount(text, "monthly_base")
    assert "monthly_base" in refused.value.field_errors


@pytest.mark.parametrize("rounding, value, expected", [
    ("half_up", "0.005", "0.01"), ("half_up", "0.004", "0.00"), ("half_up", "15.125", "15.13"),
    ("down", "0.009", "0.00"), ("down", "15.129", "15.12"), ("up", "0.001", "0.01")])
def test_round_yuan_follows_the_setting(db, rounding, value, expected):
    tk.set_setting("dues", "rounding", rounding)
    assert money.round_yuan(Decimal(value)) == Decimal(expected)


def test_months_parse_and_count(db):
    assert money.parse_month("2026-11") == NOV
    assert money.month_key(date(2026, 11, 30)) == "2026-11"
    assert money.add_months(NOV, 2) == date(2027, 1, 1) and money.add_months(NOV, -11) == date(2025, 12, 1)
    assert money.month_range(OCT, DEC) == [OCT, NOV, DEC] and money.month_range(DEC, OCT) == []
    assert money.current_month(datetime(2026, 10, 31, 17, 0)) == NOV  # 01:00 on Nov 1 in Shanghai
    for bad in ("2026-13", "2026-1", "26-11", "2026-11-01", None, 202611):
        with pytest.raises(Invalid):
            money.parse_month(bad)


# -- tiers and amounts -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("base, rate, due", [
    ("3000.00", "0.005", "15.00"), ("3000.01", "0.01", "30.00"), ("5000.00", "0.01", "50.00"),
    ("5000.01", "0.015", "75.00"), ("10000.00", "0.015", "150.00"), ("10000.01", "0.02", "200.00"),
    ("0.00", "0.005", "0.00"), ("2999.99", "0.005", "15.00")])
def test_salaried_tiers_at_each_boundary(db, base, rate, due):
    assert profiles.amount_for("salaried", Decimal(base), Decimal("0")) == (Decimal(rate), Decimal(due))
    assert profiles.amount_for("self_employed", Decimal(base), Decimal("0")) == (Decimal(rate), Decimal(due))


@pytest.mark.parametrize("base, rate, due", [("5000.00", "0.005", "25.00"), ("5000.01", "0.01", "50.00"),
                                              ("3000.00", "0.005", "15.00"), ("8000.00", "0.01", "80.00")])
def test_retired_tiers(db, base, rate, due):
    assert profiles.amount_for("retired", Decimal(base), Decimal("0")) == (Decimal(rate), Decimal(due))


def test_tiers_come_from_the_setting(db):
    tk.set_setting("dues", "salaried_tiers", "1000:0.001; *:0.05")
    assert profiles.amount_for("salaried", Decimal("1000.00"), Decimal("0")) == (Decimal("0.001"), Decimal("1.00"))
    assert profiles.amount_for("salaried", Decimal("1000.01"), Decimal("0"))[0] == Decimal("0.05")


@pytest.mark.parametrize("broken", ["3000-0.005", "abc:0.01; *:x", ""])
def test_an_unreadable_tier_setting_is_a_clear_refusal_not_a_crash(db, broken):
    tk.set_setting("dues", "salaried_tiers", broken)
    with pytest.raises(tk.Conflict, match="rate table"):
        profiles.amount_for("salaried", Decimal("4000.00"), Decimal("0"))


def test_rounding_of_the_amount(db):
    # 3001.50 × 1% = 30.015: half up → 30.02, down → 30.01
    assert profiles.amount_for("salaried", Decimal("3001.50"), Decimal("0"))[1] == Decimal("30.02")
    tk.set_setting("dues", "rounding", "down")
    assert profiles.amount_for("salaried", Decimal("3001.50"), Decimal("0"))[1] == Decimal("30.01")


def test_insurance_deduction_on_and_off(db):
    # 5600 − 800 = 4800 → 1 % = 48.00; without the deduction 5600 → 1.5 % = 84.00
    assert profiles.amount_for("salaried", Decimal("5600.00"), Decimal("800.00")) == (Decimal("0.01"), Decimal("48.00"))
    tk.set_setting("dues", "deduct_insurance", False)
    assert profiles.amount_for("salaried", Decimal("5600.00"), Decimal("800.00")) == (Decimal("0.015"), Decimal("84.00"))


def test_farmers_pay_a_fixed_amount_within_the_bounds(db):
    assert profiles.amount_for("farmer", None, None) == (None, Decimal("0.50"))
    assert profiles.amount_for("farmer", None, None, Decimal("0.20")) == (None, Decimal("0.20"))
    assert profiles.amount_for("farmer", None, None, Decimal("1.00")) == (None, Decimal("1.00"))
    for outside in ("0.19", "1.01"):
        with pytest.raises(Invalid) as refused:
            profiles.amount_for("farmer", None, None, Decimal(outside))
        assert "fixed_amount" in refused.value.field_errors


def test_students_and_unemployed_pay_the_fixed_small_amount(db):
    assert profiles.amount_for("student", Decimal("9000.00"), None) == (None, Decimal("0.20"))
    assert profiles.amount_for("unemployed", None, None) == (None, Decimal("0.20"))
    tk.set_setting("dues", "student_amount", "0.30")
    assert profiles.amount_for("student", None, None) == (None, Decimal("0.30"))


# -- profiles --------------------------------------------------------------------------------------------------------

def test_setting_a_profile_and_its_json(db, org):
    profile = profiles.set_profile(org.member2, {"category": "salaried", "monthly_base": "4000.00"},
                                   by=org.home_sec, now=NOW)
    db.session.commit()
    body = profiles.profile_json(profile)
    assert (body["category"], body["monthly_base"], body["insurance_deduction"], body["rate"], body["monthly_due"],
            body["valid_from"]) == ("salaried", "4000.00", "0.00", "0.01", "40.00", "2026-11")
    assert profiles.due_for(org.member2, NOV) == Decimal("40.00")
    assert profiles.due_for(org.member2, OCT) == Decimal("0.00")  # before the first profile: not owed


def test_profile_history_new_row_per_month_same_month_updates(db, org):
    profiles.set_profile(org.member2, {"category": "salaried", "monthly_base": "4000.00", "valid_from": "2026-09"},
                         by=org.home_sec, now=NOW)
    profiles.set_profile(org.member2, {"category": "salaried", "monthly_base": "6000.00"}, by=org.home_sec, now=NOW)
    profiles.set_profile(org.member2, {"category": "retired", "monthly_base": "6000.00"}, by=org.home_sec, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DuesProfile)) == 2
    assert profiles.due_for(org.member2, OCT) == Decimal("40.00")
    assert profiles.due_for(org.member2, NOV) == Decimal("60.00")  # retired 1 %
    assert profiles.current_profile(org.member2, DEC).category == "retired"
    assert profiles.current_profile(org.member2, date(2026, 8, 1)) is None


def test_profile_input_is_checked(db, org):
    for data, field in [({"category": "boss", "monthly_base": "1.00"}, "category"),
                        ({"category": "salaried"}, "monthly_base"),
                        ({"category": "salaried", "monthly_base": "1e3"}, "monthly_base"),
                        ({"category": "salaried", "monthly_base": "100.00", "insurance_deduction": "200.00"},
                         "insurance_deduction"),
                        ({"category": "farmer", "fixed_amount": "5.00"}, "fixed_amount"),
                        ({"category": "student", "valid_from": "2026/11"}, "valid_from")]:
        with pytest.raises(Invalid) as refused:
            profiles.set_profile(org.member2, data, by=org.home_sec, now=NOW)
        assert field in refused.value.field_errors, data


def test_only_the_home_side_sets_a_profile_and_never_their_own(db, org):
    with pytest.raises(NotFound):
        profiles.set_profile(org.member2, {"category": "student"}, by=org.foreign_sec, now=NOW)
    with pytest.raises(NotFound):
        profiles.set_profile(org.member1, {"category": "student"}, by=org.host_sec, now=NOW)
    home_sec_member = org.home_sec.member
    with pytest.raises(Forbidden):
        profiles.set_profile(home_sec_member, {"category": "student"}, by=org.home_sec, now=NOW)
    assert profiles.set_profile(org.member1, {"category": "student"}, by=org.organizer, now=NOW).monthly_due == \
        Decimal("0.20")


def test_probationary_members_owe_from_their_admission_month(db, org):
    org.member2.stage, org.member2.joined_on = "probationary", date(2026, 10, 20)
    profiles.set_profile(org.member2, {"category": "farmer", "valid_from": "2026-06"}, by=org.home_sec, now=NOW)
    db.session.commit()
    dues = profiles.dues_for_months(org.member2, money.month_range(date(2026, 8, 1), NOV))
    assert dues == {date(2026, 8, 1): Decimal("0.00"), date(2026, 9, 1): Decimal("0.00"),
                    OCT: Decimal("0.50"), NOV: Decimal("0.50")}


# -- reductions ------------------------------------------------------------------------------------------------------

def _reduction(db, org):
    profiles.set_profile(org.member2, {"category": "salaried", "monthly_base": "4000.00", "valid_from": "2026-09"},
                         by=org.home_sec, now=NOW)
    reduction = profiles.request_reduction(org.member2, {"monthly_due": "10.00", "from_month": "2026-11",
                                                         "to_month": "2026-12", "reason": "Sick leave"}, now=NOW)
    db.session.commit()
    return reduction


def test_reduction_member_branch_upper(db, org):
    reduction = _reduction(db, org)
    profiles.decide_reduction_branch(reduction, True, "Agreed", by=org.home_sec, now=NOW)
    assert reduction.state == "branch_agreed" and profiles.due_for(org.member2, NOV) == Decimal("40.00")
    township_sec = _township_secretary(db, org)
    profiles.decide_reduction_upper(reduction, True, "Approved", by=township_sec, now=NOW)
    db.session.commit()
    assert (reduction.state, reduction.upper_account_id, reduction.branch_account_id) == \
        ("approved", township_sec.id, org.home_sec.id)
    assert [profiles.due_for(org.member2, m) for m in (OCT, NOV, DEC, date(2027, 1, 1))] == \
        [Decimal("40.00"), Decimal("10.00"), Decimal("10.00"), Decimal("40.00")]


def _township_secretary(db, org):
    from tests.helpers.factories import Factory

    return Factory(db).staff("township-secretary", "secretary", org.township)


def test_branch_secretary_cannot_approve_at_upper_level(db, org):
    reduction = _reduction(db, org)
    profiles.decide_reduction_branch(reduction, True, None, by=org.home_sec, now=NOW)
    with pytest.raises(Forbidden):
        profiles.decide_reduction_upper(reduction, True, None, by=org.home_sec, now=NOW)
    with pytest.raises(NotFound):
        profiles.decide_reduction_branch(reduction, True, None, by=org.foreign_sec, now=NOW)
    assert reduction.state == "branch_agreed"


def test_upper_decides_only_after_the_branch_and_branch_only_once(db, org):
    reduction = _reduction(db, org)
    with pytest.raises(Conflict):
        profiles.decide_reduction_upper(reduction, True, None, by=org.organizer, now=NOW)
    profiles.decide_reduction_branch(reduction, False, "No", by=org.home_sec, now=NOW)
    assert reduction.state == "refused"
    with pytest.raises(Conflict):
        profiles.decide_reduction_branch(reduction, True, None, by=org.home_sec, now=NOW)
    assert profiles.due_for(org.member2, NOV) == Decimal("40.00")


def test_nobody_decides_on_their_own_reduction(db, org):
    own = org.home_sec.member
    profiles.set_profile(own, {"category": "student"}, by=org.organizer, now=NOW)
    reduction = profiles.request_reduction(own, {"exempt": True, "reason": "Out of work"}, now=NOW)
    assert reduction.monthly_due == Decimal("0.00")
    with pytest.raises(Forbidden):
        profiles.decide_reduction_branch(reduction, True, None, by=org.home_sec, now=NOW)
    profiles.decide_reduction_branch(reduction, True, None, by=org.organizer, now=NOW)
    profiles.decide_reduction_upper(reduction, True, None, by=org.organizer, now=NOW)
    assert profiles.due_for(own, NOV) == Decimal("0.00")


def test_reduction_request_is_checked_and_one_at_a_time(db, org):
    with pytest.raises(Invalid):
        profiles.request_reduction(org.member2, {"monthly_due": "10.00"}, now=NOW)
    with pytest.raises(Invalid):
        profiles.request_reduction(org.member2, {"monthly_due": "-1", "reason": "x"}, now=NOW)
    with pytest.raises(Invalid):
        profiles.request_reduction(org.member2, {"monthly_due": "1.00", "reason": "x", "from_month": "2026-11",
                                                 "to_month": "2026-10"}, now=NOW)
    _reduction(db, org)
    with pytest.raises(Conflict):
        profiles.request_reduction(org.member2, {"monthly_due": "1.00", "reason": "again"}, now=NOW)

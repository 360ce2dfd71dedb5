"""Development cases: opening, recording steps in order, advancing (with the stage mirrored on the member),
who sees and who acts (self-exclusion, audited reads), closing, and transfers that keep the clock."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal_development import cases, rules
from portal_development.models import DevCase, Mentor, StepRecord
from tests.helpers.development import FAILING, PASSING, id_number, new_case, notice, write

D = date


def _audits(db, action, case=None):
    query = select(AuditEntry).where(AuditEntry.action == action)
    if case is not None:
        query = query.where(AuditEntry.target_id == str(case.id))
    return db.session.scalars(query).all()


# --- opening ----------------------------------------------------------------------------------------------------

def test_open_case_creates_an_applicant_member_and_records_the_application(db, org):
    case = cases.open_case(org.home, D(2025, 9, 1), actor=org.home_sec, name=" 赵敏 ",
                           id_number=id_number(D(1995, 3, 8)).lower(), phone="139-0000-1111")
    member = case.member
    assert (member.name, member.stage, member.birth_date, member.phone) == ("赵敏", "applicant", D(1995, 3, 8),
                                                                              "13900001111")
    assert member.home_unit_id == org.home.id and member.id_number.endswith(id_number(D(1995, 3, 8))[-1])
    assert [(s.code, s.taken_on, s.actor_account_id) for s in case.steps] == [
        ("application", D(2025, 9, 1), org.home_sec.id)]
    assert case.stage == "applicant" and case.host_unit_id is None
    assert db.session.scalar(select(tk.Activity).where(
        tk.Activity.idempotency_key == f"development.stage:{case.id}:applicant")) is not None
    assert _audits(db, "development.open", case)


def test_an_existing_member_is_found_by_id_number_and_one_open_case_per_person(db, org, factory):
    person = factory.member(org.home, "applicant1", stage="applicant", id_number=id_number(D(1996, 1, 2)))
    case = cases.open_case(org.home, D(2025, 9, 1), actor=org.home_sec, name="", id_number=id_number(D(1996, 1, 2)))
    assert case.member_id == person.id
    with pytest.raises(tk.Conflict):
        cases.open_case(org.home, D(2025, 9, 2), actor=org.home_sec, member=person)
    with pytest.raises(tk.Conflict):  # already a member
        cases.open_case(org.home, D(2025, 9, 2), actor=org.home_sec, member=org.member2)


def test_open_case_refusals(db, org):
    born = D(2007, 6, 1)
    with pytest.raises(tk.Invalid) as young:  # 17 the day before the 18th birthday
        cases.open_case(org.home, D(2025, 5, 31), actor=org.home_sec, name="A", id_number=id_number(born))
    assert "applied_on" in young.value.field_errors
    assert cases.open_case(org.home, D(2025, 6, 1), actor=org.home_sec, name="A", id_number=id_number(born)).id
    bad = id_number(D(1995, 3, 8))[:-1] + ("0" if id_number(D(1995, 3, 8))[-1] != "0" else "1")
    with pytest.raises(tk.Invalid) as checksum:
        cases.open_case(org.home, D(2025, 5, 31), actor=org.home_sec, name="B", id_number=bad)
    assert "id_number" in checksum.value.field_errors
    with pytest.raises(tk.Invalid) as nameless:
        cases.open_case(org.home, D(2025, 5, 31), actor=org.home_sec, id_number=id_number(D(1990, 1, 1)))
    assert "name" in nameless.value.field_errors
    with pytest.raises(tk.Invalid) as future:
        cases.open_case(org.home, D(2025, 6, 2), actor=org.home_sec, name="C", id_number=id_number(D(1990, 1, 1)),
                        today=D(2025, 6, 1))
    assert "applied_on" in future.value.field_errors
    with pytest.raises(tk.Invalid):
        cases.open_case(org.township, D(2025, 5, 31), actor=org.organizer, name="C",
                        id_number=id_number(D(1990, 1, 1)))
    with pytest.raises(tk.NotFound):
        cases.open_case(org.home, D(2025, 5, 31), actor=org.foreign_sec, name="C",
                        id_number=id_number(D(1990, 1, 1)))


def test_an_away_member_gets_the_host_branch(db, org, factory):
    away = factory.member(org.home, "away1", host=org.host, stage="applicant")
    case = cases.open_case(org.home, D(2025, 9, 1), actor=org.home_sec, member=away)
    assert case.host_unit_id == org.host.id
    assert [c.id for c in cases.cases_for_unit(org.host, org.host_sec)] == [case.id]
    assert cases.cases_for_unit(org.foreign, org.foreign_sec) == []
    with pytest.raises(tk.NotFound):
        cases.cases_for_unit(org.home, org.foreign_sec)


# --- recording steps --------------------------------------------------------------------------------------------

def test_a_step_is_refused_with_every_missing_prerequisite(db, org):
    case = new_case(org, D(2025, 1, 10))
    with pytest.raises(tk.Conflict) as refused:
        cases.record_step(case, "branch_review", D(2025, 2, 1), actor=org.home_sec)
    assert refused.value.code == "requirements_missing"
    assert [m["code"] for m in refused.value.details["missing"]] == [
        "candidate_filing", "introducers", "political_review", "training"]
    assert db.session.scalar(select(StepRecord).where(StepRecord.code == "branch_review")) is None


def test_the_api_error_carries_the_missing_list(app, db, org):
    case = new_case(org, D(2025, 1, 10))
    with app.test_request_context("/api/v1/development/cases/1/steps"):
        try:
            cases.record_step(case, "activist_decision", D(2025, 2, 1), actor=org.home_sec)
        except tk.Conflict as error:
            response, status = tk.api_error(error.status, error.code, error.message, None, **error.details)
    body = response.get_json()
    assert status == 409 and body["error"]["missing"][0]["code"] == "talk" and body["error"]["message"]


def test_once_only_steps_and_days(db, org):
    case = new_case(org, D(2025, 1, 10))
    with pytest.raises(tk.Invalid):
        cases.record_step(case, "talk", D(2025, 1, 9), actor=org.home_sec)  # before the application
    with pytest.raises(tk.Invalid):
        cases.record_step(case, "talk", D(2025, 2, 2), actor=org.home_sec, today=D(2025, 2, 1))
    record = cases.record_step(case, "talk", D(2025, 1, 10), actor=org.home_sec, notes=" By phone. ")
    assert (record.notes, record.unit_id) == ("By phone.", org.home.id)
    with pytest.raises(tk.Conflict) as again:
        cases.record_step(case, "talk", D(2025, 1, 20), actor=org.home_sec)
    assert again.value.code == "already_recorded"


def test_who_acts_on_which_step(db, org, factory):
    case = new_case(org, D(2025, 1, 10), host=org.host)
    cases.record_step(case, "talk", D(2025, 1, 12), actor=org.host_sec)  # the host branch takes branch steps too
    cases.advance(case, "activist", D(2025, 2, 1), actor=org.home_sec)
    with pytest.raises(tk.NotFound):
        cases.record_step(case, "activist_filing", D(2025, 2, 2), actor=org.foreign_sec)
    with pytest.raises(tk.Forbidden):  # a committee step, not the branch's
        cases.record_step(case, "activist_filing", D(2025, 2, 2), actor=org.home_sec)
    assert cases.record_step(case, "activist_filing", D(2025, 2, 2), actor=org.organizer).unit_id == \
        org.township.id
    mentor = factory.member(org.foreign, "mentor1")
    write(case, "mentors_assigned", on=D(2025, 2, 3))
    db.session.add(Mentor(case_id=case.id, member_id=mentor.id, place="home", not_relative=True,
                          assigned_on=D(2025, 2, 3)))
    db.session.commit()
    assert cases.record_step(case, "assessment", D(2025, 3, 1), actor=mentor.account).code == "assessment"
    with pytest.raises(tk.Forbidden):  # a branch step, not a mentor's
        cases.record_step(case, "candidate_decision", D(2025, 3, 2), actor=mentor.account)
    with pytest.raises(tk.NotFound):  # the mentor of nobody else
        cases.visible_case(new_case(org, D(2025, 1, 10), serial="777").id, mentor.account)


def test_nobody_records_a_step_of_their_own_case(db, org, factory):
    person = factory.member(org.home, "sec2", stage="applicant")
    factory.grant(person.account, "secretary", org.home)
    case = cases.open_case(org.home, D(2025, 1, 10), actor=org.home_sec, member=person)
    with pytest.raises(tk.Forbidden):
        cases.record_step(case, "talk", D(2025, 1, 12), actor=person.account)
    with pytest.raises(tk.Forbidden):
        cases.close(case, "withdrawn", actor=person.account, on=D(2025, 1, 12), reason="Changed my mind.")
    with pytest.raises(tk.Forbidden):
        cases.open_case(org.home, D(2025, 1, 10), actor=person.account, member=person)
    assert cases.visible_case(case.id, person.account) is case  # they see their own progress …
    assert _audits(db, "development.read", case) == []  # … and their own reads are not audited


def test_every_read_by_someone_else_is_audited(db, org):
    case = new_case(org, D(2025, 1, 10), host=org.host)
    for account in (org.home_sec, org.host_sec, org.organizer):
        assert cases.visible_case(case.id, account) is case
    assert sorted(e.actor_account_id for e in _audits(db, "development.read", case)) == sorted(
        [org.home_sec.id, org.host_sec.id, org.organizer.id])
    for account in (org.foreign_sec, org.outsider.account, None):
        with pytest.raises(tk.NotFound):
            cases.visible_case(case.id, account)
    with pytest.raises(tk.NotFound):
        cases.visible_case(10 ** 30, org.home_sec)
    assert len(_audits(db, "development.read", case)) == 3


# --- advancing and the stage mirror ---------------------------------------------------------------------------

def test_advance_only_to_the_next_stage(db, org):
    case = new_case(org, D(2025, 1, 10))
    with pytest.raises(tk.Conflict) as refused:
        cases.advance(case, "candidate", D(2025, 2, 1), actor=org.home_sec)
    assert refused.value.details["missing"][0]["code"] == "stage_order"
    with pytest.raises(tk.Conflict) as early:
        cases.advance(case, "activist", D(2025, 2, 1), actor=org.home_sec)
    assert [m["code"] for m in early.value.details["missing"]] == ["talk"]


def _stage_keys(db, case):
    return sorted(a.idempotency_key for a in db.session.scalars(select(tk.Activity).where(
        tk.Activity.verb == "development.stage", tk.Activity.object_id == str(case.id))))


def test_the_whole_way_mirrors_the_stage_and_extends_once(db, org):
    case = new_case(org, D(2023, 1, 10))
    cases.record_step(case, "talk", D(2023, 1, 20), actor=org.home_sec)
    cases.advance(case, "activist", D(2023, 2, 1), actor=org.home_sec)
    assert (case.stage, case.member.stage, case.activist_on) == ("activist", "activist", D(2023, 2, 1))
    write(case, "activist_filing", "mentors_assigned", on=D(2023, 2, 2))
    write(case, "assessment", on=D(2023, 8, 1))
    write(case, "assessment", on=D(2024, 1, 15))
    cases.advance(case, "candidate", D(2024, 2, 1), actor=org.home_sec)
    assert case.member.stage == "candidate"
    write(case, "candidate_filing", "introducers", "political_review", on=D(2024, 2, 5))
    write(case, "training", on=D(2024, 2, 6), data={"days": 3})
    write(case, "branch_review", "committee_prereview", "application_form", on=D(2024, 3, 1))
    notice(db, case, "home", D(2024, 3, 4), D(2024, 3, 8))
    with pytest.raises(tk.Invalid):  # the tally is checked
        cases.record_step(case, "admission_vote", D(2024, 3, 11), actor=org.home_sec, data={"tally": {"yes": -1}})
    cases.record_step(case, "admission_vote", D(2024, 3, 11), actor=org.home_sec, data={"tally": FAILING})
    assert case.admitted_on is None
    cases.record_step(case, "admission_vote", D(2024, 3, 18), actor=org.home_sec, data={"tally": PASSING})
    assert case.admitted_on == D(2024, 3, 18)
    cases.record_step(case, "committee_talk", D(2024, 3, 25), actor=org.organizer)
    with pytest.raises(tk.Forbidden):
        cases.advance(case, "probationary", D(2024, 4, 1), actor=org.home_sec)
    cases.advance(case, "probationary", D(2024, 4, 1), actor=org.organizer)
    member = case.member
    assert (member.stage, member.joined_on, case.probation_ends_on) == ("probationary", D(2024, 3, 18),
                                                                          D(2025, 3, 18))
    write(case, "group_assignment", "oath", on=D(2024, 4, 10))
    write(case, "conversion_application", on=D(2025, 2, 20))
    cases.record_step(case, "conversion_vote", D(2025, 3, 18), actor=org.home_sec, data={"tally": FAILING})
    with pytest.raises(tk.Conflict):  # the vote failed: no conversion
        cases.advance(case, "full", D(2025, 3, 25), actor=org.organizer)
    cases.record_step(case, "conversion_approval", D(2025, 3, 25), actor=org.organizer,
                      data={"outcome": "extend", "months": "6"})
    assert (case.stage, case.extended_months, case.probation_ends_on) == ("probationary", 6, D(2025, 9, 18))
    with pytest.raises(tk.Conflict) as vote_early:
        cases.record_step(case, "conversion_vote", D(2025, 9, 18), actor=org.home_sec, data={"tally": PASSING})
    assert [m["code"] for m in vote_early.value.details["missing"]] == ["conversion_application"]
    cases.record_step(case, "conversion_application", D(2025, 8, 20), actor=org.home_sec)
    cases.record_step(case, "conversion_vote", D(2025, 9, 18), actor=org.home_sec, data={"tally": PASSING})
    with pytest.raises(tk.Conflict) as twice:
        cases.record_step(case, "conversion_approval", D(2025, 9, 20), actor=org.organizer,
                          data={"outcome": "extend", "months": 6})
    assert "extended_once" in [m["code"] for m in twice.value.details["missing"]]
    cases.advance(case, "full", D(2025, 9, 25), actor=org.organizer)
    assert (case.stage, case.outcome, case.full_on, case.closed_on, member.stage) == (
        "full", "full", D(2025, 9, 18), D(2025, 9, 25), "full")
    assert _stage_keys(db, case) == sorted(f"development.stage:{case.id}:{s}" for s in
                                           ("applicant", "activist", "candidate", "probationary", "full"))


def test_extension_months_are_six_to_twelve(db, org):
    case = new_case(org, D(2025, 1, 10))
    for months in (5, 13, "x"):
        with pytest.raises(tk.Invalid):
            cases.record_step(case, "conversion_approval", D(2025, 2, 1), actor=org.organizer,
                              data={"outcome": "extend", "months": months})


# --- closing and transfers --------------------------------------------------------------------------------------

def test_close_needs_a_reason_and_ends_the_case(db, org):
    case = new_case(org, D(2025, 1, 10))
    with pytest.raises(tk.Invalid):
        cases.close(case, "withdrawn", actor=org.home_sec, on=D(2025, 2, 1), reason=" ")
    with pytest.raises(tk.Invalid):
        cases.close(case, "full", actor=org.home_sec, on=D(2025, 2, 1), reason="x")
    cases.close(case, "withdrawn", actor=org.home_sec, on=D(2025, 2, 1), reason="Moved away.")
    assert (case.outcome, case.closed_on, case.closed_reason) == ("withdrawn", D(2025, 2, 1), "Moved away.")
    with pytest.raises(tk.Conflict):
        cases.record_step(case, "talk", D(2025, 2, 2), actor=org.home_sec)
    assert cases.cases_for_unit(org.home, org.home_sec) == []
    assert cases.cases_for_unit(org.home, org.home_sec, include_closed=True) == [case]
    # A closed case may be followed by a new application.
    assert cases.open_case(org.home, D(2025, 3, 1), actor=org.home_sec, member=case.member).id != case.id


def test_a_transfer_keeps_every_date_and_the_clock(db, org):
    case = new_case(org, D(2025, 1, 31))
    before = [(d.kind, d.due_on) for d in rules.deadlines(rules.facts_for([case])[case.id], D(2025, 3, 1))]
    assert before == [("talk", D(2025, 2, 28))]
    with pytest.raises(tk.NotFound):
        cases.transfer(case, org.foreign, actor=org.foreign_sec, on=D(2025, 2, 10), reason="Moved.")
    with pytest.raises(tk.Invalid):
        cases.transfer(case, org.township, actor=org.home_sec, on=D(2025, 2, 10), reason="Moved.")
    with pytest.raises(tk.Invalid):
        cases.transfer(case, org.foreign, actor=org.home_sec, on=D(2025, 2, 10), reason="")
    cases.transfer(case, org.foreign, actor=org.home_sec, on=D(2025, 2, 10), reason="Moved to Stone Bridge.")
    case = db.session.get(DevCase, case.id)
    assert (case.unit_id, case.member.home_unit_id, case.applied_on) == (org.foreign.id, org.foreign.id,
                                                                        D(2025, 1, 31))
    after = [(d.kind, d.due_on, d.overdue) for d in rules.deadlines(rules.facts_for([case])[case.id], D(2025, 3, 1))]
    assert after == [("talk", D(2025, 2, 28), True)]
    assert _audits(db, "development.transfer", case)
    assert db.session.scalar(select(Notification).where(Notification.account_id == org.foreign_sec.id))
    assert cases.visible_case(case.id, org.foreign_sec) is case
    with pytest.raises(tk.NotFound):  # the old branch no longer sees it
        cases.record_step(case, "talk", D(2025, 2, 12), actor=org.home_sec)

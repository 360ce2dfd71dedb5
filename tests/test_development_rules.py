"""The rules of development: every prerequisite and every time limit at its boundary (the day before, the day
it becomes possible or due, the day after)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal_development import rules
from portal_development.models import DevCase, Objection, Vetting
from tests.helpers.development import new_case, notice, vote, write
from tests.helpers.query_counter import count_queries

D = date


def codes(facts, code, on, data=None, special=False):
    return [m.code for m in rules.missing_for(facts, code, on, data, special)]


def facts(case):
    return rules.facts_for([case])[case.id]


def due(case, kind, today):
    return [d for d in rules.deadlines(facts(case), today) if d.kind == kind]


# --- working days and notice ends -------------------------------------------------------------------------------

def test_working_days_counts_monday_to_friday_inclusive():
    assert rules.working_days(D(2025, 6, 2), D(2025, 6, 6)) == 5  # Mon..Fri
    assert rules.working_days(D(2025, 6, 7), D(2025, 6, 8)) == 0  # a weekend
    assert rules.working_days(D(2025, 6, 2), D(2025, 6, 9)) == 6
    assert rules.working_days(D(2025, 6, 6), D(2025, 6, 2)) == 0
    start = D(2025, 1, 1)
    for length in range(40):
        end = start + timedelta(days=length)
        brute = sum(1 for i in range(length + 1) if (start + timedelta(days=i)).weekday() < 5)
        assert rules.working_days(start, end) == brute


def test_notice_end_is_the_day_of_the_nth_working_day():
    assert rules.notice_end(D(2025, 6, 2), 5) == D(2025, 6, 6)
    assert rules.notice_end(D(2025, 6, 4), 5) == D(2025, 6, 10)  # Wed → Tue over a weekend
    assert rules.notice_end(D(2025, 6, 7), 5) == D(2025, 6, 13)  # starting on a Saturday
    assert rules.working_days(D(2025, 6, 4), rules.notice_end(D(2025, 6, 4), 7)) == 7


# --- prerequisites ----------------------------------------------------------------------------------------------

def test_each_missing_step_is_named_with_its_code(db, org):
    case = new_case(org, D(2024, 1, 31))
    f = facts(case)
    assert codes(f, "talk", D(2024, 2, 1)) == []
    assert codes(f, "activist_decision", D(2024, 2, 1)) == ["talk"]
    assert codes(f, "branch_review", D(2024, 2, 1)) == ["candidate_filing", "introducers", "political_review",
                                                        "training"]
    missing = rules.missing_for(f, "activist_decision", D(2024, 2, 1))[0]
    assert missing.as_dict()["code"] == "talk" and "Talk with the applicant" in missing.as_dict()["message"]


def _activist(db, org, activist_on=date(2024, 3, 15), **kw):
    case = new_case(org, D(2024, 1, 31), **kw)
    write(case, "talk", on=D(2024, 2, 10))
    write(case, "activist_decision", "activist_filing", "mentors_assigned", on=activist_on)
    case.activist_on, case.stage = activist_on, "activist"
    db.session.flush()
    return case


def test_candidate_after_activist_months_the_day_before_and_the_day_it_becomes_possible(db, org):
    case = _activist(db, org)
    write(case, "assessment", on=D(2024, 9, 1))
    f = facts(case)
    assert codes(f, "candidate_decision", D(2025, 3, 15)) == ["assessment"]  # 1 of 2 assessments
    write(case, "assessment", on=D(2025, 3, 1))
    f = facts(case)
    assert codes(f, "candidate_decision", D(2025, 3, 14)) == ["activist_months"]
    message = rules.missing_for(f, "candidate_decision", D(2025, 3, 14))[0].message
    assert "2025" in message and "15" in message  # says from which day
    assert codes(f, "candidate_decision", D(2025, 3, 15)) == []


def _candidate(db, org, **kw):
    case = _activist(db, org, **kw)
    write(case, "assessment", on=D(2024, 9, 1))
    write(case, "assessment", on=D(2025, 3, 1))
    write(case, "candidate_decision", on=D(2025, 3, 20))
    case.candidate_on, case.stage = D(2025, 3, 20), "candidate"
    db.session.flush()
    return case


def test_training_hours_or_days_at_the_boundary(db, org):
    case = _candidate(db, org)
    write(case, "candidate_filing", "introducers", "political_review", on=D(2025, 4, 1))
    write(case, "training", on=D(2025, 4, 2), data={"hours": 16})
    write(case, "training", on=D(2025, 4, 3), data={"hours": 7})
    f = facts(case)
    assert codes(f, "branch_review", D(2025, 5, 1)) == ["training"]
    assert "23" in rules.missing_for(f, "branch_review", D(2025, 5, 1))[0].message
    write(case, "training", on=D(2025, 4, 4), data={"hours": 1})
    assert codes(facts(case), "branch_review", D(2025, 5, 1)) == []


def test_training_in_days(db, org):
    case = _candidate(db, org)
    write(case, "candidate_filing", "introducers", "political_review", on=D(2025, 4, 1))
    write(case, "training", on=D(2025, 4, 2), data={"days": 2})
    assert codes(facts(case), "branch_review", D(2025, 5, 1)) == ["training"]
    write(case, "training", on=D(2025, 4, 3), data={"days": 1})
    assert codes(facts(case), "branch_review", D(2025, 5, 1)) == []


def test_political_review_of_an_away_person_needs_both_sides_findings(db, org):
    case = _candidate(db, org, host=org.host)
    f = facts(case)
    missing = rules.missing_for(f, "political_review", D(2025, 4, 1))
    assert [m.code for m in missing] == ["vetting"]
    assert "person" in missing[0].message and "relatives" in missing[0].message
    db.session.add_all([Vetting(case_id=case.id, side="host", part="person", requested_on=D(2025, 3, 21),
                                due_on=D(2025, 4, 20), findings="Good.", recorded_on=D(2025, 3, 30)),
                        Vetting(case_id=case.id, side="home", part="relatives", requested_on=D(2025, 3, 21),
                                due_on=D(2025, 4, 20))])
    db.session.flush()
    missing = rules.missing_for(facts(case), "political_review", D(2025, 4, 1))
    assert [m.code for m in missing] == ["vetting"] and "person" not in missing[0].message
    db.session.query(Vetting).filter_by(part="relatives").one().recorded_on = D(2025, 3, 31)
    db.session.flush()
    assert codes(facts(case), "political_review", D(2025, 4, 1)) == []
    home_case = _candidate(db, org, serial="456")
    assert codes(facts(home_case), "political_review", D(2025, 4, 1)) == []


def _ready_to_vote(db, org, review_on=date(2025, 5, 1), **kw):
    case = _candidate(db, org, **kw)
    write(case, "candidate_filing", "introducers", on=D(2025, 4, 1))
    write(case, "political_review", on=review_on)
    write(case, "training", on=D(2025, 4, 2), data={"days": 3})
    write(case, "branch_review", "committee_prereview", "application_form", on=D(2025, 5, 20))
    return case


def test_admission_vote_after_the_notice_has_ended(db, org):
    case = _ready_to_vote(db, org)
    assert codes(facts(case), "admission_vote", D(2025, 6, 9)) == ["notice_open"]  # no notice at all
    notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 6))  # Mon..Fri: 5 working days
    assert codes(facts(case), "admission_vote", D(2025, 6, 6)) == ["notice_open"]  # the last day of the notice
    assert codes(facts(case), "admission_vote", D(2025, 6, 7)) == []


def test_a_notice_shorter_than_the_working_days_is_refused(db, org):
    case = _ready_to_vote(db, org)
    notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 5))
    assert codes(facts(case), "admission_vote", D(2025, 6, 9)) == ["notice_short"]


def test_an_unresolved_objection_blocks_the_vote(db, org):
    case = _ready_to_vote(db, org)
    row = notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 6))
    objection = Objection(notice_id=row.id, received_on=D(2025, 6, 3), body="He owes money.")
    db.session.add(objection)
    db.session.flush()
    db.session.expire(row)
    assert codes(facts(case), "admission_vote", D(2025, 6, 9)) == ["notice_objection"]
    objection.resolution, objection.resolved_on = "Checked: paid back.", D(2025, 6, 8)
    db.session.flush()
    assert codes(facts(case), "admission_vote", D(2025, 6, 9)) == []


def test_an_away_person_needs_a_notice_in_both_places(db, org):
    case = _ready_to_vote(db, org, host=org.host)
    notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 6))
    missing = rules.missing_for(facts(case), "admission_vote", D(2025, 6, 9))
    assert [m.code for m in missing] == ["notice_open"] and "host" in missing[0].message.lower()
    notice(db, case, "host", D(2025, 6, 3), D(2025, 6, 9))
    assert codes(facts(case), "admission_vote", D(2025, 6, 9)) == ["notice_open"]  # host notice ends that day
    assert codes(facts(case), "admission_vote", D(2025, 6, 10)) == []


def test_the_political_review_is_valid_for_twelve_months(db, org):
    case = _ready_to_vote(db, org, review_on=D(2024, 6, 10))
    notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 6))
    assert codes(facts(case), "admission_vote", D(2025, 6, 10)) == []
    assert codes(facts(case), "admission_vote", D(2025, 6, 11)) == ["review_expired"]


def test_admission_approval_within_three_months_or_six_in_special_cases(db, org):
    case = _ready_to_vote(db, org)
    vote(db, case, "admission", D(2025, 1, 31), passed=False)
    assert codes(facts(case), "committee_talk", D(2025, 2, 1)) == ["admission_vote"]
    vote(db, case, "admission", D(2025, 1, 31))
    write(case, "committee_talk", on=D(2025, 2, 5))
    f = facts(case)
    assert codes(f, "admission_approval", D(2025, 4, 30)) == []  # 31 Jan + 3 months, clamped
    assert codes(f, "admission_approval", D(2025, 5, 1)) == ["approval_late"]
    assert codes(f, "admission_approval", D(2025, 7, 31), special=True) == []
    assert codes(f, "admission_approval", D(2025, 8, 1), special=True) == ["approval_late"]


def _probationary(db, org, ends=date(2026, 1, 31)):
    case = _ready_to_vote(db, org)
    vote(db, case, "admission", D(2025, 1, 31))
    write(case, "committee_talk", "admission_approval", on=D(2025, 2, 10))
    case.admitted_on, case.probation_ends_on, case.stage = D(2025, 1, 31), ends, "probationary"
    db.session.flush()
    return case


def test_conversion_vote_from_the_day_probation_ends(db, org):
    case = _probationary(db, org)
    assert codes(facts(case), "conversion_vote", D(2026, 2, 1)) == ["conversion_application", "group_assignment",
                                                                     "oath"]
    write(case, "group_assignment", "oath", on=D(2025, 3, 1))
    write(case, "conversion_application", on=D(2026, 1, 5))
    assert codes(facts(case), "conversion_vote", D(2026, 1, 30)) == ["probation_not_ended"]
    assert codes(facts(case), "conversion_vote", D(2026, 1, 31)) == []


def test_conversion_approval_needs_a_passed_vote_to_convert_and_is_in_time(db, org):
    case = _probationary(db, org)
    assert codes(facts(case), "conversion_approval", D(2026, 2, 5), {"outcome": "convert"}) == ["conversion_vote"]
    vote(db, case, "conversion", D(2026, 2, 2), passed=False)
    assert codes(facts(case), "conversion_approval", D(2026, 2, 5), {"outcome": "convert"}) == ["conversion_vote"]
    assert codes(facts(case), "conversion_approval", D(2026, 2, 5), {"outcome": "extend", "months": 6}) == []
    vote(db, case, "conversion", D(2026, 2, 2))
    f = facts(case)
    assert codes(f, "conversion_approval", D(2026, 5, 2), {"outcome": "convert"}) == []
    assert codes(f, "conversion_approval", D(2026, 5, 3), {"outcome": "convert"}) == ["approval_late"]
    assert codes(f, "conversion_approval", D(2026, 8, 2), {"outcome": "convert"}, special=True) == []
    assert codes(f, "conversion_approval", D(2026, 8, 3), {"outcome": "convert"}, special=True) == ["approval_late"]


def test_after_an_extension_the_conversion_steps_are_needed_again(db, org):
    case = _probationary(db, org)
    write(case, "group_assignment", "oath", on=D(2025, 3, 1))
    write(case, "conversion_application", on=D(2026, 1, 5))
    vote(db, case, "conversion", D(2026, 2, 2), passed=False)
    write(case, "conversion_approval", on=D(2026, 2, 10), data={"outcome": "extend", "months": 6})
    case.probation_ends_on, case.extended_months = D(2026, 7, 31), 6
    db.session.flush()
    f = facts(case)
    assert rules.already_recorded(f, "conversion_application") is None
    assert rules.already_recorded(f, "conversion_approval") is None
    assert rules.already_recorded(f, "oath") is not None
    assert codes(f, "conversion_vote", D(2026, 7, 31)) == ["conversion_application"]
    assert codes(f, "conversion_approval", D(2026, 8, 5), {"outcome": "extend", "months": 6}) == [
        "conversion_vote", ]
    write(case, "conversion_application", on=D(2026, 7, 1))
    vote(db, case, "conversion", D(2026, 8, 1), passed=False)
    assert "extended_once" in codes(facts(case), "conversion_approval", D(2026, 8, 5),
                                    {"outcome": "extend", "months": 6})


def test_archive_only_when_full(db, org):
    case = _probationary(db, org)
    assert codes(facts(case), "archive", D(2026, 3, 1)) == ["conversion_approval"]
    case.stage = "full"
    assert codes(facts(case), "archive", D(2026, 3, 1)) == []


# --- deadlines --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("today, listed, overdue", [
    (D(2024, 2, 28), True, False), (D(2024, 2, 29), True, False), (D(2024, 3, 1), True, True)])
def test_talk_deadline_boundary(db, org, today, listed, overdue):
    case = new_case(org, D(2024, 1, 31))
    [talk] = due(case, "talk", today)
    assert talk.due_on == D(2024, 2, 29) and talk.overdue is overdue and talk.side == "branch"
    write(case, "talk", on=D(2024, 2, 10))
    assert due(case, "talk", today) == []


def test_assessment_deadline_from_activist_day_then_last_assessment(db, org):
    case = _activist(db, org)
    [first] = due(case, "assessment", D(2024, 9, 15))
    assert (first.due_on, first.overdue, first.side) == (D(2024, 9, 15), False, "mentor")
    assert due(case, "assessment", D(2024, 9, 16))[0].overdue
    write(case, "assessment", on=D(2024, 8, 1))
    [second] = due(case, "assessment", D(2024, 9, 16))
    assert (second.due_on, second.overdue) == (D(2025, 2, 1), False)


def test_prereview_vetting_and_admission_approval_deadlines(db, org):
    case = _candidate(db, org, host=org.host)
    db.session.add(Vetting(case_id=case.id, side="host", part="person", requested_on=D(2025, 3, 21),
                           due_on=D(2025, 4, 20)))
    write(case, "branch_review", on=D(2025, 1, 31))
    db.session.flush()
    kinds = {d.kind: d for d in rules.deadlines(facts(case), D(2025, 2, 28))}
    assert kinds["committee_prereview"].due_on == D(2025, 2, 28) and not kinds["committee_prereview"].overdue
    assert (kinds["vetting"].due_on, kinds["vetting"].side) == (D(2025, 4, 20), "host")
    assert due(case, "committee_prereview", D(2025, 3, 1))[0].overdue
    assert not due(case, "vetting", D(2025, 4, 20))[0].overdue and due(case, "vetting", D(2025, 4, 21))[0].overdue
    vote(db, case, "admission", D(2025, 1, 31))
    [approval] = due(case, "admission_approval", D(2025, 4, 30))
    assert (approval.due_on, approval.overdue, approval.side) == (D(2025, 4, 30), False, "committee")
    assert due(case, "admission_approval", D(2025, 5, 1))[0].overdue


def test_notice_objection_deadline_once_the_notice_has_ended(db, org):
    case = _ready_to_vote(db, org)
    row = notice(db, case, "home", D(2025, 6, 2), D(2025, 6, 6))
    db.session.add(Objection(notice_id=row.id, received_on=D(2025, 6, 3), body="?"))
    db.session.flush()
    db.session.expire(row)
    assert due(case, "notice_objection", D(2025, 6, 6)) == []
    [objection] = due(case, "notice_objection", D(2025, 6, 7))
    assert objection.overdue and objection.side == "home"


def test_conversion_deadlines_boundaries(db, org):
    case = _probationary(db, org)
    [application] = due(case, "conversion_application", D(2026, 1, 1))
    assert (application.due_on, application.overdue, application.side) == (D(2026, 1, 1), False, "person")
    assert due(case, "conversion_application", D(2026, 1, 2))[0].overdue
    [vote_due] = due(case, "conversion_vote", D(2026, 1, 31))
    assert (vote_due.due_on, vote_due.overdue) == (D(2026, 1, 31), False)
    assert due(case, "conversion_vote", D(2026, 2, 1))[0].overdue
    write(case, "conversion_application", on=D(2025, 12, 20))
    vote(db, case, "conversion", D(2026, 2, 2))
    assert due(case, "conversion_application", D(2026, 2, 3)) == due(case, "conversion_vote", D(2026, 2, 3)) == []
    [approval] = due(case, "conversion_approval", D(2026, 5, 2))
    assert (approval.due_on, approval.overdue) == (D(2026, 5, 2), False)
    assert due(case, "conversion_approval", D(2026, 5, 3))[0].overdue


def test_a_closed_case_has_no_deadlines(db, org):
    case = new_case(org, D(2024, 1, 31))
    case.closed_on, case.outcome = D(2024, 2, 5), "withdrawn"
    assert rules.deadlines(facts(case), D(2024, 3, 1)) == []


def test_facts_for_many_cases_in_a_fixed_number_of_queries(db, org):
    first = _probationary(db, org)
    more = [new_case(org, D(2024, 1, 31), serial=f"{n:03d}") for n in range(200, 204)]
    for case in more:
        write(case, "talk", on=D(2024, 2, 2))
    db.session.commit()
    loaded_cases = db.session.scalars(select(DevCase).order_by(DevCase.id)).all()  # not expired: only facts count
    assert [c.id for c in loaded_cases] == [first.id] + [c.id for c in more]
    with count_queries() as one:
        rules.facts_for([first])
    with count_queries() as many:
        loaded = rules.facts_for([first, *more])
    assert len(many) == len(one), many.report()
    assert len(loaded[first.id].votes) == 1 and loaded[more[0].id].has("talk")

"""Grades: the one-third check at its boundary, probationary members not graded, the away rule (the host's opinion
or a reason), self-exclusion, plans for basically qualified, handling steps for unqualified, feedback, the checks
before reporting upward, and the results (counts, lists, ``.xlsx`` rows without raters, the PDF)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from portal import toolkit as tk
from portal.toolkit import Conflict, Forbidden, Invalid, NotFound
from portal_review import grading, hostopinion, ratings, results, rounds
from portal_review.models import HostOpinion

NOW = datetime(2026, 11, 30, 2, 0)


def grading_round(db, org, factory, extra: int = 0, probationary: int = 0):
    """The home branch's 2026 round at the grading step; ``extra`` more full members at home."""
    for n in range(extra):
        factory.member(org.home, f"extra{n}", name=f"Extra {n}")
    for n in range(probationary):
        factory.member(org.home, f"prob{n}", name=f"Prob {n}", stage="probationary")
    round_ = rounds.open_round(org.home, 2026, actor=org.home_sec, now=NOW)
    for step in ("self", "mutual", "grading"):
        rounds.move(round_, step, actor=org.home_sec)
    return round_, {entry.member.name: entry for entry in rounds.entries(round_)}


def decide(entry, grade, org, **kwargs):
    """Decide as the home secretary, or the organizer for the secretary's own entry."""
    actor = org.organizer if entry.member.account_id == org.home_sec.id else org.home_sec
    if entry.host_unit_id is not None:
        kwargs.setdefault("reason", "decided without the host opinion in this test")
    return grading.decide(entry, grade, actor=actor, **kwargs)


def test_one_third_boundary_with_three_full_members(db, org, factory):
    round_, by_name = grading_round(db, org, factory)  # home-secretary, 张伟 (away), 李芳
    first = decide(by_name["李芳"], "excellent", org)
    assert (first.excellent_count, first.full_count, first.exceeds_one_third) == (1, 3, False)
    assert grading.warning(first) is None
    second = decide(by_name["home-secretary"], "excellent", org)
    assert (second.excellent_count, second.full_count, second.exceeds_one_third) == (2, 3, True)
    assert "2 of 3" in grading.warning(second)
    assert by_name["home-secretary"].grade == "excellent"  # a warning, not a refusal


def test_one_third_boundary_with_six_full_members(db, org, factory):
    round_, by_name = grading_round(db, org, factory, extra=3)
    assert decide(by_name["Extra 0"], "excellent", org).exceeds_one_third is False
    assert decide(by_name["Extra 1"], "excellent", org).exceeds_one_third is False
    third = decide(by_name["Extra 2"], "excellent", org)
    assert (third.excellent_count, third.full_count, third.exceeds_one_third) == (3, 6, True)
    decide(by_name["Extra 2"], "qualified", org)  # changed back: within the share again
    assert results.results(round_).exceeds_one_third is False


def test_probationary_members_take_part_but_are_not_graded(db, org, factory):
    round_, by_name = grading_round(db, org, factory, probationary=1)
    with pytest.raises(Conflict):
        decide(by_name["Prob 0"], "qualified", org)
    with pytest.raises(Conflict):
        grading.propose(by_name["Prob 0"], "qualified", actor=org.home_sec)
    found = results.results(round_)
    assert (found.full_count, found.probationary_count) == (3, 1)
    assert by_name["Prob 0"] not in found.ungraded
    # 1 excellent of 3 full members: the probationary member does not widen the share
    assert decide(by_name["李芳"], "excellent", org).full_count == 3


def test_probationary_members_graded_when_the_setting_says_so(db, org, factory):
    round_, by_name = grading_round(db, org, factory, probationary=1)
    tk.set_setting("review", "grade_probationary", True)
    db.session.commit()
    assert decide(by_name["Prob 0"], "excellent", org).full_count == 4


@pytest.mark.parametrize("grade_probationary", [False, True])
def test_the_rounds_counts_are_the_results_figures(db, org, factory, grade_probationary):
    """``results.counts`` (one grouped statement, for the round's page and the meter) gives exactly the figures
    of ``results.results`` (from every entry), probationary members graded or not."""
    round_, by_name = grading_round(db, org, factory, extra=3, probationary=2)
    tk.set_setting("review", "grade_probationary", grade_probationary)
    db.session.commit()
    for name, grade in (("Extra 0", "excellent"), ("Extra 1", "excellent"), ("Extra 2", "basic"),
                        ("李芳", "qualified")) + ((("Prob 0", "excellent"),) if grade_probationary else ()):
        decide(by_name[name], grade, org)
    found, counted = results.results(round_), results.counts(round_)
    figures = ("counts", "full_count", "probationary_count", "excellent_share", "exceeds_one_third",
               "excellent_reason", "entry_count")
    assert {name: getattr(counted, name) for name in figures} == {name: getattr(found, name) for name in figures}
    assert (counted.entry_count, counted.probationary_count) == (len(by_name), 2)
    assert counted.full_count == (8 if grade_probationary else 6)
    assert counted.counts["excellent"] == (3 if grade_probationary else 2)


def test_a_member_away_needs_the_host_opinion_unless_a_reason(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    away = by_name["张伟"]
    with pytest.raises(Conflict) as refused:
        grading.decide(away, "qualified", actor=org.home_sec)
    assert refused.value.details == {"missing": ["host_opinion"]}
    assert away.grade is None
    opinion = db.session.query(HostOpinion).filter_by(entry_id=away.id).one()
    hostopinion.submit(opinion, "Takes part in every meeting here.", "excellent", actor=org.host_sec, now=NOW)
    db.session.commit()
    decision = grading.decide(away, "excellent", actor=org.home_sec)
    assert (decision.entry.grade, decision.entry.grade_reason) == ("excellent", "")
    # the reason path: another round, where the host never answered
    other = rounds.open_round(org.home, 2025, actor=org.home_sec, now=NOW)
    for step in ("self", "mutual", "grading"):
        rounds.move(other, step, actor=org.home_sec)
    entry = next(e for e in rounds.entries(other) if e.member_id == org.member1.id)
    grading.decide(entry, "qualified", actor=org.home_sec, reason="The host branch gave no opinion by the deadline.")
    assert entry.grade == "qualified"


def test_nobody_grades_themself(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    own = by_name["home-secretary"]
    for action in (lambda: grading.decide(own, "excellent", actor=org.home_sec),
                   lambda: grading.propose(own, "excellent", actor=org.home_sec),
                   lambda: grading.set_feedback(own, "Well done", actor=org.home_sec)):
        with pytest.raises(Forbidden) as refused:
            action()
        assert refused.value.status == 403
    assert own.grade is None and own.proposed_grade is None


def test_outsiders_and_members_do_not_grade(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    with pytest.raises(NotFound):
        grading.decide(by_name["李芳"], "qualified", actor=org.foreign_sec)
    with pytest.raises(Forbidden):
        grading.decide(by_name["李芳"], "qualified", actor=org.member1.account)
    with pytest.raises(Invalid):
        grading.decide(by_name["李芳"], "good", actor=org.home_sec)


def test_grades_are_decided_only_at_the_grading_step_and_proposed_before(db, org):
    round_ = rounds.open_round(org.home, 2026, actor=org.home_sec, now=NOW)
    entry = next(e for e in rounds.entries(round_) if e.member_id == org.member2.id)
    with pytest.raises(Conflict):
        grading.decide(entry, "qualified", actor=org.home_sec)
    grading.propose(entry, "basic", actor=org.home_sec, now=NOW)
    assert (entry.proposed_grade, entry.proposed_by_account_id, entry.grade) == ("basic", org.home_sec.id, None)


def test_basic_needs_a_plan_with_follow_ups_before_the_report(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    decide(by_name["张伟"], "qualified", org)
    decide(by_name["home-secretary"], "qualified", org)
    basic = by_name["李芳"]
    with pytest.raises(Conflict):
        grading.save_plan(basic, "Attend every meeting", [{"due_on": "2027-03-31"}], actor=org.home_sec)
    decide(basic, "basic", org)
    with pytest.raises(Conflict) as refused:
        rounds.move(round_, "reported", actor=org.home_sec)
    assert refused.value.details == {"missing": ["plans"]}
    for plan, follow_ups in (("", [{"due_on": "2027-03-31"}]), ("Attend", []), ("Attend", [{"notes": "x"}]),
                             ("Attend", [{"due_on": "31/03/2027"}])):
        with pytest.raises(Invalid):
            grading.save_plan(basic, plan, follow_ups, actor=org.home_sec)
    plan = grading.save_plan(basic, "Attend every meeting", [{"due_on": "2027-06-30"}, {"due_on": date(2027, 3, 31)}],
                             actor=org.home_sec)
    assert [step["due_on"] for step in plan.follow_ups] == ["2027-03-31", "2027-06-30"]
    again = grading.save_plan(basic, "Attend and report", [{"due_on": "2027-03-31", "done_on": "2027-03-30"}],
                              actor=org.home_sec)
    assert again.id == plan.id and grading.plan_of(basic).follow_ups[0]["done_on"] == "2027-03-30"
    rounds.move(round_, "reported", actor=org.home_sec)
    assert round_.status == "reported"


def test_more_excellent_than_a_third_needs_a_reason_before_the_report(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    for name in ("home-secretary", "李芳"):
        decide(by_name[name], "excellent", org)
    decide(by_name["张伟"], "qualified", org)
    with pytest.raises(Conflict) as refused:
        rounds.move(round_, "reported", actor=org.home_sec)
    assert refused.value.details == {"missing": ["excellent_reason"]}
    grading.set_excellent_reason(round_, "Both led the flood relief.", actor=org.home_sec)
    rounds.move(round_, "reported", actor=org.home_sec)
    with pytest.raises(Conflict):
        grading.set_excellent_reason(round_, "", actor=org.home_sec)


def test_unqualified_handling_is_recorded_never_automatic(db, org, factory):
    round_, by_name = grading_round(db, org, factory)
    entry = by_name["李芳"]
    with pytest.raises(Conflict):
        grading.record_handling(entry, "persuasion", actor=org.home_sec, decided_on=date(2026, 12, 20))
    decide(entry, "unqualified", org)
    with pytest.raises(Invalid) as refused:
        grading.record_handling(entry, "correction", actor=org.home_sec, decided_on=date(2026, 12, 20))
    assert "until" in refused.value.field_errors
    with pytest.raises(Invalid):
        grading.record_handling(entry, "expel", actor=org.home_sec, decided_on=date(2026, 12, 20))
    step = grading.record_handling(entry, "correction", actor=org.home_sec, decided_on=date(2026, 12, 20),
                                   until=date(2027, 6, 20), notes="Six months to correct")
    grading.record_handling(entry, "removal", actor=org.home_sec, decided_on=date(2027, 7, 1), until=date(2027, 8, 1))
    assert [(h.kind, h.until) for h in grading.handling_of(entry)] == [
        ("correction", date(2027, 6, 20)), ("removal", None)]
    assert step.recorded_by_account_id == org.home_sec.id
    db.session.refresh(entry.member)
    assert entry.member.stage == "full"  # recorded only
    assert [e.member.name for e in results.results(round_).unqualified] == ["李芳"]


def test_feedback_from_grading_on(db, org, factory):
    round_ = rounds.open_round(org.home, 2026, actor=org.home_sec, now=NOW)
    entry = next(e for e in rounds.entries(round_) if e.member_id == org.member2.id)
    with pytest.raises(Conflict):
        grading.set_feedback(entry, "Keep it up", actor=org.home_sec)
    for step in ("self", "mutual", "grading"):
        rounds.move(round_, step, actor=org.home_sec)
    grading.set_feedback(entry, "  Keep it up  ", actor=org.home_sec)
    assert entry.feedback == "Keep it up"
    with pytest.raises(Invalid):
        grading.set_feedback(entry, "x" * 5001, actor=org.home_sec)


def test_results_rows_and_pdf_never_name_a_rater(db, org, factory):
    round_ = rounds.open_round(org.home, 2026, actor=org.home_sec, now=NOW)
    for step in ("self", "mutual"):
        rounds.move(round_, step, actor=org.home_sec)
    ratings.rate(round_, org.member1, org.member2.id, "excellent", "Always helps", today=date(2026, 11, 30))
    ratings.rate(round_, org.home_sec.member, org.member2.id, "qualified", "", today=date(2026, 11, 30))
    db.session.commit()
    rounds.move(round_, "grading", actor=org.home_sec)
    by_name = {entry.member.name: entry for entry in rounds.entries(round_)}
    decide(by_name["李芳"], "excellent", org)
    rows = {row[0]: row for row in results.rows(round_)}
    headers = results.headers()
    assert len(headers) == len(rows["李芳"])
    li = dict(zip(headers, rows["李芳"], strict=True))
    assert (li["Grade"], li["Rated Excellent"], li["Rated Qualified"], li["Host opinion"]) == ("Excellent", 1, 1, "")
    assert dict(zip(headers, rows["张伟"], strict=True))["Host opinion"] == "No"
    flat = " ".join(str(cell) for row in rows.values() for cell in row)
    assert "Always helps" not in flat  # comments are not in the table; raters never are
    found = results.results(round_)
    assert found.counts == {"excellent": 1, "qualified": 0, "basic": 0, "unqualified": 0}
    assert [e.member.name for e in found.excellent] == ["李芳"]
    assert {e.member.name for e in found.ungraded} == {"张伟", "home-secretary"}
    document = results.pdf(round_)
    assert document.startswith(b"%PDF") and len(document) > 1000

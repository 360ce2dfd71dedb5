"""The parts of a development case (``portal_development``): the assembly's vote (tally and rule at its
boundaries), training hours (steps, classes, online courses), mentors (and their reading of the person's
reports through the real ``portal_report_mentors`` hook), two-place vetting and public notices.

Cases are opened with ``cases.open_case`` as the CLI would (no actor); the services under test are called
with the acting secretary's account. Days are local days of 2026, before the machine's today.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_development import cases, mentors, notices, training, vetting, votes
from portal_development.models import StepRecord, Vetting
from portal_reports import reading, writing
from tests.helpers.query_counter import count_queries

APPLIED = date(2026, 1, 5)
TALK = date(2026, 1, 20)
ACTIVIST = date(2026, 2, 2)
MONDAY = date(2026, 3, 2)


def tally(**counts) -> dict:
    """A consistent tally of 10 entitled, all present, all ballots returned; ``counts`` override."""
    base = dict(entitled=10, present=10, by_video=0, ballots_issued=10, ballots_returned=10, yes=0, no=0, abstain=0)
    base.update(counts)
    return base


def open_case(factory, org, *, host=None, name="赵敏"):
    """An applicant's case in the home branch (the person has an account: they write reports)."""
    person = factory.member(org.home, name=name, stage="applicant")
    return cases.open_case(org.home, APPLIED, actor=None, member=person, host_unit=host)


def activist_case(factory, org, **kwargs):
    case = open_case(factory, org, **kwargs)
    cases.record_step(case, "talk", TALK, actor=None)
    cases.record_step(case, "activist_decision", ACTIVIST, actor=None)
    return case


def steps_of(case, code: str) -> list[StepRecord]:
    return list(tk.db.session.scalars(select(StepRecord).where(StepRecord.case_id == case.id,
                                                               StepRecord.code == code)))


# -- votes ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("counts, expected", [
    (dict(yes=5, no=5), (True, False)),                         # exactly half of 10 entitled: fails
    (dict(yes=6, no=4), (True, True)),                          # more than half: passes
    (dict(present=6, ballots_issued=6, ballots_returned=6, yes=5, no=1), (True, False)),
    # written opinions of absent entitled members count: 4 + 2 = 6 of 10
    (dict(present=6, ballots_issued=6, ballots_returned=6, yes=4, no=2, written_yes=2), (True, True)),
    (dict(present=6, ballots_issued=6, ballots_returned=6, yes=4, no=2, written_yes=1, written_no=1), (True, False)),
    # quorum: 5 of 10 present is not more than half, whatever the yes votes
    (dict(present=5, ballots_issued=5, ballots_returned=5, yes=5, written_yes=3), (False, False)),
    (dict(present=6, ballots_issued=6, ballots_returned=6, yes=6), (True, True)),
    # the majority is of the entitled, not of those present: 7 present, 5 yes is not enough
    (dict(present=7, ballots_issued=7, ballots_returned=7, yes=5, no=2), (True, False)),
    (dict(entitled=9, present=9, ballots_issued=9, ballots_returned=9, yes=5, no=4), (True, True)),
    (dict(entitled=9, present=9, ballots_issued=9, ballots_returned=9, yes=4, no=5), (True, False)),
    (dict(entitled=9, present=4, ballots_issued=4, ballots_returned=4, yes=4), (False, False)),
    (dict(entitled=9, present=5, ballots_issued=5, ballots_returned=5, yes=5), (True, True)),
])
def test_vote_rule_at_its_boundaries(counts, expected):
    assert votes.outcome(votes.clean_tally(tally(**counts))) == expected


@pytest.mark.parametrize("counts, field", [
    (dict(present=11), "present"),
    (dict(by_video=11), "by_video"),
    (dict(present=8, ballots_issued=9, ballots_returned=8), "ballots_issued"),
    (dict(ballots_issued=9, ballots_returned=10), "ballots_returned"),
    (dict(ballots_returned=9, yes=5, no=4, abstain=1), "yes"),
    (dict(present=8, ballots_issued=8, ballots_returned=8, written_yes=2, written_no=1), "written_yes"),
    (dict(written_yes=1), "written_yes"),                       # nobody absent: no written opinion possible
    (dict(entitled=0, present=0, ballots_issued=0, ballots_returned=0), "entitled"),
    (dict(yes=-1), "yes"),
    (dict(no="两"), "no"),
    (dict(no=True), "no"),
    (dict(abstain=1.5), "abstain"),
    (dict(present=None), "present"),
])
def test_tally_that_does_not_add_up_is_refused_per_field(counts, field):
    with pytest.raises(tk.Invalid) as refused:
        votes.clean_tally(tally(**counts))
    assert field in refused.value.field_errors


def test_tally_from_a_form_and_defaults():
    form = {key: str(value) for key, value in tally(yes=6, no=3, abstain=1).items()}
    form.update(written_yes="", by_video="2")
    cleaned = votes.clean_tally(form)
    assert cleaned["yes"] == 6 and cleaned["by_video"] == 2
    assert (cleaned["written_yes"], cleaned["written_no"], cleaned["written_abstain"]) == (0, 0, 0)
    assert set(cleaned) == set(votes.FIELDS)
    with pytest.raises(tk.Invalid):
        votes.clean_tally(None)
    with pytest.raises(tk.Invalid) as refused:
        votes.clean_tally({"entitled": 10})
    assert {"present", "yes", "ballots_issued"} <= set(refused.value.field_errors)


def test_save_vote_keeps_the_tally_and_the_result(factory, org):
    case = open_case(factory, org)
    step = cases.write_step(case, "admission_vote", MONDAY, actor=org.home_sec, data={})
    vote = votes.save_vote(case, "admission", step,
                           tally(present=7, ballots_issued=7, ballots_returned=7, yes=5, no=2, written_yes=1))
    tk.db.session.commit()
    assert (vote.kind, vote.held_on, vote.step_id, vote.quorate, vote.passed) == (
        "admission", MONDAY, step.id, True, True)
    assert (vote.entitled, vote.present, vote.yes, vote.written_yes) == (10, 7, 5, 1)
    failed = votes.save_vote(case, "conversion", step, tally(yes=5, no=5))
    assert (failed.quorate, failed.passed) == (True, False)
    with pytest.raises(tk.Invalid):
        votes.save_vote(case, "other", step, tally(yes=6))


# -- training -------------------------------------------------------------------------------------------------------

def test_clean_training_takes_one_of_hours_days_or_a_class(factory, org):
    klass = training.create_class(org.township, "入党积极分子培训班", 16, actor=None)
    assert training.clean_training({"hours": "12"}) == {"hours": 12}
    assert training.clean_training({"days": 2, "hours": ""}) == {"days": 2}
    assert training.clean_training({"class_id": str(klass.id)}) == {"class_id": klass.id}
    for bad, field in (({}, "hours"), ({"hours": 4, "days": 1}, "hours"), ({"hours": 0}, "hours"),
                       ({"hours": 201}, "hours"), ({"days": 31}, "days"), ({"class_id": klass.id + 1}, "class_id"),
                       ({"hours": True}, "hours"), (None, "hours")):
        with pytest.raises(tk.Invalid) as refused:
            training.clean_training(bad)
        assert field in refused.value.field_errors, bad


def test_classes_are_created_by_their_unit_and_offered_below_it(factory, org):
    town = training.create_class(org.township, "乡镇培训班", 24, actor=org.organizer, course_id="7")
    own = training.create_class(org.home, "支部学习", 4, actor=org.home_sec)
    training.create_class(org.foreign, "别的支部", 4, actor=org.foreign_sec)
    tk.db.session.commit()
    assert (town.course_id, own.course_id) == (7, None)
    assert {klass.id for klass in training.classes_for(org.home)} == {town.id, own.id}
    with pytest.raises(tk.NotFound):
        training.create_class(org.home, "越权", 4, actor=org.foreign_sec)
    with pytest.raises(tk.NotFound):
        training.create_class(org.township, "越权", 4, actor=org.home_sec)  # a branch does not run the township's
    with pytest.raises(tk.Invalid) as refused:
        training.create_class(org.home, " ", 0, actor=org.home_sec, course_id="x")
    assert set(refused.value.field_errors) == {"title", "hours", "course_id"}


def test_hours_count_steps_days_classes_and_completed_courses_each_class_once(factory, org):
    tk.set_setting("development", "hours_per_day", 6)
    plain = training.create_class(org.township, "集中培训", 10)
    online = training.create_class(org.township, "网上党校：党章", 4, course_id=77)
    other_online = training.create_class(org.township, "网上党校：党史", 3, course_id=78)
    first, second, third = (open_case(factory, org, name=name) for name in ("甲", "乙", "丙"))
    for case, data in ((first, {"hours": 5}), (first, {"days": 2}), (first, {"class_id": plain.id}),
                       (first, {"class_id": online.id}), (second, {"class_id": online.id})):
        cases.write_step(case, "training", MONDAY, actor=None, data=data)
    # the online course completed: counts once for first (who also has a step for that class) and for third
    for case in (first, third):
        tk.record_activity(case.member, "course.completed", "course", 77)
    tk.record_activity(second.member, "course.completed", "course", 99)  # a course that is no class
    tk.record_activity(factory.member(org.home), "course.completed", "course", 78)  # someone without a case
    tk.db.session.commit()

    assert training.hours_for([first, second, third]) == {first.id: 5 + 12 + 10 + 4, second.id: 4, third.id: 4}
    assert other_online.hours == 3 and training.hours_for([]) == {}
    with count_queries() as one:
        training.hours_for([first])
    with count_queries() as three:
        training.hours_for([first, second, third])
    assert len(one) == len(three) <= 4, three.report()


# -- mentors --------------------------------------------------------------------------------------------------------

def test_mentors_need_an_activist_and_full_members_who_are_not_relatives(factory, org):
    case = open_case(factory, org)
    with pytest.raises(tk.Conflict) as refused:
        mentors.assign(case, org.member2, "home", actor=org.home_sec, on=TALK, not_relative=True)
    assert refused.value.details["missing"][0]["code"] == "activist_decision"
    cases.record_step(case, "talk", TALK, actor=None)
    cases.record_step(case, "activist_decision", ACTIVIST, actor=None)
    applicant = factory.member(org.home, stage="candidate")
    for member, place, not_relative, field in ((applicant, "home", True, "member_id"),
                                               (case.member, "home", True, "member_id"),
                                               (org.member2, "home", False, "not_relative"),
                                               (org.member2, "abroad", True, "place"),
                                               (None, "home", True, "member_id")):
        with pytest.raises(tk.Invalid) as invalid:
            mentors.assign(case, member, place, actor=org.home_sec, on=ACTIVIST, not_relative=not_relative)
        assert field in invalid.value.field_errors
    with pytest.raises(tk.Invalid):
        mentors.assign(case, org.member2, "home", actor=org.home_sec, on=ACTIVIST - timedelta(days=1),
                       not_relative=True)
    assert steps_of(case, "mentors_assigned") == []


def test_two_mentors_one_per_place_the_first_records_the_step(factory, org):
    case = activist_case(factory, org, host=org.host)
    at_home = mentors.assign(case, org.member2, "home", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    tk.db.session.commit()
    assert [(s.taken_on, s.actor_account_id) for s in steps_of(case, "mentors_assigned")] == [
        (ACTIVIST, org.home_sec.id)]
    assert tk.db.session.scalar(select(Notification).where(Notification.account_id == org.member2.account_id))
    third = factory.member(org.home)
    with pytest.raises(tk.Conflict):
        mentors.assign(case, third, "home", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    with pytest.raises(tk.Conflict):
        mentors.assign(case, org.member2, "work", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    mentors.assign(case, org.member1, "work", actor=org.host_sec, on=ACTIVIST, not_relative=True)  # host may act
    with pytest.raises(tk.Conflict):
        mentors.assign(case, factory.member(org.home), "work", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    # ending one frees its place; the step is not written twice
    with pytest.raises(tk.Invalid):
        mentors.end(at_home, actor=org.home_sec, on=ACTIVIST - timedelta(days=1))
    mentors.end(at_home, actor=org.home_sec, on=MONDAY)
    with pytest.raises(tk.Conflict):
        mentors.end(at_home, actor=org.home_sec, on=MONDAY)
    mentors.assign(case, third, "home", actor=org.home_sec, on=MONDAY, not_relative=True)
    tk.db.session.commit()
    assert len(steps_of(case, "mentors_assigned")) == 1
    assert sorted(mentors.mentor_accounts(case.member)) == sorted([org.member1.account_id, third.account_id])


def test_who_may_assign_a_mentor(factory, org):
    case = activist_case(factory, org)
    with pytest.raises(tk.NotFound):
        mentors.assign(case, org.member2, "home", actor=org.foreign_sec, on=ACTIVIST, not_relative=True)
    with pytest.raises(tk.Forbidden):  # nobody acts on their own case
        mentors.assign(case, org.member2, "home", actor=case.member.account, on=ACTIVIST, not_relative=True)
    mentor = mentors.assign(case, org.member2, "home", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    with pytest.raises(tk.Forbidden):  # a mentor sees the case but does not name mentors
        mentors.assign(case, org.member1, "work", actor=org.member2.account, on=ACTIVIST, not_relative=True)
    with pytest.raises(tk.NotFound):
        mentors.end(mentor, actor=org.foreign_sec, on=MONDAY)


def test_mentor_accounts_and_cases_mentored_follow_the_open_case(factory, org):
    case = activist_case(factory, org)
    mentor = mentors.assign(case, org.member2, "home", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    tk.db.session.commit()
    assert mentors.mentor_accounts(case.member) == [org.member2.account_id]
    assert mentors.mentor_accounts(org.member1) == []
    assert [c.id for c in mentors.cases_mentored(org.member2.account)] == [case.id]
    assert mentors.cases_mentored(org.home_sec) == [] and mentors.cases_mentored(None) == []
    with count_queries() as queries:
        mentors.mentor_accounts(case.member)
    assert len(queries) == 1
    mentors.end(mentor, actor=org.home_sec, on=MONDAY)
    tk.db.session.commit()
    assert mentors.mentor_accounts(case.member) == [] and mentors.cases_mentored(org.member2.account) == []


def test_a_mentor_reads_the_persons_report_through_the_reports_plugin(factory, org):
    case = activist_case(factory, org)
    report = writing.submit(case.member, "2026-Q4", "这个季度我学习了党章。", now=datetime(2026, 11, 20, 2, 0))
    tk.db.session.commit()
    assert not reading.can_read(report, org.member2.account)  # not yet a mentor
    mentor = mentors.assign(case, org.member2, "home", actor=org.home_sec, on=ACTIVIST, not_relative=True)
    tk.db.session.commit()
    assert reading.can_read(report, org.member2.account)
    assert not reading.can_read(report, org.outsider.account)
    mentors.end(mentor, actor=org.home_sec, on=MONDAY)
    tk.db.session.commit()
    assert not reading.can_read(report, org.member2.account)


def test_introducers_are_two_distinct_full_members_other_than_the_person(factory, org):
    case = activist_case(factory, org)
    full = factory.member(org.home)
    assert mentors.clean_introducers({"introducers": [org.member2.id, str(full.id)]}, case) == {
        "introducers": [org.member2.id, full.id]}
    candidate = factory.member(org.home, stage="candidate")
    for bad in ([org.member2.id], [org.member2.id, org.member2.id], [org.member2.id, case.member_id],
                [org.member2.id, candidate.id], [org.member2.id, 10 ** 9], [org.member2.id, "x"], "1,2", None):
        with pytest.raises(tk.Invalid) as refused:
            mentors.clean_introducers({"introducers": bad}, case)
        assert "introducers" in refused.value.field_errors, bad


# -- vetting --------------------------------------------------------------------------------------------------------

def test_vetting_is_asked_of_the_other_side_which_alone_answers(factory, org):
    case = activist_case(factory, org, host=org.host)
    rows = vetting.request(case, "host", ["workplace", "person", "workplace"], actor=org.home_sec, on=MONDAY)
    tk.db.session.commit()
    assert [(r.part, r.requested_on, r.due_on) for r in rows] == [
        ("workplace", MONDAY, MONDAY + timedelta(days=30)), ("person", MONDAY, MONDAY + timedelta(days=30))]
    told = tk.db.session.scalars(select(Notification.account_id)).all()
    assert org.host_sec.id in told and org.home_sec.id not in told
    again = vetting.request(case, "host", ["person", "community"], actor=org.home_sec, on=MONDAY + timedelta(days=3))
    tk.db.session.commit()
    assert again[0].id == rows[1].id and again[0].requested_on == MONDAY  # kept, not duplicated
    assert tk.db.session.query(Vetting).count() == 3
    assert {v.part for v in vetting.waiting([org.home.id])} == {"workplace", "person", "community"}
    assert all(v.case.id == case.id for v in vetting.waiting([org.host.id]))
    assert vetting.waiting([org.foreign.id]) == [] and vetting.waiting([]) == []

    part = rows[0]
    with pytest.raises(tk.Forbidden):  # the home branch does not answer the host's part
        vetting.record(part, "在厂表现良好", actor=org.home_sec, on=MONDAY)
    with pytest.raises(tk.NotFound):
        vetting.record(part, "在厂表现良好", actor=org.foreign_sec, on=MONDAY)
    with pytest.raises(tk.Invalid):
        vetting.record(part, "  ", actor=org.host_sec, on=MONDAY)
    with pytest.raises(tk.Invalid):
        vetting.record(part, "太早", actor=org.host_sec, on=MONDAY - timedelta(days=1))
    vetting.record(part, "在厂表现良好", actor=org.host_sec, on=MONDAY + timedelta(days=10))
    tk.db.session.commit()
    assert (part.findings, part.recorded_on, part.recorded_by_account_id) == (
        "在厂表现良好", MONDAY + timedelta(days=10), org.host_sec.id)
    assert part.id not in {v.id for v in vetting.waiting([org.home.id])}
    with pytest.raises(tk.Conflict):
        vetting.record(part, "再写一次", actor=org.host_sec, on=MONDAY + timedelta(days=11))


def test_vetting_requests_that_are_refused(factory, org):
    at_home = activist_case(factory, org)
    with pytest.raises(tk.Invalid) as refused:
        vetting.request(at_home, "host", ["workplace"], actor=org.home_sec, on=MONDAY)
    assert "side" in refused.value.field_errors
    away = activist_case(factory, org, host=org.host, name="钱多")
    for side, parts in (("host", ["relatives"]), ("home", ["workplace"]), ("home", []), ("abroad", ["person"])):
        with pytest.raises(tk.Invalid):
            vetting.request(away, side, parts, actor=org.home_sec, on=MONDAY)
    with pytest.raises(tk.NotFound):
        vetting.request(away, "home", ["relatives"], actor=org.foreign_sec, on=MONDAY)
    with pytest.raises(tk.Forbidden):
        vetting.request(away, "home", ["relatives"], actor=away.member.account, on=MONDAY)
    rows = vetting.request(away, "home", ["relatives"], actor=org.host_sec, on=MONDAY)  # the host asks home
    assert rows[0].side == "home"


def test_political_review_data():
    assert vetting.clean_review({"conclusion": " 政治合格 ", "methods": "谈话，函调, 走访"}) == {
        "conclusion": "政治合格", "methods": ["谈话", "函调", "走访"]}
    assert vetting.clean_review({"conclusion": "合格", "methods": ["谈话"]})["methods"] == ["谈话"]
    for bad, field in (({"methods": ["谈话"]}, "conclusion"), ({"conclusion": "合格"}, "methods"),
                       ({"conclusion": "合格", "methods": [1]}, "methods"), (None, "conclusion")):
        with pytest.raises(tk.Invalid) as refused:
            vetting.clean_review(bad)
        assert field in refused.value.field_errors


# -- public notices -------------------------------------------------------------------------------------------------

def test_a_notice_needs_the_prereview_and_lasts_five_working_days(factory, org):
    case = activist_case(factory, org, host=org.host)
    with pytest.raises(tk.Conflict) as refused:
        notices.open_notice(case, "home", MONDAY, actor=org.home_sec)
    assert refused.value.code == "requirements_missing"
    assert refused.value.details["missing"][0]["code"] == "committee_prereview"
    cases.write_step(case, "committee_prereview", MONDAY - timedelta(days=3), actor=None)
    tk.db.session.commit()

    notice = notices.open_notice(case, "home", MONDAY, actor=org.home_sec, posted_at="村务公开栏")
    assert notice.ends_on == date(2026, 3, 6)  # Monday to Friday
    thursday = MONDAY + timedelta(days=3)
    over_weekend = notices.open_notice(case, "host", thursday, actor=org.host_sec)
    assert over_weekend.ends_on == date(2026, 3, 11)  # Thu, Fri, Mon, Tue, Wed
    with pytest.raises(tk.Invalid) as short:
        notices.open_notice(case, "host", thursday, actor=org.host_sec, ends_on=date(2026, 3, 10))
    assert "ends_on" in short.value.field_errors
    longer = notices.open_notice(case, "home", MONDAY, actor=org.home_sec, ends_on=date(2026, 3, 13))
    assert longer.ends_on == date(2026, 3, 13)
    with pytest.raises(tk.Invalid):  # before the pre-review
        notices.open_notice(case, "home", MONDAY - timedelta(days=4), actor=org.home_sec)


def test_each_place_posts_its_own_notice(factory, org):
    case = activist_case(factory, org, host=org.host)
    cases.write_step(case, "committee_prereview", MONDAY, actor=None)
    at_home = activist_case(factory, org, name="孙立")
    cases.write_step(at_home, "committee_prereview", MONDAY, actor=None)
    tk.db.session.commit()
    with pytest.raises(tk.Forbidden):
        notices.open_notice(case, "host", MONDAY, actor=org.home_sec)
    with pytest.raises(tk.Forbidden):
        notices.open_notice(case, "home", MONDAY, actor=org.host_sec)
    with pytest.raises(tk.NotFound):
        notices.open_notice(case, "home", MONDAY, actor=org.foreign_sec)
    with pytest.raises(tk.Forbidden):
        notices.open_notice(case, "home", MONDAY, actor=case.member.account)
    with pytest.raises(tk.Invalid) as refused:
        notices.open_notice(at_home, "host", MONDAY, actor=org.home_sec)
    assert "place" in refused.value.field_errors


def test_objections_are_recorded_and_resolved_once(factory, org):
    case = activist_case(factory, org)
    cases.write_step(case, "committee_prereview", MONDAY, actor=None)
    notice = notices.open_notice(case, "home", MONDAY, actor=org.home_sec)
    tk.db.session.commit()
    with pytest.raises(tk.Invalid):
        notices.add_objection(notice, MONDAY, "  ", actor=org.home_sec)
    with pytest.raises(tk.Invalid):
        notices.add_objection(notice, MONDAY - timedelta(days=1), "早于公示", actor=org.home_sec)
    with pytest.raises(tk.NotFound):
        notices.add_objection(notice, MONDAY, "有群众反映", actor=org.foreign_sec)
    objection = notices.add_objection(notice, MONDAY + timedelta(days=1), "有群众反映其未赡养老人", actor=org.home_sec)
    tk.db.session.commit()
    assert notice.objections == [objection] and objection.resolved_on is None
    with pytest.raises(tk.Invalid):
        notices.resolve(objection, "", actor=org.home_sec, on=MONDAY + timedelta(days=2))
    with pytest.raises(tk.Invalid):
        notices.resolve(objection, "已核实", actor=org.home_sec, on=MONDAY)
    notices.resolve(objection, "经核实，反映不属实", actor=org.home_sec, on=MONDAY + timedelta(days=3))
    tk.db.session.commit()
    assert (objection.resolved_on, objection.resolved_by_account_id) == (MONDAY + timedelta(days=3), org.home_sec.id)
    with pytest.raises(tk.Conflict):
        notices.resolve(objection, "再次", actor=org.home_sec, on=MONDAY + timedelta(days=4))

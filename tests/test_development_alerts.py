"""Development reminders (``portal_development.alerts.scan``): a deadline within ``remind_days`` or passed is told
once, to the side that must act (branch, host branch, committee, mentors, the person); a moved deadline is told
again; the lead place is told of an away case's branch deadlines; a batch costs the same statements however
many cases."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from portal import alerts as core_alerts
from portal import toolkit as tk
from portal.notify.models import Notification
from portal_development import alerts
from portal_development.models import AlertMarker, Mentor, StepRecord, Vetting
from tests.helpers.query_counter import count_queries
from tests.test_development_board import make_case


def at(day: date) -> datetime:
    """Noon UTC of ``day`` (20:00 in Shanghai: the same local day)."""
    return datetime(day.year, day.month, day.day, 12, 0)


def kinds(found) -> list[tuple[str, int | None, str, tuple[int, ...]]]:
    return sorted((a.kind, a.unit_id, a.permission, a.account_ids) for a in found)


def test_a_deadline_is_told_from_remind_days_before_and_only_once(factory, org):
    case = make_case(factory, org.home, applied_on=date(2026, 1, 10), name="孙丽")  # talk due 2026-02-10
    assert alerts.scan(at(date(2026, 2, 2))) == []            # 8 days before: not yet
    found = alerts.scan(at(date(2026, 2, 3)))                  # 7 days before (remind_days)
    assert kinds(found) == [("development.talk", org.home.id, "development.manage", ())]
    assert found[0].member_id == case.member_id and found[0].url == f"/development/cases/{case.id}"
    assert "孙丽" in str(found[0].message) and "2026-02-10" in str(found[0].message)
    tk.db.session.commit()
    assert alerts.scan(at(date(2026, 2, 4))) == []
    assert alerts.scan(at(date(2026, 2, 11))) == []            # overdue now, but told already
    assert tk.db.session.query(AlertMarker).count() == 1


def test_the_local_day_decides(factory, org):
    make_case(factory, org.home, applied_on=date(2026, 1, 10))
    assert alerts.scan(datetime(2026, 2, 2, 15, 59)) == []     # 23:59 on 2 February in Shanghai
    assert len(alerts.scan(datetime(2026, 2, 2, 16, 0))) == 1  # 00:00 on 3 February


def test_an_overdue_deadline_never_told_is_told_as_overdue(factory, org):
    make_case(factory, org.home, applied_on=date(2025, 11, 1))
    found = alerts.scan(at(date(2026, 2, 1)))
    assert len(found) == 1 and "was due on 2025-12-01" in str(found[0].message)


def test_closed_cases_and_met_deadlines_are_quiet(factory, org):
    make_case(factory, org.home, applied_on=date(2026, 1, 10), closed_on=date(2026, 1, 20), outcome="withdrawn")
    make_case(factory, org.home, applied_on=date(2026, 1, 10), steps=[("talk", date(2026, 1, 15))])
    assert alerts.scan(at(date(2026, 2, 10))) == []


def test_assessments_go_to_the_mentors_and_a_moved_deadline_is_told_again(factory, org):
    mentor = factory.member(org.host, name="陈刚")
    case = make_case(factory, org.home, stage="activist", activist_on=date(2025, 6, 1),
                     steps=[("talk", date(2025, 5, 1)), ("activist_decision", date(2025, 6, 1))])
    tk.db.session.add(Mentor(case_id=case.id, member_id=mentor.id, place="work", not_relative=True,
                             assigned_on=date(2025, 6, 5)))
    tk.db.session.commit()
    assert kinds(alerts.scan(at(date(2025, 11, 24)))) == [
        ("development.assessment", org.home.id, "members.view", (mentor.account_id,))]
    tk.db.session.add(StepRecord(case_id=case.id, code="assessment", taken_on=date(2025, 11, 28), data={}))
    tk.db.session.commit()
    assert alerts.scan(at(date(2026, 5, 20))) == []
    assert len(alerts.scan(at(date(2026, 5, 21)))) == 1       # due 2026-05-28, a new day


def test_without_an_active_mentor_the_branch_is_told(factory, org):
    make_case(factory, org.home, stage="activist", activist_on=date(2025, 6, 1),
              steps=[("talk", date(2025, 5, 1)), ("activist_decision", date(2025, 6, 1))])
    assert kinds(alerts.scan(at(date(2025, 11, 24)))) == [
        ("development.assessment", org.home.id, "development.manage", ())]


def test_vetting_tells_the_side_that_must_answer(factory, org):
    case = make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", date(2026, 1, 2))])
    due = date(2026, 2, 19)
    tk.db.session.add_all([
        Vetting(case_id=case.id, side="host", part="workplace", requested_on=date(2026, 1, 20), due_on=due),
        Vetting(case_id=case.id, side="host", part="person", requested_on=date(2026, 1, 20), due_on=due),
        Vetting(case_id=case.id, side="home", part="relatives", requested_on=date(2026, 1, 20), due_on=due),
    ])
    tk.db.session.commit()
    assert kinds(alerts.scan(at(due - timedelta(days=7)))) == [
        ("development.vetting", org.home.id, "development.manage", ()),
        ("development.vetting", org.host.id, "development.manage", ())]


def test_committee_deadlines_go_to_the_committee_above(factory, org):
    make_case(factory, org.home, stage="candidate", steps=[("talk", date(2025, 1, 2)),
                                                           ("branch_review", date(2026, 1, 20))])
    found = alerts.scan(at(date(2026, 2, 13)))                 # pre-review due 2026-02-20
    assert kinds(found) == [("development.committee_prereview", org.township.id, "development.approve", ())]
    delivery, = core_alerts.resolve(found)
    assert org.organizer.id in delivery.account_ids and org.home_sec.id not in delivery.account_ids


def test_the_person_is_told_to_apply_for_full_membership(factory, org):
    case = make_case(factory, org.home, stage="probationary", steps=[("talk", date(2024, 1, 2))],
                     admitted_on=date(2025, 4, 1), probation_ends_on=date(2026, 4, 1))
    found = alerts.scan(at(date(2026, 2, 25)))                 # application due 2026-03-02
    assert kinds(found) == [("development.conversion_application", org.home.id, "members.view",
                             (case.member.account_id,))]
    assert found[0].url == "/development/mine"


def test_the_lead_place_is_told_of_an_away_cases_branch_deadlines(factory, org):
    make_case(factory, org.home, host=org.host, applied_on=date(2026, 1, 10))
    make_case(factory, org.home, applied_on=date(2026, 1, 10))
    tk.set_setting("development", "lead_place", "host")
    tk.db.session.commit()
    assert kinds(alerts.scan(at(date(2026, 2, 3)))) == [
        ("development.talk", org.home.id, "development.manage", ()),    # not away: its own branch
        ("development.talk", org.host.id, "development.manage", ())]    # away: the host branch leads


def test_the_scan_reaches_the_secretarys_inbox(factory, org):
    case = make_case(factory, org.home, applied_on=date(2026, 1, 10), name="孙丽")
    assert core_alerts.scan(at(date(2026, 2, 3))) >= 1
    note = tk.db.session.query(Notification).filter_by(account_id=org.home_sec.id, kind="alert.development.talk").one()
    assert "孙丽" in note.title and note.url == f"/development/cases/{case.id}"
    core_alerts.scan(at(date(2026, 2, 4)))
    assert tk.db.session.query(Notification).filter_by(account_id=org.home_sec.id,
                                                        kind="alert.development.talk").count() == 1


def _scan_statements(day: date):
    tk.db.session.expire_all()
    with count_queries() as queries:
        alerts.scan(at(day))
    tk.db.session.rollback()
    return queries


def test_a_scan_costs_the_same_statements_for_many_cases(factory, org):
    def cases(n: int) -> None:
        for _n in range(n):
            case = make_case(factory, org.home, stage="candidate", host=org.host, applied_on=date(2026, 1, 10))
            tk.db.session.add(Vetting(case_id=case.id, side="host", part="person", requested_on=date(2026, 1, 10),
                                      due_on=date(2026, 2, 9)))
            tk.db.session.commit()

    cases(2)
    alerts.scan(at(date(2026, 2, 3)))  # settings read once: not what a case costs
    tk.db.session.rollback()
    few = _scan_statements(date(2026, 2, 3))
    cases(20)
    many = _scan_statements(date(2026, 2, 3))
    assert len(many) == len(few), few.report() + "\n" + many.report()

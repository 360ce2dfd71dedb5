"""The development demo: cases at every stage built through the services (so every rule and waiting time is
met), the worker away with a mentor at work and vetting waiting for the host branch — built twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_development import board, mentors
from portal_development.models import DevCase, Mentor, Objection, Plan, StepRecord, Vetting
from portal_development.vocabulary import STEP_CODES
from tests.helpers.demo import demo_built_twice


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) built twice; the number of cases after the first run."""
    yield from demo_built_twice(app, lambda: (tk.db.session.scalar(select(func.count(DevCase.id))),
                                          tk.db.session.scalar(select(func.count(StepRecord.id)))))


@pytest.fixture
def db(app, built):
    with app.app_context():
        yield tk.db
        tk.db.session.remove()


def _home() -> tk.OrgUnit:
    return tk.db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "东岭村党支部"))


def _case(name: str) -> DevCase:
    return tk.db.session.scalar(select(DevCase).join(tk.Member).where(tk.Member.name == name))


def test_built_twice_adds_nothing_the_second_time(built, db):
    assert built[0] == 8
    assert (db.session.scalar(select(func.count(DevCase.id))),
            db.session.scalar(select(func.count(StepRecord.id)))) == built


def test_every_stage_is_shown(db):
    stages = dict(db.session.execute(select(DevCase.stage, func.count(DevCase.id))
                                     .where(DevCase.closed_on.is_(None)).group_by(DevCase.stage)).all())
    assert stages == {"applicant": 1, "activist": 1, "candidate": 3, "probationary": 1}
    full = _case("郑海涛")
    assert (full.stage, full.outcome) == ("full", "full") and full.member.stage == "full"
    assert {step.code for step in full.steps} == set(STEP_CODES)
    withdrawn = _case("孙明")
    assert (withdrawn.outcome, withdrawn.closed_reason) == ("withdrawn", "本人外出求学，主动撤回入党申请。")


def test_activist_has_mentor_and_assessments_and_candidate_review_and_training(db):
    activist = _case("陈志强")
    assert [m.place for m in activist.mentors] == ["home"]
    assert sum(step.code == "assessment" for step in activist.steps) == 2
    candidate = _case("黄丽萍")
    assert {"introducers", "political_review", "training"} <= {step.code for step in candidate.steps}


def test_notice_with_an_objection_resolved(db):
    case = _case("周建华")
    objection = db.session.scalar(select(Objection))
    today = tk.local_today()
    assert objection.notice.case_id == case.id and objection.resolved_on is not None
    assert objection.notice.starts_on <= today <= objection.notice.ends_on


def test_board_shows_probation_ending_overdue_talk_and_vetting_waiting_for_the_host(db):
    today = tk.local_today()
    pipeline = board.pipeline(_home(), today)
    probationer = _case("吴秀英")
    assert pipeline.probation_endings == [probationer]
    assert today < probationer.probation_ends_on <= today + timedelta(days=60)
    assert [(case.member.name, deadline.kind) for case, deadline in pipeline.overdue] == [("刘晓燕", "talk")]
    away = _case("赵磊")
    assert {(case.id, deadline.side) for case, deadline in pipeline.waiting} == {(away.id, "host")}
    assert db.session.scalar(select(func.count(Vetting.id)).where(
        Vetting.case_id == away.id, Vetting.side == "host", Vetting.recorded_on.is_(None))) == 3
    plan = db.session.scalar(select(Plan).where(Plan.unit_id == _home().id))
    assert pipeline.plan is plan and plan.target == 3 and plan.year == today.year


def test_worker_away_has_a_mentor_at_work_who_sees_the_case(db):
    away = _case("赵磊")
    host = db.session.scalar(select(tk.OrgUnit).where(tk.OrgUnit.name == "青山县驻深圳流动党员党支部"))
    assert away.host_unit_id == host.id and away.workplace == "深圳市华达电子有限公司"
    work = db.session.scalar(select(Mentor).where(Mentor.case_id == away.id, Mentor.place == "work"))
    assert work.member.host_unit_id == host.id
    assert away in mentors.cases_mentored(work.member.account)

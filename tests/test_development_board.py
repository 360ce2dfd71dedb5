"""The development board (``portal_development.board``): pipeline counts over a subtree, overdue items, vetting
waiting for the other place, probation endings, the plan, the public-notice log, ``.xlsx`` rows and the record
PDF (Chinese text, ID number masked). Cases are written straight into the tables: the board only reads them."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from portal import toolkit as tk
from portal_development import board
from portal_development.models import (
    DevCase, Mentor, Objection, Plan, PublicNotice, StepRecord, Vetting, Vote,
)
from tests.helpers.query_counter import count_queries

TODAY = date(2026, 3, 2)


def make_case(factory, unit, *, stage="applicant", applied_on=TODAY, host=None, steps=(), name=None, **fields):
    """A case of a new member of ``unit`` with ``steps`` ((code, day[, notes]) …) recorded."""
    member = factory.member(unit, name=name, stage=stage, host=host)
    case = DevCase(member_id=member.id, unit_id=unit.id, host_unit_id=host.id if host else None, stage=stage,
                   applied_on=applied_on, **fields)
    tk.db.session.add(case)
    tk.db.session.flush()
    for code, day, *notes in (("application", applied_on), *steps):
        tk.db.session.add(StepRecord(case_id=case.id, code=code, taken_on=day, notes=notes[0] if notes else "",
                                     data={}, unit_id=unit.id))
    tk.db.session.commit()
    return case


def test_pipeline_counts_open_cases_of_the_subtree_and_the_hosted_ones(factory, org):
    make_case(factory, org.home, steps=[("talk", TODAY)])
    make_case(factory, org.home, stage="activist", activist_on=TODAY, steps=[("talk", TODAY)])
    make_case(factory, org.foreign, stage="candidate", steps=[("talk", TODAY)])
    make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", TODAY)])
    make_case(factory, org.home, steps=[("talk", TODAY)], closed_on=TODAY, outcome="withdrawn")

    assert board.pipeline(org.home, TODAY).stages == {"applicant": 1, "activist": 1, "candidate": 1,
                                                      "probationary": 0, "full": 0}
    assert board.pipeline(org.township, TODAY).stages["candidate"] == 2
    # the worker away is on the host branch's board and on the boards above it
    assert board.pipeline(org.host, TODAY).stages == {"applicant": 0, "activist": 0, "candidate": 1,
                                                      "probationary": 0, "full": 0}
    assert board.pipeline(org.mobile, TODAY).stages["candidate"] == 1
    assert sum(board.pipeline(org.foreign, TODAY).stages.values()) == 1


def test_a_board_computed_a_chunk_of_cases_at_a_time_is_the_same_board(factory, org, monkeypatch):
    """The facts of a large subtree's cases are loaded in chunks (bounded memory): chunks of one case give the
    same counts, overdue and waiting lists as one chunk of all."""
    make_case(factory, org.home, applied_on=date(2026, 1, 10))
    make_case(factory, org.home, stage="activist", activist_on=TODAY, steps=[("talk", TODAY)])
    make_case(factory, org.home, stage="candidate", host=org.host, applied_on=date(2026, 1, 5),
              steps=[("talk", date(2026, 1, 20))])

    def summary(pipeline):
        return (pipeline.stages, [(case.id, d.kind, d.due_on) for case, d in pipeline.overdue],
                [(case.id, d.kind, d.due_on) for case, d in pipeline.waiting])

    whole = summary(board.pipeline(org.township, TODAY))
    monkeypatch.setattr(board, "FACTS_CHUNK", 1)
    assert summary(board.pipeline(org.township, TODAY)) == whole
    assert whole[1], "the board should have an overdue case to compare"


def test_overdue_lists_a_passed_deadline_and_not_one_still_running(factory, org):
    late = make_case(factory, org.home, applied_on=date(2026, 1, 10))   # talk due 2026-02-10: passed
    make_case(factory, org.home, applied_on=date(2026, 2, 10))          # talk due 2026-03-10: running
    make_case(factory, org.home, applied_on=date(2026, 1, 5), steps=[("talk", date(2026, 1, 20))])

    overdue = board.pipeline(org.home, TODAY).overdue
    assert [(case.id, deadline.kind, deadline.due_on) for case, deadline in overdue] == [
        (late.id, "talk", date(2026, 2, 10))]
    # the day it is due is not overdue yet; the day after is
    assert board.pipeline(org.home, date(2026, 2, 10)).overdue == []
    assert len(board.pipeline(org.home, date(2026, 2, 11)).overdue) == 1


def test_vetting_waiting_for_the_other_place_shows_on_both_boards_until_answered(factory, org):
    case = make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", TODAY)])
    part = Vetting(case_id=case.id, side="host", part="workplace", requested_on=TODAY, due_on=TODAY + timedelta(30))
    # the parts asked of one side on one day are one wait
    tk.db.session.add_all([part, Vetting(case_id=case.id, side="host", part="community", requested_on=TODAY,
                                         due_on=TODAY + timedelta(30), findings="无异常", recorded_on=TODAY),
                           Vetting(case_id=case.id, side="host", part="person", requested_on=TODAY,
                                   due_on=TODAY + timedelta(30))])
    tk.db.session.commit()

    for unit in (org.home, org.host, org.root):
        waiting = board.pipeline(unit, TODAY).waiting
        assert [(c.id, d.kind, d.side, d.due_on) for c, d in waiting] == [
            (case.id, "vetting", "host", TODAY + timedelta(30))]
    assert board.pipeline(org.foreign, TODAY).waiting == []

    for answered in tk.db.session.query(Vetting).filter(Vetting.recorded_on.is_(None)):
        answered.findings, answered.recorded_on = "在工厂表现良好", TODAY
    tk.db.session.commit()
    assert board.pipeline(org.home, TODAY).waiting == []


def test_probation_endings_within_the_window_only(factory, org):
    window = 60  # the setting's default
    inside = make_case(factory, org.home, stage="probationary", steps=[("talk", TODAY)],
                       probation_ends_on=TODAY + timedelta(window))
    make_case(factory, org.home, stage="probationary", steps=[("talk", TODAY)],
              probation_ends_on=TODAY + timedelta(window + 1))
    today_case = make_case(factory, org.home, stage="probationary", steps=[("talk", TODAY)],
                           probation_ends_on=TODAY)
    make_case(factory, org.home, stage="probationary", steps=[("talk", TODAY)],
              probation_ends_on=TODAY - timedelta(1))

    endings = board.pipeline(org.home, TODAY).probation_endings
    assert [case.id for case in endings] == [today_case.id, inside.id]

    tk.set_setting("development", "probation_window_days", 61)
    tk.db.session.commit()
    assert len(board.pipeline(org.home, TODAY).probation_endings) == 3


def test_plan_is_saved_by_the_units_keepers_and_admissions_counted(factory, org):
    with pytest.raises(tk.Forbidden):
        board.save_plan(org.home, 2026, 3, "", actor=org.foreign_sec)
    with pytest.raises(tk.Invalid) as refused:
        board.save_plan(org.home, 2026, -1, "", actor=org.home_sec)
    assert "target" in refused.value.field_errors

    board.save_plan(org.home, 2026, 3, "两名青年务工人员", actor=org.home_sec)
    plan = board.save_plan(org.home, 2026, 4, "两名青年务工人员", actor=org.organizer)  # the committee above too
    assert tk.db.session.query(Plan).count() == 1 and plan.target == 4

    make_case(factory, org.home, stage="probationary", steps=[("talk", TODAY)], admitted_on=date(2026, 1, 20))
    make_case(factory, org.foreign, stage="full", steps=[("talk", TODAY)], admitted_on=date(2026, 2, 1))
    make_case(factory, org.home, stage="full", steps=[("talk", TODAY)], admitted_on=date(2025, 2, 1))
    make_case(factory, org.home, stage="candidate", steps=[("talk", TODAY)])   # voted, not yet approved
    home_board = board.pipeline(org.home, TODAY)
    assert home_board.plan.target == 4 and home_board.plan.notes == "两名青年务工人员"
    assert home_board.admitted_this_year == 1
    assert board.pipeline(org.township, TODAY).admitted_this_year == 2
    assert board.pipeline(org.township, TODAY).plan is None  # plans are per unit


def test_notice_log_and_its_rows(factory, org):
    case = make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", TODAY)], name="赵磊")
    other = make_case(factory, org.foreign, stage="candidate", steps=[("talk", TODAY)])
    home = PublicNotice(case_id=case.id, place="home", starts_on=date(2026, 2, 2), ends_on=date(2026, 2, 6),
                        posted_at="村委会公示栏")
    host = PublicNotice(case_id=case.id, place="host", starts_on=date(2026, 2, 3), ends_on=date(2026, 2, 9))
    old = PublicNotice(case_id=case.id, place="home", starts_on=date(2025, 12, 1), ends_on=date(2025, 12, 5))
    elsewhere = PublicNotice(case_id=other.id, place="home", starts_on=date(2026, 2, 2), ends_on=date(2026, 2, 6))
    tk.db.session.add_all([home, host, old, elsewhere])
    tk.db.session.flush()
    tk.db.session.add_all([Objection(notice_id=host.id, received_on=date(2026, 2, 4), body="有人反映"),
                           Objection(notice_id=host.id, received_on=date(2026, 2, 5), body="已核实",
                                     resolution="不属实", resolved_on=date(2026, 2, 6))])
    tk.db.session.commit()

    assert [entry.notice.id for entry in board.notice_log(org.home, 2026)] == [home.id, host.id]
    assert [entry.notice.id for entry in board.notice_log(org.host, 2026)] == [home.id, host.id]
    assert [entry.notice.id for entry in board.notice_log(org.home, 2025)] == [old.id]
    assert len(board.notice_log(org.township, 2026)) == 3
    rows = board.notice_rows(org.home, 2026)
    assert rows[0][:6] == ("赵磊", org.home.name, "Home branch", date(2026, 2, 2), date(2026, 2, 6), "村委会公示栏")
    assert rows[0][6:] == (0, 0) and rows[1][6:] == (2, 1)


def test_board_rows_name_the_nearest_deadline_and_count_the_overdue(factory, org):
    make_case(factory, org.home, applied_on=date(2026, 1, 10), name="孙丽")
    make_case(factory, org.home, stage="activist", activist_on=date(2025, 6, 1), name="周杰",
              steps=[("talk", date(2025, 5, 1)), ("activist_decision", date(2025, 6, 1))])
    rows = {row[0]: row for row in board.board_rows(org.home, TODAY)}
    assert rows["孙丽"][3] == "Applicant"
    assert rows["孙丽"][9:] == ("Talk with the applicant", date(2026, 2, 10), 1)
    # an assessment is due six months after becoming an activist
    assert rows["周杰"][5] == date(2025, 6, 1)
    assert rows["周杰"][10:] == (date(2025, 12, 1), 1)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_record_pdf_carries_the_whole_record_in_chinese(factory, org):
    mentor = factory.member(org.host, name="陈刚")
    case = make_case(factory, org.home, stage="candidate", host=org.host, name="刘洋",
                     activist_on=date(2025, 1, 10), candidate_on=date(2026, 1, 15),
                     household_place="江西省吉安市东岭村", workplace="深圳市宝安区某电子厂",
                     steps=[("talk", date(2024, 12, 20), "在深圳视频谈话，态度端正"),
                            ("assessment", date(2025, 7, 10), "上半年考察：积极参加志愿服务")])
    case.member.id_number = "360802199001011234"
    tk.db.session.query(StepRecord).filter_by(case_id=case.id, code="talk").one().actor_account_id = org.home_sec.id
    tk.db.session.add_all([
        Mentor(case_id=case.id, member_id=mentor.id, place="work", not_relative=True, assigned_on=date(2025, 1, 20)),
        Vetting(case_id=case.id, side="host", part="workplace", requested_on=date(2026, 1, 20),
                due_on=date(2026, 2, 19), findings="厂方评价：工作踏实", recorded_on=date(2026, 2, 1)),
        Vote(case_id=case.id, kind="admission", held_on=date(2026, 2, 20), entitled=9, present=7, by_video=2,
             ballots_issued=7, ballots_returned=7, yes=6, no=1, abstain=0, written_yes=1, quorate=True, passed=True),
    ])
    notice = PublicNotice(case_id=case.id, place="host", starts_on=date(2026, 2, 2), ends_on=date(2026, 2, 6),
                          posted_at="宿舍公告栏")
    tk.db.session.add(notice)
    tk.db.session.flush()
    tk.db.session.add(Objection(notice_id=notice.id, received_on=date(2026, 2, 3), body="反映其曾有欠款",
                                resolution="经核实已还清", resolved_on=date(2026, 2, 5)))
    tk.db.session.commit()

    text = pdf_text(board.record_pdf(case))
    for expected in ("刘洋", "江西省吉安市东岭村", "深圳市宝安区某电子厂", "在深圳视频谈话，态度端正",
                     "上半年考察：积极参加志愿服务", "陈刚", "厂方评价：工作踏实", "宿舍公告栏", "反映其曾有欠款",
                     "经核实已还清", org.home.name, "2026-02-20", "1. Written application",
                     f"2. Talk with the applicant — 2024-12-20 — home-secretary（{org.home.name}）"):
        assert expected in text, expected
    assert "360802199001011234" not in text
    assert case.member.masked_id_number in text
    assert "entitled 9, present 7 (by video 2)" in text and "passed" in text


def test_record_pdf_in_chinese_locale(app, factory, org):
    case = make_case(factory, org.home, name="刘洋", steps=[("talk", TODAY, "谈话记录")])
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        text = pdf_text(board.record_pdf(case))
    assert "刘洋" in text and "谈话记录" in text


def _board_statements(unit, today):
    board.pipeline(unit, today)  # the settings are read once per request: not what a case costs
    tk.db.session.expire_all()
    with count_queries() as queries:
        board.pipeline(unit, today)
    return queries


def test_board_sends_the_same_statements_for_many_cases(factory, org):
    for _n in range(2):
        make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", TODAY)])
    few = _board_statements(org.home, TODAY)
    for _n in range(20):
        case = make_case(factory, org.home, stage="candidate", host=org.host, steps=[("talk", TODAY)])
        tk.db.session.add(Vetting(case_id=case.id, side="host", part="person", requested_on=TODAY,
                                  due_on=TODAY + timedelta(30)))
        tk.db.session.commit()
    many = _board_statements(org.home, TODAY)
    assert len(many) == len(few), few.report() + "\n" + many.report()
    assert len(many) <= 13, many.report()

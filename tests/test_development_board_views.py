"""The development board pages: who sees them (the GET matrix), counts per stage, overdue, waiting for the other
place, probation endings, the plan, the public-notice log, training classes, the ``.xlsx`` exports and the
record PDF (POST routes: tests/test_post_matrix_development_board.py)."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from portal import cache
from portal import toolkit as tk
from portal_development.models import DevCase, Objection, Plan, PublicNotice, StepRecord, TrainingClass, Vetting
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect


def _today():
    return tk.local_today(tk.utcnow())


def _case(db, member, unit, *, stage="applicant", days_ago=200, host=None, **dates) -> DevCase:
    """A case written directly (the rules of recording steps are tests/test_development_cases.py's)."""
    case = DevCase(member_id=member.id, unit_id=unit.id, host_unit_id=host.id if host else None, stage=stage,
                   applied_on=_today() - timedelta(days=days_ago), **dates)
    db.session.add(case)
    db.session.commit()
    return case


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def test_board_get_matrix(app, db, org):
    case = _case(db, org.member1, org.home, host=org.host)
    home_unit = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200, organizer=200,
                       admin=200)
    record = expect(404, anonymous=302, member1=403, home_sec=200, host_sec=200, organizer=200, admin=200)
    pages = ("board", "board_xlsx", "probation", "plan", "notices", "notices_xlsx", "training_page")
    checked = check_matrix(app, org, {
        **{f"development_board.{page}": home_unit for page in pages},
        "development_board.record_pdf": record,
    }, blueprints={"development_board"}, url_values={
        **{f"development_board.{page}": {"unit": org.home.id} for page in pages},
        "development_board.record_pdf": {"case_id": case.id},
    })
    assert checked == 8 * 9


def test_board_without_unit_opens_the_accounts_own(app, db, org):
    _case(db, org.member1, org.home, host=org.host)
    page = _client(app, "host-secretary").get("/development/board/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert org.host.name in html and "张伟" in html  # hosted there: on the host's board too


def test_board_counts_stages_and_lists_overdue_and_waiting(app, db, org):
    away = _case(db, org.member1, org.home, host=org.host, stage="candidate", days_ago=500,
                 activist_on=_today() - timedelta(days=400), candidate_on=_today() - timedelta(days=40))
    _case(db, org.member2, org.home, days_ago=60)  # applied two months ago, never talked to: overdue
    db.session.add(Vetting(case_id=away.id, side="host", part="workplace", requested_on=_today() - timedelta(days=40),
                           due_on=_today() - timedelta(days=10)))
    db.session.commit()
    html = _client(app, "home-secretary").get(f"/development/board/?unit={org.home.id}").get_data(as_text=True)
    overdue = html.split('id="overdue"')[1].split("</section>")[0]
    waiting = html.split('id="waiting"')[1].split("</section>")[0]
    assert "李芳" in overdue and "张伟" in overdue
    assert "张伟" in waiting and "李芳" not in waiting
    stages = html.split('id="pipeline"')[1]
    assert '<li id="stage-applicant"><strong>1</strong>' in stages
    assert '<li id="stage-candidate"><strong>1</strong>' in stages
    assert '<li id="stage-full"><strong>0</strong>' in stages


def test_the_board_is_kept_for_every_reader_and_changes_at_once_with_a_step_or_a_case(app, db, org):
    """The board's figures are rendered once for everyone who may read the unit's (the composition cache): the
    township's organizer reads the home secretary's piece; a step recorded, a case opened or a stage changed shows
    on the next request."""
    late = _case(db, org.member2, org.home, days_ago=60)  # applied two months ago, never talked to: overdue
    url = f"/development/board/?unit={org.home.id}"
    secretary, organizer = _client(app, "home-secretary"), _client(app, "organizer")
    secretary.get(url)
    hits = cache.stats(app).hits
    html = organizer.get(url).get_data(as_text=True)
    assert cache.stats(app).hits > hits, "the board was computed again for another reader"
    assert "李芳" in html.split('id="overdue"')[1].split("</section>")[0]

    db.session.add(StepRecord(case_id=late.id, code="talk", taken_on=_today(), unit_id=org.home.id))
    db.session.commit()
    html = secretary.get(url).get_data(as_text=True)
    assert "李芳" not in html.split('id="overdue"')[1].split("</section>")[0]  # talked to: nothing overdue

    _case(db, org.member1, org.home, stage="candidate", host=org.host, days_ago=300)
    late.stage = "activist"
    db.session.commit()
    stages = organizer.get(url).get_data(as_text=True).split('id="pipeline"')[1].split("</section>")[0]
    assert '<li id="stage-applicant"><strong>0</strong>' in stages
    assert '<li id="stage-activist"><strong>1</strong>' in stages
    assert '<li id="stage-candidate"><strong>1</strong>' in stages


def test_probation_page_lists_only_endings_within_the_window(app, db, org):
    today = _today()
    _case(db, org.member1, org.home, stage="probationary", days_ago=900, admitted_on=today - timedelta(days=330),
          probation_ends_on=today + timedelta(days=35))
    _case(db, org.member2, org.home, stage="probationary", days_ago=900, admitted_on=today - timedelta(days=270),
          probation_ends_on=today + timedelta(days=95))
    html = _client(app, "home-secretary").get(f"/development/board/probation?unit={org.home.id}").get_data(
        as_text=True)
    assert "张伟" in html and "李芳" not in html
    assert '<td data-label="Days left">35</td>' in html


def test_plan_is_saved_and_a_bad_target_stays_on_the_page(app, db, org):
    client = _client(app, "home-secretary")
    bad = client.post(f"/development/board/plan?unit={org.home.id}", data={"target": "many", "notes": "两名"})
    assert bad.status_code == 422 and "many" in bad.get_data(as_text=True)
    assert db.session.scalar(select(Plan)) is None
    done = client.post(f"/development/board/plan?unit={org.home.id}", data={"target": "3", "notes": "重点培养青年"})
    assert done.status_code == 302
    plan = db.session.scalar(select(Plan))
    assert (plan.unit_id, plan.year, plan.target, plan.notes) == (org.home.id, _today().year, 3, "重点培养青年")
    page = client.get(f"/development/board/plan?unit={org.home.id}").get_data(as_text=True)
    assert "重点培养青年" in page
    board = client.get(f"/development/board/?unit={org.home.id}").get_data(as_text=True)
    assert "3" in board.split('id="pipeline"')[1].split("</section>")[0]


def test_training_class_is_created_and_listed(app, db, org):
    client = _client(app, "home-secretary")
    bad = client.post(f"/development/board/training?unit={org.home.id}", data={"title": "", "hours": "x"})
    assert bad.status_code == 422 and db.session.scalar(select(TrainingClass)) is None
    done = client.post(f"/development/board/training?unit={org.home.id}",
                       data={"title": "入党积极分子培训班", "hours": "24", "course_id": ""})
    assert done.status_code == 302
    created = db.session.scalar(select(TrainingClass))
    assert (created.unit_id, created.title, created.hours, created.course_id) == (org.home.id, "入党积极分子培训班",
                                                                                  24, None)
    assert "入党积极分子培训班" in client.get(f"/development/board/training?unit={org.home.id}").get_data(as_text=True)


def test_board_and_notice_log_download_as_xlsx(app, db, org):
    case = _case(db, org.member1, org.home, host=org.host, stage="candidate", days_ago=500)
    notice = PublicNotice(case_id=case.id, place="host", starts_on=_today() - timedelta(days=20),
                          ends_on=_today() - timedelta(days=13), posted_at="公司公告栏")
    db.session.add(notice)
    db.session.flush()
    db.session.add(Objection(notice_id=notice.id, received_on=_today() - timedelta(days=15), body="曾有迟到",
                             resolution="经核实已改正", resolved_on=_today() - timedelta(days=12)))
    db.session.commit()
    client = _client(app, "home-secretary")
    sheet = load_workbook(io.BytesIO(client.get(f"/development/board/board.xlsx?unit={org.home.id}").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 12 and rows[1][0] == "张伟" and rows[1][2] == org.host.name
    log = client.get(f"/development/board/notices?unit={org.home.id}").get_data(as_text=True)
    assert "公司公告栏" in log and "经核实已改正" in log
    sheet = load_workbook(io.BytesIO(client.get(
        f"/development/board/notices.xlsx?unit={org.home.id}&year={_today().year}").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 8 and rows[1][0] == "张伟" and rows[1][6:] == (1, 0)
    assert client.get(f"/development/board/notices?unit={org.home.id}&year=99").status_code == 404


def test_record_pdf_is_audited_and_not_the_persons_to_print(app, db, org):
    from portal.audit.models import AuditEntry

    case = _case(db, org.member1, org.home, host=org.host)
    response = _client(app, "host-secretary").get(f"/development/board/cases/{case.id}/record.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "development.read"))
    assert (entry.target_id, entry.actor_account_id) == (str(case.id), org.host_sec.id)
    assert _client(app, "member1").get(f"/development/board/cases/{case.id}/record.pdf").status_code == 403


# -- the dashboard panels and the personal data export ------------------------------------------------------------


def test_dashboard_panels_for_secretaries_and_mentors(app, db, org):
    from portal_development.models import Mentor

    case = _case(db, org.member2, org.home, days_ago=60, stage="activist", activist_on=_today() - timedelta(days=50))
    db.session.add(Mentor(case_id=case.id, member_id=org.member1.id, place="home", not_relative=True,
                          assigned_on=_today() - timedelta(days=40)))
    db.session.commit()
    secretary = _client(app, "home-secretary").get("/dashboard").get_data(as_text=True)
    assert "/development/board/?unit=" in secretary and "李芳" in secretary  # her talk is overdue
    mentor = _client(app, "member1").get("/dashboard").get_data(as_text=True)
    assert f"/development/cases/{case.id}" in mentor and "李芳" in mentor
    assert "/development/board/" not in mentor
    nobody = _client(app, "outsider").get("/dashboard").get_data(as_text=True)
    assert "/development/cases/" not in nobody and "/development/board/" not in nobody


def test_personal_data_holds_the_case_and_its_steps_but_not_what_others_found(app, db, org):
    from portal_development import personal
    from portal_development.models import StepRecord

    case = _case(db, org.member1, org.home, host=org.host, days_ago=30)
    db.session.add_all([StepRecord(case_id=case.id, code="application", taken_on=case.applied_on, notes="书面申请"),
                        StepRecord(case_id=case.id, code="admission_vote", taken_on=_today(), notes="",
                                   data={"tally": {"yes": 9}})])
    db.session.add(Vetting(case_id=case.id, side="host", part="workplace", requested_on=_today(), due_on=_today(),
                           findings="工作认真", recorded_on=_today()))
    _case(db, org.member2, org.home)
    db.session.commit()
    sections = {section.key: section for section in personal.personal_data(org.member1)}
    (mine,) = sections["cases"].rows
    assert (mine["applied_on"], mine["unit"], mine["host_unit"], mine["stage"]) == (
        case.applied_on, org.home.name, org.host.name, "applicant")
    assert [(row["code"], row["notes"]) for row in sections["steps"].rows] == [("application", "书面申请"),
                                                                               ("admission_vote", "")]
    assert "工作认真" not in repr(sections) and "tally" not in repr(sections)

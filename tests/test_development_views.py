"""The development case pages: who sees what (GET matrix), opening a case from a written application, the case
page with the 25 steps grouped by stage (taken, next, locked with what is missing), recording a step with a
document, a refusal that names what is missing in the reader's language and keeps the typed values, mentors,
and the person's own page (write matrix: tests/test_post_matrix_development.py)."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_development.models import DevCase, Mentor, StepFile, StepRecord, Vetting
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def id_number(birth: str = "19980312", serial: str = "123") -> str:
    """A valid 18-character ID number (GB 11643 checksum) born on ``birth``."""
    body = f"110105{birth}{serial}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def today():
    return tk.local_today(tk.utcnow())


def make_case(db, member, unit, *, stage="applicant", days_ago=30, steps=(), host=None) -> DevCase:
    """A case of ``member`` kept by ``unit``, applied ``days_ago`` days ago, with ``steps`` (code, day) recorded."""
    applied = today() - timedelta(days=days_ago)
    case = DevCase(member_id=member.id, unit_id=unit.id, host_unit_id=host.id if host else None, stage=stage,
                   applied_on=applied, activist_on=applied if stage != "applicant" else None)
    db.session.add(case)
    db.session.flush()
    for code, day in (("application", applied), *steps):
        db.session.add(StepRecord(case_id=case.id, code=code, taken_on=day, data={}, unit_id=unit.id))
    db.session.commit()
    return case


def signed_in(app, username: str):
    """A fresh client signed in as ``username``."""
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def count(db, model, **where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_get_permission_matrix(app, db, org):
    case = make_case(db, org.member2, org.home, steps=[("talk", today())])
    stored = tk.store_upload("development", tk.check_upload(
        _storage("letter.pdf"), allowed=("pdf",), max_bytes=10_000))
    step = case.steps[0]
    db.session.add(StepFile(step_id=step.id, filename="letter.pdf", stored_name=stored,
                            content_type="application/pdf", size=len(PDF)))
    db.session.commit()
    file_id = db.session.scalar(select(StepFile.id))
    # the case: its branch's secretary, the committees above, admins and the person; nobody else (404)
    seen = expect(404, anonymous=302, member2=200, home_sec=200, organizer=200, admin=200)
    home_unit = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200, organizer=200,
                       admin=200)
    checked = check_matrix(app, org, {
        "development.unit": home_unit,
        "development.new_case": home_unit,
        "development.case": seen,
        "development.file": seen,
        "development.mine": expect(200, anonymous=302),
    }, blueprints={"development"}, url_values={
        "development.unit": {"unit": org.home.id}, "development.new_case": {"unit": org.home.id},
        "development.case": {"case_id": case.id}, "development.file": {"file_id": file_id},
    })
    assert checked == 5 * 9
    # without ?unit= a secretary anywhere sees their first unit; members hold the permission nowhere (403)
    anywhere = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200, admin=200)
    check_matrix(app, org, {"development.unit": anywhere, "development.new_case": anywhere,
                            "development.case": seen, "development.file": seen,
                            "development.mine": expect(200, anonymous=302)},
                 blueprints={"development"}, url_values={
                     "development.case": {"case_id": case.id}, "development.file": {"file_id": file_id}})


def _storage(name: str, data: bytes = PDF):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def test_a_secretary_opens_a_case_from_an_application(app, db, org, client):
    login(client, "home-secretary")
    day = (today() - timedelta(days=3)).isoformat()
    response = client.post(f"/development/cases/new?unit={org.home.id}", data={
        "name": "王小明", "id_number": id_number(), "phone": "13900001111", "applied_on": day,
        "household_place": "河北省保定市", "workplace": "", "host_unit_id": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.scalar(select(DevCase).order_by(DevCase.id.desc()))
    assert (case.member.name, case.unit_id, case.applied_on.isoformat(), case.stage) == (
        "王小明", org.home.id, day, "applicant")
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-step="application" data-state="taken"' in page
    assert 'data-step="talk" data-state="next"' in page
    # a later step is locked and says what is missing
    assert re.search(r'data-step="activist_decision" data-state="locked".*?data-missing="talk"', page, re.S)


def test_a_refused_new_case_keeps_the_form(app, db, org, client):
    login(client, "home-secretary")
    good = id_number()
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")  # a wrong check character
    response = client.post(f"/development/cases/new?unit={org.home.id}", data={
        "name": "王小明", "id_number": bad, "phone": "", "applied_on": today().isoformat()})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="王小明"' in page and f'value="{bad}"' in page and 'id="id_number-err"' in page
    assert count(db, DevCase) == 0


def test_recording_a_step_with_a_document(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="applicant")
    case = make_case(db, person, org.home)
    login(client, "home-secretary")
    day = (today() - timedelta(days=2)).isoformat()
    response = client.post(f"/development/cases/{case.id}/steps/talk", data={
        "talk-on": day, "talk-notes": "Talked about the party's history.",
        "talk-files": (io.BytesIO(PDF), "talk.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalar(select(StepRecord).where(StepRecord.case_id == case.id, StepRecord.code == "talk"))
    assert (record.taken_on.isoformat(), record.notes, [f.filename for f in record.files]) == (
        day, "Talked about the party's history.", ["talk.pdf"])
    page = client.get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert 'data-step="talk" data-state="taken"' in page and "talk.pdf" in page
    download = client.get(f"/development/files/{record.files[0].id}")
    assert download.status_code == 200 and download.data == PDF


def test_a_refused_step_names_what_is_missing_and_keeps_the_values(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="applicant")
    case = make_case(db, person, org.home)
    login(client, "home-secretary")
    steps_before = count(db, StepRecord)
    response = client.post(f"/development/cases/{case.id}/steps/activist_decision", data={
        "activist_decision-on": today().isoformat(), "activist_decision-notes": "Recommended by the group."})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="missing"' in page and 'data-missing="talk"' in page
    assert "Recommended by the group." in page  # the typed notes come back
    assert count(db, StepRecord) == steps_before
    db.session.expire_all()
    assert db.session.get(DevCase, case.id).stage == "applicant"


def test_a_refusal_in_chinese(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="applicant")
    case = make_case(db, person, org.home)
    login(client, "home-secretary")
    client.post("/locale", data={"locale": "zh_CN"})
    response = client.post(f"/development/cases/{case.id}/steps/activist_decision", data={
        "activist_decision-on": today().isoformat()})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'data-missing="talk"' in page and 'lang="zh' in page


def test_a_step_date_in_the_future_is_refused_under_its_field(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", stage="applicant")
    case = make_case(db, person, org.home)
    login(client, "home-secretary")
    response = client.post(f"/development/cases/{case.id}/steps/talk", data={
        "talk-on": (today() + timedelta(days=1)).isoformat(), "talk-notes": "x"})
    assert response.status_code == 422
    assert 'id="talk-on-err"' in response.get_data(as_text=True)


def test_the_committee_step_is_not_the_branchs(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", stage="activist")
    case = make_case(db, person, org.home, stage="activist", steps=[("talk", today()),
                                                                    ("activist_decision", today())])
    login(client, "home-secretary")
    page = client.get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert 'action="/development/cases/%d/steps/activist_filing"' % case.id not in page
    response = client.post(f"/development/cases/{case.id}/steps/activist_filing", data={
        "activist_filing-on": today().isoformat()})
    assert response.status_code == 403
    page = signed_in(app, "organizer").get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert 'action="/development/cases/%d/steps/activist_filing"' % case.id in page


def test_assigning_a_mentor_and_the_mentors_page(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="activist")
    case = make_case(db, person, org.home, stage="activist", steps=[("talk", today()),
                                                                    ("activist_decision", today())])
    login(client, "home-secretary")
    response = client.post(f"/development/cases/{case.id}/mentors", data={
        "member_id": str(org.member2.id), "place": "home", "on": today().isoformat(), "not_relative": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(db, Mentor, case_id=case.id) == 1
    refused = client.post(f"/development/cases/{case.id}/mentors", data={
        "member_id": str(org.member1.id), "place": "work", "on": today().isoformat()})
    assert refused.status_code == 422 and count(db, Mentor, case_id=case.id) == 1
    mentor = signed_in(app, "member2")
    mine = mentor.get("/development/mine").get_data(as_text=True)
    assert f'id="case-{case.id}"' in mine and "赵敏" in mine
    assert mentor.get(f"/development/cases/{case.id}").status_code == 200


def test_the_person_sees_their_progress_but_not_the_vetting(app, db, org, client):
    case = make_case(db, org.member2, org.home, stage="activist", steps=[("talk", today())], host=org.host)
    db.session.add(Vetting(case_id=case.id, side="host", part="workplace", requested_on=today(),
                           due_on=today() + timedelta(days=30), findings="Secret findings", recorded_on=today()))
    db.session.commit()
    login(client, "member2")
    mine = client.get("/development/mine").get_data(as_text=True)
    assert 'data-step="talk" data-state="taken"' in mine
    page = client.get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert "Secret findings" not in page and "/steps/" not in page
    assert "Secret findings" in signed_in(app, "host-secretary").get(f"/development/cases/{case.id}").get_data(as_text=True)


def test_the_unit_list_covers_the_subtree_and_people_working_there(app, db, org, client, factory):
    here = make_case(db, factory.member(org.home, "a1", name="甲", stage="applicant"), org.home)
    away = make_case(db, factory.member(org.foreign, "a2", name="乙", stage="applicant"), org.foreign, host=org.host)
    login(client, "organizer")
    page = client.get(f"/development/?unit={org.township.id}").get_data(as_text=True)
    assert f'id="case-{here.id}"' in page and f'id="case-{away.id}"' in page
    page = client.get(f"/development/?unit={org.home.id}").get_data(as_text=True)
    assert f'id="case-{here.id}"' in page and f'id="case-{away.id}"' not in page
    page = signed_in(app, "host-secretary").get(f"/development/?unit={org.host.id}").get_data(as_text=True)
    assert f'id="case-{away.id}"' in page and f'id="case-{here.id}"' not in page


def test_a_training_step_carries_its_hours_and_a_bad_count_is_refused_under_its_field(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", stage="candidate")
    case = make_case(db, person, org.home, stage="candidate", steps=[("talk", today()),
                                                                     ("candidate_decision", today())])
    login(client, "home-secretary")
    refused = client.post(f"/development/cases/{case.id}/steps/training", data={
        "training-on": today().isoformat(), "training-hours": "many"})
    assert refused.status_code == 422 and 'id="training-hours-err"' in refused.get_data(as_text=True)
    assert count(db, StepRecord, case_id=case.id, code="training") == 0
    response = client.post(f"/development/cases/{case.id}/steps/training", data={
        "training-on": today().isoformat(), "training-hours": "8", "training-notes": "County party school"})
    assert response.status_code == 302
    assert db.session.scalar(select(StepRecord.data).where(StepRecord.case_id == case.id,
                                                           StepRecord.code == "training")) == {"hours": 8}
    page = client.get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert "8 hours" in page and 'data-step="training" data-state="next"' in page  # repeatable


def test_a_tally_that_does_not_add_up_is_refused_under_its_fields(app, db, org, client, factory):
    person = factory.member(org.home, "applicant1", stage="candidate")
    case = make_case(db, person, org.home, stage="candidate", steps=[("talk", today())])
    login(client, "home-secretary")
    tally = {"entitled": "10", "present": "12", "by_video": "0", "ballots_issued": "9", "ballots_returned": "9",
             "yes": "9", "no": "0", "abstain": "0"}
    response = client.post(f"/development/cases/{case.id}/steps/admission_vote", data={
        "admission_vote-on": today().isoformat(), **{f"admission_vote-{k}": v for k, v in tally.items()}})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="admission_vote-present-err"' in page and 'value="12"' in page
    assert count(db, StepRecord, case_id=case.id, code="admission_vote") == 0

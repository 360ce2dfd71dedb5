"""The development API: the contract's paths, fields and status codes (201/200, 409 naming each unmet
requirement, 422 bad fields, 404 outside scope, 403 on one's own case, 401 without a token), the step codes
as an enum in the OpenAPI document, and every GET route × every role (writes:
tests/test_post_matrix_development_api.py)."""
from __future__ import annotations

import io
from datetime import date
from itertools import count

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal.org.validation import id_number_check_digit
from portal_development import cases
from portal_development.models import DevCase, StepFile, StepRecord
from portal_development.vocabulary import STEP_CODES
from tests.conftest import api_token
from tests.helpers.permission_matrix import check_matrix, expect

BASE = "/api/v1/development"
_serial = count(1)


def id_number(born: date = date(1995, 3, 12)) -> str:
    """A fresh valid national ID number (GB 11643) of someone born on ``born``."""
    first = f"360822{born:%Y%m%d}{next(_serial) % 1000:03d}"
    return first + id_number_check_digit(first)


def _post(client, url: str, headers: dict, body: dict):
    return client.post(BASE + url, json=body, headers=headers)


def _open(client, headers: dict, unit, *, applied_on: str = "2025-06-02", **extra) -> dict:
    body = {"unit_id": unit.id, "applied_on": applied_on,
            "person": {"name": "陈静", "id_number": id_number(), "phone": "13912345678"}, **extra}
    response = _post(client, "/cases", headers, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _missing(response) -> list[str]:
    error = response.get_json()["error"]
    assert error["message"] and all(item["message"] for item in error["missing"])
    return [item["code"] for item in error["missing"]]


def _step(client, headers, case_id: int, step: str, on: str, **extra):
    return _post(client, f"/cases/{case_id}/steps", headers, {"step": step, "on": on, "notes": "", **extra})


def test_open_case_for_a_new_person_answers_201_and_creates_the_member(app, db, client, org):
    sec = api_token(client, "home-secretary")
    body = _open(client, sec, org.home, household_place="江西省吉安市东岭村", workplace="深圳某电子厂")
    assert body["stage"] == "applicant" and body["id"]
    case = db.session.get(DevCase, body["id"])
    assert case.member.stage == "applicant" and case.member.home_unit_id == org.home.id
    shown = client.get(f"{BASE}/cases/{body['id']}", headers=sec).get_json()
    assert shown["person"] == {"name": "陈静", "member_id": case.member_id}
    assert shown["applied_on"] == "2025-06-02" and shown["outcome"] is None and shown["unit_id"] == org.home.id
    assert [(s["number"], s["code"], s["on"]) for s in shown["steps"]] == [(1, "application", "2025-06-02")]
    assert {"kind": "talk", "due_on": "2025-07-02", "side": "branch", "overdue": True}.items() <= \
        shown["deadlines"][0].items()


def test_open_case_refuses_bad_fields_scope_and_tokens(app, db, client, org):
    sec = api_token(client, "home-secretary")
    person = {"name": "陈静", "id_number": id_number(), "phone": "13912345678"}
    bad_day = _post(client, "/cases", sec, {"unit_id": org.home.id, "applied_on": "2025-13-01", "person": person})
    assert bad_day.status_code == 422 and "applied_on" in bad_day.get_json()["error"]["fields"]
    bad_id = _post(client, "/cases", sec, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                            "person": {**person, "id_number": person["id_number"][:17] + "0"
                                                       if person["id_number"][17] != "0" else "1"}})
    assert bad_id.status_code == 422 and "id_number" in bad_id.get_json()["error"]["fields"]
    young = _post(client, "/cases", sec, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                          "person": {**person, "id_number": id_number(date(2010, 1, 1))}})
    assert young.status_code == 422 and "applied_on" in young.get_json()["error"]["fields"]
    foreign = api_token(client, "foreign-secretary")
    assert _post(client, "/cases", foreign, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                             "person": person}).status_code == 404
    assert _post(client, "/cases", {}, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                        "person": person}).status_code == 401
    assert db.session.query(DevCase).count() == 0


def test_a_secretary_cannot_open_or_take_steps_on_their_own_case(app, db, client, org):
    sec = api_token(client, "home-secretary")
    own = org.home_sec.member
    own.stage = "applicant"
    db.session.commit()
    assert _post(client, "/cases", sec, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                         "member_id": own.id}).status_code == 403
    organizer = api_token(client, "organizer")
    case = _post(client, "/cases", organizer, {"unit_id": org.home.id, "applied_on": "2025-06-02",
                                               "member_id": own.id})
    assert case.status_code == 201
    case_id = case.get_json()["id"]
    assert _step(client, sec, case_id, "talk", "2025-06-10").status_code == 403
    assert _post(client, f"/cases/{case_id}/advance", sec, {"to": "activist", "on": "2025-07-01"}).status_code == 403
    tally = {"entitled": 9, "present": 8, "yes": 7}
    cases.write_step(db.session.get(DevCase, case_id), "admission_vote", date(2025, 6, 20), actor=None,
                     data={"tally": tally})
    db.session.commit()
    own_view = client.get(f"{BASE}/cases/{case_id}", headers=sec)
    assert own_view.status_code == 200 and own_view.get_json()["stage"] == "applicant"
    assert own_view.get_json()["steps"][-1]["data"] == {}  # the person does not see the tally
    assert client.get(f"{BASE}/cases/{case_id}", headers=organizer).get_json()["steps"][-1]["data"] == {
        "tally": tally}
    assert client.get(f"{BASE}/cases/{case_id}/record.pdf", headers=sec).status_code == 403


def test_steps_and_advance_answer_409_naming_each_missing_requirement(app, db, client, org):
    sec = api_token(client, "home-secretary")
    case_id = _open(client, sec, org.home)["id"]
    early = _post(client, f"/cases/{case_id}/advance", sec, {"to": "activist", "on": "2025-07-01"})
    assert early.status_code == 409 and _missing(early) == ["talk"]
    assert _missing(_step(client, sec, case_id, "candidate_decision", "2025-07-01")) == [
        "activist_filing", "mentors_assigned", "assessment"]
    skipped = _post(client, f"/cases/{case_id}/advance", sec, {"to": "candidate", "on": "2025-07-01"})
    assert skipped.status_code == 409 and _missing(skipped) == ["stage_order"]
    talk = _step(client, sec, case_id, "talk", "2025-06-10", notes="Motivated")
    assert talk.status_code == 201
    assert {"step": "talk", "on": "2025-06-10", "notes": "Motivated"}.items() <= talk.get_json().items()
    assert _step(client, sec, case_id, "talk", "2025-06-11").status_code == 409  # once only
    moved = _post(client, f"/cases/{case_id}/advance", sec, {"to": "activist", "on": "2025-07-01"})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "activist"
    assert moved.get_json()["activist_on"] == "2025-07-01"


def test_bad_fields_answer_422(app, db, client, org):
    sec = api_token(client, "home-secretary")
    case_id = _open(client, sec, org.home)["id"]
    unknown = _step(client, sec, case_id, "coffee", "2025-06-10")
    assert unknown.status_code == 422 and "step" in unknown.get_json()["error"]["fields"]
    bad_day = _step(client, sec, case_id, "talk", "10/06/2025")
    assert bad_day.status_code == 422 and "on" in bad_day.get_json()["error"]["fields"]
    future = _step(client, sec, case_id, "talk", "2999-01-01")
    assert future.status_code == 422 and "on" in future.get_json()["error"]["fields"]
    stage = _post(client, f"/cases/{case_id}/advance", sec, {"to": "president", "on": "2025-07-01"})
    assert stage.status_code == 422 and "to" in stage.get_json()["error"]["fields"]
    extra = _post(client, f"/cases/{case_id}/steps", sec, {"step": "talk", "on": "2025-06-10", "x": 1})
    assert extra.status_code == 422 and extra.get_json()["error"]["code"] == "unknown_fields"
    flag = _post(client, f"/cases/{case_id}/advance", sec, {"to": "activist", "on": "2025-07-01", "special": "yes"})
    assert flag.status_code == 422 and "special" in flag.get_json()["error"]["fields"]
    assert [s.code for s in db.session.get(DevCase, case_id).steps] == ["application"]


def test_a_year_as_activist_before_becoming_a_candidate_at_its_boundary(app, db, client, org):
    sec, organizer = api_token(client, "home-secretary"), api_token(client, "organizer")
    case_id = _open(client, sec, org.home)["id"]
    assert _step(client, sec, case_id, "talk", "2025-06-10").status_code == 201
    assert _post(client, f"/cases/{case_id}/advance", sec, {"to": "activist", "on": "2025-07-01"}).status_code == 200
    assert _step(client, sec, case_id, "activist_filing", "2025-07-05").status_code == 403  # the committee's step
    assert _step(client, organizer, case_id, "activist_filing", "2025-07-05").status_code == 201
    mentor = _post(client, f"/cases/{case_id}/mentors", sec, {"member_id": org.member2.id, "place": "home",
                                                              "on": "2025-07-02", "not_relative": True})
    assert mentor.status_code == 201 and mentor.get_json()["member_id"] == org.member2.id
    for day in ("2025-12-20", "2026-06-20"):
        assert _step(client, sec, case_id, "assessment", day).status_code == 201
    early = _post(client, f"/cases/{case_id}/advance", sec, {"to": "candidate", "on": "2026-06-30"})
    assert early.status_code == 409 and _missing(early) == ["activist_months"]
    assert "2026" in early.get_json()["error"]["missing"][0]["message"]
    moved = _post(client, f"/cases/{case_id}/advance", sec, {"to": "candidate", "on": "2026-07-01"})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "candidate"
    shown = client.get(f"{BASE}/cases/{case_id}", headers=sec).get_json()
    assert shown["mentors"] == [{**shown["mentors"][0], "member_id": org.member2.id, "place": "home",
                                 "name": org.member2.name}]
    assert [s["code"] for s in shown["steps"]] == ["application", "talk", "activist_decision", "mentors_assigned",
                                                   "activist_filing", "assessment", "assessment",
                                                   "candidate_decision"]
    assert [s["number"] for s in shown["steps"]] == [1, 2, 3, 5, 4, 6, 6, 7]


def test_outside_scope_is_404_and_reads_are_audited(app, db, client, org):
    sec = api_token(client, "home-secretary")
    case_id = _open(client, sec, org.home)["id"]
    foreign = api_token(client, "foreign-secretary")
    assert client.get(f"{BASE}/cases/{case_id}", headers=foreign).status_code == 404
    assert _step(client, foreign, case_id, "talk", "2025-06-10").status_code == 404
    assert client.get(f"{BASE}/cases/{case_id}/record.pdf", headers=foreign).status_code == 404
    assert client.get(f"{BASE}/cases/999999", headers=sec).status_code == 404
    assert client.get(f"{BASE}/cases/{case_id}").status_code == 401
    def reads() -> list[tuple]:
        return [(e.actor_account_id, e.target_id) for e in db.session.query(AuditEntry).filter_by(
            action="development.read")]

    before = reads()
    assert client.get(f"{BASE}/cases/{case_id}", headers=sec).status_code == 200
    pdf = client.get(f"{BASE}/cases/{case_id}/record.pdf", headers=sec)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert reads() == before + [(org.home_sec.id, str(case_id))] * 2


def test_two_place_vetting_notices_and_objections(app, db, client, org):
    home, host = api_token(client, "home-secretary"), api_token(client, "host-secretary")
    case_id = _open(client, home, org.home, host_unit_id=org.host.id)["id"]
    assert client.get(f"{BASE}/cases/{case_id}", headers=host).get_json()["host_unit_id"] == org.host.id
    wrong = _post(client, f"/cases/{case_id}/vetting", home, {"side": "host", "parts": ["relatives"],
                                                              "on": "2025-07-01"})
    assert wrong.status_code == 422 and "parts" in wrong.get_json()["error"]["fields"]
    asked = _post(client, f"/cases/{case_id}/vetting", home, {"side": "host", "parts": ["workplace", "person"],
                                                              "on": "2025-07-01"})
    assert asked.status_code == 201
    rows = asked.get_json()["vetting"]
    assert [(r["side"], r["part"], r["due_on"], r["findings"]) for r in rows] == [
        ("host", "workplace", "2025-07-31", None), ("host", "person", "2025-07-31", None)]
    board = client.get(f"{BASE}/board?unit={org.host.id}", headers=host).get_json()
    assert {(w["case_id"], w["kind"], w["side"]) for w in board["waiting"]} == {(case_id, "vetting", "host")}
    assert _post(client, f"/vetting/{rows[0]['id']}", home, {"findings": "Works well", "on": "2025-07-10"}) \
        .status_code == 403  # the host side's part
    done = _post(client, f"/vetting/{rows[0]['id']}", host, {"findings": "Works well", "on": "2025-07-10"})
    assert done.status_code == 200 and done.get_json()["recorded_on"] == "2025-07-10"
    early = _post(client, f"/cases/{case_id}/notices", home, {"place": "home", "starts_on": "2025-08-04"})
    assert early.status_code == 409 and "committee_prereview" in _missing(early)
    case = db.session.get(DevCase, case_id)
    cases.write_step(case, "committee_prereview", date(2025, 8, 1), actor=None)
    db.session.commit()
    notice = _post(client, f"/cases/{case_id}/notices", home, {"place": "home", "starts_on": "2025-08-04"})
    assert notice.status_code == 201
    assert (notice.get_json()["starts_on"], notice.get_json()["ends_on"]) == ("2025-08-04", "2025-08-08")
    objection = _post(client, f"/notices/{notice.get_json()['id']}/objections", home,
                      {"received_on": "2025-08-05", "body": "He owes wages"})
    assert objection.status_code == 201 and objection.get_json()["resolution"] is None
    assert _post(client, f"/notices/{notice.get_json()['id']}/objections", host,
                 {"received_on": "2025-08-05", "body": "x"}).status_code == 403  # the home place's notice
    resolved = _post(client, f"/objections/{objection.get_json()['id']}/resolve", home,
                     {"resolution": "Checked: paid in full", "on": "2025-08-07"})
    assert resolved.status_code == 200 and resolved.get_json()["resolved_on"] == "2025-08-07"


def test_close_and_transfer_keep_the_clock(app, db, client, org):
    sec = api_token(client, "home-secretary")
    case_id = _open(client, sec, org.home)["id"]
    assert _post(client, f"/cases/{case_id}/transfer", sec, {"unit_id": org.township.id, "on": "2025-06-05",
                                                             "reason": "Moved"}).status_code == 422
    moved = _post(client, f"/cases/{case_id}/transfer", sec, {"unit_id": org.foreign.id, "on": "2025-06-05",
                                                              "reason": "Moved to Stone Bridge"})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body["unit_id"] == org.foreign.id and body["applied_on"] == "2025-06-02"
    assert body["deadlines"][0]["due_on"] == "2025-07-02"  # the talk's month still runs from the application
    assert client.get(f"{BASE}/cases/{case_id}", headers=sec).status_code == 404
    foreign = api_token(client, "foreign-secretary")
    assert _post(client, f"/cases/{case_id}/close", foreign, {"outcome": "full", "on": "2025-06-20",
                                                              "reason": "x"}).status_code == 422
    assert _post(client, f"/cases/{case_id}/close", foreign, {"outcome": "withdrawn", "on": "2025-06-20",
                                                              "reason": ""}).status_code == 422
    closed = _post(client, f"/cases/{case_id}/close", foreign, {"outcome": "withdrawn", "on": "2025-06-20",
                                                                "reason": "Withdrew the application"})
    assert closed.status_code == 200
    assert (closed.get_json()["outcome"], closed.get_json()["closed_on"]) == ("withdrawn", "2025-06-20")
    assert closed.get_json()["deadlines"] == []


def test_board_counts_stages_and_overdue_items(app, db, client, org):
    sec = api_token(client, "home-secretary")
    first = _open(client, sec, org.home)["id"]
    second = _open(client, sec, org.home, applied_on="2025-05-02")["id"]
    assert _step(client, sec, second, "talk", "2025-05-10").status_code == 201
    assert _post(client, f"/cases/{second}/advance", sec, {"to": "activist", "on": "2025-06-01"}).status_code == 200
    board = client.get(f"{BASE}/board?unit={org.township.id}", headers=api_token(client, "organizer"))
    assert board.status_code == 200
    body = board.get_json()
    assert body["unit_id"] == org.township.id
    assert body["stages"] == {"applicant": 1, "activist": 1, "candidate": 0, "probationary": 0, "full": 0}
    assert {"case_id": first, "kind": "talk", "due_on": "2025-07-02", "side": "branch"}.items() <= \
        next(item for item in body["overdue"] if item["case_id"] == first).items()
    listed = client.get(f"{BASE}/cases?unit={org.home.id}", headers=sec).get_json()["cases"]
    assert sorted(row["id"] for row in listed) == sorted([first, second])
    assert client.get(f"{BASE}/board?unit={org.home.id}", headers=api_token(client, "foreign-secretary")) \
        .status_code == 404
    assert client.get(f"{BASE}/board?unit=x", headers=sec).status_code == 422


def test_the_openapi_document_lists_the_step_codes_as_an_enum(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    body = paths[f"{BASE}/cases/{{case_id}}/steps"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["step"]["enum"] == list(STEP_CODES) and len(STEP_CODES) == 25
    advance = paths[f"{BASE}/cases/{{case_id}}/advance"]["post"]
    assert advance["requestBody"]["content"]["application/json"]["schema"]["properties"]["to"]["enum"] == [
        "activist", "candidate", "probationary", "full"]
    assert "409" in advance["responses"] and "missing" in str(advance["responses"]["409"])
    for path in ("/cases", "/cases/{case_id}", "/cases/{case_id}/record.pdf", "/board"):
        assert BASE + path in paths


def _member2_case(org) -> DevCase:
    case = DevCase(member_id=org.member2.id, unit_id=org.home.id, applied_on=date(2025, 6, 2), stage="applicant")
    tk.db.session.add(case)
    tk.db.session.flush()
    tk.db.session.add(StepRecord(case_id=case.id, code="application", taken_on=date(2025, 6, 2), unit_id=org.home.id))
    tk.db.session.commit()
    return case


def test_every_get_route_as_every_role(app, db, org):
    case = _member2_case(org)
    stored = tk.store_upload("development", tk.check_upload(
        FileStorage(io.BytesIO(b"%PDF-1.4 letter"), filename="letter.pdf"), allowed=("pdf",), max_bytes=10_000))
    tk.db.session.add(StepFile(step_id=case.steps[0].id, filename="letter.pdf", stored_name=stored,
                               content_type="application/pdf", size=15))
    tk.db.session.commit()
    seen = expect(404, anonymous=401, member2=200, home_sec=200, organizer=200, admin=200)
    keepers = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "development_api.list_cases": keepers,
        "development_api.board_counts": keepers,
        "development_api.get_case": seen,
        "development_api.record_pdf": expect(404, anonymous=401, member2=403, home_sec=200, organizer=200, admin=200),
        # issue 21: one's own page (every account: no case is null) and a step's document (as the case)
        "development_api.mine": expect(200, anonymous=401),
        "development_api.file": seen,
    }, blueprints={"development_api"}, url_values={
        "development_api.list_cases": lambda org: {"unit": org.home.id},
        "development_api.board_counts": lambda org: {"unit": org.home.id},
        "development_api.get_case": {"case_id": case.id},
        "development_api.record_pdf": {"case_id": case.id},
        "development_api.file": lambda org: {"file_id": tk.db.session.scalar(select(StepFile.id))},
    })
    assert checked == 6 * 9


def test_concurrent_openings_for_one_newcomer_make_one_case_and_one_member(app, db, org):
    """Ten requests at once for the same person (real HTTP, threads): one 201, the rest 409; one member record."""
    import json
    import threading
    import urllib.error
    import urllib.request

    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from tests.helpers.development import id_number

    number = id_number(date(1996, 5, 4), "377")
    headers = {**api_token(app.test_client(), "home-secretary"), "Content-Type": "application/json"}
    body = json.dumps({"unit_id": org.home.id, "applied_on": "2026-09-01",
                       "person": {"name": "并发申请人", "id_number": number, "phone": ""}}).encode()
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def post() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/v1/development/cases",
                                         data=body, headers=headers, method="POST")
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    try:
        workers = [threading.Thread(target=post) for _ in range(10)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        server.shutdown()
        thread.join()
    db.session.expire_all()
    assert sorted(statuses) == [201] + [409] * 9
    assert db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.id_number == number)) == 1
    assert db.session.scalar(select(func.count(DevCase.id)).join(tk.Member, tk.Member.id == DevCase.member_id)
                             .where(tk.Member.id_number == number)) == 1

"""Every write route of the development API × every role (reads: tests/test_development_api.py).

A case kept by the home branch: its secretary, and the organizer and admins above it, open cases and record
the branch's steps, mentors, vetting requests, notices and objections, close and transfer. A case of someone
working away is also the host branch's: its secretary asks for vetting and records the host side's findings,
which the home branch's secretary may not (403). Nobody acts on their own case: member2 gets 403 on theirs.
Everyone else gets 404, anonymous callers 401. Each role acts on a fresh case; a refused request leaves the
whole database as it was.
"""
from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy import update

from portal import toolkit as tk
from portal_development import cases, notices, vetting
from portal_development.models import DevCase, StepRecord
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect
from tests.test_development_api import id_number

BLUEPRINTS = {"development_api"}
APPLIED = date(2025, 6, 2)
_serial = count(1)


def _keepers(status: int, **more: int) -> dict:
    return expect(404, **{"anonymous": 401, "home_sec": status, "organizer": status, "admin": status, **more})


def _case(org, *steps: tuple[str, date], stage: str = "applicant", host=None) -> DevCase:
    """A fresh applicant's case in the home branch with ``steps`` written (no checks)."""
    member = Factory(tk.db).member(org.home, f"applicant{next(_serial)}", stage="applicant", joined_on=None)
    case = cases.open_case(org.home, APPLIED, actor=None, member=member, host_unit=host)
    for code, on in steps:
        cases.write_step(case, code, on, actor=None)
    case.stage = stage
    case.activist_on = dict(steps).get("activist_decision")
    tk.db.session.flush()
    return case


def _fresh(org) -> dict:
    return {"case_id": _case(org).id}


def _member2(org) -> dict:
    """A fresh case of member2 (whose account is in the matrix): the earlier one is closed first."""
    tk.db.session.execute(update(DevCase).where(DevCase.member_id == org.member2.id, DevCase.closed_on.is_(None))
                          .values(closed_on=APPLIED, outcome="withdrawn"))
    case = DevCase(member_id=org.member2.id, unit_id=org.home.id, applied_on=APPLIED, stage="applicant")
    tk.db.session.add(case)
    tk.db.session.flush()
    tk.db.session.add(StepRecord(case_id=case.id, code="application", taken_on=APPLIED, unit_id=org.home.id))
    return {"case_id": case.id}


def _talked(org) -> dict:
    return {"case_id": _case(org, ("talk", date(2025, 6, 10))).id}


def _activist(org) -> dict:
    return {"case_id": _case(org, ("talk", date(2025, 6, 10)), ("activist_decision", date(2025, 7, 1)),
                             stage="activist").id}


def _away(org) -> dict:
    return {"case_id": _case(org, host=org.host).id}


def _host_vetting(org) -> dict:
    case = _case(org, host=org.host)
    return {"vetting_id": vetting.request(case, "host", ["workplace"], actor=None, on=date(2025, 7, 1))[0].id}


def _prereviewed(org) -> DevCase:
    return _case(org, ("committee_prereview", date(2025, 8, 1)), stage="candidate")


def _notice(org) -> dict:
    return {"notice_id": notices.open_notice(_prereviewed(org), "home", date(2025, 8, 4), actor=None).id}


def _objection(org) -> dict:
    notice = notices.open_notice(_prereviewed(org), "home", date(2025, 8, 4), actor=None)
    return {"objection_id": notices.add_objection(notice, date(2025, 8, 5), "He owes wages", actor=None).id}


def _person(_org, _values) -> dict:
    return {"unit_id": _org.home.id, "applied_on": "2025-06-02",
            "person": {"name": "陈静", "id_number": id_number(), "phone": ""}}


TALK = {"step": "talk", "on": "2025-06-10", "notes": "Motivated"}
CASES = [
    PostCase("development_api.open_case", _keepers(201), data=_person, json=True),
    PostCase("development_api.record_step", _keepers(201), _fresh, TALK, json=True),
    PostCase("development_api.record_step", _keepers(201, member2=403), _member2, TALK, json=True),
    PostCase("development_api.advance", _keepers(200), _talked, {"to": "activist", "on": "2025-07-01"}, json=True),
    PostCase("development_api.close", _keepers(200), _fresh,
             {"outcome": "withdrawn", "on": "2025-06-20", "reason": "Withdrew"}, json=True),
    PostCase("development_api.transfer", _keepers(200), _fresh,
             lambda org, _v: {"unit_id": org.foreign.id, "on": "2025-06-20", "reason": "Moved"}, json=True),
    PostCase("development_api.assign_mentor", _keepers(201), _activist,
             lambda org, _v: {"member_id": org.member2.id, "place": "home", "on": "2025-07-02",
                              "not_relative": True}, json=True),
    PostCase("development_api.request_vetting", _keepers(201, host_sec=201), _away,
             {"side": "host", "parts": ["workplace", "community"], "on": "2025-07-01"}, json=True),
    PostCase("development_api.record_vetting", _keepers(200, home_sec=403, host_sec=200), _host_vetting,
             {"findings": "Works well, no complaints", "on": "2025-07-10"}, json=True),
    PostCase("development_api.open_notice", _keepers(201), lambda org: {"case_id": _prereviewed(org).id},
             {"place": "home", "starts_on": "2025-08-04"}, json=True),
    PostCase("development_api.add_objection", _keepers(201), _notice,
             {"received_on": "2025-08-05", "body": "He owes wages"}, json=True),
    PostCase("development_api.resolve_objection", _keepers(200), _objection,
             {"resolution": "Checked: paid in full", "on": "2025-08-07"}, json=True),
]


def test_every_development_api_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_development_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Every write route of the development case pages × every role (GET routes: tests/test_development_views.py).

The person is member2 (a case kept by the home branch): the home branch's secretary, the organizer above it and
admins record steps, mentors, notices, transfers and closing; member2 sees the case but acts on nothing of their
own (403); every other account gets 404. Two-place vetting of a person working at the host branch: either branch
asks, the side asked (the host branch) records its findings and the home branch gets 403 there. An active mentor
(member1) sees the case but does not end a mentor's assignment (403). Opening a case needs the permission on the
unit. Each role acts on a fresh target; a refused request leaves the database as it was.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import update

from portal import toolkit as tk
from portal_development.models import DevCase, Mentor, Objection, PublicNotice, StepRecord, Vetting
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect
from tests.test_development_views import id_number

BLUEPRINTS = {"development"}
BRANCH = expect(404, anonymous=302, member2=403, home_sec=302, organizer=302, admin=302)
EITHER_BRANCH = expect(404, anonymous=302, member2=403, home_sec=302, host_sec=302, organizer=302, admin=302)
HOST_SIDE = expect(404, anonymous=302, member2=403, home_sec=403, host_sec=302, organizer=302, admin=302)
MENTOR_SEES = expect(404, anonymous=302, member1=403, member2=403, home_sec=302, organizer=302, admin=302)
UNIT = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=302, organizer=302, admin=302)
_serials = itertools.count(100)


def _day(days: int = 0) -> str:
    return (tk.local_today(tk.utcnow()) + timedelta(days=days)).isoformat()


def _case(org, *, stage: str = "applicant", steps: tuple[str, ...] = (), host: bool = False) -> DevCase:
    """A fresh open case of member2 kept by the home branch (their earlier open case closed first)."""
    tk.db.session.execute(update(DevCase).where(DevCase.member_id == org.member2.id, DevCase.closed_on.is_(None))
                          .values(closed_on=tk.local_today(tk.utcnow()), outcome="withdrawn"))
    applied = tk.local_today(tk.utcnow()) - timedelta(days=60)
    case = DevCase(member_id=org.member2.id, unit_id=org.home.id, host_unit_id=org.host.id if host else None,
                   stage=stage, applied_on=applied, activist_on=applied if stage != "applicant" else None)
    tk.db.session.add(case)
    tk.db.session.flush()
    for code in ("application", *steps):
        tk.db.session.add(StepRecord(case_id=case.id, code=code, taken_on=applied, data={}, unit_id=org.home.id))
    tk.db.session.flush()
    return case


def _applicant(org) -> dict:
    return {"case_id": _case(org).id}


def _activist(org) -> dict:
    return {"case_id": _case(org, stage="activist", steps=("talk", "activist_decision")).id}


def _away_candidate(org) -> dict:
    return {"case_id": _case(org, stage="candidate", host=True).id}


def _mentor(org) -> dict:
    case = _case(org, stage="activist", steps=("talk", "activist_decision", "mentors_assigned"))
    mentor = Mentor(case_id=case.id, member_id=org.member1.id, place="home", not_relative=True,
                    assigned_on=case.applied_on)
    tk.db.session.add(mentor)
    tk.db.session.flush()
    return {"mentor_id": mentor.id}


def _asked(org) -> dict:
    case = _case(org, stage="candidate", host=True)
    part = Vetting(case_id=case.id, side="host", part="workplace", requested_on=case.applied_on,
                   due_on=case.applied_on + timedelta(days=30))
    tk.db.session.add(part)
    tk.db.session.flush()
    return {"vetting_id": part.id}


def _prereviewed(org) -> dict:
    return {"case_id": _case(org, stage="candidate", steps=("committee_prereview",)).id}


def _notice(org) -> PublicNotice:
    case = _case(org, stage="candidate", steps=("committee_prereview",))
    start = tk.local_today(tk.utcnow()) - timedelta(days=3)
    notice = PublicNotice(case_id=case.id, place="home", starts_on=start, ends_on=start + timedelta(days=7))
    tk.db.session.add(notice)
    tk.db.session.flush()
    return notice


def _objection(org) -> dict:
    objection = Objection(notice_id=_notice(org).id, received_on=tk.local_today(tk.utcnow()) - timedelta(days=1),
                          body="He owes money.")
    tk.db.session.add(objection)
    tk.db.session.flush()
    return {"objection_id": objection.id}


def _new_person(_org, _values) -> dict:
    return {"name": "王小明", "id_number": id_number(serial=str(next(_serials))), "phone": "",
            "applied_on": _day(-1), "household_place": "", "workplace": "", "host_unit_id": ""}


CASES = [
    PostCase("development.new_case", UNIT, lambda org: {"unit": org.home.id}, _new_person),
    PostCase("development.record_step", BRANCH, lambda org: {**_applicant(org), "code": "talk"},
             {"talk-on": _day(), "talk-notes": "Talked about the party's history."}),
    PostCase("development.assign_mentor", BRANCH, _activist,
             lambda org, _v: {"member_id": str(org.member1.id), "place": "home", "on": _day(), "not_relative": "y"}),
    PostCase("development.end_mentor", MENTOR_SEES, _mentor, {"on": _day()}),
    PostCase("development.request_vetting", EITHER_BRANCH, _away_candidate,
             {"side": "host", "parts": ["workplace", "person"], "on": _day()}),
    PostCase("development.record_findings", HOST_SIDE, _asked,
             lambda _o, v: {f"v{v['vetting_id']}-findings": "Works well.", f"v{v['vetting_id']}-on": _day()}),
    PostCase("development.open_notice", BRANCH, _prereviewed,
             {"place": "home", "starts_on": _day(), "ends_on": "", "posted_at": "Village notice board"}),
    PostCase("development.add_objection", BRANCH, lambda org: {"notice_id": _notice(org).id},
             lambda _o, v: {f"n{v['notice_id']}-received_on": _day(), f"n{v['notice_id']}-body": "He owes money."}),
    PostCase("development.resolve_objection", BRANCH, _objection,
             lambda _o, v: {f"o{v['objection_id']}-resolution": "Paid back.", f"o{v['objection_id']}-on": _day()}),
    PostCase("development.transfer", BRANCH, _applicant,
             lambda org, _v: {"unit_id": str(org.foreign.id), "on": _day(), "reason": "Moved to the next village."}),
    PostCase("development.close", BRANCH, _applicant, {"outcome": "withdrawn", "on": _day(), "reason": "Moved away."}),
]


def test_every_development_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_development_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9

"""Acting on one's own record: one rule (``tk.require_acting_on``) for every plugin, POST route × every role.

The home secretary is also a member of the home branch. Deciding on that
member record — approving their own outflow, check-in, transfer or identity,
reviewing their own certificate, awarding or reversing their own points,
editing their own stage or contact person, logging a contact with themself,
accepting or assigning their own care request or wish, grading their own
essay — is refused with 403 and changes nothing; another secretary (the
organizer, an admin) may do it. A refused request of another role (404 out
of scope) changes nothing either. Admins cannot lock themselves out (their
own account's active flag), and reset their own password on the password
page. Every other write route × every role: tests/test_post_matrix_*.py.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.org.models import RoleAssignment
from portal_care import filing, microwishes
from portal_care.models import CareRequest
from portal_mobility import checkins, outflows, transfers
from portal_mobility.models import CheckIn, Outflow, Transfer
from portal_points import services as points
from portal_points.models import PointsEntry
from portal_quizzes import services as quizzes
from portal_quizzes.models import Response
from tests.helpers.permission_matrix import PostCase, check_post_matrix, expect
from tests.test_quizzes_helpers import NOW, by_name, make_quiz

OUTFLOW = {"destination_province": "广东省", "destination_city": "深圳市", "start_date": "2026-03-01", "reason": "务工"}
# The home side decides on the home secretary's record: the organizer and admins, never the secretary themself.
OWN_RECORD = expect(404, anonymous=302, home_sec=403, organizer=302, admin=302)


def _own_member(org) -> tk.Member:
    return tk.db.session.scalar(select(tk.Member).where(tk.Member.account_id == org.home_sec.id))


def _fresh_outflow(org) -> dict:
    """A pending registration of the home secretary's own member record (earlier ones cancelled)."""
    member = _own_member(org)
    for outflow in tk.db.session.scalars(select(Outflow).where(Outflow.member_id == member.id)):
        outflow.status = "cancelled"
    tk.db.session.flush()
    return {"outflow_id": outflows.register_outflow(member, OUTFLOW).id}


def _outflow_status(_org, values: dict) -> str:
    return tk.db.session.get(Outflow, values["outflow_id"]).status


def _manual_entries(org, _values: dict) -> int:
    return tk.db.session.scalar(select(func.count(PointsEntry.id)).where(
        PointsEntry.member_id == _own_member(org).id, PointsEntry.kind != "rule"))


def _member_values(org) -> dict:
    return {"member_id": _own_member(org).id}


def _own_member_at_full_stage(org) -> dict:
    """The home secretary's own record, at the stage before an earlier role's edit."""
    _own_member(org).stage = "full"
    return _member_values(org)


def _own_stage(org, _values: dict) -> str:
    return _own_member(org).stage


def _profile(org, _values: dict) -> dict:
    member = _own_member(org)
    return {"name": member.name, "gender": "male", "birth_date": "1990-05-01", "stage": "activist",
            "home_unit_id": str(org.home.id), "phone": member.phone, "education": "", "host_unit_id": ""}


def _fresh_care_request(org) -> dict:
    member = _own_member(org)
    req = filing.file_request(member, {"category": "family", "title": "Mother needs care", "description": "She fell.",
                                       "urgency": "normal", "where": "hometown", "consent_host": False},
                              filed_by=member.account, now=tk.utcnow())
    return {"request_id": req.id}


def _care_status(_org, values: dict) -> str:
    return tk.db.session.get(CareRequest, values["request_id"]).status


def _organizer_without_role(org) -> dict:
    for role in tk.db.session.scalars(select(RoleAssignment).where(
            RoleAssignment.account_id == org.organizer.id, RoleAssignment.unit_id == org.home.id)):
        tk.db.session.delete(role)
    return {"unit_id": org.home.id}


def _organizer_roles(org, _values: dict) -> int:
    return tk.db.session.scalar(select(func.count(RoleAssignment.id)).where(
        RoleAssignment.account_id == org.organizer.id))


def _own_entry(org) -> dict:
    return {"entry_id": points.award_manual(_own_member(org), 5, "Organized the meeting", account=org.organizer).id}


def _own_essay(org) -> dict:
    quiz = make_quiz(tk.db, "::essay::Tell us about your work {}", title="Essay quiz", unit_id=org.home.id)
    attempt, _ = quizzes.start_attempt(quiz, _own_member(org), tk.utcnow())
    quizzes.save_response(attempt, by_name(attempt, "essay").id, "我在村里工作。", tk.utcnow())
    quizzes.submit_attempt(attempt.id, tk.utcnow())
    return {"response_id": tk.db.session.scalar(select(Response.id).where(Response.attempt_id == attempt.id))}


def _own_wish(org) -> dict:
    return {"wish_id": microwishes.create_wish(_own_member(org), {"title": "A desk lamp"}, now=tk.utcnow()).id,
            "action": "approve"}


def _own_certificate(org) -> dict:
    outflow = tk.db.session.get(Outflow, _fresh_outflow(org)["outflow_id"])
    return {"certificate_id": outflows.approve_outflow(outflow).id}


def _own_arrival(org) -> dict:
    member = _own_member(org)
    _fresh_outflow(org)
    for checkin in tk.db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id)):
        checkin.status = "ended"
    return {"checkin_id": checkins.register_arrival(org.host, org.home, member.name, member.phone).id}


def _own_transfer(org) -> dict:
    member = _own_member(org)
    for transfer in tk.db.session.scalars(select(Transfer).where(Transfer.member_id == member.id)):
        transfer.status = "rejected"
    tk.db.session.flush()
    return {"transfer_id": transfers.request_transfer(member, org.host, "Settled in Shenzhen").id}


def _own_checkin_at_a_branch_one_also_serves(org) -> dict:
    """The home secretary, away, also serves the host branch, and asks to check in there."""
    member = _own_member(org)
    if all(role.unit_id != org.host.id for role in org.home_sec.roles):
        tk.db.session.add(RoleAssignment(account_id=org.home_sec.id, role="secretary", unit_id=org.host.id))
    outflows.approve_outflow(tk.db.session.get(Outflow, _fresh_outflow(org)["outflow_id"]))
    for checkin in tk.db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id)):
        checkin.status = "ended"
    member.host_unit_id = None
    tk.db.session.flush()
    return {"checkin_id": checkins.request_checkin(member, org.host).id}


def _own_account(org) -> dict:
    return {"account_id": org.admin.id}


CASES = [
    PostCase("mobility.decide", OWN_RECORD, _fresh_outflow, {"action": "approve"}, _outflow_status),
    PostCase("mobility.decide", OWN_RECORD, _fresh_outflow, {"action": "changes", "note": "Add the city."},
             _outflow_status),
    PostCase("points.award", OWN_RECORD, _member_values, {"points": "5", "reason": "I was great", "campaign_id": "0"},
             _manual_entries),
    PostCase("org.edit_member", expect(404, anonymous=302, home_sec=403, organizer=302, admin=302),
             _own_member_at_full_stage,
             _profile, _own_stage),
    PostCase("care.transition", expect(404, anonymous=302, home_sec=403, organizer=302, admin=302),
             _fresh_care_request, {"to": "accepted"}, _care_status),
    PostCase("points.reverse", OWN_RECORD, _own_entry, {"reason": "Entered twice"}),
    PostCase("quizzes.grade_response", expect(403, anonymous=302, home_sec=403, host_sec=404, foreign_sec=404,
                                              organizer=302, admin=302), _own_essay, {"mark": "1"}),
    PostCase("care.assign", OWN_RECORD, _fresh_care_request, lambda org, _v: {"handler": str(org.member2.account_id)}),
    PostCase("care.wish_action", OWN_RECORD, _own_wish, lambda org, _v: {"unit": str(org.home.id)}),
    PostCase("care_api.post_transition", expect(404, anonymous=401, home_sec=403, organizer=200, admin=200),
             _fresh_care_request, {"to": "accepted"}, json=True),
    PostCase("mobility_api.approve", expect(404, anonymous=401, home_sec=403, organizer=200, admin=200),
             _fresh_outflow, json=True),
    PostCase("mobility.review", OWN_RECORD, _own_certificate, {"outcome": "follow_up"}),
    PostCase("mobility.decide_checkin", expect(404, anonymous=302, home_sec=403, host_sec=302, organizer=302, admin=302),
             _own_checkin_at_a_branch_one_also_serves, {"action": "confirm"}),
    PostCase("mobility_api.confirm_checkin", expect(404, anonymous=401, home_sec=403, host_sec=200, organizer=200,
                                                    admin=200), _own_checkin_at_a_branch_one_also_serves, json=True),
    PostCase("mobility.decide_identity", OWN_RECORD, _own_arrival, {"action": "confirm"}),
    PostCase("mobility.decide_transfer", OWN_RECORD, _own_transfer, {"side": "from", "action": "approve"}),
    # the contact person and the contact log keep track of the member: not by the member themself
    PostCase("org.member_contact", OWN_RECORD, _member_values, lambda org, _v: {"contact": str(org.member2.id)}),
    PostCase("mobility.contact_person", OWN_RECORD, _member_values,
             lambda org, _v: {"contact_member_id": str(org.member2.id)}),
    PostCase("mobility.log_contact", OWN_RECORD, _member_values,
             lambda _org, _v: {"channel": "call", "contacted_on": tk.local_today().isoformat()}),
    PostCase("org.reset_password", OWN_RECORD, _member_values, {"password": "Temporary-pass-1357"}),
    # an admin changes their own password on the password page, and cannot lock themself out
    PostCase("admin.reset_account_password", expect(403, anonymous=302, admin=302), _own_account,
             {"password": "Temporary-pass-1357"}, changes=()),
    PostCase("admin.set_account_active", expect(403, anonymous=302), _own_account, {"active": "0"}),
    # roles belong to the record too: the organizer cannot make themselves the branch's secretary
    PostCase("org.roles", expect(404, anonymous=302, organizer=403, admin=302), _organizer_without_role,
             {"username": "organizer", "role": "secretary"}, _organizer_roles),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.endpoint}:{sorted(case.data) if isinstance(case.data, dict) else 'form'}")
def test_nobody_decides_on_their_own_record(app, db, org, case):
    assert check_post_matrix(app, org, [case]) == 9


def test_the_home_secretary_cannot_approve_their_own_outflow_and_nothing_changes(client, db, org):
    values = _fresh_outflow(org)
    db.session.commit()
    client.post("/login", data={"login": "home-secretary", "password": "pass-1234"})
    response = client.post(f"/mobility/outflows/{values['outflow_id']}/decide", data={"action": "approve"})
    assert response.status_code == 403
    assert "own record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Outflow, values["outflow_id"]).status == "pending"
    assert not _own_member(org).is_away


def test_the_api_refuses_approving_ones_own_outflow(client, db, org):
    from tests.conftest import api_token

    values = _fresh_outflow(org)
    db.session.commit()
    response = client.post(f"/api/v1/mobility/outflows/{values['outflow_id']}/approve",
                           headers=api_token(client, "home-secretary"), json={})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    db.session.expire_all()
    assert db.session.get(Outflow, values["outflow_id"]).status == "pending"


def test_grading_ones_own_essay_is_refused_in_the_service(app, db, org):
    quiz = make_quiz(db, "::dues::Dues are paid {T}\n\n::essay::Tell us about your work {}", title="Essay quiz")
    member = _own_member(org)
    attempt, _ = quizzes.start_attempt(quiz, member, NOW)
    quizzes.save_response(attempt, by_name(attempt, "essay").id, "我在村里工作。", NOW)
    quizzes.submit_attempt(attempt.id, NOW)
    db.session.commit()
    response = db.session.scalar(select(Response).where(Response.question_id == by_name(attempt, "essay").id))
    with pytest.raises(tk.Forbidden):
        quizzes.grade_essay(response, 1.0, "", org.home_sec, datetime(2026, 3, 2))
    quizzes.grade_essay(response, 1.0, "", org.organizer, datetime(2026, 3, 2))


def test_a_permission_may_allow_acting_on_oneself(app, db, org):
    from portal.org import permissions

    with app.test_request_context():
        registry = permissions.permission_registry()
        registry["points.award"] = tk.Permission("points.award", "", tk.SECRETARY_ROLES, self_allowed=True)
        member = _own_member(org)
        assert tk.require_acting_on(member, "points.award", account=org.home_sec) is member
        registry["points.award"] = tk.Permission("points.award", "", tk.SECRETARY_ROLES)
        with pytest.raises(tk.Forbidden):
            tk.require_acting_on(member, "points.award", account=org.home_sec)
        with pytest.raises(tk.NotFound):
            tk.require_acting_on(org.outsider, "points.award", account=org.home_sec)


def test_the_accounts_page_offers_no_deactivation_of_ones_own_account(client, db, org):
    client.post("/login", data={"login": "admin", "password": "pass-1234"})
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert f"/admin/accounts/{org.organizer.id}/active" in page
    assert f"/admin/accounts/{org.admin.id}/active" not in page

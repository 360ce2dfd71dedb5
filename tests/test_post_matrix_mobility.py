"""Every write route of the mobility blueprints × every role (GET routes: tests/test_mobility_permissions.py).

The target is member2 (home branch, at home): before each role's request the
setup cancels what member2 had and registers a fresh outflow (pending,
approved, with a check-in or a transfer as the route needs). The home side
(home_sec, organizer, admin) decides on member2's record; the host side
(host_sec, organizer, admin) on check-ins at the host branch; member2 acts on
their own registration; everyone else gets 404. A refused request leaves the
whole database as it was; deciding on one's own record is in
tests/test_self_actions.py.
"""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from portal import toolkit as tk
from portal_mobility import checkins, outflows, transfers
from portal_mobility.models import Certificate, CheckIn, Outflow, Transfer
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"mobility", "mobility_api"}
OUTFLOW = {"destination_province": "浙江省", "destination_city": "杭州市", "start_date": "2026-01-01", "reason": "务工"}
HOME_SIDE = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
HOST_SIDE = expect(404, anonymous=302, host_sec=302, organizer=302, admin=302)
# member2's own registration: member2 and the home side
MEMBER2_RECORD = expect(404, anonymous=302, member2=302, home_sec=302, organizer=302, admin=302)
API_HOME_SIDE = expect(404, anonymous=401, home_sec=200, organizer=200, admin=200)
# one's own check-in, move report or confirmation: only member2 is away; the others have no approved
# outflow (409 in a page, or a redirect to the mobility page saying so); accounts without a member profile: 403
MEMBER2_ONLY_AWAY = expect(409, anonymous=302, member2=302, organizer=403, admin=403)
API_MEMBER2_RECORD = expect(404, anonymous=401, member2=200, home_sec=200, organizer=200, admin=200)
# the foreign branch is the outsider's and its secretary's home branch already: 422
API_OWN_TRANSFER = expect(201, anonymous=401, outsider=422, foreign_sec=422, organizer=403, admin=403)


def _reset_member2(org) -> None:
    """member2 at home again: registrations, check-ins and transfers of earlier roles ended."""
    member = org.member2
    for outflow in tk.db.session.scalars(select(Outflow).where(Outflow.member_id == member.id)):
        outflow.status = "cancelled"
    for checkin in tk.db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id)):
        checkin.status = "ended"
    for transfer in tk.db.session.scalars(select(Transfer).where(Transfer.member_id == member.id)):
        transfer.status = "rejected"
    member.host_unit_id, member.is_away = None, False
    tk.db.session.flush()


def _pending(org) -> dict:
    _reset_member2(org)
    return {"outflow_id": outflows.register_outflow(org.member2, OUTFLOW).id}


def _approved(org) -> dict:
    values = _pending(org)
    outflows.approve_outflow(tk.db.session.get(Outflow, values["outflow_id"]))
    return values


def _certificate(org) -> dict:
    outflow = tk.db.session.get(Outflow, _pending(org)["outflow_id"])
    return {"certificate_id": outflows.approve_outflow(outflow).id}


def _pending_checkin(org) -> dict:
    _approved(org)
    return {"checkin_id": checkins.request_checkin(org.member2, org.host).id}


def _arrival_without_certificate(org) -> dict:
    _approved(org)
    return {"checkin_id": checkins.register_arrival(org.host, org.home, org.member2.name, org.member2.phone).id}


def _transfer(org) -> dict:
    _approved(org)
    return {"transfer_id": transfers.request_transfer(org.member2, org.host, "在杭州定居").id}


def _member2(org) -> dict:
    _reset_member2(org)
    return {"member_id": org.member2.id}


def _approved_member2(org) -> dict:
    _approved(org)
    return {}


def _png(_org, _values: dict) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    return {"photo": (buffer, "photo.png")}


def _today(days: int = 0) -> str:
    return (tk.local_today() + timedelta(days=days)).isoformat()


CASES = [
    # registrations: member2's own, and the home side's decisions on them
    PostCase("mobility.register", MEMBER2_RECORD, _member2, OUTFLOW),
    PostCase("mobility.edit", MEMBER2_RECORD, _pending, {**OUTFLOW, "destination_city": "宁波市"}),
    PostCase("mobility.withdraw", MEMBER2_RECORD, _pending),
    PostCase("mobility.upload_photo", MEMBER2_RECORD, _pending, _png),
    PostCase("mobility.decide", HOME_SIDE, _pending, {"action": "approve"}),
    PostCase("mobility.decide", HOME_SIDE, _pending, {"action": "changes", "note": "Add the district."}),
    PostCase("mobility.record_return", MEMBER2_RECORD, _approved, lambda _org, _v: {"returned_on": _today()}),
    PostCase("mobility.review", HOME_SIDE, _certificate, {"outcome": "follow_up", "note": "Call in spring."}),
    # check-ins and arrivals: the host side confirms, the home side confirms an identity
    PostCase("mobility.checkin", MEMBER2_ONLY_AWAY, _approved_member2, lambda org, _v: {"host_unit_id": str(org.host.id)}),
    PostCase("mobility.decide_checkin", HOST_SIDE, _pending_checkin, {"action": "confirm"}),
    PostCase("mobility.arrival", HOST_SIDE, lambda org: {"unit_id": org.host.id, **_approved_member2(org)},
             lambda org, _v: {"home_unit_id": str(org.home.id), "name": org.member2.name, "phone": org.member2.phone}),
    PostCase("mobility.decide_identity", HOME_SIDE, _arrival_without_certificate, {"action": "confirm"}),
    # the member's own reports while away
    PostCase("mobility.report_move", MEMBER2_ONLY_AWAY | {role: (302,) for role in ("member1", "outsider", "home_sec",
                                                                                     "host_sec", "foreign_sec")},
             _approved_member2, lambda _org, _v: {"changed_on": _today(), "employer": "杭州电子厂"}, changes=("member2",)),
    PostCase("mobility.confirm_details", expect(303, member2=302, anonymous=302, organizer=403, admin=403),
             _approved_member2,
             changes=("member2",)),
    # the member's file: contact person and contact log (home side)
    PostCase("mobility.contact_person", HOME_SIDE, _member2, lambda org, _v: {"contact_member_id": str(org.member1.id)}),
    PostCase("mobility.log_contact", HOME_SIDE, _member2, lambda _org, _v: {"channel": "call", "contacted_on": _today()}),
    # transfers: asked by the member or the home side, decided by each side
    PostCase("mobility.new_transfer", MEMBER2_RECORD, lambda org: {**_approved_member2(org), "member_id": org.member2.id},
             lambda org, _v: {"to_unit_id": str(org.host.id), "reason": "在杭州定居"}),
    PostCase("mobility.decide_transfer", HOME_SIDE, _transfer, {"side": "from", "action": "approve"}),
    PostCase("mobility.decide_transfer", HOST_SIDE, _transfer, {"side": "to", "action": "approve"}),
    # the API: the same rules, 401 without a login
    PostCase("mobility_api.create_outflow", expect(404, anonymous=401, member2=201, home_sec=201, organizer=201,
                                                   admin=201), _member2,
             lambda org, _v: {**OUTFLOW, "member_id": org.member2.id}, json=True),
    PostCase("mobility_api.approve", API_HOME_SIDE, _pending, json=True),
    PostCase("mobility_api.create_checkin", expect(409, anonymous=401, member2=201, organizer=403, admin=403),
             _approved_member2, lambda org, _v: {"host_unit_id": org.host.id}, json=True),
    PostCase("mobility_api.confirm_checkin", expect(404, anonymous=401, host_sec=200, organizer=200, admin=200),
             _pending_checkin, json=True),
    # the member's side through the API (issue 21): the same rules as the pages above
    PostCase("mobility_api.update_outflow", API_MEMBER2_RECORD, _pending, {**OUTFLOW, "destination_city": "宁波市"},
             json=True, method="PUT"),
    PostCase("mobility_api.withdraw", API_MEMBER2_RECORD, _pending, json=True),
    PostCase("mobility_api.upload_photo", API_MEMBER2_RECORD | {"member2": (201,), "home_sec": (201,),
                                                                "organizer": (201,), "admin": (201,)}, _pending, _png),
    PostCase("mobility_api.record_return", API_MEMBER2_RECORD, _approved, lambda _org, _v: {"returned_on": _today()},
             json=True),
    PostCase("mobility_api.report", expect(409, anonymous=401, member2=201, organizer=403, admin=403),
             _approved_member2, lambda _org, _v: {"changed_on": _today(), "employer": "杭州服装厂"}, json=True),
    PostCase("mobility_api.confirm", expect(409, anonymous=401, member2=200, organizer=403, admin=403),
             _approved_member2, json=True),
    # one's own transfer: each member asks for themself (to the host branch, not their home branch)
    PostCase("mobility_api.create_transfer", API_OWN_TRANSFER, _approved_member2,
             lambda org, _v: {"to_unit_id": org.foreign.id, "reason": "在外地定居"}, json=True),
]


def _hosted_member1(org, approved: bool) -> tuple[Outflow, Certificate | None]:
    """member1 away with a fresh registration (approved: and hosted at the host branch, as in the fixture)."""
    member = org.member1
    for outflow in tk.db.session.scalars(select(Outflow).where(Outflow.member_id == member.id)):
        outflow.status = "cancelled"
    member.host_unit_id = None
    tk.db.session.flush()
    outflow = outflows.register_outflow(member, OUTFLOW)
    certificate = outflows.approve_outflow(outflow) if approved else None
    member.host_unit_id, member.is_away = org.host.id, True
    tk.db.session.flush()
    return outflow, certificate


def _hosted_pending(org) -> dict:
    return {"outflow_id": _hosted_member1(org, approved=False)[0].id}


def _hosted_approved(org) -> dict:
    return {"outflow_id": _hosted_member1(org, approved=True)[0].id}


def _hosted_certificate(org) -> dict:
    return {"certificate_id": _hosted_member1(org, approved=True)[1].id}


# member1 is hosted at the host branch: its secretary sees member1's record but decides nothing on it
MEMBER1_RECORD = expect(404, anonymous=302, member1=302, home_sec=302, organizer=302, admin=302)
HOSTED_CASES = [
    PostCase("mobility.decide", HOME_SIDE, _hosted_pending, {"action": "approve"}),
    PostCase("mobility.edit", MEMBER1_RECORD, _hosted_pending, {**OUTFLOW, "destination_city": "宁波市"}),
    PostCase("mobility.record_return", MEMBER1_RECORD, _hosted_approved, lambda _org, _v: {"returned_on": _today()}),
    PostCase("mobility.review", HOME_SIDE, _hosted_certificate, {"outcome": "follow_up"}),
    PostCase("mobility.log_contact", HOME_SIDE, lambda org: {"member_id": org.member1.id},
             lambda _org, _v: {"channel": "call", "contacted_on": _today()}),
    PostCase("mobility.contact_person", HOME_SIDE, lambda org: {"member_id": org.member1.id},
             lambda org, _v: {"contact_member_id": str(org.member2.id)}),
    PostCase("mobility_api.approve", API_HOME_SIDE, _hosted_pending, json=True),
]


def test_every_mobility_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_mobility_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9


def test_the_host_side_decides_nothing_on_a_hosted_members_record(app, db, org):
    assert check_post_matrix(app, org, HOSTED_CASES) == len(HOSTED_CASES) * 9

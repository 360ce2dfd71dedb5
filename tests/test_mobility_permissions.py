"""Every GET route of the mobility blueprints × every role, including a foreign branch's secretary."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk
from portal_mobility import checkins, outflows, photos, transfers
from tests.helpers.permission_matrix import check_matrix, expect, public


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


@pytest.fixture
def world(app, db, org):
    """member1: approved outflow with photo and certificate, hosted at org.host, a transfer asked;
    member2: a registration waiting for approval."""
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-03-01", "reason": "务工"})
    certificate = outflows.approve_outflow(outflow)
    photos.save_photo(outflow, FileStorage(_png(), "photo.png"))
    org.member1.host_unit_id = None
    checkin = checkins.request_checkin(org.member1, org.host)
    checkins.confirm_checkin(checkin)
    transfer = transfers.request_transfer(org.member1, org.host, "在深圳定居")
    pending = outflows.register_outflow(org.member2, {"destination_province": "浙江省", "destination_city": "杭州市",
                                                      "start_date": "2026-01-01", "reason": "务工"})
    db.session.commit()
    org.outflow, org.certificate, org.transfer, org.pending = outflow, certificate, transfer, pending
    return org


MEMBERS_ONLY = expect(200, anonymous=302, organizer=403, admin=403)
# member1's mobility record: themself, the home side, the host side (member1 is hosted there)
MEMBER1_RECORD = expect(404, anonymous=302, member1=200, home_sec=200, host_sec=200, organizer=200, admin=200)
# the home side only (approve, return, review): never the host, never the member for the home's decisions
HOME_SIDE = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
HOST_SIDE = expect(404, anonymous=302, host_sec=200, organizer=200, admin=200)
API_MEMBER1_RECORD = expect(404, anonymous=401, member1=200, home_sec=200, host_sec=200, organizer=200, admin=200)

EXPECTATIONS = {
    "mobility.index": MEMBERS_ONLY,
    "mobility.register": MEMBERS_ONLY,
    "mobility.checkin": MEMBERS_ONLY,
    "mobility.new_transfer": MEMBERS_ONLY,
    "mobility.report_move": expect(302, member1=200, organizer=403, admin=403),
    "mobility.outflow": MEMBER1_RECORD,
    "mobility.photo": MEMBER1_RECORD,
    "mobility.certificate": MEMBER1_RECORD,
    "mobility.certificate_pdf": MEMBER1_RECORD,
    "mobility.member": MEMBER1_RECORD,
    "mobility.record_return": expect(404, anonymous=302, member1=200, home_sec=200, organizer=200, admin=200),
    "mobility.edit": expect(404, anonymous=302, member2=200, home_sec=200, organizer=200, admin=200),
    "mobility.review": HOME_SIDE,
    "mobility.verify": public(),
    "mobility.verify_photo": public(),  # the photo of a valid certificate, keyed by its unguessable number
    "mobility.checkin_code": HOST_SIDE,
    "mobility.arrival": HOST_SIDE,
    "mobility.transfer": expect(404, anonymous=302, member1=200, home_sec=200, host_sec=200, organizer=200, admin=200),
    "mobility.letter": expect(404, anonymous=302, member1=200, home_sec=200, host_sec=200, organizer=200, admin=200),
    "mobility.units": expect(403, anonymous=302, home_sec=302, host_sec=302, foreign_sec=302, organizer=302, admin=302),
    "mobility.unit": HOME_SIDE,
    "mobility.stats": HOME_SIDE,
    "mobility.stats_export": HOME_SIDE,
    "mobility.outgoing_export": HOME_SIDE,
    "mobility_api.stats": expect(404, anonymous=401, home_sec=200, organizer=200, admin=200),
    # the member's side through the API: the same rules as the pages (401 without a login)
    "mobility_api.me": expect(200, anonymous=401, organizer=403, admin=403),
    "mobility_api.branches": expect(200, anonymous=401, organizer=403, admin=403),
    "mobility_api.get_outflow": API_MEMBER1_RECORD,
    "mobility_api.photo": API_MEMBER1_RECORD,
    "mobility_api.certificate": API_MEMBER1_RECORD,
    "mobility_api.certificate_pdf": API_MEMBER1_RECORD,
    "mobility_api.get_transfer": API_MEMBER1_RECORD,
    "mobility_api.letter": API_MEMBER1_RECORD,
}

URL_VALUES = {
    "mobility.outflow": lambda o: {"outflow_id": o.outflow.id},
    "mobility.photo": lambda o: {"outflow_id": o.outflow.id},
    "mobility.record_return": lambda o: {"outflow_id": o.outflow.id},
    "mobility.edit": lambda o: {"outflow_id": o.pending.id},
    "mobility.certificate": lambda o: {"certificate_id": o.certificate.id},
    "mobility.certificate_pdf": lambda o: {"certificate_id": o.certificate.id},
    "mobility.review": lambda o: {"certificate_id": o.certificate.id},
    "mobility.verify": lambda o: {"number": o.certificate.number},
    "mobility.verify_photo": lambda o: {"number": o.certificate.number},
    "mobility.member": lambda o: {"member_id": o.member1.id},
    "mobility.checkin_code": lambda o: {"unit_id": o.host.id},
    "mobility.arrival": lambda o: {"unit_id": o.host.id},
    "mobility.transfer": lambda o: {"transfer_id": o.transfer.id},
    "mobility.letter": lambda o: {"transfer_id": o.transfer.id},
    "mobility.unit": lambda o: {"unit_id": o.home.id},
    "mobility.stats": lambda o: {"unit_id": o.home.id},
    "mobility.stats_export": lambda o: {"unit_id": o.home.id},
    "mobility.outgoing_export": lambda o: {"unit_id": o.home.id},
    "mobility_api.stats": lambda o: {"unit": o.home.id},
    "mobility_api.branches": lambda o: {"city": "深圳"},
    "mobility_api.get_outflow": lambda o: {"outflow_id": o.outflow.id},
    "mobility_api.photo": lambda o: {"outflow_id": o.outflow.id},
    "mobility_api.certificate": lambda o: {"certificate_id": o.certificate.id},
    "mobility_api.certificate_pdf": lambda o: {"certificate_id": o.certificate.id},
    "mobility_api.get_transfer": lambda o: {"transfer_id": o.transfer.id},
    "mobility_api.letter": lambda o: {"transfer_id": o.transfer.id},
}


def test_permission_matrix(app, world):
    checked = check_matrix(app, world, EXPECTATIONS, url_values=URL_VALUES, blueprints={"mobility", "mobility_api"})
    assert checked == len(EXPECTATIONS) * 9


HOST_UNIT_VIEWS = {
    "mobility.unit": expect(404, anonymous=302, host_sec=200, organizer=200, admin=200),
    "mobility.stats": expect(404, anonymous=302, host_sec=200, organizer=200, admin=200),
}


def test_host_unit_pages_matrix(app, world):
    """The host unit's own lists and statistics: its secretary and those above it, nobody else."""
    expectations = {endpoint: EXPECTATIONS[endpoint] for endpoint in EXPECTATIONS}
    expectations.update(HOST_UNIT_VIEWS)
    values = dict(URL_VALUES)
    values.update({"mobility.unit": lambda o: {"unit_id": o.host.id}, "mobility.stats": lambda o: {"unit_id": o.host.id}})
    check_matrix(app, world, expectations, url_values=values, blueprints={"mobility", "mobility_api"})


def test_disabled_plugin_answers_404(app, world, client):
    from portal.plugins.manager import get_manager
    from tests.conftest import login

    get_manager(app).set_enabled("mobility", False)
    tk.db.session.commit()
    try:
        login(client, "member1")
        assert client.get("/mobility/").status_code == 404
        assert client.get(f"/certificates/mobility/verify/{world.certificate.number}").status_code == 404
    finally:
        get_manager(app).set_enabled("mobility", True)
        tk.db.session.commit()

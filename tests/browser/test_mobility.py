"""On a phone: a member registers an outflow, the home branch approves, the member checks in, the host confirms."""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal_mobility import certificates
from portal_mobility.models import CheckIn, Outflow
from tests.browser.conftest import browser_login


def _logout(page):
    page.click("footer button:has-text('Log out')")
    page.wait_for_load_state()


def test_outflow_registration_and_check_in_on_a_phone(page, live_server, org, db, tmp_path):
    browser_login(page, live_server, "member2")
    page.goto(f"{live_server}/mobility/")
    page.click("text=Register an outflow")
    page.fill("#destination", "广东深圳")  # the place picker resolves text or pinyin to a division code
    page.fill("#employer", "深圳市华达电子有限公司")
    page.fill("#start_date", "2026-03-01")
    page.fill("#reason", "外出务工")
    page.click("button:has-text('Send to my branch')")
    page.wait_for_load_state()
    assert "waiting for approval" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "mobility-registered.png"), full_page=True)
    db.session.commit()  # end the read snapshot: the live server wrote meanwhile
    outflow = db.session.scalar(select(Outflow).where(Outflow.member_id == org.member2.id))
    assert outflow.destination_code == "440300" and outflow.destination_city == "深圳市" and outflow.employer == "深圳市华达电子有限公司"

    # the home secretary approves on their phone
    _logout(page)
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/mobility/outflows/{outflow.id}")
    page.click("button:has-text('Approve and issue the certificate')")
    page.wait_for_load_state()
    assert "Activity certificate" in page.content()

    # the member finds the Shenzhen branch by city and checks in
    _logout(page)
    browser_login(page, live_server, "member2")
    page.goto(f"{live_server}/mobility/checkin")
    page.fill("#city", "深圳")
    page.click("button:has-text('Find branches')")
    page.wait_for_load_state()
    page.click(f"button[aria-label='Check in at {org.host.name}']")
    page.wait_for_load_state()
    assert "Its secretary will confirm it" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "mobility-checkin.png"), full_page=True)

    # the host secretary confirms
    _logout(page)
    browser_login(page, live_server, "host-secretary")
    page.goto(f"{live_server}/mobility/units/{org.host.id}?tab=pending")
    page.click("button:has-text('Confirm check-in')")
    page.wait_for_load_state()
    db.session.commit()  # end the read snapshot: the live server wrote meanwhile
    checkin = db.session.scalar(select(CheckIn).where(CheckIn.member_id == org.member2.id))
    assert checkin.status == "confirmed"
    assert db.session.get(tk.Member, org.member2.id).host_unit_id == org.host.id
    assert certificates.active_certificate(db.session.get(tk.Member, org.member2.id)) is not None

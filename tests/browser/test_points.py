"""Points in a phone-sized Chromium: my points page, and a secretary's award through the real form (CSRF on)."""
from __future__ import annotations

from playwright.sync_api import expect

from sqlalchemy import select

from portal_points import services
from portal_points.models import PointsEntry
from tests.browser.conftest import browser_login


def test_member_sees_points_chart_and_history(page, live_server, org, db, tmp_path):
    services.award_manual(org.member1, 8, "Helped a fellow villager with a wage claim", account=org.home_sec)
    db.session.commit()
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/points/")
    assert page.locator("h1").inner_text() == "My points"
    assert page.locator("svg.chart rect").count() == 12
    expect(page.get_by_text("Helped a fellow villager with a wage claim")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways ({width}px)"
    page.screenshot(path=str(tmp_path / "points-me.png"), full_page=True)


def test_secretary_awards_points_through_the_form(page, live_server, org, db, tmp_path):
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/points/members/{org.member2.id}")
    page.fill("input[name=points]", "3")
    page.fill("textarea[name=reason]", "Organized the Spring Festival tea talk")
    page.click("form[action$='/award'] button[type=submit]")
    page.wait_for_load_state()
    assert "Saved: +3 points for 李芳." in page.content()
    page.screenshot(path=str(tmp_path / "points-award.png"), full_page=True)
    db.session.rollback()  # a fresh snapshot: the live server wrote in another connection
    entries = db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == org.member2.id)).all()
    assert [(e.points, e.reason) for e in entries] == [(3, "Organized the Spring Festival tea talk")]

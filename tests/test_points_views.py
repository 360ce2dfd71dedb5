"""Points pages and API: permissions for every role, content, exports, editors, bad input."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_points import services
from portal_points.models import PointsCampaign, PointsRule, PointsRuleVersion
from tests.conftest import api_token, login
from tests.helpers.permission_matrix import check_matrix, expect


@pytest.fixture
def setup(org, db):
    services.ensure_default_rules()
    today = tk.local_today()
    campaign = services.save_campaign(None, name="Four comparisons", description="**Earn honestly**",
                                      starts_on=today - timedelta(days=5), ends_on=today + timedelta(days=5),
                                      units=[org.home], owner_unit=org.township, account_id=org.organizer.id)
    services.award_manual(org.member1, 12, "Helped fellow villagers with unpaid wages", account=org.home_sec,
                          campaign=campaign)
    db.session.commit()
    lesson = db.session.scalar(select(PointsRule).where(PointsRule.code == "lesson_completed"))
    return {"campaign": campaign, "lesson": lesson}


def test_permission_matrix(app, org, setup):
    campaign_id, rule_id = setup["campaign"].id, setup["lesson"].id
    home_board = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200)
    report = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
    admin_only = expect(403, anonymous=302, admin=200)
    checked = check_matrix(app, org, {
        "points.me": expect(200, anonymous=302, organizer=403, admin=403),
        "points.rules": expect(200, anonymous=302),
        "points.leaderboard": home_board,
        "points.standings": home_board,
        "points.report": report,
        "points.report_xlsx": report,
        "points.member": expect(404, anonymous=302, member1=200, home_sec=200, host_sec=200, organizer=200, admin=200),
        "points.campaigns": expect(200, anonymous=302),
        "points.campaign": expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200),
        "points.campaign_new": expect(403, anonymous=302, organizer=200, admin=200),
        "points.campaign_edit": expect(404, anonymous=302, organizer=200, admin=200),
        "points.admin_rules": admin_only,
        "points.rule_new": admin_only,
        "points.rule_edit": admin_only,
        "points_api.me": expect(200, anonymous=401, organizer=404, admin=404),
        "points_api.leaderboard": expect(200, anonymous=401),
        "points_api.rules": expect(200, anonymous=401),
        "points_api.campaigns": expect(200, anonymous=401),
        "points_api.campaign": expect(404, anonymous=401, member1=200, member2=200, home_sec=200, organizer=200,
                                      admin=200),
    }, blueprints={"points", "points_api"}, url_values={
        "points.leaderboard": lambda o: {"unit": o.home.id},
        "points.standings": lambda o: {"unit_id": o.home.id},
        "points.report": lambda o: {"unit_id": o.home.id},
        "points.report_xlsx": lambda o: {"unit_id": o.home.id},
        "points.member": lambda o: {"member_id": o.member1.id},
        "points.campaign": {"campaign_id": campaign_id},
        "points.campaign_edit": {"campaign_id": campaign_id},
        "points.rule_edit": {"rule_id": rule_id},
        "points_api.campaign": {"campaign_id": campaign_id},
    })
    assert checked == 19 * 9


def test_member_page_shows_totals_level_chart_history(client, org, setup):
    login(client, "member1")
    page = client.get("/points/").get_data(as_text=True)
    assert "Helped fellow villagers with unpaid wages" in page
    assert "(campaign: Four comparisons)" not in page  # manual awards show the secretary's reason
    assert '<svg class="chart"' in page and "My points in the last 12 months" in page
    assert "Level 1" in page and "37 points to level 2" in page  # 12 awarded + 1 daily login of 50
    # the chart is plain SVG: no inline style or script (the page's only scripts are the core's files: offline use)
    assert "style=" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_api_me_and_leaderboard(client, org, setup):
    headers = api_token(client, "member1")
    data = client.get("/api/v1/points/me", headers=headers).json
    assert (data["total"], data["today"], data["month"]) == (13, 13, 13)  # award + today's login via the API
    assert data["level"]["number"] == 1 and data["level"]["to_next"] == 37
    reasons = [h["reason"] for h in data["history"]]
    assert "Helped fellow villagers with unpaid wages" in reasons
    board = client.get(f"/api/v1/points/leaderboard?unit={org.home.id}&period=month", headers=headers).json
    assert board["entries"][0] == {"rank": 1, "member": {"id": org.member1.id, "name": "张伟", "unit": org.home.name},
                                   "points": 13, "hosted": False}
    assert board["me"]["rank"] == 1
    assert client.get("/api/v1/points/leaderboard?period=week", headers=headers).status_code == 400
    assert client.get("/api/v1/points/leaderboard?unit=abc", headers=headers).status_code == 400
    foreign = client.get(f"/api/v1/points/leaderboard?unit={org.foreign.id}", headers=headers)
    assert foreign.status_code == 404 and foreign.json["error"]["code"] == "not_found"
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/points/leaderboard" in spec["paths"] and "/api/v1/points/me" in spec["paths"]


def test_leaderboard_page_and_bad_period(client, org, setup):
    login(client, "member2")
    page = client.get(f"/points/leaderboard?unit={org.home.id}&period=all").get_data(as_text=True)
    assert "张伟" in page and "Your rank: 2" in page
    assert client.get("/points/leaderboard?period=decade").status_code == 400
    assert client.get("/points/leaderboard?unit=x").status_code == 400
    standings = client.get(f"/points/units/{org.township.id}/standings?period=month").get_data(as_text=True)
    assert org.home.name in standings and org.foreign.name in standings


def test_report_highlights_zero_point_members_and_exports_xlsx(client, org, setup, db):
    login(client, "home-secretary")
    page = client.get(f"/points/units/{org.home.id}/report").get_data(as_text=True)
    assert "李芳" in page and "张伟" in page
    assert page.count('class="points-zero"') >= 1  # member2 earned nothing
    assert '<svg class="chart"' in page
    zero_only = client.get(f"/points/units/{org.home.id}/report?zero=1").get_data(as_text=True)
    assert "李芳" in zero_only and "张伟" not in zero_only
    bad = client.get(f"/points/units/{org.home.id}/report?from=2026-13-01")
    assert bad.status_code == 400 and "were not understood" in bad.get_data(as_text=True)
    response = client.get(f"/points/units/{org.home.id}/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Name", "Home branch", "Host branch", "Points") and rows[0][-1] == "No points in this period"
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["张伟"][3] == 12 and by_name["张伟"][2] == org.host.name and by_name["张伟"][-1] is None
    assert by_name["李芳"][3] == 0 and by_name["李芳"][-1] == "yes"
    # The host branch's secretary sees the hosted member in their own report.
    client.post("/logout")
    login(client, "host-secretary")
    hosted = client.get(f"/points/units/{org.host.id}/report").get_data(as_text=True)
    assert "张伟" in hosted and "李芳" not in hosted


def test_admin_edits_a_rule_creating_a_version(client, org, setup, db):
    login(client, "admin")
    rule_id = setup["lesson"].id
    form = {"verb": "lesson.completed", "enabled": "y", "points": "2", "daily_cap": "8", "cooldown_seconds": "30",
            "once_per_object": "y", "per_extra": "", "min_score": "", "active_from": "", "active_until": ""}
    bad = client.post(f"/points/rules/{rule_id}/edit", data={**form, "points": "0"})
    assert bad.status_code == 422
    assert client.post(f"/points/rules/{rule_id}/edit", data=form).status_code == 302
    db.session.expire_all()
    versions = db.session.scalars(select(PointsRuleVersion).where(PointsRuleVersion.rule_id == rule_id)
                                  .order_by(PointsRuleVersion.version)).all()
    assert [(v.version, v.points, v.daily_cap, v.valid_to is None) for v in versions] == [(1, 1, 6, False),
                                                                                          (2, 2, 8, True)]
    page = client.get("/points/admin/rules").get_data(as_text=True)
    assert "no enabled plugin records this" in page  # e.g. meetings are not installed
    created = client.post("/points/rules/new", data={**form, "verb": "member.daily_login", "points": "3"})
    assert created.status_code == 302
    unknown = client.post("/points/rules/new", data={**form, "verb": "made.up"})
    assert unknown.status_code == 422


def test_organizer_creates_campaign_and_bad_dates_are_refused(client, org, setup, db):
    login(client, "organizer")
    before = db.session.scalar(select(func.count()).select_from(PointsCampaign))
    bad = client.post("/points/campaigns/new", data={"name": "Send news home", "starts_on": "2026-05-10",
                                                      "ends_on": "2026-05-01", "units": [str(org.home.id)]})
    assert bad.status_code == 422 and "Send news home" in bad.get_data(as_text=True)
    ok = client.post("/points/campaigns/new", data={"name": "Send news home", "description": "", "starts_on": "2026-05-01",
                                                     "ends_on": "2026-05-31",
                                                     "units": [str(org.home.id), str(org.foreign.id)]})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PointsCampaign)) == before + 1
    campaign = db.session.scalar(select(PointsCampaign).where(PointsCampaign.name == "Send news home"))
    assert sorted(campaign.unit_ids) == sorted([org.home.id, org.foreign.id])
    assert campaign.owner_unit_id == org.root.id
    rule = client.post(f"/points/rules/new?campaign={campaign.id}", data={
        "verb": "member.daily_login", "enabled": "y", "points": "2", "cooldown_seconds": "0"})
    assert rule.status_code == 302
    db.session.expire_all()
    assert [r.verb for r in services.all_rules(campaign)] == ["member.daily_login"]


def test_member_hides_name(client, org, setup, db):
    login(client, "member1")
    assert client.post("/points/privacy", data={"hide": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(tk.Member, org.member1.id).hide_from_public_boards is True
    client.post("/logout")
    login(client, "outsider")
    county = client.get(f"/points/leaderboard?unit={org.root.id}&period=month").get_data(as_text=True)
    assert "张伟" not in county and "keeps their name private" in county


def test_member_summary_personal_data_and_widgets(client, org, setup):
    summary = dict(tk.call_each("portal_member_summary", member=org.member1, since=None, until=None))["points"]
    assert ("Points in this period", 12) in summary
    data = {s.key: s for s in dict(tk.call_each("portal_personal_data", member=org.member1))["points"]}
    assert data["entries"].rows[0]["reason"] == "Helped fellow villagers with unpaid wages"
    login(client, "member1")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "My points" in dashboard and "today 13" in dashboard
    client.post("/logout")
    login(client, "home-secretary")
    unit_dashboard = client.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Points this month" in unit_dashboard and "Participation report" in unit_dashboard


def test_chinese_pages(client, org, setup):
    login(client, "member1")
    page = client.get("/points/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "我的积分" in page and "积分排行" in page

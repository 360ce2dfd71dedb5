"""One "today": the organization's time zone (Asia/Shanghai by default) everywhere, API timestamps with an offset."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal import timeutil
from portal import toolkit as tk
from tests.conftest import api_token, login

LATE_UTC = datetime(2026, 11, 29, 17, 30)  # 01:30 on 30 November in Asia/Shanghai


def test_the_local_day_follows_the_time_zone(app, monkeypatch):
    with app.app_context():
        assert tk.local_today(LATE_UTC) == date(2026, 11, 30)
        assert tk.local_now(LATE_UTC).isoformat() == "2026-11-30T01:30:00+08:00"
        assert tk.local_day_bounds(date(2026, 11, 30)) == (datetime(2026, 11, 29, 16, 0), datetime(2026, 11, 30, 16, 0))
        monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
        assert tk.local_today(LATE_UTC) == date(2026, 11, 29)


def test_api_timestamps_carry_the_offset(app):
    with app.app_context():
        assert tk.isoformat(datetime(2026, 11, 30, 0, 0)) == "2026-11-30T08:00:00+08:00"
        assert tk.isoformat(date(2026, 11, 30)) == "2026-11-30"
        assert tk.isoformat(None) is None


def test_dates_in_pages_are_local_days(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "30" in tk.fmt_date(LATE_UTC, "long") and "November" in tk.fmt_date(LATE_UTC, "long")


def test_daily_login_counts_for_the_local_day(client, org, db, monkeypatch):
    monkeypatch.setattr(timeutil, "utcnow", lambda: LATE_UTC)
    login(client, "member1")
    client.get("/dashboard")
    keys = list(db.session.scalars(select(tk.Activity.idempotency_key).where(
        tk.Activity.verb == "member.daily_login", tk.Activity.actor_id == org.member1.id)))
    assert keys == [f"member.daily_login:{org.member1.id}:2026-11-30"]


def test_points_history_in_the_api_is_local_time_with_offset(client, org, db):
    login(client, "member1")
    client.get("/dashboard")  # the daily login earns a point
    history = client.get("/api/v1/points/me", headers=api_token(client, "member1")).json["history"]
    assert history and all(entry["at"].endswith("+08:00") for entry in history)


def test_a_form_date_defaults_to_the_local_day(client, org, monkeypatch):
    monkeypatch.setattr(timeutil, "utcnow", lambda: LATE_UTC)
    login(client, "member2")
    page = client.get("/mobility/outflows/new").get_data(as_text=True)
    assert 'value="2026-11-30"' in page

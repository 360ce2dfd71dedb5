"""Demo data: the default rules, a few weeks of daily logins, a campaign and a manual award."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_points import services
from portal_points.models import PointsCampaign, PointsEntry

db = tk.db
CAMPAIGN = "流动党员“四比”竞赛"


def build_demo(context) -> None:
    """Idempotent: activities use fixed keys, the campaign and award are looked up first."""
    services.ensure_default_rules()
    now = context.now
    rng = context.rng
    for member in context.members:
        for back in range(45, -1, -1):
            if rng.random() < (0.9 if member.account.username in ("member1", "member2") else 0.45):
                day = tk.local_date(now - timedelta(days=back))
                at = tk.local_day_bounds(day)[0] + timedelta(hours=1 + rng.randint(0, 12))
                tk.record_activity(member, "member.daily_login", "day", day.isoformat(),
                                   key=f"member.daily_login:{member.id}:{day.isoformat()}", at=min(at, now))
    db.session.flush()
    campaign = db.session.scalar(select(PointsCampaign).where(PointsCampaign.name == CAMPAIGN))
    if campaign is None:
        today = tk.local_date(now)
        campaign = services.save_campaign(
            None, name=CAMPAIGN, description="比诚信经营、比常回家看看、比捎回信息、比回乡创业。",
            starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=60), units=[context.units["root"]],
            owner_unit=context.units["root"], account_id=context.accounts["organizer"].id, now=now)
    secretary = context.accounts["home-secretary"]
    member1 = next((m for m in context.members if m.account.username == "member1"), None)
    reason = "在深圳帮助三名老乡讨回欠薪"
    if member1 is not None and db.session.scalar(select(PointsEntry.id).where(
            PointsEntry.member_id == member1.id, PointsEntry.reason == reason)) is None:
        services.award_manual(member1, 5, reason, account=secretary, campaign=campaign, now=now)

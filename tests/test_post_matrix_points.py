"""Every write route of the points plugin × every role (GET routes: tests/test_points_views.py).

Each role acts on a fresh target; a refused request leaves the whole database
as it was. A secretary awarding or reversing their own points is refused with
403 (tests/test_self_actions.py).
"""
from __future__ import annotations

from datetime import timedelta

from portal import toolkit as tk
from portal_points import services
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"points", "points_api"}
# the home side awards (member2 sees their own page, but holds no points.award: 404 as for anyone outside)
HOME_AWARDERS = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
CAMPAIGN_RUNNERS = expect(403, anonymous=302, organizer=302, admin=302)
ADMIN = expect(403, anonymous=302, admin=302)
RULE = {"verb": "member.daily_login", "enabled": "y", "points": "2", "cooldown_seconds": "0"}


def _member2(org) -> dict:
    return {"member_id": org.member2.id}


def _entry_of_member2(org) -> dict:
    entry = services.award_manual(org.member2, 3, "Cleaned the village square", account=org.organizer)
    return {"entry_id": entry.id}


def _campaign(org) -> dict:
    today = tk.local_today()
    campaign = services.save_campaign(None, name="Spring drive", description="", starts_on=today,
                                      ends_on=today + timedelta(days=30), units=[org.home], owner_unit=org.township,
                                      account_id=org.organizer.id)
    return {"campaign_id": campaign.id}


def _campaign_form(org, _values: dict) -> dict:
    today = tk.local_today()
    return {"name": "Summer drive", "description": "", "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=10)).isoformat(), "units": [str(org.home.id)]}


def _rule(_org) -> dict:
    return {"rule_id": services.create_rule("member.daily_login", {"enabled": True, "points": 1, "cooldown_seconds": 0}).id}


CASES = [
    PostCase("points.award", HOME_AWARDERS, _member2, {"points": "5", "reason": "Helped at the harvest",
                                                       "campaign_id": "0"}),
    PostCase("points.reverse", HOME_AWARDERS, _entry_of_member2, {"reason": "Entered twice"}),
    # one's own privacy choice: every account with a member profile
    PostCase("points.privacy", expect(302, organizer=403, admin=403), data={"hide": "y"}),
    PostCase("points_api.privacy", expect(200, anonymous=401, organizer=403, admin=403), data={"hide": False},
             json=True),
    PostCase("points.campaign_new", CAMPAIGN_RUNNERS, data=_campaign_form),
    PostCase("points.campaign_edit", expect(404, anonymous=302, organizer=302, admin=302), _campaign, _campaign_form),
    PostCase("points.rule_new", ADMIN, data=RULE),
    PostCase("points.rule_edit", ADMIN, _rule, RULE),
]


def test_every_points_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_points_post_matrix(app, db, org):
    services.ensure_default_rules()
    db.session.commit()
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9


def test_the_host_side_awards_nothing_to_a_hosted_member(app, db, org):
    """member1 is hosted at the host branch: its secretary sees member1's points, but awards nothing (404)."""
    cases = [PostCase("points.award", HOME_AWARDERS, lambda org: {"member_id": org.member1.id},
                      {"points": "5", "reason": "Helped at the harvest", "campaign_id": "0"}),
             PostCase("points.reverse", HOME_AWARDERS, lambda org: {"entry_id": services.award_manual(
                 org.member1, 3, "Cleaned the village square", account=org.organizer).id}, {"reason": "Entered twice"})]
    assert check_post_matrix(app, org, cases) == len(cases) * 9

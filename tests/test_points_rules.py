"""Points rules: caps, cooldowns, once per object, scores, dates, versions, campaigns, daily login."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_points import services
from portal_points.models import PointsEntry, PointsRule, PointsTotal
from tests.conftest import login

# 10:00 in Shanghai on 10 March 2026.
T0 = datetime(2026, 3, 10, 2, 0, 0)


def record(member, verb, object_id, at, extras=None, key=None, object_type="thing"):
    activity, created = tk.record_activity(member, verb, object_type, object_id, at=at, extras=extras,
                                           key=key or f"{verb}:{member.id}:{object_id}:{at.isoformat()}")
    tk.db.session.commit()
    return activity


def entries(member, verb=None):
    query = select(PointsEntry).where(PointsEntry.member_id == member.id).order_by(PointsEntry.id)
    if verb:
        query = query.where(PointsEntry.verb == verb)
    return list(tk.db.session.scalars(query))


def total(member, period="all", now=T0):
    return services.member_total(member.id, period, now=now)


def rule(code):
    return tk.db.session.scalar(select(PointsRule).where(PointsRule.code == code))


def change(code_or_rule, now, **values):
    target = rule(code_or_rule) if isinstance(code_or_rule, str) else code_or_rule
    merged = {**services.rule_values(target.current), **values}
    version = services.update_rule(target, merged, now=now)
    tk.db.session.commit()
    return version


@pytest.fixture
def rules(db):
    services.ensure_default_rules()
    db.session.commit()


def test_defaults_are_seeded_once(rules, db):
    services.ensure_default_rules()
    services.ensure_default_rules()
    db.session.commit()
    codes = list(db.session.scalars(select(PointsRule.code).order_by(PointsRule.code)))
    assert codes == sorted(spec["code"] for spec in services.DEFAULT_RULES)
    assert rule("lesson_completed").current.daily_cap == 6
    assert rule("daily_quiz").current.per_extra == "correct"


def test_lesson_daily_cap_of_six_resets_next_local_day(rules, org):
    for index in range(8):
        record(org.member1, "lesson.completed", index, T0 + timedelta(minutes=2 * index))
    assert [e.points for e in entries(org.member1)] == [1] * 6
    assert total(org.member1, "day") == 6
    # 16:30 UTC is 00:30 the next day in Shanghai: a new day, a new cap.
    record(org.member1, "lesson.completed", 100, datetime(2026, 3, 10, 16, 30))
    assert total(org.member1, "day", now=datetime(2026, 3, 10, 16, 31)) == 1
    assert total(org.member1, "all") == 7
    assert entries(org.member1)[-1].day_key == 20260311


def test_daily_quiz_points_per_correct_answer_capped_at_five(rules, org):
    record(org.member1, "daily_quiz.completed", 1, T0, extras={"score": 3, "max_score": 5, "correct": 3})
    record(org.member1, "daily_quiz.completed", 2, T0 + timedelta(minutes=5), extras={"correct": 4})
    record(org.member1, "daily_quiz.completed", 3, T0 + timedelta(minutes=9), extras={"correct": 5})
    record(org.member1, "daily_quiz.completed", 4, T0 + timedelta(minutes=12), extras={"correct": "bad"})
    assert [e.points for e in entries(org.member1)] == [3, 2]
    record(org.member1, "daily_quiz.completed", 5, T0 + timedelta(days=1), extras={"correct": 2})
    assert total(org.member1) == 7


def test_cooldown_counts_from_the_last_award(rules, org):
    cheer = services.create_rule("test.cheer", {**services.rule_values(None), "points": 2, "cooldown_seconds": 180},
                                 now=T0 - timedelta(days=1))
    tk.db.session.commit()
    record(org.member1, "test.cheer", 1, T0)
    record(org.member1, "test.cheer", 2, T0 + timedelta(seconds=100))   # within 180 s: nothing
    record(org.member1, "test.cheer", 3, T0 + timedelta(seconds=179))   # still nothing
    record(org.member1, "test.cheer", 4, T0 + timedelta(seconds=200))   # 200 s after the award
    assert [(e.object_id, e.points) for e in entries(org.member1)] == [("1", 2), ("4", 2)]
    assert all(e.rule_id == cheer.id for e in entries(org.member1))
    # Another member is not slowed down by the first one.
    record(org.member2, "test.cheer", 2, T0 + timedelta(seconds=100))
    assert total(org.member2) == 2


def test_once_per_object_even_with_new_idempotency_keys(rules, org):
    record(org.member1, "lesson.completed", 42, T0, key="first")
    record(org.member1, "lesson.completed", 42, T0 + timedelta(days=3), key="again-later")
    record(org.member1, "lesson.completed", 43, T0 + timedelta(days=3, minutes=2), key="another-lesson")
    assert [e.object_id for e in entries(org.member1)] == ["42", "43"]
    # The same lesson for another member still counts.
    record(org.member2, "lesson.completed", 42, T0, key="member2")
    assert total(org.member2) == 1


def test_minimum_score_for_quiz_verbs(rules, org):
    record(org.member1, "quiz.passed", 1, T0, extras={"score": 5, "max_score": 10})
    record(org.member1, "quiz.passed", 2, T0, extras={})
    assert entries(org.member1) == []
    record(org.member1, "quiz.passed", 3, T0, extras={"score": 6, "max_score": 10})
    assert [(e.object_id, e.points) for e in entries(org.member1)] == [("3", 2)]
    # Without a maximum the minimum is an absolute score.
    absolute = services.create_rule("quiz.attempted", {**services.rule_values(None), "min_score": 8},
                                    now=T0 - timedelta(days=1))
    tk.db.session.commit()
    record(org.member2, "quiz.attempted", 1, T0, extras={"score": 7})
    record(org.member2, "quiz.attempted", 2, T0, extras={"score": "8"})
    assert [(e.object_id, e.rule_id) for e in entries(org.member2)] == [("2", absolute.id)]


def test_active_from_and_until_dates(rules, org):
    services.create_rule("test.seasonal", {**services.rule_values(None), "points": 4,
                                           "active_from": date(2026, 3, 11), "active_until": date(2026, 3, 12)},
                         now=T0 - timedelta(days=30))
    tk.db.session.commit()
    for offset in range(4):  # 10, 11, 12, 13 March
        record(org.member1, "test.seasonal", offset, T0 + timedelta(days=offset))
    assert [e.day_key for e in entries(org.member1)] == [20260311, 20260312]


def test_rule_changes_are_never_retroactive(rules, org):
    record(org.member1, "course.completed", 1, T0)
    first = entries(org.member1)[0]
    assert first.points == 5
    change("course_completed", T0 + timedelta(hours=1), points=8)
    # The old entry is untouched and still names the version that produced it.
    tk.db.session.expire_all()
    assert tk.db.session.get(PointsEntry, first.id).points == 5
    record(org.member1, "course.completed", 2, T0 + timedelta(hours=2))
    # An activity that happened before the change (recorded late) is scored by the old version.
    record(org.member1, "course.completed", 3, T0 + timedelta(minutes=30))
    scored = {e.object_id: (e.points, e.rule_version.version) for e in entries(org.member1)}
    assert scored == {"1": (5, 1), "2": (8, 2), "3": (5, 1)}
    versions = rule("course_completed").versions
    assert [(v.version, v.valid_to) for v in versions] == [(1, T0 + timedelta(hours=1)), (2, None)]


def test_disabled_rule_awards_nothing_until_enabled_again(rules, org):
    change("lesson_completed", T0 - timedelta(hours=1), enabled=False)
    record(org.member1, "lesson.completed", 1, T0)
    assert entries(org.member1) == []
    change("lesson_completed", T0 + timedelta(hours=1), enabled=True)
    record(org.member1, "lesson.completed", 2, T0 + timedelta(hours=2))
    assert [e.object_id for e in entries(org.member1)] == ["2"]


def test_unchanged_save_keeps_the_version(rules, org):
    target = rule("lesson_completed")
    assert services.update_rule(target, services.rule_values(target.current), now=T0) is None
    assert len(target.versions) == 1


def test_invalid_rule_values_are_refused(rules):
    with pytest.raises(tk.ServiceError):
        services.create_rule("x.y", {**services.rule_values(None), "points": 0})
    with pytest.raises(tk.ServiceError):
        services.update_rule(rule("lesson_completed"), {**services.rule_values(None), "active_from": date(2026, 3, 2),
                                                       "active_until": date(2026, 3, 1)})


def test_campaign_rules_only_for_participating_units_and_dates(rules, org, db):
    campaign = services.save_campaign(None, name="Four comparisons", description="", starts_on=date(2026, 3, 1),
                                      ends_on=date(2026, 3, 31), units=[org.home], owner_unit=org.township,
                                      account_id=None, now=T0 - timedelta(days=20))
    services.create_rule("report.submitted", {**services.rule_values(None), "points": 10}, campaign=campaign,
                         now=T0 - timedelta(days=20))
    db.session.commit()
    record(org.member1, "report.submitted", 1, T0)
    record(org.outsider, "report.submitted", 1, T0)                      # foreign branch: not in the campaign
    record(org.member2, "report.submitted", 1, datetime(2026, 4, 2, 2))  # after the campaign
    got = {(e.member_id, e.campaign_id, e.points) for e in db.session.scalars(select(PointsEntry))}
    # The general rule (2 points) applies to everyone; the campaign's 10 only to member1.
    assert got == {(org.member1.id, None, 2), (org.member1.id, campaign.id, 10), (org.outsider.id, None, 2),
                   (org.member2.id, None, 2)}
    from portal_points.leaderboard import campaign_board

    assert [(row.member_id, row.points) for row in campaign_board(campaign)] == [(org.member1.id, 10)]


def test_level_badge_when_threshold_reached(rules, org, db):
    tk.set_setting("points", "level_thresholds", ["5", "10"])
    db.session.commit()
    for index in range(6):
        record(org.member1, "lesson.completed", index, T0 + timedelta(minutes=2 * index))
    badges = services.badges_of(org.member1.id)
    assert [(b.kind, b.key) for b in badges] == [("level", "2")]
    level = services.level_for(total(org.member1))
    assert (level.number, level.next_at, level.to_next) == (2, 10, 4)


def test_daily_login_is_recorded_once_per_day_and_earns_one_point(client, org, db):
    login(client, "member1")
    client.get("/dashboard")
    client.get("/points/")
    client.get("/api/v1/points/me")
    db.session.expire_all()
    activities = db.session.scalar(select(func.count()).select_from(tk.Activity).where(
        tk.Activity.verb == "member.daily_login", tk.Activity.actor_id == org.member1.id))
    assert activities == 1
    assert [(e.verb, e.points, e.category) for e in entries(org.member1)] == [("member.daily_login", 1, "login")]
    assert db.session.scalar(select(PointsTotal.points).where(PointsTotal.member_id == org.member1.id,
                                                              PointsTotal.period == "a")) == 1

"""Exactly-once awards under 20 concurrent threads (run on SQLite and on PostgreSQL)."""
from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_points import services
from portal_points.models import PointsEntry, PointsRule, PointsTotal
from portal_points.totals import recompute

THREADS = 20
T0 = datetime(2026, 3, 10, 2, 0, 0)


def run_concurrently(app, work) -> list[BaseException]:
    """Run ``work(i)`` in 20 threads released together, each in its own app context and write transaction."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        with app.app_context():
            try:
                with tk.write_intent():
                    barrier.wait()
                    work(index)
            except BaseException as exc:  # collected and asserted on by the test
                errors.append(exc)
                tk.db.session.rollback()
            finally:
                tk.db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    tk.db.session.rollback()  # end the test's own read snapshot so it sees what the threads committed
    return errors


def entry_count(db, member_id) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.member_id == member_id)) or 0


def test_same_activity_twenty_times_at_once_yields_one_entry(app, db, org):
    services.ensure_default_rules()
    db.session.commit()
    member_id = org.member1.id

    def work(_index):
        member = tk.db.session.get(tk.Member, member_id)
        tk.record_activity(member, "course.completed", "course", 9, at=T0)
        tk.db.session.commit()

    errors = run_concurrently(app, work)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(tk.Activity).where(
        tk.Activity.actor_id == member_id)) == 1
    assert entry_count(db, member_id) == 1
    assert services.member_total(member_id, "day", now=T0) == 5
    assert db.session.scalar(select(PointsTotal.points).where(PointsTotal.member_id == member_id,
                                                              PointsTotal.period == "a")) == 5


def test_daily_cap_holds_under_twenty_concurrent_lessons(app, db, org):
    services.ensure_default_rules()
    lesson = db.session.scalar(select(PointsRule).where(PointsRule.code == "lesson_completed"))
    services.update_rule(lesson, {**services.rule_values(lesson.current), "cooldown_seconds": 0},
                         now=datetime(2026, 1, 1))
    db.session.commit()
    member_id = org.member2.id

    def work(index):
        member = tk.db.session.get(tk.Member, member_id)
        tk.record_activity(member, "lesson.completed", "lesson", 100 + index, at=T0)
        tk.db.session.commit()

    errors = run_concurrently(app, work)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(tk.Activity).where(
        tk.Activity.actor_id == member_id)) == THREADS
    assert entry_count(db, member_id) == 6
    assert services.member_total(member_id, "day", now=T0) == 6
    report = recompute()
    assert report.count == 0


def test_one_reversal_when_twenty_secretaries_click_at_once(app, db, org):
    entry = services.award_manual(org.member1, 7, "Organized the Spring Festival tea talk", account=org.home_sec,
                                  now=T0)
    db.session.commit()
    entry_id, account_id = entry.id, org.home_sec.id

    def work(_index):
        target = tk.db.session.get(PointsEntry, entry_id)
        services.reverse_entry(target, "Counted for the wrong member", account=tk.db.session.get(tk.Account, account_id))
        tk.db.session.commit()

    errors = run_concurrently(app, work)
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, tk.ServiceError) for e in errors)
    assert entry_count(db, org.member1.id) == 2
    assert services.member_total(org.member1.id, now=T0) == 0

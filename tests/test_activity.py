"""The activity stream records each act exactly once, even under concurrent requests."""
from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select

from portal.activity.models import Activity
from portal.activity.services import last_active, record_activity
from portal.database import write_intent
from portal.org.models import Member


def test_recording_twice_returns_the_same_row(org, db):
    first, created = record_activity(org.member1, "lesson.completed", "lesson", 7)
    db.session.commit()
    again, created_again = record_activity(org.member1, "lesson.completed", "lesson", 7)
    db.session.commit()
    assert created and not created_again and first.id == again.id
    assert first.home_unit_id == org.home.id and first.host_unit_id == org.host.id


def test_last_active_follows_the_stream(org, db):
    at = datetime(2026, 3, 1, 8, 30)
    record_activity(org.member2, "quiz.passed", "quiz", 1, at=at)
    db.session.commit()
    assert last_active(org.member2.id) == at
    assert db.session.get(Member, org.member2.id).last_active_at == at


def test_twenty_threads_record_one_activity(app, org, db):
    member_id = org.member1.id
    barrier = threading.Barrier(20)
    outcomes, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=30)  # all start together
                with write_intent():
                    member = db.session.get(Member, member_id)
                    _activity, created = record_activity(member, "meeting.attended", "meeting", 42)
                    db.session.commit()
                outcomes.append(created)
            except Exception as exc:  # surfaced below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == [False] * 19 + [True]
    db.session.rollback()  # end this test's read snapshot so the threads' commit is visible
    count = db.session.scalar(select(func.count()).select_from(Activity).where(Activity.verb == "meeting.attended"))
    assert count == 1


def test_a_plugin_failing_in_the_activity_hook_keeps_the_activity(app, org, db, monkeypatch):
    from portal.plugins.manager import get_manager

    manager = get_manager()

    class Exploding:
        @staticmethod
        def portal_activity_recorded(activity):
            db.session.add(Activity(idempotency_key="partial", actor_id=activity.actor_id, verb="x",
                                    object_type="x", object_id="x"))
            db.session.flush()
            raise RuntimeError("boom")

    from portal.plugins import hookimpl

    Exploding.portal_activity_recorded = hookimpl(Exploding.portal_activity_recorded)
    manager.pm.register(Exploding, name="exploding")
    monkeypatch.setattr(manager, "is_enabled", lambda name: True)
    try:
        activity, created = record_activity(org.member2, "lesson.completed", "lesson", 1)
        db.session.commit()
    finally:
        manager.pm.unregister(name="exploding")
    assert created
    keys = set(db.session.scalars(select(Activity.idempotency_key)))
    assert "partial" not in keys  # the failing plugin's own writes were rolled back
    assert activity.idempotency_key in keys

"""Reading time is time actually spent on a lesson (issue 13), not time since first opening.

The member's reading clock credits the time between their lesson events to one lesson at a
time: heartbeats of a visible page (capped at the interval plus slack), lesson requests without
JavaScript (capped), nothing while the page is hidden. Every service call takes ``now``: the
tests drive a clock of their own.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Certificate, Course, ReadingClock
from tests.conftest import api_token, login
from tests.helpers.query_counter import count_queries

FIVE_MINUTES = 300
BEAT = 15


def make_course(org, lessons: int, min_seconds: int = FIVE_MINUTES) -> Course:
    """A published certificate course of the home branch whose lessons each need ``min_seconds``."""
    course = services.save_course(None, {"slug": f"reading-{lessons}", "title_zh": "阅读时间", "completion_rule": "all_lessons",
                                         "published": True, "grants_certificate": True}, org.home)
    for number in range(lessons):
        services.save_lesson(course, None, {"title_zh": f"第{number + 1}课", "body_zh": "正文", "min_seconds": str(min_seconds)})
    tk.db.session.commit()
    return course


def spent(member, lesson) -> int:
    return services.lesson_progress(member, lesson).seconds_spent


def beat_for(member, lesson, start, seconds: int, every: int = BEAT):
    """The page of ``lesson`` in front from ``start`` for ``seconds``: its first beat, then one each interval."""
    for offset in range(0, seconds + 1, every):
        services.record_reading(member, lesson.id, "beat", now=start + timedelta(seconds=offset))
    return start + timedelta(seconds=seconds)


@pytest.fixture
def reading(app, db):
    tk.set_setting("courses", "reading_heartbeat_seconds", BEAT)
    tk.db.session.commit()


def test_the_tab_trick_fails(reading, org):
    """Ten lessons open in tabs, all beating "in parallel" for 3 minutes: at most 3 minutes in total, nothing completes."""
    member, course = org.member1, make_course(org, 10)
    lessons = course.active_lessons
    t0 = tk.utcnow() - timedelta(hours=1)
    for index, lesson in enumerate(lessons):
        services.open_lesson(member, lesson, now=t0 + timedelta(milliseconds=100 * index))
    start = t0 + timedelta(seconds=1)
    for tick in range(0, 181, BEAT):  # every tab beats at each tick, a few milliseconds apart
        for index, lesson in enumerate(lessons):
            services.record_reading(member, lesson.id, "beat", now=start + timedelta(seconds=tick, milliseconds=index))
    tk.db.session.commit()
    total = sum(spent(member, lesson) for lesson in lessons)
    assert 0 < total <= 180
    later = start + timedelta(minutes=6)  # past 5 minutes since opening: the old rule granted everything here
    for lesson in lessons:
        with pytest.raises(tk.ServiceError) as refused:
            services.complete_lesson(member, lesson, now=later)
        assert refused.value.code == "too_soon" and refused.value.details["seconds_left"] > 0
    tk.db.session.commit()
    assert sum(spent(member, lesson) for lesson in lessons) <= 180 + BEAT + services.HEARTBEAT_SLACK
    assert services.course_progress(member, course).done == 0
    assert tk.db.session.scalar(select(func.count(Certificate.id)).where(Certificate.member_id == member.id)) == 0


def test_a_reader_who_stays_on_the_lesson_completes_and_gets_the_certificate(reading, org):
    member, course = org.member1, make_course(org, 1)
    lesson = course.active_lessons[0]
    t0 = tk.utcnow() - timedelta(hours=1)
    services.open_lesson(member, lesson, now=t0)
    end = beat_for(member, lesson, t0 + timedelta(seconds=1), FIVE_MINUTES - BEAT)
    with pytest.raises(tk.ServiceError) as early:
        services.complete_lesson(member, lesson, now=end + timedelta(seconds=1))
    assert early.value.details["seconds_left"] == BEAT - 1  # 285 s of beats + the second before clicking
    end = beat_for(member, lesson, end + timedelta(seconds=BEAT), BEAT)
    _progress, created = services.complete_lesson(member, lesson, now=end + timedelta(seconds=2))
    tk.db.session.commit()
    assert created and spent(member, lesson) >= FIVE_MINUTES
    assert services.course_progress(member, course).completed_at is not None
    assert tk.db.session.scalar(select(func.count(Certificate.id)).where(Certificate.member_id == member.id)) == 1


def test_a_hidden_tab_credits_nothing(reading, org):
    member, course = org.member1, make_course(org, 2)
    first, second = course.active_lessons
    t0 = tk.utcnow() - timedelta(hours=1)
    services.open_lesson(member, first, now=t0)
    end = beat_for(member, first, t0 + timedelta(seconds=2), 30)  # 30 s in front
    services.record_reading(member, first.id, "pause", now=end + timedelta(seconds=5))  # then hidden
    back = end + timedelta(minutes=20)
    services.record_reading(member, first.id, "beat", now=back)  # in front again 20 minutes later
    tk.db.session.commit()
    assert spent(member, first) == 35
    # opened in a background tab: the time before its first beat is not credited
    services.open_lesson(member, second, now=back + timedelta(seconds=1))
    services.record_reading(member, second.id, "beat", now=back + timedelta(minutes=10))
    tk.db.session.commit()
    assert spent(member, second) == 0 and spent(member, first) == 35 + 1
    # a page that stopped beating without saying so (phone locked) earns one interval plus slack at most
    services.record_reading(member, second.id, "beat", now=back + timedelta(minutes=40))
    tk.db.session.commit()
    assert spent(member, second) == BEAT + services.HEARTBEAT_SLACK


def test_without_javascript_the_time_between_lesson_requests_counts(reading, org):
    member, course = org.member1, make_course(org, 3)
    first, second, third = course.active_lessons
    t0 = tk.utcnow() - timedelta(hours=2)
    services.open_lesson(member, first, now=t0)
    services.open_lesson(member, second, now=t0 + timedelta(minutes=4))
    services.open_lesson(member, third, now=t0 + timedelta(minutes=50))  # the gap is capped
    tk.db.session.commit()
    assert (spent(member, first), spent(member, second), spent(member, third)) == (240, services.PAGE_GAP_SECONDS, 0)
    # "I have read this lesson" is a lesson request too: it credits the time since the page was opened
    _progress, created = services.complete_lesson(member, third, now=t0 + timedelta(minutes=56))
    assert created and spent(member, third) == 360
    with pytest.raises(tk.ServiceError) as first_again:
        services.complete_lesson(member, first, now=t0 + timedelta(minutes=56, seconds=5))
    assert first_again.value.details["seconds_left"] == FIVE_MINUTES - 240


def test_api_contract_and_heartbeat_endpoint(reading, client, org):
    member, course = org.member1, make_course(org, 1, min_seconds=60)
    lesson = course.active_lessons[0]
    headers = api_token(client, "member1")
    opened = client.get(f"/api/v1/lessons/{lesson.id}", headers=headers).json
    assert opened["seconds_left"] == 60 and opened["min_seconds"] == 60
    now = tk.utcnow()
    beat_for(member, lesson, now, 30)
    tk.db.session.commit()
    too_soon = client.post(f"/api/v1/lessons/{lesson.id}/complete", headers=headers)
    assert too_soon.status_code == 409 and too_soon.json["error"]["code"] == "too_soon"
    assert too_soon.json["error"]["seconds_left"] == 30  # the minimum less the time spent
    assert client.get(f"/api/v1/lessons/{lesson.id}", headers=headers).json["seconds_left"] == 30
    login(client, "member1")
    assert client.post(f"/courses/reading/{lesson.id}", data={"state": "beat"}).status_code == 204
    assert client.post(f"/courses/reading/{lesson.id}", data={"state": "forever"}).status_code == 400
    tk.db.session.expire_all()
    assert spent(member, lesson) == 30


def test_heartbeat_is_cheap(reading, app, client, org):
    """A heartbeat that credits time sends two statements of its own (move the clock, credit the lesson)."""
    member, course = org.member1, make_course(org, 1)
    lesson = course.active_lessons[0]
    login(client, "member1")
    client.get(f"/courses/{course.slug}/lessons/{lesson.id}")
    client.post(f"/courses/reading/{lesson.id}", data={"state": "beat"})
    clock = tk.db.session.get(ReadingClock, member.id)
    clock.at -= timedelta(seconds=10)  # the previous beat was 10 seconds ago
    url = f"/courses/reading/{lesson.id}"
    tk.db.session.commit()
    with app.app_context():
        with count_queries() as queries:
            assert client.post(url, data={"state": "beat"}).status_code == 204
    assert len([q for q in queries if "courses_" in q.sql]) == 2, queries.report()
    # with the settings, the session's account and the composition cache's one stamp upsert at commit
    assert len(queries) <= 5, queries.report()
    tk.db.session.expire_all()
    assert spent(member, lesson) == 10


def test_lesson_page_shows_what_is_left_and_loads_the_heartbeat_script(reading, client, org):
    course = make_course(org, 1, min_seconds=120)
    lesson = course.active_lessons[0]
    login(client, "member1")
    html = client.get(f"/courses/{course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    assert "reading.js" in html and f'data-reading-url="/courses/reading/{lesson.id}"' in html
    assert f'data-interval="{BEAT}"' in html and "120 seconds" in html


def _writes(queries) -> list[str]:
    """The INSERT/UPDATE/DELETE statements of a counted block (the cache stamps' upsert included)."""
    return [q.sql for q in queries if q.sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_reopening_the_lesson_one_is_on_writes_nothing(reading, app, client, org):
    """Issue 20: a reload changes nothing, so it sends no write and takes no write lock (SQLite's one writer)."""
    member, course = org.member1, make_course(org, 2, min_seconds=60)
    first, second = course.active_lessons
    url = f"/courses/{course.slug}/lessons/{first.id}"
    login(client, "member1")
    with app.app_context():
        with count_queries() as opening:
            assert "Lesson 1 of 2" in client.get(url).get_data(as_text=True)
    assert _writes(opening), opening.report()  # the first view records the opening
    progress = services.lesson_progress(member, first)
    assert progress is not None and services.enrollment(member, course).last_lesson_id == first.id
    with app.app_context():
        with count_queries() as reload:
            html = client.get(url).get_data(as_text=True)
    assert not _writes(reload), reload.report()
    assert not [c for c in reload.control if "IMMEDIATE" in c.upper()], reload.control
    assert "60 seconds" in html and f'href="/courses/{course.slug}/lessons/{second.id}"' in html
    # once the reading clock was moved elsewhere (or paused, or has run for a while), a view writes again
    client.get(f"/courses/{course.slug}/lessons/{second.id}")
    with app.app_context():
        with count_queries() as back:
            client.get(url)
    assert _writes(back), back.report()
    client.post(f"/courses/reading/{first.id}", data={"state": "pause"})
    with app.app_context():
        with count_queries() as after_pause:
            client.get(url)
    assert _writes(after_pause), after_pause.report()
    tk.db.session.expire_all()
    assert tk.db.session.get(ReadingClock, member.id).state == "page"


def test_reloads_without_javascript_still_count_the_reading_time(reading, org):
    """A reload within the heartbeat window is skipped; the clock still runs from the first view."""
    member, course = org.member1, make_course(org, 1, min_seconds=60)
    lesson = course.active_lessons[0]
    t0 = tk.utcnow() - timedelta(hours=1)
    services.open_lesson(member, lesson, now=t0)
    services.open_lesson(member, lesson, now=t0 + timedelta(seconds=10))  # a reload: nothing written
    tk.db.session.expire_all()
    clock = tk.db.session.get(ReadingClock, member.id)
    assert clock.at == t0 and services.lesson_progress(member, lesson).last_opened_at == t0
    window = BEAT + services.HEARTBEAT_SLACK
    later = t0 + timedelta(seconds=window)
    services.open_lesson(member, lesson, now=later)  # past the window: recorded, the time since t0 credited
    tk.db.session.expire_all()
    assert services.lesson_progress(member, lesson).last_opened_at == later and spent(member, lesson) == window
    _progress, created = services.complete_lesson(member, lesson, now=t0 + timedelta(seconds=60))
    assert created and spent(member, lesson) == 60


def test_the_lesson_page_follows_lesson_edits_at_once(reading, client, org):
    """Its place and neighbours come from the database on every view: a new or retired lesson shows at once."""
    course = make_course(org, 2)
    first, second = course.active_lessons
    login(client, "member1")
    url = f"/courses/{course.slug}/lessons/{second.id}"
    assert "Lesson 2 of 2" in client.get(url).get_data(as_text=True)
    third = services.save_lesson(course, None, {"title_zh": "第3课", "body_zh": "新的正文", "min_seconds": "30"})
    tk.db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "Lesson 2 of 3" in html and f'/lessons/{third.id}"' in html
    first.retired_at = tk.utcnow()
    services.save_lesson(course, second, {"title_zh": "改过的第2课", "body_zh": "**改过**", "min_seconds": "30"})
    tk.db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "Lesson 1 of 2" in html and "改过的第2课" in html and "<strong>改过</strong>" in html
    assert 'rel="prev"' not in html

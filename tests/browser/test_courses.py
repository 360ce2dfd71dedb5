"""A member studies a lesson on a phone-sized screen (360 px), without any help from JavaScript."""
from __future__ import annotations

from playwright.sync_api import expect

from portal import toolkit as tk
from portal_courses.sync import sync_directory
from tests.browser.conftest import browser_login


def test_member_studies_a_lesson_on_a_phone(page, live_server, db, org, tmp_path):
    sync_directory()
    tk.set_setting("courses", "min_reading_seconds", 0)  # no waiting in a test; the rule itself is tested elsewhere
    tk.set_setting("courses", "max_reading_seconds", 0)
    db.session.commit()
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/courses")
    page.get_by_role("link", name="Staying connected while away").click()
    page.get_by_role("link", name="Start the course").click()
    expect(page.get_by_role("heading", name="Before you leave: outflow registration")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360  # nothing wider than the phone
    assert page.locator(".lesson-body table").count() == 1
    page.screenshot(path=str(tmp_path / "lesson-360.png"), full_page=True)

    page.get_by_role("button", name="I have read this lesson").click()
    # expect() waits for the page the click navigates to; is_visible() would look at once
    expect(page.get_by_text("Lesson completed.")).to_be_visible()
    expect(page.get_by_role("heading", name="The mobile member activity certificate")).to_be_visible()

    page.get_by_label("Your comment").fill("Checked in at the Shenzhen branch in my first week.")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Your comment is posted.")).to_be_visible()
    expect(page.locator("#discussion").get_by_text("Checked in at the Shenzhen branch")).to_be_visible()

    page.get_by_role("link", name="‹ Staying connected while away").click()
    expect(page.get_by_text("1 of 5 lessons done")).to_be_visible()
    expect(page.get_by_role("link", name="Continue: The mobile member activity certificate")).to_be_visible()
    page.screenshot(path=str(tmp_path / "course-360.png"), full_page=True)


def test_visible_lesson_page_accumulates_reading_time(page, live_server, db, org):
    """reading.js beats while the page is in front; the server credits it; the lesson completes by reading."""
    from portal_courses import services
    from portal_courses.models import LessonProgress

    course = services.save_course(None, {"slug": "heartbeat", "title_zh": "心跳", "title_en": "Heartbeat",
                                         "completion_rule": "all_lessons", "published": True}, org.home)
    lesson = services.save_lesson(course, None, {"title_zh": "第一课", "title_en": "First lesson", "body_zh": "正文",
                                                 "body_en": "Text.", "min_seconds": "2"})
    tk.set_setting("courses", "reading_heartbeat_seconds", 1)  # a fast heartbeat instead of waiting 15 s per beat
    db.session.commit()
    lesson_id = lesson.id
    browser_login(page, live_server, "member1")
    with page.expect_response(lambda r: f"/courses/reading/{lesson_id}" in r.url and r.status == 204):
        page.goto(f"{live_server}/courses/heartbeat/lessons/{lesson_id}")
    assert page.locator("script[src$='/reading.js']").count() == 1

    def spent() -> int:
        db.session.commit()  # a fresh snapshot: the live server writes in its own transactions
        return db.session.scalar(db.select(LessonProgress.seconds_spent).where(
            LessonProgress.member_id == org.member1.id, LessonProgress.lesson_id == lesson_id)) or 0

    for _attempt in range(20):  # poll the server's state after each beat (about 3 are needed)
        if spent() >= 2:
            break
        page.wait_for_event("response", lambda r: "/courses/reading/" in r.url, timeout=5000)
    assert spent() >= 2
    page.get_by_role("button", name="I have read this lesson").click()
    expect(page.get_by_text("Lesson completed. Congratulations, you have completed the course!")).to_be_visible()

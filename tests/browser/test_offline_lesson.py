"""A member reads without signal (issue 21): the service worker keeps the pages opened online, per account."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal_courses.models import Course
from portal_courses.sync import sync_directory
from tests.browser.conftest import browser_login

pytestmark = pytest.mark.browser_context_args(service_workers="allow")  # the worker is what is tested
NO_PAGES_SAVED = "caches.keys().then(names => !names.some(name => name.startsWith('portal-pages-')))"


def _open_and_save(page, url: str) -> None:
    """Open a page online and wait until the worker controls it and has its copy stored."""
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")
    expect(page.locator("html")).to_have_attribute("data-offline-saved", "1")
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def test_opened_lessons_and_outline_are_readable_offline(page, live_server, db, org):
    sync_directory()
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    opened, unopened = course.active_lessons[0], course.active_lessons[1]
    outline = f"{live_server}/courses/{course.slug}"
    lesson_url, unopened_url = f"{outline}/lessons/{opened.id}", f"{outline}/lessons/{unopened.id}"
    browser_login(page, live_server, "member1")
    _open_and_save(page, f"{live_server}/dashboard")  # opened before the worker ran: saved when it takes over
    _open_and_save(page, outline)
    _open_and_save(page, lesson_url)
    heading = page.get_by_role("heading", name=opened.title("en"))
    expect(heading).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")

    page.context.set_offline(True)
    try:
        page.reload()
        expect(heading).to_be_visible()
        expect(page.locator(".lesson-body")).not_to_be_empty()
        expect(page.get_by_text("You are offline: this is the copy saved on this phone.")).to_be_visible()
        page.goto(outline)
        expect(page.get_by_role("heading", name=course.title("en"))).to_be_visible()
        page.goto(unopened_url)
        expect(page.get_by_role("heading", name="No connection")).to_be_visible()
        saved = page.locator("[data-saved-pages] a")
        expect(saved.filter(has_text=opened.title("en"))).to_have_attribute("href", lesson_url)
        expect(saved.filter(has_text=course.title("en"))).to_have_count(1)
        expect(page.get_by_role("heading", name=unopened.title("en"))).to_have_count(0)
    finally:
        page.context.set_offline(False)
    page.reload()  # "Try again" once the signal is back: the lesson itself
    expect(page.get_by_role("heading", name=unopened.title("en"))).to_be_visible()


def test_the_next_member_on_the_phone_never_sees_the_previous_ones_pages(page, live_server, db, org):
    sync_directory()
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    lesson_url = f"{live_server}/courses/{course.slug}/lessons/{course.active_lessons[0].id}"
    browser_login(page, live_server, "member1")
    _open_and_save(page, lesson_url)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")  # the login page was seen by it
    assert page.evaluate(NO_PAGES_SAVED)  # the logout (and the page without an account) deleted them

    browser_login(page, live_server, "member2")
    _open_and_save(page, f"{live_server}/dashboard")
    page.context.set_offline(True)
    try:
        page.goto(lesson_url)
        expect(page.get_by_role("heading", name="No connection")).to_be_visible()
        expect(page.locator("[data-saved-pages] a")).to_have_count(1)  # member2's dashboard only
        expect(page.locator("[data-saved-pages] a")).to_have_attribute("href", f"{live_server}/dashboard")
    finally:
        page.context.set_offline(False)

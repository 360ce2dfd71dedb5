"""The hook seams, called for real through pluggy (no monkeypatched ``call_each``).

Test plugins are objects registered on the session app's plugin manager for
one test (they are always enabled, like the core); plugins that must be
discovered (published hookspecs, the unknown-hook check) live in a fresh app's
instance folder.
"""
from __future__ import annotations

import os
import types
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select, text

from portal import create_app
from portal import toolkit as tk
from portal.notify.services import notify
from portal.plugins import hookimpl, hookspec
from portal.plugins.manager import get_manager
from portal.plugins.types import DeliveryChannel, NavItem
from tests.conftest import PG_URL, login


def failures() -> list[tuple[str, str]]:
    """Hook failures recorded in this app context (persisted at its teardown)."""
    return list(g.get("_plugin_failures", []))


class Answer:
    """Answers ``portal_course_final_quiz`` (a firstresult hook) with a fixed value."""

    def __init__(self, value):
        self.value = value

    @hookimpl
    def portal_course_final_quiz(self, course_slug, member):
        return self.value


class Raises:
    @hookimpl
    def portal_course_final_quiz(self, course_slug, member):
        raise RuntimeError("quiz service down")


def test_firstresult_first_non_none_wins_and_a_raising_impl_falls_through(db, org, register):
    manager = get_manager()
    register(Answer({"title": "last", "url": "/x", "passed": False}), "answer_c")  # called last (oldest)
    register(Answer({"title": "second", "url": "/y", "passed": True}), "answer_b")
    register(Raises(), "raises")
    register(Answer(None), "answer_none")  # newest: called first, says nothing
    result = manager.call_hook("portal_course_final_quiz", course_slug="nope", member=org.member1)
    assert result == {"title": "second", "url": "/y", "passed": True}
    assert [name for name, _ in failures()] == ["raises"] and "quiz service down" in failures()[0][1]
    assert manager.call_each("portal_course_final_quiz", course_slug="nope", member=org.member1) == [
        ("answer_b", {"title": "second", "url": "/y", "passed": True})]


def test_tryfirst_runs_before_newer_registrations(db, org, register):
    class Early(Answer):
        @hookimpl(tryfirst=True)
        def portal_course_final_quiz(self, course_slug, member):
            return self.value

    register(Early("early"), "early")
    register(Answer("newest"), "newest")
    assert get_manager().call_hook("portal_course_final_quiz", course_slug="x", member=org.member1) == "early"


class AddsNavItem:
    """A new-style hook wrapper: sees every plugin's items and adds one of its own."""

    def __init__(self):
        self.seen = None

    @hookimpl(wrapper=True)
    def portal_nav_items(self, account):
        result = yield
        self.seen = [item for items in result for item in items]
        return result + [[NavItem("Wrapped", "web.dashboard", order=1)]]


class BrokenWrapper:
    @hookimpl(hookwrapper=True)
    def portal_nav_items(self, account):
        raise RuntimeError("broken before yield")
        yield  # makes it a generator


def test_hook_wrappers_run_and_a_broken_one_is_isolated(db, org, register):
    wrapper = register(AddsNavItem(), "wrapper")
    register(BrokenWrapper(), "broken_wrapper")
    manager = get_manager()
    items = manager.call_list("portal_nav_items", account=org.member1.account)
    labels = [str(item.label) for item in items]
    assert labels[:2] == ["Home", "Wrapped"]  # ordered by `order`
    assert "Online school" in labels and "Online school" in [str(i.label) for i in wrapper.seen]
    owners = dict(manager.call_each("portal_nav_items", account=org.member1.account))
    assert [str(i.label) for i in owners["wrapper"]] == ["Wrapped"]  # a wrapper's own result is its own
    assert "Online school" in [str(i.label) for i in owners["courses"]]
    assert {name for name, _ in failures()} == {"broken_wrapper"}


def test_a_disabled_plugin_is_not_called_unless_asked(db, org):
    manager = get_manager()
    account = org.member1.account
    assert "quizzes" in dict(manager.call_each("portal_nav_items", account=account))
    manager.set_enabled("quizzes", False)
    db.session.commit()
    manager.forget_states()
    assert "quizzes" not in dict(manager.call_each("portal_nav_items", account=account))
    assert "Quizzes" not in [str(i.label) for i in manager.call_list("portal_nav_items", account=account)]
    assert "quizzes" in dict(manager.call_each("portal_nav_items", enabled_only=False, account=account))
    manager.set_enabled("quizzes", True)
    db.session.commit()
    manager.forget_states()
    assert "quizzes" in dict(manager.call_each("portal_nav_items", account=account))


def test_addhooks_is_historic_for_a_plugin_registered_later(db, register):
    specs = types.ModuleType("later_specs")

    @hookspec(firstresult=True)
    def portal_later_pick(value):
        """A hook published by a plugin registered after start-up."""

    specs.portal_later_pick = portal_later_pick

    class Publisher:
        called_with = None

        @hookimpl
        def portal_addhooks(self, pluginmanager):
            Publisher.called_with = pluginmanager
            pluginmanager.add_hookspecs(specs)

    class Picker:
        @hookimpl
        def portal_later_pick(self, value):
            return value * 2

    manager = get_manager()
    register(Picker(), "picker")  # implemented before the spec exists
    register(Publisher(), "publisher")
    assert Publisher.called_with is manager.pm
    assert manager.call_hook("portal_later_pick", value=21) == 42  # firstresult: a value, not a list


SPEC_PUBLISHER = '''
from portal import toolkit as tk

class Specs:
    @staticmethod
    @tk.hookspec
    def portal_zz_greeting(name):
        """Published by this plugin."""

@tk.hookimpl
def portal_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(Specs)
'''
GOOD_IMPL = '''
from portal import toolkit as tk

@tk.hookimpl(optionalhook=True)
def portal_zz_greeting(name):
    return "hello " + name

@tk.hookimpl(optionalhook=True)
def portal_nobody_publishes_this(value):
    return value
'''
BAD_IMPL = '''
from portal import toolkit as tk

@tk.hookimpl
def portal_zz_greeting(nickname):
    return nickname
'''


def _instance_app(tmp_path_factory, plugins: dict[str, str]):
    """A fresh app (SQLite) whose instance folder holds ``plugins``."""
    instance = tmp_path_factory.mktemp("hooks-instance")
    for name, source in plugins.items():
        package = instance / "plugins" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(source)
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    try:
        return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": f"sqlite:///{instance}/db.sqlite3",
                           "SEARCH_INDEX_DIR": str(instance / "search-index"), "UPLOAD_DIR": str(instance / "uploads")})
    finally:
        os.environ.pop("PORTAL_INSTANCE_PATH", None)


def test_hookspecs_published_late_validate_earlier_impls(tmp_path_factory):
    # Discovered in name order: both implementers register before the publisher's specs exist.
    app = _instance_app(tmp_path_factory, {"a_good": GOOD_IMPL, "b_bad": BAD_IMPL, "z_publisher": SPEC_PUBLISHER})
    manager = get_manager(app)
    assert manager.plugins["z_publisher"].load_error is None
    assert manager.plugins["a_good"].load_error is None  # an optional hook nobody publishes is no error
    assert manager.plugins["b_bad"].module is None and "nickname" in manager.plugins["b_bad"].load_error
    assert manager.pm.hook.portal_zz_greeting(name="Li") == ["hello Li"]


def test_quizzes_implements_the_course_contract_as_optional_hooks():
    from portal_quizzes import portal_course_final_quiz, portal_course_synced

    assert portal_course_synced.portal_impl["optionalhook"] and portal_course_final_quiz.portal_impl["optionalhook"]


QUIZ_COURSE_TOML = """slug = "hooked-course"
category = "general"
estimated_minutes = 5
completion = "all_lessons_and_quiz"
quiz = "final.gift"

[title]
zh_CN = "钩子课程"
en = "Hooked course"
"""


def test_course_synced_with_a_quiz_file_offers_the_final_quiz(db, org, tmp_path):
    """The real courses sync calls the real quizzes hook; the quiz is offered back through firstresult."""
    from portal_courses import services as courses
    from portal_courses.models import Course
    from portal_courses.sync import sync_directory
    from portal_quizzes import services as quizzes
    from portal_quizzes.models import Quiz

    folder = tmp_path / "hooked-course"
    folder.mkdir()
    (folder / "course.toml").write_text(QUIZ_COURSE_TOML, encoding="utf-8")
    (folder / "01-only.md").write_text("# Only lesson\n\nRead me.\n", encoding="utf-8")
    (folder / "final.gift").write_text("::q1:: Members tell their branch before leaving {T}\n", encoding="utf-8")
    sync_directory(tmp_path)
    course = db.session.scalar(select(Course).where(Course.slug == "hooked-course"))
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == "hooked-course"))
    assert quiz is not None
    member = org.member1
    assert courses.final_quiz(course, member) == {"title": "Hooked course", "url": f"/quizzes/{quiz.id}",
                                                  "passed": False}
    now = tk.utcnow() - timedelta(hours=1)
    lesson = course.active_lessons[0]
    courses.open_lesson(member, lesson, now=now)
    courses.complete_lesson(member, lesson, now=now + timedelta(minutes=10))
    db.session.commit()
    assert courses.enrollment(member, course).completed_at is None  # the quiz is not passed yet

    attempt, _ = quizzes.start_attempt(quiz, member, now)
    question_id = quizzes.attempt_questions(attempt)[0][1].id
    quizzes.save_response(attempt, question_id, True, now)
    quizzes.submit_attempt(attempt.id, now + timedelta(minutes=1))
    db.session.commit()
    assert courses.final_quiz(course, member)["passed"] is True
    assert courses.enrollment(member, course).completed_at is not None  # quiz.passed reached the courses hook


class Channel:
    """A delivery channel plugin (an SMS gateway, say) that keeps what it was handed."""

    def __init__(self):
        self.sent = []

    @hookimpl
    def portal_delivery_channels(self):
        return [DeliveryChannel("test-sms", lambda note: self.sent.append((note.account_id, note.title)))]


class BrokenChannel:
    @hookimpl
    def portal_delivery_channels(self):
        def deliver(note):
            raise ConnectionError("gateway unreachable")

        return [DeliveryChannel("broken-sms", deliver)]


def test_delivery_channels_receive_messages_after_commit(db, org, register):
    channel = register(Channel(), "sms_plugin")
    register(BrokenChannel(), "broken_sms")
    account_id = org.member1.account_id
    notify([account_id], "rolled back")
    db.session.rollback()
    notify([account_id], "kept")
    db.session.flush()
    assert channel.sent == []
    db.session.commit()
    assert channel.sent == [(account_id, "kept")]  # the broken channel did not stop it
    assert [name for name, _ in failures()] == ["broken_sms"] and "gateway unreachable" in failures()[0][1]


class MissingTableNav:
    """A plugin whose nav hook's SQL fails (a table its migration never created)."""

    @hookimpl
    def portal_nav_items(self, account):
        tk.db.session.execute(text("SELECT id FROM missing_plugin_table")).all()
        return [NavItem("Never shown", "web.dashboard")]


class CountingNav:
    """A well-behaved plugin whose nav hook queries (called after the failing one: registered earlier)."""

    @hookimpl
    def portal_nav_items(self, account):
        count = tk.db.session.execute(text("SELECT count(*) FROM setting")).scalar()
        return [NavItem(f"Counted {count >= 0}", "web.dashboard", order=99)]


class WritesThenFails:
    """Writes in the request's transaction, then fails: its write must be rolled back, the others' kept."""

    @hookimpl
    def portal_dashboard_widgets(self, account):
        tk.set_setting("core", "site_notice", "written by a failing hook")
        tk.db.session.flush()
        raise RuntimeError("after writing")


def _failing_sql_keeps_pages_working(client, register):
    register(CountingNav(), "counting_nav")
    register(MissingTableNav(), "missing_table")
    register(WritesThenFails(), "writes_then_fails")
    login(client, "member1")
    for path in ("/dashboard", "/courses", "/quizzes/", "/points/", "/inbox/"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        html = page.get_data(as_text=True)
        assert ">Online school</a>" in html and ">Quizzes</a>" in html and "Never shown" not in html
        assert ">Counted True</a>" in html  # its query ran after the failed one, in a live transaction
    assert "written by a failing hook" not in client.get("/dashboard").get_data(as_text=True)
    with client.application.app_context():
        states = get_manager().states()
        assert "missing_plugin_table" in states["missing_table"].last_error
        assert "after writing" in states["writes_then_fails"].last_error


def test_failing_sql_in_a_hook_does_not_break_other_plugins(client, org, register):
    """On the configured database (SQLite by default): each hook runs in its own SAVEPOINT."""
    _failing_sql_keeps_pages_working(client, register)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_DATABASE_URL not set")
def test_failing_sql_in_a_hook_does_not_break_other_plugins_on_postgresql(client, org, register):
    """On PostgreSQL a failed statement aborts the whole transaction, unless it ran in a savepoint."""
    assert client.application.config["DATABASE_URL"].startswith("postgresql")
    _failing_sql_keeps_pages_working(client, register)

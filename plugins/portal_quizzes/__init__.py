"""Quizzes: a question bank with Moodle GIFT/Aiken import, graded attempts that survive a phone, the daily quiz.

Hook implementations only; the rules live in ``services.py``.
"""
from __future__ import annotations

import logging

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_quizzes import models  # noqa: F401  (registers the tables)

log = logging.getLogger(__name__)
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("A question bank with GIFT/Aiken import, graded attempts and the daily quiz.")


@tk.hookimpl
def portal_blueprints():
    from portal_quizzes.api import bp as api_bp
    from portal_quizzes.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("quizzes.manage", _l("Manage the question bank and quizzes"), ("organizer", "admin")),
        tk.Permission("quizzes.bank", _l("Keep the question bank of their units"), tk.SECRETARY_ROLES),
        tk.Permission("quizzes.results", _l("See quiz results of members"), tk.SECRETARY_ROLES),
        tk.Permission("quizzes.grade", _l("Grade members' essay answers"), tk.SECRETARY_ROLES),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [
        tk.ActivityVerb("quiz.started", _l("Started a quiz"), "study"),
        tk.ActivityVerb("quiz.attempted", _l("Finished a quiz attempt"), "study"),
        tk.ActivityVerb("quiz.passed", _l("Passed a quiz"), "study"),
        tk.ActivityVerb("quiz.failed", _l("Did not pass a quiz attempt"), "study"),
        tk.ActivityVerb("daily_quiz.completed", _l("Did the daily quiz"), "study"),
    ]


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("daily_enabled", _l("Daily quiz switched on"), "bool", True),
        tk.SettingSpec("daily_count", _l("Questions in the daily quiz"), "int", 5, min=1, max=50),
        tk.SettingSpec("daily_categories", _l("Question bank categories of the daily quiz"), "list", ["每日答题"],
                       help=_l("Category paths such as 每日答题 or Daily quiz/Mobile members, comma separated; "
                               "sub-categories are included. Empty: the whole bank.")),
        tk.SettingSpec("grace_seconds", _l("Seconds of grace after a quiz's time limit"), "int", 30, min=0, max=600),
        tk.SettingSpec("course_pass_percent", _l("Pass mark of course final quizzes (percent)"), "float", 60,
                       min=0, max=100),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = []
    if account.member is not None:
        items.append(tk.NavItem(_l("Quizzes"), "quizzes.index", order=30))
    if tk.can("quizzes.manage") or tk.can("quizzes.results") or tk.can("quizzes.grade"):
        items.append(tk.NavItem(_l("Quiz results"), "quizzes.manage_index", order=85))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    member = account.member
    if member is None or not tk.get_setting("quizzes", "daily_enabled"):
        return []
    from portal_quizzes import services

    return [tk.Widget(_l("Daily quiz"), "quizzes/widget_daily.html",
                      services.daily_overview(member, tk.local_today()), order=20)]


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal_quizzes import views

    return [tk.Widget(_l("Daily quiz"), "quizzes/widget_unit.html", views.unit_widget_context(unit), order=40)]


@tk.hookimpl
def portal_personal_data(member):
    from portal_quizzes.personal import personal_data

    return personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_quizzes.personal import member_summary

    return member_summary(member, since, until)


@tk.hookimpl
def portal_cli_commands():
    from portal_quizzes.cli import quizzes_group

    return [quizzes_group]


@tk.hookimpl
def portal_api_paths():
    from portal_quizzes.api import OPENAPI_PATHS

    return OPENAPI_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from portal_quizzes.demo import load_demo

    load_demo(context)


@tk.hookimpl(optionalhook=True)  # published by the courses plugin, when installed
def portal_course_synced(course):
    """Import the course's GIFT file as its final quiz (idempotent; a bad file keeps the old quiz)."""
    from portal_quizzes import formats, services

    try:
        with tk.db.session.begin_nested():
            services.sync_course_quiz(course)
    except formats.FormatError as error:
        log.error("course %s: quiz file not imported:\n%s", course.get("slug"), error)


@tk.hookimpl(optionalhook=True)  # published by the courses plugin, when installed
def portal_course_final_quiz(course_slug, member):
    from portal_quizzes import services

    return services.final_quiz_info(course_slug, member)


@tk.hookimpl
def portal_xapi_verbs():
    from portal_quizzes.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})

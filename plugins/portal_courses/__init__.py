"""Online school: courses as files and authored in the browser, lessons with a minimum
reading time, assigned learning, discussion, completion certificates."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_courses import models  # noqa: F401  (registers the tables)

__version__ = "0.1.0"
#: Shown on the admin plugins page, in the viewer's language.
DESCRIPTION = _l("Online school: courses, lessons, assigned learning, discussion and certificates.")


@tk.hookimpl
def portal_addhooks(pluginmanager):
    """Publish the course↔quiz contract (``hookspecs.py``) for quiz plugins to implement."""
    from portal_courses import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@tk.hookimpl
def portal_blueprints():
    from portal_courses.api import bp as api_bp
    from portal_courses.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("courses.author", _l("Write courses and lessons in the browser"), tk.SECRETARY_ROLES),
        tk.Permission("courses.assign", _l("Assign courses and see who completed them"), tk.SECRETARY_ROLES, host_visible=True),
        tk.Permission("courses.moderate", _l("Moderate course discussions"), tk.SECRETARY_ROLES, host_visible=True),
        tk.Permission("courses.certificates", _l("Manage and revoke completion certificates"), ("admin",)),
    ]


@tk.hookimpl
def portal_activity_verbs():
    return [
        tk.ActivityVerb("lesson.completed", _l("Completed a lesson"), "study"),
        tk.ActivityVerb("course.completed", _l("Completed a course"), "study"),
        tk.ActivityVerb("certificate.issued", _l("Received a completion certificate"), "study"),
        tk.ActivityVerb("lesson.commented", _l("Commented on a lesson"), "discussion"),
    ]


@tk.hookimpl
def portal_activity_recorded(activity):
    """A final quiz passed (recorded by the quiz plugin) may complete a course."""
    if activity.verb != "quiz.passed":
        return
    slug = (activity.extras or {}).get("course")
    if slug:
        from portal_courses import services

        services.quiz_passed(activity.actor, slug, activity.created_at)


@tk.hookimpl
def portal_settings():
    return [
        tk.SettingSpec("min_reading_seconds", _l("Minimum seconds on a lesson before it can be marked complete"),
                       "int", 30, min=0, max=3600),
        tk.SettingSpec("max_reading_seconds", _l("Longest minimum reading time for a long lesson (seconds)"),
                       "int", 180, min=0, max=3600),
        tk.SettingSpec("reading_chars_per_minute", _l("Reading speed used to estimate a lesson's reading time (characters per minute)"),
                       "int", 400, min=50, max=5000),
        tk.SettingSpec("reading_heartbeat_seconds", _l("How often a lesson page in front reports reading time (seconds)"),
                       "int", 15, min=1, max=300),
        tk.SettingSpec("comments_enabled", _l("Members may comment under lessons"), "bool", True),
        tk.SettingSpec("report_hide_threshold", _l("Reports that hide a comment until the moderators review it (0: never)"),
                       "int", 3, min=0, max=100),
        tk.SettingSpec("content_dir", _l("Folder of course files (empty: the courses/ folder shipped with the portal)"),
                       "str", ""),
    ]


@tk.hookimpl
def portal_nav_items(account):
    if account is None:
        return []
    items = [tk.NavItem(_l("Online school"), "courses.catalogue", order=10)]
    if tk.can("courses.assign", account=account):
        items.append(tk.NavItem(_l("Assigned learning"), "courses.assignments", order=70))
    if tk.can("courses.moderate", account=account):
        items.append(tk.NavItem(_l("Discussion moderation"), "courses.moderation", order=71))
    return items


@tk.hookimpl
def portal_dashboard_widgets(account):
    from portal_courses import services

    member = account.member
    if member is None:
        return []
    learning = services.dashboard_learning(member)
    return [tk.Widget(_l("My learning"), "courses/widget_member.html",
                      {**learning, "locale": services.current_locale()}, order=20)]


@tk.hookimpl
def portal_unit_dashboard_widgets(account, unit):
    from portal_courses import services

    assigns, moderates = (tk.can(name, unit, account=account) for name in ("courses.assign", "courses.moderate"))
    if not (assigns or moderates):
        return []
    summaries = services.unit_assignment_summaries(unit) if assigns else None
    reported = services.reported_count(account, unit) if moderates else None
    return [tk.Widget(_l("Assigned learning"), "courses/widget_unit.html",
                      {"summaries": summaries, "unit": unit, "locale": services.current_locale(),
                       "reported": reported}, order=40)]


@tk.hookimpl
def portal_search_documents():
    from portal_courses import services

    return list(services.all_documents())


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_courses import services

    return services.overdue_alerts(now)


@tk.hookimpl(optionalhook=True)  # published by portal_review; absent when it is not installed
def portal_review_evidence(member, since, until):
    from portal_courses.personal import review_evidence

    return review_evidence(member, since, until)


@tk.hookimpl
def portal_personal_data(member):
    from portal_courses.personal import personal_data

    return personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_courses.personal import member_summary

    return member_summary(member, since, until)


@tk.hookimpl
def portal_api_paths():
    from portal_courses.api import API_PATHS

    return API_PATHS


@tk.hookimpl
def portal_demo_data(context):
    from portal_courses.demo import build_demo

    build_demo(context)


@tk.hookimpl
def portal_cli_commands():
    from portal_courses.cli import courses_group

    return [courses_group]


@tk.hookimpl
def portal_xapi_verbs():
    from portal_courses.xapi import xapi_verbs

    return xapi_verbs({verb.verb: verb.label for verb in portal_activity_verbs()})


@tk.hookimpl
def portal_notification_kinds():
    return [
        tk.NotificationKind("courses", _l("Courses: assigned learning and the discussion")),
    ]

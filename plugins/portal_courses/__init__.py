"""Online school: courses as files and authored in the browser, lessons with a minimum
reading time, assigned learning, discussion, completion certificates."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l

from portal import toolkit as tk
from portal_courses import models  # noqa: F401  (registers the tables)

__version__ = "0.1.0"

SECRETARIAL = ("secretary", "organizer", "admin")


@tk.hookimpl
def portal_blueprints():
    from portal_courses.api import bp as api_bp
    from portal_courses.views import bp

    return [bp, api_bp]


@tk.hookimpl
def portal_permissions():
    return [
        tk.Permission("courses.author", _l("Write courses and lessons in the browser"), SECRETARIAL),
        tk.Permission("courses.assign", _l("Assign courses and see who completed them"), SECRETARIAL, host_visible=True),
        tk.Permission("courses.moderate", _l("Moderate course discussions"), SECRETARIAL, host_visible=True),
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
        tk.SettingSpec("comments_enabled", _l("Members may comment under lessons"), "bool", True),
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

    if not tk.can("courses.assign", unit, account=account):
        return []
    summaries = services.unit_assignment_summaries(unit)
    return [tk.Widget(_l("Assigned learning"), "courses/widget_unit.html",
                      {"summaries": summaries, "unit": unit, "locale": services.current_locale()}, order=40)]


@tk.hookimpl
def portal_search_documents():
    from portal_courses import services

    return list(services.all_documents())


@tk.hookimpl
def portal_alerts_scan(now):
    from portal_courses import services

    alerts = []
    for assignment, count in services.overdue_counts(now):
        if assignment.due_on == now.date() - timedelta(days=1):  # once, the day after the due date
            alerts.append(tk.Alert(
                kind="courses.overdue", unit_id=assignment.unit_id, member_id=None,
                message=_l("%(num)d member(s) did not complete the assigned course by its due date.", num=count),
                url=services.assignment_path(assignment)))
    return alerts


@tk.hookimpl
def portal_personal_data(member):
    from portal_courses import services

    return services.personal_data(member)


@tk.hookimpl
def portal_member_summary(member, since, until):
    from portal_courses import services

    return services.member_summary(member, since, until)


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
    @click.group("courses", help="The online school's course files.")
    def courses_group():
        pass

    @courses_group.command("sync")
    @click.argument("directory", required=False, type=click.Path(file_okay=False))
    @with_appcontext
    def sync_command(directory):
        """Create and update courses from course folders (default: the shipped courses/)."""
        from portal_courses.sync import ContentErrors, sync_directory

        try:
            report = sync_directory(directory)
        except ContentErrors as errors:
            for error in errors.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(f"{len(errors.errors)} problem(s) found; nothing was changed.")
        while tk.search_drain() > 0:  # update the index now rather than after the process exits
            pass
        click.echo(report.summary())

    return [courses_group]

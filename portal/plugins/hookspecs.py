"""The hook contract between the core and every plugin.

Hooks are called through :func:`portal.plugins.manager.call_hook`, which skips
disabled plugins and isolates failures: a plugin that raises is logged and
marked on the admin plugins page, and the other plugins' results still arrive.
Hook arguments are only ever added, never renamed or removed, so plugins
written against an older core keep loading.

Hooks that return lists are flattened by the core (``call_list``) and ordered
by each item's ``order`` where it has one.
"""
from __future__ import annotations

from portal.plugins import hookspec


@hookspec(historic=True)
def portal_addhooks(pluginmanager):
    """Called once when a plugin registers, so it may add hookspecs of its own.

    Use ``pluginmanager.add_hookspecs(module)``. Returns nothing.
    """


@hookspec
def portal_blueprints():
    """Called once at app creation. Return a list of Flask blueprints.

    Every blueprint's name must start with the plugin's name; its routes answer
    404 while the plugin is disabled. Templates must live under
    ``templates/<plugin>/``.
    """


@hookspec
def portal_permissions():
    """Called when permissions are resolved. Return a list of ``Permission``."""


@hookspec
def portal_activity_verbs():
    """Return a list of ``ActivityVerb`` this plugin records (admins attach points to them)."""


@hookspec
def portal_activity_recorded(activity):
    """Called inside the recording transaction right after ``activity`` was written.

    Runs in a SAVEPOINT per plugin: if the hook raises, its own writes are
    rolled back, the activity stays. Returns nothing.
    """


@hookspec
def portal_settings():
    """Return a list of ``SettingSpec``; values are read with ``get_setting(plugin, key)``."""


@hookspec
def portal_nav_items(account):
    """Called per page for the logged-in ``account`` (None when anonymous). Return ``NavItem``s."""


@hookspec
def portal_dashboard_widgets(account):
    """Called for the member dashboard. Return a list of ``Widget`` for ``account``."""


@hookspec
def portal_unit_dashboard_widgets(account, unit):
    """Called for a secretary's dashboard of ``unit``. Return a list of ``Widget``."""


@hookspec
def portal_search_documents():
    """Called by ``portal search reindex``. Return an iterable of ``SearchDocument``."""


@hookspec
def portal_alerts_scan(now):
    """Called by ``portal alerts scan`` (cron) with the current time.

    Raise or refresh the plugin's alerts and return a list of ``Alert`` that the
    core turns into inbox messages for the responsible secretaries.
    """


@hookspec
def portal_demo_data(context):
    """Called by ``portal demo`` after the core's demo organization exists.

    ``context`` is a ``DemoContext``. Must be idempotent: running the demo twice
    duplicates nothing. Returns nothing.
    """


@hookspec
def portal_personal_data(member):
    """Return a dict ``{section title: list of dicts}`` of everything this plugin holds about ``member``."""


@hookspec
def portal_member_summary(member, since, until):
    """Return a list of ``(label, value)`` pairs summarising ``member``'s participation in a period."""


@hookspec
def portal_cli_commands():
    """Return a list of ``click`` commands or groups to add under ``portal``."""


@hookspec
def portal_delivery_channels():
    """Return a list of ``DeliveryChannel`` that deliver inbox messages elsewhere (SMS …)."""


@hookspec
def portal_api_paths():
    """Return a dict of OpenAPI path items this plugin serves under ``/api/v1``."""


@hookspec
def portal_course_synced(course):
    """Called by the courses plugin after a course folder was synced.

    ``course`` is a dict: ``slug``, ``title`` (dict locale → text),
    ``directory`` (a ``pathlib.Path``) and ``quiz_file`` (a Path to a GIFT file
    named in course.toml, or None). A quiz plugin imports that file as the
    course's final quiz (idempotently) and, when the quiz is passed, records
    ``quiz.passed`` with ``extras={"course": slug}``. Returns nothing.
    """


@hookspec(firstresult=True)
def portal_course_final_quiz(course_slug, member):
    """Return the final quiz of a course for ``member``, or None when there is none.

    A dict ``{"title", "url", "passed": bool}``. Stops at the first non-None result.
    """

"""The hook contract between the core and every plugin.

How hooks are called (:class:`portal.plugins.manager.PortalPluginManager`):

* Through pluggy, so every option holds: ``firstresult``, hook wrappers
  (``wrapper=True`` / ``hookwrapper=True``), ``tryfirst``/``trylast`` and
  ``historic``. Implementations run newest registration first.
* Only *enabled* plugins are called, unless a hook says otherwise (the core,
  plugin ``core``, is always enabled). Enabled state is read per request.
* Failures are isolated: an implementation that raises is logged, recorded
  against its plugin (shown as *failed* on the admin plugins page) and counts
  as having returned None; the other plugins' results still arrive, and a
  ``firstresult`` hook goes on to the next implementation.
* Transactions: inside an app context every implementation of a hook that may
  touch the database runs in a SAVEPOINT of its own within the caller's
  transaction. If it raises, its writes (and, on PostgreSQL, the aborted
  state a failed statement leaves) are rolled back to the savepoint, the
  caller's work stays. The savepoint is opened only once the implementation
  uses the session (a statement, an added object, a flush), so one answering
  from memory costs none. The *declaration* hooks (:data:`DECLARATIONS`) get no
  savepoint: they return constants and must not touch the database.
* Hooks that return lists are flattened by the core (``call_list``) and
  ordered by each item's ``order`` where it has one.
* Arguments are only ever added, never renamed or removed, so plugins written
  against an older core keep loading; an implementation may accept fewer
  arguments than the spec offers.

A plugin may publish hookspecs of its own with :func:`portal_addhooks`
(the courses plugin publishes ``portal_course_synced`` and
``portal_course_final_quiz`` in ``portal_courses/hookspecs.py``). A plugin
implementing another plugin's hook marks it ``@tk.hookimpl(optionalhook=True)``
so it still loads when that plugin is not installed.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal.plugins import hookspec

if TYPE_CHECKING:
    import click
    import pluggy
    from flask import Blueprint

    from portal.accounts.models import Account
    from portal.activity.models import Activity
    from portal.org.models import Member, OrgUnit
    from portal.plugins.types import (ActivityVerb, Alert, DeliveryChannel, DemoContext, NavItem, Permission,
                                      SearchDocument, SettingSpec, Widget)
    from portal.plugins.types import NotificationKind, PersonalSection, XapiVerb

#: Hooks that only declare things (blueprints, permissions, settings …). They are
#: called at start-up, while a session commits, or on pages; what they return is
#: kept per process and set of enabled plugins (``call_list``/``call_each``), so
#: implementations return constants and must not query the database (they run
#: without a SAVEPOINT, and are not asked again while the enabled plugins stay).
DECLARATIONS = frozenset({
    "portal_addhooks", "portal_blueprints", "portal_permissions", "portal_activity_verbs", "portal_settings",
    "portal_cli_commands", "portal_api_paths", "portal_delivery_channels", "portal_xapi_verbs",
    "portal_notification_kinds",
})


@hookspec(historic=True)
def portal_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hookspecs of this plugin's own, for other plugins to implement.

    Called once for every plugin as it registers at start-up (historic: a
    plugin registered later is called too), enabled or not, before the
    unknown-hook check, with no app context and no database.

    :param pluginmanager: pluggy's manager; call ``pluginmanager.add_hookspecs(module)``.
    :returns: Nothing. If it raises, the plugin is marked failed and not loaded.
    """


@hookspec
def portal_blueprints() -> list[Blueprint]:
    """The plugin's Flask blueprints.

    Called once at app creation for every loaded plugin, enabled or not (a
    disabled plugin's routes answer 404 per request). No app context.

    Every blueprint's name must start with the plugin's name, or the plugin is
    marked failed; templates must live under ``templates/<plugin>/``.

    :returns: A list of :class:`flask.Blueprint`.
    """


@hookspec
def portal_permissions() -> list[Permission]:
    """The permissions this plugin declares, with the roles granted them by default.

    Called by enabled plugins when permissions are first resolved in a request
    (cached for the request). Declaration: must not touch the database.

    :returns: A list of :class:`~portal.plugins.types.Permission`.
    """


@hookspec
def portal_activity_verbs() -> list[ActivityVerb]:
    """The verbs this plugin records in the activity stream, with labels.

    Called on enabled plugins when verbs are listed (points rules, summaries).
    Admins attach points to them. Declaration: must not touch the database.

    :returns: A list of :class:`~portal.plugins.types.ActivityVerb`.
    """


@hookspec
def portal_activity_recorded(activity: Activity) -> None:
    """React to an activity just written to the stream.

    Called on enabled plugins by ``record_activity``, inside the recording
    transaction right after ``activity`` was flushed, in a SAVEPOINT per
    plugin: if it raises, its own writes are rolled back and the activity
    stays. Called exactly once per activity (a repeated idempotency key does
    not call it again).

    :param activity: The new :class:`~portal.activity.models.Activity`.
    :returns: Nothing.
    """


@hookspec
def portal_settings() -> list[SettingSpec]:
    """The typed settings of this plugin, with defaults; admins edit them in a generated form.

    Called on enabled plugins when settings are listed or a value falls back
    to its default. Values are read with ``tk.get_setting(plugin, key)``.
    Declaration: must not touch the database.

    :returns: A list of :class:`~portal.plugins.types.SettingSpec`.
    """


@hookspec
def portal_nav_items(account: Account | None) -> list[NavItem]:
    """Entries of the main navigation for ``account``.

    Called on enabled plugins once per rendered page (cached for the request),
    inside the request's transaction in a SAVEPOINT per plugin. Items whose
    endpoint cannot be built are dropped.

    :param account: The logged-in account, or None when anonymous.
    :returns: A list of :class:`~portal.plugins.types.NavItem` (ordered by ``order``).
    """


@hookspec
def portal_dashboard_widgets(account: Account) -> list[Widget]:
    """Panels of the member dashboard.

    Called on enabled plugins per dashboard page, inside the request's
    transaction in a SAVEPOINT per plugin; a widget whose template fails to
    render is dropped and recorded against its plugin.

    :param account: The logged-in account (its ``member`` may be None).
    :returns: A list of :class:`~portal.plugins.types.Widget`.
    """


@hookspec
def portal_unit_dashboard_widgets(account: Account, unit: OrgUnit) -> list[Widget]:
    """Panels of a unit's dashboard for its secretaries.

    Called on enabled plugins per unit dashboard page (the viewer holds
    ``units.dashboard`` on ``unit``), inside the request's transaction in a
    SAVEPOINT per plugin. Check the plugin's own permission before showing data.

    :param account: The logged-in account.
    :param unit: The :class:`~portal.org.models.OrgUnit` whose dashboard is shown.
    :returns: A list of :class:`~portal.plugins.types.Widget`.
    """


@hookspec
def portal_search_documents() -> Iterable[SearchDocument]:
    """Every document this plugin contributes to the search index.

    Called on enabled plugins by ``portal search reindex`` (full rebuild), in a
    SAVEPOINT per plugin. Changes between rebuilds are queued with the search
    service instead.

    :returns: An iterable of :class:`~portal.plugins.types.SearchDocument`.
    """


@hookspec
def portal_alerts_scan(now: datetime) -> list[Alert]:
    """Raise or refresh this plugin's alerts.

    Called on enabled plugins by ``portal alerts scan`` (cron), in a SAVEPOINT
    per plugin inside the scan's transaction; the core turns each alert into
    inbox messages — for the accounts it names, or for the nearest unit up the
    tree with someone holding its permission (``tk.responsible_accounts``) —
    and commits. Keep a marker so that a daily scan tells each event once;
    ``portal alerts scan --at`` runs the hook in a transaction it rolls back.

    :param now: The current time (naive UTC).
    :returns: A list of :class:`~portal.plugins.types.Alert`.
    """


@hookspec
def portal_demo_data(context: DemoContext) -> None:
    """Add this plugin's demo data to the demo organization.

    Called on enabled plugins by ``portal demo`` after the core's demo
    organization was committed, in a SAVEPOINT per plugin; the core commits
    afterwards. Must be idempotent: running the demo twice duplicates nothing.

    :param context: The demo's units, accounts, members, clock and random generator.
    :returns: Nothing.
    """


@hookspec
def portal_personal_data(member: Member) -> list[PersonalSection] | dict[str, list[dict[str, Any]]]:
    """Everything this plugin holds about ``member`` (the "My data" page and its JSON export).

    Called on enabled plugins when a member opens "My data" or downloads it, in
    a SAVEPOINT per plugin. Read only.

    Return :class:`~portal.plugins.types.PersonalSection` objects: a stable
    ``key`` (the core prefixes it with the plugin's name), a translatable
    ``title``, typed ``columns`` ``(key, label, kind[, choices])`` and rows of
    raw values (datetimes as stored, codes for choices, option texts rather
    than option ids). The page shows labels, local dates and choice labels; the
    export keeps the keys, the codes and ISO 8601 times and describes them in
    its ``schema`` (docs/architecture.md, "Personal data").

    The old shape ``{section title: list of dicts}`` still works: it is shown
    with headers made from the keys and types guessed from the values.

    :param member: The :class:`~portal.org.models.Member`.
    :returns: A list of sections (or the old dict).
    """


@hookspec
def portal_member_summary(member: Member, since: datetime | None, until: datetime | None) -> list[tuple[Any, Any]]:
    """This plugin's figures of ``member``'s participation in a period.

    Called on enabled plugins on a member's page and in reports, in a
    SAVEPOINT per plugin. Read only.

    :param member: The :class:`~portal.org.models.Member`.
    :param since: Start of the period (naive UTC), None for "from the beginning".
    :param until: End of the period (naive UTC), None for "until now".
    :returns: A list of ``(label, value)`` pairs.
    """


@hookspec
def portal_cli_commands() -> list[click.Command]:
    """``click`` commands or groups to add under ``portal``.

    Called on every loaded plugin, enabled or not, when the ``portal`` command
    line lists its commands. Declaration: must not touch the database.

    :returns: A list of :class:`click.Command` / :class:`click.Group`.
    """


@hookspec
def portal_delivery_channels() -> list[DeliveryChannel]:
    """Channels that deliver inbox messages elsewhere (SMS, e-mail, WeChat …).

    When: called on enabled plugins while a transaction that added inbox
    messages (:func:`portal.notify.services.notify`) is about to commit — in
    that transaction, so only a declaration: return constants, never touch the
    database. Each channel's ``deliver(notification)``
    (:class:`~portal.plugins.types.Deliver`) is then called once for every
    new message, in the same process, only after the commit succeeded: a
    rolled-back action sends nothing.

    Transaction state inside ``deliver``: none. The committing session can
    emit no more SQL; a channel that needs the database (the reader's address,
    a send log) opens its own short transaction on ``tk.db.engine`` and loads
    rows by id. It may send at once (with a short timeout: the request that
    made the message waits) or leave the work to a command of its own run by
    cron; a channel that must not lose or repeat a message keeps its own
    durable record (``portal_email``'s send log) rather than rely on this call.

    Errors: whatever ``deliver`` raises is logged and recorded against its
    plugin (the admin plugins page); the other channels and messages still go.
    It is not called again for that message.

    :returns: A list of :class:`~portal.plugins.types.DeliveryChannel`.
    """


@hookspec
def portal_notification_kinds() -> list[NotificationKind]:
    """The kinds of inbox message this plugin sends (``tk.notify(..., kind=...)``).

    Called on enabled plugins when a member chooses how to receive messages
    (the e-mail preferences page) and when channels decide what to send.
    Declaration: must not touch the database. A kind nobody declares falls
    under "Other messages" and is sent immediately.

    :returns: A list of :class:`~portal.plugins.types.NotificationKind`.
    """


@hookspec
def portal_xapi_verbs() -> list[XapiVerb]:
    """How this plugin's activity-stream verbs become xAPI 1.0.3 statements.

    Called on enabled plugins when statements are built (the xAPI API and the
    push to a learning record store). A verb no plugin maps still becomes a
    statement, with the portal's own verb IRI and an object described from
    the stream alone. Declaration: must not touch the database (the
    ``describe`` functions it returns are called later, inside a request or
    command, and may read).

    :returns: A list of :class:`~portal.plugins.types.XapiVerb`.
    """


@hookspec
def portal_api_paths() -> dict[str, dict[str, Any]]:
    """OpenAPI path items of the JSON API this plugin serves under ``/api/v1``.

    Called on enabled plugins when the OpenAPI document is served.
    Declaration: must not touch the database.

    :returns: ``{path: OpenAPI path item}``.
    """

"""What every template can use: nav, inbox count, locale switcher, formatting, permissions."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, Flask, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from portal.org import labels
from portal.i18n import LOCALE_LABELS, select_public_locale
from portal.org.permissions import can, is_admin
from portal.plugins.manager import call_list
from portal.web import charts, formatting
from portal.web.ui import current_member, render_markdown


def nav_items() -> list[dict]:
    """The navigation for the current account, from every enabled plugin (cached per request)."""
    if "_nav" in g:
        return g._nav
    account = current_user if current_user.is_authenticated else None
    items = []
    for item in call_list("portal_nav_items", account=account):
        try:
            url = url_for(item.endpoint, **item.values)
        except BuildError:
            continue
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": item.label, "url": url, "active": active, "icon": item.icon})
    g._nav = items
    return items


def unread_messages() -> int:
    """Unread inbox count for the header badge."""
    if not current_user.is_authenticated:
        return 0
    from portal.notify.services import unread_count

    return unread_count(current_user.id)


def site_name() -> str:
    return current_app.config.get("SITE_NAME") or _("Home for Mobile Members")


def init_templating(app: Flask) -> None:
    """Register template globals and filters."""
    app.jinja_env.globals.update(
        nav_items=nav_items, unread_messages=unread_messages, site_name=site_name, can=can, is_admin=is_admin,
        current_member=current_member, current_locale=select_public_locale, locale_labels=LOCALE_LABELS,
        html_lang=formatting.html_lang, meter=charts.meter,
    )
    app.jinja_env.filters.update(
        date=formatting.fmt_date, datetime=formatting.fmt_datetime, number=formatting.fmt_number,
        markdown=render_markdown,
        # ``{{ value|label(care_labels.status) }}``: the one way a coded value reaches a page as words
        label=lambda value, mapping: labels.label(mapping, value),
        stage_label=lambda v: labels.label(labels.STAGE_LABELS, v),
        kind_label=lambda v: labels.label(labels.UNIT_KIND_LABELS, v),
        gender_label=lambda v: labels.label(labels.GENDER_LABELS, v),
        education_label=lambda v: labels.label(labels.EDUCATION_LABELS, v),
        role_label=lambda v: labels.label(labels.ROLE_LABELS, v),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def template_labels(bp: Blueprint, plugin: str, **mappings: Any) -> None:
    """Hand a plugin's label dicts to every template (its pages, widgets, mails) as ``<plugin>_labels``.

    Templates then write ``{{ outflow.status|label(mobility_labels.outflow) }}``. The
    dicts stay ``lazy_gettext`` values defined in the plugin's module, so they are
    translated in the plugin's catalog at render time; a label computed from data
    (categories admins add, other plugins' verbs) is a :class:`LabelFunction`.
    """
    bp.add_app_template_global(SimpleNamespace(**mappings), f"{plugin}_labels")

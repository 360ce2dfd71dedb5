"""Rendering dashboard widgets so one plugin's broken widget cannot break the page.

Each plugin's widgets are rendered to HTML and kept by the composition cache (``portal/cache.py``) per
hook, plugin, account, member and unit (and locale and local day): only the plugins whose piece is
missing or stale are asked, and a plugin whose hook or template failed is asked again next time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from markupsafe import Markup

from portal import cache
from portal.plugins.manager import get_manager


@dataclass
class RenderedWidget:
    """A widget's title and its rendered HTML."""

    title: Any
    html: Markup
    order: int


def render_widgets(hook_name: str, **kwargs: Any) -> list[RenderedWidget]:
    """Call a widget hook and render each widget; failures are reported against their plugin."""
    account, unit = kwargs.get("account"), kwargs.get("unit")
    member = getattr(account, "member", None)
    key = (getattr(account, "id", None), getattr(member, "id", None), getattr(unit, "id", None))
    render = lambda plugin, widgets: _render(hook_name, plugin, widgets)  # noqa: E731
    rendered = [RenderedWidget(title, Markup(html), order)
                for _plugin, widgets in cache.cached_hook(hook_name, key, render, **kwargs)
                for title, html, order in widgets]
    return sorted(rendered, key=lambda item: item.order)


def _render(hook_name: str, plugin: str, widgets: list | None) -> list[tuple[str, str, int]]:
    """``[(title, html, order)]`` of one plugin's widgets: plain strings, safe to keep and share."""
    manager = get_manager()
    rendered = []
    for widget in widgets or []:
        try:
            html = render_template(widget.template, ctx=widget.context)
        except Exception as exc:
            manager.report_failure(plugin, f"{hook_name} ({widget.template})", exc)
            continue
        rendered.append((str(widget.title), str(html), widget.order))
    return rendered

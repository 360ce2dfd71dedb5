"""Rendering dashboard widgets so one plugin's broken widget cannot break the page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from markupsafe import Markup

from portal.plugins.manager import get_manager


@dataclass
class RenderedWidget:
    """A widget's title and its rendered HTML."""

    title: Any
    html: Markup
    order: int


def render_widgets(hook_name: str, **kwargs: Any) -> list[RenderedWidget]:
    """Call a widget hook and render each widget; failures are reported against their plugin."""
    manager = get_manager()
    rendered = []
    for plugin, widgets in manager.call_each(hook_name, **kwargs):
        for widget in widgets or []:
            try:
                html = Markup(render_template(widget.template, ctx=widget.context))
            except Exception as exc:
                manager.report_failure(plugin, f"{hook_name} ({widget.template})", exc)
                continue
            rendered.append(RenderedWidget(widget.title, html, widget.order))
    return sorted(rendered, key=lambda item: item.order)

"""Helpers for views: the current member, safe redirects, Markdown rendering."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

import nh3
from flask import abort, current_app, url_for
from flask_login import current_user, login_required
from markdown_it import MarkdownIt
from markupsafe import Markup

from portal.cache import LRU

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub", "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}

MARKDOWN_CACHE_BYTES = 4 * 1024 * 1024
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")


def sanitize_html(html: str) -> Markup:
    """Keep only harmless tags and attributes (no script, no event handlers, no javascript: URLs)."""
    cleaned = nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")
    return Markup(cleaned)


#: Rendered Markdown by the SHA-256 of its text (a pure function: nothing to invalidate), per process.
_rendered = LRU(MARKDOWN_CACHE_BYTES)


@dataclass(frozen=True)
class _Rendered:
    html: Markup
    size: int


def render_markdown(text: str) -> Markup:
    """Markdown (CommonMark + tables) to sanitized HTML; the same text is rendered once per process."""
    source = (text or "").encode()
    # the options are fixed (``_markdown``, ``sanitize_html``): the text alone decides the output
    key = hashlib.sha256(source).digest()
    found = _rendered.get(key)
    if found is not None:
        return found.html
    html = sanitize_html(_markdown.render(text or ""))
    _rendered.put(key, _Rendered(html, 2 * len(source) + len(html) + 200))
    return html


def current_member():
    """The logged-in account's member profile, or None."""
    if not current_user or not current_user.is_authenticated:
        return None
    return current_user.member


def login_required_member(view: Callable) -> Callable:
    """Require a logged-in account that has a member profile (403 otherwise)."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_member() is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def safe_next_url(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def path_for(endpoint: str, **values) -> str:
    """A site-relative URL that works with or without a request (CLI scans and notifications have none)."""
    try:
        return url_for(endpoint, **values)
    except RuntimeError:
        return current_app.url_map.bind("").build(endpoint, values)

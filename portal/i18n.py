"""Locale selection and catalogs.

The locale comes from the account's preference, then the ``locale`` kept in
the session (the switcher, for anonymous visitors), then Accept-Language, then
``DEFAULT_LOCALE``. Babel parses ``zh_CN`` as ``zh_Hans_CN``, so the Chinese
catalogs live in ``translations/zh_Hans_CN`` and the selector returns that
name (see STACK-NOTES.md).
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from portal.config import CORE_TRANSLATIONS
from portal.extensions import babel

#: Public locale codes (URLs, settings) → Babel's names of the catalogs.
CATALOG_NAMES = {"zh_CN": "zh_Hans_CN", "en": "en"}
LOCALE_LABELS = {"zh_CN": "中文", "en": "English"}


def normalize_locale(code: str | None) -> str | None:
    """Map ``zh-CN``, ``zh_CN``, ``zh_Hans_CN``, ``zh`` … to a supported public code, or None."""
    if not code:
        return None
    value = code.replace("-", "_").lower()
    if value.startswith("zh"):
        return "zh_CN" if "zh_CN" in current_app.config["LOCALES"] else None
    for supported in current_app.config["LOCALES"]:
        if value == supported.lower() or value.split("_")[0] == supported.lower().split("_")[0]:
            return supported
    return None


def select_public_locale() -> str:
    """The public code of the locale this request is rendered in (the default outside requests: CLI, cron)."""
    if not has_request_context():
        return normalize_locale(current_app.config["DEFAULT_LOCALE"]) or "en"
    if current_user and current_user.is_authenticated and normalize_locale(current_user.locale):
        return normalize_locale(current_user.locale)
    if normalize_locale(session.get("locale")):
        return normalize_locale(session.get("locale"))
    for language, _quality in request.accept_languages:
        code = normalize_locale(language)
        if code:
            return code
    return normalize_locale(current_app.config["DEFAULT_LOCALE"]) or "en"


def _select_catalog() -> str:
    return CATALOG_NAMES.get(select_public_locale(), "en")


def init_i18n(app: Flask, plugin_dirs: list[str]) -> None:
    """Bind flask-babel with the core's catalogs first, then every plugin's (merged)."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([str(CORE_TRANSLATIONS), *plugin_dirs])
    app.config["BABEL_DEFAULT_LOCALE"] = CATALOG_NAMES.get(app.config["DEFAULT_LOCALE"], app.config["DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=_select_catalog)

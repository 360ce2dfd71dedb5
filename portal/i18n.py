"""Locale selection and catalogs.

The locale comes from the account's preference, then the ``locale`` kept in
the session (the switcher, for anonymous visitors), then Accept-Language, then
``DEFAULT_LOCALE``. Babel parses ``zh_CN`` as ``zh_Hans_CN``, so the Chinese
catalogs live in ``translations/zh_Hans_CN`` and the selector returns that
name (see docs/architecture.md, "Translations").

Gettext domains (issue 11): the core's catalog (``translations/``) is the
``messages`` domain; every plugin's ``translations/`` folder is its own domain,
named after its package (``portal_care``), loaded as its own
:class:`babel.support.Translations` with the core's catalog as fallback, and
cached per (domain, locale). So one English word may read differently in two
plugins, and a plugin never borrows another plugin's word.

* Plugin Python code translates through ``tk.gettext``/``tk.lazy_gettext``/
  ``tk.pgettext``/… which find the domain from the calling module's top-level
  package; core code keeps flask-babel's functions (the core domain).
* Plugin templates (``templates/<segment>/…`` of a plugin package) are compiled
  so that their ``_()``, ``gettext()``, ``ngettext()``, ``pgettext()`` and
  ``npgettext()`` calls use the plugin's domain, wherever they are rendered
  (their own pages, widgets on the core dashboard, included or extended).
  Core templates, core macros and ``base.html`` stay in the core domain.
"""
from __future__ import annotations

import sys
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from babel import Locale
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, LazyString, force_locale, get_babel, get_domain, get_locale
from flask_login import current_user
from jinja2 import pass_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context
from markupsafe import Markup

from portal.config import CORE_TRANSLATIONS
from portal.extensions import babel

if TYPE_CHECKING:
    from portal.plugins.manager import PortalPluginManager

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
    user = current_user._get_current_object()  # once: each read through the proxy looks the user up again
    if user is not None and user.is_authenticated and (code := normalize_locale(user.locale)):
        return code
    if code := normalize_locale(session.get("locale")):
        return code
    for language, _quality in request.accept_languages:
        code = normalize_locale(language)
        if code:
            return code
    return normalize_locale(current_app.config["DEFAULT_LOCALE"]) or "en"


def _select_catalog() -> Locale:
    return _catalog_locale(CATALOG_NAMES.get(select_public_locale(), "en"))


@lru_cache(maxsize=16)
def _catalog_locale(name: str) -> Locale:
    """One Locale object per catalog for the process: translations and date patterns are cached by Locale,
    and a lookup by the very same object is found at once (two equal Locales are compared field by field)."""
    return Locale.parse(name)


def init_i18n(app: Flask, manager: PortalPluginManager) -> None:
    """Bind flask-babel to the core's catalog and give every plugin of ``manager`` its own domain."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CORE_TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = CATALOG_NAMES.get(app.config["DEFAULT_LOCALE"], app.config["DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=_select_catalog)
    if not isinstance(vars(babel).get("domain_instance"), CoreDomain):  # the Babel object is shared by every app
        babel.domain_instance = CoreDomain()
    # flask-babel's template callables, minus its per-string ``g`` lookups (core templates; plugins' are below).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: core_translations().ugettext(s),
        ngettext=lambda s, p, n: core_translations().ungettext(s, p, n),
        pgettext=lambda c, s: core_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: core_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    domains, owners = _plugin_domains(manager)
    app.extensions[EXTENSION] = domains
    app.jinja_env.add_extension(PluginTemplateDomains)
    app.jinja_env.portal_template_owners.update(owners)
    for package, domain in domains.items():
        app.jinja_env.globals.update(_template_callables(package, domain))


def _plugin_domains(manager: PortalPluginManager) -> tuple[dict[str, PluginDomain], dict[str, str]]:
    """``{package: domain}`` of plugins with a catalog, and ``{template folder: package}`` of their templates."""
    domains: dict[str, PluginDomain] = {}
    owners: dict[str, str] = {}
    for info in manager.plugins.values():
        package = info.module_name.partition(".")[0]
        translations, templates = info.subdir("translations"), info.subdir("templates")
        if translations is None:
            continue
        domains[package] = PluginDomain(package, translations)
        for entry in sorted(templates.iterdir()) if templates is not None else []:
            owners.setdefault(entry.name, package)
    return domains, owners


# -- gettext domains -------------------------------------------------------------

#: ``app.extensions`` key of ``{package: PluginDomain}``.
EXTENSION = "portal_i18n_domains"
#: Each plugin's catalog file is ``<translations>/<locale>/LC_MESSAGES/messages.po``;
#: the domain's *name* is the package, the file name stays the gettext default.
CATALOG_FILE_DOMAIN = "messages"
TEMPLATE_FUNCTIONS = ("_", "gettext", "ngettext", "pgettext", "npgettext")


class CoreDomain(Domain):
    """The core's catalog (flask-babel's default domain), found per locale without flask-babel's per-call lookups.

    flask-babel's ``Domain.get_translations`` looks the locale up through the
    ``g`` proxy and formats it as a string for its cache key on every string
    translated; this keeps the same catalogs by Locale.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_locale: dict[Locale, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        """The core's translations in the current locale (loaded by flask-babel once, then kept per locale)."""
        locale = current_locale() if has_app_context() else None
        if locale is None:
            return super().get_translations()
        translations = self._by_locale.get(locale)
        if translations is None:
            translations = self._by_locale[locale] = super().get_translations()
        return translations


class PluginDomain(Domain):
    """One plugin's catalog with the core's as fallback, cached per locale for the process."""

    def __init__(self, name: str, directory: Path) -> None:
        super().__init__(translation_directories=[str(directory)], domain=CATALOG_FILE_DOMAIN)
        self.name = name

    def get_translations(self) -> NullTranslations:
        """The plugin's translations in the current locale (loaded once per locale, then cached)."""
        if not has_app_context():
            return NullTranslations()
        locale = current_locale()
        translations = self.cache.get(locale)  # keyed by the Locale itself: hashing it is cheaper than str()
        if translations is None:
            translations = Translations.load(self.translation_directories[0], [locale], CATALOG_FILE_DOMAIN)
            translations.add_fallback(get_babel().instance.domain_instance.get_translations())
            self.cache[locale] = translations
        return translations


def core_translations() -> NullTranslations:
    """The translations of the domain in force (flask-babel's ``get_translations()``), found without the ``g`` proxy."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return NullTranslations()
    context = app_ctx.g.__dict__.get("_flask_babel")
    domain = getattr(context, "babel_domain", None)  # set by flask-babel's get_domain() or Domain.as_default()
    return (domain or babel.domain_instance).get_translations()


def current_locale() -> Locale | None:
    """The Babel locale of this request: flask-babel's :func:`get_locale`, cheaper once it is known.

    Every translated string and formatted date asks for it. ``get_locale()``
    goes through the ``g`` proxy twice per call; once it has chosen the
    locale it keeps it in ``g._flask_babel.babel_locale``, read here straight
    from the app context (``force_locale``/``refresh`` delete it, so a forced
    locale is seen as before).
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        known = getattr(app_ctx.g.__dict__.get("_flask_babel"), "babel_locale", None)
        if known is not None:
            return known
    return get_locale()


def domain_for(package: str | None) -> Domain:
    """The domain of a plugin package (``portal_care``); the core's for anything else or outside an app."""
    app_ctx = _cv_app.get(None) if package else None  # not the current_app proxy: called for every string
    if app_ctx is not None:
        domain = app_ctx.app.extensions.get(EXTENSION, {}).get(package)
        if domain is not None:
            return domain
    return get_domain()


def _caller_package(depth: int) -> str:
    """Top-level package of the module ``depth`` frames above the caller of this function."""
    return sys._getframe(depth + 1).f_globals.get("__name__", "").partition(".")[0]


class LazyMessage(LazyString):
    """A lazy translation that remembers its domain, context and msgid.

    The domain is fixed when the string is created (the creating module's
    package), not when it is rendered, so a plugin's label shown on a core page
    still reads as the plugin translates it. ``notify`` stores these three so a
    message can be translated later in each reader's language.
    """

    def __init__(self, domain: str, context: str | None, msgid: str, **variables: Any) -> None:
        # ``_args`` stays ``(msgid,)`` and ``_kwargs`` the variables, as in flask-babel's LazyString.
        super().__init__(partial(translate, domain, context), msgid, **variables)
        self.domain = domain
        self.context = context


def translate(domain: str | None, context: str | None, msgid: str, **variables: Any) -> str:
    """Translate ``msgid`` (with an optional ``pgettext`` context) in a named domain, now."""
    if context:
        return domain_for(domain).pgettext(context, msgid, **variables)
    return domain_for(domain).gettext(msgid, **variables)


def gettext(string: str, **variables: Any) -> str:
    """Translate ``string`` in the CALLING module's domain.

    A module of the package ``portal_care`` gets the care catalog (then the
    core's); any other caller gets the core's. Aliases work (``from
    portal.toolkit import gettext as _``) because the frame looked at is the
    one that calls this function, so a plugin cannot pick the wrong domain.
    """
    return domain_for(_caller_package(1)).gettext(string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Plural form of :func:`gettext` (``%(num)d`` is available), in the calling module's domain."""
    return domain_for(_caller_package(1)).ngettext(singular, plural, num, **variables)


def pgettext(context: str, string: str, **variables: Any) -> str:
    """:func:`gettext` with a context, for one English word that needs two translations."""
    return domain_for(_caller_package(1)).pgettext(context, string, **variables)


def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    """:func:`ngettext` with a context, in the calling module's domain."""
    return domain_for(_caller_package(1)).npgettext(context, singular, plural, num, **variables)


def lazy_gettext(string: str, **variables: Any) -> LazyMessage:
    """A :func:`gettext` evaluated when rendered, in the domain of the module that CREATED it."""
    return LazyMessage(_caller_package(1), None, string, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyMessage:
    """A :func:`pgettext` evaluated when rendered, in the domain of the module that created it."""
    return LazyMessage(_caller_package(1), context, string, **variables)


#: Language tags of documents read in no one's locale (xAPI statements, Open Badges) → the portal's catalogs.
LANGUAGE_TAGS = {"zh-CN": "zh_Hans_CN", "en-US": "en"}


def language_map(message: Any) -> dict[str, str]:
    """``{"zh-CN": …, "en-US": …}``: ``message`` rendered in each of the portal's languages.

    ``message`` is a lazy string (``tk.lazy_gettext``: it keeps its plugin's domain) or
    anything else, which reads the same in every language (a course's own title).
    """
    rendered = {}
    for tag, catalog in LANGUAGE_TAGS.items():
        with force_locale(catalog):
            rendered[tag] = str(message)
    return rendered


# -- plugin templates ------------------------------------------------------------

def template_global(package: str, function: str) -> str:
    """The Jinja global a plugin template's ``function`` call is compiled to."""
    return f"_i18n_{package}_{'gettext' if function == '_' else function}"


class PluginTemplateDomains(Extension):
    """Compile a plugin template's gettext calls to that plugin's domain.

    The owner comes from the template name's first segment (``care/detail.html``
    → the plugin whose ``templates/`` folder holds ``care``). Rewriting at
    compile time, rather than choosing a domain from the render context,
    keeps the choice right in included, extended and imported templates and
    costs nothing per request (the compiled template is cached as usual).
    """

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.extend(portal_template_owners={})

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        """Rename the gettext calls of a plugin's template; other templates pass unchanged."""
        segment = (stream.name or "").split("/", 1)[0]
        package = self.environment.portal_template_owners.get(segment)
        return stream if package is None else _renamed_calls(stream, package)


def _renamed_calls(stream: TokenStream, package: str) -> Iterator[Token]:
    previous = None
    for token in stream:
        # Only a call of the bare name: not ``x._(…)``, not ``{% set _ = … %}``.
        if (token.type == "name" and token.value in TEMPLATE_FUNCTIONS and stream.current.type == "lparen"
                and previous != "dot"):
            token = Token(token.lineno, "name", template_global(package, token.value))
        previous = token.type
        yield token


def _template_callables(package: str, domain: PluginDomain) -> dict[str, Callable[..., str]]:
    """A domain's template functions, with the semantics of Jinja's newstyle gettext (which flask-babel installs)."""

    @pass_context
    def gettext_(context: Context, string: str, **variables: Any) -> str:
        return _newstyle(context, domain.get_translations().ugettext(string), variables)

    @pass_context
    def ngettext_(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _newstyle(context, domain.get_translations().ungettext(singular, plural, num), variables)

    @pass_context
    def pgettext_(context: Context, msgctxt: str, string: str, **variables: Any) -> str:
        return _newstyle(context, domain.get_translations().upgettext(msgctxt, string), variables)

    @pass_context
    def npgettext_(context: Context, msgctxt: str, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _newstyle(context, domain.get_translations().unpgettext(msgctxt, singular, plural, num), variables)

    functions = {"gettext": gettext_, "ngettext": ngettext_, "pgettext": pgettext_, "npgettext": npgettext_}
    return {template_global(package, name): function for name, function in functions.items()}


def _newstyle(context: Context, text: str, variables: dict[str, Any]) -> str:
    # As jinja2.ext's newstyle gettext: escape the translation under autoescape, always %-format.
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables

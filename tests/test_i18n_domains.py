"""One gettext domain per plugin (issue 11): a plugin's words come from its own catalog, then the core's.

Every status/label a plugin defines is rendered in zh_CN and must read as the
plugin's catalog says, never as another catalog translates the same msgid; the
plugin templates are compiled to their plugin's domain wherever they are
rendered; real pages show each domain's own word.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from markupsafe import escape

from portal.i18n import LazyMessage
from portal.i18n_catalogs import sources
from tests.conftest import login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
SOURCES = {source.name: source for source in sources()}
PLUGINS = sorted(name for name in SOURCES if name != "core")


def _catalog(name: str) -> dict[tuple[str | None, str], str]:
    """``{(context, msgid): translation}`` of a domain's zh_CN catalog (translated singular entries)."""
    with open(SOURCES[name].catalog, "rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    return {(m.context, m.id): m.string for m in catalog
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


CATALOGS = {name: _catalog(name) for name in SOURCES}


def _expected(domain: str, context: str | None, msgid: str) -> str:
    """The plugin's own word, else the core's (the fallback), else the msgid."""
    key = (context, msgid)
    return CATALOGS[domain].get(key) or CATALOGS["core"].get(key) or msgid


def _whose(word: str, context: str | None, msgid: str) -> list[str]:
    return [name for name, catalog in CATALOGS.items() if catalog.get((context, msgid)) == word]


def _label_dicts(package: str) -> dict[str, dict]:
    """Every module-level dict of lazy strings in the plugin (state and label dicts), by ``module.NAME``."""
    root = importlib.import_module(package)
    modules = [root] + [importlib.import_module(info.name)
                        for info in pkgutil.walk_packages(root.__path__, f"{package}.")
                        if ".migrations" not in info.name]
    found, seen = {}, set()
    for module in modules:
        for attribute, value in vars(module).items():
            if (isinstance(value, dict) and value and id(value) not in seen
                    and all(hasattr(v, "_func") and hasattr(v, "_args") for v in value.values())):
                seen.add(id(value))
                found[f"{module.__name__}.{attribute}"] = value
    return found


@pytest.mark.parametrize("package", PLUGINS)
def test_every_label_of_a_plugin_reads_as_its_own_catalog_says(app, package):
    dicts = _label_dicts(package)
    assert dicts, f"{package} defines no label dicts: the test would prove nothing"
    wrong = []
    with app.test_request_context(headers=ZH):
        for where, labels in dicts.items():
            for key, label in labels.items():
                assert isinstance(label, LazyMessage) and label.domain == package, (
                    f"{where}[{key!r}] was not created with tk.lazy_gettext in {package}")
                msgid = label._args[0]
                wanted = _expected(package, label.context, msgid)
                # Shown by a core template (a dashboard widget, the nav): still the plugin's word.
                shown = render_template_string("{{ label }}", label=label)
                if str(label) != wanted or shown != str(escape(wanted)):
                    taken = _whose(str(label), label.context, msgid)
                    wrong.append(f"{where}[{key!r}] {msgid!r} reads {str(label)!r} (catalog {taken}), "
                                 f"{package} says {wanted!r}")
    assert not wrong, "\n".join(wrong)


def _probe(app, name: str, source: str) -> str:
    """Render ``source`` compiled as the template ``name`` (so its owner is decided by the name)."""
    env = app.jinja_env
    return env.template_class.from_code(env, env.compile(source, name=name), env.make_globals(None)).render()


def _segment(package: str) -> str:
    return next(iter(sorted(p.name for p in (SOURCES[package].code / "templates").iterdir() if p.is_dir())))


def _colliding(package: str) -> list[str]:
    """Plain msgids this plugin translates differently from the core (or the core does not translate)."""
    core = CATALOGS["core"]
    return sorted(msgid for (context, msgid), word in CATALOGS[package].items()
                  if context is None and "%" not in msgid and core.get((None, msgid), msgid) != word)


@pytest.mark.parametrize("package", PLUGINS)
def test_a_plugin_template_translates_in_its_domain_and_a_core_template_in_the_core(app, package):
    msgids = _colliding(package)
    assert msgids, f"{package}: no msgid translated differently from the core, nothing to probe"
    source = "\n".join("{{ _(%r) }}" % msgid for msgid in msgids)
    with app.test_request_context(headers=ZH):
        as_plugin = _probe(app, f"{_segment(package)}/probe.html", source).split("\n")
        as_core = _probe(app, "probe.html", source).split("\n")
    # Newstyle gettext marks translations safe (they are trusted), so they are compared unescaped.
    assert as_plugin == [CATALOGS[package][(None, m)] for m in msgids]
    assert as_core == [CATALOGS["core"].get((None, m), m) for m in msgids]


def test_included_extended_and_imported_templates_each_keep_their_own_domain(app):
    from jinja2 import DictLoader

    mobility, core = CATALOGS["portal_mobility"][(None, "Since")], CATALOGS["core"][(None, "Since")]
    assert mobility != core  # the collision the issue reported (a roles table read 外出日期)
    env = app.jinja_env.overlay(loader=DictLoader({
        "probe_base.html": '{{ _("Since") }}|{% block body %}{% endblock %}',
        "probe_macros.html": '{% macro since() %}{{ _("Since") }}{% endmacro %}',
        "mobility/probe_page.html": ('{% extends "probe_base.html" %}{% block body %}{{ _("Since") }}|'
                                     '{% from "probe_macros.html" import since %}{{ since() }}{% endblock %}'),
        "probe_dashboard.html": '{{ _("Since") }}|{% include "mobility/probe_widget.html" %}',
        "mobility/probe_widget.html": '{{ pgettext("transfer", "Reason") }}|{{ gettext("Since") }}',
    }))
    transfer_reason = CATALOGS["portal_mobility"][("transfer", "Reason")]
    with app.test_request_context(headers=ZH):
        assert env.get_template("mobility/probe_page.html").render() == f"{core}|{mobility}|{core}"
        assert env.get_template("probe_dashboard.html").render() == f"{core}|{transfer_reason}|{mobility}"


def test_plugin_templates_are_compiled_once(app):
    """The domain is decided at compile time: rendering again reuses the cached template."""
    with app.test_request_context(headers=ZH):
        first = app.jinja_env.get_template("care/detail.html")
        assert app.jinja_env.get_template("care/detail.html") is first
        assert "_i18n_portal_care_gettext" in app.jinja_env.globals


def test_plugin_code_translates_through_the_toolkit():
    """flask-babel's functions would use the core's catalog: plugins call tk.gettext & co."""
    direct = re.compile(r"from flask_babel import[^\n]*\b(gettext|ngettext|pgettext|npgettext|lazy_\w+)\b"
                        r"|flask_babel\.(gettext|ngettext|pgettext|npgettext|lazy_\w+)")
    offenders = [f"{path.relative_to(path.parents[2])}" for package in PLUGINS
                 for path in SOURCES[package].code.rglob("*.py") if direct.search(path.read_text(encoding="utf-8"))]
    assert not offenders, "use `from portal.toolkit import gettext as _` (or tk.gettext): " + ", ".join(offenders)


def test_plugin_templates_use_call_forms_not_trans_blocks():
    """``{% trans %}`` compiles to a context lookup that the domain rewrite does not see."""
    offenders = [str(path) for package in PLUGINS for path in (SOURCES[package].code / "templates").rglob("*.html")
                 if re.search(r"{%-?\s*trans\b", path.read_text(encoding="utf-8"))]
    assert not offenders, "use {{ _(...) }} / {{ ngettext(...) }} instead of {% trans %}: " + ", ".join(offenders)


def test_toolkit_gettext_resolves_the_calling_plugins_domain(app):
    from portal import toolkit as tk

    care_globals = {"__name__": "portal_care.probe", "tk": tk}
    with app.test_request_context(headers=ZH):
        in_care = eval('tk.gettext("In progress")', care_globals)  # a call made from a care module
        in_courses = eval('tk.gettext("In progress")', {"__name__": "portal_courses.probe", "tk": tk})
        in_core = tk.gettext("In progress")
        lazy = eval('tk.lazy_pgettext("care requests", "Open")', care_globals)
        assert in_care == CATALOGS["portal_care"][(None, "In progress")]
        assert in_courses == CATALOGS["portal_courses"][(None, "In progress")]
        assert in_core == "In progress"  # the core does not translate it, and borrows nobody's word
        assert str(lazy) == CATALOGS["portal_care"][("care requests", "Open")]
    assert in_care != in_courses


def test_a_stored_plugin_notification_is_translated_from_the_plugins_catalog(app):
    from portal.notify.services import _portable, localize

    message = _portable(LazyMessage("portal_care", None, "In progress"))
    assert message == {"msgid": "In progress", "params": {}, "domain": "portal_care", "context": None}
    with app.test_request_context(headers=ZH):
        assert localize(message, "fallback") == CATALOGS["portal_care"][(None, "In progress")]


def test_a_care_request_in_progress_reads_as_care_says(client, db, org):
    from portal_care.models import CareRequest

    login(client, "member1")
    client.post("/care/new", data={"category": "wages", "title": "Wages for March not paid",
                                   "description": "The contractor owes 6800 yuan.", "urgency": "high",
                                   "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"})
    request = db.session.scalars(db.select(CareRequest)).one()
    request.status = "in_progress"
    db.session.commit()
    page = client.get(f"/care/requests/{request.id}", headers=ZH).get_data(as_text=True)
    care, courses = CATALOGS["portal_care"][(None, "In progress")], CATALOGS["portal_courses"][(None, "In progress")]
    assert care != courses
    assert care in page and courses not in page


def test_the_core_roles_table_reads_as_the_core_says(client, org):
    login(client, "admin")
    page = client.get(f"/units/{org.home.id}/roles", headers=ZH).get_data(as_text=True)
    assert CATALOGS["core"][(None, "Since")] in page
    assert CATALOGS["portal_mobility"][(None, "Since")] not in page


@pytest.mark.parametrize("package", PLUGINS)
def test_each_plugins_page_shows_its_own_words(app, client, db, org, package):
    from flask_login import login_user

    from portal.web.templating import nav_items

    login(client, "admin")
    with app.test_request_context(headers=ZH):
        login_user(_account(db, "admin"))
        items = [item for item in nav_items() if getattr(item["label"], "domain", None) == package]
        assert items, f"{package} shows no navigation item to the admin"
        wanted = [(item["url"], str(escape(_expected(package, item["label"].context, item["label"]._args[0]))))
                  for item in items]
    for url, word in wanted:
        response = client.get(url, headers=ZH, follow_redirects=True)
        assert response.status_code == 200, url
        assert word in response.get_data(as_text=True), (url, word)


def _account(db, username: str):
    from portal.accounts.models import Account

    return db.session.scalars(db.select(Account).where(Account.username == username)).one()


def test_catalogs_are_read_once_per_locale_not_per_request(client, org, monkeypatch):
    from babel.support import Translations

    login(client, "member1")
    assert client.get("/care/", headers=ZH).status_code == 200  # the first zh_CN page loads the catalogs
    loads = []
    original = Translations.load.__func__
    monkeypatch.setattr(Translations, "load", classmethod(
        lambda cls, *args, **kwargs: loads.append(args) or original(cls, *args, **kwargs)))
    page = client.get("/care/", headers=ZH).get_data(as_text=True)
    assert CATALOGS["portal_care"][(None, "Care")] in page
    assert loads == []

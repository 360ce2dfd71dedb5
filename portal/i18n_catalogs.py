"""Extract, update, compile and check every gettext domain's catalog (``portal i18n …``).

One domain per code folder: the core (``portal/`` → ``translations/``) and each
bundled plugin (``plugins/portal_x/`` → ``plugins/portal_x/translations/``).
Each is extracted from its own folder only, so a plugin's catalog holds exactly
the msgids the plugin uses and translates every one of them (see
``portal/i18n.py`` for how the domains are looked up at run time).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
#: The locale every catalog must translate completely (Babel's name for zh_CN).
CATALOG_LOCALE = "zh_Hans_CN"
#: Keywords beyond Babel's defaults (``_``, ``gettext``, ``ngettext``, ``pgettext``, ``npgettext`` …).
KEYWORDS = ("_l", "lazy_gettext", "lazy_pgettext:1c,2", "pgettext:1c,2", "npgettext:1c,2,3")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|%\(\w+\)\.\d+f")


@dataclass(frozen=True)
class CatalogSource:
    """A domain's code folder and its ``translations/`` folder."""

    name: str
    code: Path
    translations: Path

    @property
    def template(self) -> Path:
        """The extracted ``messages.pot``."""
        return self.translations / "messages.pot"

    @property
    def catalog(self) -> Path:
        """The zh_CN ``messages.po``."""
        return self.translations / CATALOG_LOCALE / "LC_MESSAGES" / "messages.po"


def sources(root: Path = ROOT) -> list[CatalogSource]:
    """The core and every bundled plugin (``plugins/portal_*``), in a stable order."""
    items = [CatalogSource("core", root / "portal", root / "translations")]
    for plugin in sorted((root / "plugins").glob("portal_*")):
        if plugin.is_dir():
            items.append(CatalogSource(plugin.name, plugin, plugin / "translations"))
    return items


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(source: CatalogSource) -> None:
    """Write ``messages.pot`` from the source's own folder only (locations relative to it)."""
    catalog = Catalog(fuzzy=False)
    for filename, lineno, message, comments, context in _messages(source):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    source.translations.mkdir(parents=True, exist_ok=True)
    with open(source.template, "wb") as handle:
        write_po(handle, catalog)


def update(source: CatalogSource) -> None:
    """Extract, then merge the template into the zh_CN catalog (created the first time).

    No fuzzy matching: a guessed translation of a different msgid is worse
    than an empty one, which the completeness check reports.
    """
    extract(source)
    command = "update" if source.catalog.is_file() else "init"
    extra = ["--no-fuzzy-matching"] if command == "update" else []
    _pybabel(command, "-i", str(source.template), "-d", str(source.translations), "-l", CATALOG_LOCALE,
             *extra)


def compile_catalog(source: CatalogSource) -> None:
    """Compile the zh_CN catalog to ``messages.mo`` (untranslated entries fall back to the msgid)."""
    _pybabel("compile", "-d", str(source.translations), "-l", CATALOG_LOCALE)


def problems(source: CatalogSource, extracted: set[tuple[str | None, str]]) -> list[str]:
    """What is wrong with a catalog: missing, untranslated, fuzzy, placeholders differ, not compiled."""
    if not source.catalog.is_file():
        return [f"missing {source.catalog}"]
    with open(source.catalog, "rb") as handle:
        catalog = read_po(handle, locale=CATALOG_LOCALE)
    found, present, translated = [], set(), set()
    for message in catalog:
        if not message.id:
            continue
        key = (message.context, _singular(message.id))
        present.add(key)
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            found.append(f"untranslated or fuzzy: {_show(key)}")
            continue
        translated.add(key)
        wanted = set(PLACEHOLDER.findall(key[1]))
        found += [f"placeholders differ: {_show(key)} -> {text!r}" for text in strings
                  if set(PLACEHOLDER.findall(text)) != wanted]
    found += [f"not in the catalog (run `portal i18n update`): {_show(key)}" for key in sorted(extracted - present,
                                                                                              key=str)]
    compiled = _compiled_keys(source.catalog.with_suffix(".mo"))
    found += [f"not compiled (run `portal i18n compile`): {_show(key)}"
              for key in sorted((translated & extracted) - compiled, key=str)]
    return found


def extracted_keys(source: CatalogSource) -> set[tuple[str | None, str]]:
    """``(context, msgid)`` of every message the source's code uses."""
    return {(context, _singular(message)) for _file, _line, message, _comments, context in _messages(source)}


def _messages(source: CatalogSource) -> Iterator[tuple[str, int, str | tuple, list[str], str | None]]:
    with open(BABEL_CFG) as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(list(KEYWORDS))}
    yield from extract_from_dir(str(source.code), method_map, options_map, keywords=keywords)


def _compiled_keys(path: Path) -> set[tuple[str | None, str]]:
    if not path.is_file():
        return set()
    with open(path, "rb") as handle:
        return {(m.context, _singular(m.id)) for m in read_mo(handle) if m.id and m.string}


def _singular(message_id: str | tuple | list) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _show(key: tuple[str | None, str]) -> str:
    context, msgid = key
    return f"{msgid!r} (context {context!r})" if context else repr(msgid)

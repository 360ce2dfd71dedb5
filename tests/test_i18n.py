"""Every catalog (core and plugins) is complete in zh_CN, compiled and in step with the code."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
CATALOG_LOCALE = "zh_Hans_CN"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|%\(\w+\)\.\d+f")


def _sources() -> list[tuple[str, Path, Path]]:
    """(name, code folder, translations folder) for the core and every bundled plugin."""
    items = [("core", ROOT / "portal", ROOT / "translations")]
    for plugin in sorted((ROOT / "plugins").glob("portal_*")):
        items.append((plugin.name, plugin, plugin / "translations"))
    return items


def _extracted_ids(code: Path) -> set[str]:
    from babel.messages.frontend import parse_mapping_cfg

    with open(BABEL_CFG) as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(code), method_map, options_map, keywords=keywords):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def _has_strings(code: Path) -> bool:
    return bool(_extracted_ids(code))


SOURCES = _sources()


@pytest.mark.parametrize("name,code,translations", SOURCES, ids=[s[0] for s in SOURCES])
def test_catalog_is_complete_compiled_and_current(name, code, translations):
    extracted = _extracted_ids(code)
    if not extracted:
        pytest.skip(f"{name} has no strings")
    po_path = translations / CATALOG_LOCALE / "LC_MESSAGES" / "messages.po"
    assert po_path.is_file(), f"{name}: missing {po_path.relative_to(ROOT)} (create it with -l {CATALOG_LOCALE})"
    with open(po_path, "rb") as handle:
        catalog = read_po(handle, locale=CATALOG_LOCALE)
    problems = []
    present = set()
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        present.add(msgid)
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        wanted = set(PLACEHOLDER.findall(msgid))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    missing = sorted(extracted - present)
    problems += [f"not in the catalog (run pybabel extract/update): {msgid!r}" for msgid in missing[:20]]
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.is_file(), f"{name}: compile the catalog (pybabel compile)"
    with open(mo_path, "rb") as handle:
        compiled = read_mo(handle)
    compiled_ids = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in compiled if m.id}
    stale = [msgid for msgid in present if msgid in extracted and msgid not in compiled_ids]
    problems += [f"not compiled (run pybabel compile): {msgid!r}" for msgid in stale[:20]]
    assert not problems, f"{name} ({len(problems)} problems):\n" + "\n".join(problems[:60])


def test_a_chinese_browser_gets_chinese_pages(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page


def test_an_english_browser_gets_english_pages(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in" in page and "登录" not in page


def test_the_default_locale_applies_without_accept_language(tmp_path_factory, app):
    from tests.conftest import make_test_app

    chinese = make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], DEFAULT_LOCALE="zh_CN")
    assert "登录" in chinese.test_client().get("/login").get_data(as_text=True)


def test_the_switcher_remembers_the_choice_on_the_account(client, org, db):
    from portal.accounts.models import Account
    from tests.conftest import login

    login(client, "member1")
    client.post("/locale", data={"locale": "zh_CN", "next": "/dashboard"})
    assert "退出" in client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert db.session.get(Account, org.member1.account_id).locale == "zh_CN"
    client.post("/locale", data={"locale": "en", "next": "/dashboard"})
    assert "Log out" in client.get("/dashboard", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    refused = client.post("/locale", data={"locale": "fr"}, follow_redirects=True)
    assert "This language is not available." in refused.get_data(as_text=True)


def test_dates_and_numbers_follow_the_locale(app):
    from datetime import date

    from portal.web.formatting import fmt_date, fmt_number

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert fmt_date(date(2026, 3, 1)) == "2026年3月1日"
        assert fmt_number(1234567) == "1,234,567"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert fmt_date(date(2026, 3, 1)) == "Mar 1, 2026"

"""Every gettext domain's catalog (core and each plugin) is complete in zh_CN, compiled and in step with the code."""
from __future__ import annotations

import pytest

from portal.i18n_catalogs import extracted_keys, problems, sources

SOURCES = sources()


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_catalog_is_complete_compiled_and_current(source):
    """Untranslated, fuzzy, missing, placeholder-mismatched or uncompiled entries fail (``portal i18n check``)."""
    extracted = extracted_keys(source)
    if not extracted:
        pytest.skip(f"{source.name} has no strings")
    found = problems(source, extracted)
    assert not found, f"{source.name} ({len(found)} problems):\n" + "\n".join(found[:60])


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

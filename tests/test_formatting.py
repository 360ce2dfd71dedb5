"""Dates formatted from patterns kept per locale (portal/web/formatting.py) read exactly as Babel writes them,
and the locale cached per request (portal/i18n.py) follows ``force_locale``."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from babel import dates
from flask_babel import force_locale, gettext

from portal.i18n import translate
from portal.timeutil import local_zone
from portal.web.formatting import fmt_date, fmt_datetime, html_lang

AT = datetime(2026, 11, 30, 17, 4, 5)  # naive UTC: 01:04 the next local day in Shanghai
STYLES = ["short", "medium", "long", "full", "HH:mm", "yyyy-MM-dd HH:mm"]


@pytest.mark.parametrize("catalog", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("style", STYLES)
def test_dates_read_as_babel_writes_them(app, catalog, style):
    with app.test_request_context("/"), force_locale(catalog):
        local = AT.replace(tzinfo=timezone.utc).astimezone(local_zone())
        assert fmt_datetime(AT, style) == dates.format_datetime(local, style, locale=catalog)
        if ":" not in style:  # a date has no time of day
            assert fmt_date(AT, style) == dates.format_date(local.date(), style, locale=catalog)
            assert fmt_date(date(2026, 1, 2), style) == dates.format_date(date(2026, 1, 2), style, locale=catalog)


def test_a_stored_timestamp_reads_as_the_local_day_and_time(app):
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert fmt_datetime(AT, "yyyy-MM-dd HH:mm") == "2026-12-01 01:04"
        assert fmt_date(AT, "yyyy-MM-dd") == "2026-12-01"
        assert fmt_datetime(None) == "" and fmt_date(None) == ""


def test_the_locale_switches_within_a_request(app):
    """Translations and formats are kept per locale, so a forced locale (a notification in its reader's language)
    reads in that locale, and the request's own afterwards."""
    core_template = app.jinja_env.from_string("{{ _('Dashboard') }}")
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        chinese = translate("portal_care", None, "Care"), gettext("Dashboard"), core_template.render()
        assert "Care" not in chinese and "Dashboard" not in chinese and chinese[1] == chinese[2]
        assert html_lang() == "zh-CN"
        chinese_date = fmt_date(AT, "long")
        with force_locale("en"):
            assert translate("portal_care", None, "Care") == "Care" and gettext("Dashboard") == "Dashboard"
            assert core_template.render() == "Dashboard"
            assert html_lang() == "en" and fmt_date(AT, "long") == "December 1, 2026"
        assert (translate("portal_care", None, "Care"), gettext("Dashboard"), core_template.render()) == chinese
        assert fmt_date(AT, "long") == chinese_date != "December 1, 2026"

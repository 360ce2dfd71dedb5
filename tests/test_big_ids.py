"""Ids past the database's integer range answer 404 on every GET route, never 500 (issue 14).

SQLite overflows past 2**63 and PostgreSQL's ``integer`` past 2**31; the app's
``int`` URL converter (portal.database.BoundedIntConverter) refuses such
numbers, so the route does not match. The routes are enumerated from the
url_map, as the permission matrix does, so a new route is covered unasked.
"""
import re

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import login

_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _int_get_rules(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and any(isinstance(conv, IntegerConverter)
                                                    for conv in rule._converters.values())),
                  key=lambda rule: rule.rule)


def _path(rule, number: int) -> str:
    """``rule`` with every int argument set to ``number`` and the others to a plausible word."""
    def value(match: re.Match) -> str:
        converter = match.group(1) or "default"
        return str(number) if converter == "int" else "x"
    return _ARGUMENT.sub(value, rule.rule)


def test_the_converter_refuses_numbers_past_the_integer_range(app):
    converter = app.url_map.converters["int"](app.url_map)
    assert converter.to_python("2147483647") == 2**31 - 1
    adapter = app.url_map.bind("localhost")
    rule = next(r for r in _int_get_rules(app) if r.endpoint == "org.member")
    assert adapter.match(_path(rule, 2**31 - 1), method="GET")[0] == "org.member"


def test_many_get_routes_take_an_int(app):
    assert len(_int_get_rules(app)) >= 40  # the enumeration finds the routes (plugins included)


@pytest.mark.parametrize("number", [2**31, 2**63])
def test_every_get_route_answers_404_past_the_integer_range(client, org, number):
    assert login(client, "admin").status_code == 302
    failures = {}
    for rule in _int_get_rules(client.application):
        response = client.get(_path(rule, number))
        if response.status_code != 404:
            failures[rule.rule] = response.status_code
    assert failures == {}

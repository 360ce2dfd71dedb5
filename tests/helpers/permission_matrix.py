"""The reusable permission matrix: every GET route × every role, including a foreign secretary,
and POST routes × every role (:func:`check_post_matrix`), including acting on one's own record.

Each test module lists, for the blueprints it owns, the expected status per
role for every route. A route without an expectation fails the test, so a
new page cannot ship without its permission rules being written down.

    from tests.helpers.permission_matrix import check_matrix, expect, ROLES
    check_matrix(app, org, {"org.unit": expect(404, home_sec=200, admin=200, anonymous=302)},
                 url_values={"org.unit": lambda org: {"unit_id": org.home.id}}, blueprints={"org"})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from flask import Flask, url_for

ROLES = ("anonymous", "member1", "member2", "outsider", "home_sec", "host_sec", "foreign_sec", "organizer", "admin")
PASSWORD = "pass-1234"


def expect(default: int | tuple[int, ...], **per_role: int | tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Expected statuses for every role: ``default`` unless a role is named."""
    unknown = set(per_role) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    as_tuple = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
    return {role: as_tuple(per_role.get(role, default)) for role in ROLES}


def public() -> dict[str, tuple[int, ...]]:
    """Everyone, logged in or not."""
    return expect(200)


def logged_in() -> dict[str, tuple[int, ...]]:
    """Every logged-in account; visitors are sent to the login page."""
    return expect(200, anonymous=302)


def admin_only(denied: int = 403) -> dict[str, tuple[int, ...]]:
    """Site admins only."""
    return expect(denied, anonymous=302, admin=200)


def get_routes(app: Flask, blueprints: Iterable[str]) -> dict[str, str]:
    """``{endpoint: rule}`` for every GET route of ``blueprints``."""
    wanted = set(blueprints)
    routes = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        if rule.endpoint.split(".")[0] in wanted:
            routes[rule.endpoint] = rule.rule
    return routes


def _clients(app: Flask, org) -> dict:
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            account = org.accounts[role]
            response = client.post("/login", data={"login": account.username, "password": PASSWORD})
            assert response.status_code == 302, f"{role} could not log in"
        clients[role] = client
    return clients


def check_matrix(app: Flask, org, expectations: dict[str, dict], *, blueprints: Iterable[str],
                 url_values: dict[str, Callable | dict] | None = None) -> int:
    """Request every GET route of ``blueprints`` as every role and compare with ``expectations``.

    Returns how many requests were checked; raises AssertionError listing every mismatch.
    """
    url_values = url_values or {}
    routes = get_routes(app, blueprints)
    missing = sorted(set(routes) - set(expectations))
    assert not missing, f"routes without permission expectations: {missing}"
    clients = _clients(app, org)
    failures, checked = [], 0
    for endpoint in sorted(routes):
        values = url_values.get(endpoint, {})
        values = values(org) if callable(values) else values
        with app.test_request_context():
            url = url_for(endpoint, **values)
        for role in ROLES:
            status = clients[role].get(url).status_code
            checked += 1
            if status not in expectations[endpoint][role]:
                failures.append(f"{endpoint} {url} as {role}: got {status}, expected {expectations[endpoint][role]}")
    assert not failures, "permission matrix mismatches:\n" + "\n".join(failures)
    return checked


@dataclass
class PostCase:
    """One POST route checked as every role.

    A POST changes things, so ``setup(org)`` makes a fresh target before each
    role's request and returns the URL values; ``data`` is the form (or a
    callable of ``org`` and the URL values). ``state(org, values)`` reads what
    the POST could change: a refused request (4xx) must leave it as it was.
    """

    endpoint: str
    expected: dict[str, tuple[int, ...]]
    setup: Callable[[Any], dict]
    data: dict | Callable[[Any, dict], dict] = field(default_factory=dict)
    state: Callable[[Any, dict], Any] | None = None


def check_post_matrix(app: Flask, org, cases: Iterable[PostCase]) -> int:
    """POST every case's route as every role and compare with its expectations.

    Returns how many requests were checked; raises AssertionError listing every
    mismatch and every refused request that changed something anyway.
    """
    from portal.extensions import db

    clients = _clients(app, org)
    failures, checked = [], 0
    for case in cases:
        for role in ROLES:
            values = case.setup(org)
            db.session.commit()
            data = case.data(org, values) if callable(case.data) else case.data
            with app.test_request_context():
                url = url_for(case.endpoint, **values)
            before = case.state(org, values) if case.state else None
            status = clients[role].post(url, data=data).status_code
            checked += 1
            db.session.expire_all()
            if status not in case.expected[role]:
                failures.append(f"POST {case.endpoint} {url} as {role}: got {status}, expected {case.expected[role]}")
            elif status >= 400 and case.state and case.state(org, values) != before:
                failures.append(f"POST {case.endpoint} {url} as {role}: refused with {status} but changed the state")
    assert not failures, "permission matrix mismatches:\n" + "\n".join(failures)
    return checked

"""The reusable permission matrix: every GET route × every role, including a foreign secretary,
and POST routes × every role (:func:`check_post_matrix`), including acting on one's own record.

Each test module lists, for the blueprints it owns, the expected status per
role for every route. A route without an expectation fails the test, so a
new page cannot ship without its permission rules being written down.

    from tests.helpers.permission_matrix import check_matrix, expect, ROLES
    check_matrix(app, org, {"org.unit": expect(404, home_sec=200, admin=200, anonymous=302)},
                 url_values={"org.unit": lambda org: {"unit_id": org.home.id}}, blueprints={"org"})

Write routes (POST/PUT/PATCH/DELETE) work the same way, in
``tests/test_post_matrix_<area>.py``: :func:`check_post_coverage` fails for a
write route with neither a :class:`PostCase` nor an entry in
``covered_elsewhere``; :func:`check_post_matrix` sends each case as every role
on a fresh target and checks the status and that refusals changed nothing.

    cases = [PostCase("points.award", expect(404, anonymous=302, home_sec=302), lambda org: {"member_id": ...},
                      {"points": "5", "reason": "Helped at the harvest"})]
    check_post_coverage(app, {"points"}, cases)
    check_post_matrix(app, org, cases)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
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
            client.get("/")  # today's first request records the daily login: not part of any case
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


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def post_routes(app: Flask, blueprints: Iterable[str]) -> dict[str, str]:
    """``{endpoint: rule}`` for every POST/PUT/PATCH/DELETE route of ``blueprints``."""
    wanted = set(blueprints)
    routes: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        if rule.methods & WRITE_METHODS and rule.endpoint.split(".")[0] in wanted:
            routes.setdefault(rule.endpoint, rule.rule)
    return routes


def check_post_coverage(app: Flask, blueprints: Iterable[str], cases: Iterable["PostCase"],
                        covered_elsewhere: dict[str, str] | None = None) -> None:
    """Fail unless every write route of ``blueprints`` has a :class:`PostCase` or is covered elsewhere.

    ``covered_elsewhere`` maps an endpoint to the test that checks it
    (``"tests/test_x.py::test_name"``); that test must exist, so the list cannot
    point at nothing, and an entry for a route that is gone fails too.
    """
    covered_elsewhere = covered_elsewhere or {}
    routes = post_routes(app, blueprints)
    cased = {case.endpoint for case in cases}
    missing = sorted(set(routes) - cased - set(covered_elsewhere))
    assert not missing, f"write routes without a POST permission case: {missing}"
    stale = sorted((cased | set(covered_elsewhere)) - set(routes))
    assert not stale, f"POST cases for routes that are not in these blueprints: {stale}"
    root = Path(__file__).resolve().parents[2]
    for endpoint, where in covered_elsewhere.items():
        path, _, test = where.partition("::")
        source = root / path
        assert source.is_file() and f"def {test}(" in source.read_text(encoding="utf-8"), \
            f"{endpoint} is said to be covered by {where}, which does not exist"


def db_fingerprint() -> str:
    """A hash of every row of every table: equal before and after means the request changed nothing.

    The test databases hold a few hundred rows, so reading them all is cheaper
    than writing a state reader per route, and it catches a write anywhere.
    """
    from portal.extensions import db

    digest = hashlib.sha1()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select().order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
            digest.update(b"|")
    return digest.hexdigest()


@dataclass
class PostCase:
    """One write route checked as every role.

    A POST changes things, so ``setup(org)`` makes a fresh target before each
    role's request and returns the URL values; ``data`` is the form (or a
    callable of ``org`` and the URL values; files as ``(BytesIO, name)``).
    ``state(org, values)`` reads what the POST could change; without it the
    whole database is compared (:func:`db_fingerprint`). A refused request
    (4xx, or any request of an anonymous visitor) must leave it as it was, and
    an anonymous visitor of a web page is sent to the login page.
    ``json=True`` sends ``data`` as a JSON body (the API); ``method`` is the verb;
    ``public=True`` for the few routes anonymous visitors may use (language, logout).
    A success (a redirect, or a 2xx answer of the API) must change the state,
    so that a redirect with an error message does not pass for one; set
    ``changes=False`` for the routes whose success writes nothing, or name the
    roles whose success must change something (the others are sent away and
    must change nothing).
    """

    endpoint: str
    expected: dict[str, tuple[int, ...]]
    setup: Callable[[Any], dict] = lambda _org: {}
    data: dict | Callable[[Any, dict], dict] = field(default_factory=dict)
    state: Callable[[Any, dict], Any] | None = None
    json: bool = False
    method: str = "POST"
    public: bool = False
    changes: bool | tuple[str, ...] = True

    def refuses(self, role: str) -> bool:
        """Must ``role``'s request leave the state as it was?"""
        if isinstance(self.changes, tuple) and role not in self.changes:
            return True
        if role == "anonymous":
            return not self.public
        return all(status >= 400 for status in self.expected[role])

    def succeeded(self, role: str, status: int) -> bool:
        """Is ``status`` for ``role`` a success that must have changed something?"""
        changes = role in self.changes if isinstance(self.changes, tuple) else self.changes
        return changes and (300 <= status < 400 or (self.json and 200 <= status < 300))

    def read_state(self, org, values: dict) -> Any:
        """What the request could change."""
        return self.state(org, values) if self.state else db_fingerprint()

    def send(self, client, url: str, data: dict):
        """Send the request as ``client``."""
        if self.json:
            return client.open(url, method=self.method, json=data)
        return client.open(url, method=self.method, data=data)


def check_post_matrix(app: Flask, org, cases: Iterable[PostCase]) -> int:
    """Send every case's request as every role and compare with its expectations.

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
            refused = case.refuses(role)
            before = case.read_state(org, values)
            response = case.send(clients[role], url, data)
            status = response.status_code
            checked += 1
            db.session.expire_all()
            where = f"{case.method} {case.endpoint} {url} as {role}"
            if status not in case.expected[role]:
                failures.append(f"{where}: got {status}, expected {case.expected[role]}")
            elif refused and case.read_state(org, values) != before:
                failures.append(f"{where}: refused with {status} but changed the state")
            elif not refused and case.succeeded(role, status) and case.read_state(org, values) == before:
                failures.append(f"{where}: answered {status} but changed nothing")
            elif role == "anonymous" and not case.public and status == 302 and "/login" not in response.location:
                failures.append(f"{where}: sent to {response.location}, not to the login page")
    assert not failures, "permission matrix mismatches:\n" + "\n".join(failures)
    return checked

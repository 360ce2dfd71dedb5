"""Query discipline: the main pages send a bounded, pinned number of SQL statements.

The organization is the demo (``portal.demo.build_demo``), so every enabled
plugin contributes its own demo data — several courses, lessons, quiz days,
points entries, care requests, outflows — and a page that loads one row per
item (an N+1) sends more statements than its pin.

Each page is requested twice and the second request is counted (the first of
the day records ``member.daily_login``, which is not what the page costs).
Transaction control (BEGIN/COMMIT/SAVEPOINT…) is not counted: SQLite sends an
explicit BEGIN that PostgreSQL's driver does not.

* ``test_page_is_pinned``: the count may go down (lower the pin), never up.
* ``test_page_within_budget``: no main page sends more than 15 statements
  (issue 8). A page known to exceed it may be marked ``xfail`` by giving the
  reason as the fifth field of its ``PAGES`` row (none today). Set
  ``QUERY_COUNTS_REPORT=1`` to print every page's statements.
"""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from tests.conftest import _wipe
from tests.helpers.query_counter import count_queries

BUDGET = 15
PASSWORD = "pass-1234"

#: (id, account, url template, pinned count (may only go down), over budget because … or None)
PAGES = [
    ("dashboard", "member1", "/dashboard", 15, None),
    ("inbox", "member1", "/inbox/", 5, None),
    # +1 each (issue 12): how many of the listed people are members (full, probationary), the rest shown apart
    ("unit_members_branch", "home-secretary", "/units/{home}", 8, None),
    ("unit_members_root", "organizer", "/units/{root}", 7, None),
    # +1 (issue 13): the courses widget counts the reported comments waiting for the moderators
    ("unit_dashboard", "home-secretary", "/units/{home}/dashboard", 13, None),
    ("search", "member1", "/search?q=%E5%85%9A%E5%91%98", 4, None),  # + the rate-limit counter (issue 14)
    ("courses_catalogue", "member1", "/courses", 11, None),
    ("course_page", "member1", "/courses/{course}", 11, None),
    ("lesson_page", "member1", "/courses/{course}/lessons/{lesson}", 10, None),
    ("daily_quiz", "member1", "/quizzes/daily", 9, None),
    ("points_me", "member1", "/points/", 9, None),
    ("leaderboard", "member1", "/points/leaderboard", 7, None),
    ("leaderboard_root", "organizer", "/points/leaderboard?unit={root}", 5, None),
    ("care_home", "member1", "/care/", 8, None),
    ("care_queue", "home-secretary", "/care/queue", 6, None),
    ("mobility_home", "member1", "/mobility/", 12, None),
]


@pytest.fixture(scope="module")
def demo(app):
    """The demo organization (built once for this module, wiped afterwards)."""
    from portal.demo import build_demo
    from portal.org.models import OrgUnit

    ctx = app.app_context()
    ctx.push()
    try:
        build_demo(members=12, password=PASSWORD)
        _db.session.commit()
        units = {unit.name: unit for unit in _db.session.scalars(select(OrgUnit))}
        from portal.demo import COUNTY

        ids = SimpleNamespace(root=units[COUNTY].id, home=units["东岭村党支部"].id, course="", lesson=0)
        manager = app.extensions["portal_plugins"]
        if "courses" in manager.plugins and manager.plugins["courses"].module is not None:
            from portal_courses.models import Course, Lesson

            course = _db.session.scalar(select(Course).where(Course.published.is_(True), Course.retired_at.is_(None))
                                        .order_by(Course.position, Course.id))
            if course is not None:
                ids.course = course.slug
                ids.lesson = _db.session.scalar(select(Lesson.id).where(Lesson.course_id == course.id)
                                                .order_by(Lesson.position))
        _db.session.remove()
    finally:
        ctx.pop()
    yield ids
    _wipe(app)


@pytest.fixture(scope="module")
def clients(app, demo):
    """One logged-in test client per account used below."""
    made = {}
    for username in {page[1] for page in PAGES}:
        client = app.test_client()
        response = client.post("/login", data={"login": username, "password": PASSWORD})
        assert response.status_code == 302, f"{username} could not log in"
        made[username] = client
    return made


def measure(app, client, url: str):
    client.get(url)  # the day's first request records the daily login; count the steady state
    with app.app_context():
        with count_queries() as queries:
            response = client.get(url)
    if os.environ.get("QUERY_COUNTS_REPORT"):
        print(f"\n== {url} → {response.status_code}\n{queries.report()}")
    return response, queries


def _url(template: str, demo) -> str:
    if "{course}" in template and not demo.course:
        pytest.skip("no course in the demo (courses plugin not installed)")
    return template.format(**vars(demo))


@pytest.mark.parametrize("name,username,template,pinned,_over", PAGES, ids=[p[0] for p in PAGES])
def test_page_is_pinned(app, demo, clients, name, username, template, pinned, _over):
    response, queries = measure(app, clients[username], _url(template, demo))
    assert response.status_code == 200, f"{name}: {response.status_code}"
    assert len(queries) <= pinned, (
        f"{name} now sends {len(queries)} statements (pinned {pinned}): an N+1 or a new query.\n"
        + queries.report())


@pytest.mark.parametrize("name,username,template,pinned,over", [
    pytest.param(*page, marks=pytest.mark.xfail(reason=f"over budget: {page[4]}", strict=False)) if page[4]
    else page for page in PAGES], ids=[p[0] for p in PAGES])
def test_page_within_budget(app, demo, clients, name, username, template, pinned, over):
    response, queries = measure(app, clients[username], _url(template, demo))
    assert response.status_code == 200
    assert len(queries) <= BUDGET, f"{name} sends {len(queries)} statements (budget {BUDGET}).\n" + queries.report()


def test_counter_sees_lazy_loads_and_ignores_transaction_control(app, demo):
    """The helper itself: one statement per lazy load; BEGIN/COMMIT are kept apart."""
    from portal.org.models import Member

    with app.app_context():
        with count_queries() as queries:
            members = _db.session.scalars(select(Member).order_by(Member.id).limit(3)).all()
            for member in members:
                _ = member.contact  # lazy="select": one statement each unless already in the session
            _db.session.commit()
        assert queries.count >= 1
        assert all(not s.sql.lstrip().upper().startswith(("BEGIN", "COMMIT")) for s in queries)
        assert "test_query_counts.py" not in queries.report()  # origins point at project code, not tests
        with count_queries() as again:
            _db.session.execute(select(Member.id).limit(1)).all()
        assert again.count == 1
        _db.session.remove()

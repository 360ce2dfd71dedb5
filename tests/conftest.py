"""Shared fixtures: one app per test session, a clean database per test, factories.

Runs on SQLite by default and on PostgreSQL when ``PORTAL_TEST_DATABASE_URL``
is set (CI runs the suite both ways).
"""
from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import delete

from portal import create_app
from portal.extensions import db as _db
from tests.helpers.factories import Factory

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")

# The moto S3 server fixtures (moto_server, s3_app), shared by every test module that asks for them.
pytest_plugins = ["tests.helpers.s3"]
pytest_plugins += ["tests.helpers.lrs"]  # the Ralph LRS fixture (ralph_lrs)


class IsolatedClient(FlaskClient):
    """Each request gets a fresh app context (fresh ``g`` and DB session), as in production.

    Without this, Flask reuses the test's pushed app context for requests.
    The test's own transaction is committed first: an open read snapshot would
    go stale (and SQLite would refuse the test's next write), and committing
    expires the test's objects so they reload what the request wrote.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            _db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_test_app(tmp_path_factory, **overrides):
    """A testing app on its own instance folder (PostgreSQL when configured)."""
    instance = tmp_path_factory.mktemp("instance")
    config = {
        "TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "ARGON2_PROFILE": "fast",
        "DATABASE_URL": PG_URL or f"sqlite:///{instance / 'test.sqlite3'}", "SERVER_NAME": None,
        "DEFAULT_LOCALE": "en", "SEARCH_INDEX_DIR": str(instance / "search-index"),
        "UPLOAD_DIR": str(instance / "uploads"),
    }
    config.update(overrides)
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app(config)
        app.test_client_class = IsolatedClient
        return app
    finally:
        os.environ.pop("PORTAL_INSTANCE_PATH", None)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The session's app with every table created."""
    app = make_test_app(tmp_path_factory)
    with app.app_context():
        if PG_URL:
            _db.drop_all()
        _db.create_all()
    return app


def _wipe(app) -> None:
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                if table.name == "search_document" and conn.dialect.name != "postgresql":
                    continue  # PostgreSQL's search table: in the metadata once any app of this process ran there
                conn.execute(delete(table))


@pytest.fixture
def db(app):
    """An app context over a database emptied after the test."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield _db
    finally:
        _db.session.rollback()
        _db.session.remove()
        ctx.pop()
        _wipe(app)


@pytest.fixture
def client(app, db):
    """A test client (CSRF off; tests/test_csrf.py checks CSRF with it on)."""
    return app.test_client()


@pytest.fixture
def factory(db) -> Factory:
    """Builders for units, members, accounts and roles."""
    return Factory(db)


@pytest.fixture
def org(factory) -> SimpleNamespace:
    """The standard test organization.

    root (committee) → township (committee) → home (branch), foreign (branch);
    root → mobile (general branch) → host (mobile members' branch).
    Accounts: admin, organizer (root), home_sec, host_sec, foreign_sec;
    members: member1 (home, away, hosted at host), member2 (home, at home),
    outsider (foreign branch).
    """
    return factory.standard_org()


def login(client, username: str, password: str = "pass-1234"):
    """Log ``username`` in through the login form; returns the response."""
    return client.post("/login", data={"login": username, "password": password})


def api_token(client, username: str, password: str = "pass-1234") -> dict:
    """Headers with a bearer token for ``username``."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.fixture
def register(app):
    """``register(plugin, name)`` on the session app's manager; unregistered after the test."""
    from portal.plugins.manager import get_manager

    manager = get_manager(app)
    added = []

    def add(plugin, name):
        manager.pm.register(plugin, name=name)
        added.append(plugin)
        return plugin

    yield add
    for plugin in added:
        manager.pm.unregister(plugin)

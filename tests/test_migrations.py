"""Migrations build exactly the schema the models describe, for the core and every plugin."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from portal.extensions import db
from portal.migrate import pending, upgrade
from tests.conftest import make_test_app

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def _migrated_app(tmp_path_factory, url):
    app = make_test_app(tmp_path_factory, DATABASE_URL=url)
    with app.app_context():
        upgrade(app)
    return app


def _differences(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [diff for diff in compare_metadata(context, db.metadata)
                if not (isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index") and "text_pattern_ops" in str(diff))
                and not _postgresql_only_elsewhere(diff, connection.dialect.name)]


def _postgresql_only_elsewhere(diff, dialect: str) -> bool:
    """``search_document`` (PostgreSQL's search, core_0011) is made on PostgreSQL only; once a PostgreSQL app
    was made in this process it stays in the metadata (portal/search/models.py)."""
    return dialect != "postgresql" and "search_document" in str(diff)


def test_sqlite_upgrade_matches_models_and_is_idempotent(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migrate")
    app = _migrated_app(tmp_path_factory, f"sqlite:///{folder / 'm.sqlite3'}")
    assert _differences(app) == []
    with app.app_context():
        assert pending(app) == []
        upgrade(app)  # running it again changes nothing


@pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_DATABASE_URL not set")
def test_postgresql_upgrade_matches_models(tmp_path_factory):
    base, _, _name = PG_URL.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS portal_migrations_test"))
        connection.execute(text("CREATE DATABASE portal_migrations_test"))
    app = _migrated_app(tmp_path_factory, f"{base}/portal_migrations_test")
    assert _differences(app) == []
    with app.app_context():
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("org_unit")}
        assert "ix_org_unit_path" in indexes
        db.engine.dispose()
    admin.dispose()

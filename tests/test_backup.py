"""``portal backup`` / ``portal restore`` (issue 14): a consistent online snapshot restores into a new instance."""
from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from portal.backup import BackupError, check_against_manifest, create_backup, restore_backup, table_digests
from portal.demo import build_demo
from portal.extensions import db
from portal.migrate import upgrade
from portal_care.models import CareAttachment, CareRequest
from tests.conftest import make_test_app

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
PASSWORD = "demo-2026"
PDF = b"%PDF-1.4\n%a contract kept through backup and restore\n"
FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
        "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}


def _sqlite_urls(tmp_path) -> tuple[str, str]:
    return f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'target.sqlite3'}"


def _postgres_urls(_tmp_path) -> tuple[str, str]:
    """Two fresh databases beside the test database (.ci/run grants CREATEDB)."""
    base, _, _name = PG_URL.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in ("portal_backup_source", "portal_backup_target"):
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{base}/portal_backup_source", f"{base}/portal_backup_target"


def _file_with_attachment(client) -> None:
    response = client.post("/login", data={"login": "member1", "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/care/new", data={**FORM, "attachments": [(io.BytesIO(PDF), "contract.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)


class Writer(threading.Thread):
    """Files care requests through the app while a backup runs; stops by itself after ``limit`` requests."""

    def __init__(self, app, limit: int = 60) -> None:
        super().__init__(daemon=True)
        self.client, self.limit = app.test_client(), limit
        self.started, self.stop, self.written, self.errors = threading.Event(), threading.Event(), 0, []

    def run(self) -> None:
        self.client.post("/login", data={"login": "member1", "password": PASSWORD})
        while self.written < self.limit and not self.stop.is_set():
            response = self.client.post("/care/new", data={**FORM, "title": f"Written during the backup {self.written}"})
            if response.status_code != 302:
                self.errors.append(response.get_data(as_text=True)[-2000:])
                break
            self.written += 1
            self.started.set()
        self.started.set()  # never leave the test waiting


@pytest.fixture
def instances(tmp_path, tmp_path_factory, request):
    source_url, target_url = request.param(tmp_path)
    source = make_test_app(tmp_path_factory, DATABASE_URL=source_url)
    target = make_test_app(tmp_path_factory, DATABASE_URL=target_url)
    with source.app_context():
        upgrade(source)
        build_demo(members=6, password=PASSWORD)
    _file_with_attachment(source.test_client())
    yield source, target
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


BOTH = [pytest.param(_sqlite_urls, id="sqlite"),
        pytest.param(_postgres_urls, id="postgresql", marks=[
            pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_DATABASE_URL not set")])]


@pytest.mark.slow
@pytest.mark.parametrize("instances", BOTH, indirect=True)
def test_backup_under_load_restores_into_a_new_instance(instances, tmp_path):
    source, target = instances
    archive = tmp_path / "portal.tar"
    writer = Writer(source)
    writer.start()
    assert writer.started.wait(60)  # the portal is busy writing when the backup starts
    with source.app_context():
        manifest = create_backup(archive)
    writer.stop.set()
    writer.join(60)
    assert writer.errors == [] and writer.written >= 1

    assert archive.stat().st_mode & 0o077 == 0  # personal data and the secret key: the owner's only
    tables = manifest["database"]["tables"]
    assert tables["account"]["rows"] > 5 and tables["care_attachment"]["rows"] == 1
    # derived tables are rebuilt, not restored: the composition cache's stamps start again at random versions,
    # so no piece an app server kept before the restore can match (and reindexing may bump them at once)
    assert "cache_stamp" not in tables and "search_document" not in tables
    assert manifest["database"]["alembic_heads"] and manifest["portal_version"]
    with source.app_context():
        live = table_digests()
        # the snapshot is of one moment: requests filed during the backup are either all in or all out
        snapshot_requests = tables["care_request"]["rows"]
        assert db.session.scalar(select(func.count()).select_from(CareRequest)) == live["care_request"].rows
        assert live["care_request"].rows >= snapshot_requests

    with target.app_context():
        result = restore_backup(archive)
        assert result.rows == sum(t["rows"] for t in tables.values()) and result.uploads >= 1
        assert check_against_manifest(manifest) == []
        restored = table_digests()
        assert {name: (d.rows, d.sha256) for name, d in restored.items()} == {
            name: (t["rows"], t["sha256"]) for name, t in tables.items()}
        attachment_id = db.session.scalar(select(CareAttachment.id))
        db.session.remove()

    client = target.test_client()
    assert client.post("/login", data={"login": "member1", "password": PASSWORD}).status_code == 302
    served = client.get(f"/care/attachments/{attachment_id}")
    assert served.status_code == 200 and served.data == PDF
    # new rows get fresh ids after the restore (PostgreSQL sequences were moved past the loaded ids)
    _file_with_attachment(client)
    with target.app_context():
        assert db.session.scalar(select(func.count()).select_from(CareAttachment)) == 2
        # a second restore is refused: the target is no longer empty
        with pytest.raises(BackupError, match="not empty"):
            restore_backup(archive)
        restore_backup(archive, force=True)
        assert check_against_manifest(manifest) == []


def test_sqlite_backup_includes_rows_still_in_the_wal(tmp_path, tmp_path_factory):
    """Copying the file loses committed rows that live in the WAL; the backup reads them through SQLite."""
    url = f"sqlite:///{tmp_path / 'wal.sqlite3'}"
    source = make_test_app(tmp_path_factory, DATABASE_URL=url)
    with source.app_context():
        upgrade(source)
        build_demo(members=3, password=PASSWORD)
        db.session.execute(text("UPDATE account SET display_name = 'only in the WAL' WHERE username = 'admin'"))
        db.session.commit()
        # the pool's open connections keep SQLite from checkpointing: the row is not in the main file yet
        assert "only in the WAL".encode() not in (tmp_path / "wal.sqlite3").read_bytes()
        manifest = create_backup(tmp_path / "wal.tar")
        db.engine.dispose()
    with tarfile.open(tmp_path / "wal.tar") as tar:
        accounts = tar.extractfile("database/account.jsonl").read().decode("utf-8")
    assert "only in the WAL" in accounts
    assert manifest["database"]["dialect"] == "sqlite"


def test_restore_refuses_a_damaged_backup(tmp_path, tmp_path_factory):
    source = make_test_app(tmp_path_factory, DATABASE_URL=f"sqlite:///{tmp_path / 's.sqlite3'}")
    with source.app_context():
        upgrade(source)
        create_backup(tmp_path / "ok.tar")
        db.engine.dispose()
    with tarfile.open(tmp_path / "ok.tar") as tar, tarfile.open(tmp_path / "bad.tar", "w") as bad:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if member.name == "database/account.jsonl":
                data += b'[1]\n'
                member.size = len(data)
            bad.addfile(member, io.BytesIO(data))
    target = make_test_app(tmp_path_factory, DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}")
    with target.app_context(), pytest.raises(BackupError, match="account.jsonl is missing or damaged"):
        restore_backup(tmp_path / "bad.tar")


def test_cli_backup_writes_manifest_and_flags_the_secret(tmp_path, tmp_path_factory):
    from portal.cli import cli

    source = make_test_app(tmp_path_factory, DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    (Path(source.instance_path) / "config.toml").write_text('SECRET_KEY = "kept-in-the-backup"\n', encoding="utf-8")
    with source.app_context():
        upgrade(source)
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "c.tar")], obj=_script_info(source))
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY" in result.output
    with tarfile.open(tmp_path / "c.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert tar.extractfile("config/config.toml").read() == b'SECRET_KEY = "kept-in-the-backup"\n'
    assert manifest["config"]["secret_key_included"] is True
    assert set(manifest["files"]) >= {"config/config.toml", "database/account.jsonl"}
    with source.app_context():
        db.engine.dispose()


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)

"""Online backup and restore of a whole instance: database rows, uploads and configuration.

A backup is a ``.tar`` holding ``manifest.json``, ``database/<table>.jsonl`` (one
logical dump per table), ``uploads/<key>`` (every file of the app's store —
the instance folder or the S3 bucket, :mod:`portal.storage`) and ``config/…``. One code path serves
every dialect: the rows are read through SQLAlchemy in a single transaction
(PostgreSQL: ``REPEATABLE READ``; SQLite: one WAL read snapshot), so a backup
taken while the portal serves requests is consistent and includes committed
rows still in SQLite's WAL, which a file copy loses. Because the dump is
logical, a SQLite backup restores into PostgreSQL and back, and no ``pg_dump``
binary is needed. The manifest records each table's row count and a content
hash, checked again after a restore.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import mimetypes
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterator

from flask import current_app
from sqlalchemy import Connection, MetaData, Table, bindparam, func, select, text
from sqlalchemy.engine import Engine

from portal import __version__
from portal.extensions import db
from portal.storage import check_key, get_store
from portal.timeutil import local_now

FORMAT = 1
VERSION_TABLE = "alembic_version"  # recorded as the manifest's heads; migrations rebuild it
#: Tables derived from the others: not dumped, not compared, only emptied before a restore loads its rows.
#: ``search_document`` is rebuilt by the restore (``portal search reindex``; its rows differ in time stamps).
#: ``cache_stamp`` (the composition cache's versions) starts again empty, so each stamp restarts at a random
#: version: every piece an app server kept from the database before the restore is stale, none can match.
DERIVED_TABLES = frozenset({"search_document", "cache_stamp"})
BATCH = 500
CONFIG_FILES = ("config.toml", "config.py")
SECRET_NOTE = ("config/ holds the instance configuration, including SECRET_KEY when it is set there: "
               "keep this backup as secret as the server itself.")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


@dataclass
class TableDigest:
    """A table's row count and the sha256 of its dumped lines (primary-key order)."""

    rows: int
    sha256: str


@dataclass
class RestoreResult:
    """What a restore did, for the command's summary."""

    tables: int
    rows: int
    uploads: int
    config_written: Path | None
    indexed: int


# --- encoding rows ---------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    """A JSON-ready value; the target column's type turns it back (see :func:`_decode`)."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _python_type(column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:  # JSON and other types whose values are stored as they come
        return None


def _decode(value: Any, kind: type | None) -> Any:
    """The inverse of :func:`_encode` for a column whose values are ``kind``."""
    if value is None or kind is None or not isinstance(value, str):
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is time:
        return time.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    if kind is bytes:
        return base64.b64decode(value)
    return value


def _line(values: list[Any]) -> bytes:
    return json.dumps([_encode(v) for v in values], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8") + b"\n"


# --- reading the database ----------------------------------------------------------------------

def _reflect(connection: Connection, *, derived: bool = False) -> list[Table]:
    """Every table of the database except Alembic's (and the derived ones unless asked), parents before children."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    skipped = {VERSION_TABLE} if derived else {VERSION_TABLE, *DERIVED_TABLES}
    return [t for t in metadata.sorted_tables if t.name not in skipped]


def _ordered_rows(connection: Connection, table: Table) -> Iterator[list[Any]]:
    keys = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True).execute(select(table).order_by(*keys))
    for row in result:
        yield list(row)


def _dump_table(connection: Connection, table: Table, out: IO[bytes] | None) -> TableDigest:
    """Write the table's lines to ``out`` (when given) and return their count and hash."""
    digest = hashlib.sha256()
    header = json.dumps({"columns": [c.name for c in table.columns]}).encode("utf-8") + b"\n"
    digest.update(header)
    if out is not None:
        out.write(header)
    count = 0
    for values in _ordered_rows(connection, table):
        line = _line(values)
        digest.update(line)
        if out is not None:
            out.write(line)
        count += 1
    return TableDigest(count, digest.hexdigest())


def _snapshot_connection(engine: Engine) -> Connection:
    """A connection whose transaction sees one consistent state of the whole database."""
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return engine.connect()  # SQLite: the first read of the transaction fixes its WAL snapshot


def _heads(connection: Connection) -> list[str]:
    if not connection.dialect.has_table(connection, VERSION_TABLE):
        return []
    return sorted(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def table_digests(engine: Engine | None = None) -> dict[str, TableDigest]:
    """Each table's row count and content hash now (what a backup's manifest records)."""
    with _snapshot_connection(engine or db.engine) as connection, connection.begin():
        return {table.name: _dump_table(connection, table, None) for table in _reflect(connection)}


# --- backup ------------------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dump_database(folder: Path) -> dict[str, Any]:
    """Dump every table into ``folder`` inside one snapshot; the manifest's database part."""
    engine = db.engine
    with _snapshot_connection(engine) as connection, connection.begin():
        heads = _heads(connection)
        tables: dict[str, dict[str, Any]] = {}
        for table in _reflect(connection):
            with (folder / f"{table.name}.jsonl").open("wb") as out:
                found = _dump_table(connection, table, out)
            tables[table.name] = {"rows": found.rows, "sha256": found.sha256}
    return {"dialect": engine.dialect.name, "alembic_heads": heads, "tables": tables}


def _config_files() -> list[Path]:
    instance = Path(current_app.instance_path)
    return [instance / name for name in CONFIG_FILES if (instance / name).is_file()]


def _walk_files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file())


def _fetch_uploads(folder: Path) -> list[tuple[Path, str]]:
    """Copy every file of the store into ``folder`` (by key); the tar members they become."""
    store, members = get_store(), []
    for key in store.keys():
        data = store.get(key)
        if data is None:  # deleted since it was listed
            continue
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        members.append((path, f"uploads/{key}"))
    return members


def create_backup(target: Path) -> dict[str, Any]:
    """Write a backup of this instance to ``target`` (a .tar, mode 0600) and return its manifest.

    Safe while the portal serves requests. Uploads are copied after the rows, so
    every file the rows name is there (files are written before their row commits).
    """
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
        database = Path(work) / "database"
        database.mkdir()
        manifest = {"format": FORMAT, "portal_version": __version__, "created_at": local_now().isoformat(),
                    "database": _dump_database(database)}
        members: list[tuple[Path, str]] = [(p, f"database/{p.name}") for p in sorted(database.iterdir())]
        members += _fetch_uploads(Path(work) / "uploads")
        configs = _config_files()
        members += [(p, f"config/{p.name}") for p in configs]
        manifest["files"] = {name: _sha256_file(path) for path, name in members}
        manifest["config"] = {"included": [p.name for p in configs],
                              "secret_key_included": any("SECRET_KEY" in p.read_text("utf-8") for p in configs),
                              "note": SECRET_NOTE}
        _write_tar(target, manifest, members)
    return manifest


def _write_tar(target: Path, manifest: dict[str, Any], members: list[tuple[Path, str]]) -> None:
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data and the secret key
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        info = tarfile.TarInfo("manifest.json")
        info.size, info.mtime, info.mode = len(data), int(local_now().timestamp()), 0o600
        tar.addfile(info, io.BytesIO(data))
        for path, name in members:
            tar.add(path, arcname=name, recursive=False)
    partial.replace(target)


# --- restore -----------------------------------------------------------------------------------

def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"Unsafe path in the backup: {name}")
    return path


def read_backup(source: Path, folder: Path) -> dict[str, Any]:
    """Unpack ``source`` into ``folder``, check every file against the manifest, return the manifest."""
    try:
        with tarfile.open(source, mode="r") as tar:
            for member in tar.getmembers():
                _safe_name(member.name)
                if not member.isfile():
                    raise BackupError(f"Unexpected entry in the backup: {member.name}")
            tar.extractall(folder, filter="data")
    except tarfile.TarError as error:
        raise BackupError(f"{source} is not a portal backup: {error}") from None
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise BackupError(f"{source} has no manifest.json: not a portal backup")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        path = folder / _safe_name(name)
        if not path.is_file() or _sha256_file(path) != expected:
            raise BackupError(f"{name} is missing or damaged (checksum mismatch)")
    return manifest


def _occupied() -> list[str]:
    """What already holds data in the target: tables with rows, uploaded files."""
    found = []
    with db.engine.connect() as connection:
        for table in _reflect(connection):
            if connection.execute(select(func.count()).select_from(table)).scalar():
                found.append(f"table {table.name}")
    store = get_store()
    if next(iter(store.keys()), None) is not None:
        found.append(f"uploads in {store.describe()}")
    return found


def _migrate_to(heads: list[str]) -> None:
    """Bring the schema to the backup's revisions (rows load into the schema they were dumped from).

    A backup of a database without migration history loads into the newest schema.
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    from portal.migrate import alembic_config, upgrade

    if not heads:
        upgrade()
        return
    cfg = alembic_config()
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    unknown = sorted(set(heads) - known)
    if unknown:
        raise BackupError(f"The backup needs migrations this installation lacks ({', '.join(unknown)}): "
                          "install the same portal version and plugins, then restore")
    with db.engine.connect() as connection:
        current = _heads(connection)
    if current and current != sorted(heads):
        raise BackupError(f"The target database is at other revisions ({', '.join(current)}) than the backup "
                          f"({', '.join(heads)}): restore into an empty database")
    for head in heads:
        command.upgrade(cfg, head)


def _late_columns(table: Table, loaded: set[str]) -> list[str]:
    """Foreign-key columns naming this table itself or one not loaded yet: they are set after every row is in
    (PostgreSQL checks each row at once, and a member may name a contact person with a higher id)."""
    return sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table.name not in loaded})


def _load_table(connection: Connection, table: Table, path: Path, late: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Insert the dumped rows (``late`` columns left empty); returns their count and the updates filling those in."""
    keys = [c.name for c in table.primary_key.columns]
    updates: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        columns = json.loads(handle.readline())["columns"]
        missing = [name for name in columns if name not in table.columns]
        if missing:
            raise BackupError(f"{table.name} has no column(s) {', '.join(missing)} in the target database")
        kinds = [_python_type(table.columns[name]) for name in columns]
        batch: list[dict[str, Any]] = []
        count = 0
        for line in handle:
            values = zip(columns, kinds, json.loads(line), strict=True)
            row = {name: _decode(value, kind) for name, kind, value in values}
            if any(row.get(name) is not None for name in late):
                updates.append({**{f"k_{k}": row[k] for k in keys}, **{f"v_{c}": row[c] for c in late}})
                row.update(dict.fromkeys(late))
            batch.append(row)
            count += 1
            if len(batch) >= BATCH:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    return count, updates


def _fill_late(connection: Connection, table: Table, late: list[str], updates: list[dict[str, Any]]) -> None:
    if not updates:
        return
    keys = list(table.primary_key.columns)
    statement = (table.update().where(*(c == bindparam(f"k_{c.name}") for c in keys))
                 .values({c: bindparam(f"v_{c}") for c in late}))
    connection.execute(statement, updates)


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: move each serial/identity sequence past the loaded ids (or new rows would collide)."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name}).scalar()
            if sequence:
                connection.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'),
                                   {"s": sequence})


def _load_rows(folder: Path, manifest: dict[str, Any]) -> int:
    """Replace every table's rows with the backup's, in one transaction; the number of rows loaded."""
    names = list(manifest["database"]["tables"])  # parents before children
    with db.engine.connect() as connection, connection.begin():
        tables = {t.name: t for t in _reflect(connection, derived=True)}
        absent = [name for name in names if name not in tables]
        if absent:
            raise BackupError(f"The target database lacks table(s): {', '.join(absent)}")
        for table in reversed(list(tables.values())):  # rows migrations seeded make way for the backup's
            connection.execute(table.delete())
        loaded: set[str] = set()
        pending, total = [], 0
        for name in names:
            late = _late_columns(tables[name], loaded)
            count, updates = _load_table(connection, tables[name], folder / "database" / f"{name}.jsonl", late)
            pending.append((tables[name], late, updates))
            total += count
            loaded.add(name)
        for table, late, updates in pending:
            _fill_late(connection, table, late, updates)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, list(tables.values()))
    return total


def check_against_manifest(manifest: dict[str, Any]) -> list[str]:
    """Tables whose rows now differ from the manifest's snapshot (row count or content hash).

    The hash is of the dialect-neutral dump, so it also holds after restoring into another dialect.
    """
    now = table_digests()
    wrong = []
    for name, expected in manifest["database"]["tables"].items():
        found = now.get(name)
        if found is None or found.rows != expected["rows"]:
            wrong.append(f"{name}: {expected['rows']} row(s) expected, {found.rows if found else 'no table'} found")
        elif found.sha256 != expected["sha256"]:
            wrong.append(f"{name}: content differs")
    return wrong


def _backup_uploads(folder: Path) -> list[tuple[Path, str]]:
    """The backup's files and their store keys; a name no store accepts stops the restore before any row loads."""
    source = folder / "uploads"
    found = []
    for path in _walk_files(source):
        key = path.relative_to(source).as_posix()
        try:
            found.append((path, check_key(key)))
        except ValueError:
            raise BackupError(f"uploads/{key} cannot be restored: not a name the file store accepts") from None
    return found


def _restore_uploads(files: list[tuple[Path, str]]) -> int:
    """Put the backup's files into the store (the instance folder or the S3 bucket); how many."""
    store = get_store()
    for path, key in files:
        store.put(key, path.read_bytes(), mimetypes.guess_type(key)[0] or "application/octet-stream")
    return len(files)


def _write_private(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return target


def install_config(source: Path, instance: Path) -> Path | None:
    """Before the app starts: give an instance without config.toml the backup's (its SECRET_KEY keeps
    sessions and signed links valid). Returns the file written, or None."""
    target = instance / "config.toml"
    if target.exists():
        return None
    try:
        with tarfile.open(source, mode="r") as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            expected = manifest.get("files", {}).get("config/config.toml")
            data = tar.extractfile("config/config.toml").read() if expected else None
    except (tarfile.TarError, KeyError, AttributeError, ValueError) as error:
        raise BackupError(f"{source} is not a portal backup: {error}") from None
    if data is None:
        return None
    if hashlib.sha256(data).hexdigest() != expected:
        raise BackupError("config/config.toml is damaged (checksum mismatch)")
    return _write_private(target, data)


def _restore_config(folder: Path) -> Path | None:
    """Put the backup's config.toml beside a different existing one, for a person to compare."""
    source = folder / "config" / "config.toml"
    target = Path(current_app.instance_path) / "config.toml"
    if not source.is_file() or (target.is_file() and target.read_bytes() == source.read_bytes()):
        return None
    return _write_private(target.with_name("config.toml.from-backup"), source.read_bytes())


def restore_backup(source: Path, *, force: bool = False) -> RestoreResult:
    """Restore ``source`` into this instance's (empty, unless ``force``) database and file store.

    The schema is migrated to the backup's revisions, the rows are loaded and
    checked against the manifest, then migrations bring the schema up to date
    and the search index is rebuilt.
    """
    from portal.migrate import upgrade
    from portal.search.service import reindex

    with tempfile.TemporaryDirectory(prefix="portal-restore-") as work:
        folder = Path(work)
        manifest = read_backup(source, folder)
        files = _backup_uploads(folder)
        occupied = _occupied()
        if occupied and not force:
            raise BackupError("The target is not empty (" + "; ".join(occupied[:5])
                              + (" …" if len(occupied) > 5 else "") + "): use --force to replace its data")
        db.session.remove()
        _migrate_to(manifest["database"]["alembic_heads"])
        rows = _load_rows(folder, manifest)
        if wrong := check_against_manifest(manifest):
            raise BackupError("The restored rows differ from the backup: " + "; ".join(wrong))
        upgrade()
        uploads = _restore_uploads(files)
        config_written = _restore_config(folder)
    indexed = reindex()
    return RestoreResult(len(manifest["database"]["tables"]), rows, uploads, config_written, indexed)

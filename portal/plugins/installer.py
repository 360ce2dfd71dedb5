"""Installing and removing plugin wheels: the admin page's upload and ``portal plugins install|remove``.

Decisions (see also README "Writing a plugin"):

* **Nothing is written before the wheel is validated.** It must be a zip named
  ``<dist>-<version>-…whl`` holding only ``portal_<name>/…`` and
  ``<dist>-<version>.dist-info/…`` (no ``.data``, ``.pth`` or other top-level
  names), every member relative and normalised (no ``..``, absolute path, drive
  letter, backslash or symlink), within size and file-count limits (zip bomb),
  with a ``METADATA`` and exactly one ``[portal.plugins]`` entry point
  ``<name> = portal_<name>``. The name must not clash with a loaded plugin, a
  core blueprint or an importable package. The package is then imported in a
  SUBPROCESS (timeout) against the core hookspecs: an import error, a hook
  with wrong arguments or an unknown ``portal_*`` hook refuses the wheel. Every
  refusal is a translated :class:`InstallError`; the instance folder and the
  database are left as they were (only the audit entry of the refusal is kept).
* **Where.** The wheel is unpacked into ``<instance>/.plugin-staging/…`` then
  renamed into ``<instance>/plugins/<dist>-<version>/`` (same filesystem, so
  atomic). The manager puts that folder on ``sys.path`` and loads the entry
  point read from its ``.dist-info``, exactly like a pip-installed plugin.
* **Migrations** run at install in the installing process (``upgrade heads``
  with the new versions folder added), before the plugin is recorded.
* **State.** A new plugin is third-party, so it starts disabled; an admin
  enables it on the plugins page.
* **Every worker, every machine.** The wheel is stored in the database
  (``plugin_package``) and each install or removal changes the setting
  ``core.plugin_packages/generation``. Flask refuses new blueprints after the
  first request, so a worker never loads a plugin in place: each worker knows
  the generation it was built with and compares it with the stored one on
  every request (the settings are read once per request anyway). On a change,
  one worker per machine (file lock) asks for a graceful reload: under
  gunicorn it sends SIGHUP to its master, which replaces every worker of that
  machine; every new worker first syncs the instance folder with the database
  (unpacks missing wheels, deletes removed ones, under the same lock) and then
  discovers plugins. Other machines do the same on their next request; nobody
  logs into a server. Preload only through ``portal/gunicorn_conf.py``: its
  ``on_reload`` rebuilds the app in the master on HUP; a bare ``--preload``
  would fork the new workers from the master's old app. Under another server, the admin page says that a
  restart is needed.
* **Removal keeps the data.** The files go, the tables stay. The plugin's
  revisions are taken out of ``alembic_version`` (so ``portal db upgrade``
  keeps working without its scripts) and remembered in its row; installing it
  again stamps them back, so it finds its tables and data.
* **Audit**: ``plugin.uploaded``, ``plugin.rejected``, ``plugin.installed``,
  ``plugin.removed`` (``plugin.enabled``/``plugin.disabled`` by the toggles).
"""
from __future__ import annotations

import configparser
import fcntl
import hashlib
import importlib.machinery
import io
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.audit.services import audit
from portal.errors import Invalid
from portal.database import utcnow
from portal.extensions import db
from portal.plugins.manager import (
    CORE_PLUGIN,
    ENTRY_POINT_GROUP,
    STATE_NAMESPACE,
    PluginState,
    get_manager,
)
from portal.plugins.models import PluginPackage, Setting

if TYPE_CHECKING:  # alembic (with mako and pygments) is imported where plugin migrations run: ~15 MiB a worker
    from alembic.config import Config

log = logging.getLogger(__name__)

GENERATION_NAMESPACE, GENERATION_KEY = "core.plugin_packages", "generation"
MAX_WHEEL_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_FILES = 2000
IMPORT_TIMEOUT = 60
#: A file in the unpacked folder, so syncing only ever deletes what it unpacked.
MARKER = ".portal-wheel"

_WHEEL_NAME = re.compile(r"^(?P<dist>[A-Za-z0-9_.]+)-(?P<version>[A-Za-z0-9_.!+]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")
_PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")

_CHECK_SCRIPT = """
import importlib, json, sys
tree, package = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree)
result = {"stage": "import"}
try:
    import pluggy
    from portal.plugins import hookspecs
    module = importlib.import_module(package)
    result["stage"] = "hooks"
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    pm.register(module)
    if hasattr(pm.hook, "portal_addhooks"):  # hookspecs the plugin publishes itself
        pm.hook.portal_addhooks.call_historic(kwargs={"pluginmanager": pm})
    # optionalhook implementations may target a hook nobody publishes (e.g. another plugin's, absent).
    result["hooks"] = sorted(n for n in dir(module) if n.startswith("portal_") and hasattr(getattr(module, n), "portal_impl")
                             and not getattr(module, n).portal_impl.get("optionalhook")
                             and getattr(getattr(pm.hook, n, None), "spec", None) is None)
except BaseException as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
print("\\n" + json.dumps(result))
"""


class InstallError(Invalid):
    """A wheel refused, or a package that cannot be removed (422); the message is translated."""


@dataclass
class WheelInfo:
    """What validation learnt about a wheel."""

    name: str
    package: str
    distribution: str
    version: str
    folder: str
    members: list[zipfile.ZipInfo]


# -- install ------------------------------------------------------------------


def install_wheel(filename: str, data: bytes) -> PluginPackage:
    """Validate, unpack, migrate and record a plugin wheel; it starts disabled. Commits.

    Raises :class:`InstallError` (after auditing the refusal) and then nothing changed.
    """
    app = current_app._get_current_object()
    digest = hashlib.sha256(data).hexdigest()
    audit("plugin.uploaded", "plugin", None, filename=filename, size=len(data), sha256=digest)
    try:
        wheel = validate_wheel(app, filename, data)
        target = _unpack_checked(app, wheel, data)
    except InstallError as error:
        audit("plugin.rejected", "plugin", None, filename=filename, reason=str(error))
        db.session.commit()
        raise
    row = db.session.get(PluginPackage, wheel.name)
    db.session.commit()  # the upload's audit entry; alembic migrates on its own connection
    _migrate_or_undo(app, wheel, target, row, filename)
    row = row or PluginPackage(name=wheel.name)
    row.distribution, row.version, row.filename, row.sha256 = wheel.distribution, wheel.version, filename, digest
    row.wheel, row.installed_at, row.removed_at = data, utcnow(), None
    db.session.add(row)
    _set_state_disabled(wheel.name)
    _bump_generation()
    audit("plugin.installed", "plugin", wheel.name, version=wheel.version, sha256=digest)
    db.session.commit()
    # Only now may a worker's sync delete the folder (it deletes marked folders missing from the database).
    (target / MARKER).write_text(wheel.name)
    return row


def _migrate_or_undo(app: Flask, wheel: WheelInfo, target: Path, row: PluginPackage | None, filename: str) -> None:
    """Run the plugin's migrations (resuming a removed plugin's); on failure remove its files again."""
    try:
        _restore_revisions(row)
        _migrate(app, target / wheel.package)
    except Exception as exc:  # any migration error: undo, then tell the admin
        db.session.rollback()
        _unstamp(app, target / wheel.package)  # what it reached, so `portal db upgrade` works without it
        shutil.rmtree(target, ignore_errors=True)
        audit("plugin.rejected", "plugin", wheel.name, filename=filename, reason=f"migration: {exc}")
        db.session.commit()
        raise InstallError(_("The plugin's database migrations failed: %(error)s", error=str(exc))) from exc


def validate_wheel(app: Flask, filename: str, data: bytes) -> WheelInfo:
    """Every check that needs no import; raises :class:`InstallError`."""
    match = _WHEEL_NAME.match(os.path.basename(filename or ""))
    if not match:
        raise InstallError(_("This is not a wheel: the file name must look like name-1.0-py3-none-any.whl."))
    if len(data) > _limit(app, "PLUGIN_WHEEL_MAX_BYTES", MAX_WHEEL_BYTES):
        raise InstallError(_("The wheel is too large."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InstallError(_("This file is not a valid wheel (not a zip archive).")) from None
    dist, version = match["dist"], match["version"]
    folder = f"{dist}-{version}.dist-info"
    _check_members(app, members, folder)
    metadata = _read(archive, f"{folder}/METADATA")
    entry_points = _read(archive, f"{folder}/entry_points.txt")
    if metadata is None:
        missing = f"{folder}/METADATA"
        raise InstallError(_("The wheel has no %(file)s.", file=missing))
    name, package = _entry_point(entry_points)
    tops = {PurePosixPath(m.filename).parts[0] for m in members}
    if tops - {package, folder} or f"{package}/__init__.py" not in {m.filename for m in members}:
        raise InstallError(_("The wheel must contain only the package %(package)s and %(folder)s.",
                             package=package, folder=folder))
    _check_clash(app, name, package)
    distribution = Parser().parsestr(metadata).get("Name") or dist
    return WheelInfo(name, package, distribution, version, folder_of(filename), members)


def _check_members(app: Flask, members: list[zipfile.ZipInfo], folder: str) -> None:
    if len(members) > _limit(app, "PLUGIN_WHEEL_MAX_FILES", MAX_FILES):
        raise InstallError(_("The wheel holds too many files."))
    if sum(m.file_size for m in members) > _limit(app, "PLUGIN_WHEEL_MAX_UNPACKED", MAX_UNPACKED_BYTES):
        raise InstallError(_("The wheel is too large once unpacked."))
    for member in members:
        path = member.filename
        parts = PurePosixPath(path).parts
        if (not path or path.startswith("/") or "\\" in path or ":" in path or ".." in parts
                or "." in path.split("/") or "//" in path):
            raise InstallError(_("Unsafe path in the wheel: %(path)s", path=path))
        if stat.S_ISLNK(member.external_attr >> 16):
            raise InstallError(_("The wheel contains a symbolic link: %(path)s", path=path))
        if parts[0].endswith((".data", ".pth")) or (parts[0] != folder and parts[0].endswith(".dist-info")):
            raise InstallError(_("The wheel may not install %(path)s.", path=parts[0]))


def _read(archive: zipfile.ZipFile, member: str) -> str | None:
    try:
        return archive.read(member).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


def _entry_point(entry_points: str | None) -> tuple[str, str]:
    """``(name, package)`` from exactly one ``[portal.plugins]`` entry ``name = portal_name``."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # entry point names are case-sensitive
    try:
        parser.read_string(entry_points or "")
        entries = list(parser.items(ENTRY_POINT_GROUP)) if parser.has_section(ENTRY_POINT_GROUP) else []
    except configparser.Error:
        entries = []
    if len(entries) != 1:
        raise InstallError(_("The wheel must declare exactly one entry point in the group %(group)s.",
                             group=ENTRY_POINT_GROUP))
    name, package = entries[0][0].strip(), entries[0][1].strip()
    if not _PLUGIN_NAME.match(name) or package != f"portal_{name}":
        raise InstallError(_("The entry point must read %(expected)s.", expected="<name> = portal_<name>"))
    return name, package


def _check_clash(app: Flask, name: str, package: str) -> None:
    manager = get_manager(app)
    row = db.session.get(PluginPackage, name)
    removed_here = row is not None and row.removed_at is not None
    if name == CORE_PLUGIN or (name in app.blueprints and manager.blueprint_owner.get(name) != name):
        raise InstallError(_("%(name)s is already used by the portal's core or another plugin.", name=name))
    if not removed_here and (name in manager.plugins or row is not None):
        raise InstallError(_("A plugin named %(name)s is already installed. Remove it first.", name=name))
    ours = str(plugins_folder(app))
    paths = [p for p in sys.path if not os.path.abspath(p or ".").startswith(ours)]
    if importlib.machinery.PathFinder.find_spec(package, paths) is not None:
        raise InstallError(_("A package named %(package)s is already installed on the server.", package=package))


def _unpack_checked(app: Flask, wheel: WheelInfo, data: bytes) -> Path:
    """Unpack into staging, import-check there, then rename into the plugins folder."""
    target = plugins_folder(app) / wheel.folder
    if target.exists():
        raise InstallError(_("A plugin named %(name)s is already installed. Remove it first.", name=wheel.name))
    with _staging(app) as staging:
        _extract(app, data, wheel.members, staging)
        hooks = _import_check(staging, wheel.package)
        _check_hooks(app, hooks)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, target)
    return target


@contextmanager
def _staging(app: Flask) -> Iterator[Path]:
    root = Path(app.instance_path) / ".plugin-staging"
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # renamed away on success
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()


def _extract(app: Flask, data: bytes, members: list[zipfile.ZipInfo], into: Path) -> None:
    """Write the members, counting real bytes (a zip's declared sizes may lie)."""
    budget = _limit(app, "PLUGIN_WHEEL_MAX_UNPACKED", MAX_UNPACKED_BYTES)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in members:
            path = into.joinpath(*PurePosixPath(member.filename).parts)
            if member.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(path, "wb") as out:
                while chunk := source.read(65536):
                    budget -= len(chunk)
                    if budget < 0:
                        raise InstallError(_("The wheel is too large once unpacked."))
                    out.write(chunk)


def _import_check(tree: Path, package: str) -> list[str]:
    """Import the package in a subprocess; returns the hooks it implements that neither the core
    nor the plugin itself specifies (another plugin may), or raises InstallError."""
    core_root = str(Path(__file__).resolve().parents[2])
    # Not a sandbox (an enabled plugin runs in the portal anyway), but the check needs no secrets.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [core_root, os.environ.get("PYTHONPATH")]))
    try:
        done = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, str(tree), package], cwd=tree, env=env,
                              capture_output=True, text=True, timeout=IMPORT_TIMEOUT, check=False)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        raise InstallError(_("Importing the plugin took too long.")) from None
    except (ValueError, IndexError):
        raise InstallError(_("The plugin could not be imported: %(error)s",
                             error=(done.stderr or "").strip()[-500:])) from None
    if "error" in result and result["stage"] == "hooks":
        raise InstallError(_("The plugin's hooks do not match the portal's hookspecs: %(error)s",
                             error=result["error"][:500]))
    if "error" in result:
        raise InstallError(_("The plugin could not be imported: %(error)s", error=result["error"][:500]))
    return result["hooks"]


def _check_hooks(app: Flask, hooks: list[str]) -> None:
    manager = get_manager(app)
    unknown = [name for name in hooks if getattr(getattr(manager.pm.hook, name, None), "spec", None) is None]
    if unknown:
        raise InstallError(_("The plugin implements unknown hooks: %(hooks)s", hooks=", ".join(unknown)))


def _migrate(app: Flask, package_dir: Path) -> None:
    """``upgrade heads`` with the new plugin's versions folder added (nothing when it has none)."""
    versions = package_dir / "migrations" / "versions"
    if not versions.is_dir():
        return
    from alembic import command

    command.upgrade(_alembic_config_with(app, versions), "heads")


def _alembic_config_with(app: Flask, versions: Path) -> "Config":
    """The portal's Alembic config plus a plugin's versions folder (which this worker may not have loaded)."""
    from portal.migrate import alembic_config

    cfg = alembic_config(app)
    locations = cfg.get_main_option("version_locations").split(os.pathsep)
    if str(versions.resolve()) not in {str(Path(location).resolve()) for location in locations}:
        cfg.set_main_option("version_locations", os.pathsep.join([*locations, str(versions)]))
    return cfg


def _restore_revisions(row: PluginPackage | None) -> None:
    """Stamp back the revisions a removed plugin had reached, so its migrations resume there."""
    if row is None or not row.schema_revisions or not _has_version_table():
        return
    current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    for revision in set(row.schema_revisions) - current:
        db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})
    db.session.commit()


# -- removal ------------------------------------------------------------------


def remove_package(name: str) -> PluginPackage:
    """Delete a plugin installed from a wheel; its tables and data stay. Commits."""
    app = current_app._get_current_object()
    row = db.session.get(PluginPackage, name)
    if row is None or row.removed_at is not None:
        raise InstallError(_("Only plugins installed from a wheel can be removed here."))
    folder = plugins_folder(app) / folder_of(row.filename)
    row.schema_revisions = _unstamp(app, folder / f"portal_{name}")
    row.removed_at, row.wheel = utcnow(), None
    _set_state_disabled(name)
    _bump_generation()
    audit("plugin.removed", "plugin", name, version=row.version, data="kept")
    db.session.commit()
    shutil.rmtree(folder, ignore_errors=True)  # other workers and machines: sync_folder at their reload
    return row


def _unstamp(app: Flask, package_dir: Path) -> list[str]:
    """Take the plugin's revisions out of ``alembic_version``; returns them."""
    versions = package_dir / "migrations" / "versions"
    if not versions.is_dir() or not _has_version_table():
        return []
    from alembic.script import ScriptDirectory

    cfg = _alembic_config_with(app, versions)
    own = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()
           if Path(rev.path).resolve().parent == versions.resolve()}
    current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    stamped = sorted(own & current)
    for revision in stamped:
        db.session.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": revision})
    return stamped


# -- shared -------------------------------------------------------------------


def plugins_folder(app: Flask) -> Path:
    """``<instance>/plugins``: loose plugin packages and unpacked wheels."""
    return Path(app.instance_path) / "plugins"


def _limit(app: Flask, key: str, default: int) -> int:
    return int(app.config.get(key) or default)


def _has_version_table() -> bool:
    return inspect(db.session.connection()).has_table("alembic_version")


def _set_state_disabled(name: str) -> None:
    from portal.settings import set_setting

    set_setting(STATE_NAMESPACE, name, PluginState(name, False).to_value())


def _bump_generation() -> None:
    from portal.settings import set_setting

    set_setting(GENERATION_NAMESPACE, GENERATION_KEY, os.urandom(8).hex())


def stored_generation() -> str | None:
    """The generation of installed packages in the database (read with the settings)."""
    from portal.settings import stored_settings

    return stored_settings().get((GENERATION_NAMESPACE, GENERATION_KEY))


@contextmanager
def _machine_lock(app: Flask) -> Iterator[None]:
    """One process per machine (per instance folder) syncs or asks for a reload at a time."""
    folder = plugins_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_folder(app: Flask) -> str | None:
    """Make the instance folder match the database: unpack missing wheels, delete removed ones.

    Called by every new worker before it discovers plugins. Returns the stored
    generation, or None when the database has no package table yet (then
    nothing on disk is touched).
    """
    try:
        with app.app_context(), db.engine.connect() as conn:
            rows = conn.execute(select(PluginPackage.__table__)).mappings().all()
            setting = Setting.__table__
            generation = conn.execute(select(setting.c.value).where(
                (setting.c.namespace == GENERATION_NAMESPACE) & (setting.c.key == GENERATION_KEY))).scalar()
    except SQLAlchemyError:
        return None
    if not rows and not plugins_folder(app).is_dir():
        return generation
    wanted = {folder_of(row["filename"]): row for row in rows if row["wheel"]}
    with _machine_lock(app):
        for path in plugins_folder(app).iterdir():
            if (path / MARKER).is_file() and path.name not in wanted:
                shutil.rmtree(path, ignore_errors=True)
        for folder, row in wanted.items():
            if not (plugins_folder(app) / folder).is_dir():
                _unpack_stored(app, folder, row["wheel"], row["filename"])
    return generation


def folder_of(filename: str) -> str:
    """``<dist>-<version>``: the folder a wheel is unpacked into, from its file name."""
    match = _WHEEL_NAME.match(filename)
    return f"{match['dist']}-{match['version']}"


def _unpack_stored(app: Flask, folder: str, data: bytes, filename: str) -> None:
    """Unpack a wheel checked at install (the path checks run again: the database is not trusted blindly)."""
    try:
        with app.app_context():
            members = zipfile.ZipFile(io.BytesIO(data)).infolist()
            _check_members(app, members, f"{folder}.dist-info")
            with _staging(app) as staging:
                _extract(app, data, members, staging)
                (staging / MARKER).write_text(folder)
                os.rename(staging, plugins_folder(app) / folder)
    except (InstallError, zipfile.BadZipFile, OSError) as exc:
        log.error("could not unpack stored plugin wheel %s: %s", filename, exc)


def request_reload(app: Flask, environ: dict, generation: str | None) -> bool:
    """Ask the server to replace this machine's workers (once per machine and generation).

    Under gunicorn: SIGHUP to the master (graceful). Elsewhere nothing can be
    done from inside the process; returns False and the admin page asks for a restart.
    """
    if not str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn"):
        return False
    with _machine_lock(app):
        marker = plugins_folder(app) / ".reload-requested"
        if marker.is_file() and marker.read_text() == str(generation):
            return True
        marker.write_text(str(generation))
    log.info("plugin packages changed (generation %s): asking gunicorn to reload the workers", generation)
    os.kill(os.getppid(), signal.SIGHUP)
    return True

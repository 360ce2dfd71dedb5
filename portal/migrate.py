"""Schema migrations for the core and every installed plugin (enabled or not).

The core's revisions live in ``portal/migrations/versions``; each plugin's in
``<plugin>/migrations/versions`` as an Alembic branch labelled with the
plugin's name whose first revision ``depends_on`` the core's first revision.
Plugin tables are named ``<plugin>_…`` so each table has one owner.
"""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app

from portal.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CORE_BASE_REVISION = "core_0001"


def table_owner(table_name: str) -> str:
    """The plugin that owns a table (by its name's prefix), or ``core``."""
    manager = current_app.extensions["portal_plugins"]
    for name in manager.plugins:
        if table_name.startswith(f"{name}_"):
            return name
    return "core"


def alembic_config(app: Flask | None = None, owner: str | None = None) -> Config:
    """An Alembic config with the core's and every plugin's version folders."""
    app = app or current_app
    manager = app.extensions["portal_plugins"]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [str(MIGRATIONS_DIR / "versions"), *manager.migration_dirs().values()]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["owner"] = owner
    return cfg


def upgrade(app: Flask | None = None) -> None:
    """Upgrade the core and every plugin to their newest revisions."""
    command.upgrade(alembic_config(app), "heads")


def pending(app: Flask | None = None) -> list[str]:
    """Revisions an upgrade would apply, oldest first, as ``revision (message)``."""
    cfg = alembic_config(app)
    script = ScriptDirectory.from_config(cfg)
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    applied: set[str] = set()
    for head in current:
        applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    todo = [rev for rev in script.walk_revisions() if rev.revision not in applied]
    return [f"{rev.revision} ({rev.doc})" for rev in reversed(todo)]


def revision(message: str, owner: str, autogenerate: bool = True) -> None:
    """Write a new revision for ``owner`` (``core`` or a plugin) into its version folder."""
    app = current_app
    cfg = alembic_config(app, owner=owner)
    script = ScriptDirectory.from_config(cfg)
    manager = app.extensions["portal_plugins"]
    if owner == "core":
        has_core = any("core" in (rev.branch_labels or ()) for rev in script.walk_revisions())
        path, depends = str(MIGRATIONS_DIR / "versions"), None
        head, labels = ("core@head", None) if has_core else ("base", "core")
    else:
        path = manager.migration_dirs().get(owner)
        if path is None:
            info = manager.plugins[owner]
            path = str(info.package_dir / "migrations" / "versions")
            Path(path).mkdir(parents=True, exist_ok=True)
            (Path(path).parent / "__init__.py").touch()
            cfg.set_main_option("version_locations", cfg.get_main_option("version_locations") + os.pathsep + path)
        has_branch = any(owner in (rev.branch_labels or ()) for rev in script.walk_revisions())
        head = f"{owner}@head" if has_branch else "base"
        labels = None if has_branch else owner
        depends = None if has_branch else CORE_BASE_REVISION
    command.revision(cfg, message=message, autogenerate=autogenerate, head=head, version_path=path,
                     branch_label=labels, depends_on=depends, rev_id=_next_rev_id(script, owner))


def _next_rev_id(script: ScriptDirectory, owner: str) -> str:
    prefix = f"{owner}_"
    numbers = [int(rev.revision[len(prefix):]) for rev in script.walk_revisions()
               if rev.revision.startswith(prefix) and rev.revision[len(prefix):].isdigit()]
    return f"{owner}_{max(numbers, default=0) + 1:04d}"

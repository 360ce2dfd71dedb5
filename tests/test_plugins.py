"""The plugin manager: discovery, enable/disable at once in every worker, failure isolation.

The example plugin in tests/example_plugin/ is installed with pip as its own
distribution (offline, no build isolation) and removed afterwards.
"""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from portal.activity.models import Activity
from portal.extensions import db
from portal.plugins.manager import get_manager
from tests.conftest import login, make_test_app
from tests.helpers.factories import Factory

EXAMPLE = Path(__file__).parent / "example_plugin"


@pytest.fixture(scope="module")
def example_installed(tmp_path_factory):
    """pip-install the example distribution into a private folder put on ``sys.path``.

    Entry points are found from every ``sys.path`` entry, exactly as for a plugin
    installed in site-packages, and the virtualenv itself is never modified.
    """
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("example") / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))  # builds leave files behind
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(source)], check=True, capture_output=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("portal_example_hello", None)
    importlib.invalidate_caches()


def _fresh_app(tmp_path_factory, instance_plugins: dict[str, str] | None = None, database: str | None = None):
    """An app on its own SQLite database, optionally with plugins in its instance folder."""
    folder = tmp_path_factory.mktemp("plugins-app")
    database = database or f"sqlite:///{folder / 'db.sqlite3'}"
    app = make_test_app(tmp_path_factory, DATABASE_URL=database)
    if instance_plugins:
        for name, source in instance_plugins.items():
            package = Path(app.instance_path) / "plugins" / name
            package.mkdir(parents=True)
            (package / "__init__.py").write_text(source)
        app = _reopen(app, tmp_path_factory, database)  # plugins are discovered at app creation
    with app.app_context():
        db.create_all()
    return app


def _reopen(app, tmp_path_factory, database):
    """Build a second app on the same instance folder (another 'worker')."""
    import os

    os.environ["PORTAL_INSTANCE_PATH"] = app.instance_path
    try:
        from portal import create_app

        config = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "WTF_CSRF_ENABLED", "ARGON2_PROFILE",
                                             "DEFAULT_LOCALE", "SEARCH_INDEX_DIR", "UPLOAD_DIR")}
        other = create_app({**config, "DATABASE_URL": database})
        other.test_client_class = app.test_client_class
        return other
    finally:
        os.environ.pop("PORTAL_INSTANCE_PATH", None)


class PortalRunner:
    """Runs the ``portal`` command group against a given app."""

    def __init__(self, app):
        self.app = app

    def invoke(self, args):
        from flask.cli import ScriptInfo

        from portal.cli import cli

        return CliRunner().invoke(cli, args, obj=ScriptInfo(create_app=lambda: self.app))


def _org(app):
    with app.app_context():
        return Factory(db).standard_org()


def test_example_plugin_is_discovered_disabled_with_metadata(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    with app.app_context():
        manager = get_manager()
        info = manager.plugins["example_hello"]
        assert info.version == "1.2.3"
        assert info.description == "An example third-party plugin for the mobile member portal"
        assert manager.status("example_hello") == "disabled"  # third-party plugins wait for an admin
        assert manager.status("courses") == "enabled"  # bundled ones start enabled


def test_enable_disable_applies_at_once_in_every_worker(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    worker2 = _reopen(app, tmp_path_factory, app.config["DATABASE_URL"])
    _org(app)
    admin, member = app.test_client(), worker2.test_client()
    login(admin, "admin")
    login(member, "member1")
    assert member.get("/hello/").status_code == 404

    response = admin.post("/admin/plugins/example_hello", data={"action": "enable"})
    assert response.status_code == 302
    page = member.get("/hello/")  # served by the other worker, no restart
    assert page.status_code == 200 and "Hello, 张伟" in page.get_data(as_text=True)
    assert ">Hello</a>" in member.get("/dashboard").get_data(as_text=True)  # its nav item

    admin.post("/admin/plugins/example_hello", data={"action": "disable"})
    assert member.get("/hello/").status_code == 404
    assert ">Hello</a>" not in member.get("/dashboard").get_data(as_text=True)
    with worker2.app_context():  # its data stays
        assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.verb == "example.greeted")) == 1


def test_a_plugin_raising_in_a_hook_is_isolated_and_shown(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    _org(app)
    client = app.test_client()
    login(client, "admin")
    client.post("/admin/plugins/example_hello", data={"action": "enable"})
    client.post("/admin/settings/example_hello", data={"s_greeting": "Hi", "s_explode": "y"})
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200  # the portal keeps serving
    with app.app_context():
        state = get_manager().states()["example_hello"]
        assert "exploded on purpose" in state.last_error
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "exploded on purpose" in page and "failed" in page


def test_other_widgets_survive_a_failing_widget(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    _org(app)
    client = app.test_client()
    login(client, "admin")
    client.post("/admin/plugins/example_hello", data={"action": "enable"})
    client.post("/admin/settings/example_hello", data={"s_greeting": "Hi", "s_explode": "y"})
    member = app.test_client()
    login(member, "member1")
    text = member.get("/dashboard").get_data(as_text=True)
    assert "My profile" in text  # the core's widget is still there


BROKEN_IMPORT = "raise ImportError('missing dependency: frobnicate')\n"
MISSPELLED = """
from portal import toolkit as tk

@tk.hookimpl
def portal_nav_itemz(account):
    return []
"""
BAD_BLUEPRINT = """
from flask import Blueprint
from portal import toolkit as tk
bp = Blueprint("notmine", __name__)

@bp.get("/notmine")
def view():
    return "x"

@tk.hookimpl
def portal_blueprints():
    return [bp]
"""


def test_broken_plugins_are_marked_failed_and_the_portal_serves(tmp_path_factory):
    app = _fresh_app(tmp_path_factory, {"broken": BROKEN_IMPORT, "typo": MISSPELLED, "badbp": BAD_BLUEPRINT})
    _org(app)
    with app.app_context():
        manager = get_manager()
        assert manager.status("broken") == "failed" and "frobnicate" in manager.error("broken")
        assert manager.status("typo") == "failed" and "portal_nav_itemz" in manager.error("typo")
        assert manager.status("badbp") == "failed" and "notmine" in manager.error("badbp")
    assert "/notmine" not in [rule.rule for rule in app.url_map.iter_rules()]
    client = app.test_client()
    login(client, "admin")
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "frobnicate" in page and "portal_nav_itemz" in page
    refused = client.post("/admin/plugins/broken", data={"action": "enable"}, follow_redirects=True)
    assert "failed to load" in refused.get_data(as_text=True)


def test_cli_lists_enables_and_disables(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    runner = PortalRunner(app)
    listing = runner.invoke(args=["plugins", "list"]).output
    assert "example_hello\t1.2.3\tdisabled" in listing
    assert "courses\t" in listing
    assert runner.invoke(args=["plugins", "enable", "example_hello"]).exit_code == 0
    assert "example_hello\t1.2.3\tenabled" in runner.invoke(args=["plugins", "list"]).output
    assert runner.invoke(args=["plugins", "disable", "example_hello"]).exit_code == 0
    assert "example_hello\t1.2.3\tdisabled" in runner.invoke(args=["plugins", "list"]).output
    unknown = runner.invoke(args=["plugins", "enable", "nope"])
    assert unknown.exit_code != 0 and "No plugin named" in unknown.output


def test_every_plugin_keeps_templates_in_its_own_folder(example_installed, tmp_path_factory):
    app = _fresh_app(tmp_path_factory)
    with app.app_context():
        manager = get_manager()
        for name, info in manager.plugins.items():
            folder = info.subdir("templates")
            if folder is None:
                continue
            for path in folder.rglob("*.html"):
                relative = path.relative_to(folder)
                assert relative.parts[0] == name, f"{name}: template {relative} must live under templates/{name}/"


def test_every_plugin_table_carries_its_name(app):
    with app.app_context():
        from portal.migrate import table_owner

        manager = get_manager()
        for name, info in manager.plugins.items():
            if info.module is None:
                continue
            package = info.module.__name__
            for table in db.metadata.tables.values():
                model_modules = {m.class_.__module__ for m in db.Model.registry.mappers if m.local_table is table}
                if any(module.startswith(package) for module in model_modules):
                    assert table.name.startswith(f"{name}_"), f"{table.name} of plugin {name} must start with {name}_"
                    assert table_owner(table.name) == name

"""Admins install plugin wheels from the plugins page (portal.plugins.installer).

The example plugin is built as a real wheel with pip (offline); hostile wheels
are written by hand. Every app here has its own migrated SQLite database and
instance folder; a second app on the same folder is another worker, one on
another folder and the same database is another machine.
"""
from __future__ import annotations

import html
import importlib
import io
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.migrate import pending, upgrade
from portal.plugins import installer
from portal.plugins.manager import get_manager
from portal.plugins.models import PluginPackage, Setting
from tests.conftest import login, make_test_app
from tests.helpers.factories import Factory

EXAMPLE = Path(__file__).parent / "example_plugin"


@pytest.fixture(scope="module")
def example_wheel(tmp_path_factory) -> Path:
    """``portal_example_hello-1.2.3-py3-none-any.whl`` built from tests/example_plugin."""
    source = tmp_path_factory.mktemp("example") / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
                    "-w", str(out), str(source)], check=True, capture_output=True)
    return next(out.glob("*.whl"))


@pytest.fixture(autouse=True)
def _restore_imports():
    """Installed wheels go on sys.path and into sys.modules: take them out again."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith(("portal_example_hello", "portal_evil")):
            sys.modules.pop(name)
    importlib.invalidate_caches()


def _app(tmp_path_factory, database: str | None = None, instance: str | None = None):
    """A migrated app; ``instance`` reuses a folder (another worker), ``database`` another DB (another machine)."""
    folder = tmp_path_factory.mktemp("install-db")
    url = database or f"sqlite:///{folder / 'db.sqlite3'}"
    if instance:
        os.environ["PORTAL_INSTANCE_PATH"] = instance
        try:
            from portal import create_app

            app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                              "ARGON2_PROFILE": "fast", "DEFAULT_LOCALE": "en", "DATABASE_URL": url,
                              "SEARCH_INDEX_DIR": str(folder / "search"), "UPLOAD_DIR": str(folder / "uploads")})
        finally:
            os.environ.pop("PORTAL_INSTANCE_PATH", None)
        from tests.conftest import IsolatedClient

        app.test_client_class = IsolatedClient
        return app
    app = make_test_app(tmp_path_factory, DATABASE_URL=url)
    with app.app_context():
        upgrade(app)
        Factory(db).standard_org()
    return app


def _upload(client, filename: str, data: bytes):
    return client.post("/admin/plugin-packages", data={"wheel": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _snapshot(app) -> tuple:
    """What a refused wheel must not change: the instance folder and the plugin tables/settings."""
    root = Path(app.instance_path)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if "search" not in p.parts and "uploads" not in p.parts)
    with app.app_context():
        packages = db.session.execute(select(PluginPackage.name, PluginPackage.removed_at)).all()
        settings = db.session.execute(select(Setting.namespace, Setting.key, Setting.value)).all()
    return files, packages, settings


def _wheel(members: dict[str, str | bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        if symlink:
            link = zipfile.ZipInfo(symlink)
            link.external_attr = 0o120777 << 16
            archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _evil(init: str = "", entry: str | None = "evil = portal_evil", extra: dict | None = None) -> bytes:
    info = "portal_evil-1.0.dist-info"
    members = {"portal_evil/__init__.py": init, f"{info}/METADATA": "Metadata-Version: 2.1\nName: portal-evil\nVersion: 1.0\n",
               f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    if entry is not None:
        members[f"{info}/entry_points.txt"] = f"[portal.plugins]\n{entry}\n"
    return _wheel({**members, **(extra or {})})


EVIL_NAME = "portal_evil-1.0-py3-none-any.whl"
HOSTILE = {
    "path traversal": (EVIL_NAME, lambda: _evil(extra={"../../evil.py": "x = 1"}), "Unsafe path in the wheel: ../../evil.py"),
    "absolute path": (EVIL_NAME, lambda: _evil(extra={"/tmp/evil.py": "x = 1"}), "Unsafe path in the wheel: /tmp/evil.py"),
    "symlink": (EVIL_NAME, lambda: _wheel({"portal_evil/__init__.py": ""}, symlink="portal_evil/link"), "symbolic link"),
    "another package": (EVIL_NAME, lambda: _evil(extra={"portal/toolkit.py": "x = 1"}), "must contain only the package portal_evil"),
    "a .pth file": (EVIL_NAME, lambda: _evil(extra={"evil.pth": "import os"}), "may not install evil.pth"),
    "a .data folder": (EVIL_NAME, lambda: _evil(extra={"portal_evil-1.0.data/scripts/x": "x"}), "may not install portal_evil-1.0.data"),
    "wrong package name": (EVIL_NAME, lambda: _evil(entry="evil = os"), "The entry point must read"),
    "missing entry point": (EVIL_NAME, lambda: _evil(entry=None), "exactly one entry point in the group portal.plugins"),
    "import error": (EVIL_NAME, lambda: _evil(init="import no_such_module_here\n"), "could not be imported: ModuleNotFoundError"),
    "unknown hook": (EVIL_NAME, lambda: _evil(init=(
        "from portal import toolkit as tk\n\n@tk.hookimpl\ndef portal_no_such_hook():\n    return []\n")),
        "unknown hooks: portal_no_such_hook"),
    "hook with wrong arguments": (EVIL_NAME, lambda: _evil(init=(
        "from portal import toolkit as tk\n\n@tk.hookimpl\ndef portal_nav_items(acount):\n    return []\n")),
        "hooks do not match the portal's hookspecs: PluginValidationError"),
    "core name clash": ("portal_admin-1.0-py3-none-any.whl", lambda: _wheel({
        "portal_admin/__init__.py": "", "portal_admin-1.0.dist-info/METADATA": "Name: portal-admin\n",
        "portal_admin-1.0.dist-info/entry_points.txt": "[portal.plugins]\nadmin = portal_admin\n"}), "already used by the portal's core"),
    "bundled plugin clash": ("portal_points-9.0-py3-none-any.whl", lambda: _wheel({
        "portal_points/__init__.py": "", "portal_points-9.0.dist-info/METADATA": "Name: portal-points\n",
        "portal_points-9.0.dist-info/entry_points.txt": "[portal.plugins]\npoints = portal_points\n"}), "already installed"),
    "not a zip": (EVIL_NAME, lambda: b"MZ this is not a zip", "not a zip archive"),
    "not a wheel name": ("evil.zip", lambda: _evil(), "This is not a wheel"),
}


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    return _app(tmp_path_factory)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_or_malformed_wheel_is_refused_and_changes_nothing(shared_app, case):
    filename, build, message = HOSTILE[case]
    client = shared_app.test_client()
    login(client, "admin")
    before = _snapshot(shared_app)
    response = _upload(client, filename, build())
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert _snapshot(shared_app) == before
    assert not Path("/tmp/evil.py").exists()
    with shared_app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "plugin.rejected")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.details["filename"] == filename and message.split(":")[0] in entry.details["reason"]


@pytest.mark.parametrize(("limit", "message"), [("PLUGIN_WHEEL_MAX_BYTES", "The wheel is too large."),
                                              ("PLUGIN_WHEEL_MAX_UNPACKED", "too large once unpacked"),
                                              ("PLUGIN_WHEEL_MAX_FILES", "too many files")])
def test_a_zip_bomb_is_refused_by_the_size_limits(shared_app, monkeypatch, limit, message):
    monkeypatch.setitem(shared_app.config, limit, 2)
    client = shared_app.test_client()
    login(client, "admin")
    before = _snapshot(shared_app)
    response = _upload(client, EVIL_NAME, _evil(init="\n" * 100_000))  # compresses to almost nothing
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _snapshot(shared_app) == before


def test_a_clash_with_an_installed_wheel_is_refused(shared_app, example_wheel):
    client = shared_app.test_client()
    login(client, "admin")
    assert _upload(client, example_wheel.name, example_wheel.read_bytes()).status_code == 302
    before = _snapshot(shared_app)
    response = _upload(client, example_wheel.name, example_wheel.read_bytes())
    assert response.status_code == 422 and "already installed" in response.get_data(as_text=True)
    assert _snapshot(shared_app) == before
    assert client.post("/admin/plugin-packages/example_hello/remove").status_code == 302


def test_a_secretary_can_neither_install_nor_remove(shared_app, example_wheel):
    client = shared_app.test_client()
    login(client, "home-secretary")
    before = _snapshot(shared_app)
    assert _upload(client, example_wheel.name, example_wheel.read_bytes()).status_code in (403, 404)
    assert client.post("/admin/plugin-packages/example_hello/remove").status_code in (403, 404)
    assert _snapshot(shared_app) == before


def test_the_example_wheel_installs_from_the_admin_page_and_runs_in_every_worker(example_wheel, tmp_path_factory):
    app = _app(tmp_path_factory)
    url = app.config["DATABASE_URL"]
    admin = app.test_client()
    login(admin, "admin")
    response = _upload(admin, example_wheel.name, example_wheel.read_bytes())
    assert response.status_code == 302, response.get_data(as_text=True)
    page = admin.get("/admin/plugins").get_data(as_text=True)
    assert "waiting for the workers to reload" in page and "restart the server" in page  # not under gunicorn
    unpacked = Path(app.instance_path) / "plugins" / "portal_example_hello-1.2.3"
    assert (unpacked / "portal_example_hello" / "__init__.py").is_file()
    with app.app_context():
        assert inspect(db.engine).has_table("example_hello_note")  # its migration ran
        db.session.execute(text("INSERT INTO example_hello_note (text) VALUES ('kept')"))
        db.session.commit()

    worker = _app(tmp_path_factory, database=url, instance=app.instance_path)  # a worker started after the install
    client = worker.test_client()
    login(client, "admin")
    row = client.get("/admin/plugins").get_data(as_text=True).split('id="plugin-example_hello"')[1].split("</tr>")[0]
    assert ">disabled<" in row and "Remove" in row and "An example third-party plugin" in row
    chinese = client.get("/admin/plugins", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "流动党员门户的第三方示例插件" in chinese  # its description, from its own catalog
    with worker.app_context():
        assert get_manager(worker).status("example_hello") == "disabled"
        assert get_manager(worker).plugins["example_hello"].source == "installed wheel"
    member = worker.test_client()
    login(member, "member1")
    assert member.get("/hello/").status_code == 404
    assert client.post("/admin/plugins/example_hello", data={"action": "enable"}).status_code == 302
    assert member.get("/hello/").status_code == 200

    machine = _app(tmp_path_factory, database=url, instance=str(tmp_path_factory.mktemp("machine2")))
    other = machine.test_client()
    login(other, "member1")
    assert other.get("/hello/").status_code == 200  # unpacked from the database on another machine
    assert (Path(machine.instance_path) / "plugins" / "portal_example_hello-1.2.3").is_dir()

    assert client.post("/admin/plugin-packages/example_hello/remove").status_code == 302
    assert member.get("/hello/").status_code == 404  # disabled at once, files gone
    client.post("/admin/plugins/example_hello", data={"action": "enable"})  # still loaded in this worker
    assert member.get("/hello/").status_code == 404
    assert not (Path(worker.instance_path) / "plugins" / "portal_example_hello-1.2.3").exists()
    with worker.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM example_hello_note")) == 1  # data kept
        assert "example_hello_0001" not in set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    with app.app_context():
        assert pending(app) == []  # `portal db upgrade` still works without the plugin's scripts
    restarted = _app(tmp_path_factory, database=url, instance=str(Path(machine.instance_path)))
    assert "example_hello" not in get_manager(restarted).plugins
    assert not (Path(machine.instance_path) / "plugins" / "portal_example_hello-1.2.3").exists()

    assert _upload(client, example_wheel.name, example_wheel.read_bytes()).status_code == 302  # again
    with worker.app_context():
        assert db.session.scalar(text("SELECT text FROM example_hello_note")) == "kept"
        assert "example_hello_0001" in set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "plugin")))
    assert {"plugin.uploaded", "plugin.installed", "plugin.enabled", "plugin.removed"} <= actions


def test_under_gunicorn_one_worker_per_machine_asks_for_a_graceful_reload(example_wheel, tmp_path_factory, monkeypatch):
    sent = []
    monkeypatch.setattr(installer.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    app = _app(tmp_path_factory)
    sibling = _app(tmp_path_factory, database=app.config["DATABASE_URL"], instance=app.instance_path)
    gunicorn = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}
    admin = app.test_client()
    login(admin, "admin")
    assert _upload(admin, example_wheel.name, example_wheel.read_bytes()).status_code == 302
    assert sent == []
    page = admin.get("/admin/plugins", environ_base=gunicorn).get_data(as_text=True)
    assert sent == [(os.getppid(), signal.SIGHUP)]
    assert "the workers are reloading" in page
    other = sibling.test_client()
    login(other, "admin")
    other.get("/admin/plugins", environ_base=gunicorn)
    assert len(sent) == 1  # the master already reloads every worker of this machine


def test_the_cli_installs_and_removes_with_the_same_checks(example_wheel, tmp_path_factory):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from portal.cli import cli

    app = _app(tmp_path_factory)

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))

    evil = tmp_path_factory.mktemp("evil") / EVIL_NAME
    evil.write_bytes(_evil(extra={"../../evil.py": "x = 1"}))
    result = run("plugins", "install", str(evil))
    assert result.exit_code == 1 and "Unsafe path" in result.output
    result = run("plugins", "install", str(example_wheel))
    assert result.exit_code == 0 and "example_hello 1.2.3 installed" in result.output
    assert run("plugins", "remove", "example_hello").exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PluginPackage).where(PluginPackage.removed_at.is_(None))) == 0

"""Configuration sources and the secret-key guard."""
from __future__ import annotations


import pytest

from portal import create_app
from portal.config import INSECURE_SECRET


def _app(tmp_path, monkeypatch, config=None, env=None, files=None):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    return create_app(config)


def test_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError) as error:
        _app(tmp_path, monkeypatch)
    assert "PORTAL_SECRET_KEY" in str(error.value)
    with pytest.raises(RuntimeError):
        _app(tmp_path, monkeypatch, {"SECRET_KEY": INSECURE_SECRET})


def test_debug_mode_may_use_the_development_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    app = _app(tmp_path, monkeypatch, {"DEBUG": True})
    assert app.config["SECRET_KEY"] == INSECURE_SECRET


def test_sources_in_order_defaults_file_environment(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch,
               env={"PORTAL_SECRET_KEY": "from-env-" + "e" * 32, "PORTAL_PER_PAGE": "7", "PORTAL_DEFAULT_LOCALE": "en"},
               files={"config.toml": 'SECRET_KEY = "from-file"\nPER_PAGE = 50\nSITE_NAME = "青山县流动党员之家"\n'})
    assert app.config["SECRET_KEY"] == "from-env-" + "e" * 32  # environment beats the instance file
    assert app.config["PER_PAGE"] == 7 and isinstance(app.config["PER_PAGE"], int)
    assert app.config["SITE_NAME"] == "青山县流动党员之家"  # from the file
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


def test_database_url_from_environment(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, env={"PORTAL_SECRET_KEY": "k" * 32,
                                            "PORTAL_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_init_writes_a_secret_once(tmp_path, monkeypatch):
    from portal.cli import ensure_instance_secret

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    written = ensure_instance_secret()
    assert written == tmp_path / "config.toml"
    first = written.read_text()
    assert ensure_instance_secret() is None and written.read_text() == first
    assert oct(written.stat().st_mode)[-3:] == "600"
    assert create_app().config["SECRET_KEY"] in first

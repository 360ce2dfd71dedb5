"""Configuration: built-in defaults < instance config.py / config.toml < environment.

Environment variables use the ``PORTAL_`` prefix (``PORTAL_DATABASE_URL``,
``PORTAL_SECRET_KEY``, ``PORTAL_DEFAULT_LOCALE``, ``PORTAL_INSTANCE_PATH``).
"""
from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

#: The placeholder secret; the portal refuses to run outside debug mode with it.
INSECURE_SECRET = "dev-insecure-change-me"

#: Where the core's catalogs live (``translations/`` next to the package).
CORE_TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": INSECURE_SECRET,
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "DEFAULT_LOCALE": "zh_CN",
    "LOCALES": ["zh_CN", "en"],
    "TIMEZONE": "Asia/Shanghai",
    "SITE_NAME": None,  # None: the translated default name
    # The portal's address as the world sees it (https://dangjian.example.cn): the base of every IRI in xAPI
    # statements and Open Badges, and of links in e-mails, which are built outside any request too.
    # None: the address of the current request (commands run outside a request then refuse to build them).
    "PUBLIC_URL": None,
    "PER_PAGE": 25,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "LOGIN_IP_MAX_FAILURES": 30,
    "PASSWORD_MIN_LENGTH": 8,
    "API_TOKEN_DAYS": 30,
    "API_MAX_TOKENS": 10,  # live tokens per account; one more revokes the oldest
    # How many reverse proxies in front of the portal append to X-Forwarded-For (werkzeug's ProxyFix).
    # 0 trusts no header: the client is the TCP peer. Behind one nginx/Caddy: 1. Never more than there are.
    "PROXY_HOPS": 0,
    # Requests per client (or account) and window, counted in the database (portal/ratelimit.py).
    "RATE_LIMIT_TOKEN": "10/minute",
    "RATE_LIMIT_SEARCH": "60/minute",
    "UPLOAD_MAX_BYTES": 5 * 1024 * 1024,
    "CACHE_MAX_BYTES": 16 * 1024 * 1024,  # the composition cache's LRU per worker (portal/cache.py); 0: off
    "IMPORT_MAX_ROWS": 20000,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set True behind HTTPS (see README)
    # REMEMBER_COOKIE_SECURE / _HTTPONLY / _SAMESITE follow the SESSION_COOKIE_* values unless set.
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    "SEARCH_INDEX_DIR": None,  # None: <instance>/search-index
    # auto: PostgreSQL's tsvector search when the database is PostgreSQL (shared by every app server), else whoosh
    # in SEARCH_INDEX_DIR (one machine). whoosh | postgres force one.
    "SEARCH_BACKEND": "auto",
    # Uploaded files (portal/storage.py): "local" keeps them in UPLOAD_DIR (one machine), "s3" in an
    # S3-compatible bucket every app server sees. Unset credentials: boto3's own environment/instance chain.
    "STORAGE": "local",
    "S3_BUCKET": None,
    "S3_ENDPOINT_URL": None,  # e.g. http://minio:9000; None: AWS
    "S3_REGION": None,
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    "S3_CREATE_BUCKET": False,  # create a missing bucket at start-up
    # A learning record store to push xAPI statements to (``portal xapi push`` from cron), e.g.
    # http://127.0.0.1:8100/xAPI (its ``/statements`` resource is added). None: no outbox is written.
    "XAPI_ENDPOINT": None,
    "XAPI_USERNAME": None,  # HTTP basic credentials the LRS gave the portal
    "XAPI_PASSWORD": None,
    "XAPI_BATCH": 50,  # statements per POST
    "XAPI_TIMEOUT": 10.0,  # seconds to wait for the LRS per request
}

_ENV_TYPES = {bool: lambda v: v.lower() in {"1", "true", "yes", "on"}, int: int, float: float}


def instance_path_from_env() -> str | None:
    """The instance folder from ``PORTAL_INSTANCE_PATH``, or None for Flask's default."""
    value = os.environ.get("PORTAL_INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, instance files, environment and overrides."""
    app.config.update(DEFAULTS)
    instance = Path(app.instance_path)
    if (instance / "config.toml").is_file():
        app.config.from_file(str(instance / "config.toml"), load=tomllib.load, text=False)
    if (instance / "config.py").is_file():
        app.config.from_pyfile(str(instance / "config.py"))
    _load_environment(app)
    if overrides:
        app.config.update(overrides)
    _derive(app)


def _load_environment(app: Flask) -> None:
    for key, value in os.environ.items():
        if not key.startswith("PORTAL_") or key == "PORTAL_INSTANCE_PATH":
            continue
        name = key[len("PORTAL_"):]
        default = DEFAULTS.get(name)
        convert = _ENV_TYPES.get(type(default))
        app.config[name] = convert(value) if convert else value


def _derive(app: Flask) -> None:
    instance = Path(app.instance_path)
    url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # SQLAlchemy keeps up to 500 compiled statements per engine, 11–342 KiB each: ~43 MiB in a long-lived
    # worker. The busiest pages use ~110 (bench/bench_memory.py); 150 bounds the cache near 15 MiB.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("query_cache_size", 150)
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
        # Enough connections for a threaded worker (or a test) with 20+ concurrent requests.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_size", 10)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("max_overflow", 20)
        if url.startswith("postgresql"):
            # PostgreSQL's JIT compiles any query it estimates as costly — 300 ms of compiling for a
            # 85 ms member list at 100 000 members (bench/README.md). Web queries are short: no JIT.
            app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"options": "-c jit=off"})
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(instance / "search-index")
    app.config["UPLOAD_DIR"] = app.config.get("UPLOAD_DIR") or str(instance / "uploads")
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("MAX_CONTENT_LENGTH") or 4 * app.config["UPLOAD_MAX_BYTES"]
    # The remember-me cookie logs in as well as the session cookie: it must never travel over plain HTTP
    # when the session cookie may not.
    for flag in ("SECURE", "HTTPONLY", "SAMESITE"):
        app.config.setdefault(f"REMEMBER_COOKIE_{flag}", app.config[f"SESSION_COOKIE_{flag}"])
    if app.config["SESSION_COOKIE_SECURE"]:
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]


#: Bytes of key material a secret key needs outside debug/testing (``portal init`` writes 64 hex characters).
MIN_SECRET_BYTES = 32

_HOW_TO_SET = ("Set PORTAL_SECRET_KEY in the environment "
               "(for example: export PORTAL_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')) "
               "or SECRET_KEY in the instance folder's config.toml (`portal init` writes one), "
               "or run with --debug for local development.")


def check_secret_key(app: Flask) -> None:
    """Refuse to run outside debug/testing with the placeholder, an empty or a short secret key.

    The key signs session and remember-me cookies: a short one can be guessed offline from one cookie.
    """
    if app.debug or app.testing:
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == INSECURE_SECRET:
        raise RuntimeError(f"Refusing to start: no secret key is set. {_HOW_TO_SET}")
    size = len(key.encode("utf-8") if isinstance(key, str) else key)
    if size < MIN_SECRET_BYTES:
        raise RuntimeError(f"Refusing to start: the secret key has {size} bytes, it needs at least "
                           f"{MIN_SECRET_BYTES}. {_HOW_TO_SET}")


def public_url(path: str = "") -> str:
    """``PUBLIC_URL`` (or, inside a request without one, the request's own address) + ``path``.

    Raises ``RuntimeError`` outside a request when ``PUBLIC_URL`` is not set: a statement or a badge
    must not carry a made-up address that later stops resolving.
    """
    from flask import current_app, has_request_context, request

    base = current_app.config.get("PUBLIC_URL")
    if not base:
        if not has_request_context():
            raise RuntimeError("Set PUBLIC_URL (PORTAL_PUBLIC_URL), the portal's public address, e.g. https://portal.example.cn")
        base = request.host_url
    return base.rstrip("/") + ("/" + path.lstrip("/") if path else "")

"""The application factory: the only way an app is made."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request, session
from flask_login import current_user

from portal import config as portal_config
from portal.database import BoundedIntConverter, install_sqlite_behaviour
from portal.extensions import csrf, db, login_manager


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a portal app.

    ``config`` overrides every other source (defaults < instance config.toml /
    config.py < ``PORTAL_*`` environment < ``config``).
    """
    app = Flask("portal", instance_path=portal_config.instance_path_from_env(), instance_relative_config=True)
    from portal.web.templating import PortalEnvironment

    app.jinja_environment = PortalEnvironment  # before anything (a blueprint's template global) makes the environment
    # Before any blueprint adds a rule: ids past the database's integer range answer 404, not 500.
    app.url_map.converters["int"] = BoundedIntConverter
    portal_config.load_config(app, config)
    portal_config.check_secret_key(app)
    _trust_proxies(app)
    _ensure_instance_folder(app)
    from portal.storage import init_storage

    init_storage(app)  # a wrong STORAGE or an unreachable bucket fails at start-up, not at the first upload
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # chatty while subsetting PDF fonts

    from portal.plugins.manager import PortalPluginManager, flush_failures

    # Registered before the database so it runs after the session is removed.
    app.teardown_appcontext(flush_failures)
    install_sqlite_behaviour()
    db.init_app(app)
    from portal.cache import init_cache

    init_cache(app)  # the composition cache's LRU and write tracking (stamps bumped at commit)
    from portal.search import init_search

    init_search(app)
    _init_login(app)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    manager = PortalPluginManager(app)
    app.extensions["portal_plugins"] = manager
    from portal import core_hooks

    manager.register_core(core_hooks)
    manager.discover()

    from portal.i18n import init_i18n

    init_i18n(app, manager)
    _register_core_blueprints(app)
    manager.register_blueprints()
    _register_request_hooks(app, manager)
    from portal.idempotency import init_idempotency

    init_idempotency(app)

    from portal.notify.services import install_delivery_hooks
    from portal.web.templating import init_templating
    from portal.api.util import init_api_errors
    from portal.errors import init_service_errors

    install_delivery_hooks()
    init_templating(app)
    init_api_errors(app)
    init_service_errors(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Read the client's address (and scheme) from ``X-Forwarded-*`` set by ``PROXY_HOPS`` trusted proxies.

    0 (the default) trusts no header: anyone could write one, and login throttling keys on the client.
    """
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def _ensure_instance_folder(app: Flask) -> None:
    import os

    os.makedirs(app.instance_path, exist_ok=True)


def _init_login(app: Flask) -> None:
    from portal.accounts import services as accounts

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts.load_session_account)
    login_manager.request_loader(accounts.load_token_account)

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")


def _register_core_blueprints(app: Flask) -> None:
    import portal.badges.models  # noqa: F401  (tables of the core, whether or not a page uses them yet)
    import portal.xapi.models  # noqa: F401
    from portal.accounts.views import bp as auth_bp
    from portal.admin.views import bp as admin_bp
    from portal.api.views import bp as api_bp
    from portal.audit.views import bp as audit_bp
    from portal.badges.api import bp as badges_api_bp
    from portal.badges.views import bp as badges_bp
    from portal.notify.views import bp as inbox_bp
    from portal.org.views import bp as org_bp
    from portal.places_web import bp as places_bp
    from portal.pwa import bp as pwa_bp
    from portal.search.views import bp as search_bp
    from portal.xapi.api import bp as xapi_api_bp
    from portal.web.views import bp as web_bp

    for blueprint in (web_bp, auth_bp, org_bp, inbox_bp, admin_bp, audit_bp, api_bp, search_bp, places_bp):
        app.register_blueprint(blueprint)
    for blueprint in (badges_bp, badges_api_bp):  # Open Badges (issue 21)
        app.register_blueprint(blueprint)
    app.register_blueprint(xapi_api_bp)  # xAPI statements (issue 21)
    app.register_blueprint(pwa_bp)  # manifest, service worker, offline page (issue 21)


def _forgery_proof(req) -> bool:
    """Bearer-token calls and JSON API calls cannot be forged by another site's form.

    Nor can an API call without a logged-in session: it acts for nobody, and must
    answer 401 (not a CSRF 400) whatever its body.
    """
    if req.headers.get("Authorization", "").startswith("Bearer "):
        return True
    return req.path.startswith("/api/") and (req.is_json or not current_user.is_authenticated)


def _register_request_hooks(app: Flask, manager) -> None:
    from portal.accounts.services import enforce_password_change

    @app.before_request
    def _gate_and_protect():
        manager.gate_request()
        if app.config.get("WTF_CSRF_ENABLED", True) and request.method in ("POST", "PUT", "PATCH", "DELETE") \
                and not _forgery_proof(request):
            # views marked tk.csrf_exempt (a payment provider's signed callback) carry their own proof
            csrf.protect(apply_exemptions=True)
        return enforce_password_change()

    from portal.activity.daily_login import record_daily_login

    app.before_request(record_daily_login)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Anything shown to a logged-in person is theirs: no shared or browser cache keeps it (back button on a
        # shared phone, a caching proxy). A view that sets its own public caching keeps it.
        # Read from the session and headers, not the account object: after a commit it would reload (one more query).
        signed_in = bool(session.get("_user_id")) or "Authorization" in request.headers
        if not response.cache_control.public and not (request.endpoint or "").endswith("static") and signed_in:
            response.headers["Cache-Control"] = "private, no-store"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'self'")
        return response

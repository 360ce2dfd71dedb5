"""Discovering, loading, enabling and calling plugins.

One :class:`PortalPluginManager` per app (``app.extensions["portal_plugins"]``).
Every installed plugin is imported and its blueprints registered at start-up;
whether it is *enabled* is read from the database per request, so enabling or
disabling applies at once in every worker without a restart.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import pluggy
from flask import Flask, abort, current_app, g, has_app_context, request
from sqlalchemy import select

from portal.database import utcnow
from portal.extensions import db
from portal.plugins import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "portal.plugins"
#: Plugin states are settings in this namespace, so one query per request reads both.
STATE_NAMESPACE = "core.plugins"
CORE_DISTRIBUTION = "mobile-member-portal"
CORE_PLUGIN = "core"


@dataclass
class PluginState:
    """Whether a plugin is enabled, and the last error one of its hooks raised."""

    name: str
    enabled: bool
    last_error: str | None = None
    last_error_at: str | None = None

    @classmethod
    def from_value(cls, name: str, value: dict) -> "PluginState":
        return cls(name, bool(value.get("enabled")), value.get("last_error"), value.get("last_error_at"))

    def to_value(self) -> dict:
        return {"enabled": self.enabled, "last_error": self.last_error, "last_error_at": self.last_error_at}


@dataclass
class PluginInfo:
    """What the manager knows about one plugin, loaded or not."""

    name: str
    module_name: str
    version: str = ""
    description: str = ""
    source: str = "entry point"
    bundled: bool = False
    module: ModuleType | None = None
    load_error: str | None = None
    blueprints: list[str] = field(default_factory=list)

    @property
    def package_dir(self) -> Path | None:
        """The plugin package's folder, found without importing it."""
        if self.module is not None and getattr(self.module, "__file__", None):
            return Path(self.module.__file__).resolve().parent
        try:
            spec = importlib.util.find_spec(self.module_name)
        except (ImportError, ValueError):
            return None
        if spec and spec.submodule_search_locations:
            return Path(list(spec.submodule_search_locations)[0])
        return None

    def subdir(self, name: str) -> Path | None:
        """``<package>/<name>`` when that folder exists."""
        base = self.package_dir
        return base / name if base and (base / name).is_dir() else None


class PortalPluginManager:
    """Wraps pluggy with discovery, per-request enabled state and failure isolation."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pm = pluggy.PluginManager("portal")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.blueprint_owner: dict[str, str] = {}

    # -- discovery and loading -------------------------------------------------

    def discover(self) -> None:
        """Find plugins from entry points and the instance ``plugins/`` folder, and load them."""
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.plugins:
                continue
            dist = ep.dist
            bundled = bool(dist and dist.metadata.get("Name") == CORE_DISTRIBUTION)
            info = PluginInfo(
                name=ep.name,
                module_name=ep.value.split(":")[0],
                version=dist.version if dist else "",
                # Bundled plugins share the portal's summary, so their docstring describes them.
                description=(dist.metadata.get("Summary") or "") if dist and not bundled else "",
                bundled=bundled,
            )
            self._load(info, ep.load)
        self._discover_instance_folder()
        self._check_unknown_hooks()

    def _discover_instance_folder(self) -> None:
        folder = Path(self.app.instance_path) / "plugins"
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            init = path / "__init__.py"
            if not init.is_file() or path.name in self.plugins:
                continue
            module_name = f"portal_instance_plugin_{path.name}"
            info = PluginInfo(name=path.name, module_name=module_name, source="instance folder")

            def load(path=path, module_name=module_name, init=init):
                spec = importlib.util.spec_from_file_location(module_name, init, submodule_search_locations=[str(path)])
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
                return module

            self._load(info, load)

    def _load(self, info: PluginInfo, loader) -> None:
        self.plugins[info.name] = info
        try:
            module = loader()
            info.version = info.version or getattr(module, "__version__", "")
            info.description = info.description or _first_line(module.__doc__)
            self.pm.register(module, name=info.name)
            info.module = module
        except Exception as exc:  # any import error must not stop the portal
            info.load_error = _describe(exc)
            log.error("plugin %s failed to load: %s", info.name, info.load_error)

    def register_core(self, module: ModuleType) -> None:
        """Register the core's own hook implementations as the always-on plugin ``core``."""
        self.pm.register(module, name=CORE_PLUGIN)

    def _check_unknown_hooks(self) -> None:
        """The pending-hook check, per plugin: a misspelt hook marks that plugin failed."""
        for info in self.plugins.values():
            if info.module is None:
                continue
            unknown = [
                name for name in dir(info.module)
                if name.startswith("portal_") and hasattr(getattr(info.module, name), "portal_impl")
                and getattr(getattr(self.pm.hook, name, None), "spec", None) is None
            ]
            if unknown:
                info.load_error = f"unknown hook(s): {', '.join(sorted(unknown))}"
                self._unload(info.name)
        self.pm.check_pending()

    def register_blueprints(self) -> None:
        """Register every loaded plugin's blueprints (all of them: they are gated per request).

        A plugin whose blueprint name does not start with its own name is
        unloaded and marked failed, so two plugins can never collide.
        """
        results = self.call_each("portal_blueprints", enabled_only=False)
        for name, info in self.plugins.items():
            if info.load_error and info.module is not None:  # raised while handing over blueprints
                self._unload(name)
        for name, blueprints in results:
            if self.plugins.get(name) is not None and self.plugins[name].module is None:
                continue
            wrong = [bp.name for bp in blueprints or [] if not _owned_name(bp.name, name)]
            if wrong:
                self._record_load_error(name, f"blueprint {wrong[0]!r} must start with {name!r}")
                self._unload(name)
                continue
            for bp in blueprints or []:
                self.app.register_blueprint(bp)
                self.blueprint_owner[bp.name] = name
                if name in self.plugins:
                    self.plugins[name].blueprints.append(bp.name)

    def _unload(self, name: str) -> None:
        info = self.plugins.get(name)
        if info is not None and info.module is not None:
            self.pm.unregister(info.module)
            info.module = None

    def _record_load_error(self, name: str, message: str) -> None:
        if name in self.plugins:
            self.plugins[name].load_error = message
        log.error("plugin %s: %s", name, message)

    def translation_dirs(self) -> list[str]:
        """Every plugin's ``translations/`` folder (they are merged with the core's)."""
        dirs = [info.subdir("translations") for info in self.plugins.values()]
        return [str(d) for d in dirs if d]

    def migration_dirs(self) -> dict[str, str]:
        """``{plugin: versions folder}`` for every installed plugin, enabled or not."""
        dirs = {}
        for info in self.plugins.values():
            versions = info.subdir("migrations")
            if versions and (versions / "versions").is_dir():
                dirs[info.name] = str(versions / "versions")
        return dirs

    # -- enabled state ---------------------------------------------------------

    def default_enabled(self, name: str) -> bool:
        """Bundled plugins start enabled; third-party ones wait for an admin."""
        info = self.plugins.get(name)
        return bool(info and info.bundled)

    def states(self) -> dict[str, PluginState]:
        """``{name: PluginState}``, read with the settings (one query per request/app context)."""
        from portal.settings import stored_settings

        return {key: PluginState.from_value(key, value)
                for (namespace, key), value in stored_settings().items() if namespace == STATE_NAMESPACE}

    def forget_states(self) -> None:
        """Drop the cached states (after a change in this context)."""
        if has_app_context():
            g.pop("_settings", None)

    def is_enabled(self, name: str) -> bool:
        """True when ``name`` is the core or a loaded plugin enabled in the database."""
        if name == CORE_PLUGIN:
            return True
        info = self.plugins.get(name)
        if info is None or info.module is None:
            return False
        state = self.states().get(name)
        return state.enabled if state is not None else self.default_enabled(name)

    def status(self, name: str) -> str:
        """``enabled``, ``disabled`` or ``failed`` (failed to load, or a hook raised)."""
        info = self.plugins[name]
        state = self.states().get(name)
        if info.module is None or info.load_error or (state is not None and state.last_error):
            return "failed"
        return "enabled" if self.is_enabled(name) else "disabled"

    def error(self, name: str) -> str | None:
        """The load error, or the last error a hook raised."""
        info = self.plugins[name]
        state = self.states().get(name)
        return info.load_error or (state.last_error if state else None)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a plugin (clears its recorded error). Caller commits."""
        from portal.settings import set_setting

        if name not in self.plugins:
            raise KeyError(name)
        set_setting(STATE_NAMESPACE, name, PluginState(name, enabled).to_value())

    def gate_request(self) -> None:
        """``before_request``: a disabled plugin's routes answer 404."""
        if not request.blueprint:
            return
        owner = self.blueprint_owner.get(request.blueprint.split(".")[0])
        if owner and not self.is_enabled(owner):
            abort(404)

    # -- calling hooks ---------------------------------------------------------

    def call_each(self, hook_name: str, *, enabled_only: bool = True, savepoint: bool = False,
                  **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on every (enabled) plugin, newest registration first.

        Returns ``[(plugin name, result)]`` for non-None results. A plugin that
        raises is logged and its error recorded; the others still run. With
        ``savepoint`` each implementation runs in its own SAVEPOINT.
        """
        hook = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(hook.get_hookimpls()):
            name = self.pm.get_name(impl.plugin)
            if enabled_only and not self.is_enabled(name):
                continue
            args = [kwargs[arg] for arg in impl.argnames]
            try:
                if savepoint:
                    with db.session.begin_nested():
                        result = impl.function(*args)
                else:
                    result = impl.function(*args)
            except Exception as exc:
                self.report_failure(name, hook_name, exc)
                continue
            if result is not None:
                results.append((name, result))
        return results

    def call_list(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a list-returning hook and flatten the lists, ordered by ``order`` when present."""
        items = [item for _, result in self.call_each(hook_name, **kwargs) for item in result]
        return sorted(items, key=lambda item: getattr(item, "order", 100))

    def report_failure(self, name: str, hook_name: str, exc: BaseException) -> None:
        """Log a hook failure and record it for the admin plugins page once the request ends."""
        message = f"{hook_name}: {_describe(exc)}"
        log.error("plugin %s raised in %s", name, hook_name, exc_info=exc)
        if has_app_context():
            g.setdefault("_plugin_failures", []).append((name, message))
        else:  # at start-up: there may be no database yet, keep it as a load error
            self._record_load_error(name, message)

    def store_failures(self, failures: Iterable[tuple[str, str]]) -> None:
        """Write recorded hook failures in a transaction of their own."""
        from portal.plugins.models import Setting

        failures = list(failures)
        if not failures:
            return
        table = Setting.__table__
        where = lambda name: (table.c.namespace == STATE_NAMESPACE) & (table.c.key == name)  # noqa: E731
        with db.engine.begin() as conn:
            for name, message in failures:
                current = conn.execute(select(table.c.value).where(where(name))).scalar()
                state = PluginState.from_value(name, current) if current else PluginState(name, self.default_enabled(name))
                state.last_error, state.last_error_at = message[:4000], utcnow().isoformat(timespec="seconds")
                if current:
                    conn.execute(table.update().where(where(name)).values(value=state.to_value(), updated_at=utcnow()))
                else:
                    conn.execute(table.insert().values(namespace=STATE_NAMESPACE, key=name, value=state.to_value(),
                                                       updated_at=utcnow()))


def _owned_name(blueprint_name: str, plugin: str) -> bool:
    return blueprint_name == plugin or blueprint_name.startswith((f"{plugin}_", f"{plugin}."))


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def get_manager(app: Flask | None = None) -> PortalPluginManager:
    """The plugin manager of ``app`` (default: the current app)."""
    return (app or current_app).extensions["portal_plugins"]


def call_each(hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Shortcut for ``get_manager().call_each``."""
    return get_manager().call_each(hook_name, **kwargs)


def call_list(hook_name: str, **kwargs: Any) -> list[Any]:
    """Shortcut for ``get_manager().call_list``."""
    return get_manager().call_list(hook_name, **kwargs)


def flush_failures(exc: BaseException | None = None) -> None:
    """``teardown_appcontext``: persist hook failures after the request's own transaction ended."""
    failures = g.pop("_plugin_failures", None)
    if failures:
        try:
            get_manager().store_failures(failures)
        except Exception:  # never let error bookkeeping break a response
            log.exception("could not record plugin failures")

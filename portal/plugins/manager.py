"""Discovering, loading, enabling and calling plugins.

One :class:`PortalPluginManager` per app (``app.extensions["portal_plugins"]``).
Every installed plugin is imported and its blueprints registered at start-up;
whether it is *enabled* is read from the database per request, so enabling or
disabling applies at once in every worker without a restart.
"""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import traceback
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Generator, Iterable, Mapping, Sequence

import pluggy
from pluggy import HookImpl
from flask import Flask, abort, current_app, g, has_app_context, request
from sqlalchemy import select

from portal.database import utcnow
from portal.extensions import db
from portal.plugins import hookspecs, savepoints

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


@dataclass
class _Collected:
    """Which plugin returned which result, for :meth:`PortalPluginManager.call_each`.

    Results are matched by identity (pluggy hands back the very objects the
    implementations returned); each entry keeps its result alive so an id is
    never reused while the call lasts.
    """

    owners: dict[int, list[tuple[str, Any]]] = field(default_factory=dict)

    def add(self, plugin: str, result: Any) -> None:
        self.owners.setdefault(id(result), []).append((plugin, result))

    def owner_of(self, result: Any) -> str:
        entries = self.owners.get(id(result))
        return entries.pop(0)[0] if entries else ""


#: The results of the call_each in progress (a context variable, so nested calls keep their own).
_COLLECTED: ContextVar[_Collected | None] = ContextVar("portal_hook_results", default=None)


class _HookRunner(pluggy.PluginManager):
    """pluggy's manager, running each implementation isolated (see the comment above ``call_hook``)."""

    def __init__(self, owner: "PortalPluginManager") -> None:
        super().__init__("portal")
        self._owner = owner
        #: id(original HookImpl) -> (original, isolated twin); dropped when plugins change.
        self._twins: dict[int, tuple[HookImpl, HookImpl]] = {}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self._forget_callers()
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        self._forget_callers()
        return super().unregister(plugin, name)

    def _verify_hook(self, hook: pluggy.HookCaller, hookimpl: HookImpl) -> None:
        """Check an implementation against its spec; blame the right plugin when the spec came later.

        A plugin registered before another plugin published the spec (its
        ``portal_addhooks``) is checked when the spec arrives: a mismatch then
        marks the implementing plugin failed and unloads it, instead of failing
        the publisher. While a plugin registers, pluggy raises as usual.
        """
        if not self.is_registered(hookimpl.plugin):
            super()._verify_hook(hook, hookimpl)
            return
        try:
            super()._verify_hook(hook, hookimpl)
        except pluggy.PluginValidationError as exc:
            self._owner._record_load_error(hookimpl.plugin_name, str(exc))
            self._owner._unload(hookimpl.plugin_name)

    def _forget_callers(self) -> None:
        # subset_hook_caller keeps only the removed plugins that implement the
        # hook at the time it is made, so cached callers go when plugins change.
        self._twins.clear()
        self._owner._subset_callers.clear()
        self._owner._declared.clear()

    def _hookexec(self, hook_name: str, methods: Sequence[HookImpl], kwargs: Mapping[str, object],
                  firstresult: bool) -> object | list[object]:
        return super()._hookexec(hook_name, [self._twin(hook_name, impl) for impl in methods], kwargs, firstresult)

    def _twin(self, hook_name: str, impl: HookImpl) -> HookImpl:
        cached = self._twins.get(id(impl))
        if cached is None or cached[0] is not impl:
            isolate = _isolated_wrapper if impl.wrapper or impl.hookwrapper else _isolated_call
            function = functools.wraps(impl.function)(isolate(self._owner, hook_name, impl))
            cached = self._twins[id(impl)] = (impl, HookImpl(impl.plugin, impl.plugin_name, function, impl.opts))
        return cached[1]


def _isolated_call(manager: "PortalPluginManager", hook_name: str, impl: HookImpl) -> Callable[..., Any]:
    """``impl`` run in its own SAVEPOINT; an exception is recorded and becomes None."""

    def run(*args: Any, **kwargs: Any) -> Any:
        # Promised outside the try: opening it at once flushes the caller's pending
        # changes, whose errors are the caller's, not this plugin's. It is opened
        # only once the implementation touches the session (portal.plugins.savepoints).
        # A hook may commit (demo data does), which ends the savepoint; it then
        # goes on in a new transaction instead of failing.
        savepoint = savepoints.promise() if manager.wants_savepoint(hook_name) else None
        try:
            result = impl.function(*args, **kwargs)
        except Exception as exc:
            if savepoint is not None:
                savepoint.rollback()
            manager.report_failure(impl.plugin_name, hook_name, exc)
            return None
        finally:
            if savepoint is not None:
                savepoint.forget()
        if savepoint is not None:
            savepoint.commit()
        collected = _COLLECTED.get()
        if collected is not None and result is not None:
            collected.add(impl.plugin_name, result)
        return result

    return run


def _isolated_wrapper(manager: "PortalPluginManager", hook_name: str, impl: HookImpl) -> Callable[..., Any]:
    """A hook wrapper (old or new style) whose own exceptions are recorded and step it out of the call.

    Raising before its ``yield`` the call goes on without it; raising after,
    the result it was handed stands. Implementations never raise into it
    (they are isolated), so nothing is thrown into the wrapped generator.
    """

    def run(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        teardown = impl.function(*args, **kwargs)
        try:
            next(teardown)
        except Exception as exc:  # StopIteration too: a wrapper that never yields is broken
            manager.report_failure(impl.plugin_name, hook_name, exc)
            return (yield)
        outcome = yield
        try:
            teardown.send(outcome)
        except StopIteration as stop:
            result = outcome.get_result() if impl.hookwrapper else stop.value  # old style: force_result()
            _claim(impl.plugin_name, result)
            return stop.value
        except Exception as exc:
            manager.report_failure(impl.plugin_name, hook_name, exc)
            return outcome
        teardown.close()
        manager.report_failure(impl.plugin_name, hook_name, RuntimeError("hook wrapper yielded twice"))
        return outcome

    return run


def _claim(plugin: str, result: Any) -> None:
    """Attribute to a hook wrapper what it put in the result that no implementation returned."""
    collected = _COLLECTED.get()
    if collected is None or result is None:
        return
    for item in result if isinstance(result, list) else [result]:
        if item is not None and id(item) not in collected.owners:
            collected.add(plugin, item)


def _is_firstresult(hook: pluggy.HookCaller) -> bool:
    return bool(hook.spec and hook.spec.opts.get("firstresult"))


class PortalPluginManager:
    """Wraps pluggy with discovery, per-request enabled state and failure isolation."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        #: Subset hook callers without the disabled plugins, per (hook, disabled plugin names).
        self._subset_callers: dict[tuple[str, frozenset[str]], pluggy.HookCaller] = {}
        #: What the declaration hooks returned, per (call_list/call_each, hook, disabled plugin names); dropped
        #: when plugins change.
        self._declared: dict[tuple[str, str, frozenset[str]], list[Any]] = {}
        savepoints.listen()
        self.pm = _HookRunner(self)
        self.pm.add_hookspecs(hookspecs)
        # Historic: every plugin registered from now on is handed the manager at
        # once, so the hookspecs it publishes exist before the pending-hook check.
        self.pm.hook.portal_addhooks.call_historic(kwargs={"pluginmanager": self.pm})
        self.plugins: dict[str, PluginInfo] = {}
        self.blueprint_owner: dict[str, str] = {}
        #: The installed-wheels generation this app was built with (see portal.plugins.installer).
        self.generation: str | None = None
        self.reload_requested = False

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
        from portal.plugins.installer import sync_folder

        self.generation = sync_folder(self.app)  # unpack wheels installed from another worker or machine
        folder = Path(self.app.instance_path) / "plugins"
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            init = path / "__init__.py"
            if not init.is_file():
                self._discover_unpacked_wheel(path)
                continue
            if path.name in self.plugins:
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

    def _discover_unpacked_wheel(self, path: Path) -> None:
        """A wheel unpacked by the installer: its folder goes on ``sys.path``, its entry point is loaded."""
        for dist_info in path.glob("*.dist-info"):
            dist = importlib.metadata.PathDistribution(dist_info)
            for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
                if ep.name in self.plugins:  # already found through sys.path
                    continue
                if str(path) not in sys.path:
                    sys.path.append(str(path))
                info = PluginInfo(name=ep.name, module_name=ep.value.split(":")[0], version=dist.version,
                                  description=dist.metadata.get("Summary") or "", source="installed wheel")
                self._load(info, ep.load)

    def _load(self, info: PluginInfo, loader) -> None:
        self.plugins[info.name] = info
        try:
            module = loader()
            info.version = info.version or getattr(module, "__version__", "")
            # A plugin's DESCRIPTION (a lazy string) is translated; else the summary or docstring (English).
            info.description = getattr(module, "DESCRIPTION", None) or info.description or _first_line(module.__doc__)
            self.pm.register(module, name=info.name)
            if info.load_error:  # its portal_addhooks raised (recorded by report_failure)
                self.pm.unregister(module)
                return
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
            # optionalhook: a hook another plugin may publish (portal_addhooks); absent, it is never called.
            unknown = [
                name for name in dir(info.module)
                if name.startswith("portal_") and hasattr(getattr(info.module, name), "portal_impl")
                and not getattr(info.module, name).portal_impl.get("optionalhook")
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
        """``{name: PluginState}``, read with the settings (one query per request/app context).

        Derived once per read of the settings (every hook call asks for every plugin's state): kept
        beside the settings it came from, so whatever drops those (a state or a setting changed) drops it.
        """
        return self._enabled_state()[0]

    def _enabled_state(self) -> tuple[dict[str, PluginState], frozenset[str]]:
        """The plugin states and the names of the loaded plugins they disable, per read of the settings."""
        from portal.settings import stored_settings

        stored = stored_settings()
        cached = g.get("_plugin_states") if has_app_context() else None
        if cached is not None and cached[0] is stored:
            return cached[1]
        states = {key: PluginState.from_value(key, value)
                  for (namespace, key), value in stored.items() if namespace == STATE_NAMESPACE}
        disabled = frozenset(name for name, info in self.plugins.items() if info.module is not None
                             and not (states[name].enabled if name in states else self.default_enabled(name)))
        if has_app_context():
            g._plugin_states = (stored, (states, disabled))
        return states, disabled

    def disabled(self) -> frozenset[str]:
        """The loaded plugins disabled in the database (the core never is)."""
        return self._enabled_state()[1]

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
        return name not in self.disabled()

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
        self.check_generation()
        owner = self.blueprint_owner.get(request.blueprint.split(".")[0])
        if owner and not self.is_enabled(owner):
            abort(404)

    def check_generation(self) -> None:
        """When plugin wheels were installed or removed since this app was built, ask for a worker reload."""
        from portal.plugins.installer import request_reload, stored_generation

        stored = stored_generation()
        if stored != self.generation and not self.reload_requested:
            self.reload_requested = request_reload(self.app, request.environ, stored)

    def stale(self) -> bool:
        """True when this worker runs an older set of installed plugin wheels than the database holds."""
        from portal.plugins.installer import stored_generation

        return stored_generation() != self.generation

    # -- calling hooks ---------------------------------------------------------
    #
    # Hooks are called through pluggy, so every spec and implementation option
    # holds: firstresult, wrapper/hookwrapper, tryfirst/trylast, historic.
    # Disabled plugins are left out with pluggy's own subset_hook_caller.
    # Per-plugin isolation lives in _HookRunner._hookexec: every implementation
    # pluggy is about to run is swapped for a twin that runs it in a SAVEPOINT
    # and turns an exception into a recorded failure and a None result. It sits
    # there (not around the caller) because only there does one
    # implementation's failure leave the others running, and because every
    # way in -- call_hook, a direct ``pm.hook.x()``, a historic replay at
    # registration -- goes through it.

    def call_hook(self, hook_name: str, *, enabled_only: bool = True, **kwargs: Any) -> Any:
        """Call a hook through pluggy and return what pluggy returns.

        That is a list of the non-None results (newest registration first,
        tryfirst/trylast honoured, as hook wrappers left it), or for a
        ``firstresult`` hook the first non-None result or None. A plugin that
        raises is recorded as failed and counts as having returned None, so
        the next implementation of a ``firstresult`` hook is tried.
        ``enabled_only=False`` includes disabled plugins (start-up hooks).
        """
        token = _COLLECTED.set(None)  # not attributed: see call_each
        try:
            return self._caller(hook_name, enabled_only)(**kwargs)
        finally:
            _COLLECTED.reset(token)

    def call_each(self, hook_name: str, *, enabled_only: bool = True, plugins: Iterable[str] | None = None,
                  **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`call_hook`, but ``[(plugin name, result)]`` for the non-None results.

        A ``firstresult`` hook gives at most one pair. A result a hook wrapper
        put in place of the implementations' is attributed to that wrapper's plugin
        (the innermost one, when several wrappers change the result). ``plugins``
        calls only those (the composition cache asks only the plugins whose piece is missing).
        A declaration hook asked of every enabled plugin is kept as :meth:`call_list` keeps it (the
        settings' defaults come from ``portal_settings`` on every page that reads an unset setting).
        """
        if hook_name in hookspecs.DECLARATIONS and enabled_only and plugins is None and not kwargs \
                and has_app_context():
            return list(self._declared_once(("each", hook_name), lambda: self._each(hook_name, True, None)))
        return self._each(hook_name, enabled_only, plugins, **kwargs)

    def _declared_once(self, what: tuple[str, str], build: Callable[[], list[Any]]) -> list[Any]:
        """``build()`` once per declaration and set of enabled plugins; not kept when an implementation raised."""
        key = (*what, self.disabled())
        cached = self._declared.get(key)
        if cached is None:
            failures = len(g.get("_plugin_failures") or ())
            cached = build()
            if len(g.get("_plugin_failures") or ()) == failures:
                self._declared[key] = cached
        return cached

    def _each(self, hook_name: str, enabled_only: bool, plugins: Iterable[str] | None,
              **kwargs: Any) -> list[tuple[str, Any]]:
        """:meth:`call_each` without the declarations' keeping."""
        collected = _Collected()
        token = _COLLECTED.set(collected)
        try:
            outcome = self._caller(hook_name, enabled_only, None if plugins is None else frozenset(plugins))(**kwargs)
        finally:
            _COLLECTED.reset(token)
        if _is_firstresult(getattr(self.pm.hook, hook_name)):
            outcome = [] if outcome is None else [outcome]
        return [(collected.owner_of(result), result) for result in outcome if result is not None]

    def call_list(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a list-returning hook and flatten the lists, ordered by ``order`` when present.

        A declaration hook (:data:`hookspecs.DECLARATIONS`: constants, no database) is called once per
        set of enabled plugins and process: the permission registry alone was asked for on every page.
        Keyed by the disabled plugins, which are read from the database per request, so a plugin
        enabled or disabled on another app server counts at once; not kept when an implementation raised.
        """
        if hook_name in hookspecs.DECLARATIONS and not kwargs and has_app_context():
            return list(self._declared_once(("list", hook_name), lambda: self._flat_list(hook_name)))
        return self._flat_list(hook_name, **kwargs)

    def _flat_list(self, hook_name: str, **kwargs: Any) -> list[Any]:
        items = [item for result in self.call_hook(hook_name, **kwargs) for item in result]
        return sorted(items, key=lambda item: getattr(item, "order", 100))

    def _caller(self, hook_name: str, enabled_only: bool, only: frozenset[str] | None = None) -> pluggy.HookCaller:
        """The hook caller without the plugins disabled in this request, or not in ``only`` (cached per set of them)."""
        hook = getattr(self.pm.hook, hook_name)
        disabled = self.disabled() if enabled_only else frozenset()
        if only is not None:
            disabled |= frozenset(name for name, _plugin in self.pm.list_name_plugin() if name not in only)
        if not disabled:
            return hook
        key = (hook_name, disabled)
        if key not in self._subset_callers:
            modules = [module for name in disabled if (module := self.pm.get_plugin(name)) is not None]
            self._subset_callers[key] = self.pm.subset_hook_caller(hook_name, remove_plugins=modules)
        return self._subset_callers[key]

    def wants_savepoint(self, hook_name: str) -> bool:
        """Whether an implementation of ``hook_name`` runs in a SAVEPOINT of its own.

        Yes whenever there is a session to protect (an app context): on
        PostgreSQL a failed statement aborts the whole transaction; rolled back
        to the savepoint, the page and the other plugins carry on (SQLite too).
        The savepoint is only promised: it is opened when the implementation
        first uses the session (portal.plugins.savepoints), so a hook
        answering from memory (most nav items) costs neither a round trip nor
        the Python of a nested transaction.
        Not for the declaration hooks (:data:`hookspecs.DECLARATIONS`): they
        never touch the database, and one is called while the session commits.
        """
        return has_app_context() and hook_name not in hookspecs.DECLARATIONS

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
        # Outside the session, so no cache stamp moves: a failure changes no kept piece (a piece whose hook failed
        # is never kept, portal/cache.py) and whether a plugin is enabled is not touched here.
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


def call_hook(hook_name: str, **kwargs: Any) -> Any:
    """Shortcut for ``get_manager().call_hook``."""
    return get_manager().call_hook(hook_name, **kwargs)


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

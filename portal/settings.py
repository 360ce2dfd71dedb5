"""Typed settings of the core and of plugins, stored in the ``setting`` table."""
from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from sqlalchemy import select

from portal.extensions import db
from portal.plugins.manager import call_each
from portal.plugins.models import Setting
from portal.plugins.types import SettingSpec


def setting_specs() -> dict[str, list[SettingSpec]]:
    """``{namespace: [SettingSpec]}`` for the core and every enabled plugin."""
    return {name: list(specs) for name, specs in call_each("portal_settings")}


def stored_settings() -> dict[tuple[str, str], Any]:
    """Every stored ``(namespace, key) → value``, read once per request/app context."""
    return _stored()


#: Columns, not entities: no ORM objects to build on every page (a third of this statement's cost).
_ALL_SETTINGS = select(Setting.__table__.c.namespace, Setting.__table__.c.key, Setting.__table__.c.value)


def _stored() -> dict[tuple[str, str], Any]:
    cached = g.get("_settings") if has_app_context() else None
    if cached is None:
        cached = {(namespace, key): value for namespace, key, value in db.session.execute(_ALL_SETTINGS)}
        if has_app_context():
            g._settings = cached
    return cached


def _defaults(stored: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """Every spec's ``(namespace, key) → default``, gathered once per set of stored settings.

    Asking every plugin for its specs cost ~1 ms per :func:`get_setting` of an unset key (a lesson
    page asks four times). Kept with the stored settings they were gathered for: whatever drops
    those (a setting or a plugin's state changed) drops these too.
    """
    cached = g.get("_setting_defaults") if has_app_context() else None
    if cached is not None and cached[0] is stored:
        return cached[1]
    defaults: dict[tuple[str, str], Any] = {}
    for namespace, specs in setting_specs().items():
        for spec in specs:
            defaults.setdefault((namespace, spec.key), spec.default)
    if has_app_context():
        g._setting_defaults = (stored, defaults)
    return defaults


def get_setting(namespace: str, key: str, default: Any = None) -> Any:
    """The stored value of ``namespace.key``, else its spec's default, else ``default``."""
    stored = _stored()
    if (namespace, key) in stored:
        return stored[(namespace, key)]
    return _defaults(stored).get((namespace, key), default)


def set_setting(namespace: str, key: str, value: Any) -> None:
    """Store a setting value (caller commits)."""
    row = db.session.get(Setting, (namespace, key)) or Setting(namespace=namespace, key=key)
    row.value = value
    db.session.add(row)
    if has_app_context():
        g.pop("_settings", None)


def coerce_setting(spec: SettingSpec, raw: str | None) -> Any:
    """Convert a submitted form value to the spec's type; raises ValueError with a reason."""
    raw = (raw or "").strip()
    if spec.type == "bool":
        return raw in {"1", "true", "on", "yes", "y"}
    if spec.type in ("int", "float"):
        value = int(raw) if spec.type == "int" else float(raw)
        if spec.min is not None and value < spec.min or spec.max is not None and value > spec.max:
            raise ValueError("out of range")
        return value
    if spec.type == "choice":
        if raw not in {key for key, _ in spec.choices}:
            raise ValueError("not a valid choice")
        return raw
    if spec.type == "list":
        return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]
    return raw

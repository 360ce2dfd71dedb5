"""Settings (and plugin states, kept as settings), stored in the database so every worker agrees."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import utcnow
from portal.extensions import db


class Setting(db.Model):
    """A setting value, namespaced by ``core`` or a plugin's name."""

    __tablename__ = "setting"

    namespace: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PluginPackage(db.Model):
    """A plugin wheel installed from the admin page, kept so that every machine can unpack it.

    The row outlives a removal (``removed_at`` set, ``wheel`` dropped) to remember
    the plugin's schema revision: its tables and data stay (see portal.plugins.installer).
    """

    __tablename__ = "plugin_package"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    distribution: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    wheel: Mapped[bytes | None] = mapped_column(LargeBinary)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    schema_revisions: Mapped[list | None] = mapped_column(JSON)

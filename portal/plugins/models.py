"""Settings (and plugin states, kept as settings), stored in the database so every worker agrees."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
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

"""What the example's ``log`` provider "sent": one row per text message, for an admin to read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal import toolkit as tk

db = tk.db


class SmsLogEntry(db.Model):
    """A text message the ``log`` provider was handed instead of a gateway."""

    __tablename__ = "sms_example_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

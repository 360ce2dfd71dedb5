"""Member photos for the certificate: checked by content, kept in the portal's file store."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal import toolkit as tk

from .common import PLUGIN, setting
from .models import Certificate, Outflow

db = tk.db


#: A photo is printed on the card, so only types fpdf can embed.
PHOTO_TYPES = ("jpg", "jpeg", "png")


def photo_bytes(name: str | None) -> bytes | None:
    """A stored photo's bytes; ``None`` when it is missing or the name is not one the toolkit generated."""
    return tk.read_upload(PLUGIN, name)


def save_photo(outflow: Outflow, upload: Any) -> str:
    """Store an uploaded member photo (a ``FileStorage``: JPEG or PNG, at most the configured size) for ``outflow``.

    The image is checked by its content and decoded, not trusted by its name; on
    any problem nothing is stored and :class:`tk.Invalid` explains why.
    """
    checked = tk.check_upload(upload, allowed=PHOTO_TYPES, max_bytes=int(setting("photo_max_kb") or 2048) * 1024,
                              field="photo", decode_images=True)
    name = tk.store_upload(PLUGIN, checked)
    outflow.photo_file = name
    certificate = db.session.scalar(select(Certificate).where(Certificate.outflow_id == outflow.id,
                                                               Certificate.status == "active"))
    if certificate is not None:
        certificate.photo_file = name
    return name

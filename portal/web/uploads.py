"""The one way to accept, store and serve an uploaded file (care attachments, mobility photos, …).

A file is checked by its extension AND its first bytes (the name alone is not
trusted), against a size limit the plugin reads from its settings. A refused
file raises :class:`portal.errors.Invalid` with a translated message before
anything is written. Accepted files are kept in the app's store
(:mod:`portal.storage`: the instance folder or an S3 bucket) under
``<plugin>/<random name>`` (the sender's name is kept only in the plugin's row),
and served only by a view that has checked permission first — never from a
static folder. No caller may assume a local file: :func:`read_upload` gives the bytes.
"""
from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, send_file
from flask_babel import gettext as _

from portal.errors import Invalid
from portal.storage import get_store


@dataclass(frozen=True)
class FileType:
    """A type recognised by content: its mimetype and a test of the file's first bytes."""

    mimetype: str
    sniff: Callable[[bytes], bool]


#: Every type the portal recognises by content; plugins choose a subset by extension.
FILE_TYPES: dict[str, FileType] = {
    "jpg": FileType("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "jpeg": FileType("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    "png": FileType("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    "gif": FileType("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "pdf": FileType("application/pdf", lambda b: b.startswith(b"%PDF-")),
}

#: Names this module generates (older rows: 32–40 hex digits, with or without an extension).
_STORED_NAME = re.compile(r"[0-9a-f]{32,40}(\.[a-z0-9]{1,5})?")
_PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Upload:
    """A checked file waiting to be stored: the sender's base name, its extension, bytes and mimetype."""

    name: str
    extension: str
    data: bytes
    mimetype: str


def accepted(extensions: Iterable[str]) -> list[str]:
    """The extensions of ``extensions`` the portal can recognise by content (lower case, no dot)."""
    cleaned = (ext.lower().lstrip(".") for ext in extensions)
    return list(dict.fromkeys(ext for ext in cleaned if ext in FILE_TYPES))


def _refuse(message: str, field: str, status: int = 422) -> Invalid:
    return Invalid(message, {field: message}, status=status)


def _readable_image(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # Pillow raises many kinds for a broken file; all mean "not an image"
        return False
    return True


def check_upload(storage: Any, *, allowed: Iterable[str], max_bytes: int, field: str = "file",
                 decode_images: bool = False) -> Upload:
    """Read and check one uploaded file (a werkzeug ``FileStorage``); raise :class:`Invalid` if it is refused.

    ``allowed`` are extensions (see :data:`FILE_TYPES`); the first bytes must match the
    extension. ``decode_images`` also opens images fully (for files that will be
    printed, e.g. a photo on a card). Oversize files answer 413, other refusals 422.
    """
    allowed = accepted(allowed)
    filename = getattr(storage, "filename", None) or ""
    name = os.path.basename(filename.replace("\\", "/")).lstrip(".")[:200]
    if storage is None or not name:
        raise _refuse(_("Choose a file to upload."), field)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in allowed:
        raise _refuse(_("%(name)s: this file type is not accepted (allowed: %(types)s).", name=name,
                        types=", ".join(allowed)), field)
    data = storage.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse(_("%(name)s is too large (at most %(kb)d KB).", name=name, kb=max_bytes // 1024), field, 413)
    kind = FILE_TYPES[extension]
    if not data or not kind.sniff(data) or (decode_images and kind.mimetype.startswith("image/")
                                           and not _readable_image(data)):
        raise _refuse(_("%(name)s is not a valid %(ext)s file.", name=name, ext=extension.upper()), field)
    return Upload(name=name, extension=extension, data=data, mimetype=kind.mimetype)


def check_uploads(files: Iterable[Any], *, allowed: Iterable[str], max_bytes: int, max_count: int,
                  existing: int = 0, field: str = "files") -> list[Upload]:
    """Check several uploaded files (empty file inputs are skipped), at most ``max_count`` with ``existing``.

    Every file is checked before any is stored, so a refusal leaves nothing behind.
    """
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if existing + len(files) > max_count:
        raise _refuse(_("At most %(n)d files.", n=max_count), field)
    return [check_upload(f, allowed=allowed, max_bytes=max_bytes, field=field) for f in files]


def _key(plugin: str, stored_name: str | None) -> str | None:
    """The store key ``<plugin>/<stored name>``; ``None`` for any name this module did not generate (no path tricks)."""
    if not _PLUGIN_NAME.fullmatch(plugin):
        raise ValueError(f"not a plugin name: {plugin!r}")
    if not stored_name or not _STORED_NAME.fullmatch(stored_name):
        return None
    return f"{plugin}/{stored_name}"


def store_upload(plugin: str, upload: Upload) -> str:
    """Keep a checked file in the store under ``<plugin>/`` with a random name; return that name."""
    stored = f"{secrets.token_hex(20)}.{upload.extension}"
    get_store().put(_key(plugin, stored), upload.data, upload.mimetype)
    return stored


def read_upload(plugin: str, stored_name: str | None) -> bytes | None:
    """A stored file's bytes; ``None`` when it is missing or the name is not one this module generated."""
    key = _key(plugin, stored_name)
    return get_store().get(key) if key else None


def mimetype_of(stored_name: str) -> str:
    """The mimetype of a stored file from its extension (``application/octet-stream`` when unknown)."""
    kind = FILE_TYPES.get(stored_name.rsplit(".", 1)[-1].lower()) if "." in stored_name else None
    return kind.mimetype if kind else "application/octet-stream"


def send_upload(plugin: str, stored_name: str | None, *, download_name: str | None = None,
                mimetype: str | None = None) -> Response:
    """Answer with a stored file — call only after the permission check. 404 when it is missing.

    Images are shown inline, other files downloaded (``Content-Disposition``);
    nothing is cached and browsers may not guess another type.
    """
    data = read_upload(plugin, stored_name)
    if data is None:
        abort(404)
    mimetype = mimetype or mimetype_of(stored_name)
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not mimetype.startswith("image/"),
                         download_name=download_name or stored_name, max_age=0, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

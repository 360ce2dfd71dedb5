"""Attachments: checked by content, stored under ``UPLOAD_DIR/care`` with random names."""
from __future__ import annotations

from typing import Iterable

from portal import toolkit as tk

from .access import HANDLER, STAFF, get_visible, roles_on
from .models import CareAttachment, CareEvent, CareRequest
from .vocabulary import PLUGIN


def allowed_extensions() -> list[str]:
    """The configured attachment types the portal recognises by content."""
    return tk.accepted_file_types(tk.get_setting(PLUGIN, "attachment_types") or [])


def check_uploads(files: Iterable, existing: int = 0) -> list[tk.Upload]:
    """Read and check uploaded files (werkzeug ``FileStorage``); raise :class:`tk.Invalid` on the first bad one."""
    return tk.check_uploads(files, allowed=allowed_extensions(),
                            max_bytes=int(tk.get_setting(PLUGIN, "attachment_max_kb") or 5120) * 1024,
                            max_count=int(tk.get_setting(PLUGIN, "attachment_max_count") or 5), existing=existing,
                            field="attachments")


def upload_limits() -> dict:
    """What the upload field tells the member: count, types, size, and the ``accept`` attribute."""
    exts = allowed_extensions()
    return {"count": int(tk.get_setting(PLUGIN, "attachment_max_count") or 5),
            "kb": int(tk.get_setting(PLUGIN, "attachment_max_kb") or 5120), "types": ", ".join(exts),
            "accept": ",".join(f".{ext}" for ext in exts)}


def store_uploads(req: CareRequest, uploads: list[tk.Upload], account, *, internal: bool = False,
                  event: CareEvent | None = None) -> list[CareAttachment]:
    """Store checked files under ``UPLOAD_DIR/care`` with random names and record them."""
    rows = []
    for upload in uploads:
        row = CareAttachment(request=req, event_id=event.id if event is not None else None,
                             account_id=account.id if account else None, internal=internal,
                             original_name=upload.name, stored_name=tk.store_upload(PLUGIN, upload),
                             content_type=upload.mimetype, size=len(upload.data))
        tk.db.session.add(row)
        rows.append(row)
    return rows


def send_attachment(attachment: CareAttachment):
    """The attachment as a response (images inline, documents downloaded) — after the permission check."""
    return tk.send_upload(PLUGIN, attachment.stored_name, download_name=attachment.original_name,
                          mimetype=attachment.content_type)


def visible_attachments(req: CareRequest, account) -> list[CareAttachment]:
    """Attachments ``account`` may open (internal ones only for staff and handlers)."""
    roles = roles_on(req, account)
    return [a for a in req.attachments if not a.internal or roles & {STAFF, HANDLER}]


def attachment_for(attachment_id: int, account, *, request_id: int | None = None) -> CareAttachment | None:
    """The attachment when ``account`` may open it (and it belongs to ``request_id`` when given), else None."""
    item = tk.db.session.get(CareAttachment, attachment_id) if 0 < attachment_id <= tk.MAX_ID else None
    if item is None or (request_id is not None and item.request_id != request_id):
        return None
    req = get_visible(item.request_id, account)
    return item if req is not None and item in visible_attachments(req, account) else None

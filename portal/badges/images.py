"""Badge images: a round medal per badge class, and the assertion baked into a copy of it.

Both are kept in the app's store (:mod:`portal.storage`), never on a local path, so every
machine of a portal serves the same image. A badge class's medal is drawn once; a baked image
is made on the first download and kept under a name derived from the assertion it carries, so
a changed assertion (another public address) gets a new bake instead of a stale one.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

from portal.pdf import font_path
from portal.storage import get_store

#: Side of the square image in pixels (backpacks want at least 90 and show it at 50 or more).
SIZE = 256
#: Medal colours (fill, ring), chosen by the badge class's key so each class keeps its colour.
PALETTE = (((178, 34, 34), (218, 165, 32)), ((196, 60, 40), (240, 200, 80)), ((150, 20, 30), (230, 180, 60)),
           ((120, 30, 30), (212, 175, 55)), ((170, 50, 20), (250, 210, 90)))
#: How many characters of the name fit on the medal (two CJK characters, or three Latin letters).
_CJK_CHARS, _LATIN_CHARS = 2, 3


def medal_png(key: str, name: str) -> bytes:
    """A square PNG medal for the badge class ``key``: a coloured disc, a gold ring and a short label from ``name``."""
    from PIL import Image, ImageDraw, ImageFont  # imported where an image is drawn, not by every worker

    fill, ring = PALETTE[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(PALETTE)]
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, SIZE - 5, SIZE - 5), fill=ring)
    draw.ellipse((20, 20, SIZE - 21, SIZE - 21), fill=fill)
    draw.ellipse((32, 32, SIZE - 33, SIZE - 33), outline=ring, width=3)
    label = _label(name)
    font = ImageFont.truetype(font_path(), 88 if len(label) <= 2 else 64)
    draw.text((SIZE / 2, SIZE / 2), label, font=font, fill=(255, 244, 214), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _label(name: str) -> str:
    """The characters drawn on the medal.

    A short number in the name (a level, a place), else the first two characters of a Chinese
    name or the initials of a Latin one (a leading year left out).
    """
    number = re.search(r"(?<!\d)\d{1,3}(?!\d)", name)
    if number:
        return number.group()
    name = re.sub(r"^\d{4}(年度?|\s+)", "", name.strip())  # a leading year says nothing about the badge
    text = "".join(ch for ch in name if not ch.isspace() and ch not in "《》“”\"'()（）:：")
    if not text:
        return "★"
    if any(ord(ch) > 0x2E80 for ch in text[:_CJK_CHARS]):
        return text[:_CJK_CHARS]
    initials = "".join(word[0] for word in name.split() if word[:1].isalnum())
    return (initials or text)[:_LATIN_CHARS].upper()


def class_image(image_key: str | None, key: str, name: str) -> bytes:
    """The medal kept under ``image_key``; drawn again (and kept) if the store has lost it."""
    store = get_store()
    data = store.get(image_key) if image_key else None
    if data is None:
        data = medal_png(key, name)
        if image_key:
            store.put(image_key, data, "image/png")
    return data


def baked_png(uid: str, image: bytes, assertion: dict[str, Any]) -> bytes:
    """``image`` with ``assertion`` baked in (the PNG ``iTXt`` chunk ``openbadges``), made once and kept."""
    text = json.dumps(assertion, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode() + hashlib.sha256(image).digest()).hexdigest()[:20]
    store_key = f"badges/baked/{uid}-{digest}.png"
    store = get_store()
    data = store.get(store_key)
    if data is None:
        import openbadges_bakery

        data = openbadges_bakery.bake(io.BytesIO(image), text, io.BytesIO()).getvalue()
        store.put(store_key, data, "image/png")
    return data

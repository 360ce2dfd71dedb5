"""The one way to make PDFs (certificates, cards, letters) and QR codes.

PDFs embed a CJK TrueType font so Chinese names come out as text, not boxes.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Response, current_app

if TYPE_CHECKING:  # fpdf2 (with fontTools) and segno are imported where a PDF or QR code is made:
    from fpdf import FPDF  # they would cost every worker ~25 MiB for pages that never need them

VENDORED_FONT = Path(__file__).resolve().parent / "fonts" / "wqy-microhei-gb2312.ttf"
SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
FONT_FAMILY = "cjk"


def font_path() -> str:
    """``PDF_FONT`` when configured, else a full system CJK font, else the vendored GB 2312 subset."""
    configured = current_app.config.get("PDF_FONT")
    if configured and Path(configured).is_file():
        return str(configured)
    for candidate in SYSTEM_FONTS:
        if Path(candidate).is_file():
            return candidate
    return str(VENDORED_FONT)


def new_pdf(orientation: str = "P", page_format: str | tuple = "A4") -> FPDF:
    """An FPDF document with the CJK font registered as ``cjk`` and selected, one page added."""
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, unit="mm", format=page_format)
    path = font_path()
    pdf.add_font(FONT_FAMILY, "", path, collection_font_number=0) if path.endswith(".ttc") else pdf.add_font(FONT_FAMILY, "", path)
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def qr_png(data: str, scale: int = 6) -> bytes:
    """A QR code as PNG bytes (for PDFs)."""
    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_svg(data: str, scale: int = 4) -> str:
    """A QR code as an inline SVG string (for pages)."""
    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def pdf_response(pdf: FPDF | bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF download (``filename`` may be Chinese)."""
    data = pdf if isinstance(pdf, (bytes, bytearray)) else bytes(pdf.output())
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "ignore").decode() or "document.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response

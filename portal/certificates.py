"""Documents anyone can check with a QR code: certificates, cards, receipts, records.

What a plugin keeps: its own table (who holds what, since when, revoked or
not) and its own URLs. What the core gives, once:

- :func:`new_code` — an unguessable verification code (60 bits from an
  alphabet without look-alike characters), and :func:`add_with_unique_code`
  to insert a row with a fresh code, retrying on the rare clash;
- :class:`Document` — the printable facts: title, holder, lines of fields,
  issuer, issue date (shown as the local day), code and verification URL;
- :func:`document_pdf` — the PDF in one of two layouts (an A4 ``certificate``
  or an A6 ``card``) with the CJK font and the QR code to the verification URL;
- :func:`verification_page` — the public page saying valid / revoked /
  expired / unknown, showing only the facts the plugin chose to publish
  (``templates/macros/verification.html``).
"""
from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import render_template
from flask_babel import gettext as _
from fpdf.enums import XPos, YPos
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.pdf import FONT_FAMILY, new_pdf, qr_png
from portal.timeutil import local_date
from portal.web.formatting import fmt_date

#: No 0/O, 1/I: codes are read aloud and typed from paper.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

VALID, REVOKED, EXPIRED, UNKNOWN = "valid", "revoked", "expired", "unknown"

_BRAND = (183, 28, 28)
_INK = (29, 29, 31)
_MUTED = (95, 99, 104)

Row = TypeVar("Row")


def new_code(groups: int = 3, size: int = 4) -> str:
    """A random code like ``K7QM-3XPD-WN2A`` (12 characters ≈ 60 bits: not guessable, short to type)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(groups * size))
    return "-".join(raw[i:i + size] for i in range(0, len(raw), size))


def normalize_code(code: str | None, *, max_length: int = 40) -> str:
    """A code as typed or scanned, upper-cased and trimmed ("" for anything too long)."""
    code = (code or "").strip().upper()
    return code if len(code) <= max_length else ""


def add_with_unique_code(build: Callable[[str], Row], *, new: Callable[[], str] = new_code, attempts: int = 5) -> Row:
    """Add ``build(code)`` with a fresh code in a SAVEPOINT, drawing another code if the unique index refuses.

    Raises the last :class:`IntegrityError` when every attempt clashed (then the
    clash is not the code: e.g. the document was issued concurrently).
    """
    for attempt in range(attempts):
        row = build(new())
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
            return row
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise ValueError("attempts must be at least 1")


def status_of(*, revoked: bool = False, valid_until: date | None = None, today: date | None = None) -> str:
    """``revoked``, ``expired`` (``valid_until`` before ``today``) or ``valid``."""
    if revoked:
        return REVOKED
    if valid_until is not None and today is not None and valid_until < today:
        return EXPIRED
    return VALID


@dataclass(frozen=True)
class Document:
    """The printable facts of a checkable document.

    ``preamble`` stands above the holder's name on a certificate ("This certifies that");
    ``lines`` are ``(label, value)`` rows; ``issued_at`` is naive UTC (printed as the local day).
    """

    title: str
    code: str
    verify_url: str
    holder: str = ""
    preamble: str = ""
    lines: Sequence[tuple[str, str]] = ()
    issuer: str = ""
    issued_at: datetime | None = None
    status: str = VALID
    photo: Path | None = field(default=None, compare=False)

    @property
    def issued_on(self) -> str:
        """The issue date as the organization's local day, in the reader's locale."""
        return fmt_date(local_date(self.issued_at), "long") if self.issued_at else ""


def document_pdf(document: Document, layout: str = "certificate") -> bytes:
    """The document as PDF: ``certificate`` (A4 landscape, framed, centred) or ``card`` (A6, rows, photo)."""
    if layout == "card":
        return _card(document)
    if layout == "certificate":
        return _certificate(document)
    raise ValueError(f"unknown layout {layout!r}")


def _certificate(doc: Document) -> bytes:
    pdf = new_pdf(orientation="L")
    pdf.set_draw_color(*_BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, 269, 182)

    def line(text: str, size: int, height: float, *, color: tuple[int, int, int] = _INK) -> None:
        pdf.set_font(FONT_FAMILY, size=size)
        pdf.set_text_color(*color)
        pdf.set_x(20)
        pdf.multi_cell(237, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_y(30)
    line(doc.title, 30, 16, color=_BRAND)
    pdf.ln(6)
    if doc.preamble:
        line(doc.preamble, 14, 9)
    if doc.holder:
        line(doc.holder, 26, 16)
    for label, value in doc.lines:
        line(label, 14, 9)
        line(value, 20, 12)
    pdf.ln(6)
    if doc.issued_at:
        line(_("Date: %(date)s", date=doc.issued_on), 12, 8)
    if doc.issuer:
        line(_("Issued by: %(unit)s", unit=doc.issuer), 12, 8)
    line(_("Verification code: %(code)s", code=doc.code), 12, 8)
    if doc.status != VALID:
        line(status_text(doc.status), 14, 9, color=_BRAND)
    pdf.image(io.BytesIO(qr_png(doc.verify_url, scale=4)), x=240, y=150, w=36)
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.set_text_color(*_MUTED)
    pdf.set_xy(20, 182)
    pdf.cell(215, 5, _("Check this document at %(url)s", url=doc.verify_url))
    return bytes(pdf.output())


def _card(doc: Document) -> bytes:
    pdf = new_pdf(orientation="L", page_format=(105, 148))  # A6 landscape
    pdf.set_fill_color(*_BRAND)
    pdf.rect(0, 0, 148, 16, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font_size(15)
    pdf.set_xy(6, 4)
    pdf.cell(136, 8, doc.title, align="C")
    pdf.set_font_size(10)
    rows = list(doc.lines)
    if doc.issued_at:
        rows.append((_("Issued on"), doc.issued_on))
    y = 22.0
    for label, value in rows:
        pdf.set_xy(6, y)
        pdf.set_text_color(*_MUTED)
        pdf.cell(28, 6, str(label))
        pdf.set_text_color(*_INK)
        pdf.multi_cell(62, 6, str(value or "—"))
        y = max(y + 7, pdf.get_y() + 1)
    if doc.photo is not None and doc.photo.is_file():
        pdf.image(str(doc.photo), x=104, y=20, w=36)
    pdf.image(io.BytesIO(qr_png(doc.verify_url, scale=4)), x=108, y=64, w=30)
    pdf.set_font_size(7)
    pdf.set_xy(100, 95)
    pdf.cell(44, 4, _("Scan to verify"), align="C")
    if doc.status != VALID:
        pdf.set_text_color(*_BRAND)
        pdf.set_font_size(12)
        pdf.set_xy(6, 92)
        pdf.cell(80, 6, status_text(doc.status))
    return bytes(pdf.output())


def status_text(status: str) -> str:
    """What the verification page and the printout say for ``status``."""
    return {
        VALID: _("This document is genuine and valid."),
        REVOKED: _("This document has been revoked and is no longer valid."),
        EXPIRED: _("This document has expired and is no longer valid."),
        UNKNOWN: _("A document with this code does not exist."),
    }[status]


def verification_page(title: str, status: str, facts: Sequence[tuple[str, Any]] = (), *,
                      message: str | None = None) -> tuple[str, int]:
    """The public verification page: ``(html, status code)`` — 404 for an unknown code.

    ``facts`` are the only ``(label, value)`` pairs shown: pass what may be public
    (never a phone, an address or a reason for revocation). ``message`` replaces the
    standard sentence for the status (e.g. to name the kind of document).
    """
    html = render_template("verification.html", title=title, status=status, facts=list(facts),
                           message=message or status_text(status))
    return html, 404 if status == UNKNOWN else 200

"""Documents anyone can check with a QR code: certificates, cards, receipts, records.

What a plugin keeps: its own table (who holds what, since when, revoked or
not) and its own URLs. What the core gives, once:

- :func:`new_code` — an unguessable verification code (60 bits from an
  alphabet without look-alike characters), and :func:`add_with_unique_code`
  to insert a row with a fresh code, retrying on the rare clash;
- :class:`Document` — the printable facts: title, holder, lines of fields,
  issuer, issue date (shown as the local day), code and verification URL;
- :func:`document_pdf` — the one-page PDF in one of two layouts (an A4
  ``certificate``, or a ``card``: front and back A6 panels with cut lines on
  one A4 page) with the CJK font and the QR code to the verification URL;
  :func:`render_document` also says where each part was drawn (:class:`Box`);
- :func:`verification_page` — the public page saying valid / revoked /
  expired / unknown, showing only the facts the plugin chose to publish and,
  while valid, the holder's photo so the card can be matched to its holder
  (``templates/macros/verification.html``); :func:`mask_name` for the name.
"""
from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.pdf import FONT_FAMILY, new_pdf, qr_png
from portal.timeutil import local_date
from portal.web.formatting import fmt_date

if TYPE_CHECKING:  # fpdf2 is imported by portal.pdf when a document is drawn (lean workers)
    from fpdf import FPDF

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
    ``lines`` are ``(label, value)`` rows; ``issued_at`` is naive UTC (printed as the local day);
    ``notes`` are the holder's instructions printed on the back of a card.
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
    photo: bytes | None = field(default=None, compare=False, repr=False)
    notes: Sequence[str] = ()

    @property
    def issued_on(self) -> str:
        """The issue date as the organization's local day, in the reader's locale."""
        return fmt_date(local_date(self.issued_at), "long") if self.issued_at else ""


@dataclass(frozen=True)
class Box:
    """A rectangle on the page in millimetres from the top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        """True when the two rectangles share any area (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def within(self, other: Box) -> bool:
        """True when this rectangle lies entirely inside ``other``."""
        return self.x >= other.x and self.y >= other.y and self.right <= other.right and self.bottom <= other.bottom


@dataclass(frozen=True)
class Rendered:
    """A document laid out on one page: the PDF, the page size and where each part was drawn.

    ``boxes`` name the parts (``qr``, ``photo``, ``fields`` …) so tests and callers can check
    that nothing overlaps and everything stays on the page.
    """

    pdf: bytes
    page: Box
    boxes: dict[str, Box]


def document_pdf(document: Document, layout: str = "certificate") -> bytes:
    """The document as a one-page PDF: ``certificate`` (A4 landscape, framed) or ``card`` (front and back on A4)."""
    return render_document(document, layout).pdf


def render_document(document: Document, layout: str = "certificate") -> Rendered:
    """Lay ``document`` out on one page and say where each part went (see :class:`Rendered`)."""
    if layout == "card":
        return _card(document)
    if layout == "certificate":
        return _certificate(document)
    raise ValueError(f"unknown layout {layout!r}")


#: Unbreakable runs: a number, a code, a Latin word or URL; any other single character (a CJK one) stands alone.
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-./:@_%#?=&+]*|\s+|.")
#: Punctuation that never starts a line (it stays with the character before) or ends one (it goes with the next).
_NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)%")
_NO_LINE_END = set("（《「『“‘(")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and (token[0] in _NO_LINE_START or tokens[-1][-1] in _NO_LINE_END):
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def wrap_text(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` in lines at most ``width`` mm wide in the current font, for Chinese and Latin alike.

    Chinese breaks between characters, but never inside a number, a date, a code or a Latin word,
    never before a closing mark (，。）) and never after an opening one; only a run wider than the
    whole line is cut. Closing marks may hang past the right edge, as in Chinese typesetting.
    Explicit newlines are kept.
    """
    def fits(candidate: str) -> bool:
        return pdf.get_string_width(candidate.rstrip().rstrip("".join(_NO_LINE_START))) <= width

    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if line and not fits(line + token):
                lines.append(line.rstrip())
                line = ""
                if token.isspace():
                    continue
            while not fits(token) and len(token) > 1:  # a run wider than the line
                cut = next(n for n in range(len(token) - 1, 0, -1) if fits(token[:n]) or n == 1)
                lines.append(token[:cut])
                token = token[cut:]
            line += token
        lines.append(line.rstrip())
    return lines


def write_lines(pdf: FPDF, x: float, width: float, height: float, text: str, align: str = "L") -> None:
    """Write ``text`` wrapped by :func:`wrap_text` from the current y, one cell per line."""
    for line in wrap_text(pdf, text, width):
        pdf.set_x(x)
        pdf.cell(width, height, line, align=align, new_x="LMARGIN", new_y="NEXT")


def _text_block(pdf: FPDF, box: Box, rows: Sequence[tuple[str, int, float, tuple[int, int, int]]],
                align: str = "C") -> Box:
    """Write ``(text, size, line height, colour)`` rows down ``box``; the box actually used."""
    pdf.set_y(box.y)
    for text, size, height, color in rows:
        pdf.set_font(FONT_FAMILY, size=size)
        pdf.set_text_color(*color)
        write_lines(pdf, box.x, box.w, height, text, align)
    return Box(box.x, box.y, box.w, pdf.get_y() - box.y)


def _fixed_page(orientation: str, page_format: str | tuple[float, float]) -> FPDF:
    """A page that never breaks: every layout places its parts itself and must fit on one page."""
    pdf = new_pdf(orientation=orientation, page_format=page_format)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    return pdf


def _certificate(doc: Document) -> Rendered:
    pdf = _fixed_page("L", "A4")
    page = Box(0, 0, 297, 210)
    pdf.set_draw_color(*_BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, 269, 182)
    # The text column is centred and stops left of the QR code in the bottom-right corner.
    rows = [(doc.title, 30, 16.0, _BRAND), ("", 6, 6.0, _INK)]
    if doc.preamble:
        rows.append((doc.preamble, 14, 9.0, _INK))
    if doc.holder:
        rows.append((doc.holder, 26, 16.0, _INK))
    for label, value in doc.lines:
        rows += [(str(label), 14, 9.0, _INK), (str(value), 20, 12.0, _INK)]
    rows.append(("", 6, 6.0, _INK))
    if doc.issued_at:
        rows.append((_("Date: %(date)s", date=doc.issued_on), 12, 8.0, _INK))
    if doc.issuer:
        rows.append((_("Issued by: %(unit)s", unit=doc.issuer), 12, 8.0, _INK))
    rows.append((_("Verification code: %(code)s", code=doc.code), 12, 8.0, _INK))
    if doc.status != VALID:
        rows.append((status_text(doc.status), 14, 9.0, _BRAND))
    text = _text_block(pdf, Box(54, 28, 189, 0), rows)
    qr = Box(246, 152, 32, 32)
    pdf.image(io.BytesIO(qr_png(doc.verify_url, scale=4)), x=qr.x, y=qr.y, w=qr.w, h=qr.h)
    url = _text_block(pdf, Box(20, 184, 220, 0), [(_("Check this document at %(url)s", url=doc.verify_url), 8, 4.0,
                                                  _MUTED)], align="L")
    return Rendered(bytes(pdf.output()), page, {"text": text, "qr": qr, "url": url})


#: The A6 landscape panels of the card (ISO A6 fits a pocket and a standard sleeve).
_PANEL_W, _PANEL_H = 148.0, 105.0


def _card(doc: Document) -> Rendered:
    """Front (title, facts, photo) and back (QR code, how to check, issuer, notes) on one A4 page, to cut out."""
    pdf = _fixed_page("P", "A4")
    page = Box(0, 0, 210, 297)
    front = Box((210 - _PANEL_W) / 2, 24, _PANEL_W, _PANEL_H)
    back = Box(front.x, front.bottom + 16, _PANEL_W, _PANEL_H)
    boxes = {"front": front, "back": back}
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.set_text_color(*_MUTED)
    pdf.set_xy(front.x, 12)
    pdf.cell(front.w, 6, _("Cut along the dashed lines; glue the back to the back of the front, or laminate both."),
             align="C")
    for panel, name in ((front, _("Front of the card")), (back, _("Back of the card"))):
        _cut_lines(pdf, panel)
        pdf.set_font(FONT_FAMILY, size=7)
        pdf.set_text_color(*_MUTED)
        pdf.set_xy(panel.x, panel.bottom + 1)
        pdf.cell(panel.w, 4, name, align="R")
    boxes.update(_card_front(pdf, doc, front))
    boxes.update(_card_back(pdf, doc, back))
    return Rendered(bytes(pdf.output()), page, boxes)


def _cut_lines(pdf: FPDF, panel: Box) -> None:
    pdf.set_draw_color(*_MUTED)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.rect(panel.x, panel.y, panel.w, panel.h)
    pdf.set_dash_pattern()


def _card_front(pdf: FPDF, doc: Document, panel: Box) -> dict[str, Box]:
    title = Box(panel.x, panel.y, panel.w, 16)
    pdf.set_fill_color(*_BRAND)
    pdf.rect(title.x, title.y, title.w, title.h, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT_FAMILY, size=15)
    pdf.set_xy(title.x + 4, title.y + 4)
    pdf.cell(title.w - 8, 8, doc.title, align="C")
    # Facts on the left, the photo (3:4, like a one-inch ID photo) on the right: they never share a column.
    photo = Box(panel.right - 38, panel.y + 22, 32, 42)
    fields = _field_rows(pdf, Box(panel.x + 6, panel.y + 21, photo.x - panel.x - 10, 0), doc.lines)
    _photo(pdf, doc.photo, photo)
    boxes = {"title": title, "fields": fields, "photo": photo}
    # Issuer and date bottom right, where the branch puts its seal; a void card says so bottom left.
    seal = [(_("%(unit)s (seal)", unit=doc.issuer), 9, 5.0, _INK)] if doc.issuer else []
    if doc.issued_at:
        seal.append((doc.issued_on, 9, 5.0, _INK))
    if seal:
        boxes["seal"] = _text_block(pdf, Box(panel.x + panel.w / 2, panel.bottom - 6 - 5 * len(seal), panel.w / 2 - 6, 0),
                                    seal, align="R")
    if doc.status != VALID:
        boxes["status"] = _text_block(pdf, Box(panel.x + 6, panel.bottom - 11, panel.w / 2 - 8, 0),
                                      [(status_text(doc.status), 10, 5.0, _BRAND)], align="L")
    return boxes


def _field_rows(pdf: FPDF, box: Box, lines: Sequence[tuple[str, str]]) -> Box:
    pdf.set_font(FONT_FAMILY, size=10)
    # The label column fits the longest label ("姓名" or "Certificate number"), at most 40 % of the width.
    label_w = min(max((pdf.get_string_width(str(label)) for label, _value in lines), default=0) + 4, box.w * 0.4)
    y = box.y
    for label, value in lines:
        pdf.set_xy(box.x, y)
        pdf.set_text_color(*_MUTED)
        pdf.cell(label_w, 6, str(label))
        pdf.set_text_color(*_INK)
        pdf.set_y(y)
        write_lines(pdf, box.x + label_w, box.w - label_w, 6, str(value or "—"))
        y = max(y + 7, pdf.get_y() + 1)
    return Box(box.x, box.y, box.w, y - box.y)


def _photo(pdf: FPDF, photo: bytes | None, box: Box) -> None:
    """The photo (its bytes) scaled into ``box`` (kept in proportion), or a frame saying where to stick one."""
    if photo:
        pdf.image(io.BytesIO(photo), x=box.x, y=box.y, w=box.w, h=box.h, keep_aspect_ratio=True)
        return
    pdf.set_draw_color(*_MUTED)
    pdf.set_line_width(0.2)
    pdf.rect(box.x, box.y, box.w, box.h)
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.set_text_color(*_MUTED)
    pdf.set_xy(box.x, box.y + box.h / 2 - 3)
    pdf.cell(box.w, 4, _("Photo"), align="C")


def _card_back(pdf: FPDF, doc: Document, panel: Box) -> dict[str, Box]:
    qr = Box(panel.x + 6, panel.y + 8, 40, 40)
    pdf.image(io.BytesIO(qr_png(doc.verify_url, scale=4)), x=qr.x, y=qr.y, w=qr.w, h=qr.h)
    rows = [(_("Scan the code or open the address below to check this document."), 9, 4.5, _INK),
            (doc.verify_url, 7, 3.5, _MUTED), ("", 4, 2.0, _INK),
            (_("Number: %(code)s", code=doc.code), 10, 5.0, _INK)]
    if doc.issuer:
        rows.append((_("Issued by: %(unit)s", unit=doc.issuer), 9, 4.5, _INK))
    if doc.issued_at:
        rows.append((_("Issued on: %(date)s", date=doc.issued_on), 9, 4.5, _INK))
    check = _text_block(pdf, Box(qr.right + 6, qr.y, panel.right - qr.right - 12, 0), rows, align="L")
    boxes = {"qr": qr, "check": check}
    if doc.notes:
        top = max(qr.bottom, check.bottom) + 4
        notes = [(_("Notes for the holder"), 9, 5.0, _BRAND)]
        notes += [(f"{number}. {note}", 8, 4.0, _INK) for number, note in enumerate(doc.notes, start=1)]
        boxes["notes"] = _text_block(pdf, Box(panel.x + 6, top, panel.w - 12, 0), notes, align="L")
    return boxes


def status_text(status: str) -> str:
    """What the verification page and the printout say for ``status``."""
    return {
        VALID: _("This document is genuine and valid."),
        REVOKED: _("This document has been revoked and is no longer valid."),
        EXPIRED: _("This document has expired and is no longer valid."),
        UNKNOWN: _("A document with this code does not exist."),
    }[status]


def verification_page(title: str, status: str, facts: Sequence[tuple[str, Any]] = (), *,
                      message: str | None = None, photo_url: str | None = None) -> tuple[str, int]:
    """The public verification page: ``(html, status code)`` — 404 for an unknown code.

    ``facts`` are the only ``(label, value)`` pairs shown: pass what may be public
    (never a phone, an address or a reason for revocation; a name masked with
    :func:`mask_name`). ``message`` replaces the standard sentence for the status
    (e.g. to name the kind of document). ``photo_url`` shows the holder's photo,
    and only while the document is valid.
    """
    html = render_template("verification.html", title=title, status=status, facts=list(facts),
                           message=message or status_text(status), photo_url=photo_url if status == VALID else None)
    return html, 404 if status == UNKNOWN else 200


#: Two-character family names, so 欧阳娜娜 shows as 欧阳** and not 欧***.
_COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "夏侯", "令狐", "长孙", "宇文", "司徒",
    "端木", "独孤", "南宫", "西门", "轩辕", "呼延",
))


def mask_name(name: str | None) -> str:
    """The family name and a star per remaining character (王静 → 王*, 欧阳娜娜 → 欧阳**): enough to match a holder."""
    name = "".join((name or "").split())
    if not name:
        return ""
    keep = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)

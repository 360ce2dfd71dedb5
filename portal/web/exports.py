"""The one spreadsheet export helper (``.xlsx`` through openpyxl's write-only mode)."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.timeutil import to_local

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(headers: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    """A workbook with one sheet: a bold header row, then ``rows``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31] or "Sheet1")
    header_cells = []
    for header in headers:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Stored as naive UTC; people read local time (spreadsheets hold no time zone).
        return to_local(value).replace(tzinfo=None)
    if value is None or isinstance(value, (int, float, str)) or hasattr(value, "isoformat"):
        # Text that looks like a formula must stay text (spreadsheet injection).
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            return "'" + value
        return value
    return str(value)


def xlsx_response(filename: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> Response:
    """An attachment response with the workbook; ``filename`` may be Chinese."""
    data = xlsx_bytes(headers, rows, title)
    response = Response(data, mimetype=XLSX_MIME)
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    return response

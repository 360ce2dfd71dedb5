"""The one spreadsheet export helper (``.xlsx`` through openpyxl's write-only mode)."""
from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from flask import Response

from portal.timeutil import to_local

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(headers: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1", *,
               heading: Sequence[Any] = (), header_rows: Sequence[Sequence[Any]] = ()) -> bytes:
    """A workbook with one sheet: a bold header row, then ``rows``.

    A report adds ``heading`` lines above (title, unit, date; the first in a larger font) and
    ``header_rows`` (bold) between them and ``headers``, e.g. column groups over their columns.
    """
    # imported here: openpyxl costs every worker ~10 MiB and only exports need it
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31] or "Sheet1")

    def bold(values: Sequence[Any], size: int | None = None) -> list:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
            cell.font = Font(bold=True, size=size) if size else Font(bold=True)
            cells.append(cell)
        return cells

    for index, line in enumerate(heading):
        sheet.append(bold([line], 14) if index == 0 else [_cell_value(line)])
    if heading:
        sheet.append([])
    for header_row in header_rows:
        sheet.append(bold(header_row))
    sheet.append(bold(headers))
    for row in rows:
        sheet.append([_cell_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Stored as naive UTC; people read local time (spreadsheets hold no time zone).
        return to_local(value).replace(tzinfo=None)
    # Decimal money stays a number a spreadsheet can sum (openpyxl writes its digits as they are).
    if value is None or isinstance(value, (int, float, Decimal, str)) or hasattr(value, "isoformat"):
        # Text that looks like a formula must stay text (spreadsheet injection).
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            return "'" + value
        return value
    return str(value)


def xlsx_response(filename: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1", *,
                  heading: Sequence[Any] = (), header_rows: Sequence[Sequence[Any]] = ()) -> Response:
    """An attachment response with the workbook; ``filename`` may be Chinese. ``heading``/``header_rows``: see
    :func:`xlsx_bytes`."""
    data = xlsx_bytes(headers, rows, title, heading=heading, header_rows=header_rows)
    response = Response(data, mimetype=XLSX_MIME)
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    return response

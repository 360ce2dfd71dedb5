"""The one set of server-rendered SVG charts (docs/architecture.md, "Toolkit": SVG, no JavaScript).

Colours come from CSS classes (``series-1`` … ``series-6``, ``track``, ``axis``)
that ``portal.css`` maps to ``--chart-1`` … ``--chart-6``: the palette lives in
one stylesheet and the Content-Security-Policy (no inline ``style``) holds.
Every chart is ``role="img"`` with a ``<title>``; each bar carries its own
``<title>`` (label: value) so screen readers and hover show the numbers.
Labels are escaped here, so callers may pass user data (unit names, options).
"""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

Number = int | float


def _open(width: float, height: float, title: str, extra_class: str = "") -> list[str]:
    classes = f"chart {extra_class}".strip()
    return [f'<svg class="{classes}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'width="{width:g}" height="{height:g}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>"]


def _text(x: float, y: float, text: object, *, size: int = 12, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{klass}>'
            f"{escape(text)}</text>")


def _rect(x: float, y: float, width: float, height: float, cls: str, tip: str | None = None) -> str:
    inner = f"<title>{escape(tip)}</title>" if tip is not None else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" class="{cls}">'
            f"{inner}</rect>")


def _length(value: Number, peak: Number, room: float, minimum: float) -> float:
    """Bar length for ``value`` on a scale where ``peak`` fills ``room``; empty for zero or less."""
    return 0 if value <= 0 or peak <= 0 else max(minimum, room * value / peak)


def bar_chart(rows: Sequence[tuple[str, Number] | tuple[str, Number, Number]], title: str, *,
              tones: tuple[int, int] = (1, 2), width: int = 320) -> Markup:
    """Horizontal bars, one per ``(label, value)``, the label above its bar and the value after it (fits 360 px).

    A row may carry a third number, a part of the value (e.g. the overdue among the open
    requests), drawn over the bar in the second colour of ``tones`` and shown as ``value/part``.
    """
    row_h, top = 34, 6
    height = top + row_h * max(1, len(rows)) + 4
    peak = max([row[1] for row in rows] + [1])
    room = width - 50
    parts = _open(width, height, title)
    for index, row in enumerate(rows):
        label, value = row[0], row[1]
        y = top + index * row_h
        bar = round(_length(value, peak, room, 2))
        tip = f"{label}: {value}" if len(row) < 3 else f"{label}: {value}/{row[2]}"
        parts.append(_text(0, y + 11, label))
        parts.append(f'<rect x="0" y="{y + 15}" width="{bar}" height="12" rx="2" class="series-{tones[0]}">'
                     f"<title>{escape(tip)}</title></rect>")
        if len(row) > 2:
            parts.append(_rect(0, y + 15, round(_length(row[2], peak, room, 2)), 12, f"series-{tones[1]}"))
        parts.append(_text(bar + 6, y + 25, value if len(row) < 3 else f"{value}/{row[2]}"))
    if not rows:
        parts.append(_text(0, 20, "—"))
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(columns: Sequence[tuple[str, Sequence[Number]]], title: str, *, series: Sequence[str] = (),
                 width: int = 340, height: int = 160) -> Markup:
    """Vertical columns per period ``(label, (value, …))``; several values stand side by side as series.

    With ``series`` names a legend is drawn on top; a single series shows each value
    above its column. Labels thin out to every other one when there are more than six.
    """
    legend = 16 if series else 0
    top, bottom, left = 18 + legend, 22, 4
    plot_h = height - top - bottom
    base = top + plot_h
    slot = (width - left * 2) / max(1, len(columns))
    count = max([len(values) for _label, values in columns] + [len(series), 1])
    bar_w = max(2.0, (slot * 0.8) / count - 1)
    peak = max([v for _label, values in columns for v in values] + [1])
    parts = _open(width, height, title)
    for index, name in enumerate(series):
        x = left + index * 120
        parts.append(f'<rect x="{x}" y="2" width="10" height="10" class="series-{index % 6 + 1}"/>')
        parts.append(_text(x + 14, 11, name, size=11))
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" class="axis"/>')
    for index, (label, values) in enumerate(columns):
        x0 = left + index * slot + (slot - (bar_w + 1) * len(values)) / 2
        for number, value in enumerate(values):
            h = _length(value, peak, plot_h, 1.0)
            x = x0 + number * (bar_w + 1)
            name = f"{series[number]} · " if number < len(series) else ""
            parts.append(_rect(x, base - h, bar_w, h, f"series-{number % 6 + 1}", f"{name}{label}: {value}"))
            if len(values) == 1:
                parts.append(_text(x + bar_w / 2, base - h - 3, value, size=9, anchor="middle"))
        if len(columns) <= 6 or index % 2 == 0:
            parts.append(_text(left + index * slot + slot / 2, height - 7, label, size=9, anchor="middle",
                               cls="muted"))
    parts.append("</svg>")
    return Markup("".join(parts))


def meter(value: Number, maximum: Number, title: str, *, tone: int = 1, width: int = 300, height: int = 14,
          decorative: bool = False) -> Markup:
    """One bar showing ``value`` out of ``maximum`` over a light track (e.g. a question's facility).

    ``tone`` picks the series colour; ``decorative`` hides it from screen readers where
    the same number stands as text beside it.
    """
    filled = _length(value, maximum, width, 0.0)
    if decorative:
        head = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
                f'width="{width}" height="{height}" aria-hidden="true">')
        parts = [head]
    else:
        parts = _open(width, height, title)
    parts.append(_rect(0, 0, width, height, "track"))
    parts.append(_rect(0, 0, filled, height, f"series-{(tone - 1) % 6 + 1}"))
    parts.append("</svg>")
    return Markup("".join(parts))

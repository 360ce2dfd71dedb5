"""Server-rendered SVG charts (presentation attributes only: the CSP forbids inline styles)."""
from __future__ import annotations

from markupsafe import Markup, escape

BAR_COLOR = "#b71c1c"
SECOND_COLOR = "#0b57d0"
TEXT_COLOR = "#1d1d1f"


def bar_chart(pairs: list[tuple[str, int]], title: str, width: int = 320) -> Markup:
    """Horizontal bars, one row per ``(label, value)``, labels above their bars (fits 360 px)."""
    row, top = 34, 6
    height = top + row * max(1, len(pairs)) + 4
    peak = max([value for _, value in pairs] + [1])
    usable = width - 50
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for index, (label, value) in enumerate(pairs):
        y = top + index * row
        bar = 0 if value <= 0 else max(2, round(usable * value / peak))
        parts.append(f'<text x="0" y="{y + 11}" font-size="12" fill="{TEXT_COLOR}">{escape(label)}</text>')
        parts.append(f'<rect x="0" y="{y + 15}" width="{bar}" height="12" rx="2" fill="{BAR_COLOR}"/>')
        parts.append(f'<text x="{bar + 6}" y="{y + 25}" font-size="12" fill="{TEXT_COLOR}">{value}</text>')
    if not pairs:
        parts.append(f'<text x="0" y="20" font-size="12" fill="{TEXT_COLOR}">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(trend: list[dict], title: str, out_label: str, back_label: str, width: int = 320) -> Markup:
    """Paired vertical bars per month: outflows started and returns."""
    height, bottom, left = 150, 24, 4
    plot = height - bottom - 18
    peak = max([max(m["outgoing"], m["returned"]) for m in trend] + [1])
    slot = (width - left) / max(1, len(trend))
    bar = max(2.0, slot / 2 - 2)
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<rect x="{left}" y="2" width="10" height="10" fill="{BAR_COLOR}"/>'
             f'<text x="{left + 14}" y="11" font-size="11" fill="{TEXT_COLOR}">{escape(out_label)}</text>',
             f'<rect x="{left + 120}" y="2" width="10" height="10" fill="{SECOND_COLOR}"/>'
             f'<text x="{left + 134}" y="11" font-size="11" fill="{TEXT_COLOR}">{escape(back_label)}</text>']
    base = height - bottom
    for index, month in enumerate(trend):
        x = left + index * slot
        for offset, key, color in ((0, "outgoing", BAR_COLOR), (bar + 1, "returned", SECOND_COLOR)):
            value = month[key]
            h = round(plot * value / peak, 1)
            parts.append(f'<rect x="{x + offset:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h}" fill="{color}">'
                         f"<title>{escape(month['month'])}: {value}</title></rect>")
        if index % 2 == 0 or len(trend) <= 6:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="9" fill="{TEXT_COLOR}">'
                         f"{escape(month['month'][2:])}</text>")
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#9aa0a6" stroke-width="1"/>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""Small server-rendered SVG bar charts (attributes only: the CSP forbids inline styles)."""
from __future__ import annotations

from markupsafe import Markup, escape


def month_label(key: int) -> str:
    """``202603`` → ``3`` (January shows the year too: ``2026-1``)."""
    year, month = divmod(key, 100)
    return f"{year}-{month}" if month == 1 else str(month)


def bar_chart(values: list[tuple[int, int]], title: str, *, width: int = 340, height: int = 160) -> Markup:
    """A bar per ``(month key, points)``; negative months show as empty bars with their value."""
    top, bottom, left = 18, 22, 4
    plot_h = height - top - bottom
    count = max(1, len(values))
    slot = (width - left * 2) / count
    bar_w = max(4.0, slot * 0.7)
    peak = max([v for _k, v in values] + [1])
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#9aa0a6" stroke-width="1"/>']
    for index, (key, value) in enumerate(values):
        x = left + index * slot + (slot - bar_w) / 2
        h = 0 if value <= 0 else max(1.0, plot_h * value / peak)
        y = top + plot_h - h
        cx = x + bar_w / 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#b71c1c">'
                     f'<title>{escape(month_label(key))}: {value}</title></rect>')
        parts.append(f'<text x="{cx:.1f}" y="{y - 3:.1f}" font-size="9" text-anchor="middle" fill="#1d1d1f">{value}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{height - 7}" font-size="9" text-anchor="middle" fill="#5f6368">'
                     f'{escape(month_label(key))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""A report as one self-contained HTML page: inline CSS, charts as inline SVG, no scripts and nothing
fetched from elsewhere, so it opens the same from a mail attachment or an air-gapped console."""
from __future__ import annotations

from html import escape
from typing import Any

from appliance.ops.reports.model import Chart, Report, Section

W, H = 640, 260           # chart size
L, R, T, B = 56, 16, 28, 56  # margins: left axis labels, right, title, bottom labels
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px;border-bottom:1px solid #ccc}
p.meta{color:#555;margin:2px 0}table{border-collapse:collapse;margin:6px 0;font-size:12px}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef}
td.met{background:#dfd}td.missed{background:#fdd}.note{color:#555;font-size:12px}
svg.chart{display:block;margin:8px 0;background:#fcfcfc;border:1px solid #ddd}
"""


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.2f}"


def _scale(values: list[float], limit: float | None) -> tuple[float, float]:
    vals = values + ([limit] if limit is not None else [])
    top = max(vals, default=1.0) or 1.0
    bottom = min(0.0, min(vals, default=0.0))
    if limit is not None and bottom == 0 and min(values, default=0) > 0.9 * limit:
        bottom = min(min(values), limit) - (top - min(min(values), limit)) * 0.5 - 0.001  # zoom near the limit
    return bottom, top if top > bottom else bottom + 1


def chart_svg(chart: Chart) -> str:
    pw, ph = W - L - R, H - T - B
    values = [v for series in chart.series.values() for v in series]
    lo, hi = _scale(values, chart.limit)
    y = lambda v: T + ph - (v - lo) / (hi - lo) * ph  # noqa: E731
    n = max(1, len(chart.labels))
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(chart.title)}">',
             f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="13">{escape(chart.title)}</text>',
             f'<line x1="{L}" y1="{T + ph}" x2="{L + pw}" y2="{T + ph}" stroke="#333"/>',
             f'<line x1="{L}" y1="{T}" x2="{L}" y2="{T + ph}" stroke="#333"/>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(f'<text x="{L - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{_num(v)}</text>')
        parts.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{L + pw}" y2="{y(v):.1f}" stroke="#eee"/>')
    step = max(1, n // 16)
    for i, label in enumerate(chart.labels):
        if i % step == 0:
            x = L + (i + 0.5) * pw / n
            parts.append(f'<text x="{x:.1f}" y="{T + ph + 14}" font-size="10" text-anchor="end" '
                         f'transform="rotate(-35 {x:.1f} {T + ph + 14})">{escape(label)}</text>')
    if chart.kind == "bar":
        series = list(chart.series.items())
        width = pw / n / max(1, len(series)) * 0.8
        for s_i, (name, vals) in enumerate(series):
            for i, v in enumerate(vals):
                x = L + i * pw / n + pw / n * 0.1 + s_i * width
                top = y(max(v, lo))
                parts.append(f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{max(width, 1):.1f}" '
                             f'height="{max(T + ph - top, 1):.1f}" fill="{COLOURS[s_i % len(COLOURS)]}">'
                             f'<title>{escape(chart.labels[i])}: {_num(v)} {escape(chart.unit)}</title></rect>')
    else:
        for s_i, (name, vals) in enumerate(chart.series.items()):
            points = " ".join(f"{L + (i + 0.5) * pw / n:.1f},{y(v):.1f}" for i, v in enumerate(vals))
            colour = COLOURS[s_i % len(COLOURS)]
            parts.append(f'<polyline class="series" points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts.append(f'<text x="{L + 8 + 150 * s_i}" y="{H - 6}" font-size="11" fill="{colour}">{escape(name)}</text>')
    if chart.limit is not None:
        parts.append(f'<line class="limit" x1="{L}" y1="{y(chart.limit):.1f}" x2="{L + pw}" y2="{y(chart.limit):.1f}" '
                     f'stroke="#d62728" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{L + pw}" y="{y(chart.limit) - 4:.1f}" text-anchor="end" font-size="10" '
                     f'fill="#d62728">commitment {_num(chart.limit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: Any, column: str) -> str:
    text = "" if value is None else str(value)
    cls = f' class="{text}"' if column in ("status", "prior status") and text in ("met", "missed") else ""
    return f"<td{cls}>{escape(text)}</td>"


def section_html(s: Section) -> str:
    out = [f'<section id="{escape(s.id)}"><h2>{escape(s.id)} {escape(s.title)}</h2>']
    if s.chart is not None:
        out.append(chart_svg(s.chart))
    if s.rows:
        out.append("<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in s.columns) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(_cell(v, c) for v, c in zip(row, s.columns)) + "</tr>" for row in s.rows]
        out.append("</tbody></table>")
    else:
        out.append('<p class="note">None.</p>')
    if s.note:
        out.append(f'<p class="note">{escape(s.note)}</p>')
    if s.source:
        out.append(f'<p class="note">Source: {escape(s.source)}</p>')
    out.append("</section>")
    return "\n".join(out)


def render_html(report: Report) -> str:
    body = "\n".join(section_html(s) for s in report.sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(report.title)} {escape(report.period)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{escape(report.title)}</h1><p class=\"meta\">Period {escape(report.period)} "
            f"({escape(report.period_text)}), compared with {escape(report.compared_with)}</p>"
            f"<p class=\"meta\">Generated {escape(report.generated)}; all times GMT</p>\n{body}\n</body></html>\n")

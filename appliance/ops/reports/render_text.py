"""A report as plain text (fixed-width tables, GMT times) for the console and for mail."""
from __future__ import annotations

from typing import Any

from appliance.ops.reports.model import Report, Section

MAX_CELL = 60


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[_cell(c) for c in columns]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in cells) for i in range(len(columns))]
    fmt = lambda r: "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(cells[0]), "  ".join("-" * w for w in widths), *(fmt(r) for r in cells[1:])]


def section_text(s: Section) -> list[str]:
    out = [f"{s.id}  {s.title}", "=" * min(100, len(s.id) + 2 + len(s.title))]
    if s.rows:
        out += table(s.columns, s.rows)
    else:
        out.append("(none)")
    if s.note:
        out.append(f"note: {s.note}")
    if s.source:
        out.append(f"source: {s.source}")
    return out


def render_text(report: Report) -> str:
    out = [report.title, f"period {report.period} ({report.period_text}); compared with {report.compared_with}",
           f"generated {report.generated}", ""]
    for s in report.sections:
        out += section_text(s) + [""]
    return "\n".join(out)

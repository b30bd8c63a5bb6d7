"""A report as CSV: one block per section (a `#` line naming it, the header row, the rows), blank
lines between blocks, so a spreadsheet or `grep` finds each table."""
from __future__ import annotations

import csv
import io

from appliance.ops.reports.model import Report


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"# {report.title}", report.period, report.period_text, f"generated {report.generated}"])
    for s in report.sections:
        buf.write("\n")
        w.writerow([f"# {s.id}", s.title, s.note])
        w.writerow(s.columns)
        for row in s.rows:
            w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()

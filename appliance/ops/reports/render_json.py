"""A report as JSON (the same data the other renderers print)."""
from __future__ import annotations

import json

from appliance.ops.reports.model import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=1, sort_keys=False)

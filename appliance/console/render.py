"""Plain-text forms of the node's answers: aligned tables for lists, `name: value` lines for records.
Nothing here knows a command; the command modules pick the columns."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]], empty: str = "no data matched"
          ) -> str:
    """`columns` are (key, heading) pairs."""
    body = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    if not body:
        return empty
    heads = [head for _, head in columns]
    widths = [max(len(x) for x in col) for col in zip(heads, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(lines)


def record(data: Mapping[str, Any], keys: Sequence[str] | None = None, indent: str = "") -> str:
    names = [k for k in (keys or list(data)) if k in data]
    width = max((len(k) for k in names), default=0)
    return "\n".join(f"{indent}{k.replace('_', ' ').ljust(width)}  {cell(data[k])}" for k in names)

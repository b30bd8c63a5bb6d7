"""`npac notice list`: the notices sent to the NPAC's users about the service itself (unscheduled
unavailability, service restored, switchback: Exhibit G SLR 22/23, contract 12.5, RN10-4)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from appliance.console.render import table
from appliance.console.verbs import group, verb

COLUMNS = (("time", "TIME"), ("kind", "KIND"), ("delivered", "DELIVERED"), ("confirmed", "CONFIRMED"), ("text", "TEXT"))


def when(ms: Any) -> str | None:
    if not isinstance(ms, (int, float)):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in notices:
        delivered = n.get("delivered") or []
        out.append({"time": when(n.get("time_ms")), "kind": n.get("kind"), "delivered": len(delivered),
                    "confirmed": sum(1 for d in delivered if d.get("confirmed")), "text": n.get("text")})
    return out


def register(sub: Any) -> None:
    g = group(sub, "notice", "notices sent to the users about the NPAC service")
    p = verb(g, "list", "notice.list", "the latest notices, oldest first", lambda a: {"limit": a.limit},
             lambda r: table(rows(r), COLUMNS, empty="no notices sent"))
    p.add_argument("--limit", type=int, default=50, help="how many (1..1000, default 50)")

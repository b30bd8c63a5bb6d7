"""`npac calendar show|set`: the Business Day calendar the SLR and ticket deadlines count in
(holidays, time zone, business hours)."""
from __future__ import annotations

from textwrap import indent
from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import UsageError, group, verb


def _show(r: dict[str, Any]) -> str:
    head = record({k: v for k, v in r.items() if k not in ("dates", "holidays")})
    dates = r.get("dates")
    if dates is None:
        rules = [{"name": k, "rule": v} for k, v in (r.get("holidays") or {}).items()]
        return "\n".join([head, indent(table(rules, (("name", "HOLIDAY"), ("rule", "RULE")), empty="no holidays"), "  ")])
    return "\n".join([head, indent(table(dates, (("date", "DATE"), ("weekday", "DAY"), ("name", "HOLIDAY")),
                                         empty="no holidays"), "  ")])


def _holidays(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, rule = pair.partition("=")
        if not sep or not name.strip() or not rule.strip():
            raise UsageError(f"--holiday {pair!r} must be NAME=RULE")
        out[name.strip()] = rule.strip()
    return out


def register(sub: Any) -> None:
    g = group(sub, "calendar", "the Business Day calendar (holidays, time zone, business hours)")
    p = verb(g, "show", "calendar.show", "the calendar and a year's holidays", lambda a: {"year": a.year}, _show)
    p.add_argument("--year", type=int, help="default this year")
    p = verb(g, "set", "calendar.set", "change the holidays, time zone or business hours (administrators)",
             lambda a: {"holidays": _holidays(a.holiday), "timezone": a.timezone, "opens": a.opens,
                        "closes": a.closes}, _show)
    p.add_argument("--holiday", action="append", metavar="NAME=RULE",
                   help="the full holiday list, one per option (replaces the current list)")
    p.add_argument("--timezone", help="e.g. America/Denver")
    p.add_argument("--opens", metavar="HH:MM")
    p.add_argument("--closes", metavar="HH:MM")

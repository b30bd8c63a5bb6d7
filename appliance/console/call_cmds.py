"""`npac call OP [name=value ...]`: any operator command the node serves, by its op name, for the
groups this console has no verbs for yet. Values are JSON when they parse as JSON (numbers, true,
lists), text otherwise; the answer is printed as JSON."""
from __future__ import annotations

import argparse
import json
from typing import Any

from appliance.console.verbs import UsageError, verb


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise UsageError(f"argument {pair!r} must be name=value")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def _build(a: argparse.Namespace) -> dict[str, Any]:
    return parse_pairs(a.pairs)


def register(sub: Any) -> None:
    p = verb(sub, "call", "", "run any node command by its op name (answer as JSON)", _build,
             lambda r: json.dumps(r, indent=2, sort_keys=True), timeout=120)
    p.add_argument("call_op", metavar="OP", help="e.g. ticket.list, outage.add")
    p.add_argument("pairs", metavar="NAME=VALUE", nargs="*")

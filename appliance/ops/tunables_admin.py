"""The NPAC SMS tunables (FRS Appendix C, DECISIONS table): listed with their values, defaults, units
and valid ranges, and changed by NPAC personnel within those ranges. A change is one writer
transaction (journaled, so the DR node runs with the same values); timers read the tunables when they
are next scheduled."""
from __future__ import annotations

from typing import Any

from appliance.npac.persist import load_tunables, save_tunables
from appliance.npac.tunables import SPEC, SPECS, Tunables
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.store.store import Tx

_BY_VARIABLE = {s.variable.lower(): s.name for s in SPECS}


def _name(value: Any) -> str:
    raw = str(arg.required(value, "tunable name"))
    key = raw.replace("-", "_")
    if key in SPEC:
        return key
    if raw.lower() in _BY_VARIABLE:
        return _BY_VARIABLE[raw.lower()]
    raise CommandError(f"unknown tunable {raw!r}; `npac tunable list` shows the names")


def _row(name: str, current: Tunables) -> dict[str, Any]:
    spec = SPEC[name]
    return {"name": name, "variable": spec.variable, "value": getattr(current, name), "default": spec.default,
            "unit": str(spec.unit), "low": spec.low, "high": spec.high, "cite": spec.cite}


async def tunable_list(ctx: Any, session: Any) -> list[dict[str, Any]]:
    current = load_tunables(ctx.store)
    return [_row(s.name, current) for s in SPECS]


async def tunable_set(ctx: Any, session: Any, name: Any = None, value: Any = None) -> dict[str, Any]:
    key = _name(name)
    spec = SPEC[key]
    number = arg.integer(value, f"{key} ({spec.unit})", spec.low, spec.high)

    def change(tx: Tx) -> Tunables:
        updated = Tunables(**{**load_tunables(tx).as_mapping(), key: number})
        save_tunables(tx, updated)
        return updated
    return _row(key, await ctx.services.writer.run(f"tunable {key} = {number}", change))


def commands() -> list[Command]:
    return [
        Command("tunable.list", tunable_list, "read", "NPAC SMS tunables (App. C)"),
        Command("tunable.set", tunable_set, "administer", "change a tunable within its range"),
    ]

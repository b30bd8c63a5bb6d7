"""NPA-NXX and LRN administration by NPAC personnel (FRS R3-3, R3-9, RR3-2, RR4-3, RP3-3; IIS flows
6.3.8.x, 6.3.9.x). The network-data service does the change: ownership, duplicates and "no delete
while a live subscription version uses it" are its guards, and the LSMSs taking network data get the
M-CREATE / M-DELETE after the commit."""
from __future__ import annotations

from typing import Any

from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.ops.npac_parts import network, refused_as_one_line
from appliance.store.network import LRNS, NPA_NXX


def _npa_nxx_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["npa_nxx_id"], "npa_nxx": row["value"], "sp_id": row["sp_id"],
            "effective": arg.iso(row["effective_ms"]), "created": arg.iso(row["creation_ms"]),
            "ported": bool(row["ported"]), "split_to": row["split_new_npa_nxx"],
            "split_ends": arg.iso(row["split_disconnect_ms"])}


def _lrn_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["lrn_id"], "lrn": row["value"], "sp_id": row["sp_id"], "created": arg.iso(row["creation_ms"])}


async def npanxx_list(ctx: Any, session: Any, sp_id: Any = None) -> list[dict[str, Any]]:
    store = ctx.store
    rows = NPA_NXX.of_sp(store, arg.sp_id(sp_id)) if sp_id else NPA_NXX.all(store)
    return [_npa_nxx_row(r) for r in sorted(rows, key=lambda r: r["value"])]


async def npanxx_create(ctx: Any, session: Any, sp_id: Any = None, npa_nxx: Any = None, effective: Any = None
                        ) -> dict[str, Any]:
    """R3-3: a new portable NPA-NXX for an SP, effective now unless a later date is given (Table 3-5)."""
    sp, value = arg.sp_id(sp_id), arg.npa_nxx(npa_nxx)
    when = arg.when_ms(effective, "effective date") if effective else ctx.clock_ms()
    row = await refused_as_one_line(network(ctx).create_npa_nxx(sp, value, when))
    return _npa_nxx_row(row)


async def npanxx_delete(ctx: Any, session: Any, npa_nxx: Any = None) -> dict[str, Any]:
    """RR4-3: only while no live subscription version uses it."""
    value = arg.npa_nxx(npa_nxx)
    row = NPA_NXX.by_value(ctx.store, value)
    if row is None:
        raise CommandError(f"no NPA-NXX {value}")
    return _npa_nxx_row(await refused_as_one_line(network(ctx).delete_npa_nxx(row["npa_nxx_id"])))


async def lrn_list(ctx: Any, session: Any, sp_id: Any = None) -> list[dict[str, Any]]:
    store = ctx.store
    rows = LRNS.of_sp(store, arg.sp_id(sp_id)) if sp_id else LRNS.all(store)
    return [_lrn_row(r) for r in sorted(rows, key=lambda r: r["value"])]


async def lrn_create(ctx: Any, session: Any, sp_id: Any = None, lrn: Any = None) -> dict[str, Any]:
    sp, value = arg.sp_id(sp_id), arg.lrn(lrn)
    return _lrn_row(await refused_as_one_line(network(ctx).create_lrn(sp, value)))


async def lrn_delete(ctx: Any, session: Any, lrn: Any = None) -> dict[str, Any]:
    """RR4-1, RP3-3.2: only while no live subscription version routes to it."""
    value = arg.lrn(lrn)
    row = LRNS.by_value(ctx.store, value)
    if row is None:
        raise CommandError(f"no LRN {value} (Exhibit K 5010)")
    return _lrn_row(await refused_as_one_line(network(ctx).delete_lrn(row["lrn_id"])))


def commands() -> list[Command]:
    return [
        Command("npanxx.list", npanxx_list, "read", "portable NPA-NXXs"),
        Command("npanxx.create", npanxx_create, "operate", "open an NPA-NXX for porting (R3-3)"),
        Command("npanxx.delete", npanxx_delete, "operate", "remove an NPA-NXX (RR4-3)"),
        Command("lrn.list", lrn_list, "read", "LRNs"),
        Command("lrn.create", lrn_create, "operate", "add an LRN for an SP"),
        Command("lrn.delete", lrn_delete, "operate", "remove an LRN (RR4-1)"),
    ]

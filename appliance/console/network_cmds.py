"""`npac npanxx ...` and `npac lrn ...`: network data (FRS R3-3, RR4-1..RR4-3)."""
from __future__ import annotations

from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import group, verb

NPA_NXX_COLUMNS = (("npa_nxx", "NPA-NXX"), ("sp_id", "SP"), ("id", "ID"), ("effective", "EFFECTIVE"),
                   ("ported", "PORTED"), ("split_to", "SPLIT-TO"), ("split_ends", "PDP-END"))
LRN_COLUMNS = (("lrn", "LRN"), ("sp_id", "SP"), ("id", "ID"), ("created", "CREATED"))


def register(sub: Any) -> None:
    g = group(sub, "npanxx", "portable NPA-NXXs")
    p = verb(g, "list", "npanxx.list", "list NPA-NXXs", lambda a: {"sp_id": a.sp}, lambda r: table(r, NPA_NXX_COLUMNS))
    p.add_argument("--sp")
    p = verb(g, "create", "npanxx.create", "open an NPA-NXX for an SP (R3-3)",
             lambda a: {"sp_id": a.sp_id, "npa_nxx": a.npa_nxx, "effective": a.effective},
             lambda r: f"NPA-NXX {r['npa_nxx']} created for {r['sp_id']}\n" + record(r, ["id", "effective"]))
    p.add_argument("sp_id", metavar="SP")
    p.add_argument("npa_nxx", metavar="NPA-NXX")
    p.add_argument("--effective", metavar="TIME", help="GMT, YYYYMMDDhhmmss or ISO (default: now)")
    p = verb(g, "delete", "npanxx.delete", "remove an NPA-NXX (RR4-3)", lambda a: {"npa_nxx": a.npa_nxx},
             lambda r: f"NPA-NXX {r['npa_nxx']} of {r['sp_id']} deleted")
    p.add_argument("npa_nxx", metavar="NPA-NXX")

    g = group(sub, "lrn", "location routing numbers")
    p = verb(g, "list", "lrn.list", "list LRNs", lambda a: {"sp_id": a.sp}, lambda r: table(r, LRN_COLUMNS))
    p.add_argument("--sp")
    p = verb(g, "create", "lrn.create", "add an LRN for an SP", lambda a: {"sp_id": a.sp_id, "lrn": a.lrn},
             lambda r: f"LRN {r['lrn']} created for {r['sp_id']} (id {r['id']})")
    p.add_argument("sp_id", metavar="SP")
    p.add_argument("lrn", metavar="LRN")
    p = verb(g, "delete", "lrn.delete", "remove an LRN (RR4-1)", lambda a: {"lrn": a.lrn},
             lambda r: f"LRN {r['lrn']} of {r['sp_id']} deleted")
    p.add_argument("lrn", metavar="LRN")

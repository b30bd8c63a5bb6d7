"""`npac sv ...`: subscription versions (FRS R4-24..R4-30, R5-43, R5-70, RR5-38)."""
from __future__ import annotations

from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import group, verb

COLUMNS = (("version_id", "VERSION"), ("tn", "TN"), ("status", "STATUS"), ("old_sp", "OLD"), ("new_sp", "NEW"),
           ("lrn", "LRN"), ("activation", "ACTIVATED"))


def _query(a: Any) -> dict[str, Any]:
    start, _, stop = (a.range or "").partition("-")
    return {"tn": a.tn, "tn_start": start or None, "tn_stop": stop or (start or None), "status": a.status,
            "sp_id": a.sp, "lrn": a.lrn, "npa_nxx": a.npa_nxx}


def _after(action: str) -> Any:
    return lambda r: f"version {r['version_id']} ({r['tn']}) {action}: now {r['status']}"


def register(sub: Any) -> None:
    g = group(sub, "sv", "subscription versions")
    p = verb(g, "query", "sv.query", "find versions of any status (R4-29)", _query,
             lambda r: table(r["versions"], COLUMNS))
    p.add_argument("--tn")
    p.add_argument("--range", metavar="FIRST-LAST", help="TN range, e.g. 3035550000-3035550099")
    p.add_argument("--status", help="comma-separated: active,pending,conflict,partial-failure,...")
    p.add_argument("--sp", help="old or new SP")
    p.add_argument("--lrn")
    p.add_argument("--npa-nxx")
    p = verb(g, "show", "sv.show", "one version", lambda a: {"version_id": a.version_id}, lambda r: record(r))
    p.add_argument("version_id", metavar="VERSION")
    for name, op, help, action in (("conflict", "sv.conflict", "put into conflict (R5-43)", "set to conflict"),
                                   ("resolve", "sv.resolve", "ask for conflict resolution (R5-46)", "resolution asked"),
                                   ("cancel", "sv.cancel", "cancel (R5-70)", "canceled")):
        p = verb(g, name, op, help, lambda a: {"version_id": a.version_id}, _after(action))
        p.add_argument("version_id", metavar="VERSION")
    p = verb(g, "resend", "sv.resend", "resend to the failed LSMSs (RR5-38)",
             lambda a: {"version_id": a.version_id, "lsms": a.lsms}, _after("resent"))
    p.add_argument("version_id", metavar="VERSION")
    p.add_argument("--lsms", help="comma-separated failed LSMSs (default: all that failed)")

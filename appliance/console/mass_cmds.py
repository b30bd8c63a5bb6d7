"""`npac npa split` and `npac massupdate run` (flows 6.6.1, 6.7)."""
from __future__ import annotations

from typing import Any

from appliance.console.verbs import group, verb


def _outcome(r: Any) -> str:
    failed = ", ".join(r["lsms_failed"]) or "none"
    return (f"{len(r['versions'])} versions updated; LSMSs told: {', '.join(r['lsms_ok']) or 'none'}; "
            f"failed: {failed}")


def _split(r: Any) -> str:
    lines = [f"{s['from']} -> {s['to']}: {len(s['versions'])} versions; LSMS failed: {', '.join(s['lsms_failed']) or 'none'}"
             for s in r["splits"]]
    return "\n".join(lines + [f"permissive dialing {r['pdp_start']} .. {r['pdp_end']}"])


def register(sub: Any) -> None:
    g = group(sub, "npa", "NPA splits")
    p = verb(g, "split", "npa.split", "split NPA-NXXs to a new NPA (flow 6.6.1)",
             lambda a: {"npa": a.npa, "new_npa": a.new_npa, "nxx_start": a.nxx_start, "nxx_end": a.nxx_end,
                        "pdp_start": a.pdp_start, "pdp_end": a.pdp_end}, _split, timeout=120)
    p.add_argument("npa", metavar="NPA")
    p.add_argument("new_npa", metavar="NEW-NPA")
    p.add_argument("--nxx-start", required=True)
    p.add_argument("--nxx-end", required=True)
    p.add_argument("--pdp-start", required=True, metavar="TIME", help="start of permissive dialing (GMT)")
    p.add_argument("--pdp-end", required=True, metavar="TIME", help="end of permissive dialing (GMT)")

    g = group(sub, "massupdate", "mass updates of subscription versions")
    p = verb(g, "run", "massupdate.run", "set fields on an SP's versions in a TN range (R3-7)",
             lambda a: {"sp_id": a.sp_id, "tn_start": a.first, "tn_stop": a.last, "changes": a.changes},
             _outcome, timeout=120)
    p.add_argument("sp_id", metavar="SP")
    p.add_argument("first", metavar="FIRST-TN")
    p.add_argument("last", metavar="LAST-TN")
    p.add_argument("changes", metavar="FIELD=VALUE", nargs="+", help="lrn, class_dpc, class_ssn, ...")

"""`npac bulk download`: Exhibit K bulk data download files."""
from __future__ import annotations

import os
from typing import Any

from appliance.console.render import table
from appliance.console.verbs import group, verb

KINDS = ("subscriptions", "sp", "npanxx", "lrn", "network", "all")


def _build(a: Any) -> dict[str, Any]:
    first, _, last = (a.npa_nxx or "").partition("-")
    return {"kind": a.kind, "sp_id": a.sp, "start": a.start, "stop": a.stop, "npa_nxx_start": first or None,
            "npa_nxx_end": last or None, "directory": os.path.abspath(a.out) if a.out else None}


def register(sub: Any) -> None:
    g = group(sub, "bulk", "bulk data download files (Exhibit K)")
    p = verb(g, "download", "bulk.download", "write pipe-delimited download files", _build,
             lambda r: table(r["files"], (("path", "FILE"), ("kind", "KIND"), ("records", "RECORDS"))), timeout=300)
    p.add_argument("kind", choices=KINDS, nargs="?", default="all")
    p.add_argument("--sp", help="one service provider")
    p.add_argument("--start", metavar="TIME", help="from (activation / creation time, GMT)")
    p.add_argument("--stop", metavar="TIME", help="until (GMT)")
    p.add_argument("--npa-nxx", metavar="FIRST[-LAST]", help="NPA-NXX or range, e.g. 303555-303599")
    p.add_argument("--out", metavar="DIR", help="directory on the node (default <data_dir>/bulk)")

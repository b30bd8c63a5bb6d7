"""Usage per NPAC customer for billing (Exhibit E Schedule 1 elements, restated L100215-100255; the
Exhibit K service element usage export, Table 8 L95402-95656).

Counted by the meters over the period: TN porting events (activations), SV transactions by subtype,
audits, mechanized interface associations, and whatever else was reported to them (log-on IDs,
ad hoc reports, bulk data downloads, VPOP access); storage (SVs, LRNs, NPA-NXXs held) is read from
the store as it stands when the report is made; bulk data downloads from the security audit log
(every console change is recorded there with its arguments); SP-scoped reports run at the console
count as report generation for that SP.
"""
from __future__ import annotations

from typing import Any

from appliance.npac.model import Status
from appliance.ops import meter_records as mr
from appliance.ops.reports.model import Chart, Section


def usage_rows(aggs: dict[tuple[str, str], mr.Aggregate], sp: str | None = None) -> list[list[Any]]:
    rows = []
    for (kind, party), agg in aggs.items():
        if kind != mr.USAGE:
            continue
        customer, element, subtype = (party.split("|") + ["", ""])[:3]
        if sp and customer != sp:
            continue
        rows.append([customer, element, subtype, agg.count])
    return sorted(rows)


def storage_rows(store: Any, sp: str | None = None) -> list[list[Any]]:
    out = []
    live = [s.value for s in Status if s not in (Status.OLD, Status.CANCELED)]
    queries = (
        ("SV", "SELECT new_sp, count(*) FROM subscription_versions "
               f"WHERE status IN ({','.join('?' * len(live))}) GROUP BY new_sp", live),
        ("LRN", "SELECT sp_id, count(*) FROM lrn GROUP BY sp_id", []),
        ("NPA-NXX", "SELECT sp_id, count(*) FROM npa_nxx GROUP BY sp_id", []),
    )
    for subtype, sql, params in queries:
        for customer, n in store.db.execute(sql, params).fetchall():
            if not sp or customer == sp:
                out.append([customer, "Storage", subtype, n])
    return sorted(out)


def bulk_download_rows(security: list[dict[str, Any]], sp: str | None = None) -> list[list[Any]]:
    """Bulk data downloads made for an SP at the console (Amendment 39 L97265), from the audit log."""
    counts: dict[str, int] = {}
    for rec in security:
        if rec.get("event") == "operator-action" and rec.get("command") == "bulk.download":
            customer = str((rec.get("arguments") or {}).get("sp_id") or "all")
            counts[customer] = counts.get(customer, 0) + 1
    return [[c, "Bulk Data Download", "", n] for c, n in sorted(counts.items()) if not sp or c == sp]


def usage_section(store: Any, aggs: dict[tuple[str, str], mr.Aggregate], sp: str | None = None,
                  security: list[dict[str, Any]] | None = None) -> Section:
    rows = usage_rows(aggs, sp) + storage_rows(store, sp) + bulk_download_rows(security or [], sp)
    customers = sorted({r[0] for r in rows})
    porting = {c: sum(r[3] for r in rows if r[0] == c and r[1] == "TN Porting Event") for c in customers}
    chart = Chart("bar", "TN porting events per customer", customers, {"TN porting events": [porting[c] for c in customers]},
                  unit="events") if customers else None
    return Section("usage", "Usage per User for billing", ["NPAC customer", "service element", "subtype", "quantity"],
                   sorted(rows), note="storage: held when the report was made",
                   source="Exhibit E Schedule 1 (L85972, L100215); Exhibit K Table 8 (L95402)", chart=chart)

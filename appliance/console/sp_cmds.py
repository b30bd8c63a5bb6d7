"""`npac sp ...`: service providers (FRS §4) and their Exhibit A certification."""
from __future__ import annotations

from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import group, verb

SYSTEM_TYPES = ("soa", "local-sms", "soa-and-local-sms")
STEPS = ("connectivity", "keys", "association", "turn-up", "sp-to-sp")
LIST_COLUMNS = (("sp_id", "SP"), ("name", "NAME"), ("system_type", "TYPE"), ("functions", "FUNCTIONS"),
                ("download_network_data", "NET-DL"), ("certified", "CERTIFIED"), ("deleted", "DELETED"))


def _fields(a: Any) -> dict[str, Any]:
    return {"sp_id": a.sp_id, "name": a.name, "system_type": a.type, "functions": a.functions,
            "download_network_data": a.download, "customer_type": a.customer_type, "max_query": a.max_query,
            "contacts": a.contact, "addresses": a.address}


def _show(result: Any) -> str:
    lines = [record(result, ["sp_id", "name", "system_type", "functions", "download_network_data",
                             "customer_type", "max_query", "created", "modified", "deleted", "npa_nxx", "lrn",
                             "live_versions", "certified"])]
    for c in result.get("contacts", []):
        lines.append(f"contact      {c['type']} {c['name']} {c['phone']} {c.get('email', '')}".rstrip())
    for a in result.get("network_addresses", []):
        lines.append(f"address      {a}")
    steps = result.get("certification", {})
    lines.append("certification " + "  ".join(f"{s}={steps.get(s) or '-'}" for s in STEPS))
    return "\n".join(lines)


def _changed(verb_name: str) -> Any:
    return lambda r: f"service provider {r['sp_id']} {verb_name}\n" + record(r, ["name", "system_type", "functions",
                                                                             "download_network_data", "deleted"])


def _edit_arguments(p: Any, create: bool) -> None:
    p.add_argument("sp_id", metavar="SP")
    p.add_argument("--name", required=create)
    p.add_argument("--type", choices=SYSTEM_TYPES, required=create, help="system type")
    p.add_argument("--functions", help="allowable functions, comma-separated (default: from the type)")
    p.add_argument("--download", choices=("yes", "no"), help="download indicator for network data (RR3-1)")
    p.add_argument("--customer-type", required=create, help="NPAC customer type (R4-8 item 2)")
    p.add_argument("--max-query", type=int, help="SP maximum query (R4-8 item 10)")
    p.add_argument("--contact", action="append", metavar="TYPE:NAME:PHONE[:EMAIL]",
                   help="Table 3-2 contact; NC and SE are required")
    p.add_argument("--address", action="append", metavar="S|L:TSAP:SSAP:PSAP[:NSAP]",
                   help="Table 3-3 network address (hex selectors)")


def register(sub: Any) -> None:
    g = group(sub, "sp", "service providers (FRS §4)")
    p = verb(g, "list", "sp.list", "list service providers", lambda a: {"all": a.all},
             lambda r: table(r, LIST_COLUMNS))
    p.add_argument("--all", action="store_true", help="include deleted ones (history)")
    p = verb(g, "show", "sp.show", "one service provider", lambda a: {"sp_id": a.sp_id}, _show)
    p.add_argument("sp_id", metavar="SP")
    _edit_arguments(verb(g, "create", "sp.create", "create a service provider (R4-1)", _fields, _changed("created")),
                    True)
    _edit_arguments(verb(g, "modify", "sp.modify", "change a service provider (R4-13)", _fields,
                         _changed("modified")), False)
    p = verb(g, "delete", "sp.delete", "delete a service provider (R4-20)", lambda a: {"sp_id": a.sp_id},
             _changed("deleted"))
    p.add_argument("sp_id", metavar="SP")
    p = verb(g, "certify", "sp.certify", "record an Exhibit A turn-up step",
             lambda a: {"sp_id": a.sp_id, "step": a.step, "clear": a.clear},
             lambda r: "  ".join(f"{s}={r['steps'].get(s) or '-'}" for s in STEPS)
             + f"\ncertified: {'yes' if r['certified'] else 'no'}")
    p.add_argument("sp_id", metavar="SP")
    p.add_argument("step", choices=STEPS)
    p.add_argument("--clear", action="store_true", help="withdraw the step")

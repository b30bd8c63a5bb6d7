"""`npac outage ...`: planned outages (production-support seed 000 §12.1, Exhibit G SLR 2 and SLR 21).

`create` records the outage and sends its lnpNPAC-SMS-Operational-Information to every associated
LSMS, then every SOA; the node checks the notice fields and the lead time and refuses in one line."""
from __future__ import annotations

from textwrap import indent
from typing import Any

from appliance.console.render import cell, record, table
from appliance.console.verbs import group, verb

LIST_COLUMNS = (("outage", "OUTAGE"), ("state", "STATE"), ("maintenance", "MAINTENANCE"), ("interface", "INTERFACE"),
                ("start", "START"), ("stop", "STOP"), ("lead_met", "LEAD MET"))
SHOWN = ("outage_id", "state", "maintenance", "interface", "description", "impact", "start", "stop", "duration_hours",
         "workaround", "contact_name", "contact_number", "scheduled", "notice", "lead_rule", "lead_required_hours",
         "lead_met", "late_reason", "sent_within_2_days_of_scheduling", "actual_start", "actual_stop", "actual_hours",
         "cancelled", "cancel_reason", "slr2_request_by", "slr2_request_met", "slr2_report_due", "created_by")
DELIVERY_COLUMNS = (("system_id", "CARRIER"), ("role", "ROLE"), ("confirmed", "CONFIRMED"), ("at", "SENT"))
STATES = ("scheduled", "notified", "started", "completed", "cancelled")


def show(r: dict[str, Any]) -> str:
    out = [record(r, SHOWN)]
    deliveries = r.get("deliveries") or []
    out.append(f"notice deliveries: {len(deliveries)}")
    if deliveries:
        out.append(indent(table(deliveries, DELIVERY_COLUMNS), "  "))
    if r.get("cancel_deliveries"):
        out.append(f"cancellation deliveries: {len(r['cancel_deliveries'])}")
    return "\n".join(out)


def _totals(r: dict[str, Any]) -> str:
    head = (f"{r['quarter']}: routine {cell(r['routine_hours'])} h taken, {cell(r['planned_routine_hours'])} h planned, "
            f"{cell(r['remaining_hours'])} h left of {r['limit_hours']} h; non-routine {cell(r['non_routine_hours'])} h")
    flags = [f"breach ({r['excess_charged_hours']} h charged)" if r.get("breach") else "",
             "projected breach" if r.get("projected_breach") else "",
             f"events over {r['event_limit_hours']} h: {cell(r['events_over_10h'])}" if r.get("events_over_10h") else ""]
    events = indent(table(r.get("events") or [], (("outage", "OUTAGE"), ("state", "STATE"), ("maintenance", "MAINTENANCE"),
                                           ("kind", "KIND"), ("hours", "HOURS"), ("hours_in_quarter", "IN QUARTER"),
                                           ("overrun_hours", "OVERRUN")), empty="no outages in the quarter"), "  ")
    return "\n".join([head, *[f for f in flags if f], events])


def _create(a: Any) -> dict[str, Any]:
    return {"interface": a.interface, "description": a.description, "impact": a.impact, "start": a.start,
            "stop": a.stop, "workaround": a.workaround, "contact_name": a.contact_name,
            "contact_number": a.contact_number, "maintenance": a.maintenance, "scheduled_at": a.scheduled_at,
            "late_reason": a.late_reason}


def _one(p: Any) -> None:
    p.add_argument("outage", metavar="OUTAGE", type=int, help="the outage number")


def register(sub: Any) -> None:
    g = group(sub, "outage", "planned outages and their notices to the carriers (§12.1, SLR 2, SLR 21)")
    p = verb(g, "create", "outage.create", "schedule a planned outage and notify every LSMS and SOA now", _create,
             show, timeout=120)
    p.add_argument("--interface", required=True, help="the subject interface, e.g. 'SOA and LSMS CMIP'")
    p.add_argument("--description", required=True, help="the maintenance activity")
    p.add_argument("--impact", required=True, help="impact to the carriers")
    p.add_argument("--start", required=True, metavar="TIME", help="scheduled start (GMT: YYYYMMDDhhmmss or ISO ...Z)")
    p.add_argument("--stop", required=True, metavar="TIME", help="scheduled stop (GMT)")
    p.add_argument("--workaround", required=True, help="work around ('none' when there is none)")
    p.add_argument("--contact-name", required=True, help="contact for more information")
    p.add_argument("--contact-number", required=True, help="contact telephone number (10 digits)")
    p.add_argument("--maintenance", choices=("routine", "non-routine"), default="routine")
    p.add_argument("--scheduled-at", metavar="TIME", help="when the maintenance was scheduled (default now)")
    p.add_argument("--late-reason", help="send a notice that misses the SLR 21 lead time anyway, for this reason")

    p = verb(g, "list", "outage.list", "planned outages", lambda a: {"state": a.state},
             lambda r: table(r, LIST_COLUMNS, empty="no planned outages"))
    p.add_argument("--state", choices=STATES)
    _one(verb(g, "show", "outage.show", "one planned outage with its notice deliveries",
              lambda a: {"outage": a.outage}, show))
    p = verb(g, "notify", "outage.notify", "send an outage's notice again", lambda a: {"outage": a.outage}, show,
             timeout=120)
    _one(p)
    p = verb(g, "cancel", "outage.cancel", "cancel a planned outage (notified carriers are told)",
             lambda a: {"outage": a.outage, "reason": a.reason}, show, timeout=120)
    _one(p)
    p.add_argument("--reason", required=True, help="why it is cancelled")
    for name, op, help in (("start", "outage.start", "record the actual start"),
                           ("complete", "outage.complete", "record the actual end")):
        p = verb(g, name, op, help, lambda a: {"outage": a.outage, "at": a.at}, show)
        _one(p)
        p.add_argument("--at", metavar="TIME", help="when (GMT; default now)")
    p = verb(g, "totals", "outage.totals", "a quarter's scheduled unavailability against SLR 2 (20 h)",
             lambda a: {"year": a.year, "quarter": a.quarter}, _totals)
    p.add_argument("--year", type=int)
    p.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))

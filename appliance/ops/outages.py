"""Planned outages, as NPAC personnel run them from the console: a notice with every field of the
production-support seed's §12.1 (seed 000 L7-19), checked against the lead times of Exhibit G SLR 21 at
the moment it is sent, sent to every associated Local SMS and then every SOA as
lnpNPAC-SMS-Operational-Information (IIS flow 6.6, through appliance.npac.downtime), then started and
completed with the actual times, and totalled per quarter against SLR 2.

The CMIP notice has slots for the down time and a contact telephone number; the other §12.1 fields
(interface, activity, impact, work around, contact name) travel in its 255-character text, so a notice
whose text would not fit is refused rather than cut. Notices are sent when the operator creates the
outage (§12.1 L21 wants them out within 2 calendar days of the scheduling); a notice too late for
SLR 21 is refused unless the operator gives the reason it is late, which is kept as the SLR miss.
Cancelling an announced outage sends a second notice saying so: carriers planned around the first.
"""
from __future__ import annotations

import logging
from typing import Any

from appliance.npac.downtime import Delivery, DowntimeNotices
from appliance.ops.business_calendar import BusinessCalendar
from appliance.ops.calendar_settings import load_calendar
from appliance.ops.commands import Command, CommandError
from appliance.ops.outage_rules import (
    MAINTENANCE, NOTICE_AFTER_SCHEDULING_MS, NOTICE_FIELDS, OutageNotice, OutageRuleError, annex_a, check_move,
    lead_time, quarter_of, quarter_totals)
from appliance.ops.personnel_args import choice, integer, iso, text, when_ms

log = logging.getLogger("appliance.ops.outages")
TABLE = "planned_outages"
STATES = ("scheduled", "notified", "started", "completed", "cancelled")


def _user(session: Any) -> str | None:
    return getattr(session, "user_id", None)


def _downtime(ctx: Any) -> DowntimeNotices:
    for part in getattr(ctx.services, "installed", ()):
        notices = getattr(part, "downtime", None)
        if isinstance(notices, DowntimeNotices):
            return notices
    raise CommandError("this node has no LSMS side installed: outage notices cannot reach carriers")


def notice_from(args: dict[str, Any]) -> OutageNotice:
    """The §12.1 notice from console arguments; a missing field is refused by name."""
    for name, what in NOTICE_FIELDS.items():
        value = args.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CommandError(f"outage notice: {what} ({name}) is required (§12.1)")
    try:
        return OutageNotice(
            interface=text(args["interface"], "interface", 80), description=text(args["description"], "description", 200),
            impact=text(args["impact"], "impact", 200), start_ms=when_ms(args["start"], "start"),
            stop_ms=when_ms(args["stop"], "stop"), workaround=text(args["workaround"], "workaround", 200),
            contact_name=text(args["contact_name"], "contact_name", 60),
            contact_number=str(args["contact_number"]).replace("-", "").replace(" ", ""),
            maintenance=choice(args.get("maintenance") or "routine", MAINTENANCE, "maintenance"))
    except OutageRuleError as exc:
        raise CommandError(str(exc)) from None


def _notice_of(row: dict[str, Any]) -> OutageNotice:
    return OutageNotice(row["interface"], row["description"], row["impact"], row["start_ms"], row["stop_ms"],
                        row["workaround"], row["contact_name"], row["contact_number"], row["maintenance"])


def _get(ctx: Any, outage: Any) -> dict[str, Any]:
    outage_id = integer(outage, "outage", 1)
    row = ctx.store.get(TABLE, outage_id)
    if row is None:
        raise CommandError(f"no outage {outage_id}")
    return row


def view(row: dict[str, Any], cal: BusinessCalendar | None = None) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not k.endswith("_ms")}
    out.update({k[:-3]: iso(v) for k, v in row.items() if k.endswith("_ms") and k != "lead_required_ms"})
    out["lead_required_hours"] = None if row["lead_required_ms"] is None else row["lead_required_ms"] / 3_600_000
    out["duration_hours"] = round((row["stop_ms"] - row["start_ms"]) / 3_600_000, 3)
    if row["notice_ms"] is not None and row["scheduled_ms"] is not None:
        out["sent_within_2_days_of_scheduling"] = row["notice_ms"] - row["scheduled_ms"] <= NOTICE_AFTER_SCHEDULING_MS
    if row["actual_start_ms"] is not None and row["actual_stop_ms"] is not None:
        out["actual_hours"] = round((row["actual_stop_ms"] - row["actual_start_ms"]) / 3_600_000, 3)
    if cal is not None:
        paper = annex_a(row, cal)
        out["slr2_request_by"], out["slr2_request_met"] = paper["request_by"], paper["request_met"]
        out["slr2_report_due"] = iso(paper.get("report_due_ms"))
    return out


def _out(ctx: Any, row: dict[str, Any]) -> dict[str, Any]:
    return view(row, load_calendar(ctx.store))


async def _announce(ctx: Any, notice: OutageNotice, outage_id: int, prefix: str = "") -> list[dict[str, Any]]:
    entry = {"start_ms": notice.start_ms, "stop_ms": notice.stop_ms, "contact": notice.contact_number,
             "information": notice.carrier_text(outage_id, prefix)[:255]}
    deliveries: list[Delivery] = await _downtime(ctx).announce(entry)
    return [{"system_id": d.system_id, "role": d.role, "confirmed": d.confirmed} for d in deliveries]


async def _update(ctx: Any, outage_id: int, note: str, target: str, **changes: Any) -> dict[str, Any]:
    def write(tx: Any) -> dict[str, Any]:
        row = tx.get(TABLE, outage_id)
        try:
            check_move(row["state"], target, outage_id)
        except OutageRuleError as exc:
            raise CommandError(str(exc)) from None
        return tx.upsert(TABLE, {**row, **changes, "state": target, "modified_ms": tx.now_ms})
    return await ctx.services.writer.run(note, write)


# ---- commands -------------------------------------------------------------------------------------
async def create(ctx: Any, session: Any, **args: Any) -> dict[str, Any]:
    """Record the outage and send its notice now. Arguments: the §12.1 fields (interface, description,
    impact, start, stop, workaround, contact_name, contact_number), maintenance (routine | non-routine),
    scheduled_at (when the maintenance was scheduled, default now), late_reason (to send a notice
    that misses SLR 21)."""
    known = set(NOTICE_FIELDS) | {"maintenance", "scheduled_at", "late_reason"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise CommandError(f"outage.create: unknown argument {unknown[0]!r}")
    notice = notice_from(args)
    _downtime(ctx)
    now = ctx.clock_ms()
    scheduled = when_ms(args["scheduled_at"], "scheduled_at") if args.get("scheduled_at") is not None else now
    if scheduled > now:
        raise CommandError("scheduled_at is in the future")
    lead = lead_time(notice, now, load_calendar(ctx.services.store))
    late_reason = args.get("late_reason")
    if not lead.met and not late_reason:
        raise CommandError(f"outage notice is {lead.short_by_ms / 3_600_000:.1f} h short of {lead.rule}; "
                           "give late_reason to send it anyway")
    reason = None if lead.met else text(late_reason, "late_reason", 200)

    def add(tx: Any) -> dict[str, Any]:
        outage_id = tx.next_id(TABLE)
        return tx.upsert(TABLE, {
            "outage_id": outage_id, "state": "scheduled", **{k: v for k, v in notice.fields().items()},
            "scheduled_ms": scheduled, "lead_required_ms": lead.required_ms, "lead_rule": lead.rule,
            "lead_met": lead.met, "late_reason": reason,
            "created_by": _user(session), "created_ms": tx.now_ms, "modified_ms": tx.now_ms})
    row = await ctx.services.writer.run(f"planned outage {notice.interface} scheduled", add)
    return _out(ctx, await _send(ctx, row))


async def _send(ctx: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Send the notice; the first send is the one SLR 21 measures, later ones add their deliveries."""
    sent = ctx.clock_ms()
    deliveries = [{**d, "at": iso(sent)} for d in await _announce(ctx, _notice_of(row), row["outage_id"])]
    if not deliveries:
        log.warning("outage %s notice: no carrier association is open", row["outage_id"])
    first = row["notice_ms"] is None
    timing = {"notice_ms": sent, "lead_met": lead_time(_notice_of(row), sent, load_calendar(ctx.store)).met} if first else {}
    return await _update(ctx, row["outage_id"], f"planned outage {row['outage_id']} notice sent", "notified",
                         deliveries=[*row["deliveries"], *deliveries], **timing)


async def notify(ctx: Any, session: Any, outage: Any = None) -> dict[str, Any]:
    """Send the notice again (an earlier send was cut short, or carriers have associated since)."""
    row = _get(ctx, outage)
    if row["state"] not in ("scheduled", "notified"):
        raise CommandError(f"outage {row['outage_id']} is {row['state']}; its notice is no longer sent")
    return _out(ctx, await _send(ctx, row))


async def cancel(ctx: Any, session: Any, outage: Any = None, reason: Any = None) -> dict[str, Any]:
    row = _get(ctx, outage)
    why = text(reason, "reason", 200)
    try:
        check_move(row["state"], "cancelled", row["outage_id"])
    except OutageRuleError as exc:
        raise CommandError(str(exc)) from None
    deliveries = (await _announce(ctx, _notice_of(row), row["outage_id"], "CANCELLED: ")
                  if row["state"] == "notified" else [])
    return _out(ctx, await _update(ctx, row["outage_id"], f"planned outage {row['outage_id']} cancelled", "cancelled",
                              cancelled_ms=ctx.clock_ms(), cancel_reason=why, cancel_deliveries=deliveries))


async def start(ctx: Any, session: Any, outage: Any = None, at: Any = None) -> dict[str, Any]:
    row = _get(ctx, outage)
    when = when_ms(at, "at") if at is not None else ctx.clock_ms()
    return _out(ctx, await _update(ctx, row["outage_id"], f"planned outage {row['outage_id']} started", "started",
                              actual_start_ms=when))


async def complete(ctx: Any, session: Any, outage: Any = None, at: Any = None) -> dict[str, Any]:
    row = _get(ctx, outage)
    when = when_ms(at, "at") if at is not None else ctx.clock_ms()
    if row["actual_start_ms"] is not None and when < row["actual_start_ms"]:
        raise CommandError(f"outage {row['outage_id']} cannot end before it started")
    return _out(ctx, await _update(ctx, row["outage_id"], f"planned outage {row['outage_id']} completed", "completed",
                              actual_stop_ms=when))


async def show(ctx: Any, session: Any, outage: Any = None) -> dict[str, Any]:
    return _out(ctx, _get(ctx, outage))


async def list_outages(ctx: Any, session: Any, state: Any = None) -> list[dict[str, Any]]:
    if state is not None:
        rows = ctx.store.select(TABLE, "state = ?", [choice(state, STATES, "state")], order_by="start_ms")
    else:
        rows = ctx.store.select(TABLE, order_by="start_ms")
    return [{"outage": r["outage_id"], "state": r["state"], "maintenance": r["maintenance"],
             "interface": r["interface"], "start": iso(r["start_ms"]), "stop": iso(r["stop_ms"]),
             "lead_met": r["lead_met"]} for r in rows]


async def totals(ctx: Any, session: Any, year: Any = None, quarter: Any = None) -> dict[str, Any]:
    """SLR 2 for a calendar quarter (default: the current one)."""
    now = ctx.store.clock()
    this_year, this_quarter = quarter_of(now)
    y = integer(year, "year", 1970, 2999) if year is not None else this_year
    q = integer(quarter, "quarter", 1, 4) if quarter is not None else this_quarter
    return quarter_totals(ctx.store.select(TABLE, order_by="start_ms"), y, q, now)


def commands() -> list[Command]:
    return [
        Command("outage.create", create, "operate", "schedule a planned outage and notify every LSMS and SOA"),
        Command("outage.notify", notify, "operate", "send a planned outage's notice again"),
        Command("outage.cancel", cancel, "operate", "cancel a planned outage (carriers are told)"),
        Command("outage.start", start, "operate", "record a planned outage's actual start"),
        Command("outage.complete", complete, "operate", "record a planned outage's actual end"),
        Command("outage.list", list_outages, "read", "planned outages"),
        Command("outage.show", show, "read", "one planned outage with its notice and deliveries"),
        Command("outage.totals", totals, "read", "a quarter's scheduled unavailability against SLR 2"),
    ]

"""IT trouble tickets at the console (production-support seed 000 §12.3, L33-53; contract §10.2-10.3):
a ticket gets its tracking number when the trouble is first reported (L41), a Severity 1-4 (L35), a
defect class (Material / Minor, §1.26-1.27), status notices on the severity's interval, the
"Date TBD" status for Severity 3 and 4 troubles whose source is known but whose fix is unscheduled
(kept open, no more status notices, L51), one of the four disposition codes when it closes (L43-49),
and for an Outage of §10.3 (a Material Defect affecting more than one User) the root-cause reports
with their Business-Day deadlines. The rules are in appliance.ops.ticket_rules; this module keeps the
records (one writer, table trouble_tickets) and answers the console.

Responding: the first status notice after opening is taken as the identification of the defect and
the start of remedial effort that §10.2 times (1 hour Material, 2 Business Days Minor).
"""
from __future__ import annotations

from typing import Any

from appliance.ops.calendar_settings import load_calendar
from appliance.ops.commands import Command, CommandError
from appliance.ops import personnel_args as arg
from appliance.ops.personnel_args import choice, flag, integer, iso, names, sp_id, when_ms
from appliance.ops.ticket_rules import (
    DEFECTS, DISPOSITIONS, RCA_KINDS, SEVERITIES, correction_due, is_rca_outage, next_status_due,
    rca_schedule, response_due, tracking_number)
from appliance.ops.ticket_rules import overdue as late_on

TABLE = "trouble_tickets"
STATES = ("open", "date-tbd", "closed")
NPAC = "NPAC"  # a trouble the NPAC found itself (L35: "CLEC generated and Qwest generated")


def _user(session: Any) -> str | None:
    return getattr(session, "user_id", None)


def _find(ctx: Any, ticket: Any) -> dict[str, Any]:
    """A ticket by tracking number or by number."""
    if ticket is None or ticket == "":
        raise CommandError("ticket (tracking number) is required")
    store = ctx.store
    rows = store.select(TABLE, "tracking = ?", [str(ticket)])
    if not rows and str(ticket).isdigit():
        rows = [r for r in [store.get(TABLE, int(ticket))] if r]
    if not rows:
        raise CommandError(f"no trouble ticket {ticket}")
    return rows[0]


def _notice(at_ms: int, kind: str, text_: str, who: str | None, **extra: Any) -> dict[str, Any]:
    return {"at_ms": at_ms, "kind": kind, "text": text_, "by": who, **extra}


async def _change(ctx: Any, ticket_id: int, note: str, fn: Any) -> dict[str, Any]:
    def write(tx: Any) -> dict[str, Any]:
        row = tx.get(TABLE, ticket_id)
        changes = fn(row, tx.now_ms)
        return tx.upsert(TABLE, {**row, **changes, "modified_ms": tx.now_ms})
    return await ctx.services.writer.run(note, write)


def view(ctx: Any, row: dict[str, Any]) -> dict[str, Any]:
    cal, now = load_calendar(ctx.store), ctx.store.clock()
    sev = SEVERITIES[row["severity"]]
    out = {k: v for k, v in row.items() if not k.endswith("_ms") and k not in ("notices", "rca")}
    out.update({k[:-3]: iso(v) for k, v in row.items() if k.endswith("_ms")})
    out["severity_name"], out["severity_meaning"] = sev.name, sev.meaning
    out["disposition_text"] = DISPOSITIONS.get(row["disposition"] or "")
    out["notices"] = [{**{k: v for k, v in n.items() if k != "at_ms"}, "at": iso(n["at_ms"])} for n in row["notices"]]
    out["response_due"] = iso(response_due(row, cal))
    out["next_status_due"] = iso(next_status_due(row, cal))
    out["correction_due"] = iso(correction_due(row))
    out["root_cause_outage"] = is_rca_outage(row)  # §10.3 "Outage": root-cause reports owed
    if out["root_cause_outage"]:
        out["root_cause_reports"] = [
            {"kind": r.kind, "due": iso(r.due_ms), "delivered": iso(r.delivered_ms), "earliest": iso(r.earliest_ms),
             "overdue": r.overdue(now)} for r in rca_schedule(row["detected_ms"], row["rca"] or {}, now, cal)]
    out["overdue"] = late_on(row, now, cal)
    return out


# ---- commands -------------------------------------------------------------------------------------
async def open_ticket(ctx: Any, session: Any, reporter: Any = None, severity: Any = None, summary: Any = None,
                      description: Any = None, interface: Any = None, affected_users: Any = None, defect: Any = None,
                      detected_at: Any = None) -> dict[str, Any]:
    """Open a ticket; the answer carries the tracking number to give the reporter (L41)."""
    if reporter is None or reporter == "":
        raise CommandError("trouble ticket: reporter (the carrier's SP id, or NPAC) is required")
    who = NPAC if str(reporter).upper() == NPAC else sp_id(reporter, "reporter")
    if severity is None or severity == "":
        raise CommandError("trouble ticket: severity (1-4) is required (§12.3)")
    level = integer(severity, "severity", 1, 4)
    if summary is None or not str(summary).strip():
        raise CommandError("trouble ticket: summary is required")
    kind = choice(defect, DEFECTS, "defect") if defect is not None else SEVERITIES[level].defect
    users = [sp_id(u, "affected user") for u in names(affected_users, "affected_users")]
    if not users and who != NPAC:
        users = [who]
    now = ctx.clock_ms()
    detected = when_ms(detected_at, "detected_at") if detected_at is not None else now
    if detected > now:
        raise CommandError("detected_at is in the future")
    fields = {"summary": arg.text(summary, "summary", 200),
              "description": arg.text(description, "description", 2000) if description is not None else None,
              "interface": arg.text(interface, "interface", 80) if interface is not None else None}

    def add(tx: Any) -> dict[str, Any]:
        ticket_id = tx.next_id(TABLE)
        tracking = tracking_number(ticket_id, tx.now_ms)
        opened = _notice(tx.now_ms, "opened", f"{tracking} opened: severity {level}, {fields['summary']}",
                         _user(session))
        return tx.upsert(TABLE, {
            "ticket_id": ticket_id, "tracking": tracking, "state": "open", "severity": level, "defect": kind,
            "reporter": who, "affected_users": sorted(set(users)), **fields, "reported_ms": tx.now_ms,
            "detected_ms": detected, "notices": [opened], "rca": {}, "created_by": _user(session),
            "created_ms": tx.now_ms, "modified_ms": tx.now_ms})
    row = await ctx.services.writer.run(f"trouble ticket opened by {who}", add)
    return view(ctx, row)


async def notice(ctx: Any, session: Any, ticket: Any = None, text: Any = None, date_tbd: Any = None,
                 source: Any = None, scheduled_for: Any = None, plan: Any = None) -> dict[str, Any]:
    """A status notice. With date_tbd=yes and the problem's source, the ticket goes to "Date TBD"
    (Severity 3-4 only); with scheduled_for (and plan: Patch, Release...) a Date TBD ticket's resolution
    is announced and it leaves the Date TBD list (L51)."""
    message = text
    row = _find(ctx, ticket)
    if row["state"] == "closed":
        raise CommandError(f"{row['tracking']} is closed")
    if message is None or not str(message).strip():
        raise CommandError("ticket.notice: text is required")
    body = arg.text(message, "text", 2000)
    to_tbd = date_tbd is not None and flag(date_tbd, "date_tbd")
    if to_tbd and scheduled_for is not None:
        raise CommandError("a notice either places the ticket in Date TBD or schedules its resolution, not both")
    if to_tbd:
        if row["severity"] not in (3, 4):
            raise CommandError(f"{row['tracking']} is severity {row['severity']}: only severity 3 and 4 tickets "
                               "may be placed in Date TBD (§12.3)")
        if row["state"] != "open":
            raise CommandError(f"{row['tracking']} is already in Date TBD")
        if source is None or not str(source).strip():
            raise CommandError("Date TBD needs the identified source of the problem (source)")
    when = when_ms(scheduled_for, "scheduled_for") if scheduled_for is not None else None
    who = _user(session)

    def change(current: dict[str, Any], now: int) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if to_tbd:
            entry = _notice(now, "date-tbd", body, who)
            changes.update(state="date-tbd", source=arg.text(source, "source", 500))
        elif when is not None:
            entry = _notice(now, "scheduled", body, who, scheduled_for=iso(when), plan=plan)
            changes.update(state="open", resolution_scheduled_ms=when,
                           resolution_plan=arg.text(plan, "plan", 200) if plan is not None else None)
        else:
            if current["state"] == "date-tbd":
                raise CommandError(f"{current['tracking']} is in Date TBD: no status notices are issued "
                                   "(schedule its resolution with scheduled_for)")
            entry = _notice(now, "status", body, who)
        if current["responded_ms"] is None:
            changes["responded_ms"] = now
        return {**changes, "notices": [*current["notices"], entry]}
    return view(ctx, await _change(ctx, row["ticket_id"], f"trouble ticket {row['tracking']} notice", change))


async def dispose(ctx: Any, session: Any, ticket: Any = None, code: Any = None, patch_date: Any = None,
                  text: Any = None) -> dict[str, Any]:
    """Record the disposition (one of the four codes of L43-49); resolve-in-patch needs the patch date."""
    message = text
    row = _find(ctx, ticket)
    if row["state"] == "closed":
        raise CommandError(f"{row['tracking']} is closed")
    if code is None or code == "":
        raise CommandError(f"disposition code is required: one of {', '.join(DISPOSITIONS)}")
    chosen = choice(code, DISPOSITIONS, "disposition code")
    patch = None
    if chosen == "resolve-in-patch":
        if patch_date is None or patch_date == "":
            raise CommandError("Trouble to be Resolved in Patch needs the patch's implementation date (patch_date)")
        patch = when_ms(patch_date, "patch_date")
    body = arg.text(message, "text", 2000) if message is not None else DISPOSITIONS[chosen]
    who = _user(session)

    def change(current: dict[str, Any], now: int) -> dict[str, Any]:
        entry = _notice(now, "disposition", body, who, code=chosen, patch_date=iso(patch))
        return {"disposition": chosen, "patch_date_ms": patch, "notices": [*current["notices"], entry]}
    return view(ctx, await _change(ctx, row["ticket_id"], f"trouble ticket {row['tracking']} disposition", change))


async def close(ctx: Any, session: Any, ticket: Any = None, code: Any = None, patch_date: Any = None,
                text: Any = None) -> dict[str, Any]:
    """Close the ticket and notify with its disposition code (L41); a code may be given here."""
    message = text
    row = _find(ctx, ticket)
    if row["state"] == "closed":
        raise CommandError(f"{row['tracking']} is already closed")
    if code is not None:
        await dispose(ctx, session, ticket=row["tracking"], code=code, patch_date=patch_date, text=message)
        row = _find(ctx, row["tracking"])
    if not row["disposition"]:
        raise CommandError(f"{row['tracking']} has no disposition code; give code "
                           f"({', '.join(DISPOSITIONS)})")
    who = _user(session)

    def change(current: dict[str, Any], now: int) -> dict[str, Any]:
        label = DISPOSITIONS[current["disposition"]]
        entry = _notice(now, "closed", f"{current['tracking']} closed: {label}", who, code=current["disposition"])
        return {"state": "closed", "closed_ms": now, "notices": [*current["notices"], entry]}
    return view(ctx, await _change(ctx, row["ticket_id"], f"trouble ticket {row['tracking']} closed", change))


async def rca(ctx: Any, session: Any, ticket: Any = None, report: Any = None, at: Any = None) -> dict[str, Any]:
    """Record a root-cause report delivered to the Customer (§10.3) for a ticket that is an Outage."""
    row = _find(ctx, ticket)
    if not is_rca_outage(row):
        raise CommandError(f"{row['tracking']} is not an Outage of §10.3 (a Material Defect affecting more "
                           "than one User): no root-cause reports are owed")
    kind = choice(report, RCA_KINDS, "report")
    when = when_ms(at, "at") if at is not None else ctx.clock_ms()
    if kind == "termination" and when < row["detected_ms"] + 12 * 86_400_000:
        raise CommandError("a termination report may be delivered no earlier than 12 days after the Outage (§10.3.4)")
    if kind != "follow-up" and (row["rca"] or {}).get(kind) is not None:
        raise CommandError(f"{row['tracking']}: the {kind} report is already recorded")
    who = _user(session)

    def change(current: dict[str, Any], now: int) -> dict[str, Any]:
        reports = dict(current["rca"] or {})
        if kind == "follow-up":
            reports["follow-up"] = [*reports.get("follow-up", []), when]
        else:
            reports[kind] = when
        entry = _notice(now, "rca", f"{kind} root-cause report delivered", who, report=kind, delivered=iso(when))
        return {"rca": reports, "notices": [*current["notices"], entry]}
    return view(ctx, await _change(ctx, row["ticket_id"], f"trouble ticket {row['tracking']} {kind} report", change))


async def show(ctx: Any, session: Any, ticket: Any = None) -> dict[str, Any]:
    return view(ctx, _find(ctx, ticket))


async def list_tickets(ctx: Any, session: Any, state: Any = None, overdue: Any = None) -> list[dict[str, Any]]:
    """Tickets (state open | date-tbd | closed); overdue=yes keeps those late on something. The
    date-tbd list is the one the seed reports on the CMP web site and at the monthly meeting (L51)."""
    late_only = overdue
    store = ctx.store
    rows = (store.select(TABLE, "state = ?", [choice(state, STATES, "state")]) if state is not None
            else store.select(TABLE))
    cal, now = load_calendar(store), store.clock()
    out = []
    for r in rows:
        late = late_on(r, now, cal)
        if late_only is not None and flag(late_only, "overdue") and not late:
            continue
        out.append({"tracking": r["tracking"], "state": r["state"], "severity": r["severity"], "defect": r["defect"],
                    "reporter": r["reporter"], "summary": r["summary"], "reported": iso(r["reported_ms"]),
                    "disposition": r["disposition"], "overdue": late})
    return out


def commands() -> list[Command]:
    return [
        Command("ticket.open", open_ticket, "operate", "open a trouble ticket; answers its tracking number"),
        Command("ticket.notice", notice, "operate", "status notice, Date TBD, or a Date TBD ticket's schedule"),
        Command("ticket.dispose", dispose, "operate", "record the disposition code"),
        Command("ticket.close", close, "operate", "close a ticket with its disposition code"),
        Command("ticket.rca", rca, "operate", "record a root-cause report delivered for an Outage"),
        Command("ticket.list", list_tickets, "read", "trouble tickets, optionally only the overdue ones"),
        Command("ticket.show", show, "read", "one ticket with its notices, deadlines and reports"),
    ]

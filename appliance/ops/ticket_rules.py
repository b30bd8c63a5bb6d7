"""Rules of trouble tickets, free of I/O: severities, tracking numbers, disposition codes and "Date TBD"
(production-support seed 000 §12.3, L35-51), and the deadlines of contract Article 10 and §21.3 (seed
003 L2060-2290, L3124) computed on the Business Day calendar.

Severity. The seed assigns every ticket a Severity Level 1 to 4 "as defined in Section 12.5" (L35), but
§12.4-12.5 are not part of the seed. The definitions below are the appliance's, written so that the
contract's two defect classes fall out of them: Severities 1 and 2 are Material Defects (porting is
adversely affected, §1.26 L1160; the seed fixes them "immediately by ... a Patch", L35), Severities 3
and 4 Minor Defects (§1.27). A ticket that is no defect at all (a question, or No Trouble Found) is
classed "none" by the operator. From the defect class come:
  - response (identify and begin remedial effort): Material within 1 hour, Minor within 2 Business
    Days (§10.2 a-b, L2060-2068);
  - status notices: Material about every 30 minutes (§10.2, L2072); for Minor the contract sets none,
    and the appliance asks for one every Business Day (Severity 3) or every 5 Business Days
    (Severity 4) until the ticket is closed or placed in "Date TBD", after which none are issued
    (L51);
  - correction: Material within 30 days, Minor within 60 days of notice (§21.3, L3124).
A Material Defect affecting more than one User is an "Outage" of §10.3 and starts the root-cause
report clocks (`rca_schedule`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from appliance.ops.business_calendar import BusinessCalendar

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class Severity:
    level: int
    name: str
    meaning: str
    defect: str                 # material | minor
    status_every_min: int | None   # calendar minutes between status notices
    status_every_bd: int | None    # or Business Days


SEVERITIES: dict[int, Severity] = {s.level: s for s in (
    Severity(1, "critical", "porting through an interface has stopped, or the NPAC SMS is unavailable; no work "
             "around", "material", 30, None),
    Severity(2, "serious", "porting is degraded or a function fails for a carrier; any work around is not "
             "sustainable", "material", 30, None),
    Severity(3, "moderate", "a function does not work as the specifications define, and a work around exists",
             "minor", None, 1),
    Severity(4, "minimal", "documentation, reports or cosmetic errors with no effect on porting", "minor", None, 5),
)}
DEFECTS = ("material", "minor", "none")

# seed L43-49, in its order: code -> the seed's words
DISPOSITIONS: dict[str, str] = {
    "no-trouble-found": "No Trouble Found",
    "resolve-in-patch": "Trouble to be Resolved in Patch",
    "submit-cmp-cr": "CLEC Should Submit CMP CR",
    "resolved": "Resolved",
}
RESPONSE = {"material": HOUR_MS}          # §10.2(a): within one hour
RESPONSE_BD = {"minor": 2}                # §10.2(b): within two Business Days
CORRECTION_DAYS = {"material": 30, "minor": 60}  # §21.3

# §10.3 reports, in the order they fall due
RCA_KINDS = ("preliminary", "interim", "definitive", "follow-up", "termination", "corrective-action-plan",
             "definitive-corrective-action-plan")


class TicketRuleError(ValueError):
    """A ticket change the rules refuse (one line)."""


def tracking_number(ticket_id: int, reported_ms: int) -> str:
    """The IT Trouble Ticket tracking number given to the reporter at once (L41): the year it was
    reported and a number never reused, e.g. TT2026-000042."""
    year = dt.datetime.fromtimestamp(reported_ms / 1000, tz=dt.timezone.utc).year
    return f"TT{year}-{ticket_id:06d}"


def is_rca_outage(ticket: Mapping[str, Any]) -> bool:
    """§10.3: "a Material Defect that affects more than one User"."""
    return ticket["defect"] == "material" and len(set(ticket["affected_users"] or ())) > 1


def response_due(ticket: Mapping[str, Any], cal: BusinessCalendar) -> int | None:
    if ticket["defect"] == "material":
        return ticket["reported_ms"] + RESPONSE["material"]
    if ticket["defect"] == "minor":
        return cal.add_business_days(ticket["reported_ms"], RESPONSE_BD["minor"])
    return None


def correction_due(ticket: Mapping[str, Any]) -> int | None:
    days = CORRECTION_DAYS.get(ticket["defect"])
    return None if days is None else ticket["reported_ms"] + days * DAY_MS


def last_status_ms(ticket: Mapping[str, Any]) -> int:
    times = [n["at_ms"] for n in ticket["notices"] or () if n["kind"] in ("opened", "status", "scheduled")]
    return max(times, default=ticket["reported_ms"])


def next_status_due(ticket: Mapping[str, Any], cal: BusinessCalendar) -> int | None:
    """None when no status notice is owed: closed, or in "Date TBD" (L51: no more status notifications)."""
    if ticket["state"] != "open":
        return None
    severity = SEVERITIES[ticket["severity"]]
    last = last_status_ms(ticket)
    if severity.status_every_min is not None:
        return last + severity.status_every_min * MINUTE_MS
    return cal.add_business_days(last, severity.status_every_bd or 1)


@dataclass(frozen=True)
class Report:
    kind: str
    due_ms: int | None          # None: no deadline (the termination report has an earliest time instead)
    delivered_ms: int | None
    earliest_ms: int | None = None

    def overdue(self, now_ms: int) -> bool:
        return self.due_ms is not None and (self.delivered_ms or now_ms) > self.due_ms

    def as_dict(self, now_ms: int) -> dict[str, Any]:
        return {"kind": self.kind, "due_ms": self.due_ms, "delivered_ms": self.delivered_ms,
                "earliest_ms": self.earliest_ms, "overdue": self.overdue(now_ms)}


def rca_schedule(detected_ms: int, delivered: Mapping[str, Any], now_ms: int, cal: BusinessCalendar) -> list[Report]:
    """The Root Cause Reports owed for an Outage detected at `detected_ms` (§10.3, L2084-2290), given what
    has been delivered (kind -> ms; "follow-up" -> list of ms). Deadlines run from what was delivered, or
    from when it should have been where it was not."""
    bd = cal.add_business_days
    prelim_due = bd(detected_ms, 1)                               # §10.3.1: within 1 Business Day
    prelim = delivered.get("preliminary")
    reports = [Report("preliminary", prelim_due, prelim)]
    # §10.3.2: the earlier of 5 BD after the Preliminary's delivery and, where it was not delivered
    # as §10.3.1 requires, 6 BD after detection
    candidates = [bd(prelim, 5)] if prelim is not None else []
    if prelim is None or prelim > prelim_due:
        candidates.append(bd(detected_ms, 6))
    second_due = min(candidates)
    definitive, interim = delivered.get("definitive"), delivered.get("interim")
    termination = delivered.get("termination")
    if interim is not None:
        reports += [Report("interim", second_due, interim), Report("definitive", None, definitive)]
    elif definitive is not None:
        reports.append(Report("definitive", second_due, definitive))
    else:
        reports.append(Report("definitive-or-interim", second_due, None))
    # §10.3.3: when no Definitive came in time, follow-ups every 5 BD from the Interim (delivered or
    # due) until a Definitive or a Termination Report ends them
    ended = min((t for t in (definitive, termination) if t is not None), default=None)
    late_definitive = definitive > second_due if definitive is not None else now_ms > second_due
    if interim is not None or late_definitive:
        previous = interim if interim is not None else second_due
        sent = list(delivered.get("follow-up") or [])
        n = 0
        while True:
            due = bd(previous, 5)
            got = sent[n] if n < len(sent) else None
            if got is None and ended is not None and due > ended:
                break
            reports.append(Report("follow-up", due, got))
            if got is None and ended is None and due > now_ms:
                break  # the next one, not yet due
            previous = got if got is not None else due
            n += 1
    # §10.3.4: no earlier than 12 (calendar) days after the Outage
    reports.append(Report("termination", None, termination, earliest_ms=detected_ms + 12 * DAY_MS))
    # §10.3.5: 10 BD after the Preliminary was (or should have been) delivered
    reports.append(Report("corrective-action-plan", bd(prelim if prelim is not None else prelim_due, 10),
                          delivered.get("corrective-action-plan")))
    if ended is not None:
        reports.append(Report("definitive-corrective-action-plan", bd(ended, 10),
                              delivered.get("definitive-corrective-action-plan")))
    return reports


def overdue(ticket: Mapping[str, Any], now_ms: int, cal: BusinessCalendar) -> list[str]:
    """What the ticket is late on at `now_ms`, one short phrase each."""
    late: list[str] = []
    due = response_due(ticket, cal)
    if due is not None and (ticket["responded_ms"] or now_ms) > due:
        late.append("response")
    due = next_status_due(ticket, cal)
    if due is not None and now_ms > due:
        late.append("status notice")
    due = correction_due(ticket)
    if due is not None and ticket["state"] != "closed" and now_ms > due:
        late.append("correction")
    if is_rca_outage(ticket):
        for report in rca_schedule(ticket["detected_ms"], ticket["rca"] or {}, now_ms, cal):
            if report.overdue(now_ms) and f"{report.kind} report" not in late:
                late.append(f"{report.kind} report")
    return late

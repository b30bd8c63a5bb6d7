"""Rules of a planned outage, free of I/O: the notice's fields (production-support §12.1, seed 000
L7-21), the notice lead times of Exhibit G SLR 21 (seed 003 L86878-86910), the per-event and per-quarter
limits of SLR 2 (L86378-86402), and the states an outage goes through.

SLR 2 counts Scheduled Service Unavailability per calendar quarter, at most 20 hours, not counting
"release implementations, data rebuilds, and other non-routine tasks" (agreed case by case), and no
event may exceed 10 hours. SLR 21: routine maintenance is announced at least 2 weeks ahead;
non-routine maintenance at least 7 days ahead when it falls in Normal Business Hours, 24 hours ahead
when it falls wholly outside them (an event touching business hours at all takes the longer rule).
Quarters are calendar quarters in UTC, the store's time.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from appliance.ops.business_calendar import BusinessCalendar

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
ROUTINE_LEAD_MS = 14 * DAY_MS          # SLR 21: "a minimum of 2 weeks in advance"
NON_ROUTINE_BUSINESS_LEAD_MS = 7 * DAY_MS   # SLR 21: during Normal Business Hours
NON_ROUTINE_OTHER_LEAD_MS = DAY_MS     # SLR 21: during Non-Normal Business Hours
EVENT_LIMIT_MS = 10 * HOUR_MS          # SLR 2: "No Scheduled Service Unavailability event shall exceed ten (10) hours"
QUARTER_LIMIT_MS = 20 * HOUR_MS        # SLR 2: "equal to or less than 20 hours per calendar quarter"
NOTICE_AFTER_SCHEDULING_MS = 2 * DAY_MS  # §12.1 L21: sent "no later than two (2) calendar days after the scheduling"
MAINTENANCE = ("routine", "non-routine")
INFO_LIMIT = 255  # GraphicString255 of additional-down-time-information (ASN.1 NPAC-SMS-Operational-Information)

# state -> the states it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "scheduled": ("notified", "cancelled"),
    "notified": ("notified", "started", "cancelled"),
    "started": ("completed",),
    "completed": (),
    "cancelled": (),
}

# §12.1's bullet list, in its order: field -> how the refusal names it
NOTICE_FIELDS: dict[str, str] = {
    "interface": "identification of the subject interface",
    "description": "description of the maintenance activity",
    "impact": "impact to the carriers",
    "start": "scheduled start date and time",
    "stop": "scheduled stop date and time",
    "workaround": "work around (say 'none' when there is none)",
    "contact_name": "contact for more information",
    "contact_number": "contact telephone number",
}


class OutageRuleError(ValueError):
    """A notice or a change the rules refuse (one line)."""


@dataclass(frozen=True)
class OutageNotice:
    interface: str
    description: str
    impact: str
    start_ms: int
    stop_ms: int
    workaround: str
    contact_name: str
    contact_number: str
    maintenance: str = "routine"

    def __post_init__(self) -> None:
        for name in ("interface", "description", "impact", "workaround", "contact_name"):
            value = getattr(self, name)
            if not value.strip():
                raise OutageRuleError(f"outage notice: {NOTICE_FIELDS[name]} ({name}) is required (§12.1)")
            if not all(" " <= ch <= "~" for ch in value):
                raise OutageRuleError(f"outage notice: {name} must be printable ASCII (GraphicString on the wire)")
        if len(self.contact_number) != 10 or not self.contact_number.isdigit():
            raise OutageRuleError(f"outage notice: contact_number {self.contact_number!r} must be 10 digits "
                                  "(PhoneNumber on the wire)")
        if self.maintenance not in MAINTENANCE:
            raise OutageRuleError(f"outage notice: maintenance {self.maintenance!r} must be routine or non-routine")
        if self.stop_ms <= self.start_ms:
            raise OutageRuleError("outage notice: the stop time must be after the start time")
        if self.stop_ms - self.start_ms > EVENT_LIMIT_MS:
            hours = (self.stop_ms - self.start_ms) / HOUR_MS
            raise OutageRuleError(f"outage notice: {hours:.2f} h exceeds the 10 h a scheduled event may last (SLR 2)")
        if len(self.carrier_text(0)) > INFO_LIMIT:
            raise OutageRuleError(f"outage notice: the carrier notice text would be {len(self.carrier_text(0))} "
                                  f"characters, at most {INFO_LIMIT} travel over CMIP; shorten the texts")

    def carrier_text(self, outage_id: int, prefix: str = "") -> str:
        """additional-down-time-information: every §12.1 field the CMIP notice has no slot for."""
        return (f"{prefix}Outage {outage_id} ({self.maintenance}) {self.interface}: {self.description}. "
                f"Impact: {self.impact}. Workaround: {self.workaround}. Contact: {self.contact_name}")

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LeadTime:
    required_ms: int
    rule: str
    met: bool
    short_by_ms: int


def required_lead(notice: OutageNotice, cal: BusinessCalendar) -> tuple[int, str]:
    if notice.maintenance == "routine":
        return ROUTINE_LEAD_MS, "routine maintenance: 2 weeks ahead (SLR 21)"
    if cal.business_hours_overlap_ms(notice.start_ms, notice.stop_ms) > 0:
        return NON_ROUTINE_BUSINESS_LEAD_MS, "non-routine maintenance in Normal Business Hours: 7 days ahead (SLR 21)"
    return NON_ROUTINE_OTHER_LEAD_MS, "non-routine maintenance outside Normal Business Hours: 24 hours ahead (SLR 21)"


def lead_time(notice: OutageNotice, send_ms: int, cal: BusinessCalendar) -> LeadTime:
    """Whether a notice sent at `send_ms` is early enough for SLR 21."""
    required, rule = required_lead(notice, cal)
    given = notice.start_ms - send_ms
    return LeadTime(required, rule, given >= required, max(0, required - given))


def annex_a(row: dict[str, Any], cal: BusinessCalendar) -> dict[str, Any]:
    """SLR 2's paperwork clocks: the request for maintenance goes to the Customer "not less than ten (10)
    business days prior to" the event, the report "not less than four (4) business days after" it; read
    as: requested on or before the 10th Business Day before the start day, reported by the end of the
    4th Business Day after the actual end."""
    request_by = cal.business_days_before(cal.local_date(row["start_ms"]), 10)
    scheduled = row.get("scheduled_ms")
    out: dict[str, Any] = {"request_by": request_by.isoformat(),
                           "request_met": None if scheduled is None else cal.local_date(scheduled) <= request_by}
    if row.get("actual_stop_ms") is not None:
        out["report_due_ms"] = cal.add_business_days(row["actual_stop_ms"], 4)
    return out


def check_move(state: str, target: str, outage_id: int) -> None:
    if target not in TRANSITIONS.get(state, ()):
        raise OutageRuleError(f"outage {outage_id} is {state}; it cannot become {target}")


# ---- SLR 2 quarter totals ---------------------------------------------------------------------------
def quarter_of(ms: int) -> tuple[int, int]:
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return when.year, (when.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[int, int]:
    if not 1 <= quarter <= 4:
        raise OutageRuleError(f"quarter {quarter} must be 1-4")
    first = dt.datetime(year, 3 * quarter - 2, 1, tzinfo=dt.timezone.utc)
    last = dt.datetime(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1, tzinfo=dt.timezone.utc)
    return int(first.timestamp() * 1000), int(last.timestamp() * 1000)


def _hours(ms: int) -> float:
    return round(ms / HOUR_MS, 3)


def event_window(row: dict[str, Any], now_ms: int) -> tuple[int, int, str] | None:
    """The unavailability an outage accounts for: what happened once it started (to now while it runs),
    what is planned before; a cancelled outage accounts for nothing."""
    if row["state"] == "cancelled":
        return None
    if row["actual_start_ms"] is not None:
        stop = row["actual_stop_ms"] if row["actual_stop_ms"] is not None else max(now_ms, row["actual_start_ms"])
        return row["actual_start_ms"], stop, "actual"
    return row["start_ms"], row["stop_ms"], "planned"


def quarter_totals(rows: list[dict[str, Any]], year: int, quarter: int, now_ms: int) -> dict[str, Any]:
    """SLR 2 for one quarter: routine hours taken and still planned against the 20 h, non-routine hours
    (excluded, reported), events over 10 h, and time beyond the approved (scheduled) window, which SLR 2
    charges "for each hour or portion thereof"."""
    q_start, q_stop = quarter_bounds(year, quarter)
    taken = planned = non_routine = 0
    events: list[dict[str, Any]] = []
    for row in rows:
        window = event_window(row, now_ms)
        if window is None:
            continue
        start, stop, kind = window
        inside = max(0, min(stop, q_stop) - max(start, q_start))
        if inside == 0:
            continue
        length = stop - start
        overrun = max(0, length - (row["stop_ms"] - row["start_ms"])) if kind == "actual" else 0
        if row["maintenance"] == "non-routine":
            non_routine += inside
        elif kind == "actual":
            taken += inside
        else:
            planned += inside
        events.append({"outage": row["outage_id"], "state": row["state"], "maintenance": row["maintenance"],
                       "kind": kind, "hours": _hours(length), "hours_in_quarter": _hours(inside),
                       "over_10h": length > EVENT_LIMIT_MS, "overrun_hours": _hours(overrun),
                       "overrun_charged_hours": math.ceil(overrun / HOUR_MS)})
    excess = max(0, taken - QUARTER_LIMIT_MS)
    return {
        "quarter": f"{year}-Q{quarter}", "limit_hours": 20, "event_limit_hours": 10,
        "routine_hours": _hours(taken), "planned_routine_hours": _hours(planned),
        "non_routine_hours": _hours(non_routine), "remaining_hours": _hours(max(0, QUARTER_LIMIT_MS - taken - planned)),
        "breach": taken > QUARTER_LIMIT_MS, "excess_charged_hours": math.ceil(excess / HOUR_MS),
        "projected_breach": taken + planned > QUARTER_LIMIT_MS,
        "events_over_10h": [e["outage"] for e in events if e["over_10h"]],
        "events": events,
    }

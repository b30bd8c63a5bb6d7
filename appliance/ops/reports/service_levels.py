"""Exhibit G service levels computed from what the meters recorded (Exhibit G L86247-87046).

`measure(store, start, end, now)` reduces the bucket and interval records of a period to the
quantities the SLRs are stated in:
- Service Availability (G(a) L86281, SLR 1): the time at least one node was live and serving, less
  unscheduled outages, over the period less Scheduled Service Unavailability (SLR 2 time is excluded);
- Interface Availability per mechanized User (G(b) L86285, SLR 7): time with an open association,
  over the User's measured time less service unavailability and scheduled time;
- acknowledgement response time (SLR 3): 95th percentile of the NPAC's processing time (arrival to
  answer) of SOA and LSMS transactions, queries, audits and edits excluded;
- broadcast time (SLR 4): mean of activation broadcast start to broadcast complete;
- transaction rates per SOA and per LSMS (SLR 5, 6): the rate while busy and the busiest second; the
  commitment "a minimum of N TPS for 95 % of the transactions" is read as the NPAC's time per
  transaction: 95 % of them must take at most 1/N s, so the NPAC sustains N per second per User.
  For LSMSs the time is the round trip of the NPAC's request, which includes the LSMS's own delay
  (SLR 6 excludes User delays), so the figure is an upper bound of the NPAC's part;
- per-event SLRs from recorded events: cutovers (SLR 8), restorals (9, 10), outage notices (21-23).
Only the part of a period up to `now`, and from the first record on, is measured.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from appliance.ops import meter_records as mr
from appliance.store.store import _Reads

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, mr.HOUR_MS, mr.DAY_MS
STALE_MS = 60_000  # an open interval whose last flush is older than this is not extended to now
CENTRAL = ZoneInfo("America/Chicago")  # Normal Business Hours 07:00-19:00 Central (DECISIONS)

AVAILABILITY_PCT = 99.9      # SLR 1, SLR 7
ACK_P95_LIMIT_MS = 3_000     # SLR 3
BROADCAST_MEAN_LIMIT_MS = 60_000  # SLR 4
SOA_TPS = 2.0                # SLR 5
LSMS_TPS = 10.0              # SLR 6
CUTOVER_LIMIT_MS = 10 * MINUTE_MS  # SLR 8
PARTIAL_RESTORAL_MS = 24 * HOUR_MS  # SLR 9
FULL_RESTORAL_MS = 48 * HOUR_MS     # SLR 10
SCHEDULED_QUARTER_MS = 20 * HOUR_MS  # SLR 2
SCHEDULED_EVENT_MS = 10 * HOUR_MS
NOTIFY_LIMIT_MS = 15 * MINUTE_MS     # SLR 22
UPDATE_INTERVAL_MS = 30 * MINUTE_MS  # SLR 23


@dataclass
class Rate:
    """One User's side of SLR 5 or 6."""

    count: int = 0
    rate: float | None = None       # transactions per second while busy
    peak_per_s: int = 0
    within_share: float | None = None  # share of transactions within 1/required s
    mean_ms: float | None = None
    p95_ms: int | None = None
    errors: int = 0


@dataclass
class Measured:
    start_ms: int
    end_ms: int
    window_ms: int = 0
    scheduled_ms: int = 0
    unavailable_ms: int = 0
    availability_pct: float | None = None
    interface_pct: dict[str, float] = field(default_factory=dict)
    interface_down_ms: dict[str, int] = field(default_factory=dict)
    ack_count: int = 0
    ack_p95_ms: int | None = None
    ack_mean_ms: float | None = None
    misc_count: int = 0
    broadcast_count: int = 0
    broadcast_mean_ms: float | None = None
    broadcast_by_kind: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    soa: dict[str, Rate] = field(default_factory=dict)
    lsms: dict[str, Rate] = field(default_factory=dict)
    outages: list[dict[str, Any]] = field(default_factory=list)
    cutovers: list[dict[str, Any]] = field(default_factory=list)
    restorals: list[dict[str, Any]] = field(default_factory=list)
    aggregates: dict[tuple[str, str], mr.Aggregate] = field(default_factory=dict)


def _spans(rows: list[dict[str, Any]], now_ms: int) -> list[mr.Span]:
    out = []
    for row in rows:
        end = row["end_ms"] if row["end_ms"] is not None else now_ms
        if row.get("open") and now_ms - end <= STALE_MS:
            end = max(end, now_ms)
        out.append((row["start_ms"], end))
    return out


def _rate(aggs: dict[tuple[str, str], mr.Aggregate], misc_kinds: tuple[str, ...], sid: str, required_tps: float,
          kind: str) -> Rate:
    """The User's transactions of `kind` (queries, audits and edits apart: they only add to errors)."""
    timed = aggs.get((kind, sid), mr.Aggregate())
    rate = timed.rate_active()
    return Rate(count=timed.count, rate=round(rate, 3) if rate is not None else None, peak_per_s=timed.peak_per_s,
                within_share=mr.share_at_most(timed.hist, 1000 / required_tps),
                mean_ms=round(timed.mean_ms, 1) if timed.mean_ms is not None else None, p95_ms=timed.p95(),
                errors=timed.errors + sum(aggs[(k, sid)].errors for k in misc_kinds if (k, sid) in aggs))


def measure(store: _Reads, start_ms: int, end_ms: int, now_ms: int,
            extra_outages: list[dict[str, Any]] | tuple[dict[str, Any], ...] = ()) -> Measured:
    """The period's figures; `extra_outages` are outage events kept elsewhere (planned outages)."""
    m = Measured(start_ms, end_ms)
    until = min(end_ms, now_ms)
    aggs = m.aggregates = mr.aggregates(store, start_ms, end_ms)
    # SLR 3
    ack = mr.Aggregate()
    for (kind, _), agg in aggs.items():
        if kind in (mr.SOA_REQUEST, mr.LSMS_REQUEST):
            ack.count += agg.count
            ack.sum_ms += agg.sum_ms
            mr.hist_merge(ack.hist, agg.hist)
        elif kind in (mr.SOA_MISC, mr.LSMS_MISC):
            m.misc_count += agg.count
    m.ack_count, m.ack_p95_ms = ack.count, ack.p95()
    m.ack_mean_ms = round(ack.mean_ms, 1) if ack.mean_ms is not None else None
    # SLR 4: activation broadcasts (activate, port-to-original); the other kinds are shown beside
    activation = mr.Aggregate()
    for (kind, party), agg in aggs.items():
        if kind == mr.BROADCAST:
            m.broadcast_by_kind[party] = (agg.count, round(agg.mean_ms, 1) if agg.mean_ms is not None else None)
            if party in ("activate", "port-to-original"):
                activation.count += agg.count
                activation.sum_ms += agg.sum_ms
    m.broadcast_count = activation.count
    m.broadcast_mean_ms = round(activation.mean_ms, 1) if activation.mean_ms is not None else None
    # SLR 5, 6
    for sid in sorted({p for k, p in aggs if k in (mr.SOA_REQUEST, mr.SOA_MISC)}):
        m.soa[sid] = _rate(aggs, (mr.SOA_MISC,), sid, SOA_TPS, mr.SOA_REQUEST)
    for sid in sorted({p for k, p in aggs if k == mr.LSMS_TRANSACTION}):
        m.lsms[sid] = _rate(aggs, (), sid, LSMS_TPS, mr.LSMS_TRANSACTION)
    # SLR 1, 2, 7
    events = mr.intervals(store, mr.EVENT_KINDS, start_ms, until)
    m.outages = sorted([e for e in events if e["kind"] == mr.OUTAGE] + list(extra_outages),
                       key=lambda e: e["start_ms"])
    m.cutovers = [e for e in events if e["kind"] == mr.CUTOVER]
    m.restorals = [e for e in events if e["kind"] in (mr.RESTORAL_PARTIAL, mr.RESTORAL_FULL)]
    first = mr.first_record_ms(store, mr.SERVICE)
    if first is None or first >= until:
        return m
    window = [(max(start_ms, first), until)]
    scheduled = mr.clip(_spans([o for o in m.outages if o["details"].get("scheduled")], now_ms), *window[0])
    unscheduled = _spans([o for o in m.outages if not o["details"].get("scheduled")], now_ms)
    service = _spans(mr.intervals(store, (mr.SERVICE,), start_ms, until), now_ms)
    down = mr.subtract(mr.union(mr.subtract(window, service) + mr.clip(unscheduled, *window[0])), scheduled)
    measured = mr.subtract(window, scheduled)
    m.window_ms, m.scheduled_ms, m.unavailable_ms = mr.total(measured), mr.total(scheduled), mr.total(down)
    if m.window_ms:
        m.availability_pct = round(100 * (1 - m.unavailable_ms / m.window_ms), 4)
    excluded = mr.union(scheduled + down)
    interface_rows = mr.intervals(store, (mr.INTERFACE,), start_ms, until)
    for sid in sorted({r["party"] for r in interface_rows}):
        since = mr.first_record_ms(store, mr.INTERFACE, sid) or start_ms
        own = [(max(start_ms, since), until)]
        base = mr.subtract(own, excluded)
        up = _spans([r for r in interface_rows if r["party"] == sid], now_ms)
        lost = mr.subtract(base, up)
        if mr.total(base):
            m.interface_down_ms[sid] = mr.total(lost)
            m.interface_pct[sid] = round(100 * (1 - mr.total(lost) / mr.total(base)), 4)
    return m


# ---- the SLR table --------------------------------------------------------------------------------
MET, MISSED, NO_DATA, NOT_MEASURED = "met", "missed", "no data", "not measured by the node"


@dataclass
class SlrRow:
    slr: str
    name: str
    commitment: str
    measured: str
    status: str
    value: float | None = None
    seed_line: str = ""
    prior: str = ""


def _hours(ms: int) -> str:
    return f"{ms / HOUR_MS:.2f} h"


def _minutes(ms: int) -> str:
    return f"{ms / MINUTE_MS:.1f} min"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f} %"


def _status(ok: bool | None) -> str:
    return NO_DATA if ok is None else (MET if ok else MISSED)


def business_hours(ms: int) -> bool:
    local = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).astimezone(CENTRAL)
    return local.weekday() < 5 and 7 <= local.hour < 19


def notice_required_ms(outage: dict[str, Any]) -> int:
    """SLR 21: routine maintenance 2 weeks ahead; non-routine 7 days ahead if announced in Normal
    Business Hours, else 24 hours."""
    d = outage["details"]
    if d.get("routine", True):
        return 14 * DAY_MS
    notice = d.get("notice_ms")
    return 7 * DAY_MS if notice is not None and business_hours(notice) else DAY_MS


def _update_gaps(outage: dict[str, Any], now_ms: int) -> int | None:
    """SLR 23: the longest stretch without a status update, from the first notice to restoral."""
    d = outage["details"]
    if d.get("notified_ms") is None:
        return None
    marks = sorted([d["notified_ms"], *d.get("updates_ms", [])])
    end = outage["end_ms"] if outage["end_ms"] is not None else now_ms
    points = [p for p in marks if p <= end] + [end]
    return max((b - a for a, b in zip(points, points[1:])), default=0)


def slr_rows(m: Measured, now_ms: int, *, quarter_scheduled: list[dict[str, Any]] | None = None,
             security: dict[str, Any] | None = None) -> list[SlrRow]:
    rows: list[SlrRow] = []
    add = rows.append
    add(SlrRow("1", "Service Availability", "at least 99.9 %", _pct(m.availability_pct)
               + (f" ({_minutes(m.unavailable_ms)} unavailable)" if m.availability_pct is not None else ""),
               _status(None if m.availability_pct is None else m.availability_pct >= AVAILABILITY_PCT),
               m.availability_pct, "L86340"))
    q = quarter_scheduled if quarter_scheduled is not None else [o for o in m.outages if o["details"].get("scheduled")]
    q_total = sum((o["end_ms"] or now_ms) - o["start_ms"] for o in q)
    longest = max(((o["end_ms"] or now_ms) - o["start_ms"] for o in q), default=0)
    add(SlrRow("2", "Scheduled Service Unavailability", "at most 20 h per quarter, no event over 10 h",
               f"{_hours(q_total)} in the quarter, longest {_hours(longest)}, {len(q)} events",
               MET if q_total <= SCHEDULED_QUARTER_MS and longest <= SCHEDULED_EVENT_MS else MISSED,
               round(q_total / HOUR_MS, 3), "L86378"))
    add(SlrRow("3", "SOA/LSMS Acknowledgement Response Time", "95 % within 3 s (queries, audits, edits excluded)",
               "-" if m.ack_p95_ms is None else f"p95 {m.ack_p95_ms} ms over {m.ack_count} transactions",
               _status(None if m.ack_p95_ms is None else m.ack_p95_ms <= ACK_P95_LIMIT_MS), m.ack_p95_ms, "L86404"))
    add(SlrRow("4", "LSMS Broadcast Time", "mean at most 60 s from activation to broadcast",
               "-" if m.broadcast_mean_ms is None else f"mean {m.broadcast_mean_ms / 1000:.3f} s over {m.broadcast_count}",
               _status(None if m.broadcast_mean_ms is None else m.broadcast_mean_ms <= BROADCAST_MEAN_LIMIT_MS),
               m.broadcast_mean_ms, "L86430"))
    for slr, name, rates, tps, line in (("5", "SOA to NPAC Interface Transaction Rate", m.soa, SOA_TPS, "L86456"),
                                        ("6", "NPAC to LSMS Interface Transaction Rate", m.lsms, LSMS_TPS, "L86482")):
        shares = {sid: r.within_share for sid, r in rates.items() if r.within_share is not None}
        worst = min(shares.values(), default=None)
        measured = "-" if worst is None else (
            f"{len(shares)} Users; lowest share within {1000 / tps:.0f} ms {100 * worst:.2f} %; "
            + ", ".join(f"{sid} {r.rate if r.rate is not None else '-'} TPS busy (peak {r.peak_per_s}/s)"
                        for sid, r in rates.items()))
        add(SlrRow(slr, name, f"at least {tps:g} TPS per User for 95 % of the transactions", measured,
                   _status(None if worst is None else worst >= 0.95),
                   None if worst is None else round(100 * worst, 3), line))
    worst_if = min(m.interface_pct.values(), default=None)
    add(SlrRow("7", "SOA/LSMS Interface Availability", "at least 99.9 % per User",
               "-" if worst_if is None else ", ".join(f"{sid} {_pct(v)}" for sid, v in m.interface_pct.items()),
               _status(None if worst_if is None else worst_if >= AVAILABILITY_PCT), worst_if, "L86508"))
    for slr, name, commitment, events, limit, line in (
            ("8", "Unscheduled Backup Cutover Time", "at most 10 min per cutover", m.cutovers, CUTOVER_LIMIT_MS, "L86534"),
            ("9", "Partial Disaster Restoral Interval", "at most 24 h",
             [r for r in m.restorals if r["kind"] == mr.RESTORAL_PARTIAL], PARTIAL_RESTORAL_MS, "L86560"),
            ("10", "Full Disaster Restoral", "at most 48 h",
             [r for r in m.restorals if r["kind"] == mr.RESTORAL_FULL], FULL_RESTORAL_MS, "L86592")):
        done = [e["end_ms"] - e["start_ms"] for e in events if e["end_ms"] is not None]
        worst = max(done, default=None)
        add(SlrRow(slr, name, commitment, "no events" if not events else
                   f"{len(events)} events, longest {_minutes(worst) if worst is not None else 'in progress'}",
                   MET if worst is None or worst <= limit else MISSED,
                   None if worst is None else round(worst / MINUTE_MS, 3), line))
    for slr, name, commitment, line in (
            ("12", "User Problem Resolution", "80 % of Normal Business Hours calls answered live within 10 s", "L86644"),
            ("14", "User Problem Resolution", "99.0 % callback within 30 min outside Normal Business Hours", "L86696"),
            ("15", "User Problem Resolution", "99.5 % of get-back commitments met", "L86722")):
        add(SlrRow(slr, name, commitment, "help desk records", NOT_MEASURED, None, line))
    sec = security or {}
    add(SlrRow("18", "System Security", "monitor and record unauthorized system access",
               f"{sec.get('invalid', 0)} invalid access attempts recorded; audit log {sec.get('chain', 'not read')}",
               MET if sec.get("intact", True) else MISSED, sec.get("invalid", 0), "L86800"))
    add(SlrRow("19", "System Security", "remedy logon permission errors immediately", "help desk records",
               NOT_MEASURED, None, "L86826"))
    scheduled = [o for o in m.outages if o["details"].get("scheduled")]
    late = [o for o in scheduled if o["details"].get("notice_ms") is None
            or o["start_ms"] - o["details"]["notice_ms"] < notice_required_ms(o)]
    add(SlrRow("21", "Scheduled Service Unavailability Notification",
               "routine 2 weeks ahead; non-routine 7 days (business hours) or 24 h ahead",
               f"{len(scheduled)} scheduled, {len(late)} notified late", MET if not late else MISSED, len(late), "L86878"))
    unscheduled = [o for o in m.outages if not o["details"].get("scheduled")]
    slow = [o for o in unscheduled if o["details"].get("notified_ms") is None
            or o["details"]["notified_ms"] - o["start_ms"] > NOTIFY_LIMIT_MS]
    add(SlrRow("22", "Unscheduled Service Unavailability Notification", "Users notified within 15 min of detection",
               f"{len(unscheduled)} unscheduled, {len(slow)} notified late", MET if not slow else MISSED, len(slow),
               "L86912"))
    gaps = [g for g in (_update_gaps(o, now_ms) for o in unscheduled) if g is not None]
    worst_gap = max(gaps, default=None)
    add(SlrRow("23", "Unscheduled Service Unavailability Notification", "status updates every 30 min",
               "no events" if not unscheduled else f"longest gap {_minutes(worst_gap or 0)}",
               MET if not unscheduled or (worst_gap is not None and len(gaps) == len(unscheduled)
                                          and worst_gap <= UPDATE_INTERVAL_MS) else MISSED,
               None if worst_gap is None else round(worst_gap / MINUTE_MS, 3), "L86938"))
    return rows

"""Reports assembled from their parts.

- management (monthly, quarterly, year to date; Exhibit H L87521-87591): Exhibit G actual performance
  against each SLR with the prior period beside it, availability per User, traffic and rates, outage
  notices, cutovers and restorals, software/hardware problems, the "Top 10" trouble reports,
  significant changes, usage per User, the security audit log, then the individual reports
  RP9-1..RP9-7 and RR9-1;
- service levels: the Exhibit G part alone; usage: the billing counts alone; exhibit-h: the
  individual reports (for one SP with `sp`).
Planned outages and trouble tickets kept by the outage and ticket tools (tables `planned_outages`,
`trouble_tickets`) count alongside the events reported to the meters.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.ops import meter_records as mr
from appliance.ops.reports import exhibit_h as h
from appliance.ops.reports.model import Chart, Report, Section
from appliance.ops.reports.periods import Period, utc_of
from appliance.ops.reports.service_levels import Measured, SlrRow, measure, slr_rows
from appliance.ops.reports.usage import usage_section
from appliance.ops.security_log import verify
from appliance.store.schema import TABLES

KINDS = ("management", "service-levels", "usage", "exhibit-h")


@dataclass
class Sources:
    """Where a report reads from: the store (or a read-only view of it), the node's data directory
    (history and error logs), the security audit log, the key lists, the console users."""

    store: Any
    data_dir: Path | None = None
    security_log: Path | None = None
    directory: Any = None
    users: list[dict[str, Any]] = field(default_factory=list)


def _table(store: Any, name: str) -> bool:
    return name in TABLES and name in store.db.table_names()


def planned_outages(store: Any, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """The outage tool's planned outages as scheduled outage events (SLR 2, SLR 21)."""
    if not _table(store, "planned_outages"):
        return []
    out = []
    for row in store.select("planned_outages", "state != ? AND start_ms < ? AND stop_ms >= ?",
                            ["cancelled", end_ms, start_ms], order_by="start_ms"):
        out.append({"kind": mr.OUTAGE, "party": row.get("interface") or "", "start_ms": row["actual_start_ms"]
                    or row["start_ms"], "end_ms": row["actual_stop_ms"] or row["stop_ms"], "open": False,
                    "details": {"scheduled": True, "routine": row["maintenance"] == "routine",
                                "notice_ms": row["notice_ms"], "description": row["description"],
                                "source": f"planned outage {row['outage_id']}"}})
    return out


def scheduled_outages(store: Any, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Scheduled outages reported to the meters and planned with the outage tool (SLR 2)."""
    recorded = [o for o in mr.intervals(store, (mr.OUTAGE,), start_ms, end_ms) if o["details"].get("scheduled")]
    return sorted(recorded + planned_outages(store, start_ms, end_ms), key=lambda o: o["start_ms"])


def _worst_quarter(store: Any, period: Period, now_ms: int) -> list[dict[str, Any]]:
    """SLR 2 is per calendar quarter: the quarter to date of a month, the quarter itself, or the
    quarter of the year to date with the most scheduled time."""
    end = min(period.end_ms, now_ms)
    if period.kind == "month":
        quarters = [period.quarter_of_end()]
    elif period.kind == "quarter":
        quarters = [period]
    else:
        year = utc_of(period.start_ms).year
        quarters = [q for q in (Period.quarter(year, n) for n in range(1, 5)) if q.start_ms < end]
    per_quarter = [scheduled_outages(store, q.start_ms, min(end, q.end_ms)) for q in quarters]
    return max(per_quarter, key=lambda events: sum((o["end_ms"] or now_ms) - o["start_ms"] for o in events),
               default=[])


def measured(store: Any, period: Period, now_ms: int) -> Measured:
    """The period's figures, the outage tool's planned outages counted as scheduled time."""
    planned = planned_outages(store, period.start_ms, min(period.end_ms, now_ms))
    return measure(store, period.start_ms, period.end_ms, now_ms, extra_outages=planned)


def _security(src: Sources) -> tuple[list[dict[str, Any]], tuple[bool, str]]:
    """Every record of the security audit log with its time, and the state of its hash chain."""
    if src.security_log is None or not Path(src.security_log).exists():
        return [], (True, "no security log on this node")
    records = []
    for rec in _records(Path(src.security_log)):
        try:
            when = dt.datetime.strptime(rec.get("time", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
        records.append({**rec, "_ms": int(when.timestamp() * 1000)})
    return records, verify(src.security_log)


def _in(records: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "_ms"} for r in records if period.start_ms <= r["_ms"] < period.end_ms]


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a damaged line: the chain check names it
    return out


def _slr_section(rows: list[SlrRow], prior: list[SlrRow], period: Period, prior_period: Period) -> Section:
    before = {r.slr: r for r in prior}
    out = []
    for r in rows:
        p = before.get(r.slr)
        change = ""
        if p is not None and r.value is not None and p.value is not None:
            change = f"{r.value - p.value:+.3f}"
        out.append([r.slr, r.name, r.commitment, r.measured, r.status, p.measured if p else "",
                    p.status if p else "", change, r.seed_line])
    met = sum(r.status == "met" for r in rows)
    missed = sum(r.status == "missed" for r in rows)
    return Section("exhibit-g", f"Exhibit G service levels, {period.label} (prior: {prior_period.label})",
                   ["SLR", "service level", "commitment", "measured", "status", "prior measured", "prior status",
                    "change", "seed line"], out, note=f"{met} met, {missed} missed",
                   source="Exhibit H item (2) L87521; Exhibit G L86340-86962")


def _availability_section(m: Measured) -> Section:
    rows = [["service (all Users)", m.window_ms // 1000, m.scheduled_ms // 1000, m.unavailable_ms // 1000,
             "-" if m.availability_pct is None else f"{m.availability_pct:.4f}"]]
    for sid, pct in m.interface_pct.items():
        rows.append([f"interface {sid}", "", "", m.interface_down_ms.get(sid, 0) // 1000, f"{pct:.4f}"])
    labels = list(m.interface_pct)
    chart = Chart("bar", "Interface availability per User (%)", labels,
                  {"availability %": [m.interface_pct[s] for s in labels]}, unit="%", limit=99.9) if labels else None
    return Section("availability", "Availability", ["scope", "measured s", "scheduled s", "unavailable s", "availability %"],
                   rows, source="G(a) L86281, G(b) L86285; SLR 1, 7", chart=chart)


def _traffic_section(store: Any, period: Period) -> Section:
    kinds = (mr.SOA_REQUEST, mr.LSMS_TRANSACTION, mr.BROADCAST, mr.SOA_NOTIFICATION)
    series = mr.daily_series(store, period.start_ms, period.end_ms, kinds)
    first = period.start_ms - period.start_ms % mr.DAY_MS
    days = sorted(set(range(first, period.end_ms, mr.DAY_MS)) | set(series)) if series else []
    series = {d: series.get(d, {}) for d in days}
    rows = [[f"{utc_of(d):%Y-%m-%d}", *(series[d].get(k, 0) for k in kinds)] for d in days]
    chart = Chart("lines", "Transactions per day", [f"{utc_of(d):%m-%d}" for d in days],
                  {k: [series[d].get(k, 0) for d in days] for k in kinds}, unit="per day") if days else None
    return Section("traffic", "Traffic per day", ["day (GMT)", *kinds], rows, chart=chart,
                   source="Exhibit K Figs 31, 32 (L94050, L94128)")


def _rates_section(m: Measured) -> Section:
    rows = [[sid, interface, r.count, r.rate if r.rate is not None else "-", r.peak_per_s,
             "-" if r.within_share is None else f"{100 * r.within_share:.2f}", r.p95_ms if r.p95_ms is not None else "-",
             r.errors]
            for interface, rates in (("SOA", m.soa), ("LSMS", m.lsms)) for sid, r in rates.items()]
    labels = [f"{r[1]} {r[0]}" for r in rows]
    chart = Chart("bar", "Busiest second per User (transactions/s)", labels,
                  {"peak per second": [float(r[4]) for r in rows]}, unit="TPS") if rows else None
    return Section("rates", "Transaction rates per User",
                   ["system", "interface", "transactions", "TPS while busy", "busiest second",
                    "% within 1/required s", "p95 ms", "errors"], rows, chart=chart,
                   note="transactions: SOA requests other than queries, audits and edits; requests to the LSMS; "
                        "errors include refused edits",
                   source="SLR 5 L86456, SLR 6 L86482")


def _events_sections(store: Any, m: Measured, period: Period, now_ms: int) -> list[Section]:
    def text(e: dict[str, Any]) -> str:
        return str(e["details"].get("description") or e["details"].get("source") or "")
    outages = [[h.gmt(o["start_ms"]), h.gmt(o["end_ms"]), "scheduled" if o["details"].get("scheduled") else "unscheduled",
                o["party"], h.gmt(o["details"].get("notice_ms") or o["details"].get("notified_ms")),
                len(o["details"].get("updates_ms", [])), text(o)] for o in m.outages]
    cut = [[e["kind"], h.gmt(e["start_ms"]), h.gmt(e["end_ms"]),
            "" if e["end_ms"] is None else round((e["end_ms"] - e["start_ms"]) / 60_000, 2), text(e)]
           for e in [*m.cutovers, *m.restorals]]
    tickets = _tickets(store, period, now_ms)
    problems = [t for t in tickets if t["problem"]]
    top = Counter(t["category"] for t in tickets).most_common(10)
    changes = mr.intervals(store, (mr.CHANGE,), period.start_ms, period.end_ms)
    return [
        Section("outages", "Outage notices", ["start (GMT)", "end (GMT)", "type", "interface", "notice / notified",
                                              "updates", "description"], outages, source="SLR 2, 21, 22, 23"),
        Section("cutovers", "Cutover and restoral events", ["event", "start (GMT)", "end (GMT)", "minutes", "description"],
                cut, source="SLR 8 L86534, SLR 9 L86560, SLR 10 L86592"),
        Section("problems", "Software and hardware problems", ["reported (GMT)", "ticket", "defect", "state", "summary"],
                [[h.gmt(t["reported_ms"]), t["id"], t["problem"], t["state"], t["summary"]] for t in problems],
                note="all problems, even those not affecting availability", source="Exhibit H item (4) L87521"),
        Section("top10", "Top 10 most frequent trouble reports", ["rank", "trouble report", "count"],
                [[i + 1, c, n] for i, (c, n) in enumerate(top)], source="Exhibit H item (5) L87521"),
        Section("changes", "Significant changes", ["when (GMT)", "area", "change"],
                [[h.gmt(c["start_ms"]), c["details"].get("area", ""), text(c)] for c in changes],
                source="Exhibit H item (3) L87521"),
    ]


def _tickets(store: Any, period: Period, now_ms: int) -> list[dict[str, Any]]:
    out = []
    if _table(store, "trouble_tickets"):
        for t in store.select("trouble_tickets", "reported_ms >= ? AND reported_ms < ?",
                              [period.start_ms, period.end_ms], order_by="reported_ms"):
            out.append({"id": t["tracking"], "reported_ms": t["reported_ms"], "state": t["state"],
                        "summary": t["summary"], "category": (t["summary"] or "").strip().lower(),
                        "problem": t["defect"] if t["defect"] in ("material", "minor") else ""})
    for e in mr.intervals(store, (mr.TROUBLE_TICKET,), period.start_ms, period.end_ms):
        d = e["details"]
        out.append({"id": d.get("ticket", e["interval_id"]), "reported_ms": e["start_ms"], "state": d.get("state", ""),
                    "summary": d.get("summary", d.get("category", "")), "category": d.get("category", ""),
                    "problem": d.get("problem", "")})
    return out


def _users(src: Sources) -> list[dict[str, Any]]:
    out = [{"user": u.get("user_id", ""), "kind": "console", "role": u.get("role", "")} for u in src.users]
    for sp in src.store.select("service_providers", order_by="sp_id"):
        out.append({"user": sp["sp_id"], "kind": "mechanized", "role": h.SYSTEM_TYPES.get(sp["system_type"], "-")})
    return out


def build(kind: str, src: Sources, period: Period, now_ms: int, *, sp: str | None = None,
          limit: int = h.LIMIT, individual: bool = True) -> Report:
    """One report; `individual` adds RP9-1..RR9-1 to a management report."""
    if kind not in KINDS:
        raise ValueError(f"unknown report {kind!r}; known: {', '.join(KINDS)}")
    store = src.store
    prior_period = period.prior()
    titles = {"month": "Monthly", "quarter": "Quarterly", "ytd": "Year-to-date"}
    title = {"management": f"{titles[period.kind]} Management and Performance Report",
             "service-levels": "Exhibit G Service Levels", "usage": "Usage per User", "exhibit-h": "NPAC SMS Reports"}[kind]
    report = Report(title, kind, period.label, period.text(), f"{utc_of(now_ms):%Y-%m-%d %H:%M:%S} GMT",
                    prior_period.label)
    m = measured(store, period, now_ms)
    all_security, chain = _security(src)
    security = _in(all_security, period)
    sec_summary = {"invalid": sum(r.get("event") in h.INVALID_EVENTS for r in security), "chain": chain[1],
                   "intact": chain[0]}
    if kind in ("management", "service-levels"):
        q_sched = _worst_quarter(store, period, now_ms)
        rows = slr_rows(m, now_ms, quarter_scheduled=q_sched, security=sec_summary)
        pm = measured(store, prior_period, now_ms)
        p_security = _in(all_security, prior_period)
        prior_rows = slr_rows(pm, now_ms, security={"invalid": sum(r.get("event") in h.INVALID_EVENTS
                                                                    for r in p_security),
                                                    "chain": chain[1], "intact": chain[0]})
        report.sections += [_slr_section(rows, prior_rows, period, prior_period), _availability_section(m),
                            _rates_section(m)]
    if kind == "management":
        report.sections += [_traffic_section(store, period), *_events_sections(store, m, period, now_ms)]
    if kind in ("management", "usage"):
        report.sections.append(usage_section(store, m.aggregates, sp, security))
    if kind == "management" and not individual:
        report.sections += [s for s in h.rp9_5(store, security, chain[1], src.directory, _users(src), limit)
                            if s.id in ("RP9-5.19", "RP9-5.20")]
    if kind == "exhibit-h" or (kind == "management" and individual):
        report.sections += [
            *h.rp9_1(store, sp), *h.rp9_2(store, sp), *h.rp9_3(store, sp), *h.rp9_4(store, m, period, src.data_dir),
            *h.rp9_5(store, security, chain[1], src.directory, _users(src), limit),
            *h.rp9_6(store, src.data_dir, period, sp, m.aggregates, limit), *h.rp9_7(store, period, sp, limit),
            *h.rr9_1(store, chain, limit)]
    return report

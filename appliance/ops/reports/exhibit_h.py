"""The Exhibit H individual reports (L87473-87497): FRS §9.2 RP9-1..RP9-7 and RR9-1 (L18442-18630),
each item numbered as the FRS numbers it (1-27), computed from the store, the meters' records, the
transaction history and error logs, and the security audit log.

`sp` limits a report to one Service Provider's own data (RP9-2 "Service Provider's own data only",
Exhibit K L94026); lists are sorted ascending (L94002) and cut at `limit` rows, the note saying so.
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from appliance.npac.invariants import check_tn
from appliance.npac.model import Status, SubscriptionVersion
from appliance.npac.persist import load_tunables
from appliance.npac.tunables import SPEC
from appliance.ops import meter_records as mr
from appliance.ops.reports.model import Section
from appliance.ops.reports.periods import Period, utc_of
from appliance.ops.reports.service_levels import Measured
from appliance.store.store import _Reads

LIMIT = 200
SYSTEM_TYPES = {0: "soa", 1: "local-sms", 2: "soa-and-local-sms", 3: "npac-sms"}
STATUS_NAMES = [s.name.lower().replace("_", "-") for s in Status]


def gmt(ms: int | None) -> str:
    return "" if ms is None else f"{utc_of(ms):%Y-%m-%d %H:%M:%S}"


def _cut(rows: list[list[Any]], limit: int) -> tuple[list[list[Any]], str]:
    return (rows, "") if len(rows) <= limit else (rows[:limit], f"first {limit} of {len(rows)} rows")


def read_log(path: Path, start_ms: int, end_ms: int, key: str = "time_ms") -> list[dict[str, Any]]:
    """JSON-lines records of a log whose `key` time falls in the period."""
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line) if line.strip() else None
            except ValueError:
                continue  # a torn last line (the log is appended to while we read)
            if isinstance(rec, dict) and start_ms <= (rec.get(key) or 0) < end_ms:
                out.append(rec)
    return out


# ---- RP9-1 Service and Network Data Reports --------------------------------------------------------
def rp9_1(store: _Reads, sp: str | None) -> list[Section]:
    tun = load_tunables(store).as_mapping()
    lrns = store.select("lrn", "sp_id = ?" if sp else None, [sp] if sp else [], order_by="sp_id, value")
    npa = store.select("npa_nxx", "sp_id = ?" if sp else None, [sp] if sp else [], order_by="value")
    return [
        Section("RP9-1.1", "NPAC Service Tunable Parameters", ["tunable", "value", "unit"],
                [[n, v, str(SPEC[n].unit)] for n, v in sorted(tun.items())], source="RP9-1 item 1, L18442"),
        Section("RP9-1.2", "Service Provider LRNs", ["SPID", "LRN", "created (GMT)"],
                [[r["sp_id"], r["value"], gmt(r["creation_ms"])] for r in lrns], source="RP9-1 item 2"),
        Section("RP9-1.3", "Open NPA-NXXs", ["SPID", "NPA-NXX", "effective (GMT)", "ported"],
                [[r["sp_id"], r["value"], gmt(r["effective_ms"]), "yes" if r["ported"] else "no"] for r in npa],
                source="RP9-1 item 3"),
    ]


# ---- RP9-2 / RP9-3 Service Provider and Subscription Data Reports -----------------------------------
def _status_counts(store: _Reads, sp: str | None) -> dict[tuple[str, int], int]:
    sql = "SELECT new_sp, status, count(*) FROM subscription_versions"
    params: list[Any] = []
    if sp:
        sql += " WHERE new_sp = ? OR old_sp = ?"
        params = [sp, sp]
    return {(r[0], r[1]): r[2] for r in store.db.execute(sql + " GROUP BY new_sp, status", params).fetchall()}


def rp9_2(store: _Reads, sp: str | None) -> list[Section]:
    sps = store.select("service_providers", "sp_id = ?" if sp else None, [sp] if sp else [], order_by="sp_id")
    counts = _status_counts(store, sp)
    by_sp = sorted({k[0] for k in counts})
    return [
        Section("RP9-2.4", "Service Provider Profile",
                ["SPID", "name", "system type", "allowable functions", "network data download", "max query"],
                [[r["sp_id"], r["name"], SYSTEM_TYPES.get(r["system_type"], "-"),
                  " ".join(r["allowable_functions"] or []), "yes" if r["download_network_data"] else "no",
                  r["max_query"] or ""] for r in sps], source="RP9-2 item 4, L18462"),
        Section("RP9-2.5", "Service Provider Subscription List by Status", ["SPID (new SP)", *STATUS_NAMES, "total"],
                [[s, *(counts.get((s, st.value), 0) for st in Status),
                  sum(counts.get((s, st.value), 0) for st in Status)] for s in by_sp], source="RP9-2 item 5"),
    ]


def rp9_3(store: _Reads, sp: str | None) -> list[Section]:
    counts = _status_counts(store, sp)
    totals = Counter()
    for (_, status), n in counts.items():
        totals[status] += n
    rows = [[name, totals.get(st.value, 0)] for name, st in zip(STATUS_NAMES, Status)]
    return [
        Section("RP9-3.6", "Subscriptions Listed by Status", ["status", "subscription versions"], rows,
                source="RP9-3 item 6, L18478"),
        Section("RP9-3.7", "Subscriptions Listed by Service Provider by Status", ["SPID", "status", "versions"],
                [[s, STATUS_NAMES[st], n] for (s, st), n in sorted(counts.items()) if n], source="RP9-3 item 7"),
    ]


# ---- RP9-4 System Reports --------------------------------------------------------------------------
def rp9_4(store: _Reads, m: Measured, period: Period, data_dir: Path | None) -> list[Section]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpus = os.cpu_count() or 1
    db_path = Path(getattr(store, "path", "") or "")
    sizes = [[p.name, p.stat().st_size] for p in sorted(db_path.parent.glob(db_path.name + "*"))] if db_path.name else []
    if data_dir is not None and data_dir.exists():
        for name in ("history.log", "errors.log", "security.log"):
            if (data_dir / name).exists():
                sizes.append([name, (data_dir / name).stat().st_size])
    disk = shutil.disk_usage(db_path.parent if db_path.name else Path.cwd())
    hours = max(1, (min(period.end_ms, max(period.start_ms, m.end_ms)) - period.start_ms) / mr.HOUR_MS)
    aggs = m.aggregates

    def link(kinds: tuple[str, ...], sids: list[str]) -> list[list[Any]]:
        rows = []
        for sid in sids:
            n = sum(aggs[(k, sid)].count for k in kinds if (k, sid) in aggs)
            rows.append([sid, n, round(n / hours, 1), sum(aggs[(k, sid)].active_s for k in kinds if (k, sid) in aggs),
                         f"{m.interface_pct[sid]:.3f}" if sid in m.interface_pct else "-"])
        return rows
    soas = sorted(m.soa)
    lsmss = sorted(m.lsms)
    return [
        Section("RP9-4.8", "Overall CPU System Utilization", ["CPUs", "load 1 min", "load 5 min", "load 15 min"],
                [[cpus, round(load[0], 2), round(load[1], 2), round(load[2], 2)]],
                note="at the time the report was made", source="RP9-4 item 8, L18500"),
        Section("RP9-4.9", "Storage Utilization", ["file", "bytes"],
                sizes + [["disk used", disk.used], ["disk free", disk.free]], source="RP9-4 item 9"),
        Section("RP9-4.10", "Application Performance: Downloads per Second",
                ["LSMS", "transactions", "TPS while busy", "busiest second"],
                [[sid, r.count, r.rate if r.rate is not None else "-", r.peak_per_s] for sid, r in m.lsms.items()],
                source="RP9-4 item 10; Exhibit K Fig 31 L94050"),
        Section("RP9-4.11", "Application Performance: Subscription Activation Time",
                ["broadcast kind", "broadcasts", "mean broadcast time (ms)"],
                [[k, n, mean if mean is not None else "-"] for k, (n, mean) in sorted(m.broadcast_by_kind.items())],
                source="RP9-4 item 11"),
        Section("RP9-4.12", "NPAC SMS-SOA Link Utilization",
                ["SOA", "transactions", "per hour", "busy seconds", "interface availability %"], link(
                    (mr.SOA_REQUEST, mr.SOA_MISC, mr.SOA_NOTIFICATION), soas), source="RP9-4 item 12"),
        Section("RP9-4.13", "NPAC SMS-LSMS Link Utilization",
                ["LSMS", "transactions", "per hour", "busy seconds", "interface availability %"], link(
                    (mr.LSMS_TRANSACTION, mr.LSMS_REQUEST, mr.LSMS_MISC), lsmss), source="RP9-4 item 13"),
        Section("RP9-4.14", "Application Performance: SOA/LSMS Response Time",
                ["system", "direction", "transactions", "mean ms", "p95 ms", "max ms"],
                [[sid, kind, a.count, round(a.mean_ms, 1) if a.mean_ms is not None else "-", a.p95(), a.max_ms]
                 for (kind, sid), a in sorted(aggs.items())
                 if kind in (mr.SOA_REQUEST, mr.LSMS_REQUEST, mr.LSMS_TRANSACTION, mr.SOA_NOTIFICATION)],
                source="RP9-4 item 14"),
        Section("RP9-4.15", "Application Performance: Interface Transaction Rate",
                ["system", "interface", "transactions", "TPS while busy", "busiest second", "errors"],
                [[sid, "SOA", r.count, r.rate if r.rate is not None else "-", r.peak_per_s, r.errors]
                 for sid, r in m.soa.items()]
                + [[sid, "LSMS", r.count, r.rate if r.rate is not None else "-", r.peak_per_s, r.errors]
                   for sid, r in m.lsms.items()], source="RP9-4 item 15; Exhibit K Fig 32 L94128"),
        Section("RP9-4.16", "Application Performance: Provider SMS Database Sampling",
                ["audits", "TNs audited", "discrepancies"],
                [list(store.db.execute(
                    "SELECT count(*), coalesce(sum(tns_complete), 0), coalesce(sum(discrepancies), 0) FROM audits "
                    "WHERE created_ms >= ? AND created_ms < ?", [period.start_ms, period.end_ms]).fetchone())],
                source="RP9-4 item 16"),
    ]


# ---- RP9-5 Security Reports ------------------------------------------------------------------------
INVALID_EVENTS = ("security-violation", "association-refused", "login-failed")


def rp9_5(store: _Reads, security: list[dict[str, Any]], chain: str, directory: Any, users: list[dict[str, Any]],
          limit: int) -> list[Section]:
    sps = store.select("service_providers", order_by="sp_id")
    functions = sorted({f for r in sps for f in (r["allowable_functions"] or [])})
    by_event = Counter(r.get("event", "?") for r in security)
    invalid = [r for r in security if r.get("event") in INVALID_EVENTS]
    inv_rows, inv_note = _cut([[r.get("time", ""), r.get("event", ""), r.get("kind", r.get("reason", "")),
                                r.get("system_id", r.get("user", "")), r.get("peer", "")] for r in invalid], limit)
    keys = []
    for party in sorted(directory or [], key=lambda p: p.system_id):
        for list_id, kl in sorted(party.key_lists.items()):
            keys.append([party.system_id, list_id, len(kl.active_ids()), len(kl.retired),
                         "warning: fewer than 100 keys" if len(kl.active_ids()) < 100 else ""])
    return [
        Section("RP9-5.17", "Access Privileges Matrix", ["SPID", *functions],
                [[r["sp_id"], *("x" if f in (r["allowable_functions"] or []) else "" for f in functions)] for r in sps],
                source="RP9-5 item 17, L18544"),
        Section("RP9-5.18", "Authorized Users List", ["user", "kind", "role / system type"],
                [[u["user"], u["kind"], u["role"]] for u in users], source="RP9-5 item 18"),
        Section("RP9-5.19", "Security Log", ["event", "records"], [[e, n] for e, n in sorted(by_event.items())],
                note=f"audit log chain: {chain}", source="RP9-5 item 19; FRS §7 security audit log"),
        Section("RP9-5.20", "Invalid Access Attempts", ["time (GMT)", "event", "kind", "system / user", "peer"],
                inv_rows, note=inv_note, source="RP9-5 item 20; SLR 18 L86800"),
        Section("RP9-5.21", "Encryption Keys List", ["system", "key list", "usable keys", "retired", "note"], keys,
                source="RP9-5 item 21; Exhibit K error 4500 L89780"),
    ]


# ---- RP9-6 Log File Reports ------------------------------------------------------------------------
def rp9_6(store: _Reads, data_dir: Path | None, period: Period, sp: str | None, aggs: dict, limit: int
          ) -> list[Section]:
    history = read_log(data_dir / "history.log", period.start_ms, period.end_ms) if data_dir else []
    errors = read_log(data_dir / "errors.log", period.start_ms, period.end_ms) if data_dir else []
    if sp:
        history = [h for h in history if h.get("sp_id") == sp]
        errors = [e for e in errors if e.get("sp_id") == sp]
    hist_counts = Counter((h.get("activity") or "", h.get("userid") or "", h.get("status_flag") or "") for h in history)
    err_counts = Counter((e.get("activity") or "", e.get("sp_id") or "npac", str(e.get("cause") or e.get("code") or ""))
                         for e in errors)
    outbox_sql = ("SELECT recipient, notification, state, count(*) FROM notification_outbox "
                  "WHERE created_ms >= ? AND created_ms < ?" + (" AND recipient = ?" if sp else "")
                  + " GROUP BY recipient, notification, state ORDER BY recipient, notification, state")
    outbox = store.db.execute(outbox_sql, [period.start_ms, period.end_ms, *([sp] if sp else [])]).fetchall()
    sv_tx = sorted((party.split("|"), a.count) for (kind, party), a in aggs.items()
                   if kind == mr.USAGE and "|SV transactions|" in party)
    admin = store.select("service_providers", "(modified_ms >= ? AND modified_ms < ?) OR (created_ms >= ? AND "
                         "created_ms < ?)", [period.start_ms, period.end_ms] * 2, order_by="sp_id")
    personnel = [h for h in history if (h.get("userid") or "") == "npac"]
    p_rows, p_note = _cut([[h.get("date", ""), h.get("time", ""), h.get("activity", ""), h.get("tn", ""),
                            h.get("version_id", ""), h.get("initial_status", ""), h.get("new_status", "")]
                           for h in personnel], limit)
    return [
        Section("RP9-6.22", "History Report", ["activity", "user", "status flag", "records"],
                [[a, u, f, n] for (a, u, f), n in sorted(hist_counts.items())],
                note=f"{len(history)} history records", source="RP9-6 item 22, L18572; R9-11"),
        Section("RP9-6.23", "Error Report", ["activity", "SPID", "cause", "records"],
                [[a, s, c, n] for (a, s, c), n in sorted(err_counts.items())],
                note=f"{len(errors)} errors", source="RP9-6 item 23; R9-12.1"),
        Section("RP9-6.24", "Service Provider Notification Report", ["recipient", "notification", "state", "count"],
                [list(r) for r in outbox], source="RP9-6 item 24"),
        Section("RP9-6.25", "Subscription Transaction Report", ["SPID", "transaction", "TNs"],
                [[p[0], p[2], n] for p, n in sv_tx if not sp or p[0] == sp], source="RP9-6 item 25"),
        Section("RP9-6.26", "Service Provider Administration Report", ["SPID", "name", "created", "modified", "deleted"],
                [[r["sp_id"], r["name"], gmt(r["created_ms"]), gmt(r["modified_ms"]), gmt(r["deleted_ms"])]
                 for r in admin if not sp or r["sp_id"] == sp], source="RP9-6 item 26"),
        Section("RP9-6.27", "Subscription Administration Report",
                ["date", "time", "activity", "TN", "version", "from", "to"], p_rows,
                note=p_note or "NPAC personnel actions on subscription versions", source="RP9-6 item 27"),
    ]


# ---- RP9-7 Audit Reports, RR9-1 Data Integrity -----------------------------------------------------
def rp9_7(store: _Reads, period: Period, sp: str | None, limit: int) -> list[Section]:
    where = "created_ms >= ? AND created_ms < ?" + (" AND requesting_sp = ?" if sp else "")
    audits = store.select("audits", where, [period.start_ms, period.end_ms, *([sp] if sp else [])], order_by="audit_id")
    rows, note = _cut([[a["audit_id"], a["name"] or "", a["requesting_sp"] or "npac", f"{a['tn_start']}-{a['tn_stop']}",
                        a["status"], a["tns_total"] or 0, a["discrepancies"] or 0, gmt(a["created_ms"]),
                        gmt(a["completed_ms"])] for a in audits], limit)
    return [Section("RP9-7", "Audit Results Report",
                    ["audit", "name", "requested by", "TN range", "status", "TNs", "discrepancies", "created", "completed"],
                    rows, note=note, source="RP9-7, L18610")]


def rr9_1(store: _Reads, security_chain: tuple[bool, str], limit: int) -> list[Section]:
    """Per-TN invariants over every TN with a version in flight or active, the journal's sequence
    continuity and the security log's hash chain."""
    violations: list[list[Any]] = []
    tns = [r[0] for r in store.db.execute(
        "SELECT DISTINCT tn FROM subscription_versions WHERE status NOT IN (?, ?) ORDER BY tn",
        [Status.OLD.value, Status.CANCELED.value]).fetchall()]
    for tn in tns:
        versions = [SubscriptionVersion.from_row(r) for r in store.select("subscription_versions", "tn = ?", [tn])]
        for v in check_tn(versions):
            violations.append([tn, v.rule, " ".join(map(str, v.version_ids))])
    first, last, rows = store.db.execute("SELECT min(sequence), max(sequence), count(*) FROM journal").fetchone()
    gapless = rows == 0 or (last - first + 1) == rows
    checks = [
        ["subscription invariants (RN5-1..RN5-3)", f"{len(tns)} TNs checked", "ok" if not violations else
         f"{len(violations)} violations"],
        ["journal sequence", f"{rows} rows {first or 0}..{last or 0}", "ok" if gapless else "gap"],
        ["security audit log chain", security_chain[1], "ok" if security_chain[0] else "broken"],
    ]
    cut, note = _cut(violations, limit)
    return [Section("RR9-1", "Data Integrity Report", ["check", "scope", "result"], checks,
                    note=("violations: " + "; ".join(f"{t} {r}" for t, r, _ in cut) + (f" ({note})" if note else ""))
                    if violations else "", source="RR9-1, L18626")]

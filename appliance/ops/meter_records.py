"""Service-level records as stored (tables `slr_buckets`, `slr_intervals`) and the arithmetic both
the meters (writing) and the reports (reading) need: latency histograms, interval unions.

A bucket row aggregates one kind of measurement for one party (a carrier system id, a broadcast
kind, "" for the node) over one bucket of time (an hour by default): count, errors, sum and max of
the latencies, a sparse histogram, how many seconds had activity and the busiest second. Exhibit G
asks for a 95th percentile (SLR 3), means (SLR 4) and rates (SLR 5, 6) per calendar month; all three
come out of merged buckets without keeping a row per request.

Histogram keys are latencies rounded up to three significant digits (1 ms steps below 1 s, 10 ms
below 10 s, ...), so a percentile read from it is at most 1 % above the true one and never below.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.store.store import _Reads

HOUR_MS = 3_600_000
DAY_MS = 86_400_000

# bucket kinds
SOA_REQUEST = "soa-request"      # SOA -> NPAC transactions (SLR 3 and 5)
SOA_MISC = "soa-misc"            # SOA queries, audits and edits (refused input): outside SLR 3
LSMS_REQUEST = "lsms-request"    # LSMS -> NPAC transactions (SLR 3)
LSMS_MISC = "lsms-misc"
LSMS_TRANSACTION = "lsms-transaction"  # NPAC -> LSMS requests and notifications (SLR 6), round trip
SOA_NOTIFICATION = "soa-notification"  # NPAC -> SOA notifications, round trip
BROADCAST = "broadcast"          # per version: broadcast start -> complete (SLR 4), party = broadcast kind
BROADCAST_LSMS = "broadcast-lsms"  # per version and LSMS: start -> that LSMS's result
USAGE = "usage"                  # billing elements: party "<sp>|<element>|<subtype>", count = quantity
ASSOCIATION = "association"      # associations established, per system id

# interval kinds
SERVICE = "service"      # the node live and serving (G(a)); party = node name
INTERFACE = "interface"  # a carrier with at least one open association (G(b)); party = system id
OUTAGE = "outage"        # details: scheduled, notice_ms, routine, notified_ms, updates_ms, description
CUTOVER = "cutover"      # start = failure detected, end = the other node accepting (SLR 8)
RESTORAL_PARTIAL = "restoral-partial"  # SLR 9
RESTORAL_FULL = "restoral-full"        # SLR 10
TROUBLE_TICKET = "trouble-ticket"      # details: category, problem ("software" | "hardware" | ...)
CHANGE = "change"        # significant changes (Exhibit H monthly item 3); details: area, description
EVENT_KINDS = (OUTAGE, CUTOVER, RESTORAL_PARTIAL, RESTORAL_FULL, TROUBLE_TICKET, CHANGE)


# ---- histograms -----------------------------------------------------------------------------------
def hist_key(ms: float) -> int:
    """`ms` rounded up to three significant digits."""
    v = max(0, math.ceil(ms))
    if v < 1000:
        return v
    step = 10 ** (len(str(v)) - 3)
    return -(-v // step) * step


def hist_add(hist: dict[str, int], ms: float, n: int = 1) -> None:
    key = str(hist_key(ms))
    hist[key] = hist.get(key, 0) + n


def hist_merge(into: dict[str, int], other: Mapping[str, int]) -> dict[str, int]:
    for key, n in other.items():
        into[key] = into.get(key, 0) + n
    return into


def percentile(hist: Mapping[str, int], pct: float) -> int | None:
    """Nearest-rank percentile: the smallest key with at least pct % of the values at or below it."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(total * pct / 100))
    seen = 0
    for key in sorted(hist, key=int):
        seen += hist[key]
        if seen >= rank:
            return int(key)
    return int(max(hist, key=int))


def share_at_most(hist: Mapping[str, int], limit_ms: float) -> float | None:
    """Fraction of the values at or below `limit_ms`."""
    total = sum(hist.values())
    if total == 0:
        return None
    return sum(n for key, n in hist.items() if int(key) <= limit_ms) / total


# ---- aggregates ----------------------------------------------------------------------------------
@dataclass
class Aggregate:
    """One kind/party merged over some buckets."""

    count: int = 0
    errors: int = 0
    sum_ms: int = 0
    max_ms: int = 0
    active_s: int = 0
    peak_per_s: int = 0
    hist: dict[str, int] = field(default_factory=dict)

    def merge_row(self, row: Mapping[str, Any]) -> "Aggregate":
        self.count += row["count"] or 0
        self.errors += row["errors"] or 0
        self.sum_ms += row["sum_ms"] or 0
        self.max_ms = max(self.max_ms, row["max_ms"] or 0)
        self.active_s += row["active_s"] or 0
        self.peak_per_s = max(self.peak_per_s, row["peak_per_s"] or 0)
        if row.get("hist"):
            hist_merge(self.hist, row["hist"])
        return self

    @property
    def mean_ms(self) -> float | None:
        return self.sum_ms / self.count if self.count else None

    def p95(self) -> int | None:
        return percentile(self.hist, 95)

    def rate_active(self) -> float | None:
        """Transactions per second over the seconds that had any (the rate while busy)."""
        return self.count / self.active_s if self.active_s else None


HIST_KINDS = (SOA_REQUEST, LSMS_REQUEST, LSMS_TRANSACTION, SOA_NOTIFICATION)  # the percentiles reported


def aggregates(reader: _Reads, start_ms: int, end_ms: int, kinds: Iterable[str] | None = None,
               hist_kinds: Iterable[str] = HIST_KINDS) -> dict[tuple[str, str], Aggregate]:
    """(kind, party) -> Aggregate over the buckets starting in [start_ms, end_ms); histograms merged
    for `hist_kinds` only (decoding them is most of the cost)."""
    kinds = tuple(kinds) if kinds is not None else None
    where = "start_ms >= ? AND start_ms < ?"
    params: list[Any] = [start_ms, end_ms]
    if kinds:
        where += f" AND kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    out: dict[tuple[str, str], Aggregate] = {}
    sql = ("SELECT kind, party, sum(count) AS count, sum(errors) AS errors, sum(sum_ms) AS sum_ms, "
           "max(max_ms) AS max_ms, sum(active_s) AS active_s, max(peak_per_s) AS peak_per_s "
           f"FROM slr_buckets WHERE {where} GROUP BY kind, party")
    for row in reader.db.execute(sql, params).fetchall():
        kind, party, *rest = row
        out[(kind, party)] = Aggregate().merge_row(dict(zip(
            ("count", "errors", "sum_ms", "max_ms", "active_s", "peak_per_s"), rest)))
    hist_kinds = tuple(k for k in hist_kinds if kinds is None or k in kinds)
    if hist_kinds:
        for kind, party, hist in reader.db.execute(
                "SELECT kind, party, hist FROM slr_buckets WHERE start_ms >= ? AND start_ms < ? "
                f"AND kind IN ({','.join('?' * len(hist_kinds))}) AND hist IS NOT NULL AND hist != '{{}}'",
                [start_ms, end_ms, *hist_kinds]).fetchall():
            hist_merge(out[(kind, party)].hist, json.loads(hist))
    return out


def daily_series(reader: _Reads, start_ms: int, end_ms: int, kinds: Iterable[str]) -> dict[int, dict[str, int]]:
    """Day start -> kind -> count (the charts' data)."""
    kinds = tuple(kinds)
    rows = reader.db.execute(
        f"SELECT (start_ms / {DAY_MS}) * {DAY_MS} AS day, kind, sum(count) FROM slr_buckets "
        f"WHERE start_ms >= ? AND start_ms < ? AND kind IN ({','.join('?' * len(kinds))}) GROUP BY day, kind",
        [start_ms, end_ms, *kinds]).fetchall()
    out: dict[int, dict[str, int]] = {}
    for day, kind, n in rows:
        out.setdefault(int(day), {})[kind] = int(n)
    return out


def intervals(reader: _Reads, kinds: Iterable[str], start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    """Interval rows of `kinds` overlapping [start_ms, end_ms) (open ones run to their last end)."""
    kinds = tuple(kinds)
    return reader.select("slr_intervals",
                         f"kind IN ({','.join('?' * len(kinds))}) AND start_ms < ? AND coalesce(end_ms, start_ms) >= ?",
                         [*kinds, end_ms, start_ms], order_by="start_ms, interval_id")


def first_record_ms(reader: _Reads, kind: str, party: str | None = None) -> int | None:
    where, params = "kind = ?", [kind]
    if party is not None:
        where, params = where + " AND party = ?", params + [party]
    row = reader.db.execute(f"SELECT min(start_ms) FROM slr_intervals WHERE {where}", params).fetchone()
    return row[0] if row and row[0] is not None else None


# ---- interval arithmetic -------------------------------------------------------------------------
Span = tuple[int, int]


def union(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted((s, e) for s, e in spans if e > s):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def clip(spans: Iterable[Span], start: int, end: int) -> list[Span]:
    return [(max(s, start), min(e, end)) for s, e in spans if min(e, end) > max(s, start)]


def subtract(spans: Iterable[Span], cut: Iterable[Span]) -> list[Span]:
    cut = union(cut)
    out: list[Span] = []
    for s, e in union(spans):
        pos = s
        for cs, ce in cut:
            if ce <= pos or cs >= e:
                continue
            if cs > pos:
                out.append((pos, cs))
            pos = max(pos, ce)
        if pos < e:
            out.append((pos, e))
    return out


def total(spans: Iterable[Span]) -> int:
    return sum(e - s for s, e in union(spans))

"""Console bench: time to compute the monthly report over a month of recorded activity at the load of
the NPAC bench (10 SOAs at 3 actions/s each, 10 LSMSs at 10 requests/s each, one port per second per
carrier so 10 activation broadcasts/s, each to 10 LSMSs).

A month (30 days) of that activity is written into a fresh store the way the meters write it: hourly
aggregates per kind and party, merged and flushed through the meters' own write path (one writer
transaction per simulated day), with latency histograms drawn from fixed distributions (seeded), the
node's in-service interval, each carrier's interface intervals (one drop per carrier per week), an
unscheduled and a scheduled outage, cutover, tickets. Then the monthly management report (Exhibit G
with the prior month, Exhibit H RP9-1..RR9-1, usage, security log of 2 000 records) is built and
rendered as text and as HTML; median over `--runs` with min..max. Target: the whole report in under
5 s. Writes var/bench/console.json.

    python -m tests.bench.console [--runs 5] [--days 30]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from appliance.ops import meter_records as mr
from appliance.ops.meters import _Acc, install_meters, usage_party
from appliance.ops.reports.build import Sources, build
from appliance.ops.reports.periods import Period
from appliance.ops.reports.render_html import render_html
from appliance.ops.reports.render_text import render_text
from appliance.ops.security_log import SecurityLog
from tests.support.meter_rig import Clock, Services, ms

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"
CARRIERS = [f"{i:04d}" for i in range(1, 11)]
SOA_ACTIONS_PER_S, LSMS_TPS, PORTS_PER_S = 3, 10, 1  # per carrier, as the NPAC bench offers
TARGET_S = 5.0
MONTH = (2026, 3)


_SAMPLES: dict[tuple[float, float], list[list[float]]] = {}


def _acc(rng: random.Random, count: int, median_ms: float, spread: float, samples: int = 400) -> _Acc:
    """About `count` observations over an hour, latencies log-normal: one of 8 drawn samples per law,
    scaled up to the count (drawing a fresh one per hour would cost more than the report)."""
    pool = _SAMPLES.setdefault((median_ms, spread), [
        [rng.lognormvariate(0, spread) * median_ms for _ in range(samples)] for _ in range(8)])
    draws = rng.choice(pool)
    sample: dict[str, int] = {}
    for v in draws:
        mr.hist_add(sample, v)
    hist = {k: max(1, round(n * count / samples)) for k, n in sample.items()}
    n = sum(hist.values())
    return _Acc(count=n, sum_ms=round(sum(draws) * n / samples), max_ms=round(max(draws)), active_s=3600,
                peak_per_s=max(1, round(n / 3600 * 2)), hist=hist)


def hour_of_activity(rng: random.Random, hour: int) -> dict[tuple[int, str, str], _Acc]:
    out: dict[tuple[int, str, str], _Acc] = {}
    for sid in CARRIERS:
        out[(hour, mr.SOA_REQUEST, sid)] = _acc(rng, SOA_ACTIONS_PER_S * 3600, 25, 0.5)
        out[(hour, mr.SOA_MISC, sid)] = _acc(rng, 120, 40, 0.6)
        out[(hour, mr.SOA_NOTIFICATION, sid)] = _acc(rng, 4 * PORTS_PER_S * 3600, 6, 0.4)
        out[(hour, mr.LSMS_TRANSACTION, sid)] = _acc(rng, LSMS_TPS * 3600, 5, 0.4)
        out[(hour, mr.BROADCAST_LSMS, sid)] = _acc(rng, len(CARRIERS) * PORTS_PER_S * 3600, 60, 0.5)
        ports = PORTS_PER_S * 3600
        for element, subtype, n in (("SV transactions", "create", 2 * ports), ("SV transactions", "activate", ports),
                                    ("TN Porting Event", "", ports)):
            out[(hour, mr.USAGE, usage_party(sid, element, subtype))] = _Acc(count=n, active_s=3600, peak_per_s=3)
    out[(hour, mr.BROADCAST, "activate")] = _acc(rng, len(CARRIERS) * PORTS_PER_S * 3600, 80, 0.5)
    return out


async def record(tmp: Path, days: int, seed: int) -> tuple[Services, Clock, Path]:
    rng = random.Random(seed)
    start = ms(f"{MONTH[0]}-{MONTH[1]:02d}-01 00:00")
    clock = Clock(start)
    services = Services(tmp / "npac.sqlite", clock)
    meters = install_meters(services, node="primary", flush_s=3600)
    await meters.start()
    for sid in CARRIERS:
        meters._interval(mr.INTERFACE, sid, True)
    log = SecurityLog(tmp / "security.log",
                      clock=lambda: dt.datetime.fromtimestamp(clock.now / 1000, dt.timezone.utc))
    for day in range(days):
        for h in range(24):
            hour = start + (day * 24 + h) * mr.HOUR_MS
            meters._pending.update(hour_of_activity(rng, hour))
        clock.set(start + day * mr.DAY_MS + 12 * mr.HOUR_MS)
        if day % 7 == 3:  # each carrier drops its associations for 2 minutes once a week
            for sid in CARRIERS:
                meters._interval(mr.INTERFACE, sid, False)
            clock.set(clock.now + 120_000)
            for sid in CARRIERS:
                meters._interval(mr.INTERFACE, sid, True)
        for i in range(2000 // days + 1):
            log.record("security-violation" if i % 10 == 0 else "association-established",
                       system_id=CARRIERS[i % 10], peer=f"10.0.0.{i % 10}:4000", kind="signature")
        clock.set(start + (day + 1) * mr.DAY_MS - 1)
        await meters.flush()
    meters.record_event(mr.OUTAGE, start + 5 * mr.DAY_MS, start + 5 * mr.DAY_MS + 20 * 60_000,
                        {"scheduled": False, "notified_ms": start + 5 * mr.DAY_MS + 5 * 60_000})
    meters.record_event(mr.OUTAGE, start + 12 * mr.DAY_MS, start + 12 * mr.DAY_MS + 4 * mr.HOUR_MS,
                        {"scheduled": True, "routine": True, "notice_ms": start})
    meters.record_event(mr.CUTOVER, start + 5 * mr.DAY_MS, start + 5 * mr.DAY_MS + 7 * 60_000)
    for i in range(40):
        meters.record_event(mr.TROUBLE_TICKET, start + i * 15 * mr.HOUR_MS, None,
                            {"category": f"category {i % 12}", "problem": "software" if i % 5 == 0 else ""})
    clock.set(start + days * mr.DAY_MS)
    await meters.close()
    return services, clock, tmp / "security.log"


def bench(runs: int, days: int, quiet: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        services, clock, log = asyncio.run(record(tmp, days, seed=6))
        recorded_s = time.perf_counter() - t0
        buckets = services.store.db.execute("SELECT count(*) FROM slr_buckets").fetchone()[0]
        observations = services.store.db.execute(
            "SELECT coalesce(sum(count), 0) FROM slr_buckets WHERE kind != 'usage'").fetchone()[0]
        size = sum(p.stat().st_size for p in tmp.glob("npac.sqlite*"))
        src = Sources(services.store, tmp, log)
        period = Period.month(*MONTH)
        build_s, text_s, html_s, total_s = [], [], [], []
        for i in range(runs):
            a = time.perf_counter()
            report = build("management", src, period, clock())
            b = time.perf_counter()
            render_text(report)
            c = time.perf_counter()
            html = render_html(report)
            e = time.perf_counter()
            build_s.append(b - a)
            text_s.append(c - b)
            html_s.append(e - c)
            total_s.append(e - a)
            if not quiet:
                print(f"  run {i + 1}: build {b - a:.3f} s, text {c - b:.3f} s, html {e - c:.3f} s", flush=True)
        services.close()

    def summary(values: list[float]) -> dict:
        return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
                "max": round(max(values), 4)}
    median = statistics.median(total_s)
    return {
        "what": f"monthly report over {days} days recorded at the NPAC bench load",
        "load": {"soas": len(CARRIERS), "soa_actions_per_s_each": SOA_ACTIONS_PER_S, "lsms": len(CARRIERS),
                 "lsms_tps_each": LSMS_TPS, "activation_broadcasts_per_s": PORTS_PER_S * len(CARRIERS)},
        "recorded": {"bucket_rows": buckets, "observations": observations, "store_bytes": size,
                     "seconds_to_record": round(recorded_s, 1)},
        "runs": runs, "build_s": summary(build_s), "text_s": summary(text_s), "html_s": summary(html_s),
        "report_s": summary(total_s), "html_bytes": len(html), "target_s": TARGET_S,
        "meets_target": median < TARGET_S,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_1min_after": round(os.getloadavg()[0], 2)},
    }


def report(res: dict) -> str:
    r, rec = res["report_s"], res["recorded"]
    return "\n".join([
        f"console: {res['what']}",
        f"  recorded {rec['observations']:,} observations as {rec['bucket_rows']:,} bucket rows "
        f"({rec['store_bytes'] / 1e6:.1f} MB store, {rec['seconds_to_record']} s to write)",
        f"  monthly report (build + text + html), {res['runs']} runs: median {r['median']:.3f} s "
        f"({r['min']:.3f}..{r['max']:.3f}); build {res['build_s']['median']:.3f} s, "
        f"html {res['html_s']['median']:.3f} s; target < {res['target_s']} s: "
        f"{'met' if res['meets_target'] else 'MISSED'}"])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="Console bench: the monthly report over a recorded month")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.days <= 31 or args.runs < 1:
        p.error("--days must be 1..31 and --runs at least 1")
    res = bench(args.runs, args.days, args.quiet)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "console.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(report(res))
    print(f"  wrote {out.relative_to(ROOT)}")
    return res


if __name__ == "__main__":
    main()

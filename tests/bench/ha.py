"""HA bench: cutover time of the real pair, and what synchronous replication costs the SOAs.

1. Cutover (contract 12.4 and Exhibit G SLR 8: 10 minutes; this product's target: median under 10 s):
   the workstation pair (`appliance.pair`: node + npac-ha per side, pty serial cable, the simulated
   power switch) with npac-ha's default timers (heartbeat 0.5 s, dead time 4 s); a SOA runs continuous
   creates; the live side's node and npac-ha get SIGKILL; the figure is the time from the kill to the
   SOA's association accepted by the other side. The killed side restarts and rejoins as standby
   before the next kill; `--cutovers` kills in all, alternating sides.
2. Throughput: SOAs each sending creates one after the other (closed loop), for `--duration` s,
   against (a) the pair, every answer waiting for the standby's acknowledgement (sync replication),
   and (b) the same node alone (no [ha]: no replication). Throughput is capacity: a closed loop with
   few SOAs measures the round trip, not what the node can carry, so the bench sweeps the number of
   SOAs (`--streams`, e.g. 4,8,16,24,32) and takes, for each mode, the best of the per-level medians
   (`--runs` runs per level, each on fresh stores). The ratio (a)/(b) of those capacities must be at
   least 0.7; the per-level ratios are reported beside it, and so is how long answers waited for the
   standby (the live node's ack_wait_ms), which is what sync replication costs each request.

    python -m tests.bench.ha [--cutovers 10] [--runs 3] [--duration 10] [--streams 4,8,16,24,32]
Writes var/bench/ha.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from appliance.control import request_async
from appliance.pair import Timing, write_pair_config
from appliance.peers.demo_keys import DemoKeys
from tests.bench import publish
from tests.support.pair_rig import (LIVE, SoaLoad, hosts, pair_ports, start_pair, wait_current_standby,
                                    wait_roles)

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"
DEFAULT_TIMING = Timing(interval=0.5, dead_time=4.0, fence_timeout=10.0, ack_timeout=2.0)  # npac-ha defaults
CUTOVER_TARGET_S = 10.0
CONTRACT_S = 600.0
RATIO_TARGET = 0.7


async def cutovers(base: Path, count: int) -> list[float]:
    pair = await start_pair(base, DEFAULT_TIMING)
    load = SoaLoad(DemoKeys(base / "keys"), hosts(pair.ports))
    runner = asyncio.ensure_future(load.run())
    times: list[float] = []
    try:
        live, other = "primary", "dr"
        for _ in range(count):
            before = len(load.acknowledged)
            while len(load.acknowledged) < before + 3:
                await asyncio.sleep(0.05)
            associations = len(load.reassociated_at)
            killed = time.monotonic()
            pair.kill_side(live)
            await wait_roles(pair, {other: LIVE}, timeout=120)
            while len(load.reassociated_at) == associations:
                await asyncio.sleep(0.02)
            times.append(load.reassociated_at[-1] - killed)
            print(f"  cutover {len(times)}: {times[-1]:.2f} s ({live} killed)", flush=True)
            await pair.start_side(live)
            await wait_current_standby(pair, live, other, timeout=120)
            live, other = other, live
    finally:
        load.stop.set()
        runner.cancel()
        await pair.stop()
    return times


async def closed_loop(keys: DemoKeys, host_list: list, streams: int, duration: float) -> float:
    # every stream ports its own slice of NPA-NXX 303555 (0001's): a TN outside it would be refused,
    # and a refusal is not a create
    span = 10_000 // streams
    loads = [SoaLoad(keys, host_list, first_tn=3035550000 + k * span) for k in range(streams)]
    tasks = [asyncio.ensure_future(load.run()) for load in loads]
    await asyncio.sleep(2.0)  # associated and warm
    start = sum(len(load.acknowledged) for load in loads)
    t0 = time.monotonic()
    await asyncio.sleep(duration)
    done = sum(len(load.acknowledged) for load in loads) - start
    elapsed = time.monotonic() - t0
    for load in loads:
        load.stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    refused = [r for load in loads for r in load.refused]
    if refused:
        raise RuntimeError(f"{len(refused)} creates refused (first: {refused[0]}): the figure would not be creates")
    if any(len(load.acknowledged) >= span for load in loads):
        raise RuntimeError(f"a stream ran past its {span} TNs: use fewer streams or a shorter run")
    return done / elapsed


async def sync_run(base: Path, streams: int, duration: float) -> tuple[float, dict]:
    """(creates/s, the live node's ack_wait_ms over the run's last writes)."""
    pair = await start_pair(base, DEFAULT_TIMING)
    try:
        rate = await closed_loop(DemoKeys(base / "keys"), hosts(pair.ports), streams, duration)
        status = await request_async(pair.socket("primary"), "status")
        return rate, status["replication"]["ack_wait_ms"]
    finally:
        await pair.stop()


async def lone_run(base: Path, streams: int, duration: float) -> float:
    """The primary's own configuration without its [ha] section: the same node, no replication."""
    from ha.cable import NullModem

    cable = NullModem()
    ports = pair_ports()
    files = write_pair_config(base, cable.ends, ports, DEFAULT_TIMING)
    cable.close()
    text = files["primary"]["node"].read_text()
    lone = base / "lone.toml"
    lone.write_text(text.replace("[ha]\n", "").replace('config = "primary-ha.toml"\n', ""))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "appliance.node", "--config", str(lone), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, cwd=str(ROOT))
    try:
        assert proc.stdout is not None
        while b"accepting CMIP" not in (line := await asyncio.wait_for(proc.stdout.readline(), 60)):
            if not line:
                raise RuntimeError("the lone node did not start")
        drain = asyncio.ensure_future(proc.stdout.read())
        rate = await closed_loop(DemoKeys(base / "keys"), hosts(ports)[:1], streams, duration)
        drain.cancel()
        return rate
    finally:
        proc.terminate()
        await proc.wait()


def _spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


async def throughput(work: Path, levels: list[int], runs: int, duration: float) -> dict:
    per_level = []
    for streams in levels:
        sync_rates, lone_rates, waits = [], [], []
        for run in range(runs):
            rate, wait = await sync_run(work / f"sync{streams}-{run}", streams, duration)
            sync_rates.append(rate)
            waits.append(wait)
            lone_rates.append(await lone_run(work / f"lone{streams}-{run}", streams, duration))
            print(f"  {streams} SOAs, run {run + 1}: sync {sync_rates[-1]:.1f} creates/s (ack wait p50 "
                  f"{wait['p50']:.1f} ms), alone {lone_rates[-1]:.1f} creates/s", flush=True)
        per_level.append({
            "streams": streams, "sync_creates_per_s": _spread(sync_rates), "alone_creates_per_s": _spread(lone_rates),
            "ratio": _spread([a / b for a, b in zip(sync_rates, lone_rates)]),
            "ack_wait_ms": {"p50": statistics.median(w["p50"] for w in waits),
                            "p95": statistics.median(w["p95"] for w in waits)}})
    best_sync = max(per_level, key=lambda lv: lv["sync_creates_per_s"]["median"])
    best_lone = max(per_level, key=lambda lv: lv["alone_creates_per_s"]["median"])
    sync_cap, lone_cap = best_sync["sync_creates_per_s"]["median"], best_lone["alone_creates_per_s"]["median"]
    return {"levels": per_level, "runs": runs, "duration_s": duration,
            "capacity": {"sync_creates_per_s": sync_cap, "sync_at_streams": best_sync["streams"],
                         "alone_creates_per_s": lone_cap, "alone_at_streams": best_lone["streams"],
                         "ratio": sync_cap / lone_cap},
            "target_ratio": RATIO_TARGET}


async def bench(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="npac-ha-bench-"))
    try:
        cut = await cutovers(work / "cutover", args.cutovers)
        tput = await throughput(work, args.streams, args.runs, args.duration)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median_cut = statistics.median(cut)
    return {
        "area": "ha", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "cpus": os.cpu_count()},
        "timing": {"heartbeat_interval_s": DEFAULT_TIMING.interval, "dead_time_s": DEFAULT_TIMING.dead_time},
        "cutover_s": {**_spread(cut), "all": cut, "count": len(cut), "target_median_s": CUTOVER_TARGET_S,
                      "contract_s": CONTRACT_S},
        "throughput": tput,
        "meets_target": (median_cut < CUTOVER_TARGET_S and max(cut) < CONTRACT_S
                         and tput["capacity"]["ratio"] >= RATIO_TARGET),
    }


def report(res: dict) -> str:
    c, t = res["cutover_s"], res["throughput"]
    cap = t["capacity"]
    lines = [
        f"HA bench (heartbeat {res['timing']['heartbeat_interval_s']} s, dead time {res['timing']['dead_time_s']} s)",
        f"  cutover, kill -9 -> SOA associated on the other node, {c['count']} times: median {c['median']:.2f} s, "
        f"max {c['max']:.2f} s (target median < {CUTOVER_TARGET_S:g} s: {c['median'] / CUTOVER_TARGET_S:.2f} of it; "
        f"contract {CONTRACT_S:g} s: {c['max'] / CONTRACT_S:.3f} of it)",
        f"  SOA creates/s by closed-loop SOAs (medians of {t['runs']} runs of {t['duration_s']:g} s):",
    ]
    for lv in t["levels"]:
        lines.append(
            f"    {lv['streams']:3d} SOAs: sync {lv['sync_creates_per_s']['median']:6.1f}, alone "
            f"{lv['alone_creates_per_s']['median']:6.1f}, ratio {lv['ratio']['median']:.2f} "
            f"({lv['ratio']['min']:.2f}-{lv['ratio']['max']:.2f}); answers waited for the standby "
            f"p50 {lv['ack_wait_ms']['p50']:.1f} ms, p95 {lv['ack_wait_ms']['p95']:.1f} ms")
    lines += [
        f"  capacity: sync {cap['sync_creates_per_s']:.1f} creates/s ({cap['sync_at_streams']} SOAs), alone "
        f"{cap['alone_creates_per_s']:.1f} ({cap['alone_at_streams']} SOAs); ratio {cap['ratio']:.2f} "
        f"(target >= {RATIO_TARGET})",
        f"  meets target: {res['meets_target']}",
    ]
    return "\n".join(lines)


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not levels or any(n < 1 or n > 100 for n in levels):
        raise argparse.ArgumentTypeError("each level is 1 to 100 SOAs")
    return levels


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="HA bench: cutover time and sync replication cost")
    p.add_argument("--cutovers", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--streams", type=_levels, default=[4, 8, 16, 24, 32],
                   help="numbers of closed-loop SOAs to sweep, comma-separated")
    args = p.parse_args(argv)
    res = asyncio.run(bench(args))
    return publish("ha", res, report(res))


if __name__ == "__main__":
    main()

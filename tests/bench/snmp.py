"""SNMP bench: how fast an NMS can walk the appliance's agent, with net-snmp's own tools.

A node and the SNMP agent (simulated hardware: 3 DS-1 / DS-0 rows, 2 interconnect paths, 7
self-checks) run as in production, in their own processes; `snmpwalk` / `snmpbulkwalk` (SNMPv3
authPriv, SHA/AES) walk (a) NPAC-APPLIANCE-MIB and (b) everything the agent serves. Each walk is one
process run, so the time includes net-snmp's start and the USM engine discovery an NMS pays once
per poll. GETs/s counts the GETNEXT requests of a walk (one per object, plus the one past the end);
for the bulk walk it is objects/s. Median over `--runs` with min..max. Writes var/bench/snmp.json.

    python -m tests.bench.snmp [--runs 7]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

from appliance.config import load_config
from tests.support.snmp_rig import (
    NPAC, NetSnmp, TrapReceiver, free_port, net_snmp_env, start_agent, start_node, write_agent_config, write_hw_sim,
)

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"
CASES = (("appliance_mib_getnext", "snmpwalk", NPAC), ("whole_agent_getnext", "snmpwalk", ".1"),
         ("whole_agent_getbulk", "snmpbulkwalk", ".1"))


def spread(values: list[float], digits: int = 4) -> dict:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def walk_once(snmp: NetSnmp, tool: str, root: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = snmp.run(tool, root, timeout=120)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {root} failed: {proc.stderr.strip()}")
    return seconds, len(NetSnmp.parse(proc.stdout))


def bench(runs: int, quiet: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="npac-snmp-bench-"))
    load_before = os.getloadavg()[0]
    procs = []
    try:
        hw = write_hw_sim(tmp / "hw")
        trapd = TrapReceiver(tmp, (bytes.fromhex("80007f5904") + b"npac-primary").hex())
        node, node_cfg, _ = start_node(tmp)
        procs += [trapd.proc, node]
        port = free_port(socket.SOCK_DGRAM)
        cfg = write_agent_config(tmp / "snmp.toml", port=port, control_socket=load_config(node_cfg).control_socket,
                                 hw_sim=hw, trap_port=trapd.port)
        procs.append(start_agent(cfg))
        snmp = NetSnmp(port, net_snmp_env(tmp / "client"))
        for _, tool, root in CASES:
            walk_once(snmp, tool, root)  # warm-up, not counted
        cases: dict[str, dict] = {}
        samples: dict[str, list[tuple[float, int]]] = {name: [] for name, _, _ in CASES}
        for i in range(runs):  # cases interleaved, so a burst of load on the machine hits all of them
            for name, tool, root in CASES:
                seconds, objects = walk_once(snmp, tool, root)
                samples[name].append((seconds, objects))
                if not quiet:
                    print(f"  snmp run {i + 1}/{runs} {name:<22}: {objects} objects in {seconds * 1000:.0f} ms",
                          flush=True)
        for name, tool, _ in CASES:
            secs = [s for s, _ in samples[name]]
            objects = max(n for _, n in samples[name])
            per_s = [(n + 1 if tool == "snmpwalk" else n) / s for s, n in samples[name]]
            cases[name] = {"objects": objects, "seconds": spread(secs),
                           ("gets_per_s" if tool == "snmpwalk" else "objects_per_s"): spread(per_s, 1)}
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "area": "snmp",
        "what": "net-snmp walks of the NPAC appliance SNMP agent (pysnmp), SNMPv3 authPriv SHA/AES over loopback "
                "UDP; one tool run per walk (start and engine discovery included)",
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": runs,
        **cases,
        "machine": {"cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                    "platform": platform.platform(), "load_1min_before": round(load_before, 2),
                    "load_1min_after": round(os.getloadavg()[0], 2)},
    }


def report(res: dict) -> str:
    lines = [f"snmp: {res['what']}",
             f"  {res['runs']} runs per case, median (min..max); {res['machine']['cores']} cores "
             f"(load {res['machine']['load_1min_before']} before, {res['machine']['load_1min_after']} after)"]
    for name, _, _ in CASES:
        case = res[name]
        rate_key = "gets_per_s" if "gets_per_s" in case else "objects_per_s"
        rate, secs = case[rate_key], case["seconds"]
        lines.append(f"  {name:<24}{case['objects']:>5} objects  {secs['median'] * 1000:7.0f} ms "
                     f"({secs['min'] * 1000:.0f}..{secs['max'] * 1000:.0f})  {rate['median']:8.1f} "
                     f"{rate_key.replace('_per_s', '/s')} ({rate['min']:.1f}..{rate['max']:.1f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="SNMP bench: walks of the appliance agent")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    res = bench(args.runs, args.quiet)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "snmp.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(report(res))
    print(f"  wrote {out.relative_to(ROOT)}")
    return res


if __name__ == "__main__":
    main()

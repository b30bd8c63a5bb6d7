"""`python -m ha.sim_fence --peer-dir DIR`: the workstation pair's fencing device.

On the appliance `firmware-hooks/fence` powers the peer off. On a workstation the peer is a set of
processes whose pid files are in DIR (node.pid, ha.pid, snmp.pid): this sends each SIGKILL, waits
until none is running, and only then prints {"fenced": true}, the same promise a power switch gives:
the peer cannot write any more. A peer that cannot be confirmed dead is reported unfenced, and so is
every call while a file `power-switch-broken` lies beside DIR (drills of a failed fence).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

PIDFILES = ("node.pid", "ha.pid", "snmp.pid")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for fencing purposes: it can no longer write
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _peers_process(pid: int, peer_dir: Path) -> bool:
    """The pid file may be stale and its number reused: only a process started with one of the peer
    side's configuration files (<base>/<side>*.toml) is the peer's."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            args = fh.read().split(b"\0")
    except OSError:
        return False
    prefix = str(peer_dir.resolve()).encode()
    return any(a.startswith(prefix) and a.endswith(b".toml") for a in args)


def fence(peer_dir: Path, timeout: float = 5.0) -> dict[str, object]:
    if (peer_dir.parent / "power-switch-broken").exists():
        return {"fence": "sim-power-switch", "peer_dir": str(peer_dir), "fenced": False, "method": "sim-power-off",
                "detail": "the power switch does not answer"}
    pids = []
    for name in PIDFILES:
        try:
            pid = int((peer_dir / name).read_text().strip())
        except (OSError, ValueError):
            continue
        if _peers_process(pid, peer_dir):
            pids.append(pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [p for p in pids if _alive(p)]
    (peer_dir / "powered-off").write_text(f"{time.time():.3f}\n")
    return {"fence": "sim-power-switch", "peer_dir": str(peer_dir), "fenced": not alive,
            "method": "sim-power-off", "detail": f"killed {len(pids) - len(alive)} of {len(pids)} processes"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sim_fence")
    parser.add_argument("--peer-dir", required=True)
    parser.add_argument("--peer", default=os.environ.get("NPAC_PEER"))
    args = parser.parse_args(argv)
    print(json.dumps(fence(Path(args.peer_dir))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

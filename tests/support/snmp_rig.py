"""Processes for the SNMP tests: an NPAC node, the SNMP agent, net-snmp's tools and snmptrapd.

Everything listens on 127.0.0.1 on free ports. net-snmp is kept away from the machine's own
configuration and persistent state (SNMPCONFPATH, SNMP_PERSISTENT_DIR under the test's tmp) and
loads MIBs only from snmp/mibs/.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MIBS = ROOT / "snmp" / "mibs"
HOOKS = ROOT / "firmware-hooks"
USER, AUTH_KEY, PRIV_KEY = "nms", "maplewood-auth-1", "maplewood-priv-1"
NPAC = ".1.3.6.1.4.1.32473.1"
SNMPTRAPD = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(probe: Callable[[], Any], timeout: float = 10.0, every: float = 0.1) -> Any:
    """probe() until it returns something truthy (or stops raising AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {probe}")
        time.sleep(every)


# ---- simulated hardware ------------------------------------------------------------------------

DEFAULT_HW = {
    "edac.json": {"controllers": [{"name": "mc0", "ce_count": 0, "ue_count": 0},
                                  {"name": "mc1", "ce_count": 0, "ue_count": 0}]},
    "sensors.json": {"sensors": [{"name": "cpu0", "value": 47.0, "max": 85.0, "crit": 95.0},
                                 {"name": "fan1", "value": 5200, "min": 800}]},
    "disks.json": {"filesystems": [{"mount": "/var", "size_bytes": 200 * 2**30, "free_bytes": 120 * 2**30}],
                   "arrays": [{"name": "md0", "members": 2, "active": 2}]},
    "watchdog.json": {"present": True, "identity": "sim_wdt", "timeout": 30, "state": "active"},
    "fence.json": {"fenced": True, "detail": "peer powered off (simulated PDU outlet 4)"},
    "links.json": {"links": [
        {"name": "t1-0001-a", "kind": "ds1", "carrier": "0001", "description": "DS-1 to carrier 0001, VPOP Montreal",
         "counters": {"in_octets": 48000, "out_octets": 52000, "in_packets": 400, "out_packets": 410, "in_errors": 2},
         "ds1": {"circuit_id": "MTL/T1/0001-A", "time_elapsed": 300, "current": {"es": 1, "lcv": 7},
                 "intervals": [{"number": 1, "counts": {"es": 3, "ses": 1, "lcv": 12}},
                               {"number": 2, "counts": {"es": 1}},
                               {"number": 3, "counts": {"es": 9}, "valid": False}]}},
        {"name": "t1-0001-a/1-12", "kind": "ds0", "parent": "t1-0001-a", "channels": "1-12", "carrier": "0001",
         "oper": "up"},
        {"name": "t1-0002-a", "kind": "ds1", "carrier": "0002", "description": "DS-1 to carrier 0002, VPOP Mississauga",
         "ds1": {"circuit_id": "MIS/T1/0002-A", "line_type": "d4", "line_coding": "ami"}},
        {"name": "ic0", "kind": "interconnect", "medium": "ethernet", "oper": "up", "speed": 1_000_000_000,
         "description": "interconnect to the DR node", "counters": {"in_octets": 10**10, "out_octets": 2 * 10**10}},
        {"name": "ttyS1", "kind": "interconnect", "medium": "serial", "oper": "up", "speed": 115200,
         "description": "serial heartbeat cable"},
    ]},
}


def write_hw_sim(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in DEFAULT_HW.items():
        (directory / name).write_text(json.dumps(body))
    return directory


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # the hook never reads half a file


# ---- processes -----------------------------------------------------------------------------------

class Proc:
    """A child process whose output is collected line by line."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT):
        self.cmd = cmd
        self.popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"{self.cmd[:3]} did not print {text!r}:\n{''.join(self.output)[-3000:]}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            return self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def start_node(tmp: Path) -> tuple[Proc, Path, int]:
    from appliance.node import write_demo_config

    port = free_port()
    cfg = write_demo_config(tmp, port)
    node = Proc([sys.executable, "-m", "appliance.node", "--config", str(cfg)])
    node.wait_for("accepting CMIP associations")
    node.wait_for("Ctrl-C releases")
    return node, cfg, port


def write_agent_config(path: Path, *, port: int, control_socket: Path, hw_sim: Path | None, trap_port: int,
                       hooks_dir: Path = HOOKS, kind: str = "trap", community: str | None = None,
                       hook_timeout: float = 3.0) -> Path:
    lines = [
        "[agent]", 'host = "127.0.0.1"', f"port = {port}", f'control_socket = "{control_socket}"',
        f'hooks_dir = "{hooks_dir}"', f'state_dir = "{path.parent / "agent-state"}"',
        "poll_interval = 0.25", "hook_interval = 0.5", f"hook_timeout = {hook_timeout}",
        'mounts = ["/"]',
    ]
    if hw_sim is not None:
        lines.append(f'hw_sim = "{hw_sim}"')
    lines += ["", "[system]", 'name = "npac-primary"', 'location = "test rack"', 'contact = "npac-ops@example.net"', "",
              "[[user]]", f'name = "{USER}"', 'auth = "SHA"', f'auth_key = "{AUTH_KEY}"', 'priv = "AES"',
              f'priv_key = "{PRIV_KEY}"', "",
              "[[trap_target]]", 'host = "127.0.0.1"', f"port = {trap_port}", f'user = "{USER}"', f'kind = "{kind}"']
    if community:
        lines += ["", "[v2c]", f'community = "{community}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def start_agent(config: Path) -> Proc:
    agent = Proc([sys.executable, "-m", "snmp.agent", "--config", str(config)])
    agent.wait_for("NPAC SNMP agent is listening")
    return agent


def net_snmp_env(tmp: Path) -> dict[str, str]:
    (tmp / "net-snmp-conf").mkdir(parents=True, exist_ok=True)
    return {"SNMP_PERSISTENT_DIR": str(tmp / "net-snmp-state"), "SNMPCONFPATH": str(tmp / "net-snmp-conf"),
            "MIBDIRS": str(MIBS), "MIBS": "", "HOME": str(tmp)}


class NetSnmp:
    """net-snmp's command-line tools against the agent; answers as {numeric OID: value text}."""

    def __init__(self, port: int, env: dict[str, str]):
        self.target = f"udp:127.0.0.1:{port}"
        self.env = {**os.environ, **env}

    def credentials(self, user: str = USER, auth: str = AUTH_KEY, priv: str = PRIV_KEY) -> list[str]:
        return ["-v3", "-l", "authPriv", "-u", user, "-a", "SHA", "-A", auth, "-x", "AES", "-X", priv]

    def run(self, tool: str, *args: str, creds: list[str] | None = None, wait: str = "1", retries: str = "1",
            timeout: float = 20) -> subprocess.CompletedProcess:
        """One net-snmp tool; wait/retries are -t/-r (a request the agent must drop needs no retry)."""
        cmd = [tool, *(creds if creds is not None else self.credentials()), "-t", wait, "-r", retries,
               "-m", "NPAC-APPLIANCE-MIB:DS1-MIB:IF-MIB:SNMPv2-MIB", "-On", "-Oq", "-Oe", "-Ot", "-OU",
               self.target, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout)

    @staticmethod
    def parse(text: str) -> dict[str, str]:
        out = {}
        for line in text.splitlines():
            if line.startswith("."):
                oid, _, value = line.partition(" ")
                out[oid] = value.strip().strip('"')
        return out

    def get(self, *oids: str, **kw: Any) -> dict[str, str]:
        proc = self.run("snmpget", *oids, **kw)
        assert proc.returncode == 0, proc.stderr
        return self.parse(proc.stdout)

    def walk(self, oid: str, **kw: Any) -> dict[str, str]:
        proc = self.run("snmpbulkwalk", oid, **kw)
        assert proc.returncode == 0, proc.stderr
        return self.parse(proc.stdout)


class TrapReceiver:
    """snmptrapd on a free port, knowing the agent's user for traps (the agent's engine id) and for
    informs (its own engine id); each notification becomes {numeric OID: value text}."""

    def __init__(self, tmp: Path, engine_id_hex: str):
        self.port = free_port(socket.SOCK_DGRAM)
        conf = tmp / "snmptrapd.conf"
        conf.write_text(
            f"createUser -e 0x{engine_id_hex} {USER} SHA {AUTH_KEY} AES {PRIV_KEY}\n"
            f"createUser {USER} SHA {AUTH_KEY} AES {PRIV_KEY}\n"
            f"authUser log {USER}\n")
        env = net_snmp_env(tmp / "trapd")
        self.proc = Proc([SNMPTRAPD, "-f", "-C", "-c", str(conf), "-Lo", "-On", "-Oq", "-Oe", "-Ot", "-m", "ALL",
                          "-F", "TRAP\t%v\n", f"udp:127.0.0.1:{self.port}"], env=env)
        self.proc.wait_for("NET-SNMP version")
        self.seen = 0

    def notifications(self) -> list[dict[str, str]]:
        out = []
        for line in list(self.proc.output):
            if line.startswith("TRAP\t"):
                out.append(dict(vb.partition(" ")[::2] for vb in line.rstrip("\n").split("\t")[1:]))
        return [{k: v.strip('"') for k, v in n.items()} for n in out]

    def wait_for(self, trap_oid: str, match: Callable[[dict[str, str]], bool] = lambda n: True,
                 timeout: float = 10.0) -> dict[str, str]:
        def found() -> dict[str, str] | None:
            for n in self.notifications():
                if n.get(".1.3.6.1.6.3.1.1.4.1.0") == trap_oid and match(n):
                    return n
            return None
        return eventually(found, timeout)

    def stop(self) -> None:
        self.proc.stop()

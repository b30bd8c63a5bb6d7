"""`python -m appliance.pair --demo` (`make run`): the primary/DR pair on one workstation.

Six processes, as on the two appliances: per side the node (`appliance.node`), `npac-ha` (`ha`) and the
SNMP agent (`snmp.agent`), each with its own configuration, SQLite store and control socket under
var/demo/<side>/. What the appliance has in hardware is stood in for here: the serial heartbeat cable
is a pty pair relayed by this process (ha.cable.NullModem), the interconnect is loopback (or an
`Interconnect`, such as the network namespaces the partition test runs each side in), and the
fencing device is `ha.sim_fence`, which kills the peer's processes (its "power switch"). Like systemd
on the appliance, this supervisor restarts a process that exits (a fenced side is "rebooted" after
`reboot_s`), so a killed live node comes back and rejoins as the standby.

Ports are the workstation ports of ARCHITECTURE.md: CMIP 10102/10202, SNMP 10161/10261; heartbeat
UDP 10694/10794 and replication 10410/10510 on loopback.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from appliance.peers.demo_keys import DEMO_CARRIERS, NPAC_SYSTEM_ID, DemoKeys
from ha.cable import NullModem
from snmp.demo import DEMO_AUTH, DEMO_HW, DEMO_PRIV, DEMO_USER, HOOKS_DIR

log = logging.getLogger("appliance.pair")
SIDES = ("primary", "dr")
DEMO_DIR = Path("var/demo")
TYPE_NAMES = {0: "soa", 1: "local-sms", 2: "soa-and-local-sms"}
DEMO_NETWORK = {"0001": ("303555", "3035550000"), "0002": ("303556", "3035560000"), "0003": ("720555", "7205550000")}
MODULES = {"node": "appliance.node", "ha": "ha", "snmp": "snmp.agent"}
LOOPBACK = ("127.0.0.1", "127.0.0.1")


class Interconnect(Protocol):
    """A real network between the sides (e.g. two network namespaces joined by a veth pair): each
    side's processes run inside it (`prefix`), heartbeats and replication use its addresses."""
    addresses: tuple[str, str]  # primary's, DR's

    def prefix(self, side: str) -> list[str]: ...

    def cut(self, cut: bool = True) -> None: ...


@dataclass(frozen=True)
class Ports:
    cmip: tuple[int, int] = (10102, 10202)
    snmp: tuple[int, int] = (10161, 10261)
    heartbeat: tuple[int, int] = (10694, 10794)
    replication: tuple[int, int] = (10410, 10510)
    trap: int = 10162


@dataclass(frozen=True)
class Timing:
    interval: float = 0.5      # heartbeat interval, s
    dead_time: float = 4.0     # both paths silent this long: the peer is lost
    fence_timeout: float = 10.0
    ack_timeout: float = 2.0
    notice_first: float = 600.0   # SLR 22/23 users' notices (drills and tests shorten them)
    notice_every: float = 1800.0
    selfcheck_every: float = 60.0  # the node's self-test / link-status runs, s
    snmp_poll: float = 1.0        # the SNMP agent's status reads, s
    snmp_hooks: float = 10.0      # the SNMP agent's own hook runs, s


def _node_toml(side: str, i: int, ports: Ports, keys: DemoKeys, timing: Timing = Timing()) -> str:
    lines = [
        "[node]", f'name = "{side}"', f'system_id = "{NPAC_SYSTEM_ID}"', f'role = "{side}"', f'data_dir = "{side}"', "",
        "[cmip]", 'host = "127.0.0.1"', f"port = {ports.cmip[i]}", 'tsap = "4e504143"', 'ssap = "0001"',
        'psap = "00000001"', "",
        "[keys]", f'private_list = "keys/{NPAC_SYSTEM_ID}/{NPAC_SYSTEM_ID}-list1.key.pem"', "key_id = 1", "",
        "[ha]", f'config = "{side}-ha.toml"', "",
        "[selfcheck]", f'hooks_dir = "{HOOKS_DIR}"', f'hw_sim = "hw-{side}"', f"interval = {timing.selfcheck_every}", "",
    ]
    for sid, (name, types) in DEMO_CARRIERS.items():
        lines += ["[[carrier]]", f'system_id = "{sid}"', f'name = "{name}"',
                  "system_types = [" + ", ".join(f'"{TYPE_NAMES[t]}"' for t in sorted(types)) + "]",
                  f'key_lists = ["keys/{sid}/{sid}-list{keys.lists[sid].list_id}.pub.pem"]',
                  f'npa_nxx = ["{DEMO_NETWORK[sid][0]}"]', f'lrn = ["{DEMO_NETWORK[sid][1]}"]', ""]
    return "\n".join(lines)


def _ha_toml(side: str, i: int, ports: Ports, timing: Timing, serial: str, base: Path,
             addresses: tuple[str, str] = LOOPBACK) -> str:
    """`addresses`: each side's interconnect address (heartbeats and replication)."""
    other, own, peer = SIDES[1 - i], addresses[i], addresses[1 - i]
    return "\n".join([
        "[ha]", f'node = "{side}"', f'peer = "{other}"', f'role = "{side}"', 'key_file = "ha.key"',
        f"interval = {timing.interval}", f"dead_time = {timing.dead_time}",
        f"notice_first = {timing.notice_first}", f"notice_every = {timing.notice_every}",
        f'control_socket = "{side}/ha.sock"', f'node_socket = "{side}/control.sock"', "",
        "[heartbeat]", f'udp_bind = "{own}:{ports.heartbeat[i]}"', f'udp_peer = "{peer}:{ports.heartbeat[1 - i]}"',
        f'serial = "{serial}"', "baudrate = 115200", "",
        "[fence]", f'command = ["{sys.executable}", "-m", "ha.sim_fence", "--peer-dir", "{(base / other).resolve()}"]',
        f"timeout = {timing.fence_timeout}", "retry = 5.0", "",
        "[replication]", f'listen = "{own}:{ports.replication[i]}"',
        f'peer = "{peer}:{ports.replication[1 - i]}"', 'policy = "async"', f"ack_timeout = {timing.ack_timeout}",
        "keepalive = 0.5", "",
    ])


def _snmp_toml(side: str, i: int, ports: Ports, timing: Timing = Timing()) -> str:
    return "\n".join([
        "[agent]", 'host = "127.0.0.1"', f"port = {ports.snmp[i]}", f'control_socket = "{side}/control.sock"',
        f'hooks_dir = "{HOOKS_DIR}"', f'hw_sim = "hw-{side}"', f'state_dir = "{side}/snmp"',
        f"poll_interval = {timing.snmp_poll}", f"hook_interval = {timing.snmp_hooks}", "",
        "[system]", f'name = "npac-{side}"', 'location = "workstation demo"', 'contact = "NPAC operations"', "",
        "[[user]]", f'name = "{DEMO_USER}"', 'auth = "SHA"', f'auth_key = "{DEMO_AUTH}"', 'priv = "AES"',
        f'priv_key = "{DEMO_PRIV}"', "",
        "[[trap_target]]", 'host = "127.0.0.1"', f"port = {ports.trap}", f'user = "{DEMO_USER}"', 'kind = "trap"', "",
    ])


def write_pair_config(base: Path, serial: tuple[str, str], ports: Ports = Ports(), timing: Timing = Timing(),
                      addresses: tuple[str, str] = LOOPBACK) -> dict[str, dict[str, Path]]:
    """Every configuration file of both sides; keys and the HA key are made once and kept."""
    import json

    base.mkdir(parents=True, exist_ok=True)
    keys = DemoKeys(base / "keys")
    key = base / "ha.key"
    if not key.exists():
        key.write_text(secrets.token_hex(32) + "\n")
    key.chmod(0o600)
    out: dict[str, dict[str, Path]] = {}
    for i, side in enumerate(SIDES):
        (base / side).mkdir(exist_ok=True)
        hw = base / f"hw-{side}"
        hw.mkdir(exist_ok=True)
        for name, body in DEMO_HW.items():
            if name != "fence.json" and not (hw / name).exists():
                (hw / name).write_text(json.dumps(body, indent=2) + "\n")
        files = {"node": base / f"{side}.toml", "ha": base / f"{side}-ha.toml", "snmp": base / f"{side}-snmp.toml"}
        files["node"].write_text(_node_toml(side, i, ports, keys, timing))
        files["ha"].write_text(_ha_toml(side, i, ports, timing, serial[i], base, addresses))
        files["snmp"].write_text(_snmp_toml(side, i, ports, timing))
        out[side] = files
    return out


class Pair:
    """The six processes, supervised. `restart=False` (tests) leaves a dead process dead until
    `start_side`; otherwise a process that exits is started again, a fenced side after `reboot_s`."""

    def __init__(self, base: Path = DEMO_DIR, ports: Ports = Ports(), timing: Timing = Timing(), *,
                 restart: bool = True, reboot_s: float = 8.0, restart_s: float = 2.0, snmp: bool = True,
                 env: dict[str, str] | None = None, interconnect: Interconnect | None = None):
        self.base = Path(base)
        self.ports, self.timing = ports, timing
        self.restart, self.reboot_s, self.restart_s = restart, reboot_s, restart_s
        self.kinds = ("node", "ha", "snmp") if snmp else ("node", "ha")
        self.env = {**os.environ, **(env or {})}
        self.cable = NullModem()
        # tests cut the interconnect (heartbeat UDP and replication TCP) apart from the serial cable
        self.interconnect = interconnect
        self.files: dict[str, dict[str, Path]] = {}
        self.procs: dict[tuple[str, str], asyncio.subprocess.Process] = {}
        self.held: set[str] = set()
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        self.cable.start()
        addresses = self.interconnect.addresses if self.interconnect is not None else LOOPBACK
        self.files = write_pair_config(self.base, self.cable.ends, self.ports, self.timing, addresses)
        for side in SIDES:
            await self.start_side(side)

    async def start_side(self, side: str) -> None:
        self.held.discard(side)
        with contextlib.suppress(FileNotFoundError):
            (self.base / side / "powered-off").unlink()
        for kind in self.kinds:
            await self._spawn(side, kind)

    async def _spawn(self, side: str, kind: str) -> None:
        old = self.procs.get((side, kind))
        if old is not None and old.returncode is None:
            return
        logfile = open(self.base / side / f"{kind}.log", "ab")
        prefix = self.interconnect.prefix(side) if self.interconnect is not None else []
        proc = await asyncio.create_subprocess_exec(
            *prefix, sys.executable, "-m", MODULES[kind], "--config", str(self.files[side][kind].resolve()),
            stdin=asyncio.subprocess.DEVNULL, stdout=logfile, stderr=asyncio.subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parents[1]), env=self.env)
        logfile.close()
        self.procs[(side, kind)] = proc
        (self.base / side / f"{kind}.pid").write_text(f"{proc.pid}\n")
        task = asyncio.get_running_loop().create_task(self._watch(side, kind, proc))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, side: str, kind: str, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if self._stopping or side in self.held or not self.restart:
            return
        fenced = (self.base / side / "powered-off").exists()
        log.warning("%s %s exited (%s); %s", side, kind, code,
                    f"rebooting the side in {self.reboot_s:g} s" if fenced else f"restarting in {self.restart_s:g} s")
        await asyncio.sleep(self.reboot_s if fenced else self.restart_s)
        if self._stopping or side in self.held:
            return
        if fenced:
            await self.start_side(side)
        else:
            await self._spawn(side, kind)

    def kill_side(self, side: str, kinds: tuple[str, ...] = ("node", "ha"), sig: int = signal.SIGKILL) -> None:
        """The side's machine dies: its processes get `sig` and stay down until start_side."""
        self.held.add(side)
        for kind in kinds:
            proc = self.procs.get((side, kind))
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)

    def socket(self, side: str, which: str = "node") -> Path:
        return self.base / side / ("control.sock" if which == "node" else "ha.sock")

    async def stop(self) -> None:
        self._stopping = True
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for (side, kind), proc in self.procs.items():
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except asyncio.TimeoutError:
                log.error("%s %s did not stop; killed", side, kind)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in list(self._watchers):
            task.cancel()
        self.cable.close()

    def cut_interconnect(self, cut: bool = True) -> None:
        """The network path between the sides (heartbeat UDP and replication) down or back."""
        assert self.interconnect is not None, "started on loopback: no interconnect to cut"
        self.interconnect.cut(cut)

    def describe(self) -> str:
        keys = (self.base / "keys").resolve()
        lines = ["NPAC SMS primary/DR pair on this workstation (Ctrl-C stops both sides)", ""]
        for i, side in enumerate(SIDES):
            lines += [
                f"  {side:<8} CMIP 127.0.0.1:{self.ports.cmip[i]} (RFC 1006; TSAP 4e504143 SSAP 0001 PSAP 00000001)",
                f"           SNMP 127.0.0.1:{self.ports.snmp[i]} (SNMPv3 user {DEMO_USER}, SHA {DEMO_AUTH!r}, "
                f"AES {DEMO_PRIV!r})",
                f"           control socket {self.socket(side).resolve()}, npac-ha {self.socket(side, 'ha').resolve()}",
                f"           logs {(self.base / side).resolve()}/{{node,ha,snmp}}.log",
            ]
        lines += [
            "",
            f"  carriers: host list primary 127.0.0.1:{self.ports.cmip[0]}, then DR 127.0.0.1:{self.ports.cmip[1]}; "
            "the standby answers try-other-host",
            f"  demo carriers {', '.join(f'{s} ({n})' for s, (n, _) in DEMO_CARRIERS.items())}; "
            f"their private key lists: {keys}/<systemId>/",
            f"  NPAC systemId {NPAC_SYSTEM_ID!r}, its public key list: {keys}/{NPAC_SYSTEM_ID}/",
            f"  traps go to 127.0.0.1:{self.ports.trap}; serial heartbeat cable: {self.cable.ends[0]} <-> "
            f"{self.cable.ends[1]}",
            "  console: .venv/bin/npac --socket var/demo/primary/control.sock status   (the DR: var/demo/dr/...; "
            "init-admin and login first for `npac pair status`, drills and the rest)",
        ]
        return "\n".join(lines)


async def wait_ready(pair: Pair, timeout: float = 60.0) -> None:
    """Both nodes answer on their control sockets and one of them is live."""
    from appliance.control import ControlError, request_async

    deadline = time.monotonic() + timeout
    roles: dict[str, str] = {}
    while time.monotonic() < deadline:
        for side in SIDES:
            try:
                roles[side] = (await request_async(pair.socket(side), "status"))["role"]
            except ControlError:
                roles.pop(side, None)
        if len(roles) == 2 and "primary-live" in roles.values():
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the pair did not come up in {timeout:g} s (roles {roles})")


async def run_demo(base: Path, ports: Ports = Ports()) -> None:
    pair = Pair(base, ports)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await pair.start()
    try:
        waiter = asyncio.ensure_future(wait_ready(pair))
        await asyncio.wait({waiter, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if waiter.done() and waiter.exception() is None:
            print(pair.describe(), flush=True)
        elif not stop.is_set():
            print(f"npac pair: {waiter.exception()}; see the logs under {base}", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await pair.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-pair", description="Run the NPAC primary/DR pair on this machine")
    parser.add_argument("--demo", action="store_true", required=True, help="the demo pair under var/demo")
    parser.add_argument("--base", default=str(DEMO_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)  # tests: cmip,cmip,snmp,snmp,hb,hb,repl,repl,trap
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ports = Ports()
    if args.ports:
        p = [int(x) for x in args.ports.split(",")]
        ports = Ports((p[0], p[1]), (p[2], p[3]), (p[4], p[5]), (p[6], p[7]), p[8])
    try:
        asyncio.run(run_demo(Path(args.base), ports))
    except OSError as exc:
        print(f"npac-pair: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DS-0 links for the NPAC bench: every carrier system (each SOA, each LSMS) reaches the node over its
own 56 kbit/s circuit (FRS Table 6-1 physical layer "DS-0 x n", R6-24 L15254), modelled as a veth pair
between two network namespaces - the node's and the simulators' - with `tc netem rate 56kbit` and a
one-way delay on both ends (`tbf rate 56kbit` where the kernel has no netem).

Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; `Ds0Links.up()` says why when it cannot,
and the bench then measures on loopback and says so. The simulators' process joins the load
namespace with setns(2) on its main thread before it opens any socket (Python 3.11 has no os.setns).
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"
# a serial router's output hold queue (40 packets); for tbf the same in bytes at a ~500-octet PDU
HOLD_PACKETS = 40
TBF_LIMIT_BYTES = 20_000
# tbf lets a full bucket through at once: with the small MTU of a low-speed serial link (RFC 879's 576)
# and a bucket of one such frame, a message after an idle spell gains at most 600 octets = 86 ms
LINK_MTU = 576
TBF_BURST_BYTES = 600


@dataclass
class Ds0Links:
    systems: list[str]  # one link each, e.g. "soa-0001", "lsms-0001"
    rate: str = "56kbit"
    delay_ms: float = 10.0
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    node_ns: str = ""
    load_ns: str = ""
    qdisc: str = ""  # "netem" or "tbf", once up
    _home_fd: int | None = None
    _created: bool = False

    def __post_init__(self) -> None:
        self.node_ns = f"npacb{self.tag}n"
        self.load_ns = f"npacb{self.tag}l"

    # ---- addresses: system i gets 10.78.i.0/30, the node .1, the simulator .2 -----------------------
    def node_address(self, system: str) -> str:
        return f"10.78.{self.systems.index(system) + 1}.1"

    def _pair(self, i: int) -> tuple[str, str]:
        return f"b{self.tag}n{i}", f"b{self.tag}l{i}"

    # ---- set up / tear down -----------------------------------------------------------------------
    def up(self) -> str | None:
        """Create the namespaces and shaped links; None when up, else why not (nothing left behind)."""
        if len(self.systems) > 250:
            return "at most 250 systems"
        if shutil.which("ip") is None or shutil.which("tc") is None:
            return "iproute2 (ip, tc) not installed"
        try:
            self._ip("netns", "add", self.node_ns)
            self._created = True
            self._ip("netns", "add", self.load_ns)
            for ns in (self.node_ns, self.load_ns):
                self._ip("-n", ns, "link", "set", "lo", "up")
            for i, _system in enumerate(self.systems, start=1):
                node_if, load_if = self._pair(i)
                self._ip("link", "add", node_if, "netns", self.node_ns, "type", "veth",
                         "peer", "name", load_if, "netns", self.load_ns)
                for ns, dev, host in ((self.node_ns, node_if, 1), (self.load_ns, load_if, 2)):
                    self._ip("-n", ns, "addr", "add", f"10.78.{i}.{host}/30", "dev", dev)
                    self._ip("-n", ns, "link", "set", dev, "mtu", str(LINK_MTU), "up")
                    self._shape(ns, dev)
        except (OSError, subprocess.CalledProcessError) as exc:
            reason = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else str(exc)
            self.down()
            return f"network namespaces unavailable: {reason.splitlines()[0] if reason else exc}"
        return None

    def _shape(self, ns: str, dev: str) -> None:
        """Each direction of the circuit: serialisation at the DS-0 rate, plus the propagation delay with
        netem. A kernel without sch_netem gets tbf at the same rate (no added delay) behind a router-like
        hold queue; `qdisc` records which."""
        tc = ("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root")
        if self.qdisc in ("", "netem"):
            try:
                self._run(*tc, "netem", "rate", self.rate, "delay", f"{self.delay_ms}ms", "limit", str(HOLD_PACKETS))
                self.qdisc = "netem"
                return
            except subprocess.CalledProcessError as exc:
                if self.qdisc == "netem" or "unknown" not in (exc.stderr or "").lower():
                    raise
        self._run(*tc, "tbf", "rate", self.rate, "burst", str(TBF_BURST_BYTES), "limit", str(TBF_LIMIT_BYTES))
        self.qdisc = "tbf"

    def down(self) -> None:
        self.leave()
        if self._created:
            for ns in (self.node_ns, self.load_ns):  # deleting a namespace deletes its veth ends
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True)
            self._created = False

    # ---- processes and threads --------------------------------------------------------------------
    def node_command(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.node_ns, *argv]

    def enter(self) -> None:
        """Move the calling thread (the bench's main thread, before it opens sockets) into the load namespace."""
        libc = ctypes.CDLL(None, use_errno=True)
        self._home_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"{NETNS_DIR}/{self.load_ns}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the load namespace failed")
        finally:
            os.close(fd)

    def leave(self) -> None:
        if self._home_fd is None:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            libc.setns(self._home_fd, CLONE_NEWNET)
        finally:
            os.close(self._home_fd)
            self._home_fd = None

    def sent(self) -> dict[str, tuple[int, int]]:
        """system -> (octets the node sent it, octets it sent the node) so far, from the veth counters."""
        tx: dict[str, int] = {}
        for ns in (self.node_ns, self.load_ns):
            out = subprocess.run(["ip", "-j", "-s", "-n", ns, "link", "show"], check=True, capture_output=True,
                                 text=True).stdout
            tx.update({link["ifname"]: link["stats64"]["tx"]["bytes"] for link in json.loads(out)})
        return {system: (tx.get(self._pair(i)[0], 0), tx.get(self._pair(i)[1], 0))
                for i, system in enumerate(self.systems, start=1)}

    def utilisation(self, before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
                    seconds: float) -> dict[str, float]:
        """The busiest link of each kind ("soa", "lsms") and direction as a fraction of the line rate."""
        bits = _rate_bits(self.rate)
        out: dict[str, float] = {}
        for system in self.systems:
            kind = system.split("-", 1)[0]
            for direction, k in (("from_node", 0), ("to_node", 1)):
                used = (after[system][k] - before[system][k]) * 8 / max(seconds, 1e-9) / bits
                key = f"{kind}_{direction}"
                out[key] = round(max(out.get(key, 0.0), used), 3)
        return out

    def describe(self) -> dict:
        netem = self.qdisc == "netem"
        return {"shaped": True, "rate": self.rate, "qdisc": self.qdisc,
                "one_way_delay_ms": self.delay_ms if netem else 0.0,
                "delay_note": None if netem else "this kernel has no sch_netem: rate shaped with tbf, no propagation "
                "delay added (at 56 kbit/s a 1000-octet PDU takes 143 ms to serialise, far above a terrestrial "
                "circuit's few ms)",
                "hold_queue": f"{HOLD_PACKETS} packets" if netem else f"{TBF_LIMIT_BYTES} octets",
                "mtu": LINK_MTU, "tbf_burst_octets": None if netem else TBF_BURST_BYTES,
                "links": len(self.systems), "per": "one veth pair per SOA and per LSMS, shaped on both ends",
                "namespaces": [self.node_ns, self.load_ns]}

    # ---- helpers ----------------------------------------------------------------------------------
    def _ip(self, *args: str) -> None:
        self._run("ip", *args)

    @staticmethod
    def _run(*argv: str) -> None:
        subprocess.run(list(argv), check=True, capture_output=True, text=True)


def _rate_bits(rate: str) -> float:
    """tc's rate spelling ("56kbit", "1.5mbit", "64000bit") in bit/s."""
    units = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1.0}
    for unit, factor in units.items():
        if rate.endswith(unit):
            return float(rate[: -len(unit)]) * factor
    raise ValueError(f"rate {rate!r}")

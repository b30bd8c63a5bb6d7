"""The real primary/DR pair for multi-process tests and the HA bench: `appliance.pair.Pair` on free
loopback ports with short HA timers, plus carriers that follow the host list (primary, then DR).

`SoaLoad` is a SOA sending subscriptionVersionNewSP-Create for consecutive TNs, one at a time, for as
long as it runs: it re-associates through the host list whenever its association is lost, and
remembers every TN whose create the NPAC acknowledged. A create that got no answer (the node died
under it) is sent again once associated again; if the first attempt had committed, the second is
refused, and the TN must still hold exactly one version.
"""
from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.control import ControlError, request_async
from appliance.lnp.security import SOA
from appliance.osi.association import Address
from appliance.pair import SIDES, Pair, Ports, Timing
from appliance.peers.carrier import Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.soa import SoaSimulator, routing

ADDRESS = Address(bytes.fromhex("4e504143"), bytes.fromhex("0001"), bytes.fromhex("00000001"))
FAST = Timing(interval=0.3, dead_time=3.0, fence_timeout=5.0, ack_timeout=5.0)  # a loaded CI machine must not look dead


def free_ports(n: int) -> list[int]:
    """n ports free for both TCP and UDP on loopback."""
    out: list[int] = []
    while len(out) < n:
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in out:
            out.append(port)
    return out


def pair_ports() -> Ports:
    p = free_ports(8)
    return Ports(cmip=(p[0], p[1]), snmp=(p[2], p[3]), heartbeat=(p[4], p[5]), replication=(p[6], p[7]), trap=0)


def hosts(ports: Ports) -> list[Host]:
    return [Host("127.0.0.1", ports.cmip[0], ADDRESS), Host("127.0.0.1", ports.cmip[1], ADDRESS)]


async def status(pair: Pair, side: str) -> dict[str, Any] | None:
    try:
        return await request_async(pair.socket(side), "status", timeout=2.0)
    except ControlError:
        return None


async def roles(pair: Pair) -> dict[str, str]:
    out = {}
    for side in SIDES:
        s = await status(pair, side)
        out[side] = s["role"] if s else "down"
    return out


LIVE = "live"  # primary-live, or isolated (live while its standby is lost)
LIVE_ROLES = ("primary-live", "isolated")


async def wait_roles(pair: Pair, want: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        seen = await roles(pair)
        if all(seen.get(k) == v or (v == LIVE and seen.get(k) in LIVE_ROLES) for k, v in want.items()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"roles {seen}, wanted {want}")


async def wait_current_standby(pair: Pair, side: str, live: str, timeout: float = 60.0, quiet: float = 2.0,
                               allow: frozenset[str] = frozenset()) -> None:
    """`side` is a standby holding every row the live node has, and stays so for `quiet` seconds
    (a standby that just rejoined may still fall behind once while the live node's acks settle);
    no alarm on it but those in `allow`."""
    deadline = time.monotonic() + timeout
    since: float | None = None
    while time.monotonic() < deadline:
        s, l = await status(pair, side), await status(pair, live)
        ok = bool(s and l and s["role"] == "standby" and l["role"] == "primary-live"
                  and s["replication"]["last_sequence"] >= l["replication"]["last_sequence"] - 50)
        if ok:
            hs = await ha_status(pair, side)
            ok = hs is not None and not set(hs.get("alarms") or ()) - allow
        since = (since or time.monotonic()) if ok else None
        if since is not None and time.monotonic() - since >= quiet:
            s, l = await status(pair, side), await status(pair, live)
            if s and l and s["replication"]["last_sequence"] >= l["replication"]["last_sequence"] - 50:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{side} did not become a steady current standby of {live}")


async def ha_status(pair: Pair, side: str) -> dict[str, Any] | None:
    try:
        return await request_async(pair.socket(side, "ha"), "status", timeout=2.0)
    except ControlError:
        return None


def versions_in_store(path: Path) -> dict[str, int]:
    """TN -> number of subscription versions, read from a node's SQLite file."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute("SELECT tn, count(*) FROM subscription_versions GROUP BY tn").fetchall()
    finally:
        db.close()
    return {tn: n for tn, n in rows}


def journal_sequences(path: Path) -> list[int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in db.execute("SELECT sequence FROM journal ORDER BY sequence")]
    finally:
        db.close()


@dataclass
class SoaLoad:
    """New SP 0002 porting TNs of 0001's NPA-NXX 303555, one create at a time."""
    keys: DemoKeys
    hosts: list[Host]
    first_tn: int = 3035550000
    acknowledged: list[str] = field(default_factory=list)
    reassociated_at: list[float] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def _soa(self) -> SoaSimulator:
        return SoaSimulator(self.keys.carrier_identity("0002", SOA), self.keys.carrier_directory(),
                            npac_system_id=NPAC_SYSTEM_ID, request_timeout=10)

    async def _associate(self) -> SoaSimulator:
        while not self.stop.is_set():
            soa = self._soa()
            try:
                await soa.carrier.open(self.hosts, retry_wait=0.2, attempts=2)
                self.reassociated_at.append(time.monotonic())
                return soa
            except Exception:
                await asyncio.sleep(0.1)
        raise asyncio.CancelledError

    async def run(self) -> None:
        due = int(time.time() * 1000) + 3 * 86_400_000
        soa = await self._associate()
        n = 0
        while not self.stop.is_set():
            tn = str(self.first_tn + n)
            try:
                answer = await soa.new_sp_create(tn, "0001", due, routing("3035560000"))
            except Exception:
                answer = None
            if answer is not None and answer.ok:
                self.acknowledged.append(tn)
                n += 1
            elif answer is not None and soa.associated:
                self.refused.append((tn, answer.error_name or "?"))  # e.g. the retry of a create that committed
                n += 1
            else:  # no answer: the association went down under the request; the same TN again
                soa.abort()
                soa = await self._associate()
        if soa.associated:
            await soa.release()


async def start_pair(base: Path, timing: Timing = FAST, snmp: bool = False, ports: Ports | None = None,
                     interconnect: Any = None) -> Pair:
    """`ports`: default free ones (with snmp=True give them a trap port: pair_ports() has none).
    `interconnect`: e.g. tests.support.netns_link.NetnsInterconnect, already up (the caller closes it)."""
    pair = Pair(base, ports or pair_ports(), timing, restart=False, snmp=snmp, env={"PYTHONUNBUFFERED": "1"},
                interconnect=interconnect)
    try:
        await pair.start()
        await wait_roles(pair, {"primary": "primary-live", "dr": "standby"}, timeout=90)
    except BaseException:
        await pair.stop()
        raise
    return pair

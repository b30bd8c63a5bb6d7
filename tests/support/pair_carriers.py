"""Simulated carriers in front of the real primary/DR pair: LSMSs 0001, 0002, 0003 and SOAs 0001, 0002,
each following the host list (primary, then DR) and coming back by itself whenever its association
goes: an LSMS re-associates in recovery mode and runs the 6.5.1 sequence from its last good time
(network download, subscription download, lnpRecoveryComplete); a SOA simply re-associates.

`port` walks one TN through the SOA flows the NPAC needs for an active version: the new SP's create,
the old SP's concurring create, the activation (flows 6.4.1.2, 6.4.1.3, 6.4.1.5), and waits until the
version is active in the live node's store.
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.lnp.association_info import RETRY_SAME_HOST
from appliance.lnp.security import LOCAL_SMS, SOA
from appliance.lnp.values import gtime
from appliance.npac.model import Status
from appliance.peers.carrier import AssociationRefused, Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.peers.soa import SoaSimulator, routing

LSMS_IDS = ("0001", "0002", "0003")
SOA_IDS = ("0001", "0002")
OLD_SP, NEW_SP = "0001", "0002"  # 0002 ports TNs of 0001's NPA-NXX 303555 to its LRN
NOTICE = "lnpNPAC-SMS-Operational-Information"
RECOVERY_MARGIN_MS = 60_000  # an LSMS asks from a little before it last heard the NPAC


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class CarrierLog:
    """When each carrier (re)associated; for LSMSs, when each recovery completed."""
    associated: dict[str, list[float]] = field(default_factory=dict)
    recovered: dict[str, list[float]] = field(default_factory=dict)
    lost: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, table: dict[str, list[float]], key: str) -> None:
        table.setdefault(key, []).append(time.time())


class PairCarriers:
    def __init__(self, keys: DemoKeys, hosts: list[Host]):
        self.keys, self.hosts = keys, hosts
        directory = keys.carrier_directory()
        self.lsms = {sp: LsmsSimulator(sp, keys.carrier_identity(sp, LOCAL_SMS), directory,
                                       npac_system_id=NPAC_SYSTEM_ID, request_timeout=10) for sp in LSMS_IDS}
        self.soas = {sp: SoaSimulator(keys.carrier_identity(sp, SOA), directory, npac_system_id=NPAC_SYSTEM_ID,
                                      request_timeout=10) for sp in SOA_IDS}
        self.log = CarrierLog()
        self.last_good: dict[str, int] = {}
        self.stop = asyncio.Event()
        self.away: set[str] = set()  # LSMSs kept down (an LSMS outage of their own)
        self._tasks: list[asyncio.Task[None]] = []

    # ---- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Everyone associated through the host list; each LSMS starts from the NPAC's network data."""
        for sp, sim in self.lsms.items():
            await _until_accepted(lambda sim=sim: sim.associate(self.hosts))
            await sim.download_network()
            self.last_good[sp] = now_ms()
            self.log.add(self.log.associated, f"lsms/{sp}")
        for sp, soa in self.soas.items():
            await _until_accepted(lambda soa=soa: soa.carrier.open(self.hosts, attempts=1))
            self.log.add(self.log.associated, f"soa/{sp}")
        self._tasks = [asyncio.ensure_future(self._keep_lsms(sp)) for sp in self.lsms] + \
                      [asyncio.ensure_future(self._keep_soa(sp)) for sp in self.soas]

    async def close(self) -> None:
        self.stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sim in self.lsms.values():
            if sim.associated:
                await sim.abort()
        for soa in self.soas.values():
            if soa.associated:
                soa.abort()

    async def _keep_lsms(self, sp: str) -> None:
        sim = self.lsms[sp]
        while not self.stop.is_set():
            if sim.associated or sp in self.away:
                if sim.associated:
                    self.last_good[sp] = now_ms()
                await asyncio.sleep(0.05)
                continue
            self.log.add(self.log.lost, f"lsms/{sp}")
            window = {"startTime": gtime(self.last_good[sp] - RECOVERY_MARGIN_MS)}
            while not self.stop.is_set():
                try:
                    await sim.recover(self.hosts, window)
                    self.log.add(self.log.associated, f"lsms/{sp}")
                    self.log.add(self.log.recovered, sp)
                    break
                except Exception as exc:  # refused (standby, promoting), or a step failed: again
                    if sim.associated:
                        await sim.abort()
                    self.log.failures.append(f"lsms {sp}: {type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.1)

    async def _keep_soa(self, sp: str) -> None:
        soa = self.soas[sp]
        while not self.stop.is_set():
            if soa.associated:
                await asyncio.sleep(0.05)
                continue
            self.log.add(self.log.lost, f"soa/{sp}")
            while not self.stop.is_set():
                try:
                    await soa.carrier.open(self.hosts, retry_wait=0.2, attempts=1)
                    self.log.add(self.log.associated, f"soa/{sp}")
                    break
                except Exception as exc:
                    self.log.failures.append(f"soa {sp}: {type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.1)

    async def take_down(self, sp: str) -> None:
        """LSMS `sp` goes away (aborts) and stays away until `bring_back`."""
        self.away.add(sp)
        await self.lsms[sp].abort()

    def bring_back(self, sp: str) -> None:
        self.away.discard(sp)

    # ---- waiting -------------------------------------------------------------------------------
    async def all_back(self, since: float, timeout: float = 60.0) -> None:
        """Every LSMS recovered and every SOA re-associated after `since` (time.time())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lsms = all(any(t > since for t in self.log.recovered.get(sp, ())) for sp in self.lsms)
            soas = all(any(t > since for t in self.log.associated.get(f"soa/{sp}", ())) for sp in self.soas)
            if lsms and soas:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"carriers not back: {self.log}; last failures {self.log.failures[-5:]}")

    def notices(self) -> dict[str, list[dict[str, Any]]]:
        """lnpNPAC-SMS-Operational-Information each carrier got: LSMSs as lsms/SP, SOAs as soa/SP."""
        out = {f"lsms/{sp}": [info for name, info in sim.notifications if name == NOTICE]
               for sp, sim in self.lsms.items()}
        out.update({f"soa/{sp}": [r.info for r in soa.received if r.name == NOTICE] for sp, soa in self.soas.items()})
        return out

    # ---- porting -------------------------------------------------------------------------------
    async def port(self, tn: str, store: Path, timeout: float = 30.0, active: bool = True) -> int:
        """New SP create, old SP create (authorized), activate; the version id. With `active`, waits
        until the live node's store has it active (every LSMS took it, or got it held)."""
        due = now_ms()
        new, old = self.soas[NEW_SP], self.soas[OLD_SP]
        for step, call in (("new-sp create", lambda: new.new_sp_create(tn, OLD_SP, due, routing("3035560000"))),
                           ("old-sp create", lambda: old.old_sp_create(tn, NEW_SP, due, True)),
                           ("activate", lambda: new.activate(tn))):
            answer = await self._until_answered(call, step)
            assert answer.ok, f"{step} of {tn}: {answer.error_name} {answer.specific_info}"
        if active:
            await wait_status(store, tn, Status.ACTIVE, timeout)
        return version_of(store, tn)

    async def _until_answered(self, call: Any, step: str, timeout: float = 20.0) -> Any:
        """A SOA request, again after a re-association if the association went under it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return await call()
            except Exception as exc:
                self.log.failures.append(f"{step}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.2)
        raise AssertionError(f"{step}: no answer in {timeout:g} s")


def _read(store: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def version_of(store: Path, tn: str) -> int:
    rows = _read(store, "SELECT max(version_id) FROM subscription_versions WHERE tn = ?", (tn,))
    return int(rows[0][0])


def active_versions(store: Path) -> dict[str, int]:
    """TN -> version id of every active version in a node's store."""
    rows = _read(store, "SELECT tn, version_id FROM subscription_versions WHERE status = ?", (int(Status.ACTIVE),))
    return {tn: vid for tn, vid in rows}


def broadcast_states(store: Path, version_id: int) -> dict[str, str]:
    """LSMS -> state of its row in the version's broadcast round."""
    return {sp: state for sp, state in _read(
        store, "SELECT lsms_sp_id, state FROM broadcasts WHERE version_id = ?", (version_id,))}


def held_versions(store: Path, lsms: str) -> list[int]:
    """Versions whose update waits in the hold queue for `lsms`."""
    return [v for (v,) in _read(store, "SELECT version_id FROM hold_queue WHERE lsms_sp_id = ? AND version_id "
                                       "IS NOT NULL ORDER BY entry_id", (lsms,))]


def held_for(store: Path) -> dict[str, int]:
    """LSMS -> entries in the hold queue (updates waiting for its recovery)."""
    return {sp: n for sp, n in _read(store, "SELECT lsms_sp_id, count(*) FROM hold_queue GROUP BY lsms_sp_id")}


async def wait_status(store: Path, tn: str, status: Status, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    seen: list[tuple] = []
    while time.monotonic() < deadline:
        seen = _read(store, "SELECT version_id, status FROM subscription_versions WHERE tn = ?", (tn,))
        if any(s == int(status) for _, s in seen):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{tn} never {status.name} in {store}: {seen}")


def broadcast_sends(store: Path, version_id: int) -> dict[str, tuple[str, int]]:
    """LSMS -> (state, sends) of its row in the version's broadcast round."""
    return {sp: (state, sends) for sp, state, sends in _read(
        store, "SELECT lsms_sp_id, state, sends FROM broadcasts WHERE version_id = ?", (version_id,))}


async def _until_accepted(open_association, timeout: float = 30.0) -> None:
    """A live node whose services are still starting answers retry-same-host (IIS 5.3.1.2): retry."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await open_association()
            return
        except AssociationRefused as exc:
            if exc.code != RETRY_SAME_HOST or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)

"""A live NPAC (agent on loopback, store, writer, the LSMS side) with LSMS simulators and SOAs, on
an injected millisecond clock, for the NPAC <-> Local SMS scenario tests.

The wire runs in real time (signatures carry the real clock); the NPAC's schedule (broadcast
retries, downtime notices) runs on `clock`, which a test moves with `advance`.
"""
from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from appliance.agent import NpacAgent
from appliance.lnp.security import LOCAL_SMS, SOA, SOA_AND_LOCAL_SMS
from appliance.npac.lsms_side import LsmsSide, install_lsms_side
from appliance.npac.model import BroadcastKind, LnpType, Status, SubscriptionVersion
from appliance.npac.tunables import Tunables
from appliance.npac.writer import Writer
from appliance.ops.security_log import SecurityLog
from appliance.osi import cmip
from appliance.lnp.oids import OIDS
from appliance.peers.carrier import CarrierAssociation, Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Store
from appliance.store.versions import VERSIONS
from tests.support.lnp_rig import NPAC_ADDRESS, network_tree

T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z
MINUTE = 60_000
SYSTEM_TYPES = {"0001": SOA_AND_LOCAL_SMS, "0002": SOA_AND_LOCAL_SMS, "0003": LOCAL_SMS}
ALL_FUNCTIONS = ("soa-mgmt", "soa-network-data-mgmt", "lsms-data-download", "lsms-network-data-mgmt", "lsms-query")


class FakeClock:
    def __init__(self, ms: int = T0):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@dataclass
class Soa:
    carrier: CarrierAssociation
    events: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class LsmsRig:
    tmp: Path
    keys: DemoKeys
    clock: FakeClock
    store: Store
    writer: Writer
    agent: NpacAgent
    side: LsmsSide
    port: int
    completions: list[tuple[int, tuple[str, ...], tuple[str, ...]]]
    tunables: list[Tunables]
    lsms: dict[str, LsmsSimulator] = field(default_factory=dict)
    soas: dict[str, Soa] = field(default_factory=dict)

    def hosts(self) -> list[Host]:
        return [Host("127.0.0.1", self.port, NPAC_ADDRESS)]

    # ---- peers ---------------------------------------------------------------------------------
    def simulator(self, sp: str) -> LsmsSimulator:
        if sp not in self.lsms:
            self.lsms[sp] = LsmsSimulator(sp, self.keys.carrier_identity(sp, LOCAL_SMS), self.keys.carrier_directory(),
                                          npac_system_id=NPAC_SYSTEM_ID)
        return self.lsms[sp]

    async def lsms_up(self, *sps: str, recovery: bool = False, download: bool = True) -> list[LsmsSimulator]:
        """Associate LSMSs; unless told otherwise each starts from the NPAC's network data (6.3.9.9)."""
        sims = [self.simulator(sp) for sp in sps]
        for sim in sims:
            await sim.associate(self.hosts(), recovery=recovery)
            if download and not recovery:
                await sim.download_network()
        return sims

    async def soa_up(self, sp: str, functions: frozenset[str] = frozenset({"soa.soaMgmt", "soa.networkDataMgmt"})) -> Soa:
        soa: Soa

        def on_request(carrier: CarrierAssociation, ind: Any) -> Any:
            record = OIDS.find(ind.request.event_type)
            soa.events.append((record.name if record else ind.request.event_type, ind.request))
            return cmip.EventReportResult()
        carrier = CarrierAssociation(self.keys.carrier_identity(sp, SOA), self.keys.carrier_directory(), functions,
                                     npac_system_id=NPAC_SYSTEM_ID, on_request=on_request)
        soa = Soa(carrier)
        await carrier.open(self.hosts(), attempts=1)
        self.soas[sp] = soa
        return soa

    # ---- data ----------------------------------------------------------------------------------
    def add_version(self, tn: str, *, new_sp: str = "0002", old_sp: str = "0001", status: Status = Status.SENDING,
                    kind: BroadcastKind | None = BroadcastKind.ACTIVATE, **fields: Any) -> SubscriptionVersion:
        def add(tx: Any) -> SubscriptionVersion:
            values = {"lnp_type": LnpType.LSPP, "lrn": "3125550002", "class_dpc": "001002003", "class_ssn": 5,
                      "broadcast_kind": kind, "creation_ms": tx.now_ms, "modified_ms": tx.now_ms,
                      "broadcast_ms": tx.now_ms, **fields}
            v = SubscriptionVersion(VERSIONS.next_id(tx), tn, status, old_sp, new_sp, **values)
            VERSIONS.put(tx, v.to_row())
            return v
        return self.writer.run_now(f"test version {tn}", add)

    def update_version(self, v: SubscriptionVersion, **changes: Any) -> SubscriptionVersion:
        new = dataclasses.replace(v, **changes)
        self.writer.run_now(f"test update {v.version_id}", lambda tx: VERSIONS.put(tx, new.to_row()))
        return new

    # ---- time ----------------------------------------------------------------------------------
    async def advance(self, ms: int, settle: Callable[[], bool] | None = None) -> None:
        """Move the NPAC's clock and let the schedule act on it."""
        self.clock.ms += ms
        self.side.broadcaster.wake()
        self.side.downtime.wake()
        await asyncio.sleep(0.05)
        if settle is not None:
            await eventually(settle)

    async def close(self) -> None:
        await self.side.close()
        for sim in self.lsms.values():
            await sim.release()
        for soa in self.soas.values():
            await soa.carrier.release()
        await self.agent.close()
        self.store.close()


async def eventually(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait (real time) until condition() is truthy; its value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def start_lsms_rig(tmp: Path, keys_dir: Path, *, store_path: Path | None = None,
                         providers: dict[str, dict[str, Any]] | None = None, clock: FakeClock | None = None,
                         **side_kw: Any) -> LsmsRig:
    """The NPAC on loopback with the demo carriers as service providers (all LSMSs taking subscription
    and network data unless `providers` says otherwise, e.g. {"0003": {"tunables": {...}}})."""
    keys = DemoKeys(keys_dir, count=3)
    clock = clock or FakeClock()
    store = Store(str(store_path or tmp / "npac.db"), clock)
    writer = Writer(store, clock)
    log = SecurityLog(tmp / "security.log")
    agent = NpacAgent(identity=keys.npac_identity(), directory=keys.npac_directory(), security_log=log.record,
                      tree=network_tree(keys.carriers), local=NPAC_ADDRESS, request_timeout=30)
    completions: list = []
    tunables = [Tunables()]

    async def on_complete(version_id: int, succeeded: tuple[str, ...], failed: tuple[str, ...]) -> None:
        completions.append((version_id, succeeded, failed))
    side = install_lsms_side(agent, writer, store, clock, lambda: tunables[0], on_complete, **side_kw)
    server = await agent.serve("127.0.0.1", 0)
    rig = LsmsRig(tmp, keys, clock, store, writer, agent, side, server.sockets[0].getsockname()[1], completions,
                  tunables)
    if not store.select("service_providers"):
        # seeded as data already in place (no pushes): the network flows create SPs through the API
        def seed(tx: Any) -> None:
            for sp, (name, _) in keys.carriers.items():
                SERVICE_PROVIDERS.put(tx, {"sp_id": sp, "name": name, "system_type": SYSTEM_TYPES[sp],
                                           "allowable_functions": list(ALL_FUNCTIONS), "download_network_data": True,
                                           "created_ms": tx.now_ms, **(providers or {}).get(sp, {})})
        writer.run_now("seed service providers", seed)
    await side.start()
    return rig

"""A live NPAC node on loopback for scenario tests: agent + NPAC services (store on disk) + SOA
simulators, a fake business clock (timers in hours and days), and a broadcaster: `FakeBroadcaster`
(default), or "lsms" for the real LSMS side (appliance.npac.lsms_side) with LSMS simulators.

The CMIP security clock stays real (cmipDepartureTime must be within 5 minutes of the receiver's
clock); only the NPAC's business clock (due dates, time stamps, timers) is the fake one.
`FakeBroadcaster` ends each LSMS round at once, every LSMS succeeding except those in `failing`.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.security import LOCAL_SMS, SOA
from appliance.npac.model import BroadcastOp, Status
from appliance.npac.persist import save_tunables
from appliance.npac.services import NpacServices, lsms_side
from appliance.npac.tunables import Tunables
from appliance.ops.security_log import SecurityLog
from appliance.peers.carrier import Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.peers.soa import Received, SoaSimulator, routing
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.outbox import OUTBOX
from appliance.store.versions import VERSIONS
from tests.support.lnp_rig import NPAC_ADDRESS, network_tree

H = 3_600_000
MINUTE = 60_000
DAY = 24 * H
T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z, the business clock's start
OLD, NEW, THIRD = "0002", "0001", "0003"  # 303555 belongs to 0002: ports go 0002 -> 0001
TN = "3035551234"
LRN = {"0001": "3035550001", "0002": "3035550002", "0003": "3035550003"}
NPA_NXXS = {"303555": OLD, "212555": NEW}


class FakeClock:
    def __init__(self, now_ms: int = T0):
        self.now = now_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class FakeBroadcaster:
    """The engine's side of the LSMS broadcaster interface, ending every round at once."""

    def __init__(self, writer: Any, store: Any, agent: Any, clock_ms: Any, tunables: Any, on_complete: Any):
        self.store = store
        self.on_complete = on_complete
        self.rounds: list[tuple[int, BroadcastOp, tuple[str, ...]]] = []
        self.failing: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    def start(self, version_id: int, operation: BroadcastOp, lsms: tuple[str, ...] | None) -> None:
        targets = tuple(lsms) if lsms is not None else tuple(SERVICE_PROVIDERS.lsms_receiving_downloads(self.store))
        self.rounds.append((version_id, operation, targets))
        ok = tuple(t for t in targets if t not in self.failing)
        failed = tuple(t for t in targets if t in self.failing)
        task = asyncio.get_running_loop().create_task(self.on_complete(version_id, ok, failed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> bool:
        """Wait for the rounds in progress; True if there were any."""
        if not self._tasks:
            return False
        await asyncio.gather(*list(self._tasks))
        return True


def seed_network(services: NpacServices, clock: FakeClock) -> None:
    """Three SPs (all take downloads; 0003 has no SOA), two NPA-NXXs, one LRN each (FRS §3.1, §4)."""
    def write(tx: Any) -> None:
        for sp, name in (("0001", "Demo Carrier One"), ("0002", "Demo Carrier Two"), ("0003", "Demo Carrier Three")):
            functions = ["lsms-data-download"] + (["soa-mgmt"] if sp != THIRD else [])
            tx.upsert("service_providers", {"sp_id": sp, "name": name, "allowable_functions": functions,
                                            "created_ms": tx.now_ms})
        for n, (value, sp) in enumerate(NPA_NXXS.items(), start=1):
            tx.upsert("npa_nxx", {"npa_nxx_id": n, "value": value, "sp_id": sp, "effective_ms": T0 - 30 * DAY})
        for n, (sp, value) in enumerate(LRN.items(), start=1):
            tx.upsert("lrn", {"lrn_id": n, "value": value, "sp_id": sp})
    services.writer.run_now("seed network", write)


@dataclass
class NpacRig:
    tmp: Path
    keys: DemoKeys
    clock: FakeClock
    agent: NpacAgent
    services: NpacServices
    port: int
    broadcaster: Any
    mode: Any = FakeBroadcaster  # the broadcaster factory, or "lsms"
    poll_s: float = 1.0
    soas: dict[str, SoaSimulator] = field(default_factory=dict)
    lsms: dict[str, LsmsSimulator] = field(default_factory=dict)
    order: list[Received] = field(default_factory=list)  # every SOA's notifications, in arrival order

    @property
    def store(self) -> Any:
        return self.services.store

    def hosts(self) -> list[Host]:
        return [Host("127.0.0.1", self.port, NPAC_ADDRESS)]

    async def soa(self, sp: str) -> SoaSimulator:
        """The (associated) SOA of `sp`."""
        if sp not in self.soas:
            sim = SoaSimulator(self.keys.carrier_identity(sp, SOA), self.keys.carrier_directory(),
                               npac_system_id=NPAC_SYSTEM_ID, shared_log=self.order, request_timeout=10)
            await sim.open(self.hosts())
            self.soas[sp] = sim
        return self.soas[sp]

    async def lsms_up(self, *sps: str) -> None:
        """Associate LSMS simulators (the real LSMS side only)."""
        for sp in sps:
            sim = LsmsSimulator(sp, self.keys.carrier_identity(sp, LOCAL_SMS), self.keys.carrier_directory(),
                                npac_system_id=NPAC_SYSTEM_ID)
            await sim.associate(self.hosts())
            self.lsms[sp] = sim

    def fail_at(self, lsms: str, tn: str) -> None:
        """Make `lsms` refuse the broadcasts of `tn`."""
        if isinstance(self.broadcaster, FakeBroadcaster):
            self.broadcaster.failing.add(lsms)
        else:
            self.lsms[lsms].fail_tns.add(tn)

    async def settle(self) -> None:
        """Until quiet: broadcast rounds end (as far as they can on the present clock), and the outbox
        is delivered as far as it can be now. A real broadcaster answers over the network, so quiet
        there means nothing happened for a few short waits."""
        quiet = 0
        for _ in range(500):
            busy = await self.broadcaster.settle() if isinstance(self.broadcaster, FakeBroadcaster) else False
            sent = await self.services.notifier.deliver()
            if busy or sent:
                quiet = 0
                continue
            if isinstance(self.broadcaster, FakeBroadcaster):
                return
            quiet += 1
            if quiet >= 5:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the node does not settle")

    async def finish_broadcasts(self) -> None:
        """Let the broadcast retry schedule run out (first send + 3 resends, 2 min apart)."""
        for _ in range(5):
            await self.advance(2 * MINUTE)

    async def advance(self, ms: int) -> int:
        """Move the business clock, fire the timers now due, settle; returns how many fired."""
        self.clock.advance(ms)
        fired = await self.services.timers.run_due()
        wake = getattr(self.broadcaster, "wake", None)
        if wake is not None:
            wake()
        await self.settle()
        return fired

    def status(self, version_id: int) -> Status:
        return Status(VERSIONS.get(self.store, version_id)["status"])

    def version(self, version_id: int) -> dict[str, Any]:
        return VERSIONS.get(self.store, version_id)

    def journal(self) -> int:
        return self.store.last_sequence()

    def outbox(self, state: str = "pending") -> list[dict[str, Any]]:
        return [r for r in OUTBOX.all(self.store) if r["state"] == state]

    def seen(self, *names: str) -> list[tuple[str, str, int | None]]:
        """(SOA, notification, version) in arrival order across SOAs, of the notifications named."""
        return [(r.sp, r.name, r.version_id) for r in self.order if not names or r.name in names]

    def set_tunables(self, **values: int) -> None:
        self.services.writer.run_now("tunables", lambda tx: save_tunables(tx, Tunables(**values)))

    async def restart(self) -> None:
        """Stop the node (services, store, associations) and start it again on the same store file;
        the SOAs associate again."""
        for sim in self.soas.values():
            await sim.release()
        for lsms in self.lsms.values():
            await lsms.release()
        await self.services.close()
        await self.agent.close()
        self.agent, self.services, self.port, self.broadcaster = await _node(
            self.tmp, self.keys, self.clock, self.mode, self.poll_s)
        for sim in self.soas.values():
            await sim.open(self.hosts())
        for lsms in self.lsms.values():
            await lsms.associate(self.hosts())

    async def close(self) -> None:
        for sim in self.soas.values():
            await sim.release()
        for lsms in self.lsms.values():
            await lsms.release()
        await self.services.close()
        await self.agent.close()


async def _node(tmp: Path, keys: DemoKeys, clock: FakeClock, broadcaster: Any, poll_s: float
                ) -> tuple[NpacAgent, NpacServices, int, Any]:
    agent = NpacAgent(identity=keys.npac_identity(), directory=keys.npac_directory(),
                      security_log=SecurityLog(tmp / "security.log").record, tree=network_tree(keys.carriers),
                      local=NPAC_ADDRESS, request_timeout=10)
    real = broadcaster == "lsms"
    services = NpacServices(agent, tmp / "npac.db", clock_ms=clock, broadcaster=None if real else broadcaster,
                            installers=(lsms_side,) if real else (), poll_s=poll_s)
    for part in services.installed:
        await part.start()
    server = await agent.serve("127.0.0.1", 0)
    return agent, services, server.sockets[0].getsockname()[1], services.broadcaster


async def start_npac(tmp: Path, keys_dir: Path, broadcaster: Any = FakeBroadcaster, poll_s: float = 1.0) -> NpacRig:
    """The node, its network data seeded (and with "lsms" every LSMS associated); its background loops
    are not started (tests call `settle` and `advance`; `services.start()` runs them as a node does)."""
    keys = DemoKeys(keys_dir, count=3)
    clock = FakeClock()
    agent, services, port, bc = await _node(tmp, keys, clock, broadcaster, poll_s)
    seed_network(services, clock)
    rig = NpacRig(tmp, keys, clock, agent, services, port, bc, broadcaster, poll_s)
    if broadcaster == "lsms":
        await rig.lsms_up(*LRN)
    return rig



async def pending_port(rig: NpacRig, tn: str = TN, due_ms: int | None = None) -> int:
    """Both creates in (old SP first): the version of `tn` is pending with concurrence complete."""
    old, new = await rig.soa(OLD), await rig.soa(NEW)
    due = due_ms if due_ms is not None else rig.clock() + 2 * DAY
    created = await old.old_sp_create(tn, NEW, due, True)
    assert created.ok, created.error
    joined = await new.new_sp_create(tn, OLD, due, routing(LRN[NEW]))
    assert joined.ok, joined.error
    await rig.settle()
    (found,) = [v for v in VERSIONS.for_tn(rig.store, tn) if v["status"] == Status.PENDING]
    return found["version_id"]


async def active_port(rig: NpacRig, tn: str = TN) -> int:
    """`tn` ported 0002 -> 0001 and active at every LSMS."""
    version_id = await pending_port(rig, tn)
    activated = await (await rig.soa(NEW)).activate(tn)
    assert activated.ok, activated.error
    await rig.settle()
    assert rig.status(version_id) is Status.ACTIVE
    return version_id

"""The NPAC SMS logic of one node, assembled: store, the one writer, engine, notifier, timer runner,
and the SOA interface registered on the CMIP agent.

The LSMS side (broadcast, network data, recovery) plugs in through `broadcaster` and `installers`:
a broadcaster is an instance with `start(version_id, operation, lsms)`, or a factory called as
`factory(writer, store, agent, clock_ms, tunables, on_complete)` (`tunables` a function returning the
current values, `on_complete` = `engine.broadcast_complete`); an installer is `installer(services)`
and may return an object with `start()` and `close()` (either may be a coroutine function) run with
the services. `lsms_side` is the installer of the LSMS-facing half (appliance.npac.lsms_side).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.oids import OIDS
from appliance.npac.engine import BroadcasterLike, Engine
from appliance.npac.lsms_side import LsmsSide, install_lsms_side
from appliance.npac.persist import load_tunables
from appliance.npac.soa_interface import SoaInterface, register_soa_interface
from appliance.npac.timer_runner import TimerRunner
from appliance.npac.tunables import Tunables
from appliance.npac.writer import Writer
from appliance.osi import ber
from appliance.osi.cmip_filter import MemoryObject, MemoryTree
from appliance.store.store import Store, wall_clock_ms

Installer = Callable[["NpacServices"], Any]


class NpacServices:
    def __init__(self, agent: NpacAgent, db_path: str | Path, *, clock_ms: Callable[[], int] = wall_clock_ms,
                 broadcaster: Any = None, installers: tuple[Installer, ...] = (), poll_s: float = 1.0,
                 store: Store | None = None):
        self.agent = agent
        self.clock_ms = clock_ms
        self.store = store if store is not None else Store(str(db_path), clock=clock_ms)
        self.writer = Writer(self.store, clock_ms)
        self.engine = Engine(self.store, self.writer, agent, clock_ms)
        self.notifier = self.engine.notifier
        self.notifier.poll_s = poll_s
        self.timers = TimerRunner(self.store, self.engine, clock_ms, poll_s)
        self.engine.listeners.append(lambda _: self.timers.wake())
        self.soa: SoaInterface = register_soa_interface(agent, self.engine, self.store)
        self._mount_subscriptions()
        self.broadcaster: BroadcasterLike | None = None
        if broadcaster is not None:
            self.attach_broadcaster(broadcaster)
        self.installed: list[Any] = []
        for installer in installers:
            self.install(installer)

    def tunables(self) -> Tunables:
        return load_tunables(self.store)

    def attach_broadcaster(self, broadcaster: Any) -> BroadcasterLike:
        """An instance, or a factory with the Broadcaster constructor's signature."""
        if isinstance(broadcaster, type) or not hasattr(broadcaster, "start"):
            broadcaster = broadcaster(self.writer, self.store, self.agent, self.clock_ms, self.tunables,
                                      self.engine.broadcast_complete)
        self.broadcaster = self.engine.broadcaster = broadcaster
        return broadcaster

    def install(self, installer: Installer) -> Any:
        installed = installer(self)
        self.installed.append(installed)
        return installed

    def _mount_subscriptions(self) -> None:
        """The agent's generic tree shows the lnpSubscriptions container (its versions are answered from
        the store by the SOA interface)."""
        tree = self.agent.tree
        dn = self.soa.view().container_dn
        if isinstance(tree, MemoryTree) and tree.get(dn[:-1]) is not None and tree.get(dn) is None:
            name = OIDS.attribute("lnpSubscriptionsName").oid
            tree.add(MemoryObject(dn, OIDS.object_class("lnpSubscriptions").oid,
                                  {name: ber.encode_tlv(0x19, b"lnpSubscriptions")}))

    # ---- running ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Deliver what the outbox holds and fire what is due (a restarted or promoted node carries on)."""
        self.notifier.start()
        self.timers.start()
        for part in self.installed:  # not the broadcaster: its start() starts a broadcast
            await _call(part, "start")

    async def close(self, close_store: bool = True) -> None:
        """Stop every running part; the store too unless the node keeps it (a node leaving the live
        role keeps following its peer into the same store)."""
        for part in (*reversed(self.installed), self.broadcaster):
            await _call(part, "close")
        await self.notifier.stop()
        await self.timers.stop()
        if close_store:
            self.store.close()


def lsms_side(services: NpacServices) -> LsmsSide:
    """Installer of the LSMS side (broadcast, network data, recovery, downtime notices); its
    broadcaster becomes the engine's."""
    side = install_lsms_side(services.agent, services.writer, services.store, services.clock_ms,
                             services.tunables, services.engine.broadcast_complete)
    services.attach_broadcaster(side.broadcaster)
    return side


async def _call(part: Any, method: str) -> None:
    fn = getattr(part, method, None) if part is not None else None
    if callable(fn):
        result = fn()
        if inspect.isawaitable(result):
            await result

"""The node's part of the primary/DR pair (ARCHITECTURE "Roles", "Journal"): replication both ways,
the HA link npac-ha drives over the control socket, and the NPAC services started only while this
node is the live one.

- The writer's gate is this object: a change is refused unless the node is live with the current
  epoch, and a carrier's request is answered only once the standby holds its journal row.
- Each AARQ is answered from the role (IIS 5.3.1.2): accept, retry-same-host while promoting or
  while replication refuses writes, try-other-host on a standby.
- Going live builds the NPAC services afresh from the store (timers, broadcasts, hold queues and the
  notification outbox are all in it, so a promoted node carries on where the old one stopped);
  leaving the live role stops them, so a node that is not live never writes.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.association_info import NAMES
from appliance.store import Store
from ha.config import HaConfig
from ha.drill_watch import CutoverWatch, OwedNotices, journal_digest
from ha.node_link import LocalNode
from ha.receiver import ReplicationReceiver
from ha.replication import ReplicationSender
from ha.roles import WRITING, Role

log = logging.getLogger("appliance.node.ha")

AARQ_TEXT = {2: "the NPAC SMS is starting service on this host; retry it shortly",
             3: "this host is the standby NPAC SMS; use the other host"}


class _Link(LocalNode):
    """LocalNode that also says when its write permission changes (going live needs role and writes)."""

    on_writes: Callable[[], None] | None = None

    async def set_writes(self, allowed: bool) -> None:
        await super().set_writes(allowed)
        if self.on_writes is not None:
            self.on_writes()


class PairMember:
    def __init__(self, hacfg: HaConfig, store: Store, agent: NpacAgent, *,
                 go_live: Callable[[], Awaitable[None]], stand_down: Callable[[], Awaitable[None]],
                 notify: Callable[[str, dict[str, Any]], Awaitable[None]],
                 raise_epoch: Callable[[int], Awaitable[None]] | None = None,
                 on_alarm: Callable[[str, bool, str], None] | None = None,
                 notices: Any = None):
        r = hacfg.replication
        self.cfg = hacfg
        self.store = store
        self.agent = agent
        self._go_live, self._stand_down = go_live, stand_down
        self.alarms: dict[str, str] = {}
        self._on_alarm = on_alarm
        self.sender = ReplicationSender(store, hacfg.key, node=hacfg.node, policy=r.policy,
                                        ack_timeout=r.ack_timeout, keepalive=r.keepalive,
                                        snapshot_after=r.snapshot_after, on_alarm=self._alarm)
        self.receiver = ReplicationReceiver(store, hacfg.key, node=hacfg.node, peer=r.peer, on_alarm=self._alarm)
        # the cutover as this node sees it (drill reports), and outage notices owed to carriers that
        # associate after they went out (UserNotices `notices`: its record file, log and contact)
        self.watch = CutoverWatch()
        self.owed = OwedNotices(agent, notices.path, notices.security_log, notices.cfg.contact_number) \
            if notices is not None else None
        self._notify_users = notify
        agent.association_listeners.append(self._associated)
        agent.request_observers.append(self.watch.request)
        self.link = _Link(store, self.sender, self.receiver, raise_epoch=raise_epoch, drain=self.drain,
                          notify_users=self._notify, on_role=self._role_changed)
        self.link.on_writes = lambda: self._role_changed(self.link.role)
        self.live = False      # the services run and AARQs may be accepted
        self.writable = False  # the services may write (set before they start: they seed and resume)
        self._change: asyncio.Task[None] | None = None
        self._wanted_live = False

    # --- the writer's gate ------------------------------------------------------------------------
    def may_write(self) -> bool:
        return self.writable and self.link.may_write()

    def committed(self, sequence: int) -> None:
        self.sender.committed(sequence)

    async def replicate(self, sequence: int) -> Any:
        return await self.sender.replicate(sequence)

    # --- the agent's association policy -------------------------------------------------------------
    def availability(self) -> tuple[int, str]:
        code = int(self.link.aarq_answer())
        if code == 0 and not self.live:
            code = 2  # the role says live, the services are still starting
        return code, AARQ_TEXT.get(code, NAMES.get(code, ""))

    # --- life cycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        host, port = self.cfg.replication.listen
        await self.sender.start(host, port)

    async def close(self) -> None:
        self._wanted_live = False
        if self._change is not None:
            await self._change  # it sees the wish and stands down
        if self.live:
            self.live = self.writable = False
            await self._stand_down()
        if self.owed is not None:
            await self.owed.close()
        await self.receiver.stop()
        await self.sender.close()

    async def drain(self) -> None:
        """Switchback (RN10-4): every carrier association released, then whatever is left aborted."""
        before = [c for c in list(self.agent.connections) if c.assoc.state == "open"]
        self.watch.drain_started(len(before), self.store.last_sequence())
        await self.agent.release_all()
        self.watch.drained(len(before), len([c for c in before if c.assoc.state == "open"]),
                           self.store.last_sequence())

    async def _notify(self, kind: str, details: dict[str, Any]) -> None:
        await self._notify_users(kind, details)
        if self.owed is not None:
            self.owed.noted(kind, details)

    def _associated(self, conn: Any) -> None:
        self.watch.associated(conn)
        if self.owed is not None:
            self.owed.associated(conn, self.live)

    def drill_handlers(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        """Read-only ops for the drill runner, beside the `ha.*` ops npac-ha drives the node with."""
        async def marks(since_ms: int = 0) -> dict[str, Any]:
            return {**self.watch.marks(int(since_ms)), "role": str(self.link.role),
                    "sequence": self.store.last_sequence(), "epoch": self.store.epoch}

        async def digest(upto: int) -> dict[str, Any]:
            if not isinstance(upto, int) or upto < 0:
                raise ValueError("upto must be a journal sequence (0 or more)")
            return journal_digest(self.store, upto)
        return {"ha.drill_marks": marks, "ha.journal_digest": digest}

    def _role_changed(self, role: Role) -> None:
        self._wanted_live = role in WRITING and self.link.writes
        if self._change is None or self._change.done():
            self._change = asyncio.get_running_loop().create_task(self._follow_role())

    async def _follow_role(self) -> None:
        try:
            while self._wanted_live != self.live:
                if self._wanted_live:
                    log.warning("going live: starting the NPAC services from the store")
                    self.writable = True
                    await self._go_live()
                    self.live = True
                    self.watch.went_live()
                else:
                    log.warning("leaving the live role: stopping the NPAC services")
                    self.live = self.writable = False
                    self.watch.left()
                    await self._stand_down()
        except Exception:
            # a node that could not start its services must not write or take carriers
            self.writable = self.live = False
            log.exception("role change failed; the node is not live")

    def _alarm(self, name: str, raised: bool, detail: str = "") -> None:
        if raised:
            self.alarms[name] = detail
        else:
            self.alarms.pop(name, None)
        if self._on_alarm is not None:
            self._on_alarm(name, raised, detail)

    def replication_status(self) -> dict[str, Any]:
        """For the status document: how far the other store is from this one, in journal rows."""
        s, r = self.sender.status(), self.receiver.status()
        last = self.store.last_sequence()
        if self.link.role in WRITING:
            lag = last - s.acked if s.follower or s.standby_lost else 0
            mode = "sync" if not s.standby_lost else ("async" if s.accepting_writes else "none")
        else:
            lag = max(0, r.peer.sequence - last) if r.peer is not None else 0
            mode = "sync" if r.connected else "none"
        return {"mode": mode, "lag_rows": max(0, lag), "last_sequence": last, "ack_wait_ms": s.ack_wait_ms}

"""The node's side of the HA interface, for a node whose store, replication sender and receiver run
in this process: `LocalNode` implements `ha.control.NodeControl`.

The integration into `appliance.node` is three calls on its hot paths:
- before a write: `link.may_write()` (False: answer the CMIP request with an error, change nothing);
- after each commit, before answering the carrier: `await sender.replicate(sequence)`;
- on each AARQ: `link.aarq_answer()` (ACCEPT, RETRY_SAME_HOST or TRY_OTHER_HOST, IIS 5.3.1.2);
plus hooks for what only the node can do: raise the epoch through its one writer, drain its
associations, and tell the users (lnpNPAC-SMS-Operational-Information, bulletins).
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from appliance.store import Store
from ha.control import NodeStatus
from ha.receiver import ReplicationReceiver
from ha.replication import ReplicationSender
from ha.roles import FOLLOWING, Aarq, Role

log = logging.getLogger("ha.node")


class LocalNode:
    def __init__(self, store: Store, sender: ReplicationSender, receiver: ReplicationReceiver, *,
                 raise_epoch: Callable[[int], Awaitable[None]] | None = None,
                 drain: Callable[[], Awaitable[None]] | None = None,
                 notify_users: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
                 on_role: Callable[[Role], None] | None = None):
        self.store = store
        self.sender = sender
        self.receiver = receiver
        self._raise_epoch = raise_epoch
        self._drain = drain
        self._notify = notify_users
        self._on_role = on_role
        self.role = Role.FENCED
        self.writes = False
        self.aarq = Aarq.TRY_OTHER_HOST
        self.notices: list[tuple[str, dict[str, Any]]] = []

    # --- what the node's hot paths ask ------------------------------------------------------------

    def may_write(self) -> bool:
        return self.writes and self.sender.accepting_writes

    def aarq_answer(self) -> Aarq:
        # a live node that may not write (refuse policy, standby lost) is "partly up" (IIS 5.3.1.2)
        if self.aarq is Aarq.ACCEPT and not self.sender.accepting_writes:
            return Aarq.RETRY_SAME_HOST
        return self.aarq

    # --- NodeControl ---------------------------------------------------------------------------------

    async def status(self) -> NodeStatus:
        s = self.sender.status()
        r = self.receiver.status()
        following = self.role in FOLLOWING
        last = self.store.last_sequence()
        rows = self.store.journal_since(last - 1) if last else []
        return NodeStatus(
            role=str(self.role), epoch=self.store.epoch, sequence=last, last_row_ms=rows[-1].time if rows else 0,
            at_risk_from=s.at_risk.first_sequence if s.at_risk else 0, accepting_writes=self.may_write(),
            current=following and r.current, drained=s.drained, handover=r.handover if following else 0,
            follower_epoch=s.follower_epoch if s.follower_epoch > self.store.epoch else 0)

    async def set_role(self, role: str) -> None:
        self.role = Role(role)
        self.sender.set_role(self.role)
        log.info("node role %s", self.role, extra={"role": str(self.role)})
        if self._on_role is not None:
            self._on_role(self.role)

    async def set_writes(self, allowed: bool) -> None:
        self.writes = bool(allowed)

    async def set_aarq(self, answer: int) -> None:
        self.aarq = Aarq(answer)

    async def set_follow(self, on: bool) -> None:
        if on:
            self.receiver.start()
        else:
            await self.receiver.stop()

    async def raise_epoch(self, epoch: int) -> int:
        if epoch > self.store.epoch:
            if self._raise_epoch is not None:
                await self._raise_epoch(epoch)
            else:
                self.store.set_epoch(epoch)
        return self.store.epoch

    async def drain(self) -> None:
        if self._drain is not None:
            await self._drain()

    async def hand_over(self) -> None:
        self.sender.hand_over()

    async def notify_users(self, kind: str, details: dict[str, Any]) -> None:
        self.notices.append((kind, details))
        log.warning("users notice %s: %s", kind, details, extra={"notice": kind})
        if self._notify is not None:
            await self._notify(kind, details)

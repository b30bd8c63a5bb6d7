"""The `npac-ha` logic: heartbeats in, role-machine events out, effects carried out on the node.

Each tick (one heartbeat interval) the manager:
1. asks the node for its status; if the node has not answered for half a dead time, it stops
   sending heartbeats, so a dead node looks dead to the peer (keepalived's track-script idea);
2. turns path liveness (heartbeat.PathTracker), node status and the peer's heartbeat into events;
3. steps the role machine (roles.step) with each and carries out the effects in order;
4. re-pushes the role to the node if the node disagrees (it restarted), and sends due outage notices.

Peer claims that would make this node act are verified first against the peer's replication
endpoint (`probe`): a higher epoch (this node steps down) and "nobody leads" (this node may win a
cold-start election). A heartbeat alone never moves a role.

Operators (the console, over the manager's control socket) can confirm a promotion (counted only
while both paths are lost, roles.py) and request or cancel a switchback. The unplanned-failover
drill (ha.drills) makes the live side play a crashed machine: `drill_crash` silences heartbeats and
SIGKILLs the node; nothing else decides until `drill_end` or a restart.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from ha.control import ControlError, NodeControl, NodeStatus
from ha.fence import FenceResult
from ha.heartbeat import Heartbeats, Local, wall_ms
from ha.roles import (CLAIMS_LEAD, FOLLOWING, PROFILE, WRITING, Alarm, AnswerAarq, CaughtUp, Cutover, Drain,
                      Effect, Elected, Event, FellBehind, FencePeer, FenceFailed, FenceSucceeded, Follow,
                      FollowerAhead, HandOver,
                      HaState, NotifyUsers, OperatorConfirmedPromotion, OutageNotices, PeerHigherEpoch, Position,
                      RaiseEpoch, Role, SwitchbackCancelled, SwitchbackDrained, SwitchbackReplayed,
                      SwitchbackRequested, Writes, next_epoch, outranks, should_lead, step)
from ha.wire import Heartbeat, Status

log = logging.getLogger("ha.manager")

CLAIM_NOT_BACKED = "epoch-claim-not-backed"
CUTOVER_BUDGET_MS = 10 * 60 * 1000  # contract 12.4, Exhibit G SLR 8
MAX_EPOCH = 2 ** 62


@dataclass(frozen=True)
class Settings:
    node: str
    peer: str
    preferred: bool            # the configured primary
    interval: float = 1.0
    dead_time: float = 15.0
    fence_retry: float = 60.0
    # SLR 22: users told within 15 min of detection. Silence alone may be the interconnect, not an
    # outage, so the first notice waits for the cutover decision (the peer is down for sure) or,
    # failing that, `notice_first`; then every 30 min until restored (SLR 23)
    notice_first: float = 10 * 60.0
    notice_every: float = 30 * 60.0
    probe_every: float = 2.0

    @property
    def parity(self) -> int:
        return 0 if self.preferred else 1


class NoticeSchedule:
    """Unscheduled-outage notices: the first `first` seconds after detection (or at once when the
    outage is confirmed, `confirm`), then every `every` seconds until stopped."""

    def __init__(self, start: float, first: float, every: float):
        self.every = every
        self.next = start + first
        self.sent = 0

    def confirm(self, now: float) -> None:
        if self.sent == 0:
            self.next = min(self.next, now)

    def due(self, now: float) -> bool:
        if now >= self.next:
            self.sent += 1
            self.next = now + self.every
            return True
        return False


@dataclass(frozen=True)
class Transition:
    time_ms: int
    before: str
    event: str
    after: str


class HaManager:
    def __init__(self, settings: Settings, node: NodeControl, heartbeats: Heartbeats, *,
                 fence: Callable[[], Awaitable[FenceResult]], probe: Callable[[], Awaitable[Status | None]],
                 clock: Callable[[], float] = time.monotonic, wall_clock_ms: Callable[[], int] = wall_ms,
                 on_alarm: Callable[[str, bool, str], None] | None = None,
                 crash_node: Callable[[], Awaitable[int]] | None = None):
        self.settings = settings
        self.crash_node = crash_node
        self.drill_crashed_ms: int | None = None  # the unplanned-failover drill: silent since
        self.node = node
        self.heartbeats = heartbeats
        self.fence = fence
        self.probe = probe
        self.clock = clock
        self.wall_ms = wall_clock_ms
        self.on_alarm = on_alarm
        self.state = HaState()
        self.alarms: dict[str, str] = {}
        self.history: list[Transition] = []
        self.cutover: dict[str, int] = {}
        self.database_status: dict[str, Any] = {}
        self.claims: list[tuple[str, str, bool]] = []  # (claim, peer, backed by its replication endpoint)
        self.peer_epoch_seen = 0
        self._status: NodeStatus | None = None
        self._status_at: float | None = None
        self._target_epoch: int | None = None
        self._notices: NoticeSchedule | None = None
        self._idle_since: float | None = None
        self._probed_at: float | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._fencing = False
        self._follower_epoch = 0
        self._pushed = False
        self._run: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._push_role(self.state.role)
        await self.heartbeats.start()
        self._run = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        for task in [*self._tasks, self._run]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._tasks, *([self._run] if self._run else []), return_exceptions=True)
        await self.heartbeats.stop()

    async def _loop(self) -> None:
        while True:
            role = self.state.role
            try:
                await self.tick()
            except ControlError as exc:
                log.warning("node control: %s", exc)
            except Exception:
                # a manager that cannot decide must not go on vouching for its node: fall silent,
                # so the peer sees a dead node rather than a healthy one
                log.exception("HA tick failed; heartbeats suspended until a tick succeeds")
                self.heartbeats.local = None
            # a role change is followed up at once (promotion waits on the next reading of the node)
            await asyncio.sleep(self.settings.interval if self.state.role is role else min(0.05, self.settings.interval))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- one tick ---------------------------------------------------------------------------------

    async def tick(self) -> None:
        if self.drill_crashed_ms is not None:
            self.heartbeats.local = None  # a crashed machine says nothing and decides nothing
            return
        now = self.clock()
        ns = await self._poll(now)
        role_polled = self.state.role
        events: list[Event] = list(self.heartbeats.update())
        peer = self.heartbeats.peer_fresh()
        if peer is not None:
            self.peer_epoch_seen = max(self.peer_epoch_seen, min(peer.epoch, MAX_EPOCH))
        if ns is not None:
            events += self._node_events(ns, peer)
            self._peer_checks(ns, peer, now)
        for event in events:
            await self.submit(event)
        if ns is not None and self.state.role is role_polled and (ns.role != role_polled or not self._pushed):
            await self._push_role(self.state.role)  # the node restarted or missed a call
        await self._outage_notice_due(now)

    async def _outage_notice_due(self, now: float) -> None:
        if self._notices is not None and self._notices.due(now):
            await self._notify("unscheduled-unavailability", {"notice": self._notices.sent,
                                                              "detected_ms": self.cutover.get("detected")})

    async def _poll(self, now: float) -> NodeStatus | None:
        try:
            ns = await self.node.status()
        except ControlError as exc:
            log.warning("node status unavailable: %s", exc)
            ns = None
        if ns is not None:
            self._status, self._status_at = ns, now
            self.heartbeats.local = Local(str(self.state.role), ns.epoch, ns.sequence, ns.at_risk_from,
                                          self.settings.preferred)
        elif self._status_at is None or now - self._status_at > self.settings.dead_time / 2:
            self.heartbeats.local = None
        return ns

    def _node_events(self, ns: NodeStatus, peer: Heartbeat | None) -> list[Event]:
        role = self.state.role
        if role in WRITING and ns.follower_epoch > max(ns.epoch, self._follower_epoch):
            self._follower_epoch = ns.follower_epoch
            return [FollowerAhead()]
        if role is Role.FENCED and ns.current:
            return [CaughtUp()]
        if role is Role.STANDBY:
            if ns.handover and ns.handover <= ns.sequence:
                return [SwitchbackReplayed()]
            if not ns.current or (peer is not None and peer.at_risk_from):
                return [FellBehind()]
        if role is Role.PROMOTING and self._target_epoch is not None and ns.epoch >= self._target_epoch:
            return [CaughtUp()]
        if role is Role.DRAINING and ns.drained:
            return [SwitchbackDrained()]
        return []

    def _peer_checks(self, ns: NodeStatus, peer: Heartbeat | None, now: float) -> None:
        """Start a verification when the peer's heartbeat claims something this node must act on."""
        role = self.state.role
        if peer is None:
            self._idle_since = None
            return
        claim: str | None = None
        if role in CLAIMS_LEAD and peer.role in CLAIMS_LEAD and outranks(
                peer.epoch, peer.preferred, ns.epoch, self.settings.preferred):
            claim = "epoch"
        if role in FOLLOWING and peer.role not in CLAIMS_LEAD:
            self._idle_since = now if self._idle_since is None else self._idle_since
            if now - self._idle_since >= self.settings.dead_time and should_lead(
                    self._position(ns), Position(peer.epoch, peer.sequence, peer.preferred, peer.node)):
                claim = "election"
        else:
            self._idle_since = None
        if claim is not None and (self._probed_at is None or now - self._probed_at >= self.settings.probe_every):
            self._probed_at = now
            self._spawn(self._verify(claim, peer))

    def _position(self, ns: NodeStatus) -> Position:
        return Position(ns.epoch, ns.sequence, self.settings.preferred, self.settings.node)

    async def _verify(self, claim: str, peer: Heartbeat) -> None:
        status = await self.probe()
        ns = self._status
        if ns is None:
            return
        if claim == "epoch":
            backed = status is not None and status.role in CLAIMS_LEAD and outranks(
                status.epoch, peer.preferred, ns.epoch, self.settings.preferred)
        else:
            backed = status is not None and status.role not in CLAIMS_LEAD and should_lead(
                self._position(ns), Position(status.epoch, status.sequence, peer.preferred, status.node))
        self.claims = [*self.claims[-19:], (claim, peer.node, backed)]
        if not backed:
            found = f"{status.role} at epoch {status.epoch}" if status else "no answer"
            log.warning("%s's %s claim (%s at epoch %s) not backed: its replication endpoint says %s",
                        peer.node, claim, peer.role, peer.epoch, found)
            if claim == "epoch":
                self._alarm(CLAIM_NOT_BACKED, True, f"{peer.node} claims {peer.role} at epoch {peer.epoch}; "
                                                    f"its replication endpoint says {found}")
            return
        if claim == "epoch":
            self._alarm(CLAIM_NOT_BACKED, False)
            await self.submit(PeerHigherEpoch())
        else:
            await self.submit(Elected())

    # --- events and effects -------------------------------------------------------------------------

    async def submit(self, event: Event) -> HaState:
        async with self._lock:
            before = self.state
            self.state, effects = step(before, event)
            if self.state.role is not before.role:
                self.history.append(Transition(self.wall_ms(), before.role, type(event).__name__, self.state.role))
                log.warning("role %s -> %s on %s", before.role, self.state.role, type(event).__name__,
                            extra={"role": str(self.state.role), "event": type(event).__name__})
                await self._call(self.node.set_role(str(self.state.role)))
            for effect in effects:
                await self._do(effect, event)
            return self.state

    async def _call(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except ControlError as exc:
            log.error("node control call failed: %s", exc)
            return None

    async def _push_role(self, role: Role) -> None:
        profile = PROFILE[role]
        calls = (self.node.set_role(str(role)), self.node.set_writes(profile.writes),
                 self.node.set_aarq(int(profile.aarq)), self.node.set_follow(profile.follow))
        self._pushed = True
        for call in calls:
            try:
                await call
            except ControlError as exc:
                # a node that missed part of its profile (not up yet, restarting) gets all of it again
                log.error("node control call failed: %s", exc)
                self._pushed = False

    async def _do(self, effect: Effect, event: Event) -> None:
        if isinstance(effect, Writes):
            await self._call(self.node.set_writes(effect.allowed))
        elif isinstance(effect, AnswerAarq):
            await self._call(self.node.set_aarq(int(effect.answer)))
        elif isinstance(effect, Follow):
            await self._call(self.node.set_follow(effect.on))
        elif isinstance(effect, RaiseEpoch):
            await self._raise_epoch()
        elif isinstance(effect, FencePeer):
            self._start_fence()
        elif isinstance(effect, Alarm):
            detail = event.reason if isinstance(event, FenceFailed) else type(event).__name__
            self._alarm(effect.name, effect.raised, detail)
        elif isinstance(effect, OutageNotices):
            await self._outage_notices(effect.on)
        elif isinstance(effect, NotifyUsers):
            await self._notify(effect.kind, {})
        elif isinstance(effect, Cutover):
            await self._cutover(effect.mark)
        elif isinstance(effect, Drain):
            await self._call(self.node.drain())
        elif isinstance(effect, HandOver):
            await self._call(self.node.hand_over())

    async def _raise_epoch(self) -> None:
        ns = await self._call(self.node.status()) or self._status
        if ns is None:
            return
        epoch = next_epoch(ns.epoch, max(self.peer_epoch_seen, self._follower_epoch), self.settings.parity)
        self._target_epoch = epoch
        self.database_status = self._lost_window(ns)
        log.warning("raising epoch %s -> %s", ns.epoch, epoch, extra={"epoch": epoch})
        await self._call(self.node.raise_epoch(epoch))

    def _lost_window(self, ns: NodeStatus) -> dict[str, Any]:
        """Contract 12.5: what the peer may have acknowledged that this node does not hold. Empty
        when this node was a current standby (synchronous replication)."""
        peer = self.heartbeats.peer
        window: dict[str, Any] = {"epoch_before": ns.epoch, "sequence": ns.sequence, "last_row_ms": ns.last_row_ms,
                                  "lost": False}
        was_current = self.state.role is not Role.FENCED or ns.current
        if peer is not None and peer.sequence > ns.sequence and (peer.at_risk_from or not was_current):
            window.update(lost=True, from_ms=ns.last_row_ms, to_ms=peer.time_ms, peer_sequence=peer.sequence)
        return window

    def _start_fence(self) -> None:
        if self._fencing:
            return
        self._fencing = True
        self._spawn(self._fence_once())

    async def _fence_once(self) -> None:
        try:
            result = await self.fence()
        finally:
            self._fencing = False
        await self.submit(FenceSucceeded() if result.fenced else FenceFailed(result.error))
        if not result.fenced:
            await asyncio.sleep(self.settings.fence_retry)
            if self.state.role in (Role.STANDBY, Role.HANDED_OVER) and self.state.peer_lost:
                self._start_fence()

    def _alarm(self, name: str, raised: bool, detail: str = "") -> None:
        if raised == (name in self.alarms):
            return
        if raised:
            self.alarms[name] = detail
            log.warning("alarm %s: %s", name, detail, extra={"alarm": name, "raised": True})
        else:
            self.alarms.pop(name)
            log.info("alarm %s cleared", name, extra={"alarm": name, "raised": False})
        if self.on_alarm is not None:
            self.on_alarm(name, raised, detail)

    async def _cutover(self, mark: str) -> None:
        now = self.wall_ms()
        if mark == "detected":
            self.cutover = {"detected": now}
            return
        self.cutover[mark] = now
        if mark == "decided" and self._notices is not None:
            self._notices.confirm(self.clock())  # the peer is down for sure: tell the users now
            await self._outage_notice_due(self.clock())
        if mark == "completed" and "detected" in self.cutover:
            took = now - self.cutover["detected"]
            log.warning("cutover completed in %.1f s (budget 600 s)", took / 1000,
                        extra={"cutover_ms": took, "within_budget": took <= CUTOVER_BUDGET_MS})

    async def _outage_notices(self, on: bool) -> None:
        if on:
            if self._notices is None:
                self._notices = NoticeSchedule(self.clock(), self.settings.notice_first, self.settings.notice_every)
            return
        notices, self._notices = self._notices, None
        if notices is not None and notices.sent:
            await self._notify("service-restored", {"cutover": dict(self.cutover),
                                                    "database": dict(self.database_status)})

    async def _notify(self, kind: str, details: dict[str, Any]) -> None:
        await self._call(self.node.notify_users(kind, {"node": self.settings.node, "time_ms": self.wall_ms(),
                                                       **details}))

    # --- operators --------------------------------------------------------------------------------

    async def confirm_promotion(self) -> str:
        return str((await self.submit(OperatorConfirmedPromotion())).role)

    async def request_switchback(self) -> str:
        return str((await self.submit(SwitchbackRequested())).role)

    async def cancel_switchback(self) -> str:
        return str((await self.submit(SwitchbackCancelled())).role)

    async def drill_crash(self) -> dict[str, Any]:
        """Unplanned-failover drill: this side behaves as a crashed machine. Heartbeats stop at
        once and stay off (until `drill_end` or a restart), then the node process is SIGKILLed, so the
        peer sees exactly what a crash shows it: silence on both paths, a replication link that
        drops, associations that vanish."""
        if self.crash_node is None:
            raise ControlError("this npac-ha cannot stop its node process")
        if self.state.role not in WRITING:
            raise ControlError(f"the crash drill runs on the live side; this side is {self.state.role}")
        self.drill_crashed_ms = self.wall_ms()
        self.heartbeats.local = None
        ns = await self._call(self.node.status()) or self._status  # what it had committed, last thing
        try:
            pid = await self.crash_node()
        except Exception as exc:
            self.drill_crashed_ms = None
            raise ControlError(f"node not stopped: {exc}") from None
        log.warning("drill: node process %s killed, heartbeats off", pid, extra={"drill": "crash"})
        return {"crashed_ms": self.drill_crashed_ms, "pid": pid, "role": str(self.state.role),
                "sequence": ns.sequence if ns else None, "at_risk_from": ns.at_risk_from if ns else None,
                "epoch": ns.epoch if ns else None}

    async def drill_end(self) -> dict[str, Any]:
        was, self.drill_crashed_ms = self.drill_crashed_ms, None
        return {"was_crashed_ms": was}

    async def report(self) -> dict[str, Any]:
        peer = self.heartbeats.peer
        return {
            "node": self.settings.node, "role": str(self.state.role), "peer_lost": self.state.peer_lost,
            "preferred": self.settings.preferred,
            "paths": {name: asdict(st) for name, st in self.heartbeats.states().items()},
            "peer": asdict(peer) if peer else None, "alarms": dict(self.alarms), "cutover": dict(self.cutover),
            "database": dict(self.database_status),
            "history": [asdict(t) for t in self.history[-20:]],
            "heartbeats_dropped": self.heartbeats.dropped,
            "drill_crashed_ms": self.drill_crashed_ms,
            "wall_ms": self.wall_ms(),
        }

    def handlers(self) -> dict[str, Callable[..., Awaitable[Any]]]:
        """The manager's own control socket (console, SNMP agent)."""
        return {"status": self.report, "confirm_promotion": self.confirm_promotion,
                "switchback": self.request_switchback, "cancel_switchback": self.cancel_switchback,
                "drill.crash": self.drill_crash, "drill.end": self.drill_end}


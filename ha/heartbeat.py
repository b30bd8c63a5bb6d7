"""Heartbeats on two independent paths: UDP on the interconnect (694) and a serial null-modem cable.

The same sealed `Heartbeat` goes out on every path each `interval`; each path keeps its own up/down
state (what the alarms and the SNMP heartbeat-path table show). A path is down when no valid
heartbeat came on it for `dead_time`; the peer is lost when both are (`PathTracker`).

A heartbeat is accepted only if its HMAC verifies, it names the configured peer (not this node: a
looped-back cable must not count as the peer), its clock is within `max_skew` of ours (so a replay
is at most that old), and its counter is above the last one accepted on that path from the same
boot of the sender (so no replay within the window either). Boots are not ordered: a peer that
restarts after its clock stepped back is a new boot, not a replay. Its role and epoch are claims:
they never make this node take over (roles.py), and claims that would make it act are checked
against the peer's replication endpoint first (manager.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import serial

from ha.roles import BothPathsLost, Event, PathLost, PathRestored, PeerHeard
from ha.wire import MAX_DATAGRAM, Heartbeat, LineDecoder, WireError, seal, to_line, unseal

log = logging.getLogger("ha.heartbeat")

SESSION = "heartbeat"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


# --- pure parts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PathState:
    name: str
    up: bool
    since: float             # monotonic time of the last change (or of start)
    last_heard: float | None  # monotonic time of the last valid heartbeat
    accepted: int
    rejected: int


class PathTracker:
    """Per-path liveness from heartbeat arrival times, turned into role-machine events.

    Paths start "up as of start" so that a peer never heard is declared lost after one dead time
    like one that went quiet, and not at once."""

    def __init__(self, paths: list[str], dead_time: float, now: float):
        self.dead_time = dead_time
        self._states = {p: PathState(p, True, now, None, 0, 0) for p in paths}
        self._reference = {p: now for p in paths}
        self._peer_lost = False

    def heard(self, path: str, now: float) -> None:
        st = self._states[path]
        self._states[path] = replace(st, last_heard=now, accepted=st.accepted + 1)
        self._reference[path] = now

    def rejected(self, path: str) -> None:
        st = self._states[path]
        self._states[path] = replace(st, rejected=st.rejected + 1)

    def update(self, now: float) -> list[Event]:
        events: list[Event] = []
        for name, st in self._states.items():
            up = now - self._reference[name] < self.dead_time
            if up != st.up:
                self._states[name] = replace(st, up=up, since=now)
                events.append(PathRestored(name) if up else PathLost(name))
        any_up = any(st.up for st in self._states.values())
        if not any_up and not self._peer_lost:
            self._peer_lost = True
            events.append(BothPathsLost())
        elif any_up and self._peer_lost:
            self._peer_lost = False
            events.append(PeerHeard())
        return events

    @property
    def peer_lost(self) -> bool:
        return self._peer_lost

    def states(self) -> dict[str, PathState]:
        return dict(self._states)


class HeartbeatFilter:
    """Which received heartbeats count (see the module docstring)."""

    def __init__(self, key: bytes, node: str, peer: str, max_skew_ms: int, wall_clock_ms: Callable[[], int]):
        self.key = key
        self.node = node
        self.peer = peer
        self.max_skew_ms = max_skew_ms
        self.wall_ms = wall_clock_ms
        self._last: dict[tuple[str, int], int] = {}  # (path, boot) -> last counter accepted

    def accept(self, path: str, sealed: bytes) -> Heartbeat:
        opened = unseal(self.key, sealed)
        hb = opened.message
        if not isinstance(hb, Heartbeat) or opened.session != SESSION:
            raise WireError(f"not a heartbeat: {hb.TYPE}")
        if hb.node != self.peer:
            raise WireError(f"heartbeat from {hb.node!r}, expected the peer {self.peer!r}")
        if abs(hb.time_ms - self.wall_ms()) > self.max_skew_ms:
            raise WireError(f"heartbeat clock off by {hb.time_ms - self.wall_ms()} ms (replayed or skewed)")
        mark = (path, hb.boot)
        if hb.counter <= self._last.get(mark, 0):
            raise WireError(f"heartbeat {hb.counter} of boot {hb.boot} not after {self._last[mark]} (replayed)")
        self._last[mark] = hb.counter
        if len(self._last) > 16:  # boots older than the freshness window can no longer be replayed
            del self._last[next(iter(self._last))]
        return hb


# --- transports -----------------------------------------------------------------------------------

Receive = Callable[[str, bytes], None]


class Path(Protocol):
    name: str

    async def open(self, receive: Receive) -> None: ...

    def send(self, sealed: bytes) -> None: ...

    def close(self) -> None: ...


class UdpPath(asyncio.DatagramProtocol):
    """The network path: one datagram per heartbeat, to the peer's address."""

    def __init__(self, bind: tuple[str, int], peer: tuple[str, int], name: str = "network"):
        self.name = name
        self.bind = bind
        self.peer = peer
        self._transport: asyncio.DatagramTransport | None = None
        self._receive: Receive | None = None
        self.send_errors = 0

    async def open(self, receive: Receive) -> None:
        self._receive = receive
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=self.bind)

    @property
    def address(self) -> tuple[str, int]:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._receive is not None and len(data) <= MAX_DATAGRAM:
            self._receive(self.name, data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the peer is down: expected, the tracker notices the silence
        self.send_errors += 1

    def send(self, sealed: bytes) -> None:
        if self._transport is not None:
            self._transport.sendto(sealed, self.peer)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class SerialPath:
    """The serial path: pyserial opens and configures the line (raw, 8N1, baud rate); reads and
    writes are non-blocking on its descriptor through the event loop, so a stalled or unplugged
    cable can never block the manager."""

    def __init__(self, device: str, baudrate: int = 19200, name: str = "serial", reopen: float = 1.0):
        self.name = name
        self.device = device
        self.baudrate = baudrate
        self.reopen = reopen
        self._port: serial.Serial | None = None
        self._receive: Receive | None = None
        self._decoder = LineDecoder()
        self._retry: asyncio.TimerHandle | None = None
        self.send_errors = 0

    async def open(self, receive: Receive) -> None:
        self._receive = receive
        self._open()

    def _open(self) -> None:
        self._retry = None
        try:
            self._port = serial.Serial(self.device, self.baudrate, timeout=0, write_timeout=0, exclusive=True)
        except (serial.SerialException, OSError) as exc:
            log.warning("serial heartbeat: cannot open %s: %s", self.device, exc)
            self._schedule_reopen()
            return
        os.set_blocking(self._port.fileno(), False)
        asyncio.get_running_loop().add_reader(self._port.fileno(), self._readable)

    def _schedule_reopen(self) -> None:
        self.close()
        self._retry = asyncio.get_running_loop().call_later(self.reopen, self._open)

    def _readable(self) -> None:
        assert self._port is not None
        try:
            data = os.read(self._port.fileno(), 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            # EIO: the other end is gone (pty closed, USB adapter pulled); try again later
            log.warning("serial heartbeat: %s: %s", self.device, exc)
            self._schedule_reopen()
            return
        for sealed in self._decoder.feed(data):
            if self._receive is not None:
                self._receive(self.name, sealed)

    @property
    def noise(self) -> int:
        return self._decoder.dropped

    def send(self, sealed: bytes) -> None:
        if self._port is None:
            return
        try:
            os.write(self._port.fileno(), to_line(sealed))
        except OSError as exc:
            # a full output buffer (nobody reading) or a dead line: the peer will see silence
            self.send_errors += 1
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EIO):
                log.warning("serial heartbeat: write to %s failed: %s", self.device, exc)

    def close(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._port is not None:
            with contextlib.suppress(RuntimeError, ValueError):  # no loop any more, or fd already gone
                asyncio.get_running_loop().remove_reader(self._port.fileno())
            self._port.close()
            self._port = None


# --- the heartbeat service ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Local:
    """What this node says about itself in its heartbeats."""
    role: str
    epoch: int
    sequence: int
    at_risk_from: int
    preferred: bool


class Heartbeats:
    def __init__(self, key: bytes, node: str, peer: str, paths: list[Path], *, interval: float = 1.0,
                 dead_time: float = 15.0, max_skew: float = 30.0, clock: Callable[[], float] = time.monotonic,
                 wall_clock_ms: Callable[[], int] = wall_ms):
        self.key = key
        self.node = node
        self.paths = paths
        self.interval = interval
        self.clock = clock
        self.wall_ms = wall_clock_ms
        self.tracker = PathTracker([p.name for p in paths], dead_time, clock())
        self.filter = HeartbeatFilter(key, node, peer, int(max_skew * 1000), wall_clock_ms)
        self.peer: Heartbeat | None = None  # the last accepted heartbeat, any path
        self.local: Local | None = None     # None: say nothing (the node is not answering)
        self.boot = wall_clock_ms()
        self.counter = 0
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for path in self.paths:
            await path.open(self._received)
        self._task = asyncio.create_task(self._send_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for path in self.paths:
            path.close()

    def _received(self, path: str, sealed: bytes) -> None:
        try:
            hb = self.filter.accept(path, sealed)
        except WireError as exc:
            self.dropped += 1
            self.tracker.rejected(path)
            log.warning("heartbeat on %s dropped: %s", path, exc, extra={"path": path, "dropped": "heartbeat"})
            return
        self.tracker.heard(path, self.clock())
        self.peer = hb

    def beat(self) -> None:
        """Send one heartbeat now on every path (if there is anything to say)."""
        if self.local is None:
            return
        self.counter += 1
        hb = Heartbeat(self.node, self.local.role, self.local.epoch, self.local.sequence, self.local.at_risk_from,
                       self.local.preferred, self.boot, self.counter, self.wall_ms())
        sealed = seal(self.key, hb, SESSION)
        for path in self.paths:
            path.send(sealed)

    async def _send_loop(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self.interval)

    def update(self) -> list[Event]:
        return self.tracker.update(self.clock())

    def states(self) -> dict[str, PathState]:
        return self.tracker.states()

    def peer_fresh(self) -> Heartbeat | None:
        """The peer's last heartbeat, if it is still within the dead time on some path."""
        return None if self.tracker.peer_lost else self.peer

"""Journal shipping, live side: the node's journal rows streamed to the follower over TCP (7410).

The node calls `await sender.replicate(sequence)` after each committed transaction and answers the
carrier only when it returns (ARCHITECTURE "Store and replication"): `Durability.PEER` once the
follower acknowledged the row as durable, so no acknowledged transaction is lost at a cutover.

When acknowledgements stop (follower gone, its disk full, no progress for `ack_timeout`) the sender
raises the `replication-standby-lost` alarm and applies the policy:
- `async`: waiting calls return `Durability.LOCAL` and the rows they cover form the at-risk window
  (contract 12.5's lost-transaction window if a cutover happened now); heartbeats carry its start,
  so the standby knows it no longer holds every acknowledged transaction;
- `refuse`: `accepting_writes` turns False (the node refuses new writes and answers AARQs with
  retry-same-host) and waiting calls keep waiting: their rows are committed locally, so telling the
  carrier "failed" would be untrue; they complete when the follower is back or the policy changes.
Once the follower acknowledges the last row again, the alarm clears and the window closes.

Followers connect (see receiver.py) and say where they are; the sender streams from there, or sends
a snapshot when the follower diverged, is too far behind, or asks from before the journal it holds.
A follower claiming a higher epoch is refused: this node is then the stale one, and must not push.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from appliance.store import Store
from ha.roles import SERVING, WRITING, Role
from ha.snapshot import make_snapshot
from ha.wire import (MAX_FRAME, Ack, Challenge, Channel, FramingError, Handover, Hello, Message, Refusal, Rows,
                     SnapshotBegin, SnapshotChunk, SnapshotEnd, Status, WireError, frame, frame_length, row_hash,
                     seal, unseal)

log = logging.getLogger("ha.replication")

PUSH_BUFFER_LIMIT = 256 * 1024  # octets queued on the socket above which rows wait for the streaming task
STANDBY_LOST = "replication-standby-lost"
STANDBY_DISK_FULL = "replication-standby-disk-full"
FOLLOWER_AHEAD = "replication-follower-epoch-higher"

AlarmHook = Callable[[str, bool, str], None]
Send = Callable[[Message], Awaitable[None]]


class Policy(StrEnum):
    ASYNC = "async"
    REFUSE = "refuse"


class Durability(StrEnum):
    PEER = "peer"    # the follower holds it
    LOCAL = "local"  # only this node holds it (async policy, follower lost)


@dataclass(frozen=True)
class AtRisk:
    """Rows acknowledged to carriers that only this node holds (contract 12.5)."""
    first_sequence: int
    first_time_ms: int
    last_sequence: int
    last_time_ms: int


@dataclass(frozen=True)
class SenderStatus:
    role: str
    serving: bool
    follower: str | None
    acked: int
    last_sequence: int
    standby_lost: bool
    lost_reason: str
    accepting_writes: bool
    policy: str
    at_risk: AtRisk | None
    drained: bool
    handover_sent: bool
    snapshots_sent: int
    dropped: int
    follower_epoch: int  # the highest epoch a refused follower presented (0: none)
    ack_wait_ms: dict[str, float]  # how long carriers' answers waited for the follower, recent writes


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def read_sealed(reader: asyncio.StreamReader, timeout: float | None, limit: int = MAX_FRAME) -> bytes:
    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that races a read
    async with asyncio.timeout(timeout):
        header = await reader.readexactly(4)
        return await reader.readexactly(frame_length(header, limit))


class ReplicationSender:
    def __init__(self, store: Store, key: bytes, *, node: str, policy: Policy = Policy.ASYNC,
                 ack_timeout: float = 2.0, keepalive: float = 1.0, batch: int = 256, snapshot_after: int = 50_000,
                 handshake_timeout: float = 5.0, chunk: int = 192 * 1024, staging_dir: Path | None = None,
                 clock: Callable[[], float] = time.monotonic, wall_clock_ms: Callable[[], int] = wall_ms,
                 on_alarm: AlarmHook | None = None, on_follower_ahead: Callable[[int], None] | None = None):
        self.store = store
        self.key = key
        self.node = node
        self.policy = Policy(policy)
        self.ack_timeout = ack_timeout
        self.keepalive = keepalive
        self.batch = batch
        self.snapshot_after = snapshot_after
        self.handshake_timeout = handshake_timeout
        self.chunk = chunk
        self.staging_dir = staging_dir or Path(store.path).parent
        self.clock = clock
        self.wall_ms = wall_clock_ms
        self.on_alarm = on_alarm
        self.on_follower_ahead = on_follower_ahead
        self.alarms: dict[str, str] = {}
        self.dropped = 0
        self.snapshots_sent = 0
        self.follower_epoch = 0
        self._role = Role.FENCED
        self._acked = 0
        self._follower: str | None = None
        self._waiters: list[tuple[int, asyncio.Future[Durability]]] = []
        self._waits: deque[float] = deque(maxlen=1024)
        self._push: Callable[[], bool] | None = None  # while a session streams: send new rows at once
        self._sent = 0
        self._progress_at: float | None = None
        self._lost = False
        self._lost_reason = ""
        self._at_risk: AtRisk | None = None
        self._handover_wanted = False
        self._handover_sent = False
        self._wake = asyncio.Event()
        self._session: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # --- what the node calls ----------------------------------------------------------------------

    async def start(self, host: str, port: int) -> asyncio.Server:
        self._server = await asyncio.start_server(self._accept, host, port)
        self._watchdog = asyncio.create_task(self._watch())
        return self._server

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in [*self._tasks, self._watchdog]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._tasks, *([self._watchdog] if self._watchdog else []), return_exceptions=True)
        for _, fut in self._waiters:
            fut.cancel()
        self._waiters.clear()

    def committed(self, sequence: int) -> None:
        """A row was committed: ship it now when the follower is caught up (no loop turn between the
        commit and the send: under load each turn waits behind every carrier request queued before it),
        else wake the streaming task."""
        if not self._send_now():
            self._wake.set()

    def _send_now(self) -> bool:
        """The rows not yet sent, from this call (after a commit, or with an acknowledgement's arrival
        for the rows committed while the last batch was out); False leaves them to the streaming task."""
        try:
            return self._push is not None and self._push()
        except Exception:  # the change is committed; the streaming task sends it, or the link restarts
            log.exception("replication: sending rows at once failed")
            return False

    async def replicate(self, sequence: int) -> Durability:
        """Return once the follower holds row `sequence` (or per policy when it is lost)."""
        self.committed(sequence)
        if self._acked >= sequence:
            self._waits.append(0.0)
            return Durability.PEER
        if self._lost and self.policy is Policy.ASYNC:
            self._note_at_risk(sequence)
            return Durability.LOCAL
        fut: asyncio.Future[Durability] = asyncio.get_running_loop().create_future()
        began = self.clock()
        if not self._waiters:
            self._progress_at = began
        self._waiters.append((sequence, fut))
        durability = await fut
        self._waits.append(self.clock() - began)
        return durability

    @property
    def accepting_writes(self) -> bool:
        return not (self._lost and self.policy is Policy.REFUSE)

    def set_role(self, role: Role | str) -> None:
        self._role = Role(role)
        if self._role in WRITING:
            self._handover_wanted = self._handover_sent = False
        if self._role not in SERVING and self._session is not None:
            self._session.cancel()  # a node that no longer leads stops feeding at once
        self._wake.set()

    def set_policy(self, policy: Policy | str) -> None:
        self.policy = Policy(policy)
        if self._lost and self.policy is Policy.ASYNC:
            self._release_local()

    def standby_lost(self, reason: str) -> None:
        """The node (or the HA manager) knows the follower is gone: apply the policy now."""
        if not self._lost:
            self._declare_lost(reason)

    def hand_over(self) -> None:
        """Switchback: send Handover once the follower holds the last row (RN10-4)."""
        self._handover_wanted = True
        self._wake.set()

    def status(self) -> SenderStatus:
        last = self.store.last_sequence()
        return SenderStatus(
            role=str(self._role), serving=self._role in SERVING, follower=self._follower, acked=self._acked,
            last_sequence=last, standby_lost=self._lost, lost_reason=self._lost_reason,
            accepting_writes=self.accepting_writes, policy=str(self.policy), at_risk=self._at_risk,
            drained=self._role is Role.DRAINING and self._session is not None and self._acked >= last,
            handover_sent=self._handover_sent, snapshots_sent=self.snapshots_sent, dropped=self.dropped,
            follower_epoch=self.follower_epoch, ack_wait_ms=self._wait_summary())

    def _wait_summary(self) -> dict[str, float]:
        waits = sorted(self._waits)
        if not waits:
            return {"count": 0, "p50": 0.0, "p95": 0.0}
        def at(q: float) -> float:
            return round(waits[min(len(waits) - 1, int(q * len(waits)))] * 1000, 2)
        return {"count": len(waits), "p50": at(0.5), "p95": at(0.95)}

    # --- acknowledgement bookkeeping --------------------------------------------------------------

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

    def _note_at_risk(self, sequence: int) -> None:
        now = self.wall_ms()
        if self._at_risk is None:
            self._at_risk = AtRisk(sequence, now, sequence, now)
        elif sequence > self._at_risk.last_sequence:
            self._at_risk = AtRisk(self._at_risk.first_sequence, self._at_risk.first_time_ms, sequence, now)

    def _release_local(self) -> None:
        for sequence, fut in self._waiters:
            if not fut.done():
                self._note_at_risk(sequence)
                fut.set_result(Durability.LOCAL)
        self._waiters.clear()
        self._progress_at = None

    def _declare_lost(self, reason: str) -> None:
        self._lost = True
        self._lost_reason = reason
        self._alarm(STANDBY_LOST, True, reason)
        if self.policy is Policy.ASYNC:
            self._release_local()

    def _on_ack(self, sequence: int) -> None:
        if sequence <= self._acked:
            return
        self._acked = sequence
        keep = []
        for seq, fut in self._waiters:
            if seq <= sequence:
                if not fut.done():
                    fut.set_result(Durability.PEER)
            else:
                keep.append((seq, fut))
        self._waiters = keep
        self._progress_at = self.clock() if keep else None
        if self._at_risk is not None and sequence >= self._at_risk.last_sequence:
            log.info("at-risk window %s..%s now held by the follower", self._at_risk.first_sequence,
                     self._at_risk.last_sequence)
            self._at_risk = None
        if self._lost and sequence >= self.store.last_sequence():
            self._lost = False
            self._lost_reason = ""
            self._alarm(STANDBY_LOST, False)
            self._alarm(STANDBY_DISK_FULL, False)

    async def _watch(self) -> None:
        period = max(min(self.ack_timeout / 4, 0.25), 0.01)
        while True:
            await asyncio.sleep(period)
            if (self._waiters and not self._lost and self._progress_at is not None
                    and self.clock() - self._progress_at >= self.ack_timeout):
                self._declare_lost(f"no acknowledgement for {self.ack_timeout:g} s")

    # --- connections --------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve(reader, writer, task)
        except (WireError, asyncio.IncompleteReadError, ConnectionError, TimeoutError) as exc:
            log.warning("replication connection from %s ended: %s", peer, exc or type(exc).__name__)
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            if self._session is task:
                self._session = None
                self._follower = None
            writer.close()

    async def _hello(self, reader: asyncio.StreamReader, nonce: str) -> Hello:
        deadline = self.clock() + self.handshake_timeout
        while True:
            sealed = await read_sealed(reader, max(deadline - self.clock(), 0.001))
            try:
                opened = unseal(self.key, sealed)
                if opened.session != f"{nonce}.hello" or not isinstance(opened.message, Hello):
                    raise WireError(f"expected hello for this challenge, got {opened.message.TYPE}")
                return opened.message
            except WireError as exc:
                self.dropped += 1
                log.warning("replication: dropped a message before hello: %s", exc, extra={"dropped": "hello"})

    def _start_point(self, hello: Hello) -> int | None:
        """Where to stream from, or None for a snapshot."""
        last = self.store.last_sequence()
        c = hello.sequence
        if c > last or last - c > self.snapshot_after:
            return None
        if c > 0:
            row = self.store.get("journal", c)
            if row is None or row_hash(row["change"]) != hello.last_hash:
                return None  # diverged: the follower wrote rows this node never had
        if c < last and self.store.get("journal", c + 1) is None:
            return None
        return c

    def _status(self) -> Status:
        return Status(self.node, str(self._role), self.store.epoch, self.store.last_sequence(),
                      self._at_risk.first_sequence if self._at_risk else 0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     task: asyncio.Task[None]) -> None:
        nonce = secrets.token_hex(16)
        writer.write(frame(seal(self.key, Challenge(nonce), "challenge")))
        await writer.drain()
        hello = await self._hello(reader, nonce)
        ch = Channel(self.key, nonce, hello.nonce, server=True)

        async def send(message: Message) -> None:
            writer.write(ch.seal(message))
            await writer.drain()

        def push() -> bool:
            """Send the rows after the last sent without waiting; False when the socket's buffer is
            backed up (the streaming task sends them, pacing itself on drain). While a batch is
            unacknowledged the new rows wait for its ack and then go together: one message, and one
            transaction and fsync on the follower, for all the writes made meanwhile (group commit
            over the wire) instead of one each."""
            if self._session is not task or writer.is_closing():
                return False
            if self._acked < self._sent:
                return True  # _read_acks sends them with the acknowledgement's arrival
            if writer.transport.get_write_buffer_size() > PUSH_BUFFER_LIMIT:
                return False
            rows = self.store.journal_since(self._sent, limit=self.batch)
            if rows:
                writer.write(ch.seal(Rows([r.as_dict() for r in rows])))
                self._sent = rows[-1].sequence
            return True

        if hello.purpose == "probe":
            await send(self._status())
            return
        if self._role not in SERVING:
            await send(self._status())
            await send(Refusal("not-live", f"{self.node} is {self._role}"))
            return
        if hello.epoch > self.store.epoch:
            text = f"{hello.node} is at epoch {hello.epoch}, this node only {self.store.epoch}"
            self._alarm(FOLLOWER_AHEAD, True, text)
            self.follower_epoch = max(self.follower_epoch, hello.epoch)
            await send(Refusal("stale-epoch", text))
            if self.on_follower_ahead is not None:
                self.on_follower_ahead(hello.epoch)
            return
        self._alarm(FOLLOWER_AHEAD, False)
        if self._session is not None:
            self._session.cancel()  # a pair has one follower: the newest connection is the live one
        self._push = None
        self._session = task
        self._follower = hello.node
        start = self._start_point(hello)
        await send(self._status())
        if start is None:
            start = await self._send_snapshot(send)
        self._acked = start
        acks = asyncio.create_task(self._read_acks(reader, ch))
        self._sent = start
        try:
            await self._stream(send, push, acks)
        finally:
            if self._session is task:
                self._push = None
            acks.cancel()

    async def _send_snapshot(self, send: Send) -> int:
        folder = Path(tempfile.mkdtemp(dir=self.staging_dir, prefix=".snapshot-"))
        path = folder / "snapshot.db"
        # the copy runs in a thread on its own connection; if this session ends first, the folder
        # goes only once the thread is done with it
        job = asyncio.get_running_loop().run_in_executor(None, make_snapshot, self.store.path, path)
        try:
            info = await asyncio.shield(job)
            log.info("replication: sending snapshot at epoch %s sequence %s (%s octets)",
                     info.epoch, info.sequence, info.size)
            await send(SnapshotBegin(info.epoch, info.sequence, info.size, info.sha256))
            with open(path, "rb") as f:
                while data := f.read(self.chunk):
                    await send(SnapshotChunk(base64.b64encode(data).decode()))
            await send(SnapshotEnd())
        finally:
            job.add_done_callback(lambda _job: shutil.rmtree(folder, ignore_errors=True))
        self.snapshots_sent += 1
        return info.sequence

    async def _stream(self, send: Send, push: Callable[[], bool], acks: asyncio.Task[None]) -> None:
        backlog_out = False
        status_at = self.clock()
        while not acks.done():
            self._wake.clear()
            rows = self.store.journal_since(self._sent, limit=self.batch)
            if rows:
                self._push = None  # a backlog goes out here, paced by drain
                await send(Rows([r.as_dict() for r in rows]))
                self._sent = max(self._sent, rows[-1].sequence)
                continue
            self._push = push  # caught up: the next commit is sent by the writer's own call
            if not backlog_out or self.clock() - status_at >= self.keepalive:
                # everything so far is sent: the follower can tell it caught up; under steady load
                # this is also how it learns that an at-risk window closed
                backlog_out = True
                status_at = self.clock()
                await send(self._status())
            if self._handover_wanted and not self._handover_sent and self._acked >= self._sent \
                    and self._sent >= self.store.last_sequence():
                await send(Handover(self.store.epoch, self._sent))
                self._handover_sent = True
                log.info("replication: handed over at epoch %s sequence %s", self.store.epoch, self._sent)
            try:
                async with asyncio.timeout(self.keepalive):
                    await self._wake.wait()
            except TimeoutError:
                status_at = self.clock()
                await send(self._status())
        acks.result()

    async def _read_acks(self, reader: asyncio.StreamReader, ch: Channel) -> None:
        try:
            while True:
                try:
                    message = ch.open(await read_sealed(reader, None))
                except FramingError:
                    raise
                except WireError as exc:
                    self.dropped += 1
                    log.warning("replication: dropped a message: %s", exc, extra={"dropped": "sender"})
                    continue
                if isinstance(message, Ack):
                    self._on_ack(message.sequence)
                    self._send_now()
                    self._wake.set()
                elif isinstance(message, Refusal):
                    log.warning("replication: follower refused: %s %s", message.code, message.text)
                    if message.code == "disk-full":
                        self._alarm(STANDBY_DISK_FULL, True, message.text)
                        self.standby_lost(f"follower disk full: {message.text}")
                    return
                else:
                    self.dropped += 1
                    log.warning("replication: dropped an unexpected %s from the follower", message.TYPE)
        finally:
            self._wake.set()

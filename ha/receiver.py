"""Journal shipping, follower side: connect to the live peer, say where this store is, apply what
comes in order and acknowledge each batch once it is durable.

Every row goes through `Store.apply_journal_row` (idempotent; refuses gaps, divergence, older epochs);
each batch the sender sends is one SQLite transaction with synchronous=FULL (all or nothing), so an Ack
names rows already on disk and costs one fsync per batch, not per row.
- gap (rows lost in transit): reconnect; the hello names this store's last row and the sender
  resumes after it (catch-up after a restart is the same path);
- a row from an older epoch than this store's: refused, the sender is stale (alarm);
- full disk: refused with `disk-full`, no Ack; retried after `retry_full`;
- divergence, or too far behind: the sender answers the hello with a snapshot instead (snapshot.py);
- forged or malformed messages are dropped, counted and logged; the connection carries on.

`current` is what the HA manager needs to let this node be promoted automatically: the follower has
caught up since it started following, and the live peer acknowledged nothing it does not hold
(its at-risk window is empty).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.store import JournalError, JournalRow, Store
from ha.replication import read_sealed, wall_ms
from ha.roles import SERVING
from ha.snapshot import SnapshotError, install_snapshot
from ha.wire import (Ack, Challenge, Channel, FramingError, Handover, Hello, Message, Refusal, Rows, SnapshotBegin,
                     SnapshotChunk, SnapshotEnd, Status, WireError, frame, row_hash, seal, unseal)

log = logging.getLogger("ha.receiver")

DISK_FULL = "replication-disk-full"
REFUSED = "replication-refused"
DISCARDED = "transactions-discarded"


@dataclass(frozen=True)
class PeerView:
    node: str
    role: str
    epoch: int
    sequence: int
    at_risk_from: int


@dataclass(frozen=True)
class ReceiverStatus:
    running: bool
    connected: bool
    applied: int
    epoch: int
    last_applied_ms: int
    peer: PeerView | None
    caught_up: bool
    current: bool
    refused: str
    handover: int  # the sequence of a handover this store holds (0: none)
    snapshots: int
    dropped: int
    disk_full: bool


class _Restart(Exception):
    """End this connection and reconnect (after `delay`)."""

    def __init__(self, reason: str, delay: float = 0.0):
        super().__init__(reason)
        self.delay = delay


def _is_disk_full(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "full" in str(exc)


class ReplicationReceiver:
    def __init__(self, store: Store, key: bytes, *, node: str, peer: tuple[str, int], retry: float = 0.5,
                 retry_full: float = 2.0, idle_timeout: float = 3.0, connect_timeout: float = 2.0,
                 staging_dir: Path | None = None, on_alarm: Callable[[str, bool, str], None] | None = None,
                 on_discarded: Callable[[list[JournalRow], int], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.key = key
        self.node = node
        self.peer = peer
        self.retry = retry
        self.retry_full = retry_full
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.staging_dir = staging_dir or Path(store.path).parent
        self.on_alarm = on_alarm
        self.on_discarded = on_discarded or self._keep_discarded
        self.clock = clock
        self.alarms: dict[str, str] = {}
        self.dropped = 0
        self.snapshots = 0
        self.discarded_files: list[Path] = []
        self._task: asyncio.Task[None] | None = None
        self._connected = False
        self._peer: PeerView | None = None
        self._target: int | None = None
        self._caught_up = False
        self._refused = ""
        self._handover = 0
        self._disk_full = False
        self._staged: dict[str, Any] | None = None
        self._handshake_status = True

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._caught_up = False
            self._handover = 0
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._connected = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def status(self) -> ReceiverStatus:
        last = self.store.journal_since(self.store.last_sequence() - 1) if self.store.last_sequence() else []
        peer = self._peer
        current = self._caught_up and peer is not None and peer.at_risk_from == 0
        return ReceiverStatus(
            running=self.running, connected=self._connected, applied=self.store.last_sequence(),
            epoch=self.store.epoch, last_applied_ms=last[-1].time if last else 0, peer=peer,
            caught_up=self._caught_up, current=current, refused=self._refused, handover=self._handover,
            snapshots=self.snapshots, dropped=self.dropped, disk_full=self._disk_full)

    # --- alarms and discarded rows ------------------------------------------------------------------

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

    def _keep_discarded(self, rows: list[JournalRow], epoch: int) -> None:
        """Never throw a committed row away silently: keep it for the lost-transaction report."""
        path = self.staging_dir / f"discarded-epoch{epoch}-{wall_ms()}.jsonl"
        path.write_text("".join(json.dumps(r.as_dict(), sort_keys=True) + "\n" for r in rows))
        self.discarded_files.append(path)
        self._alarm(DISCARDED, True, f"{len(rows)} local rows {rows[0].sequence}..{rows[-1].sequence} "
                                     f"superseded by epoch {epoch}, kept in {path.name}")

    # --- the connection loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        while self._task is not None:  # stop() clears it: a second guard besides the cancellation
            delay = self.retry
            try:
                await self._session()
            except _Restart as exc:
                log.info("replication: reconnecting to %s:%s (%s)", *self.peer, exc)
                delay = max(exc.delay, self.retry)
            except (WireError, asyncio.IncompleteReadError, ConnectionError, OSError, TimeoutError) as exc:
                log.info("replication: link to %s:%s down: %s", *self.peer, exc or type(exc).__name__)
            finally:
                self._connected = False
            await asyncio.sleep(delay)

    async def _challenge(self, reader: asyncio.StreamReader) -> str:
        while True:
            try:
                opened = unseal(self.key, await read_sealed(reader, self.idle_timeout))
                if opened.session == "challenge" and isinstance(opened.message, Challenge):
                    return opened.message.nonce
                raise WireError(f"expected a challenge, got {opened.message.TYPE}")
            except FramingError:
                raise
            except WireError as exc:
                self.dropped += 1
                log.warning("replication: dropped a message before the challenge: %s", exc)

    async def _session(self) -> None:
        async with asyncio.timeout(self.connect_timeout):
            reader, writer = await asyncio.open_connection(*self.peer)
        try:
            server_nonce = await self._challenge(reader)
            nonce = secrets.token_hex(16)
            last = self.store.last_sequence()
            row = self.store.get("journal", last) if last else None
            hello = Hello(self.node, self.store.epoch, last, row_hash(row["change"]) if row else "", nonce, "follow")
            writer.write(frame(seal(self.key, hello, f"{server_nonce}.hello")))
            await writer.drain()
            ch = Channel(self.key, nonce, server_nonce, server=False)
            self._connected = True
            self._handshake_status = True
            while True:
                try:
                    message = ch.open(await read_sealed(reader, self.idle_timeout))
                except FramingError:
                    raise
                except WireError as exc:
                    self.dropped += 1
                    log.warning("replication: dropped a message: %s", exc, extra={"dropped": "receiver"})
                    continue
                reply = self._handle(message)
                if reply is not None:
                    writer.write(ch.seal(reply))
                    await writer.drain()
                    if isinstance(reply, Refusal):
                        raise _Restart(f"refused: {reply.code}", self.retry_full if reply.code == "disk-full" else 0)
        finally:
            if self._staged is not None:
                self._discard_staged()
            writer.close()

    def _handle(self, message: Message) -> Message | None:
        if isinstance(message, Status):
            self._peer = PeerView(message.node, message.role, message.epoch, message.sequence, message.at_risk_from)
            # the handshake's Status comes before the sender has checked where this store stands (it
            # may have diverged); only a later one, sent once the backlog is out, can confirm catch-up
            if self._handshake_status:
                self._handshake_status = False
            elif message.role in SERVING:
                self._target = message.sequence
                self._check_caught_up()
            return None
        if isinstance(message, Refusal):
            self._refused = message.code
            if message.code != "not-live":
                self._alarm(REFUSED, True, f"{message.code}: {message.text}")
            raise _Restart(f"peer refused: {message.code}")
        if isinstance(message, Rows) and self._staged is None:
            return self._apply(message.rows)
        if isinstance(message, SnapshotBegin) and self._staged is None:
            if message.epoch < self.store.epoch:
                text = f"snapshot epoch {message.epoch} is behind this node's {self.store.epoch}"
                self._alarm(REFUSED, True, f"stale-epoch: {text}")
                return Refusal("stale-epoch", text)
            path = self.staging_dir / f".incoming-{secrets.token_hex(8)}.db"
            # open across messages until SnapshotEnd; _install or _discard_staged closes it
            staged = open(path, "wb")  # noqa: SIM115
            self._staged = {"begin": message, "path": path, "file": staged, "sha": hashlib.sha256(), "size": 0}
            return None
        if isinstance(message, SnapshotChunk) and self._staged is not None:
            try:
                data = base64.b64decode(message.data, validate=True)
            except (binascii.Error, ValueError):
                raise _Restart("snapshot chunk is not base64") from None
            self._staged["file"].write(data)
            self._staged["sha"].update(data)
            self._staged["size"] += len(data)
            return None
        if isinstance(message, SnapshotEnd) and self._staged is not None:
            return self._install()
        if isinstance(message, Handover) and self._staged is None:
            if self.store.last_sequence() >= message.sequence and self.store.epoch >= message.epoch:
                self._handover = message.sequence
                log.info("replication: handover received at sequence %s, all of it applied", message.sequence)
            return Ack(self.store.last_sequence())
        self.dropped += 1
        log.warning("replication: dropped an unexpected %s", message.TYPE)
        return None

    def _check_caught_up(self) -> None:
        if self._target is not None and self.store.last_sequence() >= self._target and not self._caught_up:
            self._caught_up = True
            self._refused = ""
            self._alarm(REFUSED, False)
            log.info("replication: caught up at sequence %s", self.store.last_sequence())

    def _apply(self, rows: list[Any]) -> Message:
        try:
            parsed = [JournalRow.of(r) for r in rows]
        except (KeyError, TypeError, ValueError) as exc:
            self.dropped += 1
            log.warning("replication: dropped malformed rows: %s", exc)
            return Ack(self.store.last_sequence())
        if parsed:
            last = self.store.last_sequence()
            first = next((r for r in parsed if r.sequence > last), None)
            if first is not None and first.sequence > last + 1:
                return Refusal("gap", f"have {last}, got {first.sequence}")
            if first is not None and first.epoch < self.store.epoch:
                text = f"row {first.sequence} is from epoch {first.epoch}, this node is at {self.store.epoch}"
                self._alarm(REFUSED, True, f"stale-epoch: {text}")
                return Refusal("stale-epoch", text)
            try:
                self.store.apply_journal_rows(parsed)  # one transaction, one fsync, then the Ack
            except JournalError as exc:
                text = str(exc)
                code = ("diverged" if "diverged" in text else "gap" if "gap" in text
                        else "stale-epoch" if "behind" in text else "refused")
                self._alarm(REFUSED, True, f"{code}: {exc}")
                return Refusal(code, text)
            except sqlite3.OperationalError as exc:
                if not _is_disk_full(exc):
                    raise
                self._disk_full = True
                self._alarm(DISK_FULL, True, str(exc))
                return Refusal("disk-full", f"{self.node}: {exc}")
        if self._disk_full:
            self._disk_full = False
            self._alarm(DISK_FULL, False)
        self._check_caught_up()
        return Ack(self.store.last_sequence())

    def _discard_staged(self) -> None:
        staged, self._staged = self._staged, None
        if staged is not None:
            staged["file"].close()
            staged["path"].unlink(missing_ok=True)

    def _install(self) -> Message:
        snapshot, self._staged = self._staged, None
        assert snapshot is not None
        begin: SnapshotBegin = snapshot["begin"]
        snapshot["file"].close()
        path: Path = snapshot["path"]
        try:
            if (snapshot["size"], snapshot["sha"].hexdigest()) != (begin.size, begin.sha256):
                raise _Restart("snapshot size or digest mismatch")
            discarded = install_snapshot(self.store, path)
        except SnapshotError as exc:
            self._alarm(REFUSED, True, f"snapshot: {exc}")
            return Refusal("snapshot", str(exc))
        except sqlite3.OperationalError as exc:
            if not _is_disk_full(exc):
                raise
            self._disk_full = True
            self._alarm(DISK_FULL, True, str(exc))
            return Refusal("disk-full", f"{self.node}: {exc}")
        finally:
            path.unlink(missing_ok=True)
        self.snapshots += 1
        log.info("replication: installed snapshot at epoch %s sequence %s", begin.epoch, begin.sequence)
        if discarded:
            self.on_discarded(discarded, begin.epoch)
        self._check_caught_up()
        return Ack(self.store.last_sequence())


async def probe(peer: tuple[str, int], key: bytes, node: str, timeout: float = 2.0) -> Status | None:
    """Ask a peer's replication endpoint where its store stands (epoch from its journal, not from a
    heartbeat's claim). None if it cannot be reached or does not authenticate."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*peer)
    except (OSError, TimeoutError):
        return None
    try:
        opened = unseal(key, await read_sealed(reader, timeout))
        if opened.session != "challenge" or not isinstance(opened.message, Challenge):
            return None
        nonce = secrets.token_hex(16)
        writer.write(frame(seal(key, Hello(node, 0, 0, "", nonce, "probe"), f"{opened.message.nonce}.hello")))
        await writer.drain()
        ch = Channel(key, nonce, opened.message.nonce, server=False)
        message = ch.open(await read_sealed(reader, timeout))
        return message if isinstance(message, Status) else None
    except (WireError, asyncio.IncompleteReadError, ConnectionError, OSError, TimeoutError) as exc:
        log.info("replication probe of %s:%s failed: %s", *peer, exc or type(exc).__name__)
        return None
    finally:
        writer.close()

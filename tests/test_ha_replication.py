"""Journal shipping between two stores on loopback (ha/replication.py, ha/receiver.py, ha/snapshot.py):
synchronous acknowledgement only after a durable apply (contract 12.5: no acknowledged transaction
lost), catch-up after restart or gap, snapshot resynchronisation, HMAC and epoch checks, and the
policy when the standby's acknowledgements stop (ARCHITECTURE "Store and replication")."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.store import JournalRow, Store, Upsert
from ha.receiver import DISCARDED, DISK_FULL, REFUSED, ReplicationReceiver, probe
from ha.replication import FOLLOWER_AHEAD, STANDBY_DISK_FULL, STANDBY_LOST, Durability, Policy, ReplicationSender
from ha.roles import Role
from ha.wire import (MAC_LEN, Ack, Challenge, Channel, FramingError, Hello, LineDecoder, Message, Refusal, Rows,
                     Status, WireError, frame, frame_length, load_key, row_hash, seal, to_line, unseal)
from tests.support.ha_rig import KEY, put, run, wait_until

WRONG_KEY = bytes(32)


def fill_disk(store: Store) -> None:
    """The follower's disk is full: SQLite may not grow the file past its current size (SQLITE_FULL)."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def free_disk(store: Store) -> None:
    store.db.execute("PRAGMA max_page_count = 1073741823")


def blob(store: Store, n: int, size: int = 6000) -> int:
    seq = store.apply([Upsert("meta", {"key": f"blob{n}", "value": "x" * size})])
    assert seq is not None
    return seq


class Rig:
    def __init__(self, tmp: Path, policy: Policy = Policy.ASYNC, snapshot_after: int = 10_000):
        self.tmp = tmp
        self.primary = Store(tmp / "primary.db")
        self.standby = Store(tmp / "standby.db")
        self.sender = ReplicationSender(self.primary, KEY, node="primary", policy=policy, ack_timeout=0.3,
                                        keepalive=0.1, snapshot_after=snapshot_after)
        self.receiver: ReplicationReceiver | None = None

    async def __aenter__(self) -> Rig:
        await self.sender.start("127.0.0.1", 0)
        self.sender.set_role(Role.PRIMARY_LIVE)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
        await self.sender.close()
        self.primary.close()
        self.standby.close()

    def follow(self, store: Store | None = None) -> ReplicationReceiver:
        self.receiver = ReplicationReceiver(store or self.standby, KEY, node="dr",
                                            peer=("127.0.0.1", self.sender.port), retry=0.05, retry_full=0.1,
                                            idle_timeout=1.0)
        self.receiver.start()
        return self.receiver

    async def synced(self) -> None:
        await wait_until(lambda: self.sender.status().acked == self.primary.last_sequence()
                         and self.standby.dump() == self.primary.dump(), what="standby in sync")


def on_disk(path: Path, sequence: int) -> bool:
    """Seen through a separate connection: committed, not just in the writer's transaction."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM journal WHERE sequence = ?", (sequence,)).fetchone()[0] == 1
    finally:
        conn.close()


def test_sync_replicate_returns_only_once_the_standby_holds_the_row(tmp_path):
    """The carrier is answered after the DR acknowledged the row as durable (contract 12.5)."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            for n in range(3):
                put(rig.primary, n)
            rig.follow()
            for n in range(3, 40):
                seq = put(rig.primary, n)
                assert await rig.sender.replicate(seq) is Durability.PEER
                assert on_disk(tmp_path / "standby.db", seq)
            await rig.synced()
            assert rig.sender.alarms == {} and rig.receiver is not None
            await wait_until(lambda: rig.receiver is not None and rig.receiver.status().current, what="current")
    run(scenario())


def test_a_caught_up_follower_gets_each_row_from_the_commit_itself(tmp_path, monkeypatch):
    """The row leaves in the writer's own call (no event-loop turn between commit and send, where it
    would queue behind every carrier request); rows committed while that batch is unacknowledged go
    together with the acknowledgement's arrival (one message, one transaction on the follower); with
    the socket backed up the streaming task sends instead. Every row arrives once and in order."""
    import ha.replication as replication

    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            batches: list[list[int]] = []
            apply = rig.standby.apply_journal_rows

            def recording(rows):
                batches.append([r.sequence for r in rows])
                return apply(rows)
            monkeypatch.setattr(rig.standby, "apply_journal_rows", recording)
            rig.follow()
            await rig.synced()
            await asyncio.sleep(0.3)  # the streaming task is idle, waiting: caught up
            first = put(rig.primary, 1)
            rig.sender.committed(first)
            assert rig.sender._sent == first  # written before any await
            second, third = put(rig.primary, 2), put(rig.primary, 3)
            rig.sender.committed(second)
            rig.sender.committed(third)
            assert rig.sender._sent == first  # the first batch is still out: these wait for its ack
            assert await rig.sender.replicate(third) is Durability.PEER
            assert [first] in batches and [second, third] in batches
            monkeypatch.setattr(replication, "PUSH_BUFFER_LIMIT", -1)  # as if the socket were backed up
            late = [put(rig.primary, n) for n in range(4, 40)]
            for s in late:
                rig.sender.committed(s)
            assert rig.sender._sent == third  # left to the streaming task
            assert await rig.sender.replicate(late[-1]) is Durability.PEER
            await rig.synced()
            assert [r.sequence for r in rig.standby.journal_since(0)] == list(range(1, late[-1] + 1))
    run(scenario())


def test_no_acknowledgement_without_a_durable_apply(tmp_path):
    """An apply that fails (disk full) is never acknowledged: replicate() keeps waiting (refuse policy)."""
    async def scenario() -> None:
        async with Rig(tmp_path, Policy.REFUSE) as rig:
            rig.follow()
            await rig.sender.replicate(put(rig.primary, 1))
            fill_disk(rig.standby)
            waiting = asyncio.create_task(rig.sender.replicate(blob(rig.primary, 2)))
            await wait_until(lambda: STANDBY_DISK_FULL in rig.sender.alarms, what="disk-full alarm")
            await asyncio.sleep(0.5)
            assert not waiting.done() and not on_disk(tmp_path / "standby.db", 2)
            free_disk(rig.standby)
            assert await asyncio.wait_for(waiting, 5) is Durability.PEER
            assert on_disk(tmp_path / "standby.db", 2)
    run(scenario())


def test_a_restarted_standby_catches_up_from_its_last_row(tmp_path):
    """Kill the standby, keep writing (async policy: the window is recorded), restart it on the same
    file: it asks from its last sequence and the window closes (contract 12.5)."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            receiver = rig.follow()
            for n in range(5):
                await rig.sender.replicate(put(rig.primary, n))
            await receiver.stop()
            rig.standby.close()
            first = put(rig.primary, 100)
            assert await rig.sender.replicate(first) is Durability.LOCAL  # after ack_timeout
            assert STANDBY_LOST in rig.sender.alarms
            for n in range(101, 120):
                assert await rig.sender.replicate(put(rig.primary, n)) is Durability.LOCAL  # at once now
            risk = rig.sender.status().at_risk
            assert risk is not None and (risk.first_sequence, risk.last_sequence) == (first, first + 19)
            rig.standby = Store(tmp_path / "standby.db")
            rig.follow()
            await rig.synced()
            await wait_until(lambda: STANDBY_LOST not in rig.sender.alarms, what="alarm cleared")
            assert rig.sender.status().at_risk is None and rig.sender.snapshots_sent == 0
            assert await rig.sender.replicate(put(rig.primary, 200)) is Durability.PEER
    run(scenario())


def test_refuse_policy_stops_writes_until_the_standby_is_back(tmp_path):
    async def scenario() -> None:
        async with Rig(tmp_path, Policy.REFUSE) as rig:
            receiver = rig.follow()
            await rig.sender.replicate(put(rig.primary, 1))
            await receiver.stop()
            waiting = asyncio.create_task(rig.sender.replicate(put(rig.primary, 2)))
            await wait_until(lambda: not rig.sender.accepting_writes, what="writes refused")
            assert not waiting.done() and rig.sender.status().at_risk is None
            rig.sender.set_policy(Policy.ASYNC)  # an operator may accept the risk instead
            assert await waiting is Durability.LOCAL and rig.sender.accepting_writes
            rig.sender.set_policy(Policy.REFUSE)
            rig.follow()
            await rig.synced()
            assert rig.sender.accepting_writes and rig.sender.status().at_risk is None
    run(scenario())


@pytest.mark.parametrize("policy", [Policy.ASYNC, Policy.REFUSE])
def test_standby_disk_full_stops_acks_and_the_live_node_alarms(tmp_path, policy):
    """A full disk on the DR: it refuses with disk-full and never acknowledges; the live node alarms
    at once and applies its policy; once space is freed the DR catches up and the alarms clear."""
    async def scenario() -> None:
        async with Rig(tmp_path, policy) as rig:
            receiver = rig.follow()
            await rig.sender.replicate(put(rig.primary, 1))
            fill_disk(rig.standby)
            pending = asyncio.create_task(rig.sender.replicate(blob(rig.primary, 2)))
            await wait_until(lambda: STANDBY_DISK_FULL in rig.sender.alarms and STANDBY_LOST in rig.sender.alarms,
                             what="live-side alarms")
            assert DISK_FULL in receiver.alarms and receiver.status().disk_full
            if policy is Policy.ASYNC:
                assert await pending is Durability.LOCAL
                assert rig.sender.status().at_risk is not None and rig.sender.accepting_writes
            else:
                await asyncio.sleep(0.2)
                assert not pending.done() and not rig.sender.accepting_writes
            free_disk(rig.standby)
            await rig.synced()
            await wait_until(lambda: not rig.sender.alarms and not receiver.alarms, what="alarms cleared")
            if policy is Policy.REFUSE:
                assert await pending is Durability.PEER
            assert rig.sender.status().at_risk is None and rig.sender.accepting_writes
    run(scenario())


def test_a_standby_far_behind_resynchronises_from_a_snapshot(tmp_path):
    async def scenario() -> None:
        async with Rig(tmp_path, snapshot_after=5) as rig:
            for n in range(3):
                rig.standby.apply_journal_row(rig.primary.journal_since(put(rig.primary, n) - 1)[0])
            for n in range(3, 40):
                put(rig.primary, n)
            receiver = rig.follow()
            await rig.synced()
            assert (receiver.snapshots, rig.sender.snapshots_sent) == (1, 1)
            assert await rig.sender.replicate(put(rig.primary, 99)) is Durability.PEER  # and streams on
            assert not list(tmp_path.glob(".incoming-*")) and not list(tmp_path.glob(".snapshot-*"))
    run(scenario())


def test_a_diverged_old_primary_resyncs_and_keeps_its_unacknowledged_tail(tmp_path):
    """The old primary's unacknowledged rows (epoch 0) lose to the new primary's epoch 1: replaced by a
    snapshot, and kept in a file for the lost-transaction report (contract 12.5), never silently."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            old = rig.standby  # plays the old primary, now following
            for n in range(3):
                seq = put(rig.primary, n)
                old.apply_journal_row(rig.primary.journal_since(seq - 1)[0])
            put(old, 50, "0009")
            put(old, 51, "0009")  # committed there, never acknowledged by the DR
            rig.primary.set_epoch(1)  # the DR promoted
            put(rig.primary, 60)
            receiver = rig.follow()
            await rig.synced()
            assert receiver.snapshots == 1 and DISCARDED in receiver.alarms
            kept = [json.loads(line) for line in receiver.discarded_files[0].read_text().splitlines()]
            assert [r["sequence"] for r in kept] == [4, 5] and {r["epoch"] for r in kept} == {0}
            assert old.epoch == 1
    run(scenario())


def test_a_snapshot_that_would_discard_rows_of_its_own_epoch_is_refused(tmp_path):
    """A claim to lead must be backed by data: a sender whose epoch is not above the follower's
    divergent rows cannot make it throw them away."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            for store in (rig.primary, rig.standby):
                put(store, 1)
                store.set_epoch(2)
            put(rig.primary, 2, "0001")
            put(rig.standby, 2, "0002")  # same sequence, same epoch, other content
            before = rig.standby.dump()
            receiver = rig.follow()
            await wait_until(lambda: REFUSED in receiver.alarms, what="refusal")
            assert "not backed" in receiver.alarms[REFUSED] and rig.standby.dump() == before
    run(scenario())


def test_a_sender_behind_the_followers_epoch_is_refused(tmp_path):
    """A peer with a stale epoch cannot push rows: the follower at epoch 3 is not fed by an epoch-0
    sender, which alarms and reports the follower's epoch (so a writer can raise its own)."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            put(rig.primary, 1)
            rig.standby.set_epoch(3)
            before = rig.standby.dump()
            rig.follow()
            await wait_until(lambda: FOLLOWER_AHEAD in rig.sender.alarms, what="follower-ahead alarm")
            await asyncio.sleep(0.2)
            assert rig.sender.status().follower_epoch == 3 and rig.standby.dump() == before
    run(scenario())


def test_a_node_that_does_not_lead_feeds_nobody(tmp_path):
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            put(rig.primary, 1)
            rig.sender.set_role(Role.STANDBY)
            receiver = rig.follow()
            await wait_until(lambda: receiver.status().refused == "not-live", what="not-live")
            assert rig.standby.last_sequence() == 0
            rig.sender.set_role(Role.PRIMARY_LIVE)
            await rig.synced()
    run(scenario())


def test_handover_reaches_the_follower_once_it_holds_every_row(tmp_path):
    """RN10-4: the draining node tells the follower it may promote only after the follower has
    applied everything written on the draining node."""
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            receiver = rig.follow()
            for n in range(10):
                put(rig.primary, n)
            rig.sender.set_role(Role.DRAINING)
            await wait_until(lambda: rig.sender.status().drained, what="drained")
            rig.sender.set_role(Role.HANDED_OVER)
            rig.sender.hand_over()
            await wait_until(lambda: receiver.status().handover == rig.primary.last_sequence(), what="handover")
            assert rig.standby.dump() == rig.primary.dump()
    run(scenario())


# --- forged, malformed, replayed ------------------------------------------------------------------

class FakeSender:
    """A scripted peer for the follower: challenge, read the hello, send `script(hello, channel, n)`."""

    def __init__(self, script: Callable[[Hello, Channel, int], list[bytes]]):
        self.script = script
        self.replies: list[Message] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(frame(seal(KEY, Challenge("n0"), "challenge")))
        size = int.from_bytes(await reader.readexactly(4), "big")
        hello = unseal(KEY, await reader.readexactly(size)).message
        assert isinstance(hello, Hello)
        ch = Channel(KEY, "n0", hello.nonce, server=True)
        for data in self.script(hello, ch, self.connections):
            writer.write(data)
        await writer.drain()
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                self.replies.append(ch.open(await reader.readexactly(size)))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def close(self) -> None:
        assert self.server is not None
        self.server.close()


def rows_of(store: Store, *sequences: int) -> Rows:
    return Rows([r.as_dict() for r in store.journal_since(0) if r.sequence in sequences])


def test_a_gap_in_the_stream_makes_the_follower_catch_up(tmp_path):
    async def scenario() -> None:
        primary = Store(tmp_path / "p.db")
        follower = Store(tmp_path / "f.db")
        for n in range(5):
            put(primary, n)

        def script(hello: Hello, ch: Channel, n: int) -> list[bytes]:
            if n == 1:  # row 3 lost in transit
                return [ch.seal(Status("p", "primary-live", 0, 5, 0)), ch.seal(rows_of(primary, 1, 2)),
                        ch.seal(rows_of(primary, 4, 5))]
            assert hello.sequence == 2 and hello.last_hash == row_hash(primary.journal_since(1)[0].change)
            return [ch.seal(Status("p", "primary-live", 0, 5, 0)), ch.seal(rows_of(primary, 3, 4, 5))]

        fake = FakeSender(script)
        receiver = ReplicationReceiver(follower, KEY, node="dr", peer=("127.0.0.1", await fake.start()), retry=0.05)
        receiver.start()
        await wait_until(lambda: follower.last_sequence() == 5, what="caught up after the gap")
        await wait_until(lambda: Ack(5) in fake.replies, what="ack")
        assert Refusal("gap", "have 2, got 4") in fake.replies and follower.dump() == primary.dump()
        await receiver.stop()
        fake.close()
    run(scenario())


def raw_sealed(key: bytes, body: object) -> bytes:
    payload = json.dumps(body).encode()
    return frame(hmac.new(key, payload, hashlib.sha256).digest() + payload)


def test_forged_malformed_and_replayed_messages_are_dropped(tmp_path, caplog):
    async def scenario() -> None:
        primary = Store(tmp_path / "p.db")
        follower = Store(tmp_path / "f.db")
        for n in range(3):
            put(primary, n)

        def script(hello: Hello, ch: Channel, n: int) -> list[bytes]:
            session = f"n0.{hello.nonce}.s"
            genuine1 = frame(seal(KEY, rows_of(primary, 1), session, 1))
            tampered = bytearray(frame(seal(KEY, rows_of(primary, 2), session, 2)))
            tampered[-3] ^= 1
            return [
                genuine1,
                genuine1,                                                    # replayed
                frame(seal(WRONG_KEY, rows_of(primary, 2), session, 2)),     # forged
                frame(b"\x00" * MAC_LEN + b"{not json"),                     # garbage
                bytes(tampered),                                             # altered in transit
                raw_sealed(KEY, {"t": "rows", "s": session, "n": 2, "m": {"rows": "nope"}}),  # malformed
                frame(seal(KEY, rows_of(primary, 2), session, 2)),
                frame(seal(KEY, rows_of(primary, 3), session, 3)),
            ]

        fake = FakeSender(script)
        receiver = ReplicationReceiver(follower, KEY, node="dr", peer=("127.0.0.1", await fake.start()), retry=0.05)
        receiver.start()
        await wait_until(lambda: follower.last_sequence() == 3, what="the genuine rows")
        assert receiver.status().dropped == 5 and fake.connections == 1 and follower.dump() == primary.dump()
        assert any("bad HMAC" in r.getMessage() for r in caplog.records)
        assert any("replayed" in r.getMessage() for r in caplog.records)
        await receiver.stop()
        fake.close()
    run(scenario())


def test_rows_from_an_older_epoch_are_refused(tmp_path):
    async def scenario() -> None:
        primary = Store(tmp_path / "p.db")
        follower = Store(tmp_path / "f.db")
        follower.set_epoch(5)
        put(primary, 1)
        put(primary, 2)
        fake = FakeSender(lambda hello, ch, n: [ch.seal(rows_of(primary, 2))])
        receiver = ReplicationReceiver(follower, KEY, node="dr", peer=("127.0.0.1", await fake.start()), retry=0.05)
        receiver.start()
        await wait_until(lambda: REFUSED in receiver.alarms, what="refused")
        assert "stale-epoch" in receiver.alarms[REFUSED] and follower.last_sequence() == 1
        assert any(isinstance(r, Refusal) and r.code == "stale-epoch" for r in fake.replies)
        await receiver.stop()
        fake.close()
    run(scenario())


def test_the_sender_drops_forgeries_before_the_hello_and_still_serves(tmp_path):
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            put(rig.primary, 1)
            reader, writer = await asyncio.open_connection("127.0.0.1", rig.sender.port)
            size = int.from_bytes(await reader.readexactly(4), "big")
            challenge = unseal(KEY, await reader.readexactly(size)).message
            assert isinstance(challenge, Challenge)
            hello = Hello("intruder", 0, 0, "", "c1", "follow")
            writer.write(frame(b"\xff" * 80))
            writer.write(frame(seal(WRONG_KEY, hello, f"{challenge.nonce}.hello")))
            writer.write(frame(seal(KEY, hello, "some-other-challenge.hello")))
            writer.write((2 ** 31).to_bytes(4, "big"))  # a length no frame may have: the connection goes
            await writer.drain()
            assert await reader.read() == b""
            writer.close()
            assert rig.sender.dropped == 3
            rig.follow()
            await rig.synced()
    run(scenario())


def test_probe_reports_the_epoch_the_store_holds(tmp_path):
    async def scenario() -> None:
        async with Rig(tmp_path) as rig:
            rig.primary.set_epoch(4)
            put(rig.primary, 1)
            status = await probe(("127.0.0.1", rig.sender.port), KEY, "dr")
            assert status == Status("primary", "primary-live", 4, 2, 0)
            assert await probe(("127.0.0.1", rig.sender.port), WRONG_KEY, "dr") is None
    run(scenario())


def test_journal_rows_survive_the_wire_unchanged(tmp_path):
    """Rows arrive as the primary wrote them: the follower's journal is byte-identical."""
    with Store(tmp_path / "p.db") as primary:
        put(primary, 1)
        row = primary.journal_since(0)[0]
        ch_out = Channel(KEY, "a", "b", server=True)
        ch_in = Channel(KEY, "b", "a", server=False)
        message = ch_in.open(ch_out.seal(Rows([row.as_dict()]))[4:])
        assert isinstance(message, Rows) and JournalRow.of(message.rows[0]) == row


def test_the_wire_format_is_strict():
    """Only exact messages pass: right key, known type, exact fields with exact JSON types (a bool is
    not an int), and on a stream, this connection's session and the next counter."""
    ok = Ack(7)
    assert unseal(KEY, seal(KEY, ok, "s", 1)).message == ok
    for body in ({"t": "ack", "s": "s", "n": 1, "m": {"sequence": True}},
                 {"t": "ack", "s": "s", "n": 1, "m": {"sequence": 7, "extra": 1}},
                 {"t": "ack", "s": "s", "n": 1, "m": {}},
                 {"t": "nope", "s": "s", "n": 1, "m": {}},
                 {"t": "ack", "s": "s", "n": "1", "m": {"sequence": 7}},
                 {"t": "ack", "s": "s", "n": 1, "m": {"sequence": 2 ** 70}},
                 ["not", "an", "envelope"]):
        with pytest.raises(WireError):
            unseal(KEY, raw_sealed(KEY, body)[4:])
    with pytest.raises(WireError, match="bad HMAC"):
        unseal(WRONG_KEY, seal(KEY, ok))
    a, b = Channel(KEY, "x", "y", server=True), Channel(KEY, "y", "x", server=False)
    first = a.seal(ok)[4:]
    assert b.open(first) == ok
    with pytest.raises(WireError, match="replayed"):
        b.open(first)
    with pytest.raises(WireError, match="wrong session"):
        a.open(Channel(KEY, "x", "y", server=True).seal(ok)[4:])  # its own direction reflected back
    with pytest.raises(FramingError):
        frame_length((2 ** 31).to_bytes(4, "big"))


def test_serial_lines_resynchronise_after_noise():
    decoder = LineDecoder(limit=200)
    sealed = seal(KEY, Ack(1))
    line = to_line(sealed)
    out = decoder.feed(b"\x00\xffnoise\n" + line[:10]) + decoder.feed(line[10:] + b"NPHB !!!\n" + b"x" * 500)
    out += decoder.feed(b"\n" + line)
    assert out == [sealed, sealed] and decoder.dropped == 3  # noise, bad base64, the over-long line
    with pytest.raises(ValueError):
        load_key("00" * 8)
    assert load_key(KEY.hex() + "\n") == KEY

"""Full resynchronisation: the live node's store copied with SQLite's backup API, installed on a
follower in one transaction.

A follower that is too far behind, whose journal diverged (the old primary's unacknowledged tail
after a cutover), or that asks from before the start of the sender's journal, gets a snapshot
instead of rows. The snapshot is the whole file as of one instant: every table and the journal, so
the follower's journal is the sender's afterwards and later divergence checks hold.

Installing a snapshot may discard local journal rows the sender does not have. That is allowed only
when every such row is from an epoch below the snapshot's: then a promotion happened after they were
written, and with synchronous replication they were never acknowledged to a carrier. Anything else
means the sender's claim to lead is not backed by its data, and the install is refused.
"""
from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from appliance.store import JournalRow, Store
from appliance.store.migrations import applied
from appliance.store.schema import TABLES


class SnapshotError(Exception):
    pass


@dataclass(frozen=True)
class SnapshotInfo:
    epoch: int
    sequence: int
    size: int
    sha256: str


def _epoch_and_sequence(conn: sqlite3.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    epoch = int(row[0]) if row and row[0] is not None else 0
    sequence = int(conn.execute("SELECT coalesce(max(sequence), 0) FROM journal").fetchone()[0])
    return epoch, sequence


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def make_snapshot(store_path: str | Path, dest: Path) -> SnapshotInfo:
    """Copy the store into `dest` (blocking: run it in a thread). Its own connection, so the
    writer's connection and loop are not held; WAL lets the copy read one consistent instant."""
    src = sqlite3.connect(str(store_path))
    try:
        dst = sqlite3.connect(str(dest))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to ship
            epoch, sequence = _epoch_and_sequence(dst)
        finally:
            dst.close()
    finally:
        src.close()
    size, sha = file_digest(dest)
    return SnapshotInfo(epoch, sequence, size, sha)


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info([{table}])")]


def check_snapshot(store: Store, staged: Path) -> SnapshotInfo:
    conn = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise SnapshotError("snapshot file is damaged")
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        epoch, sequence = _epoch_and_sequence(conn)
    except sqlite3.DatabaseError as exc:
        raise SnapshotError(f"snapshot file is not a store: {exc}") from None
    finally:
        conn.close()
    if versions != applied(store.db):
        raise SnapshotError(f"snapshot schema {versions[-1:]} is not this node's {applied(store.db)[-1:]}")
    if epoch < store.epoch:
        raise SnapshotError(f"snapshot epoch {epoch} is behind this node's {store.epoch}: stale sender")
    size, sha = file_digest(staged)
    return SnapshotInfo(epoch, sequence, size, sha)


def install_snapshot(store: Store, staged: Path) -> list[JournalRow]:
    """Replace every table of `store` with the snapshot's, atomically; returns the local journal rows
    that were discarded (for the lost-transaction report, contract 12.5)."""
    info = check_snapshot(store, staged)
    conn = store.db.conn
    if conn.in_transaction:
        raise SnapshotError("a transaction is open on the store")
    conn.execute("ATTACH DATABASE ? AS snap", (str(staged),))
    try:
        first_divergent = conn.execute(
            "SELECT min(l.sequence) FROM main.journal l LEFT JOIN snap.journal s ON s.sequence = l.sequence "
            "WHERE s.sequence IS NULL OR s.change != l.change").fetchone()[0]
        discarded: list[JournalRow] = []
        if first_divergent is not None:
            discarded = store.journal_since(int(first_divergent) - 1)
            backed = [r for r in discarded if r.epoch >= info.epoch]
            if backed:
                raise SnapshotError(
                    f"snapshot of epoch {info.epoch} would discard journal row {backed[0].sequence} of epoch "
                    f"{backed[0].epoch}: the sender's lead is not backed by its data")
        with store.db.atomic():
            for name in TABLES:
                local = _columns(conn, "main", name)
                theirs = set(_columns(conn, "snap", name))
                cols = ", ".join(f"[{c}]" for c in local if c in theirs)
                conn.execute(f"DELETE FROM main.[{name}]")
                conn.execute(f"INSERT INTO main.[{name}] ({cols}) SELECT {cols} FROM snap.[{name}]")
    finally:
        conn.execute("DETACH DATABASE snap")
    if (store.epoch, store.last_sequence()) != (info.epoch, info.sequence):
        raise SnapshotError("snapshot install did not reach the snapshot's position")
    return discarded

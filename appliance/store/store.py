"""The node's durable store: SQLite in WAL mode through sqlite-utils, one writer, one journal row per
transaction.

`Store.transaction()` is the only write path. Inside it, `Tx.upsert` / `Tx.delete` write at once (so
reads in the same transaction see them) and record the operation; on leaving the block the journal
row describing all of them is appended and the SQLite transaction commits, both or neither. An
exception inside the block rolls back the state and leaves no journal row.

A replica feeds the primary's rows to `apply_journal_row` in sequence order: a sequence it has seen
is a no-op (after checking it is the same change), a gap or an older epoch is refused.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator, Mapping

from sqlite_utils import Database

from appliance.store.journal import Delete, JournalError, JournalRow, Op, Upsert, apply_op, decode_change, encode_change
from appliance.store.migrations import LATEST, applied, migrate
from appliance.store.schema import TABLES, Table


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class StoreError(Exception):
    pass


def _table(name: str) -> Table:
    if name not in TABLES:
        raise StoreError(f"no table {name}")
    return TABLES[name]


class _Reads:
    """Read access shared by the store and an open transaction (one connection, so a transaction
    reads its own writes)."""

    db: Database

    def get(self, table: str, key: Mapping[str, Any] | Any) -> dict[str, Any] | None:
        t = _table(table)
        values = key if isinstance(key, Mapping) else {t.pk[0]: key}
        rows = self.select(table, " AND ".join(f"[{k}] = ?" for k in t.pk), [values[k] for k in t.pk])
        return rows[0] if rows else None

    def select(self, table: str, where: str | None = None, params: list[Any] | tuple[Any, ...] = (),
               order_by: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        t = _table(table)
        sql = f"SELECT * FROM [{t.name}]" + (f" WHERE {where}" if where else "")
        sql += f" ORDER BY {order_by or ', '.join(f'[{k}]' for k in t.pk)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        cursor = self.db.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [t.decode(dict(zip(names, row))) for row in cursor]


class Tx(_Reads):
    """One open transaction: its writes and the journal operations they make."""

    def __init__(self, store: "Store", now_ms: int):
        self.db = store.db
        self.now_ms = now_ms
        self.ops: list[Op] = []
        self.sequence: int | None = None  # set once the journal row is written

    def upsert(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Insert or update by primary key; columns not given keep their value (or default)."""
        t = _table(table)
        if not t.journaled:
            raise StoreError(f"{table} is not written through transactions")
        existing = self.get(table, t.key(row)) or {}
        full = t.full({**existing, **row})
        op = Upsert(table, full)
        apply_op(self.db, op)
        self.ops.append(op)
        return full

    def delete(self, table: str, key: Mapping[str, Any] | Any) -> None:
        t = _table(table)
        values = dict(key) if isinstance(key, Mapping) else {t.pk[0]: key}
        op = Delete(table, t.key(values))
        apply_op(self.db, op)
        self.ops.append(op)

    def next_id(self, counter: str) -> int:
        """The next number of a sequence (version ids, NPA-NXX ids...); never reused, even after purge."""
        current = self.get("id_counters", counter)
        value = (current["value"] if current else 0) + 1
        self.upsert("id_counters", {"name": counter, "value": value})
        return value


class Store(_Reads):
    def __init__(self, path: str, clock: Callable[[], int] = wall_clock_ms):
        self.path = str(path)
        self.clock = clock
        self.db = Database(self.path)
        self.db.enable_wal()
        # synchronous=FULL is per connection: carriers are acknowledged only after an fsync.
        self.db.execute("PRAGMA synchronous=FULL")
        migrate(self.db, clock())
        self._tx: Tx | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- properties of the file ---

    @property
    def journal_mode(self) -> str:
        return str(self.db.execute("PRAGMA journal_mode").fetchone()[0])

    @property
    def synchronous(self) -> int:
        return int(self.db.execute("PRAGMA synchronous").fetchone()[0])

    @property
    def schema_versions(self) -> list[int]:
        return applied(self.db)

    @property
    def epoch(self) -> int:
        row = self.get("meta", "epoch")
        return int(row["value"]) if row else 0

    # --- the write path ---

    @contextlib.contextmanager
    def transaction(self, note: str | None = None, now_ms: int | None = None) -> Iterator[Tx]:
        """One SQLite transaction and, if it wrote anything, exactly one journal row."""
        if self._tx is not None:
            raise StoreError("one writer: a transaction is already open")
        tx = Tx(self, self.clock() if now_ms is None else now_ms)
        self._tx = tx
        try:
            with self.db.atomic():
                yield tx
                if tx.ops:
                    tx.sequence = self.last_sequence() + 1
                    self._insert_journal(tx.sequence, self.epoch, tx.now_ms, encode_change(tx.ops, LATEST, note))
        finally:
            self._tx = None

    def _insert_journal(self, sequence: int, epoch: int, time_ms: int, change: str) -> None:
        self.db.conn.execute("INSERT INTO journal (sequence, epoch, time, change) VALUES (?, ?, ?, ?)",
                             (sequence, epoch, time_ms, change))

    def apply(self, ops: list[Op] | tuple[Op, ...], note: str | None = None, now_ms: int | None = None) -> int | None:
        """Write `ops` as one transaction; returns its journal sequence (None if `ops` is empty)."""
        with self.transaction(note, now_ms) as tx:
            for op in ops:
                if isinstance(op, Upsert):
                    tx.upsert(op.table, op.row)
                else:
                    tx.delete(op.table, op.key)
        return tx.sequence

    def set_epoch(self, epoch: int) -> None:
        """A promotion raises the epoch (ARCHITECTURE "Epochs"); it never goes back."""
        if epoch <= self.epoch:
            raise StoreError(f"epoch {epoch} is not above {self.epoch}")
        with self.transaction(f"epoch {epoch}") as tx:
            tx.upsert("meta", {"key": "epoch", "value": epoch})

    # --- the journal ---

    def last_sequence(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(sequence), 0) FROM journal").fetchone()[0])

    def journal_since(self, sequence: int, limit: int | None = None) -> list[JournalRow]:
        rows = self.select("journal", "sequence > ?", [sequence], order_by="sequence", limit=limit)
        return [JournalRow.of(row) for row in rows]

    def apply_journal_row(self, row: JournalRow | Mapping[str, Any]) -> bool:
        """Replica side: apply the primary's row; False if it was already applied."""
        r = JournalRow.of(row)
        if self._tx is not None:
            raise StoreError("one writer: a transaction is already open")
        last = self.last_sequence()
        if r.sequence <= last:
            seen = self.get("journal", r.sequence)
            if seen is not None and seen["change"] != r.change:
                raise JournalError(f"journal {r.sequence} differs from the one applied: diverged")
            return False
        if r.sequence != last + 1:
            raise JournalError(f"journal gap: have {last}, got {r.sequence}")
        if r.epoch < self.epoch:
            raise JournalError(f"journal {r.sequence} is from epoch {r.epoch}, behind {self.epoch}")
        schema, ops = decode_change(r.change)
        if schema > LATEST:
            raise JournalError(f"journal {r.sequence} is schema {schema}, this release is {LATEST}")
        with self.db.atomic():
            for op in ops:
                apply_op(self.db, op)
            self._insert_journal(r.sequence, r.epoch, r.time, r.change)
        return True

    def apply_journal_rows(self, rows: list[JournalRow] | tuple[JournalRow, ...]) -> int:
        """Replica side, a batch: all rows in one transaction (one fsync for the batch, which is what
        lets synchronous replication keep up), all or nothing; returns how many were new."""
        if self._tx is not None:
            raise StoreError("one writer: a transaction is already open")
        with self.db.atomic():
            return sum(1 for row in rows if self.apply_journal_row(row))

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every journaled table and the journal, in key order (replica comparison)."""
        return {name: self.select(name) for name, t in TABLES.items()}

"""The replication journal: the change format and how a change is applied.

A change is the list of row operations one transaction made, written as JSON:

    {"v": 1, "schema": 2, "note": "activate 7",
     "ops": [{"op": "upsert", "table": "subscription_versions", "key": {"version_id": 7},
              "row": {...every column...}},
             {"op": "delete", "table": "timers",
              "key": {"kind": "initial-concurrence", "version_id": 7, "target": ""}}]}

An upsert carries the whole row after the write, never a delta, and a delete names the primary key;
so applying a change is idempotent and needs nothing from the replica's prior state: a replica that
applies the journal in order holds the same tables as the primary.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from sqlite_utils import Database

from appliance.store.schema import TABLES

FORMAT = 1


class JournalError(Exception):
    """A journal row a replica must not apply (gap, divergence, stale epoch, newer schema)."""


@dataclass(frozen=True)
class Upsert:
    table: str
    row: Mapping[str, Any]  # every column, Python values


@dataclass(frozen=True)
class Delete:
    table: str
    key: Mapping[str, Any]


Op = Upsert | Delete


@dataclass(frozen=True)
class JournalRow:
    sequence: int
    epoch: int
    time: int
    change: str  # JSON, as stored

    @classmethod
    def of(cls, row: "JournalRow | Mapping[str, Any]") -> "JournalRow":
        if isinstance(row, JournalRow):
            return row
        change = row["change"]
        return cls(int(row["sequence"]), int(row["epoch"]), int(row["time"]),
                   change if isinstance(change, str) else encode_change_dict(change))

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "epoch": self.epoch, "time": self.time, "change": self.change}

    @property
    def ops(self) -> tuple[Op, ...]:
        return decode_change(self.change)[1]


def encode_change_dict(change: Mapping[str, Any]) -> str:
    return json.dumps(change, sort_keys=True, separators=(",", ":"))


def encode_change(ops: list[Op] | tuple[Op, ...], schema: int, note: str | None = None) -> str:
    encoded = []
    for op in ops:
        table = TABLES[op.table]
        if isinstance(op, Upsert):
            encoded.append({"op": "upsert", "table": op.table, "key": table.key(op.row), "row": dict(op.row)})
        else:
            encoded.append({"op": "delete", "table": op.table, "key": dict(op.key)})
    change: dict[str, Any] = {"v": FORMAT, "schema": schema, "ops": encoded}
    if note:
        change["note"] = note
    return encode_change_dict(change)


def decode_change(text: str) -> tuple[int, tuple[Op, ...]]:
    """(schema version, operations) of a stored change."""
    change = json.loads(text)
    if change.get("v") != FORMAT:
        raise JournalError(f"journal change format {change.get('v')!r} is not {FORMAT}")
    ops: list[Op] = []
    for op in change["ops"]:
        if op["table"] not in TABLES or not TABLES[op["table"]].journaled:
            raise JournalError(f"journal names table {op['table']!r}")
        if op["op"] == "upsert":
            ops.append(Upsert(op["table"], op["row"]))
        elif op["op"] == "delete":
            ops.append(Delete(op["table"], op["key"]))
        else:
            raise JournalError(f"journal op {op['op']!r}")
    return int(change["schema"]), tuple(ops)


_UPSERT_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _upsert_sql(table: str, columns: tuple[str, ...], pk: tuple[str, ...]) -> str:
    # built once per table and column set: this runs for every row on both nodes of the pair
    sql = _UPSERT_SQL.get((table, columns))
    if sql is None:
        cols = ",".join(f"[{c}]" for c in columns)
        marks = ",".join("?" for _ in columns)
        updates = ",".join(f"[{c}]=excluded.[{c}]" for c in columns if c not in pk)
        conflict = f"ON CONFLICT({','.join(f'[{k}]' for k in pk)}) " + (f"DO UPDATE SET {updates}" if updates
                                                                           else "DO NOTHING")
        sql = _UPSERT_SQL[(table, columns)] = f"INSERT INTO [{table}] ({cols}) VALUES ({marks}) {conflict}"
    return sql


def apply_op(db: Database, op: Op) -> None:
    """Write one operation; the same op twice leaves the same table."""
    table = TABLES[op.table]
    if isinstance(op, Upsert):
        row = table.encode(table.full(op.row))
        columns = tuple(row)
        db.conn.execute(_upsert_sql(table.name, columns, tuple(table.pk)), tuple(row.values()))
        return
    key = table.encode(table.key(op.key))
    where = " AND ".join(f"[{k}] = ?" for k in key)
    db.conn.execute(f"DELETE FROM [{table.name}] WHERE {where}", tuple(key.values()))

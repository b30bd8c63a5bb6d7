"""A table seen as a collection of Python dicts; the entity repositories add their own queries.

Reads take the store or an open transaction (`reader`); writes take the transaction, so every write
goes through `Store.transaction()` and lands in the journal.
"""
from __future__ import annotations

from typing import Any, Mapping

from appliance.store.schema import TABLES, Table
from appliance.store.store import Tx, _Reads


class Repository:
    def __init__(self, table: str, counter: str | None = None):
        self.table: Table = TABLES[table]
        self.counter = counter  # id sequence for tables keyed by a generated number

    def get(self, reader: _Reads, key: Mapping[str, Any] | Any) -> dict[str, Any] | None:
        return reader.get(self.table.name, key)

    def where(self, reader: _Reads, where: str | None = None, params: list[Any] | tuple[Any, ...] = (),
              order_by: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return reader.select(self.table.name, where, params, order_by, limit)

    def all(self, reader: _Reads) -> list[dict[str, Any]]:
        return self.where(reader)

    def put(self, tx: Tx, row: Mapping[str, Any]) -> dict[str, Any]:
        return tx.upsert(self.table.name, row)

    def add(self, tx: Tx, row: Mapping[str, Any]) -> dict[str, Any]:
        """Insert with the next generated id (the table's single primary-key column)."""
        if self.counter is None:
            raise TypeError(f"{self.table.name} ids are not generated")
        return tx.upsert(self.table.name, {**row, self.table.pk[0]: tx.next_id(self.counter)})

    def delete(self, tx: Tx, key: Mapping[str, Any] | Any) -> None:
        tx.delete(self.table.name, key)

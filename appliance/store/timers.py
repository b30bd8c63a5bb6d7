"""Persisted timers: (kind, version, target) -> due time and attempt. They live in the store so a
restarted or promoted node carries them on (DECISIONS, ARCHITECTURE "Roles and cutover")."""
from __future__ import annotations

from typing import Any

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads


class Timers(Repository):
    def __init__(self) -> None:
        super().__init__("timers")

    def start(self, tx: Tx, kind: str, version_id: int, due_ms: int, target: str = "",
              attempt: int = 0) -> dict[str, Any]:
        """Start or move the timer named by (kind, version_id, target)."""
        return self.put(tx, {"kind": kind, "version_id": version_id, "target": target, "due_ms": due_ms,
                             "attempt": attempt, "created_ms": tx.now_ms})

    def cancel(self, tx: Tx, kind: str, version_id: int, target: str = "") -> None:
        self.delete(tx, {"kind": kind, "version_id": version_id, "target": target})

    def due(self, reader: _Reads, now_ms: int) -> list[dict[str, Any]]:
        return self.where(reader, "due_ms <= ?", [now_ms], order_by="due_ms, kind, version_id, target")

    def next_due_ms(self, reader: _Reads) -> int | None:
        rows = self.where(reader, order_by="due_ms", limit=1)
        return rows[0]["due_ms"] if rows else None

    def for_version(self, reader: _Reads, version_id: int) -> list[dict[str, Any]]:
        return self.where(reader, "version_id = ?", [version_id], order_by="due_ms, kind, target")

    def cancel_all(self, tx: Tx, version_id: int) -> None:
        for row in self.for_version(tx, version_id):
            self.delete(tx, self.table.key(row))


TIMERS = Timers()

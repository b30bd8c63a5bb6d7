"""LSMS broadcast state per (version, LSMS) and the hold queue per LSMS.

A broadcast row follows one LSMS through sends, retries and its answer (R5-58.1, R5-60.7-60.9); the
hold queue keeps, in order, what an LSMS is owed while it is unreachable or recovering, until
lnpRecoveryComplete (IIS 5.2.1.10)."""
from __future__ import annotations

from typing import Any

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads

SENDING, SUCCEEDED, FAILED = "sending", "succeeded", "failed"


class Broadcasts(Repository):
    def __init__(self) -> None:
        super().__init__("broadcasts")

    def for_version(self, reader: _Reads, version_id: int) -> list[dict[str, Any]]:
        return self.where(reader, "version_id = ?", [version_id], order_by="lsms_sp_id")

    def sent(self, tx: Tx, version_id: int, lsms: str, operation: str) -> dict[str, Any]:
        """Record one more send to `lsms` now."""
        row = self.get(tx, {"version_id": version_id, "lsms_sp_id": lsms})
        sends = (row["sends"] if row else 0) + 1
        first = row["first_sent_ms"] if row and row["state"] == SENDING else tx.now_ms
        return self.put(tx, {"version_id": version_id, "lsms_sp_id": lsms, "operation": operation,
                             "state": SENDING, "sends": sends, "first_sent_ms": first,
                             "last_sent_ms": tx.now_ms, "result_ms": None})

    def settle(self, tx: Tx, version_id: int, lsms: str, state: str) -> dict[str, Any]:
        if state not in (SUCCEEDED, FAILED):
            raise ValueError(f"broadcast state {state!r}")
        return self.put(tx, {"version_id": version_id, "lsms_sp_id": lsms, "state": state, "result_ms": tx.now_ms})

    def outstanding(self, reader: _Reads, version_id: int) -> list[dict[str, Any]]:
        return self.where(reader, "version_id = ? AND state = ?", [version_id, SENDING], order_by="lsms_sp_id")


class HoldQueue(Repository):
    def __init__(self) -> None:
        super().__init__("hold_queue", counter="hold_queue")

    def hold(self, tx: Tx, lsms: str, operation: str, payload: dict[str, Any],
             version_id: int | None = None) -> dict[str, Any]:
        return self.add(tx, {"lsms_sp_id": lsms, "version_id": version_id, "operation": operation,
                             "payload": payload, "queued_ms": tx.now_ms})

    def held(self, reader: _Reads, lsms: str) -> list[dict[str, Any]]:
        return self.where(reader, "lsms_sp_id = ?", [lsms], order_by="entry_id")

    def release(self, tx: Tx, entry_id: int) -> None:
        self.delete(tx, entry_id)


BROADCASTS = Broadcasts()
HOLD_QUEUE = HoldQueue()

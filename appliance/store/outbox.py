"""The notification outbox: M-EVENT-REPORTs a committed step owes a SOA (or an LSMS), in commit order.

A row is written in the same transaction as the change that caused it, so a notification is never
sent for a change that did not commit and never lost for one that did (ARCHITECTURE "One writer").
Delivered rows are deleted; rows given up after the retries stay as `dropped` for the operators.
"""
from __future__ import annotations

from typing import Any

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads

PENDING, DROPPED = "pending", "dropped"


class Outbox(Repository):
    def __init__(self) -> None:
        super().__init__("notification_outbox", counter="notification_outbox")

    def enqueue(self, tx: Tx, recipient: str, function: str, notification: str, version_id: int | None,
                payload: dict[str, Any]) -> dict[str, Any]:
        return self.add(tx, {"recipient": recipient, "function": function, "notification": notification,
                             "version_id": version_id, "payload": payload, "state": PENDING, "attempts": 0,
                             "created_ms": tx.now_ms, "next_attempt_ms": tx.now_ms})

    def pending(self, reader: _Reads) -> list[dict[str, Any]]:
        """Every undelivered row, oldest first (per recipient, delivery keeps this order)."""
        return self.where(reader, "state = ?", [PENDING], order_by="entry_id")

    def for_recipient(self, reader: _Reads, recipient: str, state: str = PENDING) -> list[dict[str, Any]]:
        return self.where(reader, "recipient = ? AND state = ?", [recipient, state], order_by="entry_id")

    def next_attempt_ms(self, reader: _Reads) -> int | None:
        rows = self.where(reader, "state = ?", [PENDING], order_by="next_attempt_ms", limit=1)
        return rows[0]["next_attempt_ms"] if rows else None

    def delivered(self, tx: Tx, entry_id: int) -> None:
        self.delete(tx, entry_id)

    def failed(self, tx: Tx, row: dict[str, Any], error: str, retry_at_ms: int | None) -> dict[str, Any]:
        """One more unanswered send; `retry_at_ms` None means the retries are used up."""
        state = PENDING if retry_at_ms is not None else DROPPED
        return self.put(tx, {"entry_id": row["entry_id"], "attempts": row["attempts"] + 1, "state": state,
                             "next_attempt_ms": retry_at_ms, "last_error": error[:200]})


OUTBOX = Outbox()

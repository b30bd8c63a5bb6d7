"""Subscription audits (FRS §8; GDMO subscriptionAudit): scope, progress and results."""
from __future__ import annotations

from typing import Any

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads

AUDIT_STATUSES = ("in-progress", "suspended", "canceled", "complete")  # RP8-1, R8-10..R8-12


class Audits(Repository):
    def __init__(self) -> None:
        super().__init__("audits", counter="audit")

    def open(self, reader: _Reads) -> list[dict[str, Any]]:
        return self.where(reader, "status IN ('in-progress', 'suspended')", order_by="audit_id")

    def set_status(self, tx: Tx, audit_id: int, status: str) -> dict[str, Any]:
        if status not in AUDIT_STATUSES:
            raise ValueError(f"audit status {status!r}")
        done = tx.now_ms if status in ("canceled", "complete") else None
        return self.put(tx, {"audit_id": audit_id, "status": status, "completed_ms": done})


AUDITS = Audits()

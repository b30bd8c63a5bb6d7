"""Subscription versions (FRS Table 3-4; GDMO subscriptionVersionNPAC), one row per version."""
from __future__ import annotations

from typing import Any, Iterable

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads


class Versions(Repository):
    def __init__(self) -> None:
        super().__init__("subscription_versions", counter="subscription_version")

    def next_id(self, tx: Tx) -> int:
        """R5-5 / Table 3-4 L8221: unique, sequential, assigned on creation."""
        assert self.counter is not None
        return tx.next_id(self.counter)

    def for_tn(self, reader: _Reads, tn: str) -> list[dict[str, Any]]:
        return self.where(reader, "tn = ?", [tn], order_by="version_id")

    def with_status(self, reader: _Reads, statuses: Iterable[int]) -> list[dict[str, Any]]:
        wanted = sorted(set(statuses))
        marks = ", ".join("?" for _ in wanted)
        return self.where(reader, f"status IN ({marks})", wanted, order_by="version_id")


VERSIONS = Versions()

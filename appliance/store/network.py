"""Network data: service providers (NPAC Customers), portable NPA-NXXs and LRNs (FRS §3.1, §4)."""
from __future__ import annotations

from typing import Any

from appliance.store.repository import Repository
from appliance.store.store import Tx, _Reads


class ServiceProviders(Repository):
    def __init__(self) -> None:
        super().__init__("service_providers")

    def by_name(self, reader: _Reads, name: str) -> dict[str, Any] | None:
        rows = self.where(reader, "name = ?", [name])
        return rows[0] if rows else None

    def live(self, reader: _Reads) -> list[dict[str, Any]]:
        """SPs not deleted (R4-21: deleted ones stay as history)."""
        return self.where(reader, "deleted_ms IS NULL")

    def lsms_receiving_downloads(self, reader: _Reads) -> list[str]:
        """R5-55: SPs that take subscription data downloads on an LSMS."""
        return [sp["sp_id"] for sp in self.live(reader) if "lsms-data-download" in (sp["allowable_functions"] or [])]

    def mark_deleted(self, tx: Tx, sp_id: str) -> dict[str, Any]:
        return self.put(tx, {"sp_id": sp_id, "deleted_ms": tx.now_ms})


class NpaNxxs(Repository):
    def __init__(self) -> None:
        super().__init__("npa_nxx", counter="npa_nxx")

    def by_value(self, reader: _Reads, value: str) -> dict[str, Any] | None:
        rows = self.where(reader, "value = ?", [value])
        return rows[0] if rows else None

    def of_sp(self, reader: _Reads, sp_id: str) -> list[dict[str, Any]]:
        return self.where(reader, "sp_id = ?", [sp_id])


class Lrns(Repository):
    def __init__(self) -> None:
        super().__init__("lrn", counter="lrn")

    def by_value(self, reader: _Reads, value: str) -> dict[str, Any] | None:
        rows = self.where(reader, "value = ?", [value])
        return rows[0] if rows else None

    def of_sp(self, reader: _Reads, sp_id: str) -> list[dict[str, Any]]:
        return self.where(reader, "sp_id = ?", [sp_id])


SERVICE_PROVIDERS = ServiceProviders()
NPA_NXX = NpaNxxs()
LRNS = Lrns()

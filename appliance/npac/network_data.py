"""Network data administration (FRS §3, §4; IIS flows 6.3.1-6.3.9): service providers, portable
NPA-NXXs and LRNs, changed by NPAC personnel (this Python API, for the console) or by the owning
SP's SOA or LSMS (through `network_interface`), with the same checks either way:

- ownership: an SP changes only its own data (05 §A.7, R4-2, RP3-1) -> accessDenied;
- an NPA-NXX or LRN in use by a live (not old, not canceled) subscription version cannot be deleted
  (RP3-3, RR4-3; flows 6.3.8.2/5/6, 6.3.9.3/5/7) -> complexityLimitation (05 §C #5, read for the
  NPA-NXX flows too); an SP with NPA-NXX or LRN data cannot be deleted (6.3.2 b, RR4-1, RR4-2);
- duplicates (R4-7.2; Exhibit 79 examples) -> duplicateManagedObjectInstance; malformed values ->
  invalidAttributeValue; unknown objects -> noSuchObjectInstance.
A refused change raises `NetworkDataError` inside the transaction, so nothing is committed. A
committed change is pushed to every LSMS that takes network data (RR3-2), except an LSMS that made
it over its own association (05 §A.8); LSMSs that are away or recovering get it held.

The first use of an NPA-NXX (RR5-3: mark it ported, subscriptionVersionNewNPA-NXX to the LSMSs) is
the engine's, in the activation's own transaction (AnnounceNpaNxx); `snapshot` gives it and the
version guards the network data they read.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.agent import NpacAgent
from appliance.npac.guards import Network
from appliance.npac.lsms_link import LsmsLink
from appliance.npac.model import Status
from appliance.npac.network_wire import LRN, NPA_NXX, SP
from appliance.npac.writer import Writer
from appliance.osi import cmip
from appliance.store.network import LRNS, NPA_NXX as NPA_NXX_ROWS, SERVICE_PROVIDERS
from appliance.store.store import Tx, _Reads
from appliance.store.versions import VERSIONS

FUNCTIONS = ("soa-mgmt", "soa-network-data-mgmt", "lsms-data-download", "lsms-network-data-mgmt", "lsms-query")
# Table 3-1 fields an SP may not change over its own interface (IIS: all but ID and allowable
# functions are GET-REPLACE, L35668; the download mask is NPAC-only, R4-15.1)
NPAC_ONLY = frozenset({"sp_id", "allowable_functions", "download_network_data", "system_type", "customer_type",
                       "max_query"})
_LIVE_EXCLUDED = (int(Status.OLD), int(Status.CANCELED))


class NetworkDataError(Exception):
    """A refused change: the CMIP error code it is answered with, and a line for the operator."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Requester:
    """Who asks: `sp` None is NPAC personnel; `lsms` is True when the request came over an LSMS's
    association (so the change is not pushed back to that LSMS)."""

    sp: str | None = None
    lsms: bool = False

    @property
    def origin(self) -> str | None:
        return self.sp if self.lsms else None


NPAC_PERSONNEL = Requester()


def _check(ok: bool, code: int, text: str) -> None:
    if not ok:
        raise NetworkDataError(code, text)


def _owner(by: Requester, sp_id: str) -> None:
    _check(by.sp is None or by.sp == sp_id, cmip.ACCESS_DENIED, f"{by.sp} does not own the network data of {sp_id}")


def _live_sp(reader: _Reads, sp_id: str) -> dict[str, Any]:
    sp = SERVICE_PROVIDERS.get(reader, sp_id)
    _check(sp is not None and sp["deleted_ms"] is None, cmip.NO_SUCH_OBJECT_INSTANCE, f"no service provider {sp_id}")
    return sp  # type: ignore[return-value]


def npa_nxx_in_use(reader: _Reads, value: str) -> bool:
    return bool(VERSIONS.where(reader, "tn LIKE ? AND status NOT IN (?, ?)", [value + "%", *_LIVE_EXCLUDED], limit=1))


def lrn_in_use(reader: _Reads, value: str) -> bool:
    return bool(VERSIONS.where(reader, "lrn = ? AND status NOT IN (?, ?)", [value, *_LIVE_EXCLUDED], limit=1))


def snapshot(reader: _Reads) -> Network:
    """The network data the subscription-version guards consult (R5-18.4-18.6)."""
    npa = NPA_NXX_ROWS.all(reader)
    return Network(
        providers=frozenset(sp["sp_id"] for sp in SERVICE_PROVIDERS.live(reader)),
        lrn_owner={r["value"]: r["sp_id"] for r in LRNS.all(reader)},
        npa_nxx_owner={r["value"]: r["sp_id"] for r in npa},
        npa_nxx_effective_ms={r["value"]: r["effective_ms"] for r in npa},
        ported_npa_nxx=frozenset(r["value"] for r in npa if r["ported"]),
    )


class NetworkData:
    def __init__(self, writer: Writer, agent: NpacAgent, link: LsmsLink):
        self.writer = writer
        self.agent = agent
        self.link = link
        self.store = link.store

    async def _run(self, note: str, fn: Callable[[Tx], Any]) -> Any:
        return await self.writer.run(note, fn)

    # ---- service providers (R4-1..R4-22, flows 6.3.1-6.3.5) ----------------------------------------
    async def create_service_provider(self, sp_id: str, name: str, *, system_type: int,
                                      allowable_functions: tuple[str, ...], download_network_data: bool = False,
                                      tunables: dict[str, str] | None = None, **other: Any) -> dict[str, Any]:
        """R4-1, R4-6..R4-11, flow 6.3.1 (serviceProv and serviceProvNetwork, then each LSMS)."""
        _check(len(sp_id) == 4, cmip.INVALID_ATTRIBUTE_VALUE, f"SP id {sp_id!r} is not 4 characters")
        _check(0 < len(name) <= 40, cmip.INVALID_ATTRIBUTE_VALUE, f"SP name {name!r} is not 1-40 characters")
        unknown = set(allowable_functions) - set(FUNCTIONS)
        _check(not unknown, cmip.INVALID_ATTRIBUTE_VALUE, f"unknown allowable functions {sorted(unknown)}")

        def create(tx: Tx) -> dict[str, Any]:
            _check(SERVICE_PROVIDERS.get(tx, sp_id) is None, cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE,
                   f"service provider {sp_id} exists (or is kept in history)")
            _check(SERVICE_PROVIDERS.by_name(tx, name) is None, cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE,
                   f"service provider name {name!r} is taken")
            row = SERVICE_PROVIDERS.put(tx, {"sp_id": sp_id, "name": name, "system_type": system_type,
                                             "allowable_functions": list(allowable_functions),
                                             "download_network_data": download_network_data,
                                             "tunables": dict(tunables or {}), "created_ms": tx.now_ms, **other})
            self.link.push_network(tx, self.writer, SP, "create", row)
            return row
        return await self._run(f"create service provider {sp_id}", create)

    async def modify_service_provider(self, sp_id: str, changes: dict[str, Any],
                                      by: Requester = NPAC_PERSONNEL) -> dict[str, Any]:
        """R4-13..R4-17, flows 6.3.3-6.3.5; a name change goes to the LSMSs (6.3.3 e, RR4-4)."""
        _owner(by, sp_id)
        _check(by.sp is None or not NPAC_ONLY & set(changes), cmip.ACCESS_DENIED,
               f"an SP may not change {sorted(NPAC_ONLY & set(changes))}")
        _check("sp_id" not in changes, cmip.ACCESS_DENIED, "the SP id cannot be changed (R4-15.2)")

        def modify(tx: Tx) -> dict[str, Any]:
            before = _live_sp(tx, sp_id)
            name = changes.get("name", before["name"])
            _check(isinstance(name, str) and 0 < len(name) <= 40, cmip.INVALID_ATTRIBUTE_VALUE, "SP name")
            clash = SERVICE_PROVIDERS.by_name(tx, name)
            _check(clash is None or clash["sp_id"] == sp_id, cmip.INVALID_ATTRIBUTE_VALUE, f"name {name!r} is taken")
            row = SERVICE_PROVIDERS.put(tx, {"sp_id": sp_id, **changes, "modified_ms": tx.now_ms})
            if row["name"] != before["name"]:
                self.link.push_network(tx, self.writer, SP, "modify", row, by.origin)
            return row
        return await self._run(f"modify service provider {sp_id}", modify)

    async def delete_service_provider(self, sp_id: str) -> dict[str, Any]:
        """R4-20..R4-22, RR4-1/2, flow 6.3.2: kept as history, deleted from the LSMSs."""
        def delete(tx: Tx) -> dict[str, Any]:
            _live_sp(tx, sp_id)
            _check(not NPA_NXX_ROWS.of_sp(tx, sp_id), cmip.PROCESSING_FAILURE, f"{sp_id} still has NPA-NXX data")
            _check(not LRNS.of_sp(tx, sp_id), cmip.PROCESSING_FAILURE, f"{sp_id} still has LRN data")
            _check(not VERSIONS.where(tx, "(new_sp = ? OR old_sp = ?) AND status NOT IN (?, ?)",
                                      [sp_id, sp_id, *_LIVE_EXCLUDED], limit=1),
                   cmip.PROCESSING_FAILURE, f"{sp_id} is named by subscription versions that are not old or "
                   "canceled (R4-22.2)")
            row = SERVICE_PROVIDERS.mark_deleted(tx, sp_id)
            self.link.push_network(tx, self.writer, SP, "delete", row)
            return row
        return await self._run(f"delete service provider {sp_id}", delete)

    # ---- NPA-NXX (R3-3, RP3-1.1, RP3-3.1, RR4-3; flows 6.3.8.x) -------------------------------------
    async def create_npa_nxx(self, sp_id: str, value: str, effective_ms: int,
                             by: Requester = NPAC_PERSONNEL) -> dict[str, Any]:
        _owner(by, sp_id)
        _check(len(value) == 6 and value.isdigit(), cmip.INVALID_ATTRIBUTE_VALUE, f"NPA-NXX {value!r}")

        def create(tx: Tx) -> dict[str, Any]:
            _live_sp(tx, sp_id)
            _check(NPA_NXX_ROWS.by_value(tx, value) is None, cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE,
                   f"NPA-NXX {value} exists")
            row = NPA_NXX_ROWS.add(tx, {"value": value, "sp_id": sp_id, "effective_ms": effective_ms,
                                        "creation_ms": tx.now_ms, "ported": False})
            self.link.push_network(tx, self.writer, NPA_NXX, "create", row, by.origin)
            return row
        return await self._run(f"create NPA-NXX {value} for {sp_id}", create)

    async def delete_npa_nxx(self, npa_nxx_id: int, by: Requester = NPAC_PERSONNEL) -> dict[str, Any]:
        return await self._delete("NPA-NXX", NPA_NXX_ROWS, NPA_NXX, npa_nxx_in_use, npa_nxx_id, by)

    # ---- LRN (RP3-1.2, RP3-3.2, RR4-1; flows 6.3.9.x) ----------------------------------------------
    async def create_lrn(self, sp_id: str, value: str, by: Requester = NPAC_PERSONNEL) -> dict[str, Any]:
        _owner(by, sp_id)
        _check(len(value) == 10 and value.isdigit(), cmip.INVALID_ATTRIBUTE_VALUE, f"LRN {value!r}")

        def create(tx: Tx) -> dict[str, Any]:
            _live_sp(tx, sp_id)
            _check(LRNS.by_value(tx, value) is None, cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE, f"LRN {value} exists")
            row = LRNS.add(tx, {"value": value, "sp_id": sp_id, "creation_ms": tx.now_ms})
            self.link.push_network(tx, self.writer, LRN, "create", row, by.origin)
            return row
        return await self._run(f"create LRN {value} for {sp_id}", create)

    async def delete_lrn(self, lrn_id: int, by: Requester = NPAC_PERSONNEL) -> dict[str, Any]:
        return await self._delete("LRN", LRNS, LRN, lrn_in_use, lrn_id, by)

    async def _delete(self, label: str, rows: Any, kind: Any, in_use: Callable[[_Reads, str], bool], row_id: int,
                      by: Requester) -> dict[str, Any]:
        """RP3-3 / RR4-3: the owner's (or NPAC personnel's) delete of an NPA-NXX or LRN no live
        subscription version uses; pushed to the LSMSs (flows 6.3.8.x, 6.3.9.x)."""
        def delete(tx: Tx) -> dict[str, Any]:
            row = rows.get(tx, row_id)
            _check(row is not None, cmip.NO_SUCH_OBJECT_INSTANCE, f"no {label} {row_id}")
            _owner(by, row["sp_id"])
            _check(not in_use(tx, row["value"]), cmip.COMPLEXITY_LIMITATION,
                   f"{label} {row['value']} is used by a subscription version that is not old or canceled")
            rows.delete(tx, row_id)
            self.link.push_network(tx, self.writer, kind, "delete", row, by.origin)
            return row
        return await self._run(f"delete {label} {row_id}", delete)

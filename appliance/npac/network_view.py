"""The NPAC's network data as containment trees over the store, for M-GET (flows 6.3.6, 6.3.7,
6.3.8.7/8, 6.3.9.4/8, 6.3.9.10): mounted on the agent at lnpNetwork and at lnpServiceProvs.

- lnpNetwork / serviceProvNetwork / {serviceProvNPA-NXX, serviceProvLRN}: any SP may read them
  (GDMO L35908).
- lnpServiceProvs / serviceProv: an SP reads only its own (6.3.6 c: accessDenied; R4-26.2); in a
  scoped M-GET the others are simply not selected. NPAC personnel (no requester) see all.
Objects are built on demand from the current rows, so a query always sees committed data.
"""
from __future__ import annotations

from typing import Any, Mapping

from appliance.agent import ObjectAccessDenied
from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_tlv, rdn_plain
from appliance.npac.model import DownloadReason
from appliance.npac.network_wire import KINDS, LRN, NPA_NXX, SP, npac_network, npac_service_provs, sp_network_dn
from appliance.osi.cmip_filter import MemoryObject
from appliance.osi.errors import ProtocolError
from appliance.store.network import LRNS, NPA_NXX as NPA_NXX_ROWS, SERVICE_PROVIDERS
from appliance.store.store import _Reads

# npacCustomerAllowableFunctions (AssociationFunction, L42110) <-> the store's function names
FUNCTION_UNITS = {
    "soa-mgmt": ("soaUnits", "soaMgmt"), "soa-network-data-mgmt": ("soaUnits", "networkDataMgmt"),
    "lsms-data-download": ("lsmsUnits", "dataDownload"), "lsms-network-data-mgmt": ("lsmsUnits", "networkDataMgmt"),
    "lsms-query": ("lsmsUnits", "query"),
}
# serviceProv attributes kept as the TLV the SP set (hex), by store column
ADDRESS_ATTRIBUTES = ("serviceProvAddress", "serviceProvBillingAddress", "serviceProvSOA-Address",
                      "serviceProvLSMS-Address", "serviceProvWebAddress", "serviceProvNetAddress",
                      "serviceProvConflictAddress", "serviceProvOperationsAddress", "serviceProvUserAdminAddress",
                      "serviceProvRepairCenterInfo")


def allowable_functions(functions: list[str]) -> dict[str, Any]:
    units: dict[str, dict[str, None]] = {"soaUnits": {}, "lsmsUnits": {}}
    for name in functions:
        if name in FUNCTION_UNITS:
            unit, bit = FUNCTION_UNITS[name]
            units[unit][bit] = None
    return units


def _encoded(values: Mapping[str, Any]) -> dict[str, bytes]:
    return {OIDS.attribute(name).oid: attribute_tlv(name, value) for name, value in values.items() if value is not None}


def service_prov_attributes(sp: Mapping[str, Any]) -> dict[str, bytes]:
    """serviceProv (L35560): serviceProvNetworkPkg + serviceProvPkg + the address packages it has."""
    attrs = _encoded({
        "serviceProvID": sp["sp_id"], "serviceProvName": sp["name"],
        "npacCustomerAllowableFunctions": allowable_functions(sp["allowable_functions"] or []),
        "serviceProvTunables": [{"name": k, "value": v} for k, v in sorted((sp["tunables"] or {}).items())],
    })
    for name, hex_tlv in sorted((sp["addresses"] or {}).items()):
        attrs[OIDS.attribute(name).oid] = bytes.fromhex(hex_tlv)
    for hex_tlv in (sp["network_addresses"] or [])[:1]:
        attrs[OIDS.attribute("serviceProvSysLinkInfo").oid] = bytes.fromhex(hex_tlv)
    return attrs


_BAD_NAME = (ProtocolError, KeyError, ValueError, TypeError)


def _container(dn: tuple, class_name: str, naming: str, value: str) -> MemoryObject:
    return MemoryObject(dn, OIDS.object_class(class_name).oid, _encoded({naming: value}))


class NetworkView:
    """lnpNetwork and below."""

    def __init__(self, reader: _Reads, npac_id: str):
        self.reader = reader
        self.base = npac_network(npac_id)

    def _object(self, kind: str, row: Mapping[str, Any]) -> MemoryObject:
        k = KINDS[kind]
        attrs = {oid: tlv for oid, tlv in k.encoded(row, DownloadReason.NEW)
                 if oid != OIDS.attribute("serviceProvDownloadReason").oid}  # meaningful only on an LSMS
        return MemoryObject(k.dn(self.base, row), OIDS.object_class(k.object_class).oid, attrs)

    def get(self, dn: tuple) -> MemoryObject | None:
        depth = len(dn) - len(self.base)
        if dn[:len(self.base)] != self.base or depth > 2:
            return None
        if depth == 0:
            return _container(self.base, "lnpNetwork", "lnpNetworkName", "lnpNetwork")
        try:
            _, sp_id = rdn_plain(dn, len(self.base))
            sp = SERVICE_PROVIDERS.get(self.reader, sp_id)
            if sp is None or sp["deleted_ms"] is not None:
                return None
            if depth == 1:
                return self._object(SP, sp)
            name, key = rdn_plain(dn, len(self.base) + 1)
        except _BAD_NAME:  # a DN that does not decode names nothing here
            return None
        kind = {"serviceProvNPA-NXX-ID": NPA_NXX, "serviceProvLRN-ID": LRN}.get(name)
        rows = {NPA_NXX: NPA_NXX_ROWS, LRN: LRNS}
        row = rows[kind].get(self.reader, key) if kind else None
        return self._object(kind, row) if row is not None and row["sp_id"] == sp_id else None

    def children(self, dn: tuple) -> list[MemoryObject]:
        depth = len(dn) - len(self.base)
        if depth == 0:
            return [self._object(SP, sp) for sp in SERVICE_PROVIDERS.live(self.reader)]
        if depth == 1:
            _, sp_id = rdn_plain(dn, len(self.base))
            return ([self._object(NPA_NXX, r) for r in NPA_NXX_ROWS.of_sp(self.reader, sp_id)]
                    + [self._object(LRN, r) for r in LRNS.of_sp(self.reader, sp_id)])
        return []


class ServiceProvsView:
    """lnpServiceProvs and the serviceProv objects `viewer` may read (None: all)."""

    def __init__(self, reader: _Reads, npac_id: str, viewer: str | None):
        self.reader = reader
        self.base = npac_service_provs(npac_id)
        self.viewer = viewer

    def _object(self, sp: Mapping[str, Any]) -> MemoryObject:
        return MemoryObject(sp_network_dn(self.base, sp["sp_id"]), OIDS.object_class("serviceProv").oid,
                            service_prov_attributes(sp))

    def get(self, dn: tuple) -> MemoryObject | None:
        depth = len(dn) - len(self.base)
        if dn[:len(self.base)] != self.base or depth > 1:
            return None
        if depth == 0:
            return _container(self.base, "lnpServiceProvs", "lnpServiceProvsName", "lnpServiceProvs")
        try:
            _, sp_id = rdn_plain(dn, len(self.base))
        except _BAD_NAME:
            return None
        sp = SERVICE_PROVIDERS.get(self.reader, sp_id)
        if sp is None or sp["deleted_ms"] is not None:
            return None
        if self.viewer is not None and sp_id != self.viewer:
            raise ObjectAccessDenied(sp_id)
        return self._object(sp)

    def children(self, dn: tuple) -> list[MemoryObject]:
        if len(dn) != len(self.base):
            return []
        return [self._object(sp) for sp in SERVICE_PROVIDERS.live(self.reader)
                if self.viewer is None or sp["sp_id"] == self.viewer]

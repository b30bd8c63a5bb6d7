"""The NPAC's lnpSubscriptions container and its subscriptionVersionNPAC objects, seen as a CMIS
containment tree over the store (name bindings 8 and 15, L36572-36912), for scoped/filtered M-GET
(flow 6.4.11) and the M-SET of flow 6.4.4.1.

Objects are made on demand from store rows and their attributes are encoded with their LNP types
only when read, so a filter touches just the attributes it names. A filter's top-level equality
items on the indexed columns (TN, version id, status, old/new SP) narrow the rows read; the whole
filter is still evaluated by `cmip_filter` on every object.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.lnp.oids import OIDS
from appliance.npac.sv_codec import BY_OID, BadValue, field_value, read_version_id, subscriptions_dn
from appliance.osi import ber
from appliance.osi.cmip_filter import DN, Filter, FilterAnd, FilterItem
from appliance.osi.errors import ProtocolError
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import _Reads
from appliance.store.versions import VERSIONS

VERSION_CLASS = OIDS.object_class("subscriptionVersionNPAC").oid
CONTAINER_CLASS = OIDS.object_class("lnpSubscriptions").oid
VERSION_ID_OID = OIDS.attribute("subscriptionVersionId").oid
_INDEXED = {"tn", "version_id", "status", "old_sp", "new_sp"}


class VersionAttributes(Mapping[str, bytes]):
    """A version's attributes (OID -> value TLV), encoded when first read."""

    def __init__(self, row: Mapping[str, Any], names: Mapping[str, str]):
        self._row = row
        self._names = names
        self._cache: dict[str, bytes] = {}
        self._present = tuple(oid for oid, codec in BY_OID.items()
                              if field_value(row, codec.field) not in (None, [], ()))

    def __getitem__(self, oid: str) -> bytes:
        if oid not in self._cache:
            if oid not in self._present:
                raise KeyError(oid)
            codec = BY_OID[oid]
            self._cache[oid] = codec.encode(field_value(self._row, codec.field), self._names)
        return self._cache[oid]

    def __contains__(self, oid: object) -> bool:
        return oid in self._present

    def __iter__(self) -> Iterator[str]:
        return iter(self._present)

    def __len__(self) -> int:
        return len(self._present)


@dataclass(frozen=True)
class StoredObject:
    dn: DN
    object_class: str
    attributes: Mapping[str, Any]
    version_id: int | None = None


class SubscriptionView:
    """A `cmip_filter.ContainmentTree` rooted at the NPAC's lnpSubscriptions."""

    def __init__(self, reader: _Reads, npac_system_id: str, where: tuple[str, list[Any]] | None = None):
        self.reader = reader
        self.npac_system_id = npac_system_id
        self.container_dn: DN = subscriptions_dn(npac_system_id)
        self.where = where
        self._names: dict[str, str] | None = None

    # ---- ContainmentTree ------------------------------------------------------------------------
    def get(self, dn: DN) -> StoredObject | None:
        if dn == self.container_dn:
            return self.container()
        version_id = self.version_id_of(dn)
        if version_id is None:
            return None
        row = VERSIONS.get(self.reader, version_id)
        return self.version(row) if row is not None else None

    def children(self, dn: DN) -> Iterator[StoredObject]:
        if dn != self.container_dn:
            return iter(())
        where, params = self.where or (None, [])
        return (self.version(row) for row in VERSIONS.where(self.reader, where, params, order_by="version_id"))

    # ---- objects ----------------------------------------------------------------------------------
    def container(self) -> StoredObject:
        name = OIDS.attribute("lnpSubscriptionsName").oid
        return StoredObject(self.container_dn, CONTAINER_CLASS, {name: ber.encode_tlv(0x19, b"lnpSubscriptions")})

    def version(self, row: Mapping[str, Any]) -> StoredObject:
        dn = self.container_dn + (((VERSION_ID_OID, BY_OID[VERSION_ID_OID].encode(row["version_id"])),),)
        return StoredObject(dn, VERSION_CLASS, VersionAttributes(row, self.names), row["version_id"])

    @property
    def names(self) -> dict[str, str]:
        """serviceProvName per SP, for subscriptionFailed-SP-List (read once per query)."""
        if self._names is None:
            self._names = {sp["sp_id"]: sp["name"] for sp in SERVICE_PROVIDERS.all(self.reader)}
        return self._names

    def version_id_of(self, dn: Any) -> int | None:
        """The version a DN names: lnpSubscriptions plus one subscriptionVersionId RDN."""
        if not isinstance(dn, tuple) or len(dn) != len(self.container_dn) + 1 or dn[:-1] != self.container_dn:
            return None
        rdn = dn[-1]
        if len(rdn) != 1 or rdn[0][0] != VERSION_ID_OID:
            return None
        return read_version_id(rdn[0][1])

    # ---- narrowing --------------------------------------------------------------------------------
    def narrowed(self, flt: Filter) -> "SubscriptionView":
        """The same view reading only rows that can pass the filter's top-level equality items."""
        items = flt.items if isinstance(flt, FilterAnd) else (flt,)
        clauses, params = [], []
        for item in items:
            if not isinstance(item, FilterItem) or item.kind != "equality" or item.value is None:
                continue
            codec = BY_OID.get(item.attribute_id) if isinstance(item.attribute_id, str) else None
            if codec is None or codec.field not in _INDEXED:
                continue
            try:
                value = codec.decode(item.value)
            except (BadValue, ProtocolError):
                continue  # an undecodable value matches nothing; the filter says so itself
            clauses.append(f"[{codec.field}] = ?")
            params.append(value)
        return SubscriptionView(self.reader, self.npac_system_id, (" AND ".join(clauses), params) if clauses else None)

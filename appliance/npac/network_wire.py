"""Network data on the wire: serviceProvNetwork, serviceProvNPA-NXX and serviceProvLRN objects (GDMO
L35678-35922), their names under an lnpNetwork (the NPAC's or an LSMS's), their download records
(NetworkDownloadData, L42854) and the NPAC's M-CREATE / M-SET / M-DELETE pushes to an LSMS (flows
6.3.1-6.3.9).

A `Kind` row says, for one class, how a store row becomes the object's DN and attributes; the
pushes and the download records are built from the same rows, so what an LSMS receives by push,
by lnpDownload and by M-GET is the same data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_tlv, gtime, lrn_octets, rdn
from appliance.npac.lsms_wire import DOWNLOAD_REASON_NAMES, lsms_network
from appliance.npac.model import DownloadReason
from appliance.osi import cmip

Row = Mapping[str, Any]
SP, NPA_NXX, LRN = "sp", "npa-nxx", "lrn"


def npac_root(npac_id: str) -> tuple:
    return (rdn("lnpNPAC-SMS-Name", npac_id),)


def npac_network(npac_id: str) -> tuple:
    return npac_root(npac_id) + (rdn("lnpNetworkName", "lnpNetwork"),)


def npac_service_provs(npac_id: str) -> tuple:
    return npac_root(npac_id) + (rdn("lnpServiceProvsName", "lnpServiceProvs"),)


def npac_subscriptions(npac_id: str) -> tuple:
    return npac_root(npac_id) + (rdn("lnpSubscriptionsName", "lnpSubscriptions"),)


def npac_version_dn(npac_id: str, version_id: int) -> tuple:
    return npac_subscriptions(npac_id) + (rdn("subscriptionVersionId", version_id),)


def sp_network_dn(network: tuple, sp_id: str) -> tuple:
    return network + (rdn("serviceProvID", sp_id),)


def npa_nxx_plain(value: str) -> dict[str, str]:
    return {"npa-value": value[:3], "nxx-value": value[3:]}


def _stamp(ms: int | None) -> str | None:
    return None if ms is None else gtime(ms)


def _reason(reason: DownloadReason) -> str:
    return DOWNLOAD_REASON_NAMES[reason]


def sp_attributes(row: Row, reason: DownloadReason) -> dict[str, Any]:
    return {"serviceProvID": row["sp_id"], "serviceProvName": row["name"]}


def npa_nxx_attributes(row: Row, reason: DownloadReason) -> dict[str, Any]:
    return {"serviceProvNPA-NXX-ID": row["npa_nxx_id"], "serviceProvNPA-NXX-Value": npa_nxx_plain(row["value"]),
            "serviceProvNPA-NXX-EffectiveTimeStamp": _stamp(row["effective_ms"]),
            "serviceProvDownloadReason": _reason(reason),
            "serviceProvNPA-NXX-CreationTimeStamp": _stamp(row.get("creation_ms"))}


def lrn_attributes(row: Row, reason: DownloadReason) -> dict[str, Any]:
    return {"serviceProvLRN-ID": row["lrn_id"], "serviceProvLRN-Value": lrn_octets(row["value"]),
            "serviceProvDownloadReason": _reason(reason),
            "serviceProvLRN-CreationTimeStamp": _stamp(row.get("creation_ms"))}


@dataclass(frozen=True)
class Kind:
    name: str
    object_class: str
    naming: str | None  # naming attribute below serviceProvNetwork (None: the serviceProvNetwork itself)
    key: str  # the row's id column
    attributes: Callable[[Row, DownloadReason], dict[str, Any]]

    def dn(self, network: tuple, row: Row) -> tuple:
        base = sp_network_dn(network, row["sp_id"])
        return base if self.naming is None else base + (rdn(self.naming, row[self.key]),)

    def encoded(self, row: Row, reason: DownloadReason) -> tuple[tuple[str, bytes], ...]:
        return tuple((OIDS.attribute(name).oid, attribute_tlv(name, value))
                     for name, value in self.attributes(row, reason).items() if value is not None)


KINDS: dict[str, Kind] = {
    SP: Kind(SP, "serviceProvNetwork", None, "sp_id", sp_attributes),
    NPA_NXX: Kind(NPA_NXX, "serviceProvNPA-NXX", "serviceProvNPA-NXX-ID", "npa_nxx_id", npa_nxx_attributes),
    LRN: Kind(LRN, "serviceProvLRN", "serviceProvLRN-ID", "lrn_id", lrn_attributes),
}
KIND_OF_CLASS = {k.object_class: k for k in KINDS.values()}


# ---- NetworkDownloadData (plain) ---------------------------------------------------------------


def npa_nxx_item(row: Row, reason: DownloadReason) -> dict[str, Any]:
    item = {"service-prov-npa-nxx-id": row["npa_nxx_id"], "service-prov-download-reason": _reason(reason)}
    if row.get("value"):
        item.update({"service-prov-npa-nxx-value": npa_nxx_plain(row["value"]),
                     "service-prov-npa-nxx-effective-timestamp": _stamp(row.get("effective_ms")),
                     "service-prov-npa-nxx-creation-timestamp": _stamp(row.get("creation_ms"))})
    return {k: v for k, v in item.items() if v is not None}


def lrn_item(row: Row, reason: DownloadReason) -> dict[str, Any]:
    item = {"service-prov-lrn-id": row["lrn_id"], "service-prov-lrn-value": lrn_octets(row["value"]),
            "service-prov-download-reason": _reason(reason),
            "service-prov-lrn-creation-timestamp": _stamp(row.get("creation_ms"))}
    return {k: v for k, v in item.items() if v is not None}


def network_item(sp: Row, npa_nxx: list[tuple[Row, DownloadReason]] | None = None,
                 lrns: list[tuple[Row, DownloadReason]] | None = None) -> dict[str, Any]:
    """One NetworkDownloadData element: the SP and (optionally) NPA-NXX and LRN records."""
    item: dict[str, Any] = {"service-prov-data": {"service-prov-id": sp["sp_id"], "service-prov-name": sp.get("name")}}
    if npa_nxx:
        item["service-prov-npa-nxx-data"] = [npa_nxx_item(r, why) for r, why in npa_nxx]
    if lrns:
        item["service-prov-lrn-data"] = [lrn_item(r, why) for r, why in lrns]
    return item


# ---- pushes to an LSMS (flows 6.3.1, 6.3.2, 6.3.3, 6.3.8.x, 6.3.9.x) ------------------------------


def push_create(lsms: str, kind: str, row: Row) -> cmip.CreateRequest:
    k = KINDS[kind]
    return cmip.CreateRequest(OIDS.object_class(k.object_class).oid, k.dn(lsms_network(lsms), row),
                              attributes=k.encoded(row, DownloadReason.NEW))


def push_delete(lsms: str, kind: str, row: Row) -> cmip.DeleteRequest:
    k = KINDS[kind]
    return cmip.DeleteRequest(OIDS.object_class(k.object_class).oid, k.dn(lsms_network(lsms), row))


def push_rename(lsms: str, kind: str, row: Row) -> cmip.SetRequest:
    """Flow 6.3.3 e: only serviceProvName is replaceable on the LSMS's serviceProvNetwork."""
    k = KINDS[SP]
    return cmip.SetRequest(OIDS.object_class(k.object_class).oid, k.dn(lsms_network(lsms), row),
                           ((OIDS.attribute("serviceProvName").oid, attribute_tlv("serviceProvName", row["name"]),
                             cmip.REPLACE),))


PUSHES: dict[str, Callable[[str, str, Row], Any]] = {"create": push_create, "delete": push_delete,
                                                      "modify": push_rename}

"""The Local SMS's own MIB (05 §D.2): lnpLocalSMS / lnpSubscriptions / subscriptionVersion and
lnpLocalSMS / lnpNetwork / serviceProvNetwork / {serviceProvNPA-NXX, serviceProvLRN}, as a
MemoryTree whose attribute values are the TLVs the NPAC sent. It applies the NPAC's operations and
the data of lnpDownload and lnpRecoveryComplete replies, and shows its content as plain values.
"""
from __future__ import annotations

from typing import Any

from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_plain, attribute_tlv, rdn, rdn_plain
from appliance.npac.lsms_wire import COMPONENT_ATTRIBUTE, lsms_network, lsms_root, lsms_subscriptions, version_dn
from appliance.npac.network_wire import sp_network_dn
from appliance.osi.cmip_filter import MemoryObject, MemoryTree

Attrs = dict[str, bytes]  # attribute OID -> value TLV
_DELETE = "delete1"


def _oid(name: str) -> str:
    return OIDS.attribute(name).oid


def _class(name: str) -> str:
    return OIDS.object_class(name).oid


class LsmsMib:
    def __init__(self, sp_id: str):
        self.sp_id = sp_id
        self.tree = MemoryTree()
        self.root, self.subscriptions, self.network = lsms_root(sp_id), lsms_subscriptions(sp_id), lsms_network(sp_id)
        self.tree.add(MemoryObject(self.root, _class("lnpLocalSMS"), {_oid("lnpLocal-SMS-Name"): self.root[0][0][1]}))
        self.tree.add(MemoryObject(self.subscriptions, _class("lnpSubscriptions"),
                                   {_oid("lnpSubscriptionsName"): self.subscriptions[-1][0][1]}))
        self.tree.add(MemoryObject(self.network, _class("lnpNetwork"), {_oid("lnpNetworkName"): self.network[-1][0][1]}))

    # ---- objects -------------------------------------------------------------------------------
    def put(self, dn: tuple, object_class: str, attributes: Attrs) -> None:
        self.tree.add(MemoryObject(dn, object_class, dict(attributes)))

    def update(self, dn: tuple, changes: Attrs) -> None:
        obj = self.tree.get(dn)
        assert obj is not None
        self.tree.add(MemoryObject(dn, obj.object_class, {**obj.attributes, **changes}))

    def remove(self, dn: tuple) -> None:
        self.tree.remove(dn)

    def versions_of_tn(self, tn: str) -> list[MemoryObject]:
        tn_oid, tlv = _oid("subscriptionTN"), attribute_tlv("subscriptionTN", tn)
        return [o for o in self.tree.children(self.subscriptions) if o.attributes.get(tn_oid) == tlv]

    # ---- download data (lnpDownload / lnpRecoveryComplete replies) --------------------------------
    def apply_subscriptions(self, items: list[dict[str, Any]]) -> None:
        """SubscriptionDownloadData, in order: a TN holds one version, replaced or deleted by TN."""
        for item in items:
            data = item["subscription-data"]
            tn = item.get("subscription-version-tn")
            if tn is None:
                tn = self._tn_of_version(item.get("subscription-version-id"))
            for old in self.versions_of_tn(tn) if tn else ():
                self.remove(old.dn)
            if data.get("subscription-download-reason") == _DELETE or tn is None:
                continue
            attrs = {_oid(COMPONENT_ATTRIBUTE[c]): attribute_tlv(COMPONENT_ATTRIBUTE[c], v) for c, v in data.items()}
            attrs[_oid("subscriptionTN")] = attribute_tlv("subscriptionTN", tn)
            self.put(version_dn(self.sp_id, item["subscription-version-id"]), _class("subscriptionVersion"), attrs)

    def _tn_of_version(self, version_id: int | None) -> str | None:
        if version_id is None:
            return None
        obj = self.tree.get(version_dn(self.sp_id, version_id))
        return attribute_plain("subscriptionTN", obj.attributes[_oid("subscriptionTN")]) if obj else None

    def apply_network(self, items: list[dict[str, Any]]) -> None:
        """NetworkDownloadData, in order: SPs upserted; NPA-NXX and LRN records by download reason."""
        for item in items:
            sp = item["service-prov-data"]
            base = sp_network_dn(self.network, sp["service-prov-id"])
            attrs = {_oid("serviceProvID"): attribute_tlv("serviceProvID", sp["service-prov-id"])}
            if sp.get("service-prov-name"):
                attrs[_oid("serviceProvName")] = attribute_tlv("serviceProvName", sp["service-prov-name"])
            if self.tree.get(base) is None:
                self.put(base, _class("serviceProvNetwork"), attrs)
            else:
                self.update(base, attrs)
            for key, cls, naming, prefix in _NETWORK_RECORDS:
                for rec in item.get(key, ()):
                    dn = base + (rdn(naming, rec[f"{prefix}-id"]),)
                    if rec["service-prov-download-reason"] == _DELETE:
                        self.remove(dn)
                        continue
                    values = {attr: rec[comp] for comp, attr in _RECORD_ATTRIBUTES[key].items() if comp in rec}
                    self.put(dn, _class(cls), {_oid(a): attribute_tlv(a, v) for a, v in values.items()})

    # ---- views for tests and operators -----------------------------------------------------------
    def versions(self) -> dict[str, dict[str, Any]]:
        """TN -> {attribute name: plain value} (plus the version id) of every version held."""
        out = {}
        for obj in self.tree.children(self.subscriptions):
            view = plain_attributes(obj.attributes)
            view["subscriptionVersionId"] = rdn_plain(obj.dn, -1)[1]
            out[view["subscriptionTN"]] = view
        return out

    def network_data(self) -> dict[str, dict[str, Any]]:
        """SP id -> {"name", "npa_nxx": {id: "NPANXX"}, "lrn": {id: LRN octets}}."""
        out: dict[str, dict[str, Any]] = {}
        for sp in self.tree.children(self.network):
            view = plain_attributes(sp.attributes)
            entry = out[view["serviceProvID"]] = {"name": view.get("serviceProvName"), "npa_nxx": {}, "lrn": {}}
            for child in self.tree.children(sp.dn):
                attrs = plain_attributes(child.attributes)
                if "serviceProvNPA-NXX-ID" in attrs:
                    value = attrs.get("serviceProvNPA-NXX-Value", {})
                    entry["npa_nxx"][attrs["serviceProvNPA-NXX-ID"]] = value.get("npa-value", "") + value.get(
                        "nxx-value", "")
                else:
                    entry["lrn"][attrs["serviceProvLRN-ID"]] = attrs.get("serviceProvLRN-Value")
        return out


_NETWORK_RECORDS = (  # (NetworkDownloadData component, class, naming attribute, record prefix)
    ("service-prov-npa-nxx-data", "serviceProvNPA-NXX", "serviceProvNPA-NXX-ID", "service-prov-npa-nxx"),
    ("service-prov-lrn-data", "serviceProvLRN", "serviceProvLRN-ID", "service-prov-lrn"),
)
_RECORD_ATTRIBUTES = {
    "service-prov-npa-nxx-data": {
        "service-prov-npa-nxx-id": "serviceProvNPA-NXX-ID", "service-prov-npa-nxx-value": "serviceProvNPA-NXX-Value",
        "service-prov-npa-nxx-effective-timestamp": "serviceProvNPA-NXX-EffectiveTimeStamp",
        "service-prov-download-reason": "serviceProvDownloadReason",
        "service-prov-npa-nxx-creation-timestamp": "serviceProvNPA-NXX-CreationTimeStamp"},
    "service-prov-lrn-data": {
        "service-prov-lrn-id": "serviceProvLRN-ID", "service-prov-lrn-value": "serviceProvLRN-Value",
        "service-prov-download-reason": "serviceProvDownloadReason",
        "service-prov-lrn-creation-timestamp": "serviceProvLRN-CreationTimeStamp"},
}


def plain_attributes(attributes: dict[Any, Any]) -> dict[str, Any]:
    """{attribute name: plain value} of an object's TLV attributes (unknown ones left out)."""
    out = {}
    for oid, tlv in attributes.items():
        record = OIDS.find(oid) if isinstance(oid, str) else None
        if record is not None and record.kind == "attribute" and OIDS.syntax_class(record) is not None:
            out[record.name] = attribute_plain(record.name, tlv)
    return out

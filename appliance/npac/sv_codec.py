"""Subscription-version values on the wire: SubscriptionVersion fields <-> LNP-ASN1 values.

One table per direction-free concern: `ATTRIBUTES` (GDMO attribute -> field and LNP type, from the
store's `GDMO_COLUMNS` and `OIDS.attribute_type`) and the scalar converters per LNP type. Both the
NPAC (M-GET answers, notifications, action decoding) and the SOA simulator use them.

The scalar readings the IIS leaves open (LRN packed BCD, DPC one octet per 3-digit group, whole
seconds of UTC GeneralizedTime) are lnp.values's, shared with every other LNP codec.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pyasn1.type import univ

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.lnp.values import BadValue, dpc_digits, dpc_octets, gtime, lrn_digits, lrn_octets, ms_of
from appliance.npac.model import SubscriptionVersion
from appliance.osi import ber
from appliance.osi.errors import ProtocolError
from appliance.store.schema import GDMO_COLUMNS

LAYER = "lnp-values"


# ---- scalars (lnp.values) -------------------------------------------------------------------

Scalar = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (to the pyasn1 constructor, back to Python)
_TEXT: Scalar = (str, str)
_INT: Scalar = (int, int)
_BOOL: Scalar = (bool, bool)
_TIME: Scalar = (gtime, ms_of)
SCALARS: dict[str, Scalar] = {
    "PhoneNumber": _TEXT, "ServiceProvId": _TEXT, "BillingId": _TEXT, "EndUserLocationValue": _TEXT,
    "EndUserLocationType": _TEXT, "LRN": (lrn_octets, lrn_digits),
    "GeneralTime": _TIME, "GeneralizedTime": _TIME, "SubscriptionVersionId": _INT, "LnpKey": _INT,
    "LNPType": _INT, "DownloadReason": _INT, "VersionStatus": _INT, "SubscriptionPreCancellationStatus": _INT,
    "ServiceProvAuthorization": _BOOL, "SubscriptionPortingToOriginal-SPSwitch": _BOOL,
}
# CHOICE { <value> [0], no-value-needed [1] NULL }: an absent routing value is no-value-needed.
CHOICES: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "DPC": ("dpc-value", dpc_octets, dpc_digits),
    "SSN": ("ssn-value", int, int),
}


def set_value(holder: Any, type_name: str, value: Any) -> Any:
    """Fill the (instantiated) pyasn1 `holder` of LNP type `type_name` with the Python `value`."""
    if type_name in CHOICES:
        alternative, to_wire, _ = CHOICES[type_name]
        if value is None:
            holder["no-value-needed"] = ""
        else:
            holder[alternative] = to_wire(value)
        return holder
    return holder.clone(SCALARS[type_name][0](value))


def get_value(type_name: str, value: Any) -> Any:
    """The Python value of a decoded pyasn1 value of LNP type `type_name` (None: no-value-needed)."""
    try:
        if type_name in CHOICES:
            alternative, _, from_wire = CHOICES[type_name]
            return from_wire(value[alternative]) if value.getName() == alternative else None
        return SCALARS[type_name][1](value)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise BadValue(f"{type_name}: {exc}") from None


def present(seq: Any, name: str) -> Any:
    """A component of a decoded SEQUENCE, or None when absent."""
    component = seq.getComponentByName(name, default=None, instantiate=False)
    return component if component is not None and component.isValue else None


# ---- GDMO attributes of subscriptionVersionNPAC ------------------------------------------------


@dataclass(frozen=True)
class AttributeCodec:
    name: str  # GDMO attribute
    oid: str
    field: str  # SubscriptionVersion field
    type_name: str  # LNP-ASN1 type
    cls: type

    def encode(self, value: Any, names: Mapping[str, str] | None = None) -> bytes:
        if self.type_name == "Failed-SP-List":
            return asn1.encode(failed_sp_list(value, names or {}))
        return asn1.encode(set_value(self.cls(), self.type_name, value))

    def decode(self, tlv: bytes) -> Any:
        value = asn1.decode(self.cls, tlv)
        if self.type_name == "Failed-SP-List":
            return [str(item["service-prov-id"]) for item in value]
        return get_value(self.type_name, value)


def _codec(name: str, field: str) -> AttributeCodec:
    record = OIDS.attribute(name)
    return AttributeCodec(name, record.oid, field, record.asn1_type, OIDS.syntax_class(record))


ATTRIBUTES: dict[str, AttributeCodec] = {name: _codec(name, field) for name, field in GDMO_COLUMNS.items()}
BY_OID: dict[str, AttributeCodec] = {c.oid: c for c in ATTRIBUTES.values()}
BY_FIELD: dict[str, AttributeCodec] = {c.field: c for c in ATTRIBUTES.values()}


def failed_sp_list(sps: Any, names: Mapping[str, str]) -> Any:
    """Failed-SP-List (L42442): each failed LSMS with its name (serviceProvName, 1-40 characters)."""
    value = asn1.type_class("Failed-SP-List")()
    for sp in sps:
        item = value.getComponentType().clone()
        item["service-prov-id"] = sp
        item["service-prov-name"] = (names.get(sp) or sp)[:40]
        value.append(item)
    return value


def field_value(version: SubscriptionVersion | Mapping[str, Any], field: str) -> Any:
    value = version.get(field) if isinstance(version, Mapping) else getattr(version, field)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def version_attributes(version: SubscriptionVersion | Mapping[str, Any],
                       names: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """attribute OID -> value TLV for every attribute the version has a value for (an empty failed
    list is no value)."""
    out: dict[str, bytes] = {}
    for codec in ATTRIBUTES.values():
        value = field_value(version, codec.field)
        if value is None or value == () or value == []:
            continue
        out[codec.oid] = codec.encode(value, names)
    return out


def version_id_tlv(version_id: int) -> bytes:
    return asn1.encode(asn1.type_class("SubscriptionVersionId")(version_id))


def _graphic(text: str) -> bytes:
    return ber.encode_tlv(0x19, text.encode("latin-1"))


def subscriptions_dn(npac_system_id: str) -> tuple:
    """lnpNPAC-SMS / lnpSubscriptions (name bindings 6 and 8, L36572-36912)."""
    return (((OIDS.attribute("lnpNPAC-SMS-Name").oid, _graphic(npac_system_id)),),
            ((OIDS.attribute("lnpSubscriptionsName").oid, _graphic("lnpSubscriptions")),))


def version_dn(npac_system_id: str, version_id: int) -> tuple:
    """A subscriptionVersionNPAC, named by subscriptionVersionId under lnpSubscriptions (NB15)."""
    return subscriptions_dn(npac_system_id) + (((OIDS.attribute("subscriptionVersionId").oid,
                                                 version_id_tlv(version_id)),),)


def read_version_id(tlv: bytes) -> int | None:
    try:
        return int(asn1.decode("SubscriptionVersionId", tlv))
    except ProtocolError:
        return None


def attribute_change(name: str, old: Any, new: Any, names: Mapping[str, str] | None = None) -> Any:
    """One X.721 AttributeValueChangeItem of a version attribute (old value left out when absent)."""
    codec = ATTRIBUTES[name]
    info = asn1.type_class("AttributeValueChangeInfo")()
    item = info["attributeValueChangeDefinition"].getComponentType().clone()
    item["attributeId"]["globalForm"] = codec.oid
    if old is not None and old != [] and old != ():
        item["oldAttributeValue"] = codec.encode(old, names)
    item["newAttributeValue"] = codec.encode(new, names) if new is not None else asn1.encode(univ.Null(""))
    return item

"""LNP values between the store's Python form and the wire: plain data in, BER out, and back.

`from_plain(type, plain)` is the inverse of `asn1.to_plain`: dicts for SEQUENCE/SET (present
components only), a one-key dict for a CHOICE, lists for SEQUENCE OF / SET OF, scalars for the
rest; a pyasn1 value (an access control decoded from its TLV) is taken as it is. Attribute values
are encoded with the GDMO syntax of the attribute, so the registry decides every tag.

The store keeps digits as text; the ASN.1 gives some of them as octets, and the IIS does not say
how they are packed (06 §D.4 #8). The readings here:
- LRN (OCTET STRING SIZE 5): the ten digits as packed BCD, two per octet, first digit in the high
  nibble ("3125550001" -> 31 25 55 00 01);
- DPC (OCTET STRING SIZE 3): network-cluster-member, one octet each, written as nine decimal
  digits in the store ("001002003" -> 01 02 03);
- GeneralizedTime: UTC to the second, "YYYYMMDDhhmmssZ" (DECISIONS: UTC on the wire); any form
  X.680 allows is read.
These scalar codecs are the only ones: the subscription-version attribute table (npac.sv_codec) and
the network data, audit and download codecs all use them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from pyasn1.type import univ
from pyasn1.type.base import Asn1Item

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.osi import ber
from appliance.osi.errors import ProtocolError

UTC = dt.timezone.utc


class BadValue(ValueError):
    """A value that breaks the FRS format or its ASN.1 type (a request carrying one is answered with
    invalidArgumentValue, flows 6.4.1.1 b / 6.4.1.2 b)."""


def lrn_octets(digits: str) -> bytes:
    if len(digits) != 10 or not digits.isdigit():
        raise BadValue(f"LRN {digits!r} is not ten digits")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, 10, 2))


def lrn_digits(octets: bytes) -> str:
    octets = bytes(octets)
    if len(octets) != 5 or any(b >> 4 > 9 or b & 0x0F > 9 for b in octets):
        raise BadValue(f"LRN octets {octets.hex()} are not packed BCD")
    return octets.hex()  # packed BCD reads as its own hex digits


def dpc_octets(digits: str) -> bytes:
    if len(digits) != 9 or not digits.isdigit() or any(int(digits[i:i + 3]) > 255 for i in (0, 3, 6)):
        raise BadValue(f"DPC {digits!r} is not network-cluster-member (3 x 000-255)")
    return bytes(int(digits[i:i + 3]) for i in (0, 3, 6))


def dpc_digits(octets: bytes) -> str:
    octets = bytes(octets)
    if len(octets) != 3:
        raise BadValue(f"DPC octets {octets.hex()} are not three octets")
    return "".join(f"{b:03d}" for b in octets)


def gtime(ms: int) -> str:
    """Milliseconds since the epoch -> GeneralizedTime text (UTC, whole seconds)."""
    return dt.datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y%m%d%H%M%SZ")


def ms_of(value: Any) -> int:
    """GeneralizedTime (text or pyasn1 value, any form X.680 allows; no zone is UTC) -> UTC milliseconds."""
    raw = str(value).encode("ascii", "replace")
    try:
        stamp = ber.decode_generalized_time(raw, 0, len(raw))
    except ProtocolError as exc:
        raise BadValue(f"time {value!s}: {exc.message}") from None
    return int(stamp.timestamp() * 1000)


# ---- plain data <-> pyasn1 -------------------------------------------------------------------


def from_plain(spec: type | Asn1Item, plain: Any) -> Asn1Item:
    """A pyasn1 value of `spec` (a class or a schema object) built from plain data."""
    schema = spec() if isinstance(spec, type) else spec
    if isinstance(plain, Asn1Item):
        return plain
    if isinstance(schema, univ.Choice):
        ((name, inner),) = plain.items()
        value = schema.clone()
        types = schema.componentType
        component = from_plain(types.getTypeByPosition(types.getPositionByName(name)), inner)
        value.setComponentByName(name, component)
        return value
    if isinstance(schema, (univ.Sequence, univ.Set)):
        value = schema.clone()
        types = schema.componentType
        for name, inner in plain.items():
            component_schema = types.getTypeByPosition(types.getPositionByName(name))
            if inner is None and not isinstance(component_schema, univ.Null):
                continue  # None is an absent OPTIONAL component, except where the type is NULL
            asn1.set_component(value, name, from_plain(component_schema, inner))
        return value
    if isinstance(schema, (univ.SequenceOf, univ.SetOf)):
        value = schema.clone()
        for i, inner in enumerate(plain):
            value.setComponentByPosition(i, from_plain(schema.componentType, inner))
        return value
    if isinstance(schema, univ.Null):
        return schema.clone("")
    return schema.clone(plain)


def encode_plain(type_name: str, plain: Any) -> bytes:
    return asn1.encode(from_plain(asn1.type_class(type_name), plain))


def decode_plain(type_name: str, tlv: bytes) -> Any:
    return asn1.to_plain(asn1.decode(type_name, tlv))


def attribute_class(name: str) -> type:
    cls = OIDS.syntax_class(OIDS.attribute(name))
    if cls is None:
        raise KeyError(f"attribute {name} has no LNP-ASN1 syntax")
    return cls


def attribute_tlv(name: str, plain: Any) -> bytes:
    """The value TLV of GDMO attribute `name` (by its registered syntax)."""
    return asn1.encode(from_plain(attribute_class(name), plain))


def attribute_plain(name: str, tlv: bytes) -> Any:
    """Decode a value TLV of attribute `name`; raises ProtocolError on bad bytes."""
    return asn1.to_plain(asn1.decode(attribute_class(name), tlv))


def rdn(attribute: str, plain: Any) -> tuple[tuple[str, bytes], ...]:
    return ((OIDS.attribute(attribute).oid, attribute_tlv(attribute, plain)),)


def rdn_plain(dn: tuple, index: int) -> tuple[str, Any]:
    """(attribute name, plain value) of the single-valued RDN at `index` of a DN."""
    ((oid, tlv),) = dn[index]
    record = OIDS.by_oid(oid)
    return record.name, attribute_plain(record.name, tlv)


def access_control(tlv: bytes) -> Asn1Item:
    """A stamped access-control TLV as a value for a notification or action component."""
    return asn1.decode("LnpAccessControl", tlv)

"""LnpAccessControl (IIS Exhibit 7, LNP-ASN1 seed L42470ff) as a plain record, and its wire form.

The signature covers the DER of systemId, systemType, userId (when present), cmipDepartureTime and
sequenceNumber, each as the complete TLV it has inside LnpAccessControl (context tag included),
concatenated in that order (DECISIONS.md "Secure associations").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ

from appliance.osi.errors import ProtocolError

from .asn1 import LnpAccessControl

# AssociationFunction units by our names (IIS Exhibit 8); SOA and LSMS both have networkDataMgmt.
_UNITS = (
    ("soaUnits", "soaMgmt", "soa.soaMgmt"),
    ("soaUnits", "networkDataMgmt", "soa.networkDataMgmt"),
    ("lsmsUnits", "dataDownload", "lsms.dataDownload"),
    ("lsmsUnits", "networkDataMgmt", "lsms.networkDataMgmt"),
    ("lsmsUnits", "query", "lsms.query"),
)
_SIGNED = ("systemId", "systemType", "userId", "cmipDepartureTime", "sequenceNumber")
MAX_ACCESS_CONTROL = 4096


@dataclass(frozen=True, slots=True)
class AccessControl:
    system_id: str
    npac: bool  # SystemID choice: npac-sms [1] for the NPAC, serviceProvId [0] for a carrier
    system_type: int
    user_id: str | None
    list_id: int
    key_id: int
    departure_time: dt.datetime
    sequence: int
    functions: frozenset[str]
    recovery_mode: bool
    signature: bytes


def _gtime(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def to_asn1(ac: AccessControl) -> LnpAccessControl:
    v = LnpAccessControl()
    sysid = v["systemId"]
    sysid["npac-sms" if ac.npac else "serviceProvId"] = ac.system_id
    v["systemType"] = ac.system_type
    if ac.user_id is not None:
        v["userId"] = ac.user_id
    v["listId"] = ac.list_id
    v["keyId"] = ac.key_id
    v["cmipDepartureTime"] = _gtime(ac.departure_time)
    v["sequenceNumber"] = ac.sequence
    func = v["function"]
    for group in ("soaUnits", "lsmsUnits"):
        func.setComponentByName(group)  # both groups are mandatory, even when empty
    for group, unit, name in _UNITS:
        if name in ac.functions:
            func[group][unit] = univ.Null("")
    v["recoveryMode"] = ac.recovery_mode
    v["signature"] = univ.BitString.fromOctetString(ac.signature)
    return v


def encode_access_control(ac: AccessControl) -> bytes:
    return der_encoder.encode(to_asn1(ac))


def signed_input(ac: AccessControl) -> bytes:
    v = to_asn1(ac)
    return b"".join(der_encoder.encode(v[name]) for name in _SIGNED if v[name].isValue)


def decode_access_control(data: bytes) -> AccessControl:
    if len(data) > MAX_ACCESS_CONTROL:
        raise ProtocolError("lnp", "access control too long")
    try:
        v, rest = ber_decoder.decode(data, asn1Spec=LnpAccessControl())
        if rest:
            raise ProtocolError("lnp", "trailing bytes after access control")
        return from_asn1(v)
    except (PyAsn1Error, ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as exc:
        raise ProtocolError("lnp", f"bad access control: {exc.__class__.__name__}") from None


def from_asn1(v: LnpAccessControl) -> AccessControl:
    sysid = v["systemId"]
    kind = sysid.getName()
    functions = set()
    func = v["function"]
    for group, unit, name in _UNITS:
        grp = func[group]
        if grp.isValue and grp[unit].isValue:
            functions.add(name)
    t = v["cmipDepartureTime"].asDateTime
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return AccessControl(
        system_id=str(sysid[kind]),
        npac=kind == "npac-sms",
        system_type=int(v["systemType"]),
        user_id=str(v["userId"]) if v["userId"].isValue else None,
        list_id=int(v["listId"]),
        key_id=int(v["keyId"]),
        departure_time=t,
        sequence=int(v["sequenceNumber"]),
        functions=frozenset(functions),
        recovery_mode=bool(v["recoveryMode"]),
        signature=v["signature"].asOctets(),
    )

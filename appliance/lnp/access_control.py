"""LnpAccessControl (IIS Exhibit 7; LNP-ASN1 seed L42470ff) as a plain record, and its wire form.

It rides on every request and notification, so it has a hand-written strict BER codec (pyasn1 took
~800 µs per message for encode + signed input); `to_asn1` keeps the pyasn1 form for cross-checks.

The signature covers systemId, systemType, userId (when present), cmipDepartureTime and
sequenceNumber, each as the complete TLV it has inside LnpAccessControl (context tag included),
concatenated in that order (DECISIONS.md "Secure associations"). On receipt the TLVs are taken as
they arrived, so a sender's choice of time format cannot break verification.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from appliance.osi import ber
from appliance.osi.errors import ProtocolError

LAYER = "lnp"
MAX_ACCESS_CONTROL = 4096
SEQ_MAX = 4294967295

# AssociationFunction units by our names (IIS Exhibit 8); SOA and LSMS both have networkDataMgmt.
SOA_UNITS = ("soa.soaMgmt", "soa.networkDataMgmt")  # SoaUnits [0], [1]
LSMS_UNITS = ("lsms.dataDownload", "lsms.networkDataMgmt", "lsms.query")  # LSMSUnits [0], [1], [2]


@dataclass(frozen=True, slots=True)
class AccessControl:
    system_id: str
    npac: bool  # SystemID: npac-sms [1] for the NPAC, serviceProvId [0] for a carrier
    system_type: int
    user_id: str | None
    list_id: int
    key_id: int
    departure_time: dt.datetime
    sequence: int
    functions: frozenset[str]
    recovery_mode: bool
    signature: bytes
    signed: bytes = field(default=b"", compare=False, repr=False)  # signed input as received


def _graphic(value: str, lo: int, hi: int, what: str) -> bytes:
    raw = value.encode("latin-1")
    if not lo <= len(raw) <= hi or not all(0x20 <= b <= 0x7E for b in raw):
        raise ValueError(f"{what} must be {lo}..{hi} graphic characters, got {value!r}")
    return raw


def _units(names: tuple[str, ...], functions: frozenset[str]) -> bytes:
    return ber.encode_tlv(0x30, b"".join(bytes((0x80 | i, 0)) for i, n in enumerate(names) if n in functions))


def signed_fields(ac: AccessControl) -> bytes:
    sysid = _graphic(ac.system_id, 1, 60 if ac.npac else 4, "systemId")
    out = [
        ber.encode_tlv(0xA0, ber.encode_tlv(0x81 if ac.npac else 0x80, sysid)),
        ber.encode_tlv(0x81, ber.encode_int(ac.system_type)),
    ]
    if ac.user_id is not None:
        out.append(ber.encode_tlv(0x82, _graphic(ac.user_id, 1, 60, "userId")))
    out.append(ber.encode_tlv(0x85, ber.encode_generalized_time(ac.departure_time)))
    if not 0 <= ac.sequence <= SEQ_MAX:
        raise ValueError(f"sequence number {ac.sequence} out of range")
    out.append(ber.encode_tlv(0x86, ber.encode_int(ac.sequence)))
    return b"".join(out)


def signed_input(ac: AccessControl) -> bytes:
    return ac.signed or signed_fields(ac)


def encode_access_control(ac: AccessControl, signed: bytes | None = None) -> bytes:
    """[0] IMPLICIT SEQUENCE; `signed` (the signed_fields TLVs) can be passed to avoid redoing them."""
    s = signed if signed is not None else signed_fields(ac)
    # signed fields are systemId..userId, then time and sequence, with listId/keyId between
    cut = s.index(b"\x85", _after_user(s))
    function = ber.encode_tlv(0xA7, _units(SOA_UNITS, ac.functions) + _units(LSMS_UNITS, ac.functions))
    content = b"".join((
        s[:cut],
        ber.encode_tlv(0x83, ber.encode_int(ac.list_id)),
        ber.encode_tlv(0x84, ber.encode_int(ac.key_id)),
        s[cut:],
        function,
        b"\x88\x01\xff" if ac.recovery_mode else b"\x88\x01\x00",
        ber.encode_tlv(0x89, b"\x00" + ac.signature),
    ))
    return ber.encode_tlv(0xA0, content)


def _after_user(s: bytes) -> int:
    """Offset just past systemId, systemType and userId in a signed-fields string."""
    pos = 0
    for _ in range(3):
        tag, _, _, nxt = ber.read_tlv(s, pos, len(s), LAYER)
        if tag == 0x85:
            return pos
        pos = nxt
    return pos


def _fail(message: str) -> ProtocolError:
    return ProtocolError(LAYER, f"LnpAccessControl: {message}")


def _text(buf: bytes, s: int, e: int, lo: int, hi: int, what: str) -> str:
    raw = buf[s:e]
    if not lo <= len(raw) <= hi or not all(0x20 <= b <= 0x7E for b in raw):
        raise _fail(f"{what} must be {lo}..{hi} graphic characters")
    return raw.decode("ascii")


def _unit_set(buf: bytes, s: int, e: int, names: tuple[str, ...], found: set[str]) -> None:
    last = -1
    for tag, cs, ce, _ in ber.children(buf, s, e, LAYER):
        n = tag - 0x80
        if not 0 <= n < len(names) or n <= last or cs != ce:
            raise _fail("bad association function unit")
        found.add(names[n])
        last = n


def decode_access_control(data: bytes) -> AccessControl:
    if len(data) > MAX_ACCESS_CONTROL:
        raise _fail("too long")
    tag, start, end = ber.single_tlv(data, LAYER)
    if tag != 0xA0:
        raise _fail(f"tag {tag:#x}, not [0]")
    fields = ber.children(data, start, end, LAYER)
    if [t for t, *_ in fields if t != 0x82] != [0xA0, 0x81, 0x83, 0x84, 0x85, 0x86, 0xA7, 0x88, 0x89]:
        raise _fail("components missing, repeated or out of order")
    by_tag = {t: (cs, ce, ts) for t, cs, ce, ts in fields}
    if len(fields) == 10 and fields[2][0] != 0x82 or len(fields) > 10:
        raise _fail("userId out of place")

    cs, ce, ts = by_tag[0xA0]
    inner = ber.children(data, cs, ce, LAYER)
    if len(inner) != 1 or inner[0][0] not in (0x80, 0x81):
        raise _fail("bad systemId")
    npac = inner[0][0] == 0x81
    system_id = _text(data, inner[0][1], inner[0][2], 1, 60 if npac else 4, "systemId")
    system_type = ber.read_int(data, *by_tag[0x81][:2], LAYER)
    if not 0 <= system_type <= 3:
        raise _fail(f"systemType {system_type}")
    user_id = _text(data, *by_tag[0x82][:2], 1, 60, "userId") if 0x82 in by_tag else None
    list_id = ber.read_int(data, *by_tag[0x83][:2], LAYER)
    key_id = ber.read_int(data, *by_tag[0x84][:2], LAYER)
    when = ber.decode_generalized_time(data, *by_tag[0x85][:2])
    seq = ber.read_int(data, *by_tag[0x86][:2], LAYER)
    if not 0 <= seq <= SEQ_MAX:
        raise _fail(f"sequenceNumber {seq} out of range")
    functions: set[str] = set()
    cs, ce, _ = by_tag[0xA7]
    groups = ber.children(data, cs, ce, LAYER)
    if [g[0] for g in groups] != [0x30, 0x30]:
        raise _fail("AssociationFunction needs soaUnits and lsmsUnits")
    _unit_set(data, groups[0][1], groups[0][2], SOA_UNITS, functions)
    _unit_set(data, groups[1][1], groups[1][2], LSMS_UNITS, functions)
    cs, ce, _ = by_tag[0x88]
    if ce - cs != 1:
        raise _fail("bad recoveryMode")
    recovery = data[cs] != 0
    cs, ce, _ = by_tag[0x89]
    if ce - cs < 2 or data[cs] != 0:
        raise _fail("signature must be whole octets")
    signature = data[cs + 1 : ce]
    # signed input: systemId..userId and time..sequence TLVs exactly as they arrived
    first_end = by_tag[0x83][2]
    signed = data[by_tag[0xA0][2] : first_end] + data[by_tag[0x85][2] : by_tag[0xA7][2]]
    return AccessControl(system_id, npac, system_type, user_id, list_id, key_id, when, seq,
                         frozenset(functions), recovery, signature, signed)


def to_asn1(ac: AccessControl):
    """The pyasn1 LnpAccessControl (the generated type from the module text), for cross-checks."""
    from pyasn1.codec.ber import decoder

    from .asn1 import LnpAccessControl

    value, rest = decoder.decode(encode_access_control(ac), asn1Spec=LnpAccessControl())
    if rest:
        raise ValueError("trailing octets")
    return value

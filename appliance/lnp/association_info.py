"""NpacAssociationInfo (IIS 5.3.1.1, seed L30239-30267): the NPAC's answer code on AARE/RLRE/ABRT.

    NpacAssociationInfo ::= SEQUENCE { errorCode [0] IMPLICIT ErrorCode,
                                       errorText [1] IMPLICIT GraphicString(SIZE(1..80)) }
    ErrorCode ::= ENUMERATED { success(0), access-denied(1), retry-same-host(2), try-other-host(3) }

It rides in CMIPUserInfo.userInfo (an EXTERNAL); the IIS names no object identifier for it, so the
LNP-ASN1 module's own OID serves as the direct-reference.
"""
from __future__ import annotations

from appliance.osi import ber
from appliance.osi.errors import ProtocolError

NPAC_ASSOCIATION_INFO_OID = "2.16.840.1.4.1"  # {lnp-net asn1(1)}: module LNP-ASN1
SUCCESS, ACCESS_DENIED, RETRY_SAME_HOST, TRY_OTHER_HOST = 0, 1, 2, 3
NAMES = {SUCCESS: "success", ACCESS_DENIED: "access-denied", RETRY_SAME_HOST: "retry-same-host",
         TRY_OTHER_HOST: "try-other-host"}


def encode_association_info(code: int, text: str = "") -> bytes:
    if code not in NAMES:
        raise ValueError(f"ErrorCode {code} is not defined")
    raw = (text or NAMES[code]).encode("ascii", "replace")[:80]
    return ber.encode_tlv(0x30, ber.encode_tlv(0x80, ber.encode_int(code)) + ber.encode_tlv(0x81, raw))


def decode_association_info(data: bytes) -> tuple[int, str]:
    tag, start, end = ber.single_tlv(data, "lnp")
    parts = ber.children(data, start, end, "lnp")
    if tag != 0x30 or not parts or parts[0][0] != 0x80 or len(parts) > 2 or (len(parts) == 2 and parts[1][0] != 0x81):
        raise ProtocolError("lnp", "malformed NpacAssociationInfo")
    code = ber.read_int(data, parts[0][1], parts[0][2], "lnp")
    text = data[parts[1][1]:parts[1][2]].decode("latin-1") if len(parts) == 2 else ""
    return code, text

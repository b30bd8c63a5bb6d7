"""ISO 8327-1 / X.225 SPDUs of the kernel and duplex functional units: dataclasses and codec.

Codes are those of X.225 §8 and of Wireshark's packet-ses.h ("README" below is the session table
at the end of shared/asn1/README.md). Parsing is tolerant about order and unknown parameters and
strict about lengths: every length must fit inside its container. `session` re-exports all of
this next to `SessionConnection`.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import ProtocolError

LAYER = "session"

# SPDU identifiers (§8.3). GIVE TOKENS and DATA TRANSFER share 1: the first SPDU of a
# TSDU is category 0 (GT), the one after it category 2 (DT).
SI_GT = 1
SI_DT = 1
SI_FN = 9
SI_DN = 10
SI_RF = 12
SI_CN = 13
SI_AC = 14
SI_AB = 25
SI_AA = 26

# Parameter (group) identifiers (§8.3).
PGI_CONNECTION_ID = 1
PGI_CONNECT_ACCEPT = 5
PI_TRANSPORT_DISCONNECT = 17
PI_PROTOCOL_OPTIONS = 19
PI_USER_REQUIREMENTS = 20
PI_TSDU_MAX = 21
PI_VERSION = 22
PI_ENCLOSURE = 25
PI_REASON = 50
PI_CALLING_SSEL = 51
PI_CALLED_SSEL = 52  # "Responding Session Selector" in AC
PI_DATA_OVERFLOW = 60
PGI_USER_DATA = 193
PGI_EXTENDED_USER_DATA = 194

VERSION_1 = 0x01
VERSION_2 = 0x02
SUPPORTED_VERSIONS = VERSION_1 | VERSION_2

DUPLEX = 0x0002  # session user requirements: duplex functional unit
ENCLOSURE_END = 0x02  # enclosure item: end of SSDU

# Transport Disconnect PI bits (README, AB).
TD_RELEASE = 0x01
TD_USER_ABORT = 0x02
TD_PROTOCOL_ERROR = 0x04
TD_NO_REASON = 0x08
TD_IMPLEMENTATION_RESTRICTION = 0x10

# Refuse reason codes (README, RF).
RF_REJECTED = 0
RF_CONGESTION = 1
RF_REJECTED_WITH_DATA = 2
RF_SSEL_UNKNOWN = 129
RF_NOT_ATTACHED = 130
RF_SPM_CONGESTION = 131
RF_VERSION_NOT_SUPPORTED = 132
RF_SPM_NOT_SPECIFIED = 133
RF_IMPLEMENTATION_RESTRICTION = 134

# User data limits: CN's User Data 512, Extended User Data 10240 (v2 only); in version 1 the
# other SPDUs carry at most 512, AB at most 9.
CN_USER_DATA_MAX = 512
CN_EXTENDED_USER_DATA_MAX = 10240
V1_USER_DATA_MAX = 512
V1_ABORT_USER_DATA_MAX = 9
SSEL_MAX = 16
_LI_MAX = 0xFFFF

# Parameters whose length the standard fixes; any other length is malformed.
_FIXED_LEN = {
    PI_TRANSPORT_DISCONNECT: 1,
    PI_PROTOCOL_OPTIONS: 1,
    PI_USER_REQUIREMENTS: 2,
    PI_TSDU_MAX: 4,
    PI_VERSION: 1,
    PI_ENCLOSURE: 1,
    PI_DATA_OVERFLOW: 1,
}

# The TSDU `send` produces: GT and DT without parameters, then the user information (README, DT).
DATA_HEADER = b"\x01\x00\x01\x00"


# ---------------------------------------------------------------------------------------------
# SPDUs


@dataclass(frozen=True, slots=True)
class CN:
    """CONNECT. `version` is the set of proposed versions (bit mask)."""

    user_data: bytes = b""
    calling_ssel: bytes = b""
    called_ssel: bytes = b""
    version: int = SUPPORTED_VERSIONS
    protocol_options: int = 0
    user_requirements: int | None = DUPLEX  # None: PI 20 absent (the X.225 default set)
    tsdu_max: int | None = None
    connection_id: bytes = b""  # PGI 1 contents, kept as they came
    data_overflow: int | None = None


@dataclass(frozen=True, slots=True)
class AC:
    """ACCEPT. `version` is the selected version."""

    user_data: bytes = b""
    calling_ssel: bytes = b""
    responding_ssel: bytes = b""
    version: int = VERSION_2
    protocol_options: int = 0
    user_requirements: int | None = DUPLEX
    tsdu_max: int | None = None
    connection_id: bytes = b""


@dataclass(frozen=True, slots=True)
class RF:
    """REFUSE; the user data rides in the Reason Code parameter after the reason."""

    reason: int = RF_REJECTED
    user_data: bytes = b""
    transport_disconnect: int | None = TD_RELEASE
    user_requirements: int | None = None
    version: int | None = None
    connection_id: bytes = b""


@dataclass(frozen=True, slots=True)
class FN:
    """FINISH."""

    user_data: bytes = b""
    transport_disconnect: int | None = TD_RELEASE


@dataclass(frozen=True, slots=True)
class DN:
    """DISCONNECT."""

    user_data: bytes = b""


@dataclass(frozen=True, slots=True)
class AB:
    """ABORT."""

    user_data: bytes = b""
    transport_disconnect: int | None = TD_RELEASE | TD_USER_ABORT


@dataclass(frozen=True, slots=True)
class AA:
    """ABORT ACCEPT."""


@dataclass(frozen=True, slots=True)
class GT:
    """GIVE TOKENS, here only as the category 0 SPDU in front of a DT."""


@dataclass(frozen=True, slots=True)
class DT:
    """DATA TRANSFER; the user information follows the parameters, outside the LI."""

    user_data: bytes = b""
    enclosure: int | None = None


SPDU = CN | AC | RF | FN | DN | AB | AA | GT | DT


# ---------------------------------------------------------------------------------------------
# Encoding


def _li(n: int) -> bytes:
    # §8.2: one octet up to 254, else 0xFF and two octets.
    if n < 255:
        return bytes((n,))
    if n <= _LI_MAX:
        return b"\xff" + n.to_bytes(2, "big")
    raise ValueError(f"{n} octets exceed a session length indicator")


def _p(code: int, value: bytes) -> bytes:
    return bytes((code,)) + _li(len(value)) + value


def _opt(code: int, value: int | None, size: int) -> bytes:
    return b"" if value is None else _p(code, value.to_bytes(size, "big"))


def _ssel(code: int, ssel: bytes) -> bytes:
    if len(ssel) > SSEL_MAX:
        raise ValueError(f"session selector of {len(ssel)} octets (max {SSEL_MAX})")
    return _p(code, ssel) if ssel else b""


def _user_data(data: bytes) -> bytes:
    return _p(PGI_USER_DATA, data) if data else b""


def _connect_accept_item(options: int, tsdu_max: int | None, version: int) -> bytes:
    inner = (
        _p(PI_PROTOCOL_OPTIONS, bytes((options,)))
        + _opt(PI_TSDU_MAX, tsdu_max, 4)
        + _p(PI_VERSION, bytes((version,)))
    )
    return _p(PGI_CONNECT_ACCEPT, inner)


def _encode_cn(s: CN) -> bytes:
    if len(s.user_data) <= CN_USER_DATA_MAX:
        ud = _user_data(s.user_data)
    elif len(s.user_data) <= CN_EXTENDED_USER_DATA_MAX and s.version & VERSION_2:
        ud = _p(PGI_EXTENDED_USER_DATA, s.user_data)
    else:
        raise ValueError(f"CN user data of {len(s.user_data)} octets does not fit")
    return (
        (_p(PGI_CONNECTION_ID, s.connection_id) if s.connection_id else b"")
        + _connect_accept_item(s.protocol_options, s.tsdu_max, s.version)
        + _opt(PI_USER_REQUIREMENTS, s.user_requirements, 2)
        + _ssel(PI_CALLING_SSEL, s.calling_ssel)
        + _ssel(PI_CALLED_SSEL, s.called_ssel)
        + _opt(PI_DATA_OVERFLOW, s.data_overflow, 1)
        + ud
    )


def _encode_ac(s: AC) -> bytes:
    return (
        (_p(PGI_CONNECTION_ID, s.connection_id) if s.connection_id else b"")
        + _connect_accept_item(s.protocol_options, s.tsdu_max, s.version)
        + _opt(PI_USER_REQUIREMENTS, s.user_requirements, 2)
        + _ssel(PI_CALLING_SSEL, s.calling_ssel)
        + _ssel(PI_CALLED_SSEL, s.responding_ssel)
        + _user_data(s.user_data)
    )


def _encode_rf(s: RF) -> bytes:
    return (
        (_p(PGI_CONNECTION_ID, s.connection_id) if s.connection_id else b"")
        + _opt(PI_TRANSPORT_DISCONNECT, s.transport_disconnect, 1)
        + _opt(PI_USER_REQUIREMENTS, s.user_requirements, 2)
        + _opt(PI_VERSION, s.version, 1)
        + _p(PI_REASON, bytes((s.reason,)) + s.user_data)
    )


def encode_spdu(spdu: SPDU) -> bytes:
    """One SPDU. A DT must follow a GT in its TSDU (see `encode_spdus`, `DATA_HEADER`)."""
    match spdu:
        case DT(user_data=data, enclosure=enclosure):
            params = _opt(PI_ENCLOSURE, enclosure, 1)
            return bytes((SI_DT,)) + _li(len(params)) + params + data
        case GT():
            return b"\x01\x00"
        case CN():
            si, params = SI_CN, _encode_cn(spdu)
        case AC():
            si, params = SI_AC, _encode_ac(spdu)
        case RF():
            si, params = SI_RF, _encode_rf(spdu)
        case FN():
            si, params = SI_FN, _opt(PI_TRANSPORT_DISCONNECT, spdu.transport_disconnect, 1) + _user_data(
                spdu.user_data
            )
        case DN():
            si, params = SI_DN, _user_data(spdu.user_data)
        case AB():
            si, params = SI_AB, _opt(PI_TRANSPORT_DISCONNECT, spdu.transport_disconnect, 1) + _user_data(
                spdu.user_data
            )
        case AA():
            si, params = SI_AA, b""
        case _:
            raise TypeError(f"not an SPDU: {spdu!r}")
    return bytes((si,)) + _li(len(params)) + params


def encode_spdus(spdus: Iterable[SPDU]) -> bytes:
    """Concatenated SPDUs in one TSDU."""
    return b"".join(encode_spdu(s) for s in spdus)


# ---------------------------------------------------------------------------------------------
# Decoding


def _read_li(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(length, position after the LI); the 3-octet form is accepted for any length."""
    if pos >= end:
        raise ProtocolError(LAYER, "length indicator missing")
    n = data[pos]
    if n != 0xFF:
        return n, pos + 1
    if end - pos < 3:
        raise ProtocolError(LAYER, "truncated 3-octet length indicator")
    return (data[pos + 1] << 8) | data[pos + 2], pos + 3


def _parameters(data: bytes, pos: int, end: int, nested: bool = False) -> dict[int, bytes]:
    """The parameters in data[pos:end] as code -> value, PGI 5's members lifted to the top.

    Order is free and unknown codes are kept but never interpreted; a repeated code keeps its
    last value. Inside a PGI (`nested`) no further groups are opened, which bounds recursion.
    """
    params: dict[int, bytes] = {}
    while pos < end:
        code = data[pos]
        n, pos = _read_li(data, pos + 1, end)
        if n > end - pos:
            raise ProtocolError(LAYER, f"parameter {code} of {n} octets overruns its container")
        value = data[pos : pos + n]
        size = _FIXED_LEN.get(code)
        if size is not None and n != size:
            raise ProtocolError(LAYER, f"parameter {code} has {n} octets, not {size}")
        if (code == PI_CALLING_SSEL or code == PI_CALLED_SSEL) and n > SSEL_MAX:
            raise ProtocolError(LAYER, f"session selector of {n} octets (max {SSEL_MAX})")
        if not nested and code == PGI_CONNECT_ACCEPT:
            params.update(_parameters(data, pos, pos + n, nested=True))
        elif not nested and code == PGI_CONNECTION_ID:
            _parameters(data, pos, pos + n, nested=True)  # checked for fit, kept whole
            params[code] = value
        else:
            params[code] = value
        pos += n
    return params


def _int(params: dict[int, bytes], code: int) -> int | None:
    value = params.get(code)
    return None if value is None else int.from_bytes(value, "big")


def _decode_user_data(params: dict[int, bytes]) -> bytes:
    ud = params.get(PGI_USER_DATA)
    ext = params.get(PGI_EXTENDED_USER_DATA)
    if ud is not None and ext is not None:
        raise ProtocolError(LAYER, "both User Data and Extended User Data present")
    return ud if ud is not None else ext if ext is not None else b""


def _decode_cn(p: dict[int, bytes]) -> CN:
    version = _int(p, PI_VERSION)
    version = VERSION_1 if version is None else version  # absent means version 1
    ud = p.get(PGI_USER_DATA)
    if ud is not None and len(ud) > CN_USER_DATA_MAX:
        raise ProtocolError(LAYER, f"CN User Data of {len(ud)} octets (max {CN_USER_DATA_MAX})")
    ext = p.get(PGI_EXTENDED_USER_DATA)
    if ext is not None:
        if not version & VERSION_2:
            raise ProtocolError(LAYER, "Extended User Data in a CN that does not propose version 2")
        if len(ext) > CN_EXTENDED_USER_DATA_MAX:
            raise ProtocolError(LAYER, f"CN Extended User Data of {len(ext)} octets")
    return CN(
        user_data=_decode_user_data(p),
        calling_ssel=p.get(PI_CALLING_SSEL, b""),
        called_ssel=p.get(PI_CALLED_SSEL, b""),
        version=version,
        protocol_options=_int(p, PI_PROTOCOL_OPTIONS) or 0,
        user_requirements=_int(p, PI_USER_REQUIREMENTS),
        tsdu_max=_int(p, PI_TSDU_MAX),
        connection_id=p.get(PGI_CONNECTION_ID, b""),
        data_overflow=_int(p, PI_DATA_OVERFLOW),
    )


def _decode_ac(p: dict[int, bytes]) -> AC:
    version = _int(p, PI_VERSION)
    return AC(
        user_data=_decode_user_data(p),
        calling_ssel=p.get(PI_CALLING_SSEL, b""),
        responding_ssel=p.get(PI_CALLED_SSEL, b""),
        version=VERSION_1 if version is None else version,
        protocol_options=_int(p, PI_PROTOCOL_OPTIONS) or 0,
        user_requirements=_int(p, PI_USER_REQUIREMENTS),
        tsdu_max=_int(p, PI_TSDU_MAX),
        connection_id=p.get(PGI_CONNECTION_ID, b""),
    )


def _decode_rf(p: dict[int, bytes]) -> RF:
    reason = p.get(PI_REASON)
    if not reason:
        raise ProtocolError(LAYER, "RF without a reason code")
    return RF(
        reason=reason[0],
        user_data=reason[1:],
        transport_disconnect=_int(p, PI_TRANSPORT_DISCONNECT),
        user_requirements=_int(p, PI_USER_REQUIREMENTS),
        version=_int(p, PI_VERSION),
        connection_id=p.get(PGI_CONNECTION_ID, b""),
    )


_DECODERS: dict[int, Callable[[dict[int, bytes]], SPDU]] = {
    SI_CN: _decode_cn,
    SI_AC: _decode_ac,
    SI_RF: _decode_rf,
    SI_FN: lambda p: FN(_decode_user_data(p), _int(p, PI_TRANSPORT_DISCONNECT)),
    SI_DN: lambda p: DN(_decode_user_data(p)),
    SI_AB: lambda p: AB(_decode_user_data(p), _int(p, PI_TRANSPORT_DISCONNECT)),
    SI_AA: lambda p: AA(),
}


def decode_spdus(tsdu: bytes) -> list[SPDU]:
    """The SPDUs of one TSDU: a single category 1 SPDU, a lone GT, or GT followed by DT.

    Extended concatenation is refused: this end never offers it (Protocol Options = 0).
    """
    end = len(tsdu)
    if end == 0:
        raise ProtocolError(LAYER, "empty TSDU")
    si = tsdu[0]
    n, pos = _read_li(tsdu, 1, end)
    if n > end - pos:
        raise ProtocolError(LAYER, f"SPDU {si} of {n} octets overruns a {end}-octet TSDU")
    body_end = pos + n
    params = _parameters(tsdu, pos, body_end)
    if si == SI_GT:
        if body_end == end:
            return [GT()]
        # Basic concatenation: the category 0 SPDU is followed by one category 2 SPDU.
        if tsdu[body_end] != SI_DT:
            raise ProtocolError(LAYER, f"SPDU {tsdu[body_end]} after GT is not a DT")
        n, pos = _read_li(tsdu, body_end + 1, end)
        if n > end - pos:
            raise ProtocolError(LAYER, f"DT parameters of {n} octets overrun the TSDU")
        dt_params = _parameters(tsdu, pos, pos + n)
        return [GT(), DT(tsdu[pos + n :], _int(dt_params, PI_ENCLOSURE))]
    decoder = _DECODERS.get(si)
    if decoder is None:
        raise ProtocolError(LAYER, f"SPDU type {si} is outside the kernel and duplex units")
    if body_end != end:
        raise ProtocolError(LAYER, f"{end - body_end} octets after SPDU {si}")
    return [decoder(params)]

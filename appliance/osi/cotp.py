"""ISO 8073 / X.224 class 0 transport over RFC 1006: the TPDUs and the connection machine.

Class 0 has no flow control, no expedited data and no disconnect handshake: CR/CC opens, DT carries
TSDUs cut into TPDUs of the negotiated size, DR refuses a CR, ER reports a bad TPDU, and the
connection ends when TCP closes. §13.x below are the TPDU clauses of ISO 8073 / X.224 (1995);
"README" is the transport table at the end of shared/asn1/README.md.
"""
import secrets
from dataclasses import dataclass

from . import tpkt
from .errors import ProtocolError

LAYER = "cotp"

# TPDU codes (§13.1): the high nibble; CR and CC carry CDT in the low nibble.
CR_CODE = 0xE0
CC_CODE = 0xD0
DT_CODE = 0xF0
DR_CODE = 0x80
ER_CODE = 0x70

# Variable-part parameter codes (§13.3, §13.5, §13.12).
P_TPDU_SIZE = 0xC0
P_CALLING_TSAP = 0xC1
P_CALLED_TSAP = 0xC2
P_INVALID_TPDU = 0xC1  # ER only
P_ADDITIONAL_INFO = 0xE0  # DR only

EOT = 0x80

# TPDU size parameter: code n means 2**n octets, header included (§13.3). 128..8192 are defined;
# class 0 uses at most 2048 (README), which negotiation enforces rather than the decoder, so a peer
# that offers more than class 0 allows is still answered with a legal size.
SIZE_CODES = {1 << n: n for n in range(7, 14)}
CLASS0_SIZES = (128, 256, 512, 1024, 2048)
DEFAULT_TPDU_SIZE = 128

# DR reasons (§13.5) and ER reject causes (§13.12).
DR_NOT_SPECIFIED = 0
DR_CONGESTION = 1
DR_SESSION_NOT_ATTACHED = 2
DR_ADDRESS_UNKNOWN = 3
ER_NOT_SPECIFIED = 0
ER_INVALID_PARAMETER_CODE = 1
ER_INVALID_TPDU_TYPE = 2
ER_INVALID_PARAMETER_VALUE = 3

# DT header in class 0 (§13.7, normal format without DST-REF): LI = 2, code, EOT/TPDU-NR.
_DT_LAST = b"\x02\xf0\x80"
_DT_MORE = b"\x02\xf0\x00"
_DT_HEADER_LEN = 3


# ---------------------------------------------------------------------------------------------
# TPDUs


@dataclass(frozen=True, slots=True)
class CR:
    """Connection Request (§13.3): `LI E0 0000 SRC-REF class/options variable-part`."""

    src_ref: int
    dst_ref: int = 0
    class_options: int = 0
    calling_tsap: bytes = b""
    called_tsap: bytes = b""
    tpdu_size: int | None = None  # None: parameter absent, meaning 128
    cdt: int = 0


@dataclass(frozen=True, slots=True)
class CC:
    """Connection Confirm (§13.4): as CR with DST-REF = the CR's SRC-REF."""

    dst_ref: int
    src_ref: int
    class_options: int = 0
    calling_tsap: bytes = b""
    called_tsap: bytes = b""
    tpdu_size: int | None = None
    cdt: int = 0


@dataclass(frozen=True, slots=True)
class DT:
    """Data (§13.7), class 0 format: `02 F0 EOT` then user data."""

    data: bytes
    eot: bool = True


@dataclass(frozen=True, slots=True)
class DR:
    """Disconnect Request (§13.5): `LI 80 DST-REF SRC-REF reason`; in class 0 only refuses a CR."""

    dst_ref: int
    src_ref: int
    reason: int = DR_NOT_SPECIFIED
    additional_info: bytes = b""


@dataclass(frozen=True, slots=True)
class ER:
    """TPDU Error (§13.12): `LI 70 DST-REF cause` with the offending header in parameter C1."""

    dst_ref: int
    cause: int = ER_NOT_SPECIFIED
    invalid_tpdu: bytes = b""


TPDU = CR | CC | DT | DR | ER


# ---------------------------------------------------------------------------------------------
# Codec


def _param(code: int, value: bytes) -> bytes:
    if len(value) > 255:
        raise ValueError(f"parameter {code:#x} of {len(value)} octets is too long")
    return bytes((code, len(value))) + value


def _finish(fixed: bytes, variable: bytes) -> bytes:
    header = fixed + variable
    # LI counts the header without itself; 255 is reserved (§13.2).
    if len(header) > 254:
        raise ValueError(f"TPDU header of {len(header)} octets is too long")
    return bytes((len(header),)) + header


def _connect_variable(calling: bytes, called: bytes, tpdu_size: int | None) -> bytes:
    parts = []
    if tpdu_size is not None:
        code = SIZE_CODES.get(tpdu_size)
        if code is None:
            raise ValueError(f"TPDU size {tpdu_size} is not a power of two in 128..8192")
        parts.append(bytes((P_TPDU_SIZE, 1, code)))
    if calling:
        parts.append(_param(P_CALLING_TSAP, calling))
    if called:
        parts.append(_param(P_CALLED_TSAP, called))
    return b"".join(parts)


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def encode_tpdu(tpdu: TPDU) -> bytes:
    """The TPDU's octets (without the TPKT header)."""
    match tpdu:
        case DT(data=data, eot=eot):
            return (_DT_LAST if eot else _DT_MORE) + data
        case CR() | CC():
            code = (CR_CODE if isinstance(tpdu, CR) else CC_CODE) | (tpdu.cdt & 0x0F)
            fixed = bytes((code,)) + _u16(tpdu.dst_ref) + _u16(tpdu.src_ref) + bytes((tpdu.class_options,))
            return _finish(fixed, _connect_variable(tpdu.calling_tsap, tpdu.called_tsap, tpdu.tpdu_size))
        case DR():
            fixed = bytes((DR_CODE,)) + _u16(tpdu.dst_ref) + _u16(tpdu.src_ref) + bytes((tpdu.reason,))
            extra = _param(P_ADDITIONAL_INFO, tpdu.additional_info) if tpdu.additional_info else b""
            return _finish(fixed, extra)
        case ER():
            fixed = bytes((ER_CODE,)) + _u16(tpdu.dst_ref) + bytes((tpdu.cause,))
            extra = _param(P_INVALID_TPDU, tpdu.invalid_tpdu) if tpdu.invalid_tpdu else b""
            return _finish(fixed, extra)
    raise TypeError(f"not a TPDU: {tpdu!r}")


def _parameters(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """The variable part (§13.2) as code -> value; every parameter must end inside the header."""
    params: dict[int, bytes] = {}
    pos = start
    while pos < end:
        if end - pos < 2:
            raise ProtocolError(LAYER, "truncated parameter in variable part")
        code, n = data[pos], data[pos + 1]
        pos += 2
        if n > end - pos:
            raise ProtocolError(LAYER, f"parameter {code:#x} of {n} octets overruns the header")
        # Unknown parameters are ignored (§13.2); a repeated one keeps its last value.
        params[code] = data[pos : pos + n]
        pos += n
    return params


def _tpdu_size(params: dict[int, bytes]) -> int | None:
    value = params.get(P_TPDU_SIZE)
    if value is None:
        return None
    if len(value) != 1 or not 7 <= value[0] <= 13:
        raise ProtocolError(LAYER, f"invalid TPDU size parameter {value.hex()}")
    return 1 << value[0]


def decode_tpdu(data: bytes) -> TPDU:
    """One TPDU (a TPKT payload). Class 0 TPDUs only; anything else raises ProtocolError."""
    if len(data) < 2:
        raise ProtocolError(LAYER, "TPDU shorter than 2 octets")
    li = data[0]
    if li == 255 or li + 1 > len(data):
        raise ProtocolError(LAYER, f"length indicator {li} does not fit a {len(data)}-octet TPDU")
    code = data[1]
    end = li + 1
    kind = code & 0xF0
    if code == DT_CODE:
        # Class 0 DT has no DST-REF and no variable part (§13.7).
        if li != 2:
            raise ProtocolError(LAYER, f"class 0 DT with length indicator {li}")
        return DT(data[3:], bool(data[2] & EOT))
    if kind in (CR_CODE, CC_CODE):
        if li < 6:
            raise ProtocolError(LAYER, f"CR/CC header of {li} octets is too short")
        params = _parameters(data, 7, end)
        fields = dict(
            dst_ref=int.from_bytes(data[2:4], "big"),
            src_ref=int.from_bytes(data[4:6], "big"),
            class_options=data[6],
            calling_tsap=params.get(P_CALLING_TSAP, b""),
            called_tsap=params.get(P_CALLED_TSAP, b""),
            tpdu_size=_tpdu_size(params),
            cdt=code & 0x0F,
        )
        # Octets after the header would be user data, which class 0 never carries; ignored.
        return CR(**fields) if kind == CR_CODE else CC(**fields)
    if code == DR_CODE:
        if li < 6:
            raise ProtocolError(LAYER, f"DR header of {li} octets is too short")
        params = _parameters(data, 7, end)
        return DR(
            int.from_bytes(data[2:4], "big"),
            int.from_bytes(data[4:6], "big"),
            data[6],
            params.get(P_ADDITIONAL_INFO, b""),
        )
    if code == ER_CODE:
        if li < 4:
            raise ProtocolError(LAYER, f"ER header of {li} octets is too short")
        params = _parameters(data, 5, end)
        return ER(int.from_bytes(data[2:4], "big"), data[4], params.get(P_INVALID_TPDU, b""))
    raise ProtocolError(LAYER, f"TPDU code {code:#04x} is not used in class 0")


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class TConnectRequest:
    """A CR arrived (responder); `tpdu_size` is the size the peer offered (128 if absent)."""

    calling_tsap: bytes
    called_tsap: bytes
    tpdu_size: int


@dataclass(frozen=True, slots=True)
class TConnected:
    """The CC arrived (initiator); `tpdu_size` is the negotiated size."""

    tpdu_size: int


@dataclass(frozen=True, slots=True)
class TData:
    """One whole TSDU, reassembled from its DTs."""

    tsdu: bytes


@dataclass(frozen=True, slots=True)
class TDisconnected:
    """DR or ER received: `reason` is the DR reason or the ER reject cause (`error` set)."""

    reason: int
    error: bool = False


TEvent = TConnectRequest | TConnected | TData | TDisconnected


# ---------------------------------------------------------------------------------------------
# Connection

IDLE = "idle"  # initiator before connect(), responder before the CR
WAIT_CC = "wait-cc"
WAIT_ACCEPT = "wait-accept"  # responder: CR received, accept()/refuse() not yet called
OPEN = "open"
CLOSED = "closed"


class TransportConnection:
    """One class 0 transport connection over one TCP connection (sans-I/O).

    Every method that produces octets returns them TPKT-framed, ready for the socket.
    """

    __slots__ = (
        "initiator", "local_tsap", "remote_tsap", "max_tpdu_size", "max_tsdu", "tpdu_size", "state",
        "local_ref", "remote_ref", "_offered", "_called_tsap", "_reader", "_segments", "_pending",
    )  # fmt: skip

    def __init__(
        self,
        initiator: bool,
        local_tsap: bytes = b"",
        remote_tsap: bytes = b"",
        max_tpdu_size: int = 2048,
        max_tsdu: int = 1 << 20,
        *,
        local_ref: int | None = None,
    ):
        if max_tpdu_size not in CLASS0_SIZES:
            raise ValueError(f"class 0 TPDU size must be one of {CLASS0_SIZES}")
        if max_tsdu < 1:
            raise ValueError("max_tsdu must be positive")
        self.initiator = initiator
        self.local_tsap = local_tsap
        self.remote_tsap = remote_tsap
        self.max_tpdu_size = max_tpdu_size
        self.max_tsdu = max_tsdu
        self.tpdu_size = DEFAULT_TPDU_SIZE
        self.state = IDLE
        # 0 is avoided: some stacks read a zero SRC-REF in a CC as "no reference".
        self.local_ref = local_ref if local_ref is not None else 1 + secrets.randbelow(0xFFFF)
        self.remote_ref = 0
        self._offered = DEFAULT_TPDU_SIZE
        self._called_tsap = b""
        # A peer may send DTs larger than the negotiated size (stacks differ on whether the size
        # counts the header), so the reader admits any TPKT; max_tsdu bounds reassembly.
        self._reader = tpkt.TpktReader()
        self._segments: list[bytes] = []
        self._pending = 0

    # -- primitives -----------------------------------------------------------------------------

    def connect(self) -> bytes:
        """T-CONNECT request: the CR offering `max_tpdu_size`."""
        self._expect(self.initiator and self.state == IDLE, "connect")
        self.state = WAIT_CC
        cr = CR(self.local_ref, 0, 0, self.local_tsap, self.remote_tsap, self.max_tpdu_size)
        return tpkt.encode(encode_tpdu(cr))

    def accept(self) -> bytes:
        """T-CONNECT response: the CC with TPDU size min(offered, ours); a responder may only lower it."""
        self._expect(not self.initiator and self.state == WAIT_ACCEPT, "accept")
        self.tpdu_size = min(self._offered, self.max_tpdu_size)
        self.state = OPEN
        # The size is always stated, even at 128, so the peer need not rely on the default.
        cc = CC(self.remote_ref, self.local_ref, 0, self.remote_tsap, self._called_tsap, self.tpdu_size)
        return tpkt.encode(encode_tpdu(cc))

    def refuse(self, reason: int = DR_NOT_SPECIFIED) -> bytes:
        """Refuse the CR with a DR (class 0 has no other use for DR); the caller then closes TCP."""
        self._expect(not self.initiator and self.state == WAIT_ACCEPT, "refuse")
        self.state = CLOSED
        return tpkt.encode(encode_tpdu(DR(self.remote_ref, self.local_ref, reason)))

    def send(self, tsdu: bytes) -> bytes:
        """T-DATA request: the TSDU in DTs of the negotiated size (header included), EOT on the last."""
        self._expect(self.state == OPEN, "send")
        room = self.tpdu_size - _DT_HEADER_LEN
        n = len(tsdu)
        if n <= room:
            return b"\x03\x00" + (n + 7).to_bytes(2, "big") + _DT_LAST + tsdu
        full_header = b"\x03\x00" + (room + 7).to_bytes(2, "big") + _DT_MORE
        parts = []
        last = (n - 1) // room * room
        for i in range(0, last, room):
            parts.append(full_header)
            parts.append(tsdu[i : i + room])
        tail = tsdu[last:]
        parts.append(b"\x03\x00" + (len(tail) + 7).to_bytes(2, "big") + _DT_LAST)
        parts.append(tail)
        return b"".join(parts)

    # -- peer octets -----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[TEvent]:
        """Events for the TCP octets `data`; bad or unexpected TPDUs raise ProtocolError."""
        events: list[TEvent] = []
        for payload in self._reader.feed(data):
            # Fast path for the data phase: a class 0 DT needs no decoding beyond its third octet.
            if payload[1] == DT_CODE and payload[0] == 2 and self.state == OPEN:
                self._on_dt(payload, events)
            else:
                self._on_tpdu(decode_tpdu(payload), events)
        return events

    def _on_dt(self, payload: bytes, events: list[TEvent]) -> None:
        size = len(payload) - _DT_HEADER_LEN
        if self._pending + size > self.max_tsdu:
            raise ProtocolError(LAYER, f"TSDU exceeds the limit of {self.max_tsdu} octets")
        if payload[2] & EOT:
            if self._segments:
                self._segments.append(payload[3:])
                events.append(TData(b"".join(self._segments)))
                self._segments.clear()
                self._pending = 0
            else:
                events.append(TData(payload[3:]))
        else:
            self._segments.append(payload[3:])
            self._pending += size

    def _on_tpdu(self, tpdu: TPDU, events: list[TEvent]) -> None:
        state = self.state
        match tpdu:
            case CR() if not self.initiator and state == IDLE:
                # Whatever class the CR prefers, the CC answers class 0, the only class spoken
                # here (the responder may pick a lower class than preferred); a peer that cannot fall back
                # closes the connection itself.
                self.remote_ref = tpdu.src_ref
                self._offered = tpdu.tpdu_size or DEFAULT_TPDU_SIZE
                self._called_tsap = tpdu.called_tsap
                self.remote_tsap = tpdu.calling_tsap
                self.state = WAIT_ACCEPT
                events.append(TConnectRequest(tpdu.calling_tsap, tpdu.called_tsap, self._offered))
            case CC() if state == WAIT_CC:
                if tpdu.class_options >> 4 != 0:
                    raise ProtocolError(LAYER, f"CC selects class {tpdu.class_options >> 4}, not 0")
                if tpdu.dst_ref != self.local_ref:
                    raise ProtocolError(LAYER, f"CC for reference {tpdu.dst_ref}, not {self.local_ref}")
                size = tpdu.tpdu_size or DEFAULT_TPDU_SIZE
                if size > self.max_tpdu_size:
                    raise ProtocolError(LAYER, f"CC raises the TPDU size to {size}")
                self.tpdu_size = size
                self.remote_ref = tpdu.src_ref
                self.state = OPEN
                events.append(TConnected(size))
            case DR() if state in (WAIT_CC, OPEN):
                # Class 0 sends DR only to refuse a CR, but a DR during data transfer can only
                # mean the peer is gone, so it is reported the same way.
                self.state = CLOSED
                events.append(TDisconnected(tpdu.reason))
            case ER() if state in (WAIT_CC, WAIT_ACCEPT, OPEN):
                self.state = CLOSED
                events.append(TDisconnected(tpdu.cause, error=True))
            case _:
                raise ProtocolError(LAYER, f"{type(tpdu).__name__} not expected in state {state}")

    def _expect(self, allowed: bool, primitive: str) -> None:
        if not allowed:
            role = "initiator" if self.initiator else "responder"
            raise ProtocolError(LAYER, f"{primitive} not allowed for the {role} in state {self.state}")

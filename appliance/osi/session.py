"""ISO 8327-1 / X.225 session protocol, kernel and duplex functional units: `SessionConnection`.

CMIP needs no tokens, no synchronisation and no negotiated release, so a connection is CN/AC (or
RF), data as GT+DT, FN answered by DN, and AB to give up. The SPDUs and their codec live in
`session_spdu` and are re-exported here.
"""
from dataclasses import dataclass

from .errors import ProtocolError
from .session_spdu import (  # noqa: F401  (re-exported: the SPDUs and codec of this layer)
    AA, AB, AC, CN, CN_EXTENDED_USER_DATA_MAX, CN_USER_DATA_MAX, DATA_HEADER, DN, DT, DUPLEX,
    ENCLOSURE_END, FN, GT, LAYER, PGI_CONNECT_ACCEPT, PGI_CONNECTION_ID, PGI_EXTENDED_USER_DATA,
    PGI_USER_DATA, PI_CALLED_SSEL, PI_CALLING_SSEL, PI_DATA_OVERFLOW, PI_ENCLOSURE,
    PI_PROTOCOL_OPTIONS, PI_REASON, PI_TRANSPORT_DISCONNECT, PI_TSDU_MAX, PI_USER_REQUIREMENTS,
    PI_VERSION, RF, RF_CONGESTION, RF_IMPLEMENTATION_RESTRICTION, RF_NOT_ATTACHED, RF_REJECTED,
    RF_REJECTED_WITH_DATA, RF_SPM_CONGESTION, RF_SPM_NOT_SPECIFIED, RF_SSEL_UNKNOWN,
    RF_VERSION_NOT_SUPPORTED, SI_AA, SI_AB, SI_AC, SI_CN, SI_DN, SI_DT, SI_FN, SI_GT, SI_RF, SPDU,
    SSEL_MAX, SUPPORTED_VERSIONS, TD_IMPLEMENTATION_RESTRICTION, TD_NO_REASON, TD_PROTOCOL_ERROR,
    TD_RELEASE, TD_USER_ABORT, V1_ABORT_USER_DATA_MAX, V1_USER_DATA_MAX, VERSION_1, VERSION_2,
    decode_spdus, encode_spdu, encode_spdus,
)

# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class SConnectIndication:
    user_data: bytes
    calling_ssel: bytes
    called_ssel: bytes


@dataclass(frozen=True, slots=True)
class SConnectConfirm:
    user_data: bytes
    responding_ssel: bytes = b""


@dataclass(frozen=True, slots=True)
class SRefuseIndication:
    reason: int
    user_data: bytes


@dataclass(frozen=True, slots=True)
class SData:
    user_data: bytes


@dataclass(frozen=True, slots=True)
class SReleaseIndication:
    user_data: bytes


@dataclass(frozen=True, slots=True)
class SReleaseConfirm:
    user_data: bytes


@dataclass(frozen=True, slots=True)
class SAbortIndication:
    user_data: bytes
    reason: int | None  # the AB's Transport Disconnect bits (TD_*), None if absent


SEvent = (
    SConnectIndication | SConnectConfirm | SRefuseIndication | SData | SReleaseIndication
    | SReleaseConfirm | SAbortIndication
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Connection: the X.225 state table (annex A) cut down to kernel + duplex without tokens.

IDLE = "idle"  # initiator, before connect()           (STA01)
LISTEN = "listen"  # responder, waiting for the CN        (STA01)
WAIT_AC = "wait-ac"  # CN sent                            (STA02A)
WAIT_CONNECT_RESPONSE = "wait-connect-response"  # CN received (STA08)
OPEN = "open"  # data transfer                           (STA713)
WAIT_DN = "wait-dn"  # FN sent                            (STA03)
WAIT_RELEASE_RESPONSE = "wait-release-response"  # FN received (STA09)
COLLISION = "collision"  # FN sent and FN received: owe a DN and await one
ABORTED = "aborted"  # AB sent, waiting for TCP to close  (STA16)
CLOSED = "closed"  # refused, released, or aborted by the peer

# (state, SPDU received) -> (next state, handler); handler None: consumed without an event.
# A pair not in the table is a protocol error. Data keeps flowing towards the side that sent FN
# until the peer's DN, as in TCP's half-close.
_RECEIVE: dict[tuple[str, type], tuple[str, str | None]] = {
    (LISTEN, CN): (WAIT_CONNECT_RESPONSE, "_on_cn"),
    (WAIT_AC, AC): (OPEN, "_on_ac"),
    (WAIT_AC, RF): (CLOSED, "_on_rf"),
    (WAIT_AC, AB): (CLOSED, "_on_ab"),
    (WAIT_CONNECT_RESPONSE, AB): (CLOSED, "_on_ab"),
    (OPEN, DT): (OPEN, "_on_dt"),
    (OPEN, FN): (WAIT_RELEASE_RESPONSE, "_on_fn"),
    (OPEN, AB): (CLOSED, "_on_ab"),
    (WAIT_DN, DT): (WAIT_DN, "_on_dt"),
    (WAIT_DN, DN): (CLOSED, "_on_dn"),
    (WAIT_DN, FN): (COLLISION, "_on_fn"),
    (WAIT_DN, AB): (CLOSED, "_on_ab"),
    (WAIT_RELEASE_RESPONSE, AB): (CLOSED, "_on_ab"),
    (COLLISION, DN): (WAIT_RELEASE_RESPONSE, "_on_dn"),
    (COLLISION, AB): (CLOSED, "_on_ab"),
    (CLOSED, AA): (CLOSED, None),
    # After our AB the peer may still have anything in flight; X.225 STA16 discards it all.
    **{(ABORTED, t): (ABORTED, None) for t in (CN, AC, RF, FN, DN, AB, AA, GT, DT)},
}

# (state, primitive) -> next state; a pair not in the table raises ProtocolError.
_SEND: dict[tuple[str, str], str] = {
    (IDLE, "connect"): WAIT_AC,
    (WAIT_CONNECT_RESPONSE, "accept"): OPEN,
    (WAIT_CONNECT_RESPONSE, "refuse"): CLOSED,
    (OPEN, "send"): OPEN,
    (WAIT_RELEASE_RESPONSE, "send"): WAIT_RELEASE_RESPONSE,
    (OPEN, "release"): WAIT_DN,
    (WAIT_RELEASE_RESPONSE, "release_response"): CLOSED,
    (COLLISION, "release_response"): WAIT_DN,
    **{
        (s, "abort"): ABORTED
        for s in (WAIT_AC, WAIT_CONNECT_RESPONSE, OPEN, WAIT_DN, WAIT_RELEASE_RESPONSE, COLLISION)
    },
}

# States where a GT+DT TSDU is delivered, derived from the table for the data fast path.
_DATA_STATES = frozenset(s for (s, t), (_, h) in _RECEIVE.items() if t is DT and h is not None)


class SessionConnection:
    """One session connection (sans-I/O). Send methods return the TSDU for the transport."""

    __slots__ = ("initiator", "local_ssel", "remote_ssel", "state", "version", "_proposed")

    def __init__(self, initiator: bool, local_ssel: bytes = b"", remote_ssel: bytes = b""):
        self.initiator = initiator
        self.local_ssel = local_ssel
        self.remote_ssel = remote_ssel
        self.state = IDLE if initiator else LISTEN
        self.version: int | None = None  # the selected protocol version, once known
        self._proposed = SUPPORTED_VERSIONS

    # -- primitives -----------------------------------------------------------------------------

    def connect(self, user_data: bytes = b"") -> bytes:
        """S-CONNECT request: CN proposing both versions, or only v2 when the data needs PGI 194."""
        if len(user_data) > CN_EXTENDED_USER_DATA_MAX:
            raise ValueError(f"CN user data of {len(user_data)} octets (max {CN_EXTENDED_USER_DATA_MAX})")
        self._step("connect")
        self._proposed = VERSION_2 if len(user_data) > CN_USER_DATA_MAX else SUPPORTED_VERSIONS
        return encode_spdu(CN(user_data, self.local_ssel, self.remote_ssel, self._proposed))

    def accept(self, user_data: bytes = b"") -> bytes:
        """S-CONNECT response (accept): AC with the selected version and duplex."""
        self._check_size(user_data, V1_USER_DATA_MAX)
        self._step("accept")
        return encode_spdu(AC(user_data, self.remote_ssel, self.local_ssel, self.version or VERSION_2))

    def refuse(self, reason: int, user_data: bytes = b"") -> bytes:
        """S-CONNECT response (reject): RF. User data goes with reason 2 (README); reason 0
        with user data is sent as 2, which means the same plus the data."""
        if user_data and reason == RF_REJECTED:
            reason = RF_REJECTED_WITH_DATA
        if user_data and reason != RF_REJECTED_WITH_DATA:
            raise ValueError(f"refuse reason {reason} cannot carry user data")
        self._check_size(user_data, V1_USER_DATA_MAX)
        self._step("refuse")
        return encode_spdu(RF(reason, user_data, TD_RELEASE, version=self.version))

    def send(self, user_data: bytes) -> bytes:
        """S-DATA request: GT + DT + user information."""
        self._step("send")
        return DATA_HEADER + user_data

    def release(self, user_data: bytes = b"") -> bytes:
        """S-RELEASE request: FN, asking for the transport to go after the DN."""
        self._check_size(user_data, V1_USER_DATA_MAX)
        self._step("release")
        return encode_spdu(FN(user_data, TD_RELEASE))

    def release_response(self, user_data: bytes = b"") -> bytes:
        """S-RELEASE response: DN (no negotiated release, so it cannot be refused)."""
        self._check_size(user_data, V1_USER_DATA_MAX)
        self._step("release_response")
        return encode_spdu(DN(user_data))

    def abort(self, user_data: bytes = b"", reason: int = TD_RELEASE | TD_USER_ABORT) -> bytes:
        """S-U-ABORT request: AB. Version 1 allows 9 octets of AB user data; longer user data is
        then left out rather than failing the abort."""
        if self.version == VERSION_1 and len(user_data) > V1_ABORT_USER_DATA_MAX:
            user_data = b""
        self._step("abort")
        return encode_spdu(AB(user_data, reason))

    # -- peer TSDUs ------------------------------------------------------------------------------

    def receive_tsdu(self, tsdu: bytes) -> list[SEvent]:
        """Events for one TSDU; bad SPDUs and SPDUs the state does not allow raise ProtocolError."""
        if tsdu[:4] == DATA_HEADER and self.state in _DATA_STATES:
            return [SData(tsdu[4:])]
        spdu = decode_spdus(tsdu)[-1]
        row = _RECEIVE.get((self.state, type(spdu)))
        if row is None:
            role = "initiator" if self.initiator else "responder"
            raise ProtocolError(LAYER, f"{type(spdu).__name__} not allowed for the {role} in {self.state}")
        next_state, handler = row
        events = [] if handler is None else [getattr(self, handler)(spdu)]
        self.state = next_state
        return events

    def _on_cn(self, cn: CN) -> SEvent:
        common = cn.version & SUPPORTED_VERSIONS
        if not common:
            raise ProtocolError(LAYER, f"no common protocol version in {cn.version:#04x}")
        if cn.data_overflow is not None:
            raise ProtocolError(LAYER, "CN announces Data Overflow; CDO is not supported")
        # Duplex is selected whatever the CN proposed (a CN without PI 20 proposes half-duplex by
        # default): CMIP needs it, and a peer that disagrees will abort.
        self.version = VERSION_2 if common & VERSION_2 else VERSION_1
        self.remote_ssel = cn.calling_ssel
        return SConnectIndication(cn.user_data, cn.calling_ssel, cn.called_ssel)

    def _on_ac(self, ac: AC) -> SEvent:
        common = ac.version & self._proposed
        if not common:
            raise ProtocolError(LAYER, f"AC selects version {ac.version:#04x}, not one proposed")
        self.version = VERSION_2 if common & VERSION_2 else VERSION_1
        return SConnectConfirm(ac.user_data, ac.responding_ssel)

    def _on_rf(self, rf: RF) -> SEvent:
        return SRefuseIndication(rf.reason, rf.user_data)

    def _on_dt(self, dt: DT) -> SEvent:
        if dt.enclosure is not None and not dt.enclosure & ENCLOSURE_END:
            raise ProtocolError(LAYER, "segmented SSDU, but segmenting was not negotiated")
        return SData(dt.user_data)

    def _on_fn(self, fn: FN) -> SEvent:
        return SReleaseIndication(fn.user_data)

    def _on_dn(self, dn: DN) -> SEvent:
        return SReleaseConfirm(dn.user_data)

    def _on_ab(self, ab: AB) -> SEvent:
        return SAbortIndication(ab.user_data, ab.transport_disconnect)

    def _step(self, primitive: str) -> None:
        next_state = _SEND.get((self.state, primitive))
        if next_state is None:
            role = "initiator" if self.initiator else "responder"
            raise ProtocolError(LAYER, f"{primitive} not allowed for the {role} in {self.state}")
        self.state = next_state

    def _check_size(self, user_data: bytes, v1_max: int) -> None:
        if self.version == VERSION_1 and len(user_data) > v1_max:
            raise ValueError(f"{len(user_data)} octets of user data exceed version 1's {v1_max}")

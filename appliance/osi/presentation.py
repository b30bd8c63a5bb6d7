"""ISO 8823 presentation, normal mode, kernel only: sans-I/O `PresentationConnection`.

Connection PPDUs (CP, CPA, CPR, ARU, ARP) go through pyasn1 (types in `presentation_asn1`).
The data phase (`data`, `on_data`, `encode_user_data`, `decode_user_data`) runs on every CMIP
round trip, where pyasn1 costs 50-90 µs per PPDU, so it uses the strict hand-written TLV code in
`ber` instead; tests cross-check the two.

Refusal of a CP: when the CP is well formed but cannot be accepted (no BER context for ACSE or
CMIP, or protocol version 1 not offered), `on_connect` raises `PresentationRefused`, a
`ProtocolError` carrying the CPR-PPDU to hand to `SessionConnection.refuse`. A caller that only
catches `ProtocolError` still tears the association down safely; one that knows the subclass sends
the refusal first.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pyasn1.type import univ

from . import ber
from .asn1util import decode, encode, peer_errors
from .errors import ProtocolError
from .presentation_asn1 import (  # noqa: F401  (re-exported: the pyasn1 PPDUs of this layer)
    ARPPPDU, ARUNormalModeParameters, ARUPPDU, AbortReason, AbortType, ContextIdentifierItem,
    ContextIdentifierList, ContextList, ContextListItem, CPANormalModeParameters, CPAPPDU,
    CPNormalModeParameters, CPRNormalModeParameters, CPRPPDU, CPType, DefaultContextName,
    FullyEncodedData, ModeSelector, PDVList, PresentationDataValues, PresentationRequirements,
    PresentationSelector, ProtocolOptions, ProtocolVersion, ProviderReason, Result, ResultList,
    ResultListItem, SimplyEncodedData, TransferSyntaxNames, UserData, UserSessionRequirements,
)

LAYER = "presentation"

ACSE_ABSTRACT_SYNTAX = "2.2.1.0.1"
CMIP_ABSTRACT_SYNTAX = "2.9.0.0.2"
# X.711's own cmip-pci abstract syntax; some stacks propose it instead of the application context.
CMIP_ABSTRACT_SYNTAXES = frozenset({CMIP_ABSTRACT_SYNTAX, "2.9.1.1.4"})
BER_TRANSFER_SYNTAX = "2.1.1"
ACSE_CONTEXT_ID = 1
CMIP_CONTEXT_ID = 3

MAX_APDU = 1 << 20
# A CP/CPA/CPR/ARU rides in session connect/refuse/abort user data (10240 octets at most in v2),
# so a much smaller bound than for APDUs keeps pyasn1's work small.
MAX_CONNECT_PPDU = 1 << 16
MAX_SELECTOR = 16
MAX_CONTEXTS = 32
MAX_TRANSFER_SYNTAXES = 16
# User-data framing around one APDU: 61 L 30 L [06 L ts] 02 L ctx A0 L; generous for several PDVs.
_FRAMING_ALLOWANCE = 4096
VERSION_1_BITS = (1,)  # Protocol-version {version-1}

# Result-list provider reasons (X.226 Result-list.provider-reason)
_ABSTRACT_SYNTAX_NOT_SUPPORTED = 1
_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2
_LOCAL_LIMIT_ON_DCS_EXCEEDED = 3
# CPR Provider-reason values
REASON_NOT_SPECIFIED = 0
REASON_CALLED_ADDRESS_UNKNOWN = 3
REASON_PROTOCOL_VERSION_NOT_SUPPORTED = 4
REASON_USER_DATA_NOT_READABLE = 6


@dataclass(frozen=True)
class PConnectIndication:
    calling_psel: bytes
    called_psel: bytes
    acse_apdu: bytes


@dataclass(frozen=True)
class PConnectConfirm:
    acse_apdu: bytes
    responding_psel: bytes = b""


@dataclass(frozen=True)
class PRefused:
    reason: int | None  # CPR provider-reason; None when the called user refused (AARE in acse_apdu)
    acse_apdu: bytes | None


@dataclass(frozen=True)
class PData:
    ctx_id: int
    apdu: bytes


@dataclass(frozen=True)
class PAbortIndication:
    acse_apdu: bytes | None
    provider_reason: int | None  # set (0 when the ARP gives none) for ARP; None for ARU or no data
    event_identifier: int | None = None


class PresentationRefused(ProtocolError):
    """A well-formed CP that cannot be accepted; send `cpr` as user data of SessionConnection.refuse."""

    def __init__(self, message: str, cpr: bytes, provider_reason: int):
        super().__init__(LAYER, message)
        self.cpr = cpr
        self.provider_reason = provider_reason


class _State(Enum):
    IDLE = "idle"
    AWAIT_CPA = "await-cpa"
    AWAIT_RESPONSE = "await-response"
    OPEN = "open"
    CLOSED = "closed"


# ---------------------------------------------------------------------------- data phase (hot path)

_CTX_PREFIX: dict[int, bytes] = {}


def _ctx_prefix(ctx_id: int) -> bytes:
    prefix = _CTX_PREFIX.get(ctx_id)
    if prefix is None:
        if not 1 <= ctx_id < 1 << 31:
            raise ValueError(f"presentation context id {ctx_id} out of range")
        prefix = ber.tlv(b"\x02", ber.encode_int(ctx_id))
        if len(_CTX_PREFIX) < 256:
            _CTX_PREFIX[ctx_id] = prefix
    return prefix


def encode_user_data(ctx_id: int, apdu: bytes) -> bytes:
    """Fully-encoded User-data: one PDV-list, single-ASN1-type [0] holding the APDU TLV."""
    ctx = _ctx_prefix(ctx_id)
    a0 = b"\xa0" + ber.encode_length(len(apdu))
    pdv_len = len(ctx) + len(a0) + len(apdu)
    seq = b"\x30" + ber.encode_length(pdv_len)
    head = b"\x61" + ber.encode_length(len(seq) + pdv_len)
    return b"".join((head, seq, ctx, a0, apdu))


def _split_values(buf: bytes, start: int, end: int) -> list[bytes]:
    """The complete TLVs filling buf[start:end] (the PDVs of one octet-aligned encoding)."""
    out = []
    pos = start
    while pos < end:
        tag, _, _, nxt = ber.read_tlv(buf, pos, end, LAYER)
        if tag == ber.EOC:
            raise ProtocolError(LAYER, "unexpected BER end-of-contents")
        out.append(buf[pos:nxt])
        pos = nxt
    return out


def decode_user_data(ud: bytes, max_apdu: int = MAX_APDU) -> list[PData]:
    """The PDVs of a fully-encoded User-data, in order; octet-aligned PDV-lists may hold several.

    Context ids are not checked here (the connection does that); everything else is.
    """
    if not isinstance(ud, (bytes, bytearray)):
        raise ProtocolError(LAYER, "user data is not bytes")
    if len(ud) > max_apdu + _FRAMING_ALLOWANCE:
        raise ProtocolError(LAYER, f"user data of {len(ud)} octets exceeds the limit")
    ud = bytes(ud)
    tag, start, end = ber.single_tlv(ud, LAYER)
    if tag != 0x61:
        raise ProtocolError(LAYER, f"user data is not fully-encoded-data (tag {tag:#x})")
    out: list[PData] = []
    for seq_tag, cs, ce, _ in ber.children(ud, start, end, LAYER):
        if seq_tag != 0x30:
            raise ProtocolError(LAYER, "PDV-list is not a SEQUENCE")
        items = ber.children(ud, cs, ce, LAYER)
        i = 0
        if items and items[0][0] == 0x06:
            ber.check_oid(ud, items[0][1], items[0][2], LAYER)
            i = 1
        if len(items) != i + 2 or items[i][0] != 0x02:
            raise ProtocolError(LAYER, "malformed PDV-list")
        ctx_id = ber.read_int(ud, items[i][1], items[i][2], LAYER, max_octets=4)
        if ctx_id < 1:
            raise ProtocolError(LAYER, f"invalid presentation context id {ctx_id}")
        pdv_tag, ps, pe, _ = items[i + 1]
        if pdv_tag == 0xA0:
            inner_tag, _, _, nxt = ber.read_tlv(ud, ps, pe, LAYER)
            if nxt != pe or inner_tag == ber.EOC:
                raise ProtocolError(LAYER, "single-ASN1-type must hold exactly one value")
            apdus = [ud[ps:pe]]
        elif pdv_tag == 0x81:
            apdus = _split_values(ud, ps, pe)
            if not apdus:
                raise ProtocolError(LAYER, "empty octet-aligned presentation data value")
        else:
            raise ProtocolError(LAYER, f"unsupported presentation-data-values encoding (tag {pdv_tag:#x})")
        for apdu in apdus:
            if len(apdu) > max_apdu:
                raise ProtocolError(LAYER, f"APDU of {len(apdu)} octets exceeds the limit of {max_apdu}")
            out.append(PData(ctx_id, apdu))
    if not out:
        raise ProtocolError(LAYER, "fully-encoded-data holds no PDV-list")
    return out


# ----------------------------------------------------------------------- connection PPDU helpers

def _check_apdu(apdu: bytes, max_apdu: int) -> None:
    """Local misuse check: what we send must be exactly one BER value."""
    if not isinstance(apdu, (bytes, bytearray)) or len(apdu) > max_apdu:
        raise ValueError("APDU must be bytes within the size limit")
    try:
        ber.single_tlv(bytes(apdu), LAYER)
    except ProtocolError as exc:
        raise ValueError(f"APDU is not one BER value: {exc.message}") from None


def _user_data_asn1(ctx_id: int, apdu: bytes) -> UserData:
    ud = UserData()
    pdv = PDVList()
    pdv["presentation-context-identifier"] = ctx_id
    pdv["presentation-data-values"]["single-ASN1-type"] = bytes(apdu)
    ud["fully-encoded-data"].append(pdv)
    return ud


def _pdvs_from_asn1(ud: UserData, max_apdu: int) -> list[PData]:
    """PDVs of a decoded connection-PPDU User-data, checked by the same code as the data phase."""
    if ud.getName() != "fully-encoded-data":
        raise ProtocolError(LAYER, "connection user data must be fully-encoded-data")
    return decode_user_data(encode(ud), max_apdu)


def _only_acse_pdv(pdvs: list[PData], acse_ctx: int) -> bytes:
    if len(pdvs) != 1 or pdvs[0].ctx_id != acse_ctx:
        raise ProtocolError(LAYER, "connection user data must be one ACSE APDU in the ACSE context")
    return pdvs[0].apdu


def _version1_offered(params) -> bool:
    pv = params["protocol-version"]
    if not pv.isValue:
        return True  # DEFAULT {version-1}
    size = len(pv)
    return size > 0 and bool(pv.asInteger() >> (size - 1) & 1)  # bit 0 is the most significant


def _selector(params, name: str) -> bytes:
    value = params[name]
    if not value.isValue:
        return b""
    sel = bytes(value)
    if len(sel) > MAX_SELECTOR:
        raise ProtocolError(LAYER, f"{name} longer than {MAX_SELECTOR} octets")
    return sel


def _check_selector(sel: bytes) -> bytes:
    if not isinstance(sel, (bytes, bytearray)) or len(sel) > MAX_SELECTOR:
        raise ValueError(f"presentation selector must be bytes of at most {MAX_SELECTOR} octets")
    return bytes(sel)


class PresentationConnection:
    """One presentation connection; every method returns the session user data to send.

    Peer-driven methods (`on_*`) raise only ProtocolError (PresentationRefused from `on_connect`);
    a PPDU that is not allowed in the current state is a ProtocolError too. Passing a bad argument
    from the local side (an APDU that is not one BER value, an unnegotiated context id) is a
    ValueError.
    """

    def __init__(
        self, initiator: bool, local_psel: bytes = b"", remote_psel: bytes = b"", *, max_apdu: int = MAX_APDU
    ):
        self.initiator = initiator
        self.local_psel = _check_selector(local_psel)
        self.remote_psel = _check_selector(remote_psel)
        self.max_apdu = max_apdu
        self.acse_ctx: int | None = None
        self.cmip_ctx: int | None = None
        # ctx id -> abstract syntax, for the contexts usable in the data phase
        self.contexts: dict[int, str] = {}
        self._results: list[tuple[int, int | None]] = []  # responder: (result, provider reason) per CP item
        self._state = _State.IDLE

    @property
    def state(self) -> str:
        return self._state.value

    def _expect(self, *states: _State) -> None:
        if self._state not in states:
            raise ProtocolError(LAYER, f"not allowed in state {self._state.value}")

    # ------------------------------------------------------------------------------- initiator
    def connect(self, aarq: bytes) -> bytes:
        """CP-type proposing ACSE on context 1 and CMIP on context 3, carrying the AARQ."""
        if not self.initiator:
            raise ProtocolError(LAYER, "only the initiator connects")
        self._expect(_State.IDLE)
        _check_apdu(aarq, self.max_apdu)
        cp = CPType()
        cp["mode-selector"]["mode-value"] = 1
        params = cp["normal-mode-parameters"]
        params["protocol-version"] = VERSION_1_BITS
        if self.local_psel:
            params["calling-presentation-selector"] = self.local_psel
        if self.remote_psel:
            params["called-presentation-selector"] = self.remote_psel
        pcdl = params["presentation-context-definition-list"]
        for ctx_id, syntax in ((ACSE_CONTEXT_ID, ACSE_ABSTRACT_SYNTAX), (CMIP_CONTEXT_ID, CMIP_ABSTRACT_SYNTAX)):
            item = ContextListItem()
            item["presentation-context-identifier"] = ctx_id
            item["abstract-syntax-name"] = syntax
            item["transfer-syntax-name-list"].append(univ.ObjectIdentifier(BER_TRANSFER_SYNTAX))
            pcdl.append(item)
        params["user-data"] = _user_data_asn1(ACSE_CONTEXT_ID, aarq)
        self.acse_ctx, self.cmip_ctx = ACSE_CONTEXT_ID, CMIP_CONTEXT_ID
        self._state = _State.AWAIT_CPA
        return encode(cp)

    def on_accept(self, ud: bytes) -> PConnectConfirm:
        """CPA-PPDU: both proposed contexts must have been accepted with BER."""
        self._expect(_State.AWAIT_CPA)
        self._state = _State.CLOSED  # until the CPA has proved acceptable
        cpa = decode(ud, CPAPPDU(), LAYER, "CPA-PPDU", MAX_CONNECT_PPDU)
        with peer_errors(LAYER, "CPA-PPDU"):
            if int(cpa["mode-selector"]["mode-value"]) != 1:
                raise ProtocolError(LAYER, "CPA is not normal mode")
            params = cpa["normal-mode-parameters"]
            if not params.isValue:
                raise ProtocolError(LAYER, "CPA without normal-mode parameters")
            responding = _selector(params, "responding-presentation-selector")
            results = params["presentation-context-definition-result-list"]
            if not results.isValue or len(results) != 2:
                raise ProtocolError(LAYER, "CPA result list does not match the two proposed contexts")
            for item in results:
                if int(item["result"]) != 0:
                    raise ProtocolError(LAYER, "responder rejected the ACSE or CMIP presentation context")
                ts = item["transfer-syntax-name"]
                if ts.isValue and str(ts) != BER_TRANSFER_SYNTAX:
                    raise ProtocolError(LAYER, f"responder chose transfer syntax {ts}")
            if not params["user-data"].isValue:
                raise ProtocolError(LAYER, "CPA without user data")
            aare = _only_acse_pdv(_pdvs_from_asn1(params["user-data"], self.max_apdu), ACSE_CONTEXT_ID)
        self.contexts = {ACSE_CONTEXT_ID: ACSE_ABSTRACT_SYNTAX, CMIP_CONTEXT_ID: CMIP_ABSTRACT_SYNTAX}
        self._state = _State.OPEN
        return PConnectConfirm(aare, responding)

    def on_refuse(self, ud: bytes) -> PRefused:
        """CPR-PPDU (or an empty session refuse): the AARE if the called user refused."""
        self._expect(_State.AWAIT_CPA)
        self._state = _State.CLOSED
        if not ud:
            return PRefused(None, None)
        cpr = decode(ud, CPRPPDU(), LAYER, "CPR-PPDU", MAX_CONNECT_PPDU)
        with peer_errors(LAYER, "CPR-PPDU"):
            params = cpr["normal-mode-parameters"]
            reason = int(params["provider-reason"]) if params["provider-reason"].isValue else None
            apdu = None
            if params["user-data"].isValue:
                apdu = _only_acse_pdv(_pdvs_from_asn1(params["user-data"], self.max_apdu), ACSE_CONTEXT_ID)
        return PRefused(reason, apdu)

    # ------------------------------------------------------------------------------- responder
    def on_connect(self, ud: bytes) -> PConnectIndication:
        """CP-type: records the initiator's ACSE and CMIP context ids; see PresentationRefused."""
        if self.initiator:
            raise ProtocolError(LAYER, "CP received by the initiator")
        self._expect(_State.IDLE)
        self._state = _State.CLOSED  # until the CP has proved acceptable
        cp = decode(ud, CPType(), LAYER, "CP-type", MAX_CONNECT_PPDU)
        with peer_errors(LAYER, "CP-type"):
            if int(cp["mode-selector"]["mode-value"]) != 1:
                raise ProtocolError(LAYER, "CP is not normal mode")
            params = cp["normal-mode-parameters"]
            if not params.isValue:
                raise ProtocolError(LAYER, "CP without normal-mode parameters")
            calling = _selector(params, "calling-presentation-selector")
            called = _selector(params, "called-presentation-selector")
            version1 = _version1_offered(params)
            items = self._read_context_list(params["presentation-context-definition-list"])
            user_data = params["user-data"]
            pdvs = _pdvs_from_asn1(user_data, self.max_apdu) if user_data.isValue else []
        self.remote_psel = calling
        self._negotiate(items)
        if not version1:
            self._refuse_now("CP does not offer presentation protocol version 1", REASON_PROTOCOL_VERSION_NOT_SUPPORTED)
        if self.acse_ctx is None:
            self._refuse_now("CP proposes no BER context for ACSE", REASON_USER_DATA_NOT_READABLE)
        if self.cmip_ctx is None:
            self._refuse_now("CP proposes no BER context for CMIP", REASON_NOT_SPECIFIED)
        aarq = _only_acse_pdv(pdvs, self.acse_ctx)  # type: ignore[arg-type]
        self._state = _State.AWAIT_RESPONSE
        return PConnectIndication(calling, called, aarq)

    @staticmethod
    def _read_context_list(pcdl) -> list[tuple[int, str, list[str]]]:
        if not pcdl.isValue:
            return []
        if len(pcdl) > MAX_CONTEXTS:
            raise ProtocolError(LAYER, "too many presentation contexts proposed")
        items = []
        seen: set[int] = set()
        for item in pcdl:
            ctx_id = int(item["presentation-context-identifier"])
            if not 1 <= ctx_id < 1 << 31 or ctx_id in seen:
                raise ProtocolError(LAYER, f"invalid or duplicate presentation context id {ctx_id}")
            seen.add(ctx_id)
            names = item["transfer-syntax-name-list"]
            if len(names) > MAX_TRANSFER_SYNTAXES:
                raise ProtocolError(LAYER, "too many transfer syntaxes proposed")
            items.append((ctx_id, str(item["abstract-syntax-name"]), [str(ts) for ts in names]))
        return items

    def _negotiate(self, items: list[tuple[int, str, list[str]]]) -> None:
        """Accept the first BER context for ACSE and for CMIP; reject every other proposal."""
        self._results = []
        for ctx_id, syntax, transfer in items:
            wanted = syntax == ACSE_ABSTRACT_SYNTAX or syntax in CMIP_ABSTRACT_SYNTAXES
            taken = self.acse_ctx if syntax == ACSE_ABSTRACT_SYNTAX else self.cmip_ctx
            if not wanted:
                self._results.append((2, _ABSTRACT_SYNTAX_NOT_SUPPORTED))
            elif BER_TRANSFER_SYNTAX not in transfer:
                self._results.append((2, _TRANSFER_SYNTAXES_NOT_SUPPORTED))
            elif taken is not None:
                self._results.append((2, _LOCAL_LIMIT_ON_DCS_EXCEEDED))
            else:
                self._results.append((0, None))
                self.contexts[ctx_id] = syntax
                if syntax == ACSE_ABSTRACT_SYNTAX:
                    self.acse_ctx = ctx_id
                else:
                    self.cmip_ctx = ctx_id

    def _fill_results(self, results: ResultList) -> None:
        for result, reason in self._results:
            item = ResultListItem()
            item["result"] = result
            if result == 0:
                item["transfer-syntax-name"] = BER_TRANSFER_SYNTAX
            if reason is not None:
                item["provider-reason"] = reason
            results.append(item)

    def _cpr(self, aare: bytes | None, provider_reason: int | None) -> bytes:
        cpr = CPRPPDU()
        params = cpr["normal-mode-parameters"]
        params["protocol-version"] = VERSION_1_BITS
        if self.local_psel:
            params["responding-presentation-selector"] = self.local_psel
        if self._results:
            self._fill_results(params["presentation-context-definition-result-list"])
        if provider_reason is not None:
            params["provider-reason"] = provider_reason
        if aare is not None:
            params["user-data"] = _user_data_asn1(self.acse_ctx, aare)  # type: ignore[arg-type]
        return encode(cpr)

    def _refuse_now(self, message: str, reason: int) -> None:
        cpr = self._cpr(None, reason)
        self.contexts = {}
        self._state = _State.CLOSED
        raise PresentationRefused(message, cpr, reason)

    def accept(self, aare: bytes) -> bytes:
        """CPA-PPDU accepting the contexts chosen in on_connect, carrying the AARE."""
        self._expect(_State.AWAIT_RESPONSE)
        _check_apdu(aare, self.max_apdu)
        cpa = CPAPPDU()
        cpa["mode-selector"]["mode-value"] = 1
        params = cpa["normal-mode-parameters"]
        params["protocol-version"] = VERSION_1_BITS
        if self.local_psel:
            params["responding-presentation-selector"] = self.local_psel
        self._fill_results(params["presentation-context-definition-result-list"])
        params["user-data"] = _user_data_asn1(self.acse_ctx, aare)  # type: ignore[arg-type]
        self._state = _State.OPEN
        return encode(cpa)

    def refuse(self, aare: bytes) -> bytes:
        """CPR-PPDU carrying a rejecting AARE (the called user refused the association)."""
        self._expect(_State.AWAIT_RESPONSE)
        _check_apdu(aare, self.max_apdu)
        self._state = _State.CLOSED
        self.contexts = {}
        return self._cpr(aare, None)

    def refuse_provider(self, reason: int) -> bytes:
        """CPR-PPDU refusing on the provider's behalf, e.g. REASON_CALLED_ADDRESS_UNKNOWN."""
        self._expect(_State.AWAIT_RESPONSE)
        self._state = _State.CLOSED
        self.contexts = {}
        return self._cpr(None, reason)

    # ------------------------------------------------------------------------------- data phase
    def data(self, ctx_id: int, apdu: bytes) -> bytes:
        """Fully-encoded User-data, one PDV-list; also the user data of session FN/DN for release."""
        self._expect(_State.OPEN)
        if ctx_id not in self.contexts:
            raise ValueError(f"presentation context {ctx_id} was not negotiated")
        if len(apdu) > self.max_apdu:
            raise ValueError("APDU exceeds the size limit")
        return encode_user_data(ctx_id, apdu)

    def on_data(self, ud: bytes) -> list[PData]:
        self._expect(_State.OPEN)
        pdvs = decode_user_data(ud, self.max_apdu)
        for pdv in pdvs:
            if pdv.ctx_id not in self.contexts:
                raise ProtocolError(LAYER, f"data on unknown presentation context {pdv.ctx_id}")
        return pdvs

    # ---------------------------------------------------------------------------------- abort
    def abort(self, acse_apdu: bytes | None) -> bytes:
        """ARU-PPDU, with the ACSE ABRT in the ACSE context when one is known (best effort)."""
        aru = ARUPPDU()
        params = aru["normal-mode-parameters"]
        if acse_apdu is not None and self.acse_ctx is not None:
            _check_apdu(acse_apdu, self.max_apdu)
            params["user-data"] = _user_data_asn1(self.acse_ctx, acse_apdu)
        self._state = _State.CLOSED
        self.contexts = {}
        return encode(aru)

    def on_abort(self, ud: bytes) -> PAbortIndication:
        """ARU or ARP; empty user data (a bare session abort) gives PAbortIndication(None, None)."""
        acse_ctx = self.acse_ctx
        self._state = _State.CLOSED
        self.contexts = {}
        if not ud:
            return PAbortIndication(None, None)
        value = decode(ud, AbortType(), LAYER, "abort PPDU", MAX_CONNECT_PPDU)
        with peer_errors(LAYER, "abort PPDU"):
            if value.getName() == "arp-ppdu":
                arp = value["arp-ppdu"]
                reason = int(arp["provider-reason"]) if arp["provider-reason"].isValue else 0
                event = int(arp["event-identifier"]) if arp["event-identifier"].isValue else None
                return PAbortIndication(None, reason, event)
            params = value["aru-ppdu"]["normal-mode-parameters"]
            if not params["user-data"].isValue:
                return PAbortIndication(None, None)
            pdvs = _pdvs_from_asn1(params["user-data"], self.max_apdu)
        apdu = next((p.apdu for p in pdvs if p.ctx_id == acse_ctx), None)
        return PAbortIndication(apdu, None)

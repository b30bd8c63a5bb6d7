"""One CMIP association over one TCP connection: the whole stack composed, still sans-I/O.

Bytes from the socket go in through `receive_data`; CMIP-level events come out; whatever must be
written is collected for `data_to_send`. Any ProtocolError raised while handling peer bytes leaves
the association aborted (an AB is queued when the session is up) and is re-raised, so the caller
logs it and closes this connection only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import acse, cmip, rose
from .acse import AARE, AARQ, ABRT, RLRE, RLRQ, CMIPUserInfoRecord
from .cotp import TConnected, TConnectRequest, TData, TDisconnected, TransportConnection
from .errors import ProtocolError
from .presentation import PresentationConnection, PresentationRefused
from .session import (
    SAbortIndication, SConnectConfirm, SConnectIndication, SData, SessionConnection, SRefuseIndication,
    SReleaseConfirm, SReleaseIndication,
)

LAYER = "association"
MAX_INVOKE_ID = 0x7FFFFFFF


@dataclass(frozen=True)
class Address:
    """Transport, session and presentation selectors of one end (FRS L8112-8150)."""

    tsap: bytes = b""
    ssap: bytes = b""
    psap: bytes = b""


# ---- events -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssociateIndication:
    aarq: AARQ
    user_info: CMIPUserInfoRecord | None
    calling: Address
    called: Address


@dataclass(frozen=True)
class AssociateConfirm:
    aare: AARE
    user_info: CMIPUserInfoRecord | None


@dataclass(frozen=True)
class AssociateRefused:
    aare: AARE | None
    user_info: CMIPUserInfoRecord | None
    provider_reason: int | None = None


@dataclass(frozen=True)
class RequestIndication:
    invoke_id: int
    request: Any  # a cmip request dataclass (LinkedReply for an M-LINKED-REPLY)
    linked_id: int | None = None


@dataclass(frozen=True)
class ResultIndication:
    invoke_id: int
    result: Any


@dataclass(frozen=True)
class ErrorIndication:
    invoke_id: int
    error: cmip.CmipError


@dataclass(frozen=True)
class RejectIndication:
    reject: rose.Reject


@dataclass(frozen=True)
class ReleaseIndication:
    rlrq: RLRQ
    user_info: CMIPUserInfoRecord | None


@dataclass(frozen=True)
class ReleaseConfirm:
    rlre: RLRE
    user_info: CMIPUserInfoRecord | None


@dataclass(frozen=True)
class AbortIndication:
    abrt: ABRT | None
    user_info: CMIPUserInfoRecord | None
    provider: bool = False


@dataclass(frozen=True)
class Closed:
    """The transport connection is over: close the socket once the queued bytes are written."""

    reason: str


def _cmip_user_info(items, ctx: int | None) -> CMIPUserInfoRecord | None:
    for item in items:
        if ctx is None or item.indirect_ref in (ctx, None):
            return acse.parse_cmip_user_info(item.value)
    return None


def _abort_user_info(items, ctx: int | None) -> CMIPUserInfoRecord | None:
    """ABRT user information is CMIPAbortInfo; only its userInfo EXTERNAL matters to the LNP layer."""
    for item in items:
        if ctx is None or item.indirect_ref in (ctx, None):
            info = acse.parse_cmip_abort_info(item.value)
            return CMIPUserInfoRecord(user_info=info.user_info, user_info_oid=info.user_info_oid)
    return None


@dataclass
class _Out:
    chunks: list[bytes] = field(default_factory=list)

    def add(self, data: bytes) -> None:
        if data:
            self.chunks.append(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class Association:
    """States: idle -> connecting -> associating -> open -> releasing -> closed."""

    def __init__(self, initiator: bool, local: Address = Address(), remote: Address = Address(),
                 *, max_tpdu_size: int = 2048, max_apdu: int = 1 << 20):
        self.initiator = initiator
        self.local = local
        self.remote = remote
        self.transport = TransportConnection(initiator, local.tsap, remote.tsap, max_tpdu_size, max_apdu + 4096)
        self.session = SessionConnection(initiator, local.ssap, remote.ssap)
        self.presentation = PresentationConnection(initiator, local.psap, remote.psap, max_apdu=max_apdu)
        self.state = "idle"
        self._out = _Out()
        self._pending_aarq: bytes | None = None
        self._next_invoke = 0

    # ---- output --------------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        return self._out.take()

    @property
    def cmip_ctx(self) -> int:
        return self.presentation.cmip_ctx or acse.CMIP_CONTEXT_ID

    def _send_apdu(self, ctx: int, apdu: bytes) -> None:
        self._out.add(self.transport.send(self.session.send(self.presentation.data(ctx, apdu))))

    # ---- association establishment ---------------------------------------------------------------
    def associate(self, user_info: bytes | None = None, **aarq_fields: Any) -> None:
        """Send CR now and the AARQ (with `user_info`, a CMIPUserInfo TLV) once the CC arrives."""
        if not self.initiator or self.state != "idle":
            raise ProtocolError(LAYER, "associate() is for an idle initiator")
        self._pending_aarq = acse.build_aarq(user_info=user_info, **aarq_fields)
        self.state = "connecting"
        self._out.add(self.transport.connect())

    def accept(self, user_info: bytes | None = None, **aare_fields: Any) -> None:
        self._expect("associating", not self.initiator)
        aare = acse.build_aare(user_info=user_info, user_info_ctx=self.cmip_ctx, **aare_fields)
        self._out.add(self.transport.send(self.session.accept(self.presentation.accept(aare))))
        self.state = "open"

    def refuse(self, user_info: bytes | None = None, result: int = acse.REJECTED_PERMANENT, diagnostic: int = 1) -> None:
        """AARE rejecting the association, in CPR on a session RF; the transport then goes."""
        self._expect("associating", not self.initiator)
        aare = acse.build_aare(result=result, diagnostic=diagnostic, user_info=user_info, user_info_ctx=self.cmip_ctx)
        self._out.add(self.transport.send(self.session.refuse(2, self.presentation.refuse(aare))))
        self.state = "closed"

    # ---- data phase ----------------------------------------------------------------------------
    def new_invoke_id(self) -> int:
        self._next_invoke = self._next_invoke % MAX_INVOKE_ID + 1
        return self._next_invoke

    def send_request(self, request: Any, invoke_id: int | None = None, linked_id: int | None = None) -> int:
        self._expect("open", True, "releasing")
        invoke_id = self.new_invoke_id() if invoke_id is None else invoke_id
        self._send_apdu(self.cmip_ctx, rose.encode_rose(cmip.invoke_pdu(invoke_id, request, linked_id)))
        return invoke_id

    def send_result(self, invoke_id: int, result: Any) -> None:
        """`result` None is the empty result that closes a run of linked replies."""
        self._expect("open", True, "releasing")
        pdu = rose.ReturnResult(invoke_id) if result is None else cmip.result_pdu(invoke_id, result)
        self._send_apdu(self.cmip_ctx, rose.encode_rose(pdu))

    def send_error(self, invoke_id: int, error: cmip.CmipError) -> None:
        self._expect("open", True, "releasing")
        self._send_apdu(self.cmip_ctx, rose.encode_rose(cmip.error_pdu(invoke_id, error)))

    def send_linked_reply(self, linked_id: int, reply: Any) -> None:
        self._expect("open", True, "releasing")
        pdu = cmip.linked_reply(self.new_invoke_id(), linked_id, reply)
        self._send_apdu(self.cmip_ctx, rose.encode_rose(pdu))

    def send_reject(self, invoke_id: int | None, kind: str, problem: int) -> None:
        self._send_apdu(self.cmip_ctx, rose.encode_rose(rose.Reject(invoke_id, kind, problem)))

    # ---- release and abort ---------------------------------------------------------------------
    def release(self, user_info: bytes | None = None) -> None:
        self._expect("open", True)
        rlrq = acse.build_rlrq(user_info=user_info, user_info_ctx=self.cmip_ctx)
        ud = self.presentation.data(self.presentation.acse_ctx, rlrq)
        self._out.add(self.transport.send(self.session.release(ud)))
        self.state = "releasing"

    def release_response(self, user_info: bytes | None = None) -> None:
        self._expect("releasing", True)
        rlre = acse.build_rlre(user_info=user_info, user_info_ctx=self.cmip_ctx)
        ud = self.presentation.data(self.presentation.acse_ctx, rlre)
        self._out.add(self.transport.send(self.session.release_response(ud)))
        self.state = "closed"

    def abort(self, user_info: bytes | None = None) -> None:
        """A-ABORT: AB with ARU(ABRT) when the session is up; nothing to send before that."""
        if self.state in ("associating", "open", "releasing"):
            try:
                abrt = None
                if self.presentation.acse_ctx is not None:
                    info = acse.build_cmip_abort_info(acse.SOURCE_USER, user_info) if user_info else None
                    abrt = acse.build_abrt(acse.SOURCE_USER, info, user_info_ctx=self.cmip_ctx)
                self._out.add(self.transport.send(self.session.abort(self.presentation.abort(abrt))))
            except (ProtocolError, ValueError):
                pass  # the session cannot carry an abort now; closing TCP says the same
        self.state = "closed"

    def _expect(self, state: str, role_ok: bool, *more: str) -> None:
        if not role_ok or (self.state != state and self.state not in more):
            raise ProtocolError(LAYER, f"not allowed in state {self.state}")

    # ---- input ---------------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> list[Any]:
        if self.state == "closed":
            return []
        try:
            events: list[Any] = []
            for tev in self.transport.receive_data(data):
                self._on_transport(tev, events)
            return events
        except ProtocolError:
            self.abort()
            raise

    def _on_transport(self, tev: Any, events: list[Any]) -> None:
        if isinstance(tev, TData):
            for sev in self.session.receive_tsdu(tev.tsdu):
                self._on_session(sev, events)
        elif isinstance(tev, TConnectRequest):
            if self.local.tsap and tev.called_tsap and tev.called_tsap != self.local.tsap:
                self._out.add(self.transport.refuse(3))  # address unknown
                self.state = "closed"
                events.append(Closed("called TSAP unknown"))
                return
            self._out.add(self.transport.accept())
            self.state = "associating"
        elif isinstance(tev, TConnected):
            self.state = "associating"
            aarq, self._pending_aarq = self._pending_aarq or b"", None
            self._out.add(self.transport.send(self.session.connect(self.presentation.connect(aarq))))
        elif isinstance(tev, TDisconnected):
            self.state = "closed"
            events.append(Closed(f"transport disconnected ({tev.reason})"))

    def _on_session(self, sev: Any, events: list[Any]) -> None:
        p = self.presentation
        if isinstance(sev, SData):
            for pdv in p.on_data(sev.user_data):
                if pdv.ctx_id == p.cmip_ctx:
                    self._on_rose(pdv.apdu, events)
                else:
                    raise ProtocolError(LAYER, "ACSE APDU in the data phase")
        elif isinstance(sev, SConnectIndication):
            try:
                ind = p.on_connect(sev.user_data)
            except PresentationRefused as refused:
                self._out.add(self.transport.send(self.session.refuse(2, refused.cpr)))
                self.state = "closed"
                events.append(Closed(f"presentation refused: {refused.message}"))
                return
            aarq = acse.parse_acse(ind.acse_apdu)
            if not isinstance(aarq, AARQ):
                raise ProtocolError(LAYER, f"{type(aarq).__name__} where an AARQ belongs")
            calling = Address(self.transport.remote_tsap, sev.calling_ssel, ind.calling_psel)
            called = Address(self.local.tsap, sev.called_ssel, ind.called_psel)
            events.append(AssociateIndication(aarq, _cmip_user_info(aarq.user_information, p.cmip_ctx), calling, called))
        elif isinstance(sev, SConnectConfirm):
            aare = acse.parse_acse(p.on_accept(sev.user_data).acse_apdu)
            if not isinstance(aare, AARE):
                raise ProtocolError(LAYER, f"{type(aare).__name__} where an AARE belongs")
            info = _cmip_user_info(aare.user_information, p.cmip_ctx)
            if aare.result == acse.ACCEPTED:
                self.state = "open"
                events.append(AssociateConfirm(aare, info))
            else:
                self.state = "closed"
                events.append(AssociateRefused(aare, info))
        elif isinstance(sev, SRefuseIndication):
            self.state = "closed"
            refused = p.on_refuse(sev.user_data) if sev.user_data else None
            aare = acse.parse_acse(refused.acse_apdu) if refused and refused.acse_apdu else None
            info = _cmip_user_info(aare.user_information, p.cmip_ctx) if isinstance(aare, AARE) else None
            events.append(AssociateRefused(aare if isinstance(aare, AARE) else None, info,
                                           refused.reason if refused else None))
            events.append(Closed("association refused"))
        elif isinstance(sev, SReleaseIndication):
            rlrq = self._release_apdu(sev.user_data, RLRQ)
            self.state = "releasing"
            events.append(ReleaseIndication(rlrq, _cmip_user_info(rlrq.user_information, p.cmip_ctx)))
        elif isinstance(sev, SReleaseConfirm):
            rlre = self._release_apdu(sev.user_data, RLRE)
            self.state = "closed"
            events.append(ReleaseConfirm(rlre, _cmip_user_info(rlre.user_information, p.cmip_ctx)))
            events.append(Closed("released"))
        elif isinstance(sev, SAbortIndication):
            self.state = "closed"
            ind = p.on_abort(sev.user_data)
            abrt = acse.parse_acse(ind.acse_apdu) if ind.acse_apdu else None
            abrt = abrt if isinstance(abrt, ABRT) else None
            info = _abort_user_info(abrt.user_information, p.cmip_ctx) if abrt else None
            events.append(AbortIndication(abrt, info, provider=ind.provider_reason is not None))
            events.append(Closed("aborted by peer"))

    def _release_apdu(self, user_data: bytes, kind: type) -> Any:
        pdvs = self.presentation.on_data(user_data)
        if len(pdvs) != 1 or pdvs[0].ctx_id != self.presentation.acse_ctx:
            raise ProtocolError(LAYER, f"release without an ACSE {kind.__name__}")
        apdu = acse.parse_acse(pdvs[0].apdu)
        if not isinstance(apdu, kind):
            raise ProtocolError(LAYER, f"{type(apdu).__name__} where an {kind.__name__} belongs")
        return apdu

    def _on_rose(self, apdu: bytes, events: list[Any]) -> None:
        if self.state not in ("open", "releasing"):
            raise ProtocolError(LAYER, f"CMIP data in state {self.state}")
        pdu = rose.decode_rose(apdu)
        if isinstance(pdu, rose.Invoke):
            events.append(RequestIndication(pdu.invoke_id, cmip.decode_argument(pdu.opcode, pdu.argument), pdu.linked_id))
        elif isinstance(pdu, rose.ReturnResult):
            if pdu.opcode is None:
                events.append(ResultIndication(pdu.invoke_id, None))
            else:
                events.append(ResultIndication(pdu.invoke_id, cmip.decode_result(pdu.opcode, pdu.result)))
        elif isinstance(pdu, rose.ReturnError):
            events.append(ErrorIndication(pdu.invoke_id, cmip.decode_error(pdu.error_code, pdu.parameter)))
        else:
            events.append(RejectIndication(pdu))

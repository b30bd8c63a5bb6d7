"""The asyncio edge: one `CmipConnection` per TCP connection, for both roles.

Memory stays bounded whatever the peer does: the kernel's socket buffer plus one TPKT (64 KiB) and
one reassembled TSDU (bounded by the association) are all that is read ahead, because reading stops
while `max_in_flight` requests from the peer are unanswered or while our replies sit unsent in the
transport's buffer (a peer that does not read).
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import cmip
from .association import (
    AbortIndication, Association, AssociateConfirm, AssociateIndication, AssociateRefused, Closed,
    ErrorIndication, RejectIndication, ReleaseConfirm, ReleaseIndication, RequestIndication, ResultIndication,
)
from .errors import ProtocolError

log = logging.getLogger("appliance.osi.transport")


class RemoteError(Exception):
    """The peer answered a request with a CMIP error (or a ROSE reject)."""

    def __init__(self, error: cmip.CmipError | None, reject: Any = None):
        name = cmip.ERROR_NAMES[error.error_code] if error and 0 <= error.error_code < len(cmip.ERROR_NAMES) else None
        super().__init__(name or (f"rejected {reject}" if reject else "error"))
        self.error = error
        self.reject = reject


class AssociationLost(Exception):
    """The association ended (abort, release, TCP loss or timeout) before the answer came."""


@dataclass
class Replies:
    """A scoped operation's answer: linked replies, then the final (often empty) result."""

    linked: list[Any] = field(default_factory=list)
    final: Any = None


@dataclass
class Outcome:
    """What the peer answered one of our requests with."""

    result: Any = None
    linked: list[Any] = field(default_factory=list)


class CmipConnection(asyncio.Protocol):
    """Hooks (all optional):
    - `on_associate(conn, event)`: responder (AssociateIndication): must call conn.assoc.accept /
      refuse (or conn.abort) before returning; initiator (AssociateConfirm / AssociateRefused):
      runs before any later PDU is handled, and may raise AbortAssociation;
    - `on_request(conn, RequestIndication)`: returns a result, a `Replies`, a `cmip.CmipError`,
      or an awaitable of one; runs in arrival order up to its first await;
    - `on_release(conn, ReleaseIndication)`, `on_abort(conn, AbortIndication)`, `on_closed(conn)`,
      `on_protocol_error(conn, ProtocolError)` (the association is being aborted for it).
    """

    def __init__(self, assoc: Association, *, request_timeout: float = 120.0, max_in_flight: int = 64,
                 on_associate: Callable | None = None, on_request: Callable | None = None,
                 on_release: Callable | None = None, on_abort: Callable | None = None,
                 on_closed: Callable | None = None, peer_name: str = "", context: dict | None = None,
                 on_protocol_error: Callable | None = None):
        self.assoc = assoc
        self.request_timeout = request_timeout
        self.max_in_flight = max_in_flight
        self.on_associate, self.on_request = on_associate, on_request
        self.on_release, self.on_abort, self.on_closed = on_release, on_abort, on_closed
        self.peer_name = peer_name
        self.on_protocol_error = on_protocol_error
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_event_loop()
        self.associated: asyncio.Future = self.loop.create_future()
        self.closed: asyncio.Future = self.loop.create_future()
        self.context: dict[str, Any] = context if context is not None else {}  # the layer above's state
        self._waiting: dict[int, tuple[asyncio.Future, list]] = {}
        self._release_done: asyncio.Future | None = None
        self._in_flight = 0
        self._backlog: deque = deque()
        self._write_paused = False
        self._read_paused = False
        self.bytes_in = 0
        self.bytes_out = 0

    # ---- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.peer_name:
            peer = transport.get_extra_info("peername")
            self.peer_name = f"{peer[0]}:{peer[1]}" if peer else "?"
        # a peer that connects and never completes the association must not hold a socket forever
        expiry = self.loop.call_later(self.request_timeout, self._establishment_expired)
        self.associated.add_done_callback(lambda _: expiry.cancel())
        self.closed.add_done_callback(lambda _: expiry.cancel())
        self._flush()

    def _establishment_expired(self) -> None:
        if not self.associated.done():
            log.warning("association with %s not established in %.0f s; closing", self.peer_name,
                        self.request_timeout)
            self.abort()

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        try:
            events = self.assoc.receive_data(data)
        except ProtocolError as exc:
            log.warning("association with %s aborted: %s", self.peer_name, exc)
            if self.on_protocol_error is not None:
                self.on_protocol_error(self, exc)
            self._flush()
            self._close(f"protocol error: {exc}")
            return
        self._backlog.extend(events)
        self._drain()

    def _drain(self) -> None:
        """Dispatch queued events in arrival order, stopping at a request while max_in_flight are
        unanswered: one read's worth of PDUs waits here, the rest in the socket."""
        try:
            while self._backlog:
                ev = self._backlog[0]
                if (isinstance(ev, RequestIndication) and self._in_flight >= self.max_in_flight
                        and not isinstance(ev.request, cmip.LinkedReply)):
                    break
                self._backlog.popleft()
                self._dispatch(ev)
        except Exception:  # a fault of ours must cost this association only, never the process
            log.exception("association with %s aborted after an internal error", self.peer_name)
            self._backlog.clear()
            self.abort()
            return
        self._update_reading()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.assoc.state = "closed"
        self._backlog.clear()
        self._fail_all(AssociationLost("connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)
            if self.on_closed:
                self.on_closed(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()

    # ---- event dispatch ------------------------------------------------------------------------
    def _dispatch(self, ev: Any) -> None:
        if isinstance(ev, RequestIndication):
            self._on_request(ev)
        elif isinstance(ev, ResultIndication):
            self._complete(ev.invoke_id, ev.result, None)
        elif isinstance(ev, ErrorIndication):
            self._complete(ev.invoke_id, None, RemoteError(ev.error))
        elif isinstance(ev, RejectIndication):
            if ev.reject.invoke_id is not None:
                self._complete(ev.reject.invoke_id, None, RemoteError(None, ev.reject))
        elif isinstance(ev, AssociateIndication):
            if self.on_associate is None:
                self.assoc.accept()
            else:
                self.on_associate(self, ev)
            if self.assoc.state == "open" and not self.associated.done():
                self.associated.set_result(ev)
        elif isinstance(ev, (AssociateConfirm, AssociateRefused)):
            if self.on_associate is not None:
                try:
                    self.on_associate(self, ev)  # initiator: checked before anything after it
                except AbortAssociation:
                    return
            if not self.associated.done():
                self.associated.set_result(ev)
        elif isinstance(ev, ReleaseIndication):
            if self.on_release:
                self.on_release(self, ev)
            if self.assoc.state == "releasing":
                self.assoc.release_response()
            self._fail_all(AssociationLost("released"))
        elif isinstance(ev, ReleaseConfirm):
            if self._release_done and not self._release_done.done():
                self._release_done.set_result(ev)
        elif isinstance(ev, AbortIndication):
            self._fail_all(AssociationLost("aborted by peer"))
            if self.on_abort:
                self.on_abort(self, ev)
        elif isinstance(ev, Closed):
            self._close(ev.reason)

    def _on_request(self, ind: RequestIndication) -> None:
        if isinstance(ind.request, cmip.LinkedReply):
            waiting = self._waiting.get(ind.linked_id) if ind.linked_id is not None else None
            if waiting:
                waiting[1].append(ind.request.reply)
            return
        if self.on_request is None:
            self.assoc.send_error(ind.invoke_id, cmip.CmipError(cmip.PROCESSING_FAILURE, None))
            return
        try:
            answer = self.on_request(self, ind)
        except AbortAssociation:
            return
        if isinstance(answer, Awaitable):
            self._in_flight += 1
            self._update_reading()
            task = asyncio.ensure_future(answer)
            task.add_done_callback(lambda t, i=ind: self._answered(i, t))
        else:
            self._reply(ind, answer)

    def _answered(self, ind: RequestIndication, task: asyncio.Future) -> None:
        self._in_flight -= 1
        self._update_reading()
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, AbortAssociation):
            return
        if exc is not None:
            log.error("request %s from %s failed: %r", ind.invoke_id, self.peer_name, exc)
            answer: Any = cmip.CmipError(cmip.PROCESSING_FAILURE, None)
        else:
            answer = task.result()
        self._reply(ind, answer)
        self._drain()

    def _reply(self, ind: RequestIndication, answer: Any) -> None:
        if self.assoc.state not in ("open", "releasing") or self._release_done is not None:
            return  # gone, or we sent the RLRQ: nothing more may go out (X.217 A-RELEASE)
        if isinstance(answer, cmip.CmipError):
            self.assoc.send_error(ind.invoke_id, answer)
        elif isinstance(answer, Replies):
            for reply in answer.linked:
                self.assoc.send_linked_reply(ind.invoke_id, reply)
            self.assoc.send_result(ind.invoke_id, answer.final)
        else:
            self.assoc.send_result(ind.invoke_id, answer)

    def _complete(self, invoke_id: int, result: Any, exc: Exception | None) -> None:
        waiting = self._waiting.pop(invoke_id, None)
        if waiting is None or waiting[0].done():
            return
        if exc is not None:
            waiting[0].set_exception(exc)
        else:
            waiting[0].set_result(Outcome(result, waiting[1]))

    def _fail_all(self, exc: Exception) -> None:
        for fut, _ in self._waiting.values():
            if not fut.done():
                fut.set_exception(exc)
        self._waiting.clear()
        for fut in (self.associated, self._release_done):
            if fut is not None and not fut.done():
                fut.set_exception(exc)
                # a responder that refused the AARQ has nobody awaiting these: marked as seen, so
                # asyncio does not log each refused association as an error
                fut.exception()

    def _update_reading(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        want_pause = self._write_paused or self._in_flight >= self.max_in_flight or bool(self._backlog)
        if want_pause and not self._read_paused:
            self.transport.pause_reading()
            self._read_paused = True
        elif not want_pause and self._read_paused:
            self.transport.resume_reading()
            self._read_paused = False

    def _flush(self) -> None:
        data = self.assoc.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.bytes_out += len(data)
            self.transport.write(data)
        if self.assoc.state == "closed":
            self._close("association closed")

    def _close(self, reason: str) -> None:
        self._fail_all(AssociationLost(reason))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # ---- API for the layer above ---------------------------------------------------------------
    def send_request(self, request: Any, timeout: float | None = None) -> asyncio.Future:
        """Send now (so sequence numbers follow call order); the future gives an `Outcome`."""
        if self.assoc.state != "open":
            raise AssociationLost(f"association is {self.assoc.state}")
        invoke_id = self.assoc.send_request(request)
        fut = self.loop.create_future()
        self._waiting[invoke_id] = (fut, [])
        self._flush()
        limit = self.request_timeout if timeout is None else timeout

        def expire() -> None:
            if not fut.done():
                # IIS 5.2.3: no answer within the timer -> terminate (and let the peer re-associate)
                log.warning("request %s to %s timed out; aborting the association", invoke_id, self.peer_name)
                self._waiting.pop(invoke_id, None)
                fut.set_exception(asyncio.TimeoutError())
                self.abort()

        handle = self.loop.call_later(limit, expire)
        fut.add_done_callback(lambda _: handle.cancel())
        return fut

    async def request(self, request: Any, timeout: float | None = None) -> Outcome:
        return await self.send_request(request, timeout)

    async def release(self, user_info: bytes | None = None, timeout: float | None = None) -> ReleaseConfirm:
        self._release_done = self.loop.create_future()
        self.assoc.release(user_info)
        self._flush()
        try:
            return await asyncio.wait_for(self._release_done, self.request_timeout if timeout is None else timeout)
        finally:
            self._close("released")

    def abort(self, user_info: bytes | None = None) -> None:
        self.assoc.abort(user_info)
        self._flush()
        self._close("aborted")


class AbortAssociation(Exception):
    """Raised by a hook to say the association has been aborted and must get no reply."""


async def open_association(host: str, port: int, assoc: Association, *, user_info: bytes | None = None,
                           timeout: float = 120.0, **hooks: Any) -> tuple[CmipConnection, Any]:
    """Connect, send CR + AARQ and wait for the AARE: (connection, AssociateConfirm | AssociateRefused)."""
    loop = asyncio.get_running_loop()
    assoc.associate(user_info)
    _, conn = await asyncio.wait_for(
        loop.create_connection(lambda: CmipConnection(assoc, request_timeout=timeout, **hooks), host, port), timeout
    )
    try:
        answer = await asyncio.wait_for(asyncio.shield(conn.associated), timeout)
    except asyncio.TimeoutError:
        conn.abort()  # IIS 5.2.2 step 2: no AARE within the timer -> abandon the attempt
        raise
    return conn, answer

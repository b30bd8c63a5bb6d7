"""The carrier's end of a secure LNP association, used by the SOA and LSMS simulators.

`CarrierAssociation.open` follows the IIS 5.3.1.3 client algorithm over a host list (primary first):
SUCCESS -> done; ACCESS_DENIED -> give up (the carrier must fix its data); RETRY_SAME_HOST -> wait
and retry the same host; TRY_OTHER_HOST (or no answer) -> the next host.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.lnp.association_info import (
    ACCESS_DENIED, RETRY_SAME_HOST, SUCCESS, TRY_OTHER_HOST, decode_association_info,
)
from appliance.lnp.oids import OIDS
from appliance.lnp.secure_association import SecureEndpoint, event_access_control
from appliance.lnp.security import Directory, Identity
from appliance.osi import cmip
from appliance.osi.association import Address, Association, AssociateConfirm, RequestIndication
from appliance.osi.transport import AbortAssociation, AssociationLost, CmipConnection, Outcome, open_association

log = logging.getLogger("appliance.peers")


class AssociationRefused(Exception):
    def __init__(self, code: int, text: str):
        super().__init__(f"association refused: code {code} ({text})")
        self.code = code
        self.text = text


@dataclass
class Host:
    host: str
    port: int
    address: Address = field(default_factory=Address)


class CarrierAssociation:
    """One association of a carrier system to the NPAC (SOA or LSMS side)."""

    def __init__(self, identity: Identity, directory: Directory, functions: frozenset[str], *,
                 npac_system_id: str | None = None, local: Address = Address(), recovery_mode: bool = False,
                 clock: Callable[[], dt.datetime] | None = None, request_timeout: float = 120.0,
                 security_log: Callable[..., Any] | None = None,
                 on_request: Callable[["CarrierAssociation", RequestIndication], Any] | None = None):
        self.identity = identity
        self.directory = directory
        self.functions = functions
        self.npac_system_id = npac_system_id
        self.local = local
        self.recovery_mode = recovery_mode
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.request_timeout = request_timeout
        self.security_log = security_log or (lambda *a, **k: None)
        self.user_on_request = on_request
        self.endpoint: SecureEndpoint | None = None
        self.conn: CmipConnection | None = None
        self.host: Host | None = None

    async def open(self, hosts: list[Host], *, retry_wait: float = 1.0, attempts: int = 3) -> Host:
        last: Exception | None = None
        for host in hosts:
            for _ in range(attempts):
                try:
                    await self._open_one(host)
                    self.host = host
                    return host
                except AssociationRefused as exc:
                    last = exc
                    if exc.code == RETRY_SAME_HOST:
                        await asyncio.sleep(retry_wait)
                        continue
                    if exc.code == ACCESS_DENIED:
                        raise
                    break  # TRY_OTHER_HOST
                except (OSError, asyncio.TimeoutError, AssociationLost, AbortAssociation) as exc:
                    last = exc
                    break
        raise last or AssociationLost("no host to try")

    async def _open_one(self, host: Host) -> None:
        endpoint = SecureEndpoint(self.identity, self.directory, self.security_log, self.clock)
        info = endpoint.association_request_info(self.functions, self.recovery_mode)
        outcome: dict[str, tuple[int, str]] = {}

        def on_associate(conn: CmipConnection, answer: Any) -> None:
            if isinstance(answer, AssociateConfirm):
                outcome["code"] = endpoint.on_associate_response(conn, answer.user_info, self.npac_system_id)
            else:
                code, text = TRY_OTHER_HOST, "refused without a reason"
                if answer.user_info is not None and answer.user_info.user_info is not None:
                    code, text = decode_association_info(answer.user_info.user_info)
                outcome["code"] = (code, text)

        conn, answer = await open_association(
            host.host, host.port, Association(True, self.local, host.address), user_info=info,
            timeout=self.request_timeout, on_request=self._on_request, on_associate=on_associate,
            context={"lnp": endpoint},
        )
        code, text = outcome.get("code", (TRY_OTHER_HOST, "no answer"))
        if code != SUCCESS or not isinstance(answer, AssociateConfirm):
            conn.abort()
            raise AssociationRefused(code, text)
        self.endpoint, self.conn = endpoint, conn

    # ---- requests to the NPAC ----------------------------------------------------------------
    def send(self, request: Any, timeout: float | None = None) -> asyncio.Future:
        """Sign and send now (sequence order = call order); await the returned future for an Outcome."""
        if self.conn is None or self.endpoint is None:
            raise AssociationLost("not associated")
        return self.conn.send_request(self.endpoint.signed_request(request), timeout)

    async def request(self, request: Any, timeout: float | None = None) -> Outcome:
        return await self.send(request, timeout)

    async def action(self, class_name: str, instance: Any, action_name: str, info: bytes | None) -> Outcome:
        return await self.request(cmip.ActionRequest(
            OIDS.object_class(class_name).oid, instance, OIDS.action(action_name).oid, info))

    async def get(self, class_name: str, instance: Any, scope: cmip.Scope = cmip.BASE_OBJECT,
                  filter: Any = cmip.MATCH_ALL, attribute_ids: tuple | None = None) -> Outcome:
        return await self.request(cmip.GetRequest(
            OIDS.object_class(class_name).oid, instance, scope, filter, attribute_ids))

    async def release(self) -> None:
        if self.conn is not None:
            try:
                await self.conn.release()
            except (AssociationLost, asyncio.TimeoutError):
                pass

    def abort(self) -> None:
        if self.conn is not None:
            self.conn.abort()

    # ---- requests and notifications from the NPAC --------------------------------------------
    def _on_request(self, conn: CmipConnection, ind: RequestIndication) -> Any:
        endpoint: SecureEndpoint = conn.context["lnp"]
        req = ind.request
        if isinstance(req, cmip.EventReportRequest):
            record = OIDS.find(req.event_type) if isinstance(req.event_type, str) else None
            info_type = OIDS.syntax_class(record) if record and record.kind == "notification" else None
            endpoint.check_message(conn, event_access_control(info_type, req.event_info) if info_type else None)
        else:
            endpoint.check_message(conn, getattr(req, "access_control", None))
        if self.user_on_request is None:
            if isinstance(req, cmip.EventReportRequest):
                return cmip.EventReportResult()
            return cmip.CmipError(cmip.PROCESSING_FAILURE, None)
        return self.user_on_request(self, ind)

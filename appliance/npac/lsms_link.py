"""Which Local SMSs the NPAC talks to, over which association, and what it holds for them.

- Targets: subscription data goes to every LSMS accepting downloads (R5-55); network data to the
  LSMSs whose download indicator is on (RR3-1, RR3-2).
- An LSMS is *live* when it has an open association granted the data download function
  (IIS Exhibit 8) that is not in recovery mode; *recovering* while such an association bound with
  recoveryMode has not yet sent lnpRecoveryComplete (IIS 5.2.1.10, 5.3.4.1). An update for an LSMS
  that is not live goes to its hold queue, in order, until lnpRecoveryComplete hands it over.
- Preferences: an LSMS takes new versions by M-CREATE (flow 6.4.1.6) unless its serviceProvTunables
  (GDMO L38138: "for the NPAC SMS to Local SMS interface") say `sv-create-method = action`, the
  subscriptionVersionLocalSMS-Create action of flow 6.4.1.7.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Mapping

from appliance.agent import NpacAgent
from appliance.lnp.secure_association import SecureEndpoint
from appliance.npac.network_wire import PUSHES
from appliance.npac.writer import Writer, tx_after
from appliance.osi.transport import AssociationLost, CmipConnection, Outcome, RemoteError
from appliance.store.broadcasts import HOLD_QUEUE
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Tx, _Reads

log = logging.getLogger("appliance.npac.lsms")

DOWNLOAD_FUNCTION = "lsms.dataDownload"
CREATE_METHOD = "sv-create-method"  # serviceProvTunables name
M_CREATE, ACTION = "m-create", "action"
NETWORK_OPERATION = "network"  # hold-queue operation of a network-data update
RECOVERED = "lsms-recovery-complete"  # conn.context flag set by lnpRecoveryComplete


def recovering(conn: CmipConnection) -> bool:
    endpoint: SecureEndpoint = conn.context["lnp"]
    return bool(endpoint.grant and endpoint.grant.recovery_mode) and not conn.context.get(RECOVERED)


def is_lsms(sp: Mapping[str, Any]) -> bool:
    return any(str(f).startswith("lsms-") for f in sp["allowable_functions"] or [])


class LsmsLink:
    def __init__(self, agent: NpacAgent, store: _Reads):
        self.agent = agent
        self.store = store

    # ---- who -----------------------------------------------------------------------------------
    def subscription_lsms(self, reader: _Reads | None = None) -> list[str]:
        return SERVICE_PROVIDERS.lsms_receiving_downloads(reader or self.store)

    def network_lsms(self, reader: _Reads | None = None) -> list[str]:
        return [sp["sp_id"] for sp in SERVICE_PROVIDERS.live(reader or self.store)
                if sp["download_network_data"] and is_lsms(sp)]

    def create_method(self, lsms: str, reader: _Reads | None = None) -> str:
        sp = SERVICE_PROVIDERS.get(reader or self.store, lsms)
        tunables = (sp or {}).get("tunables") or {}
        return ACTION if tunables.get(CREATE_METHOD) == ACTION else M_CREATE

    # ---- how -----------------------------------------------------------------------------------
    def associations(self, lsms: str) -> list[CmipConnection]:
        return self.agent.associations_of(lsms, DOWNLOAD_FUNCTION)

    def connection(self, lsms: str) -> CmipConnection | None:
        """The association updates go over now; None while the LSMS is absent or recovering."""
        conns = self.associations(lsms)
        if any(recovering(c) for c in conns):
            return None
        return conns[0] if conns else None

    def hold(self, tx: Tx, lsms: str, operation: str, payload: dict[str, Any], version_id: int | None = None) -> None:
        HOLD_QUEUE.hold(tx, lsms, operation, payload, version_id)

    def held(self, reader: _Reads, lsms: str) -> list[dict[str, Any]]:
        return HOLD_QUEUE.held(reader, lsms)

    # ---- network data pushes (flows 6.3.x: "NPAC -> Local SMS(s)") --------------------------------
    def push_network(self, tx: Tx, writer: Writer, kind: str, op: str, row: Mapping[str, Any],
                     origin: str | None = None) -> list[str]:
        """Within the change's transaction: hold the update for LSMSs that are not live, and send
        it to the live ones once the change has committed. The LSMS that made the change over its
        own association is not sent its own change (05 §A.8). Returns the LSMSs addressed."""
        targets = [sp for sp in self.network_lsms(tx) if sp != origin]
        payload = {"kind": kind, "op": op, "row": dict(row)}
        for lsms in targets:
            if self.connection(lsms) is None:
                self.hold(tx, lsms, NETWORK_OPERATION, payload)
            else:
                tx_after(tx, lambda lsms=lsms: self._send_network(writer, lsms, payload))
        return targets

    def _send_network(self, writer: Writer, lsms: str, payload: dict[str, Any]) -> None:
        conn = self.connection(lsms)
        request = PUSHES[payload["op"]](lsms, payload["kind"], payload["row"])
        if conn is None:
            _spawn(writer.run(f"hold network update for {lsms}",
                              lambda tx: self.hold(tx, lsms, NETWORK_OPERATION, payload)))
            return
        _spawn(_report(self.agent.send_request(conn, request), f"network {payload['op']} {payload['kind']} to {lsms}"))


async def _report(answer: Awaitable[Outcome], what: str) -> None:
    try:
        await answer
    except (RemoteError, AssociationLost, TimeoutError) as exc:
        # Network pushes are not retried (flows 6.3.x name no retry); the LSMS resynchronises by
        # lnpDownload (6.3.9.9) after recovery.
        log.warning("%s failed: %s", what, exc)


_TASKS: set[asyncio.Future] = set()  # keeps fire-and-forget sends alive until they finish


def _spawn(coro: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(coro)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)

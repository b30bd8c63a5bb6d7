"""Delivers the notification outbox: signed, confirmed M-EVENT-REPORTs to the carriers' associations.

Order (05 §A.2): rows go out in commit order, one confirmed report at a time, so the old SP's SOA
hears of a change (and confirms) before the new SP's, as every flow draws it. A recipient whose
report was not confirmed is skipped for the rest of the pass (its later rows wait behind it, so each
carrier still sees its own notifications in order) while the others carry on.

Retries (DECISIONS, FRS App. C SOA_Retry_Attempts / SOA_Retry_Interval, and the LSMS_ pair for the
NewNPA-NXX notice): the first send plus that many resends, that interval apart; "unanswered"
includes "not associated".
A recipient that associates gets its waiting rows at once. After the last resend the row is dropped
(kept as `dropped` in the outbox and logged): the IIS makes the carrier responsible for catching up
after a lost association, by query (L30491, L30507-30517).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.oids import OIDS
from appliance.npac import notices
from appliance.npac.persist import load_tunables
from appliance.npac.sv_codec import version_dn
from appliance.npac.wakeup import WakeLoop
from appliance.npac.writer import Writer
from appliance.osi import cmip
from appliance.osi.transport import AssociationLost, CmipConnection, RemoteError
from appliance.store.outbox import OUTBOX
from appliance.store.store import Store

log = logging.getLogger("appliance.npac.notifier")
SOA_FUNCTION, LSMS_FUNCTION = "soa.soaMgmt", "lsms.dataDownload"
RETRIES = {  # the system a row is for -> its App. C retry tunables (attempts, interval)
    SOA_FUNCTION: ("soa_retry_attempts", "soa_retry_interval"),
    LSMS_FUNCTION: ("lsms_retry_attempts", "lsms_retry_interval"),
}
_VERSION_CLASS = OIDS.object_class("subscriptionVersionNPAC").oid


class Notifier:
    def __init__(self, store: Store, writer: Writer, agent: NpacAgent, clock_ms: Callable[[], int],
                 poll_s: float = 1.0):
        self.store = store
        self.writer = writer
        self.agent = agent
        self.clock_ms = clock_ms
        self.poll_s = poll_s
        self._arrived: set[str] = set()  # recipients that associated since the last pass
        self.loop = WakeLoop("npac-notifier", self._pass, log, retry_s=poll_s)
        self._pass_lock = asyncio.Lock()
        self.sent = 0
        agent.association_listeners.append(self._associated)

    # ---- running ---------------------------------------------------------------------------------
    def wake(self) -> None:
        self.loop.wake()

    def _associated(self, conn: CmipConnection) -> None:
        self._arrived.add(conn.context["lnp"].peer_id or "")
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        self.agent.association_listeners[:] = [f for f in self.agent.association_listeners if f != self._associated]

    async def _pass(self) -> float:
        """Deliver until nothing more is confirmed; look again after `poll_s` (retries fall due)."""
        while await self.deliver():
            pass
        return self.poll_s

    # ---- one pass ----------------------------------------------------------------------------------
    async def deliver(self) -> int:
        """Send every row that is due now; returns how many were confirmed."""
        async with self._pass_lock:
            return await self._deliver()

    async def _deliver(self) -> int:
        now = self.clock_ms()
        arrived, self._arrived = self._arrived, set()
        waiting: set[tuple[str, str]] = set()  # (recipient, function) with an earlier row still owed
        delivered: list[int] = []
        failed: list[tuple[dict[str, Any], str]] = []
        for row in OUTBOX.pending(self.store):
            recipient = (row["recipient"], row["function"])  # a carrier's SOA and LSMS are two systems
            if recipient in waiting:
                continue
            if row["next_attempt_ms"] > now and row["recipient"] not in arrived:
                waiting.add(recipient)
                continue
            error = await self._send(row)
            if error is None:
                delivered.append(row["entry_id"])
            else:
                failed.append((row, error))
                waiting.add(recipient)
        if delivered or failed:
            await self.writer.run("notifications", lambda tx: self._settle(tx, delivered, failed))
        self.sent += len(delivered)
        return len(delivered)

    def _settle(self, tx: Any, delivered: list[int], failed: list[tuple[dict[str, Any], str]]) -> None:
        tunables = load_tunables(tx)
        for entry_id in delivered:
            OUTBOX.delivered(tx, entry_id)
        for row, error in failed:
            sends = row["attempts"] + 1
            attempts, interval = RETRIES[row["function"]]
            if sends > getattr(tunables, attempts):
                log.warning("notification %s to %s dropped after %d sends: %s (the carrier resynchronises "
                            "by query, IIS L30491)", row["notification"], row["recipient"], sends, error,
                            extra={"entry_id": row["entry_id"], "version_id": row["version_id"]})
                OUTBOX.failed(tx, row, error, None)
            else:
                OUTBOX.failed(tx, row, error, tunables.after(interval, tx.now_ms))

    async def _send(self, row: dict[str, Any]) -> str | None:
        """None when at least one of the recipient's associations confirmed the report."""
        conns = self.agent.associations_of(row["recipient"], row["function"])
        if not conns:
            return "not associated"
        instance = version_dn(self.agent.identity.system_id, row["version_id"])
        errors = []
        for conn in conns:
            try:
                outcome = await self.agent.send_event(
                    conn, _VERSION_CLASS, instance, row["notification"],
                    lambda ac, r=row: notices.build(r["notification"], r["payload"], ac))
            except (AssociationLost, asyncio.TimeoutError, RemoteError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            except Exception as exc:  # a fault of ours in one row: it is retried, then dropped, like the rest
                log.exception("notification %s could not be sent", row["entry_id"])
                errors.append(f"internal error: {exc}")
                continue
            if isinstance(outcome.result, cmip.EventReportResult):
                return None
            errors.append(f"unexpected answer {type(outcome.result).__name__}")
        return "; ".join(errors)[:200]

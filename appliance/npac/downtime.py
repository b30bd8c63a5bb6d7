"""Scheduled NPAC downtime notices (flow 6.6; RR6-6, RR6-7; GDMO L41478): NPAC personnel schedule
an outage, and a lead time before it the NPAC sends lnpNPAC-SMS-Operational-Information (down
time, contact number, further text) from its lnpNPAC-SMS object, signed and confirmed, first to
every associated Local SMS, and once those have confirmed (or failed to), to every SOA.

Schedules live in the store (`meta`, key "downtime-notices"), so a restart or cutover keeps them
and does not send a notice twice. The lead time is the appliance's (flow 6.6 b names "a tunable
time", App. C gives none). `announce` sends a notice now; `run` waits on the injected clock.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.oids import OIDS
from appliance.lnp.secure_association import SecureEndpoint
from appliance.lnp.values import access_control, encode_plain, gtime
from appliance.npac.network_wire import npac_root
from appliance.npac.wakeup import WakeLoop
from appliance.npac.writer import Writer
from appliance.osi.transport import AssociationLost, CmipConnection, RemoteError
from appliance.store.store import Store, Tx

log = logging.getLogger("appliance.npac.downtime")
META_KEY = "downtime-notices"
NOTICE = "lnpNPAC-SMS-Operational-Information"
DEFAULT_LEAD_MS = 24 * 3_600_000


@dataclass(frozen=True)
class Delivery:
    system_id: str
    role: str  # "lsms" or "soa"
    confirmed: bool


def _role(conn: CmipConnection) -> str | None:
    endpoint: SecureEndpoint = conn.context["lnp"]
    functions = endpoint.grant.functions if endpoint.grant else frozenset()
    if any(f.startswith("lsms.") for f in functions):
        return "lsms"
    return "soa" if any(f.startswith("soa.") for f in functions) else None


class DowntimeNotices:
    def __init__(self, writer: Writer, store: Store, agent: NpacAgent, clock_ms: Callable[[], int],
                 lead_ms: int = DEFAULT_LEAD_MS, timeout: float | None = None):
        self.writer = writer
        self.store = store
        self.agent = agent
        self.clock_ms = clock_ms
        self.lead_ms = lead_ms
        self.timeout = timeout
        self.loop = WakeLoop("npac-downtime-notices", self._pass, log)

    # ---- schedules -----------------------------------------------------------------------------
    def schedules(self) -> list[dict[str, Any]]:
        row = self.store.get("meta", META_KEY)
        return list(row["value"]) if row else []

    async def schedule(self, start_ms: int, stop_ms: int | None, contact_number: str, information: str,
                       notice_ms: int | None = None) -> dict[str, Any]:
        """Record a planned outage; its notice goes out at `notice_ms` (default: lead time before)."""
        if len(contact_number) != 10 or not contact_number.isdigit():
            raise ValueError(f"contact number {contact_number!r} is not a ten-digit PhoneNumber")
        if not 0 < len(information) <= 255:
            raise ValueError("additional down time information is 1-255 characters")

        def add(tx: Tx) -> dict[str, Any]:
            entries = self.schedules()
            entry = {"id": max((e["id"] for e in entries), default=0) + 1, "start_ms": start_ms, "stop_ms": stop_ms,
                     "contact": contact_number, "information": information,
                     "notice_ms": start_ms - self.lead_ms if notice_ms is None else notice_ms, "sent_ms": None}
            tx.upsert("meta", {"key": META_KEY, "value": [*entries, entry]})
            return entry
        entry = await self.writer.run(f"schedule NPAC downtime from {gtime(start_ms)}", add)
        self.loop.wake()
        return entry

    # ---- notices -------------------------------------------------------------------------------
    async def announce(self, entry: dict[str, Any]) -> list[Delivery]:
        """Flow 6.6 c-f: every Local SMS, then every SOA; one confirmed notice per association."""
        down_time = {"startTime": gtime(entry["start_ms"])}
        if entry.get("stop_ms") is not None:
            down_time["stopTime"] = gtime(entry["stop_ms"])
        info = {"down-time": down_time, "npac-contact-number": entry["contact"],
                "additional-down-time-information": entry["information"]}
        conns = [c for c in list(self.agent.connections) if c.assoc.state == "open"]
        deliveries: list[Delivery] = []
        for role in ("lsms", "soa"):
            wave = [c for c in conns if _role(c) == role]
            answers = await asyncio.gather(*(self._send(c, info) for c in wave))
            deliveries += [Delivery(c.context["lnp"].peer_id, role, ok) for c, ok in zip(wave, answers)]
        return deliveries

    async def _send(self, conn: CmipConnection, info: dict[str, Any]) -> bool:
        def build(stamp: bytes) -> bytes:
            return encode_plain("NPAC-SMS-Operational-Information", {**info, "access-control": access_control(stamp)})
        try:
            await self.agent.send_event(conn, OIDS.object_class("lnpNPAC-SMS").oid,
                                        npac_root(self.agent.identity.system_id), NOTICE, build, self.timeout)
            return True
        except (RemoteError, AssociationLost, asyncio.TimeoutError) as exc:
            log.warning("downtime notice to %s not confirmed: %s", conn.peer_name, exc)
            return False

    async def send_due(self) -> list[Delivery]:
        """Send every notice whose time has come and that has not been sent; record it sent."""
        now = self.clock_ms()
        deliveries: list[Delivery] = []
        for entry in self.schedules():
            if entry["sent_ms"] is None and entry["notice_ms"] <= now:
                deliveries += await self.announce(entry)
                await self.writer.run(f"downtime notice {entry['id']} sent", lambda tx, e=entry: self._sent(tx, e["id"]))
        return deliveries

    def _sent(self, tx: Tx, entry_id: int) -> None:
        entries = [{**e, "sent_ms": tx.now_ms} if e["id"] == entry_id else e for e in self.schedules()]
        tx.upsert("meta", {"key": META_KEY, "value": entries})

    # ---- the schedule loop ---------------------------------------------------------------------
    def start(self) -> None:
        self.loop.start()

    def wake(self) -> None:
        self.loop.wake()

    async def close(self) -> None:
        await self.loop.stop()

    async def _pass(self) -> float | None:
        """Send what is due; sleep until the next notice's time (None: until one is scheduled)."""
        await self.send_due()
        pending = [e["notice_ms"] for e in self.schedules() if e["sent_ms"] is None]
        return (min(pending) - self.clock_ms()) / 1000 if pending else None

"""Notices to the NPAC's users about the service itself: unscheduled unavailability after a
cutover (Exhibit G SLR 22/23: within 15 minutes, then every 30 minutes until resolved), service
restored with the database status and any lost-transaction window (contract 12.5), and switchback
(RN10-4).

npac-ha decides when; this node tells every associated SOA and LSMS over the interface with
`lnpNPAC-SMS-Operational-Information` (the one NPAC-to-user notice the IIS has: a down time with
the NPAC contact number and up to 255 characters of text; LSMSs first, then SOAs, as flow 6.6),
and records each notice for the operators (the status document, `notice.list`, and the security
audit log), so a notice that reached nobody is still on record.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.agent import NpacAgent
from appliance.config import NodeConfig
from appliance.npac.downtime import DowntimeNotices
from appliance.lnp.values import gtime
from appliance.ops.commands import Command

log = logging.getLogger("appliance.ops.notices")

TEXT = {
    "unscheduled-unavailability": "Unscheduled NPAC SMS outage: service is moving to the other NPAC host. "
                                  "Re-associate using your host list; LSMSs recover with lnpDownload.",
    "service-restored": "NPAC SMS service restored on {node}. Database status: {database}.",
    "switchback": "Planned switchback of the NPAC SMS to {node}: associations are released now; "
                  "re-associate using your host list.",
    "switchback-cancelled": "The planned NPAC SMS switchback is cancelled; service continues on {node}.",
}
SENT_OVER_CMIP = frozenset(TEXT)


def database_status(details: dict[str, Any]) -> str:
    db = details.get("database") or {}
    if not db:
        return "no transactions lost"
    if db.get("lost"):
        return f"transactions between {_utc(db.get('from_ms'))} and {_utc(db.get('to_ms'))} may be lost; resubmit them"
    return "no transactions lost"


def _utc(ms: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(int(ms) / 1000)) if ms else "unknown"


class UserNotices:
    def __init__(self, cfg: NodeConfig, agent: NpacAgent, security_log: Any,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        self.cfg = cfg
        self.agent = agent
        self.security_log = security_log
        self.clock_ms = clock_ms
        self.path = Path(cfg.data_dir) / "user-notices.jsonl"
        self.sender = DowntimeNotices(None, None, agent, clock_ms, timeout=10)  # type: ignore[arg-type]
        # the outage notice in force: a carrier that associates while it is (with the new live node,
        # after a cutover) gets it then, so SLR 22 is met for carriers that were on the failed node
        self.in_force: dict[str, Any] | None = None
        self._told: set[str] = set()
        agent.association_listeners.append(self._on_association)

    async def notify(self, kind: str, details: dict[str, Any]) -> None:
        now = self.clock_ms()
        text = TEXT.get(kind, kind).format(node=details.get("node", self.cfg.name),
                                           database=database_status(details))[:255]
        deliveries = []
        if kind in SENT_OVER_CMIP:
            start = int(details.get("detected_ms") or details.get("time_ms") or now)
            entry = {"start_ms": start, "stop_ms": now if kind == "service-restored" else None,
                     "contact": self.cfg.contact_number, "information": text}
            if kind == "unscheduled-unavailability":
                self.in_force, self._told = entry, set()
            elif kind == "service-restored":
                self.in_force = None
            try:
                deliveries = await self.sender.announce(entry)
            except Exception:  # a notice that cannot go out is still recorded for the operators
                log.exception("user notice %s could not be sent", kind)
            self._told |= {d.system_id for d in deliveries if d.confirmed}
        record = {"time_ms": now, "kind": kind, "text": text, "details": details,
                  "delivered": [{"system_id": d.system_id, "role": d.role, "confirmed": d.confirmed}
                                for d in deliveries]}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
        self.security_log.record("user-notice", kind=kind, delivered=len(deliveries),
                                 confirmed=sum(1 for d in deliveries if d.confirmed))
        log.warning("user notice %s sent to %d associations", kind, len(deliveries))

    def _on_association(self, conn: Any) -> None:
        if self.in_force is not None:
            asyncio.get_running_loop().create_task(self._tell_late(conn, self.in_force))

    async def _tell_late(self, conn: Any, entry: dict[str, Any]) -> None:
        await asyncio.sleep(0.2)  # after the AARE has gone out
        endpoint = conn.context.get("lnp")
        system_id = getattr(endpoint, "peer_id", None) or "?"
        if entry is not self.in_force or system_id in self._told or conn.assoc.state != "open":
            return
        down = {"startTime": gtime(entry["start_ms"])}
        info = {"down-time": down, "npac-contact-number": entry["contact"],
                "additional-down-time-information": entry["information"]}
        if await self.sender._send(conn, info):
            self._told.add(system_id)
            self.security_log.record("user-notice", kind="unscheduled-unavailability", delivered=1, confirmed=1,
                                     system_id=system_id)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-limit:]
        return [json.loads(line) for line in lines if line.strip()]


async def _list(ctx: Any, session: Any, limit: int = 50) -> list[dict[str, Any]]:
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValueError("limit must be 1..1000")
    return ctx.notices.recent(limit)


def commands() -> list[Command]:
    return [Command("notice.list", _list, "read", "notices sent to the users about the NPAC service")]

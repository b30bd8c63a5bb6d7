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

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.agent import NpacAgent
from appliance.config import NodeConfig
from appliance.npac.downtime import DowntimeNotices
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
        # carriers that associate after a notice went out get it then (ha.drill_watch.OwedNotices,
        # run by the node of a pair): after a cutover they arrive after the decision was announced
        self.sender = DowntimeNotices(None, None, agent, clock_ms, timeout=10)  # type: ignore[arg-type]
        # the service-level record of a cutover (Exhibit G, Exhibit H "cutovers"): the node points
        # this at its meters while it is live
        self.on_cutover: Callable[[int, int, dict[str, Any]], None] | None = None

    async def notify(self, kind: str, details: dict[str, Any]) -> None:
        now = self.clock_ms()
        cutover = details.get("cutover") or {}
        if kind == "service-restored" and cutover.get("detected") and self.on_cutover is not None:
            try:
                self.on_cutover(int(cutover["detected"]), int(cutover.get("completed") or now), details)
            except Exception:  # the record is for reports; the notice must still go out
                log.exception("cutover not recorded for the service levels")
        text = TEXT.get(kind, kind).format(node=details.get("node", self.cfg.name),
                                           database=database_status(details))[:255]
        deliveries = []
        if kind in SENT_OVER_CMIP:
            start = int(details.get("detected_ms") or details.get("time_ms") or now)
            entry = {"start_ms": start, "stop_ms": now if kind == "service-restored" else None,
                     "contact": self.cfg.contact_number, "information": text}
            try:
                deliveries = await self.sender.announce(entry)
            except Exception:  # a notice that cannot go out is still recorded for the operators
                log.exception("user notice %s could not be sent", kind)
        record = {"time_ms": now, "kind": kind, "text": text, "details": details,
                  "delivered": [{"system_id": d.system_id, "role": d.role, "confirmed": d.confirmed}
                                for d in deliveries]}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
        self.security_log.record("user-notice", kind=kind, delivered=len(deliveries),
                                 confirmed=sum(1 for d in deliveries if d.confirmed))
        log.warning("user notice %s sent to %d associations", kind, len(deliveries))

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

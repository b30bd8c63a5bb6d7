"""What a node of the pair observes about a cutover, for the drill report and for the users owed a
notice: when it went live, each association accepted after that (system id, SOA or LSMS, recovery
mode), each LSMS's lnpRecoveryComplete answered with success, and how many associations a drain
released or aborted. Times are wall-clock milliseconds (the two nodes' clocks are NTP-disciplined,
and the report compares instants across them).

`OwedNotices` covers the gap SLR 22/23 notices fall into during a cutover: the first notice goes out
when the outage is confirmed, before the new live node accepts anyone, so it reaches no association.
A carrier that associates with the live node while a notice of the outage is still current
(`owed_ms`, SLR 23's 30 minutes) is sent it then, once, and the delivery is recorded with the notice.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.lnp.oids import OIDS
from appliance.lnp.secure_association import SecureEndpoint
from appliance.lnp.values import access_control, encode_plain, gtime
from appliance.npac.downtime import NOTICE
from appliance.npac.network_wire import npac_root
from appliance.osi import cmip
from appliance.osi.transport import AssociationLost, CmipConnection, RemoteError
from appliance.store import Store

log = logging.getLogger("ha.drill_watch")

RECOVERY_COMPLETE = "lnpRecoveryComplete"
OUTAGE_KINDS = ("unscheduled-unavailability", "service-restored")
OWED_MS = 30 * 60 * 1000  # SLR 23: a notice stands until the next one is due
MAX_EVENTS = 500


def wall_ms() -> int:
    return int(time.time() * 1000)


def carrier_role(conn: CmipConnection) -> str:
    endpoint: SecureEndpoint = conn.context["lnp"]
    functions = endpoint.grant.functions if endpoint.grant else frozenset()
    if any(f.startswith("lsms.") for f in functions):
        return "lsms"
    return "soa" if any(f.startswith("soa.") for f in functions) else "other"


class CutoverWatch:
    """Instants of the node's side of a cutover, served to the drill runner (`ha.drill_marks`)."""

    def __init__(self, clock_ms: Callable[[], int] = wall_ms):
        self.clock_ms = clock_ms
        self.live_since: int | None = None
        self.left_live: int | None = None
        self.events: list[dict[str, Any]] = []

    def _add(self, kind: str, **fields: Any) -> None:
        self.events = [*self.events[-(MAX_EVENTS - 1):], {"time_ms": self.clock_ms(), "event": kind, **fields}]

    def went_live(self) -> None:
        self.live_since = self.clock_ms()
        self._add("live")

    def left(self) -> None:
        self.left_live = self.clock_ms()
        self._add("not-live")

    def associated(self, conn: CmipConnection) -> None:
        endpoint: SecureEndpoint = conn.context["lnp"]
        grant = endpoint.grant
        self._add("association", system_id=endpoint.peer_id or "", role=carrier_role(conn),
                  recovery=bool(grant and grant.recovery_mode))

    def request(self, conn: CmipConnection, request: Any) -> Callable[[Any], None] | None:
        """An agent request observer: marks an LSMS's recovery complete when the NPAC answers success."""
        if not isinstance(request, cmip.ActionRequest) or not isinstance(request.action_type, str):
            return None
        record = OIDS.find(request.action_type)
        if record is None or record.name != RECOVERY_COMPLETE:
            return None
        system_id = conn.context["lnp"].peer_id or ""

        def answered(answer: Any) -> None:
            if isinstance(answer, cmip.ActionResult):
                self._add("recovery-complete", system_id=system_id)
        return answered

    def drain_started(self, associations: int, sequence: int) -> None:
        self._add("drain", associations=associations, sequence=sequence)

    def drained(self, closed: int, still_open: int, sequence: int) -> None:
        """Released (A-RELEASE answered) or, failing that, aborted: nothing may be left open. The
        journal sequence is the last row the peer must hold before it may promote."""
        self._add("drained", closed=closed, still_open=still_open, sequence=sequence)

    def marks(self, since_ms: int = 0) -> dict[str, Any]:
        return {"now_ms": self.clock_ms(), "live_since": self.live_since, "left_live": self.left_live,
                "events": [e for e in self.events if e["time_ms"] >= since_ms]}


def journal_digest(store: Store, upto: int, chunk: int = 5000) -> dict[str, Any]:
    """SHA-256 over the journal rows 1..upto as stored: two nodes holding the same history agree."""
    h = hashlib.sha256()
    count, last = 0, 0
    while last < upto:
        rows = [r for r in store.journal_since(last, limit=chunk) if r.sequence <= upto]
        if not rows:
            break
        for r in rows:
            h.update(f"{r.sequence}|{r.epoch}|{r.time}|".encode() + r.change.encode() + b"\n")
        count += len(rows)
        last = rows[-1].sequence
    return {"upto": upto, "rows": count, "last": last, "sha256": h.hexdigest()}


class OwedNotices:
    """Notices of the current unscheduled outage still owed to carriers that were not associated
    when they went out: each is sent, in order, to a carrier associating with the live node."""

    def __init__(self, agent: Any, record_path: Path, security_log: Any, contact: str,
                 clock_ms: Callable[[], int] = wall_ms, owed_ms: int = OWED_MS, timeout: float = 10.0):
        self.agent = agent
        self.path = record_path
        self.security_log = security_log
        self.contact = contact
        self.clock_ms = clock_ms
        self.owed_ms = owed_ms
        self.timeout = timeout
        self.outage: list[dict[str, Any]] = []  # kind, start_ms, stop_ms, text, sent_ms, told
        self._tasks: set[asyncio.Task[None]] = set()

    def noted(self, kind: str, details: dict[str, Any]) -> None:
        """A notice was just sent and recorded (UserNotices): remember it as owed."""
        if kind not in OUTAGE_KINDS:
            return
        if kind == "unscheduled-unavailability" and (not self.outage or self.outage[-1]["kind"] == "service-restored"):
            self.outage = []  # a new outage
        now = self.clock_ms()
        last = _last_record(self.path, kind) or {}
        told = {f"{d.get('system_id')}/{d.get('role')}" for d in last.get("delivered", []) if d.get("confirmed")}
        self.outage.append({"kind": kind, "start_ms": int(details.get("detected_ms") or details.get("time_ms") or now),
                            "stop_ms": now if kind == "service-restored" else None,
                            "text": str(last.get("text") or kind)[:255], "sent_ms": now, "told": told})

    def associated(self, conn: CmipConnection, live: bool) -> None:
        if not live or not self.outage or self.clock_ms() - self.outage[-1]["sent_ms"] > self.owed_ms:
            return
        key = f"{conn.context['lnp'].peer_id}/{carrier_role(conn)}"
        owed = [n for n in self.outage if key not in n["told"]]
        for notice in owed:
            notice["told"].add(key)
        if owed:
            task = asyncio.get_running_loop().create_task(self._send_all(conn, owed, key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send_all(self, conn: CmipConnection, owed: list[dict[str, Any]], key: str) -> None:
        for _ in range(100):  # the AARE is on its way: send once the association is open
            if conn.assoc.state == "open":
                break
            await asyncio.sleep(0.01)
        for notice in owed:
            await self._send(conn, notice, key)

    async def _send(self, conn: CmipConnection, notice: dict[str, Any], key: str) -> None:
        down = {"startTime": gtime(notice["start_ms"])}
        if notice["stop_ms"] is not None:
            down["stopTime"] = gtime(notice["stop_ms"])
        info = {"down-time": down, "npac-contact-number": self.contact,
                "additional-down-time-information": notice["text"]}

        def build(stamp: bytes) -> bytes:
            return encode_plain("NPAC-SMS-Operational-Information", {**info, "access-control": access_control(stamp)})
        confirmed = False
        try:
            await self.agent.send_event(conn, OIDS.object_class("lnpNPAC-SMS").oid,
                                        npac_root(self.agent.identity.system_id), NOTICE, build, self.timeout)
            confirmed = True
        except (RemoteError, AssociationLost, asyncio.TimeoutError) as exc:
            log.warning("owed notice %s to %s not confirmed: %s", notice["kind"], key, exc)
        system_id, role = key.split("/")
        record = {"time_ms": self.clock_ms(), "kind": notice["kind"], "text": notice["text"], "late": True,
                  "details": {"notice_sent_ms": notice["sent_ms"], "start_ms": notice["start_ms"]},
                  "delivered": [{"system_id": system_id, "role": role, "confirmed": confirmed}]}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
        self.security_log.record("user-notice", kind=notice["kind"], delivered=1, confirmed=int(confirmed),
                                 late=True, system_id=system_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _last_record(path: Path, kind: str) -> dict[str, Any] | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[-20:]
    except OSError:
        return None
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("kind") == kind and not rec.get("late"):
            return rec
    return None

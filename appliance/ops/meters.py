"""Service-level metering (Exhibit G): what the reports and the status document compute from.

`install_meters(services)` hooks the node's parts and records, on the injected clock:
- every carrier request, arrival to answer (the agent's request observers): SOA and LSMS
  transactions apart from queries, audits and edits (SLR 3 excludes those), per system id (SLR 5);
- every request and notification the NPAC sends, send to answer, per LSMS or SOA (SLR 6);
- every broadcast round, start to completion per version and per LSMS (SLR 4, the engine's listener
  and the broadcasts table);
- associations per carrier (interface availability, G(b)) and the node in service (G(a));
- usage per NPAC customer for billing (Exhibit E / Exhibit K Table 8): SV transactions by subtype,
  TN porting events (activations), audits, associations;
- events others report with `record_event(kind, start_ms, end_ms, details)`: outages (scheduled or
  not, with their notices), cutovers, restorals, trouble tickets, significant changes.

Nothing is written on a carrier's path: observations go into in-memory buckets (an hour per row), and
flushes through the one writer merge them into `slr_buckets` / `slr_intervals`: every `flush_s`
seconds the events, interval changes and the node's in-service row (its end is the node's last sign
of life, so after a crash the node counts as down from its last flush), every `buckets_every_s`
the buckets too. Rewriting the hour's rows every few seconds would put each row image (with its
histogram) in the journal hundreds of times an hour; once a minute keeps the journal growth to about
70 rows a minute at the NPAC bench load, and a crash loses at most that minute of observations.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.lnp.oids import OIDS
from appliance.lnp.security import LOCAL_SMS
from appliance.npac.effects import Broadcast
from appliance.ops import meter_records as mr
from appliance.osi import cmip
from appliance.store.broadcasts import BROADCASTS, FAILED
from appliance.store.store import Tx

log = logging.getLogger("appliance.ops.meters")

INTERVAL_COUNTER = "slr_interval"
# Exhibit K Table 8 SV transaction subtypes, found in the operation (CMIP action) names
_SUBTYPES = (("ConflictResolution", "conflict resolution"), ("RemoveFromConflict", "conflict resolution"),
             ("Conflict", "conflict"), ("Activate", "activate"), ("Disconnect", "disconnect"),
             ("Cancel", "cancel"), ("Modify", "modify"), ("Create", "create"))
_MISC_CLASSES = frozenset({"subscriptionAudit", "lnpAudits"})
# LSMS-originated operations on an association that serves both roles
_LSMS_ACTIONS = frozenset({"lnpRecoveryComplete", "lnpDownload"})


def sv_subtype(operation: str) -> str | None:
    for marker, subtype in _SUBTYPES:
        if marker.lower() in operation.lower():
            return subtype
    return "modify" if operation == "set" else None


def usage_party(sp: str, element: str, subtype: str = "") -> str:
    return f"{sp}|{element}|{subtype}"


@dataclass
class _Acc:
    count: int = 0
    errors: int = 0
    sum_ms: int = 0
    max_ms: int = 0
    active_s: int = 0
    peak_per_s: int = 0
    hist: dict[str, int] = field(default_factory=dict)


class Meters:
    ROWS_PER_WRITE = 16

    def __init__(self, services: Any, *, node: str = "node", flush_s: float = 5.0, buckets_every_s: float = 60.0,
                 bucket_ms: int = mr.HOUR_MS):
        self.services = services
        self.store = services.store
        self.writer = services.writer
        self.clock_ms: Callable[[], int] = services.clock_ms
        self.node = node
        self.flush_s = flush_s
        self.buckets_every_s = buckets_every_s
        self.bucket_ms = bucket_ms
        self._pending: dict[tuple[int, str, str], _Acc] = {}
        self._second: dict[tuple[str, str], list[int]] = {}  # (kind, party) -> [second, count in it]
        self._events: list[dict[str, Any]] = []
        self._open: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, party) -> the open interval row
        self._closed: list[dict[str, Any]] = []  # closed since the last flush
        self._associations: dict[str, int] = {}
        self._broadcast_start: dict[int, tuple[int, str]] = {}
        self._task: asyncio.Task | None = None
        self._flushing = asyncio.Lock()
        self._current: tuple[int, dict[str, Any]] | None = None  # (computed at, current_month())
        self._settled = False  # intervals a previous run left open are closed
        self.flushes = 0
        agent = services.agent
        agent.request_observers.append(self._request)
        agent.outgoing_observers.append(self._outgoing)
        agent.association_listeners.append(self._associated)
        services.engine.listeners.append(self._committed)

    # ---- recording ---------------------------------------------------------------------------------
    def observe(self, kind: str, party: str, ms: float | None, *, error: bool = False, n: int = 1,
                at_ms: int | None = None) -> None:
        """`n` occurrences of `kind` for `party` now, each taking `ms` (None: a count only)."""
        now = self.clock_ms() if at_ms is None else at_ms
        acc = self._pending.setdefault((now - now % self.bucket_ms, kind, party), _Acc())
        acc.count += n
        acc.errors += n if error else 0
        if ms is not None:
            value = max(0, int(round(ms)))
            acc.sum_ms += value * n
            acc.max_ms = max(acc.max_ms, value)
            mr.hist_add(acc.hist, value, n)
        second = now // 1000
        state = self._second.get((kind, party))
        if state is None or state[0] != second:
            state = self._second[(kind, party)] = [second, 0]
            acc.active_s += 1
        state[1] += n
        acc.peak_per_s = max(acc.peak_per_s, state[1])

    def record_event(self, kind: str, start_ms: int, end_ms: int | None = None,
                     details: dict[str, Any] | None = None, party: str = "") -> None:
        """An outage, cutover, restoral, trouble ticket or change (meter_records.EVENT_KINDS); written
        at the next flush."""
        if kind not in mr.EVENT_KINDS:
            raise ValueError(f"unknown service-level event kind {kind!r}")
        if end_ms is not None and end_ms < start_ms:
            raise ValueError(f"{kind} ends before it starts")
        self._events.append({"kind": kind, "party": party, "node": self.node, "start_ms": int(start_ms),
                             "end_ms": None if end_ms is None else int(end_ms), "open": False,
                             "details": dict(details or {})})

    def count_usage(self, sp: str, element: str, subtype: str = "", quantity: int = 1) -> None:
        """A billing element (Exhibit E / Exhibit K Table 8) used by NPAC customer `sp`."""
        if quantity > 0:
            self.observe(mr.USAGE, usage_party(sp, element, subtype), None, n=quantity)

    def set_in_service(self, live: bool) -> None:
        """The node became live (or stopped being): the G(a) service interval opens or closes."""
        self._interval(mr.SERVICE, self.node, live)

    def _interval(self, kind: str, party: str, up: bool) -> None:
        now = self.clock_ms()
        row = self._open.get((kind, party))
        if up and row is None:
            self._open[(kind, party)] = {"interval_id": None, "kind": kind, "party": party, "node": self.node,
                                         "start_ms": now, "end_ms": now, "open": True, "details": {}}
        elif not up and row is not None:
            row.update(end_ms=now, open=False)
            self._closed.append(self._open.pop((kind, party)))

    # ---- hooks ---------------------------------------------------------------------------------------
    def _request(self, conn: Any, request: Any) -> Callable[[Any], None]:
        start = self.clock_ms()
        endpoint = conn.context.get("lnp")
        sid = (getattr(endpoint, "peer_id", None) or "?") if endpoint is not None else "?"
        role, misc = self._classify(endpoint, request)

        def done(answer: Any) -> None:
            try:
                failed = isinstance(answer, BaseException)
                edit = isinstance(answer, cmip.CmipError)  # input refused by the edits (validation)
                kind = f"{role}-misc" if misc or edit else f"{role}-request"
                self.observe(kind, sid, self.clock_ms() - start, error=failed or edit)
            except Exception:  # metering must never cost a carrier its answer
                log.exception("metering a request from %s failed", sid)
        return done

    @staticmethod
    def _classify(endpoint: Any, request: Any) -> tuple[str, bool]:
        grant = getattr(endpoint, "grant", None)
        record = OIDS.find(request.object_class) if isinstance(getattr(request, "object_class", None), str) else None
        class_name = record.name if record is not None else ""
        action = getattr(request, "action_type", None)
        action_name = (OIDS.find(action).name if isinstance(action, str) and OIDS.find(action) else "")
        if grant is not None and grant.system_type == LOCAL_SMS:
            role = "lsms"
        elif isinstance(request, cmip.EventReportRequest) or action_name in _LSMS_ACTIONS:
            role = "lsms" if grant is None or "lsms.dataDownload" in grant.functions else "soa"
        else:
            role = "soa"
        misc = (isinstance(request, (cmip.GetRequest, cmip.CancelGetRequest)) or class_name in _MISC_CLASSES
                or "audit" in action_name.lower())
        return role, misc

    def _outgoing(self, conn: Any, request: Any) -> Callable[[Any], None]:
        start = self.clock_ms()
        endpoint = conn.context.get("lnp")
        sid = (getattr(endpoint, "peer_id", None) or "?") if endpoint is not None else "?"
        grant = getattr(endpoint, "grant", None)
        to_lsms = not isinstance(request, cmip.EventReportRequest) or (grant is not None
                                                                        and grant.system_type == LOCAL_SMS)
        kind = mr.LSMS_TRANSACTION if to_lsms else mr.SOA_NOTIFICATION

        def done(outcome: Any) -> None:
            try:
                self.observe(kind, sid, self.clock_ms() - start, error=isinstance(outcome, BaseException))
            except Exception:
                log.exception("metering a request to %s failed", sid)
        return done

    def _associated(self, conn: Any) -> None:
        endpoint = conn.context.get("lnp")
        sid = getattr(endpoint, "peer_id", None)
        if not sid:
            return
        self._associations[sid] = self._associations.get(sid, 0) + 1
        self._interval(mr.INTERFACE, sid, True)
        self.observe(mr.ASSOCIATION, sid, None)
        self.count_usage(sid, "Mechanized Interface", "association")
        closed = getattr(conn, "closed", None)
        if closed is not None:
            closed.add_done_callback(lambda _: self._disassociated(sid))

    def _disassociated(self, sid: str) -> None:
        left = self._associations.get(sid, 1) - 1
        self._associations[sid] = left
        if left <= 0:
            self._associations.pop(sid, None)
            self._interval(mr.INTERFACE, sid, False)

    def _committed(self, outcome: Any) -> None:
        try:
            self._metered(outcome)
        except Exception:
            log.exception("metering a commit failed")

    def _metered(self, outcome: Any) -> None:
        now = self.clock_ms()
        versions = {v.version_id: v for v in outcome.versions}
        for effect in outcome.effects:
            if isinstance(effect, Broadcast):
                version = versions.get(effect.version_id)
                kind = getattr(version, "broadcast_kind", None) or str(effect.operation)
                self._broadcast_start[effect.version_id] = (now, str(kind))
        if outcome.operation == "broadcast-complete":
            for version_id in outcome.version_ids:
                self._broadcast_done(version_id, versions.get(version_id), now)
            return
        subtype = sv_subtype(outcome.operation or "")
        if outcome.requester and subtype and outcome.version_ids:
            n = len(outcome.version_ids)
            self.count_usage(outcome.requester, "SV transactions", subtype, n)
            if subtype == "activate":
                self.count_usage(outcome.requester, "TN Porting Event", "", n)
        elif outcome.requester and "audit" in (outcome.operation or "").lower():
            self.count_usage(outcome.requester, "Audit", "")

    def _broadcast_done(self, version_id: int, version: Any, now: int) -> None:
        start, kind = self._broadcast_start.pop(version_id, (None, None))
        if start is None and version is not None and version.broadcast_ms is not None:
            start, kind = version.broadcast_ms, str(version.broadcast_kind or "activate")
        if start is None:
            return
        self.observe(mr.BROADCAST, kind or "", now - start)
        for row in BROADCASTS.for_version(self.store, version_id):
            if row["result_ms"] is not None and row["result_ms"] >= start:
                self.observe(mr.BROADCAST_LSMS, row["lsms_sp_id"], row["result_ms"] - start,
                             error=row["state"] == FAILED)

    # ---- writing -------------------------------------------------------------------------------------
    async def flush(self, full: bool = True) -> None:
        """Merge what was observed into the store (through the writer, `ROWS_PER_WRITE` bucket rows per
        transaction; events and intervals in the first). A light flush
        (`full=False`) writes only events, interval changes and the node's own in-service row; the
        buckets and the open interfaces' ends wait for the next full one."""
        async with self._flushing:
            pending, self._pending = (self._pending, {}) if full else ({}, self._pending)
            events, self._events = self._events, []
            now = self.clock_ms()
            for row in self._open.values():
                row["end_ms"] = max(row["end_ms"], now)
            closed, self._closed = self._closed, []
            open_rows = [*closed, *(row for key, row in self._open.items()
                                    if full or key[0] == mr.SERVICE or row["interval_id"] is None)]
            if not pending and not events and not open_rows:
                return
            # a few rows per transaction: the writer is held a few milliseconds at a time, never long
            # enough to delay a carrier's request noticeably (~2 ms per row image)
            items = list(pending.items())
            chunks = [items[i:i + self.ROWS_PER_WRITE] for i in range(0, len(items), self.ROWS_PER_WRITE)] or [[]]
            for n, chunk in enumerate(chunks):
                first = n == 0
                try:
                    await self.writer.run("service-level records", lambda tx, c=chunk, f=first: self._write(
                        tx, dict(c), events if f else [], open_rows if f else []))
                except Exception:
                    # keep what was not written for the next flush rather than lose a month's figures
                    for rest in chunks[n:]:
                        for key, acc in rest:
                            self._merge_back(key, acc)
                    if first:
                        self._events[:0] = events
                        self._closed[:0] = closed
                    raise
            self.flushes += 1

    def _merge_back(self, key: tuple[int, str, str], acc: _Acc) -> None:
        into = self._pending.setdefault(key, _Acc())
        into.count += acc.count
        into.errors += acc.errors
        into.sum_ms += acc.sum_ms
        into.max_ms = max(into.max_ms, acc.max_ms)
        into.active_s += acc.active_s
        into.peak_per_s = max(into.peak_per_s, acc.peak_per_s)
        mr.hist_merge(into.hist, acc.hist)

    def _write(self, tx: Tx, pending: dict[tuple[int, str, str], _Acc], events: list[dict[str, Any]],
               open_rows: list[dict[str, Any]]) -> None:
        for (start, kind, party), acc in pending.items():
            key = {"start_ms": start, "kind": kind, "party": party}
            row = tx.get("slr_buckets", key) or {}
            hist = mr.hist_merge(dict(row.get("hist") or {}), acc.hist)
            tx.upsert("slr_buckets", {
                **key, "count": (row.get("count") or 0) + acc.count, "errors": (row.get("errors") or 0) + acc.errors,
                "sum_ms": (row.get("sum_ms") or 0) + acc.sum_ms, "max_ms": max(row.get("max_ms") or 0, acc.max_ms),
                "active_s": (row.get("active_s") or 0) + acc.active_s,
                "peak_per_s": max(row.get("peak_per_s") or 0, acc.peak_per_s), "hist": hist})
        for event in events:
            tx.upsert("slr_intervals", {**event, "interval_id": tx.next_id(INTERVAL_COUNTER)})
        for row in open_rows:
            if row["interval_id"] is None:
                row["interval_id"] = tx.next_id(INTERVAL_COUNTER)
            tx.upsert("slr_intervals", dict(row))

    # ---- running -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Go in service and flush periodically. Nothing is awaited here: a node going live starts its
        services before its standby can acknowledge anything, and a write waits for that (sync
        replication), so the first writes happen in the background task."""
        self.set_in_service(True)
        for sid in self._associations:
            self._interval(mr.INTERFACE, sid, True)
        self._task = asyncio.ensure_future(self._run())

    async def _settle_previous_run(self) -> None:
        """Close what a previous run of this node left open (it ended at its last flush)."""
        def settle(tx: Tx) -> None:
            for row in tx.select("slr_intervals", "open = 1 AND node = ?", [self.node]):
                if row["interval_id"] not in {r["interval_id"] for r in self._open.values()}:
                    tx.upsert("slr_intervals", {"interval_id": row["interval_id"], "open": False})
        if self.store.select("slr_intervals", "open = 1 AND node = ?", [self.node], limit=1):
            await self.writer.run("service-level intervals of the previous run", settle)
        self._settled = True

    async def _run(self) -> None:
        try:
            await self._settle_previous_run()
            await self.flush()
        except Exception:
            log.exception("first service-level flush failed; kept for the next one")
        every = max(1, round(self.buckets_every_s / self.flush_s))
        tick = 0
        while True:
            await asyncio.sleep(self.flush_s)
            tick += 1
            try:
                await self.flush(full=tick % every == 0)
            except Exception:
                log.exception("service-level flush failed; kept for the next one")

    def detach(self) -> None:
        """Stop observing the node's parts (a node that stands down keeps its agent)."""
        for hooks, fn in ((self.services.agent.request_observers, self._request),
                          (self.services.agent.outgoing_observers, self._outgoing),
                          (self.services.agent.association_listeners, self._associated),
                          (self.services.engine.listeners, self._committed)):
            if fn in hooks:
                hooks.remove(fn)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Stop, closing the node's intervals with a last flush (given up after `timeout_s`: a node
        leaving the live role may no longer be allowed to write, or wait for a standby that is gone)."""
        self.detach()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.set_in_service(False)
        for sid in list(self._associations):
            self._interval(mr.INTERFACE, sid, False)
        async def last() -> None:
            if not self._settled:
                await self._settle_previous_run()
            await self.flush()
        try:
            await asyncio.wait_for(last(), timeout_s)
        except Exception as exc:  # includes the timeout
            log.warning("last service-level flush not written: %r", exc)

    # ---- the current month (status document, SNMP) -----------------------------------------------
    def current_month(self, max_age_ms: int = 60_000) -> dict[str, Any]:
        """Exhibit G meters over the current calendar month (UTC) as recorded so far: availability_pct
        (SLR 1), p95_ack_ms (SLR 3), mean_broadcast_ms (SLR 4), tps per SOA and per LSMS (SLR 5, 6),
        interface availability per carrier (SLR 7). Computed at most once per `max_age_ms` (the
        status document is polled; a month at full load takes a few hundred milliseconds)."""
        from appliance.ops.reports.periods import Period
        from appliance.ops.reports.service_levels import measure

        now = self.clock_ms()
        cached = self._current
        if cached is not None and 0 <= now - cached[0] < max_age_ms and cached[1]["month"] == Period.month_of(now).label:
            return cached[1]
        period = Period.month_of(now)
        m = measure(self.store, period.start_ms, period.end_ms, now)
        summary = {
            "month": period.label, "availability_pct": m.availability_pct, "p95_ack_ms": m.ack_p95_ms,
            "mean_broadcast_ms": m.broadcast_mean_ms,
            "tps_soa": {sid: a.rate for sid, a in m.soa.items()},
            "tps_lsms": {sid: a.rate for sid, a in m.lsms.items()},
            "interface_availability_pct": dict(m.interface_pct),
            "as_of": dt.datetime.fromtimestamp(now / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self._current = (now, summary)
        return summary

    def status_levels(self) -> Any:
        """The current month as the status document's ServiceLevels (read by the SNMP agent)."""
        from appliance.status import CarrierMeters, ServiceLevels

        c = self.current_month()
        carriers = sorted({*c["tps_soa"], *c["tps_lsms"], *c["interface_availability_pct"]})
        return ServiceLevels(month=c["month"], availability=c["availability_pct"], ack_p95_ms=c["p95_ack_ms"],
                             broadcast_mean_ms=c["mean_broadcast_ms"], carriers=[
                                 CarrierMeters(sid, soa_tps=c["tps_soa"].get(sid), lsms_tps=c["tps_lsms"].get(sid),
                                               availability=c["interface_availability_pct"].get(sid))
                                 for sid in carriers])


def install_meters(services: Any, *, node: str = "node", flush_s: float = 5.0, buckets_every_s: float = 60.0,
                   bucket_ms: int = mr.HOUR_MS) -> Meters:
    """Installer (NpacServices.install): the meters, hooked into the node's agent and engine."""
    return Meters(services, node=node, flush_s=flush_s, buckets_every_s=buckets_every_s, bucket_ms=bucket_ms)


def meters_installer(node: str, flush_s: float = 5.0) -> Callable[[Any], Meters]:
    """An installer for a named node (the interval rows say which node of the pair served)."""
    return lambda services: install_meters(services, node=node, flush_s=flush_s)


def meters_of(services: Any) -> Meters | None:
    """The meters installed on a node's services (for code that reports events: outages, cutovers)."""
    return next((part for part in getattr(services, "installed", ()) if isinstance(part, Meters)), None)

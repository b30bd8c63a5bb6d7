"""Subscription audits (IIS flows 6.2.1-6.2.6; FRS §8 R8-1..R8-12; DECISIONS "Audit results are sent
to the requesting SOA as subscriptionAudit-Results ... objectCreation/objectDeletion are sent").

An audit compares the NPAC's active subscription versions in a TN range with what each Local SMS
holds (a scoped/filtered M-GET of the LSMS's lnpSubscriptions, the NPAC acting as manager), corrects
every discrepancy on the LSMS (M-CREATE / M-SET / M-DELETE with download reason audit-discrepancy)
and, for a SOA-initiated audit, reports each one and the result to the requesting SOA.

Audit state lives in the store's `audits` table, written through the one writer. Notifications to
the SOA are sent directly on its association, not through the outbox: an audit is an interactive
operation of one association (6.2.2 puts objectDeletion before the M-DELETE response), and the
outbox is keyed to subscription versions. A lost SOA association does not stop the audit.

The requesting SOA or NPAC personnel may suspend and resume an audit (GDMO L36012-36058: M-SET of
subscriptionAuditStatus, attributeValueChange to the requester); it pauses before its next LSMS
query or correction. Finished audits are purged after Canceled_Audit_Retention_Period by a daily
housekeeping timer.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.agent import NpacAgent, ObjectAccessDenied, RequestContext
from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_plain, attribute_tlv, ms_of, rdn_plain
from appliance.npac import audit_interface as wire
from appliance.npac.history import DAY_MS, daily_job
from appliance.npac.lsms_link import LsmsLink
from appliance.npac.lsms_wire import (
    SV_FIELDS, create_request, delete_request, lsms_subscriptions, modify_request, succeeded,
)
from appliance.npac.model import DownloadReason, Status, SubscriptionVersion
from appliance.npac.persist import load_tunables
from appliance.npac.writer import Writer
from appliance.osi import cmip
from appliance.osi.cmip_filter import FIRST_LEVEL_ONLY, FilterAnd, FilterItem, MemoryObject
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import AssociationLost, RemoteError
from appliance.peers.lsms_mib import plain_attributes
from appliance.store.audits import AUDITS
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Store
from appliance.store.versions import VERSIONS

log = logging.getLogger("appliance.npac.audits")
SOA_FUNCTION = "soa.soaMgmt"
# What an LSMS holds (broadcast) for each NPAC status: the audit's "active" versions.
AUDITED = frozenset({Status.ACTIVE, Status.DISCONNECT_PENDING, Status.DOWNLOAD_FAILED_PARTIAL})
DEFAULT_MAX_TNS = 10_000  # IIS L30595 "NPAC maximum"; App. C names no tunable for it
# subscriptionAuditTN-NotificationNumber (GDMO L38496, GET only: the NPAC's to choose); no value is given
DEFAULT_TN_NOTIFICATION_NUMBER = 100
_MANDATORY = ("subscriptionAuditName", "subscriptionAuditServiceProvIdRange", "subscriptionAuditTN-Range")


@dataclass
class Discrepancy:
    lsms: str
    tn: str
    version_id: int
    reason: dict[str, Any]  # AuditFailureData (plain)
    corrected: bool = False


@dataclass
class Outcome:
    audit_id: int
    status: str  # AuditResultStatus
    discrepancies: list[Discrepancy] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class AuditService:
    def __init__(self, agent: NpacAgent, writer: Writer, store: Store, link: LsmsLink, npac_dn: tuple, *,
                 max_tns: int = DEFAULT_MAX_TNS, request_timeout: float = 10.0,
                 notification_number: int = DEFAULT_TN_NOTIFICATION_NUMBER):
        if notification_number < 1:
            raise ValueError("the audit TN notification number is at least 1")
        self.agent = agent
        self.writer = writer
        self.store = store
        self.link = link
        self.npac_dn = tuple(npac_dn)
        self.max_tns = max_tns
        self.notification_number = notification_number
        self.request_timeout = request_timeout
        self.tasks: dict[int, asyncio.Task] = {}
        self.outcomes: dict[int, Outcome] = {}  # finished audits, for NPAC personnel (6.2.4 g)
        self.listeners: list[Callable[[Outcome], None]] = []
        self._running: dict[int, asyncio.Event] = {}  # cleared while the audit is suspended

    def register(self) -> None:
        self.agent.on_operation("create", "subscriptionAudit", self._on_create)
        self.agent.on_operation("delete", "subscriptionAudit", self._on_delete)
        self.agent.on_operation("set", "subscriptionAudit", self._on_set)
        self.agent.mount(wire.lnp_audits_dn(self.npac_dn), self._view)

    # ---- NPAC personnel (flows 6.2.3, 6.2.4, 6.2.5) -----------------------------------------------
    async def start_npac_audit(self, tn_start: str, tn_stop: str, *, name: str = "NPAC audit",
                               sp_scope: str | None = None, attributes: dict[str, Any] | None = None,
                               activation_range: dict[str, str] | None = None) -> int:
        """Flow 6.2.4 (R8-5.1): an audit with no requesting SOA (no SOA notifications). `sp_scope` is an
        SP id or name; `attributes` AuditAttributes' specific-audit flags; `activation_range` a
        TimeRange ({"startTime", "stopTime"} GeneralizedTime text)."""
        self._check_range(tn_start, tn_stop)
        row = await self._create_row({"name": name, "requesting_sp": None, "tn_start": tn_start,
                                      "tn_stop": tn_stop, "sp_scope": sp_scope,
                                      "attributes": {"specific-audit": attributes} if attributes else None,
                                      "activation_range": activation_range})
        self._launch(row["audit_id"])
        return row["audit_id"]

    async def cancel(self, audit_id: int) -> bool:
        """Flows 6.2.3 / 6.2.5: NPAC personnel cancel; the originating SOA (if any) hears objectDeletion."""
        row = await self._stop(audit_id)
        if row is None:
            return False
        if row["requesting_sp"]:
            await self._notify(row, "objectDeletion", lambda s: wire.object_info(
                row, "objectDeletion", s, self.notification_number))
        return True

    async def suspend(self, audit_id: int) -> bool:
        """GDMO L36012-36058: the audit pauses (between LSMS queries and corrections)."""
        return await self._set_status(audit_id, "in-progress", "suspended")

    async def resume(self, audit_id: int) -> bool:
        return await self._set_status(audit_id, "suspended", "in-progress")

    async def _set_status(self, audit_id: int, old: str, new: str) -> bool:
        def change(tx: Any) -> dict[str, Any] | None:
            row = AUDITS.get(tx, audit_id)
            return AUDITS.set_status(tx, audit_id, new) if row is not None and row["status"] == old else None
        row = await self.writer.run(f"audit {audit_id} {new}", change)
        if row is None:
            return False
        running = self._running.get(audit_id)
        if running is not None and new == "in-progress":
            running.set()
        elif running is not None:
            running.clear()
        await self._notify(row, "attributeValueChange", lambda s: wire.status_change(old, new, s))
        return True

    async def wait(self, audit_id: int) -> Outcome | None:
        task = self.tasks.get(audit_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        return self.outcomes.get(audit_id)

    async def purge(self) -> int:
        """Canceled_Audit_Retention_Period (App. C L22810): finished audits are kept that many days."""
        def purge(tx: Any) -> int:
            cutoff = tx.now_ms - load_tunables(tx).canceled_audit_retention * DAY_MS
            rows = AUDITS.where(tx, "status IN ('canceled', 'complete') AND completed_ms < ?", [cutoff])
            for row in rows:
                AUDITS.delete(tx, row["audit_id"])
            return len(rows)
        return await self.writer.run("purge audits", purge)

    async def close(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    # ---- SOA requests --------------------------------------------------------------------------
    async def _on_create(self, ctx: RequestContext) -> Any:
        """Flow 6.2.1 b-e."""
        req: cmip.CreateRequest = ctx.request
        known = {oid: OIDS.find(oid) for oid, _ in req.attributes}
        if any(r is None or r.kind != "attribute" for r in known.values()):
            return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, None)
        missing = [n for n in _MANDATORY if n not in {r.name for r in known.values()}]
        if missing:
            return cmip.CmipError(cmip.MISSING_ATTRIBUTE_VALUE, tuple(OIDS.attribute(n).oid for n in missing))
        given = dict(req.attributes)
        try:
            asked = wire.decode_create(tuple(
                (oid, tlv) for oid, tlv in req.attributes if known[oid].name != "serviceProvID"))
            if asked["activation_range"]:
                _activation_window(asked["activation_range"])
        except (ProtocolError, KeyError, ValueError, TypeError):
            return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, None)
        sp_oid = OIDS.attribute("serviceProvID").oid
        if not asked["requesting_sp"] and sp_oid in given:
            asked["requesting_sp"] = attribute_plain("serviceProvID", given[sp_oid])
        if asked["requesting_sp"] and asked["requesting_sp"] != ctx.system_id:
            return cmip.CmipError(cmip.ACCESS_DENIED)
        asked["requesting_sp"] = ctx.system_id
        try:
            self._check_range(asked["tn_start"], asked["tn_stop"])
        except ValueError:
            tn_range = OIDS.attribute("subscriptionAuditTN-Range").oid
            return cmip.CmipError(cmip.INVALID_ATTRIBUTE_VALUE, (tn_range, given[tn_range]))
        row = await self._create_row(asked)
        dn = wire.audit_dn(self.npac_dn, row["audit_id"])
        # the create response goes out before the objectCreation (6.2.1 c, d)
        asyncio.get_running_loop().call_soon(self._launch, row["audit_id"], True)
        return cmip.CreateResult(wire.AUDIT_CLASS, dn, self.agent.clock(),
                                 tuple(wire.row_attributes(row, self.notification_number).items()))

    async def _on_delete(self, ctx: RequestContext) -> Any:
        """Flow 6.2.2: only the originating SOA; objectDeletion before the M-DELETE response."""
        audit_id = self._audit_id(ctx.request.object_instance)
        row = AUDITS.get(self.store, audit_id) if audit_id is not None else None
        if row is None or row["status"] not in ("in-progress", "suspended"):
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, ctx.request.object_instance)
        if row["requesting_sp"] != ctx.system_id:
            return cmip.CmipError(cmip.ACCESS_DENIED)
        await self.cancel(audit_id)
        return cmip.DeleteResult(wire.AUDIT_CLASS, ctx.request.object_instance, self.agent.clock())

    async def _on_set(self, ctx: RequestContext) -> Any:
        """The SOA suspends or resumes its audit: M-SET subscriptionAuditStatus (GET-REPLACE, L36012)."""
        req: cmip.SetRequest = ctx.request
        audit_id = self._audit_id(req.object_instance)
        row = AUDITS.get(self.store, audit_id) if audit_id is not None else None
        if row is None or row["status"] not in ("in-progress", "suspended"):
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        if row["requesting_sp"] != ctx.system_id:
            return cmip.CmipError(cmip.ACCESS_DENIED)
        status_oid = OIDS.attribute("subscriptionAuditStatus").oid
        if len(req.modifications) != 1 or req.modifications[0][0] != status_oid:
            return cmip.CmipError(cmip.ACCESS_DENIED)
        try:
            wanted = attribute_plain("subscriptionAuditStatus", req.modifications[0][1])
        except ProtocolError:
            return cmip.CmipError(cmip.INVALID_ATTRIBUTE_VALUE, req.modifications[0][:2])
        if wanted not in ("in-progress", "suspended"):
            return cmip.CmipError(cmip.INVALID_ATTRIBUTE_VALUE, req.modifications[0][:2])
        if wanted != row["status"]:
            await self._set_status(audit_id, row["status"], wanted)
        return cmip.SetResult(wire.AUDIT_CLASS, req.object_instance, self.agent.clock(),
                              ((status_oid, req.modifications[0][1]),))

    # ---- 6.2.6: the audits a SOA may read --------------------------------------------------------
    def _view(self, ctx: RequestContext | None) -> "AuditTree":
        return AuditTree(self, ctx.system_id if ctx is not None else None)

    def _audit_id(self, dn: Any) -> int | None:
        base = wire.lnp_audits_dn(self.npac_dn)
        if not isinstance(dn, tuple) or len(dn) != len(base) + 1 or dn[:-1] != base:
            return None
        try:
            return int(rdn_plain(dn, -1)[1])
        except (ProtocolError, KeyError, ValueError, TypeError):
            return None

    # ---- running an audit ------------------------------------------------------------------------
    def _check_range(self, tn_start: str, tn_stop: str) -> None:
        if len(tn_start) != 10 or len(tn_stop) != 10 or not (tn_start + tn_stop).isdigit():
            raise ValueError("a TN range is two 10-digit TNs")
        if int(tn_stop) < int(tn_start) or int(tn_stop) - int(tn_start) + 1 > self.max_tns:
            raise ValueError(f"TN range {tn_start}-{tn_stop} above the maximum of {self.max_tns}")

    async def _create_row(self, asked: dict[str, Any]) -> dict[str, Any]:
        # subscriptionAuditNumberOfTNs is set (and announced) when the audit begins and selects its TNs
        return await self.writer.run("audit create", lambda tx: AUDITS.add(tx, {
            **asked, "status": "in-progress", "tns_total": 0, "tns_complete": 0, "discrepancies": 0,
            "failed_sp_list": [], "created_ms": tx.now_ms}))

    def _launch(self, audit_id: int, notify: bool = False) -> None:
        running = self._running[audit_id] = asyncio.Event()
        running.set()
        task = asyncio.ensure_future(self._run(audit_id, notify))
        self.tasks[audit_id] = task

        def done(_: Any) -> None:
            self.tasks.pop(audit_id, None)
            self._running.pop(audit_id, None)
        task.add_done_callback(done)

    async def _stop(self, audit_id: int) -> dict[str, Any] | None:
        row = AUDITS.get(self.store, audit_id)
        if row is None or row["status"] not in ("in-progress", "suspended"):
            return None
        task = self.tasks.get(audit_id)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        def stop(tx: Any) -> dict[str, Any] | None:
            # the audit may have completed while its task was being stopped
            current = AUDITS.get(tx, audit_id)
            if current is None or current["status"] not in ("in-progress", "suspended"):
                return None
            return AUDITS.set_status(tx, audit_id, "canceled")
        return await self.writer.run(f"audit {audit_id} canceled", stop)

    async def _run(self, audit_id: int, notify: bool) -> None:
        row = AUDITS.get(self.store, audit_id)
        if notify:  # 6.2.1 d
            await self._notify(row, "objectCreation", lambda s: wire.object_info(
                row, "objectCreation", s, self.notification_number))
        outcome = Outcome(audit_id, "success")
        compared = wire.compared_attributes(row["attributes"])
        npac = self._npac_versions(row)
        running = self._running[audit_id]
        # L36024: the NPAC sets the number of TNs its criteria select, and says so
        row = await self._progress(row, notify, tns_total=len(npac))
        unanswered: set[str] = set()
        for lo, hi, count in tn_blocks(row["tn_start"], row["tn_stop"], sorted(npac), self.notification_number):
            for lsms in self.link.subscription_lsms():
                if lsms in unanswered:
                    continue
                await running.wait()
                held = await self._query(lsms, lo, hi)
                if held is None:
                    unanswered.add(lsms)
                    outcome.failed.append(lsms)
                    continue
                held = {tn: values for tn, values in held.items() if self._in_scope(row, values)}
                block = {tn: v for tn, v in npac.items() if lo <= tn <= hi}
                for found in self._compare(lsms, block, held, compared):
                    await running.wait()
                    found.corrected = await self._correct(found, npac.get(found.tn))
                    outcome.discrepancies.append(found)
                    if notify:  # 6.2.1 j
                        await self._notify(row, "subscriptionAudit-DiscrepancyRpt", lambda s, f=found: (
                            wire.discrepancy_report(f.tn, f.version_id, f.lsms, f.reason, s)))
            if count == self.notification_number:  # L38376: only ever incremented by that amount
                row = await self._progress(row, notify, tns_complete=row["tns_complete"] + count)
        # an LSMS that could not be corrected still differs from the NPAC
        outcome.failed.extend(sorted({d.lsms for d in outcome.discrepancies if not d.corrected} - set(outcome.failed)))
        if outcome.failed:
            outcome.status = "failed-on-local-sms"
        elif outcome.discrepancies:
            outcome.status = "failed-due-to-discrepancies"

        def finish(tx: Any) -> dict[str, Any]:
            AUDITS.put(tx, {"audit_id": audit_id, "tns_complete": row["tns_total"],
                            "discrepancies": len(outcome.discrepancies), "failed_sp_list": outcome.failed})
            return AUDITS.set_status(tx, audit_id, "complete")
        done = await self.writer.run(f"audit {audit_id} complete", finish)
        self.outcomes[audit_id] = outcome
        if notify:  # the status change (L36012) with the last of the count, then 6.2.1 n, p
            changes = [("subscriptionAuditStatus", wire.WIRE_STATUS[row["status"]], "complete")]
            if done["tns_complete"] != row["tns_complete"]:
                changes.append(("subscriptionAuditNumberOfTNsComplete", row["tns_complete"], done["tns_complete"]))
            await self._notify(done, "attributeValueChange", lambda s: wire.attribute_changes(changes, s))
            failed = [(sp, (SERVICE_PROVIDERS.get(self.store, sp) or {}).get("name") or sp) for sp in outcome.failed]
            await self._notify(done, "subscriptionAuditResults", lambda s: wire.results(
                outcome.status, failed, len(outcome.discrepancies), done["completed_ms"], s))
            await self._notify(done, "objectDeletion", lambda s: wire.object_info(
                done, "objectDeletion", s, self.notification_number))
        for listener in self.listeners:
            listener(outcome)

    async def _progress(self, row: dict[str, Any], notify: bool, **counts: int) -> dict[str, Any]:
        """Record subscriptionAuditNumberOfTNs / ...NumberOfTNsComplete (tns_total / tns_complete) and
        tell the requester in one attributeValueChange (GDMO L36024-36030, L38334-38376; R8-11)."""
        names = {"tns_total": "subscriptionAuditNumberOfTNs", "tns_complete": "subscriptionAuditNumberOfTNsComplete"}
        updated = await self.writer.run(f"audit {row['audit_id']} progress", lambda tx: AUDITS.put(
            tx, {"audit_id": row["audit_id"], **counts}))
        if notify:
            changes = [(names[k], row[k], v) for k, v in counts.items()]
            await self._notify(updated, "attributeValueChange", lambda s: wire.attribute_changes(changes, s))
        return updated

    def _npac_versions(self, row: dict[str, Any]) -> dict[str, SubscriptionVersion]:
        rows = VERSIONS.where(self.store, "tn >= ? AND tn <= ?", [row["tn_start"], row["tn_stop"]], order_by="version_id")
        out = {r["tn"]: SubscriptionVersion.from_row(r) for r in rows if Status(r["status"]) in AUDITED}
        return {tn: v for tn, v in out.items() if self._in_scope(row, npac_values(v))}

    def _in_scope(self, row: dict[str, Any], values: dict[str, Any]) -> bool:
        """R8-2 / 6.2.1 b: one SP's versions (AuditServiceProvIdRange names it by SP name, seed 42238,
        or by id), activated within the TN-ActivationRange when one is given."""
        scope = row["sp_scope"]
        if scope:
            sp = SERVICE_PROVIDERS.get(self.store, scope) or SERVICE_PROVIDERS.by_name(self.store, scope) or {}
            if values.get("subscriptionNewCurrentSP") not in (scope, sp.get("sp_id")):
                return False
        if row["activation_range"]:
            start, stop = _activation_window(row["activation_range"])
            stamp = values.get("subscriptionActivationTimeStamp")
            if stamp is None or not start <= ms_of(stamp) <= stop:
                return False
        return True

    async def _query(self, lsms: str, tn_start: str, tn_stop: str) -> dict[str, dict[str, Any]] | None:
        """6.2.1 g-h: the LSMS's versions in the range ({TN: plain attributes}); None if it cannot answer."""
        conn = self.link.connection(lsms)
        if conn is None:
            return None
        tn = OIDS.attribute("subscriptionTN").oid
        # CMIP puts the asserted value first: lessOrEqual(start) is start <= TN
        flt = FilterAnd((FilterItem("lessOrEqual", tn, attribute_tlv("subscriptionTN", tn_start)),
                         FilterItem("greaterOrEqual", tn, attribute_tlv("subscriptionTN", tn_stop))))
        request = cmip.GetRequest(OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions(lsms),
                                  FIRST_LEVEL_ONLY, flt)
        try:
            answer = await self.agent.send_request(conn, request, self.request_timeout)
        except (RemoteError, AssociationLost, TimeoutError) as exc:
            log.warning("audit query of %s failed: %s", lsms, exc)
            return None
        held: dict[str, dict[str, Any]] = {}
        version_class = OIDS.object_class("subscriptionVersion").oid
        for reply in (answer.result, *answer.linked):
            if isinstance(reply, cmip.GetResult) and reply.object_class == version_class:
                values = plain_attributes(dict(reply.attributes))
                if values.get("subscriptionTN"):
                    held[values["subscriptionTN"]] = values
        return held

    def _compare(self, lsms: str, npac: dict[str, SubscriptionVersion], held: dict[str, dict[str, Any]],
                 compared: tuple[str, ...]) -> list[Discrepancy]:
        """6.2.1 i: missing on either side, or differing in the audited attributes."""
        found = []
        for tn in sorted(set(npac) | set(held)):
            version, values = npac.get(tn), held.get(tn)
            if values is None:
                found.append(Discrepancy(lsms, tn, version.version_id, {"tn-version-missing-LSMS": None}))
            elif version is None:
                found.append(Discrepancy(lsms, tn, int(values.get("subscriptionVersionId") or 0),
                                         {"tn-version-missing-NPAC": None}))
            else:
                expected = npac_values(version)
                differing = [a for a in compared if _norm(values.get(a)) != _norm(expected.get(a))]
                if differing:
                    found.append(Discrepancy(lsms, tn, version.version_id,
                                             {"mismatch-data": wire.mismatch(values, expected, tuple(differing))}))
        return found

    async def _correct(self, found: Discrepancy, version: SubscriptionVersion | None) -> bool:
        """6.2.1 l: the corrective request, download reason audit-discrepancy."""
        conn = self.link.connection(found.lsms)
        if conn is None:
            return False
        reason = DownloadReason.AUDIT_DISCREPANCY
        if version is None:
            request: Any = delete_request(found.lsms, found.tn)
        elif "tn-version-missing-LSMS" in found.reason:
            request = create_request(found.lsms, version, reason)
        else:
            request = modify_request(found.lsms, version, reason)
        try:
            return succeeded(await self.agent.send_request(conn, request, self.request_timeout))
        except (RemoteError, AssociationLost, TimeoutError) as exc:
            log.warning("audit correction of %s at %s failed: %s", found.tn, found.lsms, exc)
            return False

    async def _notify(self, row: dict[str, Any], event: str, build: Callable[[bytes], bytes]) -> None:
        conns = self.agent.associations_of(row["requesting_sp"], SOA_FUNCTION) if row["requesting_sp"] else []
        if not conns:
            return
        try:
            await self.agent.send_event(conns[0], wire.AUDIT_CLASS, wire.audit_dn(self.npac_dn, row["audit_id"]),
                                        event, build, self.request_timeout)
        except (RemoteError, AssociationLost, TimeoutError) as exc:
            log.warning("audit %s %s to %s not confirmed: %s", row["audit_id"], event, row["requesting_sp"], exc)


def tn_blocks(tn_start: str, tn_stop: str, selected: list[str], size: int) -> list[tuple[str, str, int]]:
    """The audit's TN range cut into consecutive sub-ranges (lo, hi, count) each holding `size` of the
    `selected` TNs (sorted) - the last one what is left - and together covering the whole range, so a
    TN only an LSMS holds is still queried. The NPAC counts progress one block at a time."""
    blocks: list[tuple[str, str, int]] = []
    lo = tn_start
    for i in range(0, len(selected), size):
        chunk = selected[i:i + size]
        hi = tn_stop if i + size >= len(selected) else chunk[-1]
        blocks.append((lo, hi, len(chunk)))
        lo = f"{int(hi) + 1:010d}"
    return blocks or [(tn_start, tn_stop, 0)]


def npac_values(version: SubscriptionVersion) -> dict[str, Any]:
    """The version's LSMS attribute values (plain), as a broadcast would have set them."""
    row = version.to_row()
    return {f.attribute: f.wire(row[f.column]) for f in SV_FIELDS if row[f.column] is not None or f.always}


def _activation_window(time_range: dict[str, Any]) -> tuple[int, int]:
    start, stop = time_range.get("startTime"), time_range.get("stopTime")
    return (ms_of(start) if start else 0, ms_of(stop) if stop else 2**63)


def _norm(value: Any) -> Any:
    return None if value == {"no-value-needed": None} else value


class AuditTree:
    """lnpAudits and the open audits, as the asking SOA may see them (6.2.6: accessDenied for another
    SP's audit)."""

    def __init__(self, service: AuditService, asker: str | None):
        self.service = service
        self.asker = asker
        self.base = wire.lnp_audits_dn(service.npac_dn)

    def get(self, dn: tuple) -> MemoryObject | None:
        if dn == self.base:
            return MemoryObject(self.base, wire.LNP_AUDITS_CLASS,
                                {OIDS.attribute("lnpAuditsName").oid: attribute_tlv("lnpAuditsName", "lnpAudits")})
        audit_id = self.service._audit_id(dn)
        row = AUDITS.get(self.service.store, audit_id) if audit_id is not None else None
        if row is None or row["status"] not in ("in-progress", "suspended"):
            return None
        if self.asker is not None and row["requesting_sp"] != self.asker:
            raise ObjectAccessDenied(dn)
        return MemoryObject(dn, wire.AUDIT_CLASS, wire.row_attributes(row, self.service.notification_number))

    def children(self, dn: tuple) -> list[MemoryObject]:
        if dn != self.base:
            return []
        return [MemoryObject(wire.audit_dn(self.service.npac_dn, r["audit_id"]), wire.AUDIT_CLASS,
                             wire.row_attributes(r, self.service.notification_number))
                for r in AUDITS.open(self.service.store)
                if self.asker is None or r["requesting_sp"] == self.asker]


def install_audits(services: Any) -> AuditService:
    """Installer for NpacServices (after lsms_side, whose link it shares)."""
    side = next(p for p in services.installed if hasattr(p, "link"))
    service = AuditService(services.agent, services.writer, services.store, side.link,
                           services.soa.view().container_dn[:1])
    service.register()
    daily_job(services, "audits", service.purge)
    return service

"""Changes NPAC personnel make to many subscription versions at once (FRS R3-6, R3-7.1, R3-13, RN3-1..RN3-3;
IIS flows 6.6.1 NPA split and 6.7 mass update). Python APIs a console calls; SPs cannot reach them
(FRS 2.3.4 "mass updates are blocked on the interface").

Each change is one writer transaction over the store; the SOA notices go through the outbox (so the
notifier's order and retries apply), and the LSMSs are told once the change has committed:
- mass update (6.7 d): one scoped/filtered M-SET per LSMS, the TN range as primary filter (L35468)
  narrowed to the SP's versions, carrying the changed attributes with download reason modified;
- NPA split (6.6.1, R3-13): the new NPA-NXX goes to the LSMSs as network data, then each version the
  LSMS holds is renamed by an M-SET of its subscriptionTN (the flow names no CMIP operation; the
  LSMS's version keeps its id). During the permissive dialing period the old NPA-NXX stays defined
  and `current_tn` maps an old-NPA TN to the new one (RN3-2); at its end the old NPA-NXX is removed
  (RN3-3) by `end_due_splits`, which the timer runner's housekeeping calls.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.agent import NpacAgent
from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_tlv
from appliance.npac import notices
from appliance.npac.lsms_link import LsmsLink
from appliance.npac.lsms_wire import SV_FIELDS, lsms_subscriptions, succeeded, version_dn
from appliance.npac.model import DownloadReason, Status, SubscriptionVersion
from appliance.npac.network_wire import NPA_NXX
from appliance.npac.notifier import SOA_FUNCTION, Notifier
from appliance.npac.npa_split import permissive_tn
from appliance.npac.writer import Writer, tx_after
from appliance.osi import cmip
from appliance.osi.cmip_filter import BASE_OBJECT, FIRST_LEVEL_ONLY, FilterAnd, FilterItem
from appliance.osi.transport import AssociationLost, RemoteError
from appliance.store.network import LRNS, NPA_NXX as NPA_NXX_ROWS, SERVICE_PROVIDERS
from appliance.store.outbox import OUTBOX
from appliance.store.store import Store, Tx
from appliance.store.versions import VERSIONS

log = logging.getLogger("appliance.npac.mass_update")
S = Status
# R3-6 (L9361): the statuses a mass change reaches; R3-7.1: old, partial failure, sending, canceled never
MASS_STATUSES = frozenset({S.ACTIVE, S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING, S.CANCEL_PENDING,
                           S.DISCONNECT_PENDING, S.DOWNLOAD_FAILED})
AT_LSMS = frozenset({S.ACTIVE, S.DISCONNECT_PENDING})  # what the LSMSs hold after a successful broadcast
# R3-6: routing data (LRN, LIDB, CLASS, ISVM, CNAM) and the other SP-given data of a version
MASS_FIELDS = frozenset({"lrn", "class_dpc", "class_ssn", "lidb_dpc", "lidb_ssn", "cnam_dpc", "cnam_ssn",
                         "isvm_dpc", "isvm_ssn", "billing_id", "end_user_location_value", "end_user_location_type"})
AVC = "attributeValueChange"


class MassUpdateRefused(ValueError):
    """Nothing was changed (6.7 c, or a request outside what personnel may mass-change)."""


@dataclass
class MassOutcome:
    version_ids: list[int]
    lsms_ok: list[str] = field(default_factory=list)
    lsms_failed: list[str] = field(default_factory=list)


class MassUpdates:
    def __init__(self, agent: NpacAgent, writer: Writer, store: Store, link: LsmsLink, notifier: Notifier,
                 clock_ms: Callable[[], int], request_timeout: float = 10.0):
        self.agent = agent
        self.writer = writer
        self.store = store
        self.link = link
        self.notifier = notifier
        self.clock_ms = clock_ms
        self.request_timeout = request_timeout
        # told of each committed change: (activity, [(before, after)]) - the transaction history
        self.listeners: list[Callable[[str, list[tuple[SubscriptionVersion, SubscriptionVersion]]], None]] = []

    # ---- 6.7 mass update -------------------------------------------------------------------------
    async def mass_update(self, sp: str, tn_start: str, tn_stop: str, changes: Mapping[str, Any]) -> MassOutcome:
        """Set `changes` (store columns) on `sp`'s versions in the TN range (6.7 a-b, R3-7.1)."""
        unknown = set(changes) - MASS_FIELDS
        if not changes or unknown:
            raise MassUpdateRefused(f"not mass-updatable: {sorted(unknown) or 'nothing to change'}")
        if tn_start > tn_stop:
            raise MassUpdateRefused(f"empty TN range {tn_start}-{tn_stop}")

        def change(tx: Tx) -> list[tuple[SubscriptionVersion, SubscriptionVersion]]:
            rows = VERSIONS.where(tx, "new_sp = ? AND tn >= ? AND tn <= ?", [sp, tn_start, tn_stop],
                                  order_by="version_id")
            done = []
            for row in rows:
                if Status(row["status"]) not in MASS_STATUSES:
                    continue
                if "lrn" in changes and changes["lrn"] is not None:
                    _check_lrn(tx, changes["lrn"], row["new_sp"])
                before = SubscriptionVersion.from_row(row)
                after = SubscriptionVersion.from_row(VERSIONS.put(tx, {
                    "version_id": row["version_id"], **changes, "modified_ms": tx.now_ms,
                    **({"download_reason": int(DownloadReason.MODIFIED)} if row["status"] in AT_LSMS else {})}))
                _notify_soa(tx, after, before)  # 6.7 f
                done.append((before, after))
            tx_after(tx, self.notifier.wake)
            return done
        done = await self.writer.run(f"mass update {sp} {tn_start}..{tn_stop}", change)
        self._tell("mass-update", done)
        outcome = MassOutcome([after.version_id for _, after in done])
        if any(after.status in AT_LSMS for _, after in done):
            await self._set_at_lsms(sp, tn_start, tn_stop, changes, outcome)
        return outcome

    async def _set_at_lsms(self, sp: str, tn_start: str, tn_stop: str, changes: Mapping[str, Any],
                           outcome: MassOutcome) -> None:
        """6.7 d-e: one scoped/filtered M-SET per LSMS."""
        values = {**changes, "download_reason": int(DownloadReason.MODIFIED)}
        mods = tuple((OIDS.attribute(f.attribute).oid, attribute_tlv(f.attribute, f.wire(values[f.column])), cmip.REPLACE)
                     for f in SV_FIELDS if f.column in values and (values[f.column] is not None or f.always))
        tn, new_sp = OIDS.attribute("subscriptionTN").oid, OIDS.attribute("subscriptionNewCurrentSP").oid
        flt = FilterAnd((FilterItem("lessOrEqual", tn, attribute_tlv("subscriptionTN", tn_start)),
                         FilterItem("greaterOrEqual", tn, attribute_tlv("subscriptionTN", tn_stop)),
                         FilterItem("equality", new_sp, attribute_tlv("subscriptionNewCurrentSP", sp))))
        for lsms in self.link.subscription_lsms():
            request = cmip.SetRequest(OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions(lsms), mods,
                                      scope=FIRST_LEVEL_ONLY, filter=flt)
            (outcome.lsms_ok if await self._send(lsms, request) else outcome.lsms_failed).append(lsms)

    # ---- 6.6.1 NPA split -------------------------------------------------------------------------
    async def start_split(self, old_npa_nxx: str, new_npa: str, activation_ms: int, disconnect_ms: int) -> MassOutcome:
        """6.6.1 a-b, RN3-1: the NPA-NXX moves to `new_npa`; its versions take the new TNs now, and
        both NPA-NXXs are defined until `disconnect_ms` (the end of permissive dialing)."""
        if len(new_npa) != 3 or not new_npa.isdigit() or disconnect_ms <= activation_ms:
            raise MassUpdateRefused("an NPA split needs a 3-digit NPA and a permissive period")
        new_value = new_npa + old_npa_nxx[3:]

        def split(tx: Tx) -> list[tuple[SubscriptionVersion, SubscriptionVersion]]:
            old = NPA_NXX_ROWS.by_value(tx, old_npa_nxx)
            if old is None:
                raise MassUpdateRefused(f"no NPA-NXX {old_npa_nxx}")
            if old["split_new_npa_nxx"] or NPA_NXX_ROWS.by_value(tx, new_value) is not None:
                raise MassUpdateRefused(f"NPA-NXX {new_value} exists or {old_npa_nxx} is already split")
            NPA_NXX_ROWS.put(tx, {"npa_nxx_id": old["npa_nxx_id"], "split_new_npa_nxx": new_value,
                                  "split_activation_ms": activation_ms, "split_disconnect_ms": disconnect_ms})
            new = NPA_NXX_ROWS.add(tx, {"value": new_value, "sp_id": old["sp_id"], "effective_ms": activation_ms,
                                        "creation_ms": tx.now_ms, "ported": old["ported"]})
            self.link.push_network(tx, self.writer, NPA_NXX, "create", new)
            moved = []
            for row in VERSIONS.where(tx, "substr(tn, 1, 6) = ?", [old_npa_nxx], order_by="version_id"):
                moved.append((SubscriptionVersion.from_row(row), SubscriptionVersion.from_row(VERSIONS.put(tx, {
                    "version_id": row["version_id"], "tn": new_value + row["tn"][6:], "modified_ms": tx.now_ms}))))
            return moved
        pairs = await self.writer.run(f"NPA split {old_npa_nxx} -> {new_value}", split)
        self._tell("npa-split", pairs)
        moved = [after for _, after in pairs]
        outcome = MassOutcome([v.version_id for v in moved])
        held = [v for v in moved if v.status in AT_LSMS]
        for lsms in self.link.subscription_lsms() if held else ():
            ok = True
            for v in held:
                request = cmip.SetRequest(OIDS.object_class("subscriptionVersion").oid, version_dn(lsms, v.version_id),
                                          ((OIDS.attribute("subscriptionTN").oid,
                                            attribute_tlv("subscriptionTN", v.tn), cmip.REPLACE),), scope=BASE_OBJECT)
                ok = await self._send(lsms, request) and ok
            (outcome.lsms_ok if ok else outcome.lsms_failed).append(lsms)
        return outcome

    def current_tn(self, tn: str) -> str:
        """RN3-2: during permissive dialing an old-NPA TN is accepted and answered with the new NPA."""
        return permissive_tn(self.store, tn, self.clock_ms())

    async def end_due_splits(self) -> list[str]:
        """6.6.1 c-d, RN3-3: permissive dialing over, the old NPA-NXXs go (from the LSMSs too)."""
        now = self.clock_ms()

        def end(tx: Tx) -> list[str]:
            due = NPA_NXX_ROWS.where(tx, "split_new_npa_nxx IS NOT NULL AND split_disconnect_ms <= ?", [now])
            for row in due:
                NPA_NXX_ROWS.delete(tx, row["npa_nxx_id"])
                self.link.push_network(tx, self.writer, NPA_NXX, "delete", row)
            return [row["value"] for row in due]
        return await self.writer.run("NPA split permissive dialing ends", end)

    def _tell(self, activity: str, changed: list[tuple[SubscriptionVersion, SubscriptionVersion]]) -> None:
        for listener in self.listeners:
            listener(activity, changed)

    async def _send(self, lsms: str, request: Any) -> bool:
        conn = self.link.connection(lsms)
        if conn is None:  # absent or recovering: it catches up by lnpDownload / recovery (6.4.1.x)
            return False
        try:
            return succeeded(await self.agent.send_request(conn, request, self.request_timeout))
        except (RemoteError, AssociationLost, TimeoutError) as exc:
            log.warning("mass change to %s failed: %s", lsms, exc)
            return False


def _check_lrn(tx: Tx, lrn: str, sp: str) -> None:
    """6.7 c (seed L34390 "defined for the serviceProv ... found in the subscriptions"), read as: the
    LRN is in the LRN table for the versions' current SP (as RR5-6.5 asks of a new SP's LRN); else the
    whole update stops and nothing is committed."""
    row = LRNS.by_value(tx, lrn)
    if row is None or row["sp_id"] != sp:
        raise MassUpdateRefused(f"LRN {lrn} is not defined for service provider {sp}")


def _notify_soa(tx: Tx, after: SubscriptionVersion, before: SubscriptionVersion) -> None:
    sp = SERVICE_PROVIDERS.get(tx, after.new_sp) or {}
    if "soa-mgmt" in (sp.get("allowable_functions") or []):
        OUTBOX.enqueue(tx, after.new_sp, SOA_FUNCTION, AVC, after.version_id, notices.payload(AVC, after, before))


def install_mass_updates(services: Any) -> MassUpdates:
    """Installer for NpacServices (after lsms_side, whose link it shares)."""
    side = next(p for p in services.installed if hasattr(p, "link"))
    mass = MassUpdates(services.agent, services.writer, services.store, side.link, services.notifier,
                       services.clock_ms)
    for part in services.installed:  # the transaction history, when installed first (R5-6)
        if hasattr(part, "personnel"):
            mass.listeners.append(part.personnel)
    return mass

"""Local SMS recovery (IIS 5.2.1.10, 5.3.4.1; flows 6.5.1, 6.4.12, 6.3.9.9).

- An LSMS that binds with recoveryMode has its updates held (`LsmsLink`: not live while
  recovering), so broadcasts and network pushes go to its hold queue.
- lnpDownload on lnpNetwork or lnpSubscriptions answers with the data in the action reply
  (`downloads`), on any association with the download function, recovering or not.
- lnpRecoveryComplete (on lnpNPAC-SMS) answers, in the reply, every held update in the order it was
  held (L40544: "since the association was established"; updates held while the LSMS was away are
  handed over too, since they are owed to it), empties the hold queue in the same transaction,
  settles the broadcasts those updates belonged to, and turns the association live.
- The recovering LSMS is owed every broadcast it has not answered, not only the held ones: a send
  that went unanswered before its association was lost (or by a node that has since failed over)
  is handed over in the same reply, unless the association's lnpDownload already carried that
  version; either way its broadcast row is settled, so the round completes now (R10-19, Exhibit K)
  rather than at the next retry.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from appliance.agent import NpacAgent, RequestContext
from appliance.lnp.values import decode_plain, encode_plain
from appliance.npac.broadcast import Broadcaster, load_version
from appliance.npac.downloads import DownloadLimits, guarded, network_download, subscription_download
from appliance.npac.lsms_link import DOWNLOAD_FUNCTION, NETWORK_OPERATION, RECOVERED, LsmsLink, recovering
from appliance.npac.lsms_wire import subscription_data
from appliance.npac.model import DOWNLOAD_REASON, BroadcastOp, DownloadReason
from appliance.npac.network_wire import LRN, NPA_NXX, network_item
from appliance.npac.writer import Writer
from appliance.osi import cmip
from appliance.osi.errors import ProtocolError
from appliance.store.broadcasts import HOLD_QUEUE
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Tx

log = logging.getLogger("appliance.npac.recovery")

# the class each DownloadAction alternative is addressed to (GDMO L40436: lnpDownloadPkg on both)
_DOWNLOAD_CLASS = {"subscriber-download": "lnpSubscriptions", "network-download": "lnpNetwork"}
DOWNLOADED = "lsms-downloaded-versions"  # conn.context: version id -> when an lnpDownload reply carried it
_NETWORK_REASON = {"create": DownloadReason.NEW, "modify": DownloadReason.MODIFIED, "delete": DownloadReason.DELETE}


class Recovery:
    def __init__(self, writer: Writer, agent: NpacAgent, link: LsmsLink, clock_ms: Callable[[], int],
                 broadcaster: Broadcaster | None = None, limits: DownloadLimits = DownloadLimits()):
        self.writer = writer
        self.agent = agent
        self.link = link
        self.clock_ms = clock_ms
        self.broadcaster = broadcaster
        self.limits = limits
        agent.on_action("lnpDownload", self.download)
        agent.on_action("lnpRecoveryComplete", self.recovery_complete)

    # ---- lnpDownload ---------------------------------------------------------------------------
    def download(self, ctx: RequestContext) -> Any:
        req: cmip.ActionRequest = ctx.request
        if DOWNLOAD_FUNCTION not in ctx.grant.functions:  # an LSMS action; a SOA reaches the class only
            return cmip.CmipError(cmip.ACCESS_DENIED)
        try:
            ((which, criteria),) = decode_plain("DownloadAction", req.action_info).items()
        except (ProtocolError, TypeError, ValueError):
            return _invalid(req)
        if _DOWNLOAD_CLASS[which] != ctx.class_name:
            return _invalid(req)
        build = subscription_download if which == "subscriber-download" else network_download
        reply = guarded(build, self.link.store, criteria, self.limits, self.clock_ms())
        if which == "subscriber-download":
            items = (reply.get("download-data") or {}).get("subscriber-data") or ()
            now = self.clock_ms()
            ctx.conn.context.setdefault(DOWNLOADED, {}).update((i["subscription-version-id"], now) for i in items)
        log.info("lnpDownload %s from %s: %s", which, ctx.system_id, reply["status"])
        return _result(req, encode_plain("DownloadReply", reply))

    # ---- lnpRecoveryComplete -------------------------------------------------------------------
    def recovery_complete(self, ctx: RequestContext) -> Any:
        req: cmip.ActionRequest = ctx.request
        if not recovering(ctx.conn):  # L40540: only from an association bound in recovery mode
            return _result(req, encode_plain("RecoveryCompleteReply", {"status": "failure"}))
        return self._flush(ctx)

    async def _flush(self, ctx: RequestContext) -> Any:
        lsms, conn = ctx.system_id, ctx.conn
        downloaded: dict[int, int] = conn.context.get(DOWNLOADED, {})

        def hand_over(tx: Tx) -> dict[str, Any]:
            subscriber, network, delivered = [], [], []
            held = HOLD_QUEUE.held(tx, lsms)
            if self.broadcaster is not None:
                in_queue = {e["version_id"] for e in held}
                for row in self.broadcaster.owed_to(tx, lsms):
                    version_id = row["version_id"]
                    if version_id in in_queue:
                        continue
                    if downloaded.get(version_id, -1) <= (row["first_sent_ms"] or 0):  # not carried since the send
                        version = load_version(tx, version_id)
                        if version is None:
                            continue  # purged: its round is the retry schedule's to end
                        subscriber.append(_version_entry(tx, {"operation": row["operation"], "version_id": version_id,
                                                              "payload": {"tn": version.tn}}))
                    delivered.append(version_id)
            for entry in held:
                if entry["operation"] == NETWORK_OPERATION:
                    item = _network_entry(tx, entry["payload"])
                    if item is not None:
                        network.append(item)
                else:
                    subscriber.append(_version_entry(tx, entry))
                    delivered.append(entry["version_id"])
                HOLD_QUEUE.release(tx, entry["entry_id"])
            if self.broadcaster is not None:
                self.broadcaster.delivered_in(tx, lsms, [v for v in dict.fromkeys(delivered) if v is not None])
            conn.context[RECOVERED] = True  # in the transaction: later updates go out live
            return {"status": "success", "subscriber-data": subscriber or None, "network-data": network or None}
        reply = await self.writer.run(f"lnpRecoveryComplete {lsms}", hand_over)
        log.info("LSMS %s recovered: %d subscription and %d network updates handed over", lsms,
                 len(reply["subscriber-data"] or ()), len(reply["network-data"] or ()))
        if self.broadcaster is not None:
            self.broadcaster.wake()
        return _result(ctx.request, encode_plain("RecoveryCompleteReply", reply))


def _version_entry(tx: Tx, entry: dict[str, Any]) -> dict[str, Any]:
    """A held broadcast as SubscriptionDownloadData: the version's data now, with the reason of the
    operation that was held (new, modified or delete)."""
    operation = BroadcastOp(entry["operation"])
    version = load_version(tx, entry["version_id"])
    item: dict[str, Any] = {"subscription-version-id": entry["version_id"],
                            "subscription-version-tn": entry["payload"].get("tn")}
    if version is not None:
        item["subscription-data"] = subscription_data(version, DOWNLOAD_REASON[operation])
    else:  # purged since: the TN and the reason are what the LSMS needs
        item["subscription-data"] = {f"subscription-{k}-{p}": {"no-value-needed": None}
                                     for k in ("class", "lidb", "isvm", "cnam") for p in ("dpc", "ssn")}
        item["subscription-data"].update({"subscription-lnp-type": "lspp",
                                          "subscription-download-reason": "delete1"})
    return item


def _network_entry(tx: Tx, payload: dict[str, Any]) -> dict[str, Any] | None:
    """A held network push as NetworkDownloadData. An SP deletion has no download form (the
    record carries no reason); the LSMS keeps the empty serviceProvNetwork until its next
    network download."""
    kind, op, row = payload["kind"], payload["op"], payload["row"]
    reason = _NETWORK_REASON[op]
    if kind in (NPA_NXX, LRN):
        sp = SERVICE_PROVIDERS.get(tx, row["sp_id"]) or {"sp_id": row["sp_id"], "name": None}
        records = [(row, reason)]
        return network_item(sp, npa_nxx=records if kind == NPA_NXX else None, lrns=records if kind == LRN else None)
    return None if op == "delete" else network_item(row)


def _result(req: cmip.ActionRequest, reply: bytes) -> cmip.ActionResult:
    return cmip.ActionResult(req.object_class, req.object_instance, None, req.action_type, reply)


def _invalid(req: cmip.ActionRequest) -> cmip.CmipError:
    return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, cmip.InvalidArgumentValue("action", req.action_type,
                                                                                  req.action_info))

"""A Local SMS simulator: the agent side of the NPAC -> LSMS interface on a `CarrierAssociation`.

It holds its own MIB (`LsmsMib`), applies the NPAC's M-CREATE / M-SET / M-DELETE and
subscriptionVersionLocalSMS-Create (answering that one later with subscriptionVersionLocalSMS-
ActionResults, flow 6.4.1.7), confirms the NPAC's notifications, and can be told to fail or to
stay silent for chosen TNs (failure flows 6.4.1.11, 6.4.2). `received` records every request and
notification from the NPAC in arrival order. `recover` runs the 6.5.1 sequence: bind with
recoveryMode, network download, subscription download, lnpRecoveryComplete.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.lnp.oids import OIDS
from appliance.lnp.security import Directory, Identity
from appliance.lnp.values import access_control, attribute_plain, decode_plain, encode_plain
from appliance.npac.network_wire import npac_network, npac_root, npac_subscriptions
from appliance.osi import cmip
from appliance.osi.association import RequestIndication
from appliance.osi.cmip_filter import BASE_OBJECT, InvalidScope, NoSuchObject, select
from appliance.osi.transport import Replies
from appliance.peers.carrier import CarrierAssociation, Host
from appliance.peers.lsms_mib import LsmsMib, plain_attributes

log = logging.getLogger("appliance.peers.lsms")
LSMS_FUNCTIONS = frozenset({"lsms.dataDownload", "lsms.networkDataMgmt", "lsms.query"})
ALL_NETWORK = {"chc1": {"all-service-provs": None}, "chc2": {"all-network-data": None}}


@dataclass(frozen=True)
class Received:
    """One message from the NPAC: kind (create/set/delete/get/action/event), the class, action or
    notification name, and what it named (a TN, a version id, an object's naming value)."""

    kind: str
    name: str
    detail: dict[str, Any] = field(default_factory=dict)


class RecoveryFailed(Exception):
    """A 6.5.1 step did not succeed; the LSMS must correct the problem and retry that step."""


class LsmsSimulator:
    def __init__(self, sp_id: str, identity: Identity, directory: Directory, *, npac_system_id: str,
                 functions: frozenset[str] = LSMS_FUNCTIONS, clock: Callable[[], dt.datetime] | None = None,
                 request_timeout: float = 30.0):
        self.sp_id = sp_id
        self.identity, self.directory = identity, directory
        self.npac_system_id = npac_system_id
        self.functions = functions
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.request_timeout = request_timeout
        self.mib = LsmsMib(sp_id)
        self.received: list[Received] = []
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self.fail_tns: set[str] = set()  # answer processingFailure for these TNs
        self.silent_tns: set[str] = set()  # never answer for these TNs
        self.carrier: CarrierAssociation | None = None
        self._silent: list[asyncio.Future] = []
        self._tasks: set[asyncio.Future] = set()

    # ---- the association -------------------------------------------------------------------------
    async def associate(self, hosts: list[Host], recovery: bool = False) -> None:
        self.carrier = CarrierAssociation(self.identity, self.directory, self.functions,
                                          npac_system_id=self.npac_system_id, recovery_mode=recovery,
                                          clock=self.clock, request_timeout=self.request_timeout,
                                          on_request=self._on_request)
        await self.carrier.open(hosts, attempts=1)

    async def release(self) -> None:
        await self._stop_waiting()
        if self.carrier is not None:
            await self.carrier.release()

    async def abort(self) -> None:
        await self._stop_waiting()
        if self.carrier is not None:
            self.carrier.abort()

    async def _stop_waiting(self) -> None:
        for fut in self._silent:
            fut.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def associated(self) -> bool:
        return self.carrier is not None and self.carrier.conn is not None and self.carrier.conn.assoc.state == "open"

    # ---- LSMS -> NPAC ------------------------------------------------------------------------------
    async def action(self, class_name: str, instance: tuple, action: str, info_type: str | None,
                     info: Any) -> Any:
        """Send an M-ACTION; returns the decoded reply (plain)."""
        assert self.carrier is not None
        payload = encode_plain(info_type, info) if info_type else None
        outcome = await self.carrier.action(class_name, instance, action, payload)
        reply_type = OIDS.action(action).reply_type
        return decode_plain(reply_type, outcome.result.reply_info)

    async def download_network(self, criteria: dict[str, Any] | None = None) -> dict[str, Any]:
        """Flow 6.3.9.9 / 6.5.1 b-c: lnpDownload on the NPAC's lnpNetwork; the data is applied."""
        reply = await self.action("lnpNetwork", npac_network(self.npac_system_id), "lnpDownload", "DownloadAction",
                                  {"network-download": criteria or ALL_NETWORK})
        self.mib.apply_network(reply.get("download-data", {}).get("network-data", []))
        return reply

    async def download_subscriptions(self, criteria: dict[str, Any]) -> dict[str, Any]:
        """Flow 6.4.12 / 6.5.1 d-e: lnpDownload on lnpSubscriptions (time range, TN or TN range)."""
        reply = await self.action("lnpSubscriptions", npac_subscriptions(self.npac_system_id), "lnpDownload", "DownloadAction",
                                  {"subscriber-download": {"criteria": criteria}})
        self.mib.apply_subscriptions(reply.get("download-data", {}).get("subscriber-data", []))
        return reply

    async def recovery_complete(self) -> dict[str, Any]:
        """Flow 6.5.1 f-g: the reply carries the updates held since the association began."""
        reply = await self.action("lnpNPAC-SMS", npac_root(self.npac_system_id), "lnpRecoveryComplete",
                                  "RecoveryCompleteAction", None)
        self.mib.apply_network(reply.get("network-data", []))
        self.mib.apply_subscriptions(reply.get("subscriber-data", []))
        return reply

    async def recover(self, hosts: list[Host], time_range: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The 6.5.1 sequence, network data before subscription data; stops at a failed step."""
        await self.associate(hosts, recovery=True)
        window = time_range or {}
        network = {**ALL_NETWORK, **({"time-range": window} if window else {})}
        replies = [await self.download_network(network),
                   await self.download_subscriptions({"time-range": window})]
        for reply in replies:
            if reply["status"] not in ("success", "no-data-selected"):
                raise RecoveryFailed(f"download answered {reply['status']}")
        done = await self.recovery_complete()
        if done["status"] != "success":
            raise RecoveryFailed("lnpRecoveryComplete failed")
        return [*replies, done]

    # ---- NPAC -> LSMS --------------------------------------------------------------------------
    def _on_request(self, carrier: CarrierAssociation, ind: RequestIndication) -> Any:
        req = ind.request
        handler = _HANDLERS.get(type(req))
        if handler is None:
            return cmip.CmipError(cmip.MISTYPED_OPERATION)
        return handler(self, req)

    def _gate(self, tns: list[str]) -> Any:
        """None to go ahead; else the answer for a failing or silent TN."""
        if any(tn in self.silent_tns for tn in tns):
            fut = asyncio.get_running_loop().create_future()
            self._silent.append(fut)
            return fut
        if any(tn in self.fail_tns for tn in tns):
            return cmip.CmipError(cmip.PROCESSING_FAILURE, None)
        return None

    def _create(self, req: cmip.CreateRequest) -> Any:
        name = OIDS.by_oid(req.object_class).name
        attrs = dict(req.attributes)
        plain = plain_attributes(attrs)
        tn = plain.get("subscriptionTN")
        self.received.append(Received("create", name, {"dn": req.object_instance, **({"tn": tn} if tn else {})}))
        gate = self._gate([tn] if tn else [])
        if gate is not None:
            return gate
        dn = req.object_instance
        if self.mib.tree.get(dn) is not None:
            return cmip.CmipError(cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE, dn)
        if self.mib.tree.get(dn[:-1]) is None:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, dn[:-1])
        self.mib.put(dn, req.object_class, {**attrs, **dict(dn[-1])})
        return cmip.CreateResult(req.object_class, dn, self.clock())

    def _selected(self, req: Any) -> list[Any] | cmip.CmipError:
        try:
            return select(self.mib.tree, req.object_instance, req.scope, req.filter)
        except NoSuchObject:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        except InvalidScope:
            return cmip.CmipError(cmip.INVALID_SCOPE, req.scope)

    def _tns(self, objects: list[Any]) -> list[str]:
        tn_oid = OIDS.attribute("subscriptionTN").oid
        return [attribute_plain("subscriptionTN", o.attributes[tn_oid]) for o in objects if tn_oid in o.attributes]

    def _answer(self, req: Any, replies: list[Any]) -> Any:
        return replies[0] if req.scope == BASE_OBJECT and len(replies) == 1 else Replies(replies, None)

    def _set(self, req: cmip.SetRequest) -> Any:
        found = self._selected(req)
        if isinstance(found, cmip.CmipError):
            return found
        tns = self._tns(found)
        self.received.append(Received("set", OIDS.by_oid(req.object_class).name,
                                      {"tns": tns, "changes": plain_attributes({a: v for a, v, _ in req.modifications})}))
        gate = self._gate(tns)
        if gate is not None:
            return gate
        changes = {aid: value for aid, value, _ in req.modifications}
        for obj in found:
            self.mib.update(obj.dn, changes)
        return self._answer(req, [cmip.SetResult(o.object_class, o.dn, self.clock()) for o in found])

    def _delete(self, req: cmip.DeleteRequest) -> Any:
        found = self._selected(req)
        if isinstance(found, cmip.CmipError):
            return found
        tns = self._tns(found)
        self.received.append(Received("delete", OIDS.by_oid(req.object_class).name,
                                      {"tns": tns, "dns": [o.dn for o in found]}))
        gate = self._gate(tns)
        if gate is not None:
            return gate
        for obj in found:
            self.mib.remove(obj.dn)
        return self._answer(req, [cmip.DeleteResult(o.object_class, o.dn, self.clock()) for o in found])

    def _get(self, req: cmip.GetRequest) -> Any:
        found = self._selected(req)
        if isinstance(found, cmip.CmipError):
            return found
        self.received.append(Received("get", OIDS.by_oid(req.object_class).name, {"count": len(found)}))
        return self._answer(req, [cmip.GetResult(o.object_class, o.dn, self.clock(), tuple(o.attributes.items()))
                                  for o in found])

    def _action(self, req: cmip.ActionRequest) -> Any:
        action = OIDS.find(req.action_type) if isinstance(req.action_type, str) else None
        if action is None or action.name != "subscriptionVersionLocalSMS-Create":
            return cmip.CmipError(cmip.NO_SUCH_ACTION, cmip.NoSuchAction(req.object_class, req.action_type))
        try:
            info = decode_plain("LocalSMS-CreateAction", req.action_info)
        except Exception:  # noqa: BLE001 - flow 6.4.1.7 c: an action it cannot decode is refused
            return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, cmip.InvalidArgumentValue(
                "action", req.action_type, req.action_info))
        pairs = [(p["tn"], p["version-id"], obj["subscription-data"])
                 for obj in info["subscriptionVersionObjects"] for p in obj["tn-version-id"]]
        self.received.append(Received("action", action.name, {"action_id": info["actionId"],
                                                              "tns": [tn for tn, _, _ in pairs]}))
        task = asyncio.ensure_future(self._perform_creates(info["actionId"], pairs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return cmip.ActionResult(req.object_class, req.object_instance, self.clock(), req.action_type,
                                 encode_plain("LocalSMS-CreateReply", "success"))

    async def _perform_creates(self, action_id: int, pairs: list[tuple[str, int, dict]]) -> None:
        """Flow 6.4.1.7 e-f: the creates, then one subscriptionVersionLocalSMS-ActionResults."""
        await asyncio.sleep(0)  # after the action reply has gone out
        if any(tn in self.silent_tns for tn, _, _ in pairs):
            return
        failed = [{"subscriptionVersionId": vid, "tn": tn, "errorId": 1} for tn, vid, _ in pairs if tn in self.fail_tns]
        self.mib.apply_subscriptions([{"subscription-version-id": vid, "subscription-version-tn": tn,
                                       "subscription-data": data}
                                      for tn, vid, data in pairs if tn not in self.fail_tns])
        assert self.carrier is not None and self.carrier.endpoint is not None and self.carrier.conn is not None
        stamp = self.carrier.endpoint.stamp()
        results = {"actionId": action_id, "status": "failure" if failed else "success",
                   "time-of-completion": int(self.clock().timestamp()), "accessControl": access_control(stamp)}
        if failed:
            results["failed-tn-list"] = failed
        event = OIDS.notification("subscriptionVersionLocalSMS-ActionResults")
        await self.carrier.conn.send_request(cmip.EventReportRequest(
            OIDS.object_class("lnpSubscriptions").oid, self.mib.subscriptions, event.oid,
            encode_plain("LocalSMS-ActionResults", results), self.clock()))

    def _event(self, req: cmip.EventReportRequest) -> Any:
        record = OIDS.find(req.event_type) if isinstance(req.event_type, str) else None
        name = record.name if record else str(req.event_type)
        info = decode_plain(record.asn1_type, req.event_info) if record and record.asn1_type else {}
        self.received.append(Received("event", name))
        self.notifications.append((name, info))
        return cmip.EventReportResult()


_HANDLERS: dict[type, Callable[[LsmsSimulator, Any], Any]] = {
    cmip.CreateRequest: LsmsSimulator._create,
    cmip.SetRequest: LsmsSimulator._set,
    cmip.DeleteRequest: LsmsSimulator._delete,
    cmip.GetRequest: LsmsSimulator._get,
    cmip.ActionRequest: LsmsSimulator._action,
    cmip.EventReportRequest: LsmsSimulator._event,
}

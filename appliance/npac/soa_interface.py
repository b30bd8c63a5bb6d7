"""The SOA's subscription-version interface on the NPAC agent (IIS 6.4, GDMO L40558-41468).

* The eleven M-ACTIONs on lnpSubscriptions: the information is decoded with the action's LNP type,
  turned into machine events for the requesting SP (`Requester.soa(systemId)`), submitted to the
  engine (a TN range is one all-or-nothing transaction, R5-5), and answered with the action's reply
  type. A refusal is the CMIP error the IIS names (`errors`), and nothing is committed.
* M-SET on a subscriptionVersionNPAC (flow 6.4.4.1): only pending, conflict, conflict-resolution-
  pending and cancel-pending versions (GDMO L36434), only the attributes the SP may change.
* Scoped/filtered M-GET from lnpSubscriptions or on one version (flow 6.4.11): any SOA may read any
  version (L36400), at most Max_Subscriber_Query of them (Exhibit 80 processingFailure beyond).
* During an NPA split's permissive dialing period a TN named in the old NPA (action target, create
  data, query filter) is taken as the new-NPA TN, and answered with it (RN3-2, `npa_split`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.agent import NpacAgent, RequestContext
from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.npac import sv_actions as acts
from appliance.npac.engine import Check, Engine, Rejected, Submitted
from appliance.npac.errors import SET, action_error, processing_failure, set_error
from appliance.npac.events import (
    Activate, Cancel, CancelAck, ConflictResolutionAck, Create, Disconnect, Modify, RequestConflictResolution,
    Requester, Side,
)
from appliance.npac.guards import Refusal, Reply
from appliance.npac.model import Status, SubscriptionVersion
from appliance.npac.npa_split import permissive_filter, permissive_targets, permissive_tn
from appliance.npac.persist import load_tunables
from appliance.npac.sv_codec import BY_OID, BadValue, present
from appliance.npac.sv_view import VERSION_CLASS, SubscriptionView
from appliance.osi import cmip
from appliance.osi.cmip_filter import InvalidScope, NoSuchObject, select
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import Replies
from appliance.store.store import Store

S = Status
V = SubscriptionVersion
OK = "success"
# 6.4.4 a: what each SP may change before activation (the machine checks which side asks).
SETTABLE = frozenset({
    "old_sp_due_date_ms", "old_sp_authorization", "lrn", "new_sp_due_date_ms", "class_dpc", "class_ssn",
    "lidb_dpc", "lidb_ssn", "cnam_dpc", "cnam_ssn", "isvm_dpc", "isvm_ssn", "end_user_location_value",
    "end_user_location_type", "billing_id",
})
SET_STATUSES = frozenset({S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING, S.CANCEL_PENDING})


@dataclass(frozen=True)
class Plan:
    """What one decoded action asks: one event per target, an extra rule, and the reply."""

    targets: list[str | int]
    event: Callable[[str | int], Any]
    reply: Callable[[Submitted], Any]
    check: Check | None = None


def _targets(target: acts.Target) -> list[str | int]:
    return [target.version_id] if target.version_id is not None else list(target.tns)


def _enum_reply(type_name: str) -> Callable[[Submitted], Any]:
    return lambda _: asn1.type_class(type_name)("success")


def _echo(type_name: str, part: str | None, info: Any) -> Callable[[Submitted], Any]:
    """Replies whose `invalid-data` is mandatory even on success (L42800, L42938, L43046): the
    request's own data, as printed."""
    def reply(_: Submitted) -> Any:
        value = asn1.type_class(type_name)()
        value["status"] = OK
        asn1.set_component(value, "invalid-data", info if part is None else info[part])
        return value
    return reply


def _disconnect_reply(submitted: Submitted) -> Any:
    value = asn1.type_class("DisconnectReply")()
    value["status"] = OK
    for version_id in submitted.version_ids:
        value["version-id"].append(version_id)
    return value


# ---- one planner per action: (decoded info, requester) -> Plan ----------------------------------------


def _create(side: Side, read: Callable[[Any], acts.CreateRequest], reply: str) -> Callable[[Any, Requester], Plan]:
    def plan(info: Any, by: Requester) -> Plan:
        r = read(info)
        return Plan(list(r.target.tns), lambda tn: Create(
            side, by, str(tn), r.old_sp, r.new_sp, r.due_date_ms, lnp_type=r.lnp_type,
            authorization=r.authorization, porting_to_original=r.porting_to_original, attrs=r.attrs),
            _echo(reply, None, info))
    return plan


def _activate(info: Any, by: Requester) -> Plan:
    return Plan(_targets(acts.read_target(info)), lambda _: Activate(by), _enum_reply("ActivateReply"))


def _simple(event: Callable[[Requester], Any], reply: str, check: Check | None = None
            ) -> Callable[[Any, Requester], Plan]:
    def plan(info: Any, by: Requester) -> Plan:
        return Plan(_targets(acts.read_version_action(info)), lambda _: event(by), _enum_reply(reply), check)
    return plan


def _modify(info: Any, by: Requester) -> Plan:
    """L40886: version-status may only ask for cancel-pending (with no data), which is a cancel."""
    target = _targets(acts.read_target(info["chc1"]))
    changes = acts.read_modify_data(info["data-to-modify"])
    status = present(info, "version-status")
    reply = _echo("ModifyReply", "data-to-modify", info)
    if status is not None:
        if int(status) != S.CANCEL_PENDING or changes:
            raise BadValue("version-status may only be cancel-pending, with nothing else to modify")
        return Plan(target, lambda _: Cancel(by), reply)
    return Plan(target, lambda _: Modify(by, changes), reply)


def _disconnect(info: Any, by: Requester) -> Plan:
    r = acts.read_disconnect(info)
    return Plan(_targets(r.target), lambda _: Disconnect(by, r.customer_disconnect_date_ms,
                                                         r.effective_release_date_ms), _disconnect_reply)


def _old_sp_authorized(version: V | None) -> Refusal | None:
    """Flow 6.4.7.2 d (L33658): denied unless subscriptionOldSP-Authorization is true."""
    if version is not None and version.old_sp_authorization is not True:
        return Refusal(Reply.FAILED, "flow 6.4.7.2 L33658", "old SP authorization is not true")
    return None


PLANNERS: dict[str, Callable[[Any, Requester], Plan]] = {
    "subscriptionVersionNewSP-Create": _create(Side.NEW, acts.read_new_sp_create, "NewSP-CreateReply"),
    "subscriptionVersionOldSP-Create": _create(Side.OLD, acts.read_old_sp_create, "OldSP-CreateReply"),
    "subscriptionVersionActivate": _activate,
    "subscriptionVersionCancel": _simple(Cancel, "CancelReply"),
    "subscriptionVersionModify": _modify,
    "subscriptionVersionDisconnect": _disconnect,
    "subscriptionVersionNewSP-CancellationAcknowledge": _simple(
        lambda by: CancelAck(Side.NEW, by), "CancellationAcknowledgeReply"),
    "subscriptionVersionOldSP-CancellationAcknowledge": _simple(
        lambda by: CancelAck(Side.OLD, by), "CancellationAcknowledgeReply"),
    "subscriptionVersionNewSP-ConflictResolutionAcknowledge": _simple(
        lambda by: ConflictResolutionAck(Side.NEW, by), "ConflictResolutionAcknowledgeReply"),
    "subscriptionVersionOldSP-ConflictResolutionAcknowledge": _simple(
        lambda by: ConflictResolutionAck(Side.OLD, by), "ConflictResolutionAcknowledgeReply"),
    "subscriptionVersionNewSP-ConflictResolutionPending": _simple(
        RequestConflictResolution, "ConflictResolutionPendingReply", _old_sp_authorized),
}


def _settable(version: V | None) -> Refusal | None:
    if version is not None and version.status not in SET_STATUSES:
        return Refusal(Reply.SOA_NOT_AUTHORIZED, "GDMO L36434", f"M-SET not allowed on a {version.status.name} version")
    return None


class SoaInterface:
    def __init__(self, engine: Engine, store: Store, agent: NpacAgent, clock: Callable[[], dt.datetime] | None = None):
        self.engine = engine
        self.store = store
        self.agent = agent
        self.clock = clock or agent.clock
        self.system_id = agent.identity.system_id

    def register(self) -> None:
        for name in PLANNERS:
            self.agent.on_action(name, self._action_handler(name))
        self.agent.on_operation("set", "subscriptionVersionNPAC", self.modify_by_set)
        for class_name in ("lnpSubscriptions", "subscriptionVersionNPAC", "subscriptionVersion"):
            self.agent.on_operation("get", class_name, self.query)

    def view(self) -> SubscriptionView:
        return SubscriptionView(self.store, self.system_id)

    # ---- M-ACTION ----------------------------------------------------------------------------------
    def _action_handler(self, name: str) -> Callable[[RequestContext], Any]:
        record = OIDS.action(name)
        info_type = OIDS.syntax_class(record)

        async def handle(ctx: RequestContext) -> Any:
            req: cmip.ActionRequest = ctx.request
            if ctx.class_name != "lnpSubscriptions":
                return cmip.CmipError(cmip.NO_SUCH_ACTION, cmip.NoSuchAction(req.object_class, req.action_type))
            if req.object_instance != self.view().container_dn:
                return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
            if req.scope != cmip.BASE_OBJECT:
                return cmip.CmipError(cmip.COMPLEXITY_LIMITATION, cmip.ComplexityLimitation(req.scope, req.filter))
            try:
                if req.action_info is None:
                    raise BadValue("no action information")
                info = asn1.decode(info_type, req.action_info)
                now_ms = self.engine.clock_ms()
                _permissive_create_tn(self.store, name, info, now_ms)
                plan = PLANNERS[name](info, Requester.soa(ctx.system_id))
            except (ProtocolError, BadValue, ValueError) as exc:
                return action_error(cmip.INVALID_ARGUMENT_VALUE, req, str(exc))
            try:
                submitted = await self.engine.submit_many(permissive_targets(self.store, plan.targets, now_ms),
                                                          plan.event, name, plan.check)
            except Rejected as exc:
                return action_error(exc.code, req, exc.text)
            return cmip.ActionResult(req.object_class, req.object_instance, self.clock(), req.action_type,
                                     asn1.encode(plan.reply(submitted)))
        return handle

    # ---- M-SET -------------------------------------------------------------------------------------
    async def modify_by_set(self, ctx: RequestContext) -> Any:
        req: cmip.SetRequest = ctx.request
        view = self.view()
        version_id = view.version_id_of(req.object_instance)
        if version_id is None or view.get(req.object_instance) is None:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        if req.scope != cmip.BASE_OBJECT:
            return cmip.CmipError(cmip.COMPLEXITY_LIMITATION, cmip.ComplexityLimitation(req.scope, req.filter))
        changes: dict[str, Any] = {}
        for attribute_id, value, operator in req.modifications:
            codec = BY_OID.get(attribute_id) if isinstance(attribute_id, str) else None
            if codec is None or codec.field not in SETTABLE or operator != cmip.REPLACE or value is None:
                return cmip.CmipError(cmip.ACCESS_DENIED)
            try:
                changes[codec.field] = codec.decode(value)
            except (BadValue, ProtocolError) as exc:
                return processing_failure(req.object_class, f"{codec.name}: {exc}", req.object_instance)
        try:
            submitted = await self.engine.submit(version_id, Modify(Requester.soa(ctx.system_id), changes), SET,
                                                 _settable)
        except Rejected as exc:
            return set_error(exc.code, req, exc.text)
        version = next(v for v in submitted.versions if v.version_id == version_id)
        attributes = self.view().version(version.to_row()).attributes
        return cmip.SetResult(req.object_class, req.object_instance, self.clock(), tuple(
            (aid, attributes[aid]) for aid, _, _ in req.modifications if aid in attributes))

    # ---- M-GET -------------------------------------------------------------------------------------
    def query(self, ctx: RequestContext) -> Any:
        req: cmip.GetRequest = ctx.request
        if not isinstance(req.object_instance, tuple):
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        flt = permissive_filter(self.store, req.filter, self.engine.clock_ms())
        view = self.view().narrowed(flt)
        base = view.get(req.object_instance)
        if base is None:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        if not self._class_fits(req.object_class, base.object_class):
            return cmip.CmipError(cmip.CLASS_INSTANCE_CONFLICT, cmip.BaseManagedObjectId(
                req.object_class, req.object_instance))
        try:
            found = select(view, req.object_instance, req.scope, flt)
        except NoSuchObject:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        except InvalidScope:
            return cmip.CmipError(cmip.INVALID_SCOPE, req.scope)
        limit = load_tunables(self.store).max_subscriber_query
        versions = sum(1 for obj in found if obj.object_class == VERSION_CLASS)
        if versions > limit:  # Exhibit 80, processingFailure error 0 (flows say resourceLimitation)
            return processing_failure(req.object_class, f"Number of records in query response, {versions}, "
                                      f"exceeds the number of records that can be returned ({limit})",
                                      req.object_instance)
        wanted = None if req.attribute_ids is None else set(req.attribute_ids)
        now = self.clock()
        results = [cmip.GetResult(obj.object_class, obj.dn, now, tuple(
            (aid, obj.attributes[aid]) for aid in obj.attributes if wanted is None or aid in wanted)) for obj in found]
        if req.scope == cmip.BASE_OBJECT and len(results) == 1:
            return results[0]
        return Replies(results, None)

    @staticmethod
    def _class_fits(asked: Any, actual: str) -> bool:
        """A version answers as subscriptionVersionNPAC or as its superclass (allomorphic view)."""
        return asked == actual or (actual == VERSION_CLASS and asked == OIDS.object_class("subscriptionVersion").oid)


def _permissive_create_tn(store: Store, action: str, info: Any, now_ms: int) -> None:
    """RN3-2 for the creates: the version is made, and the reply's echoed data given, in the new NPA.
    A range keeps a short tn-stop (trailing digits only), which the new NPA-NXX shares."""
    if not action.endswith("-Create"):
        return
    target = info["chc1"]
    if target.getName() == "subscription-version-tn":
        tn = str(target["subscription-version-tn"])
        target["subscription-version-tn"] = permissive_tn(store, tn, now_ms)
        return
    bounds = target["subscription-version-tn-range"]
    bounds["tn-start"] = permissive_tn(store, str(bounds["tn-start"]), now_ms)
    if len(str(bounds["tn-stop"])) == 10:
        bounds["tn-stop"] = permissive_tn(store, str(bounds["tn-stop"]), now_ms)


def register_soa_interface(agent: NpacAgent, engine: Engine, store: Store) -> SoaInterface:
    interface = SoaInterface(engine, store, agent)
    interface.register()
    return interface

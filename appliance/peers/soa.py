"""A SOA simulator: a carrier's Service Order Activation system on a secure association to the NPAC.

It sends the subscription-version M-ACTIONs, M-SET and M-GET of IIS 6.4 with valid LNP values
(`appliance.npac.sv_actions` builds them) and records every notification the NPAC sends it, answering
each with a confirmation (or, when told to, with an error so the NPAC has to resend). Tests use it to
drive the flows over real CMIP; the load bench uses it to drive many ports.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.lnp.security import Directory, Identity
from appliance.npac import sv_actions as acts
from appliance.npac.model import LnpType
from appliance.npac.sv_codec import BY_OID, BadValue, read_version_id, subscriptions_dn, version_dn
from appliance.osi import cmip
from appliance.osi.association import RequestIndication
from appliance.osi.cmip_filter import Filter, FilterAnd, FilterItem
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import RemoteError
from appliance.peers.carrier import CarrierAssociation, Host

TargetSpec = int | str | tuple[str, str]  # a version id, a TN, or a TN range (start, stop)
VERSION_CLASS = OIDS.object_class("subscriptionVersionNPAC").oid


def target(spec: TargetSpec) -> acts.Target:
    if isinstance(spec, int):
        return acts.Target(version_id=spec)
    if isinstance(spec, tuple):
        return acts.Target(tns=acts.expand_range(*spec), tn_range=spec)
    return acts.Target(tns=(spec,))


def routing(lrn: str, dpc: str = "001002003", ssn: int = 0) -> dict[str, Any]:
    """A complete set of routing data for a new-SP create (flow 6.4.1.2 b)."""
    return {"lrn": lrn, **{f"{kind}_dpc": dpc for kind in ("class", "lidb", "cnam", "isvm")},
            **{f"{kind}_ssn": ssn for kind in ("class", "lidb", "cnam", "isvm")}}


@dataclass(frozen=True)
class Received:
    """One notification as this SOA got it: `values` holds the version attributes it carries
    (objectCreation), the changes (attributeValueChange: name -> (old, new)), or the status change
    (subscriptionVersionStatus -> (old, new), and the failed LSMSs)."""

    sp: str
    name: str
    version_id: int | None
    info: Any
    values: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The NPAC's answer to one request: a decoded reply, or the CMIP error."""

    result: Any = None
    reply: Any = None
    error: cmip.CmipError | None = None
    linked: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def error_name(self) -> str | None:
        return cmip.ERROR_NAMES[self.error.error_code] if self.error is not None else None

    @property
    def specific_info(self) -> str | None:
        """The lnpSpecificInfo text of a processingFailure (Exhibit 80)."""
        p = self.error.parameter if self.error is not None else None
        return str(asn1.decode("LnpSpecificInfo", p.error_info)) if isinstance(p, cmip.ProcessingFailure) else None


def version_values(attributes: Any) -> dict[str, Any]:
    """(attribute id, TLV) pairs of a subscriptionVersionNPAC -> {GDMO name: Python value}."""
    out = {}
    for aid, tlv in attributes:
        codec = BY_OID.get(aid) if isinstance(aid, str) else None
        if codec is not None:
            try:
                out[codec.name] = codec.decode(tlv)
            except (BadValue, ProtocolError):
                out[codec.name] = tlv
    return out


def _change_values(definition: Any) -> dict[str, Any]:
    out = {}
    for item in definition:
        codec = BY_OID.get(str(item["attributeId"]["globalForm"]))
        if codec is None:
            continue
        old = item.getComponentByName("oldAttributeValue", default=None, instantiate=False)
        out[codec.name] = (codec.decode(bytes(old)) if old is not None and old.isValue else None,
                           codec.decode(bytes(item["newAttributeValue"])))
    return out


_VALUES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "objectCreation": lambda info: version_values((str(a["id"]["globalForm"]), bytes(a["value"]))
                                                  for a in info["attributeList"]),
    "attributeValueChange": lambda info: _change_values(info["attributeValueChangeDefinition"]),
    "subscriptionVersionStatusAttributeValueChange": lambda info: {
        **_change_values(info["value-change-info"]["attributeValueChangeDefinition"]),
        "failed": [str(i["service-prov-id"]) for i in info["failed-service-provs"]]
        if info["failed-service-provs"].isValue else []},
}


class SoaSimulator:
    def __init__(self, identity: Identity, directory: Directory, *, npac_system_id: str,
                 clock: Callable[[], dt.datetime] | None = None, shared_log: list[Received] | None = None,
                 request_timeout: float = 30.0):
        self.sp = identity.system_id
        self.npac_system_id = npac_system_id
        self.carrier = CarrierAssociation(identity, directory, frozenset({"soa.soaMgmt"}),
                                          npac_system_id=npac_system_id, clock=clock, on_request=self._on_request,
                                          request_timeout=request_timeout)
        self.received: list[Received] = []
        self.shared_log = shared_log  # one list for several SOAs: the order across carriers
        self.confirm = True  # False: answer notifications with processingFailure (the NPAC resends)
        self._arrival = asyncio.Event()

    # ---- association -------------------------------------------------------------------------------
    async def open(self, hosts: list[Host]) -> None:
        await self.carrier.open(hosts)

    @property
    def associated(self) -> bool:
        return self.carrier.conn is not None and self.carrier.conn.assoc.state == "open"

    async def release(self) -> None:
        if self.associated:
            await self.carrier.release()

    def abort(self) -> None:
        self.carrier.abort()

    # ---- notifications ------------------------------------------------------------------------------
    def _on_request(self, carrier: CarrierAssociation, ind: RequestIndication) -> Any:
        req = ind.request
        if not isinstance(req, cmip.EventReportRequest):
            return cmip.CmipError(cmip.ACCESS_DENIED)
        record = OIDS.find(req.event_type) if isinstance(req.event_type, str) else None
        if record is None or not self.confirm:
            return cmip.CmipError(cmip.PROCESSING_FAILURE, None)
        info = asn1.decode(OIDS.syntax_class(record), req.event_info)
        version_id = None
        if isinstance(req.object_instance, tuple) and req.object_instance:
            version_id = read_version_id(req.object_instance[-1][0][1])
        values = _VALUES[record.name](info) if record.name in _VALUES else {}
        got = Received(self.sp, record.name, version_id, asn1.to_plain(info), values, time.monotonic())
        self.received.append(got)
        if self.shared_log is not None:
            self.shared_log.append(got)
        self._arrival.set()
        return cmip.EventReportResult()

    def notifications(self, name: str | None = None, version_id: int | None = None) -> list[Received]:
        return [r for r in self.received
                if (name is None or r.name == name) and (version_id is None or r.version_id == version_id)]

    async def wait_for(self, name: str, count: int = 1, version_id: int | None = None,
                       timeout: float = 5.0) -> list[Received]:
        """Wait until `count` notifications `name` (of `version_id`) have arrived; returns them."""
        async def arrived() -> list[Received]:
            while len(found := self.notifications(name, version_id)) < count:
                self._arrival.clear()
                await self._arrival.wait()
            return found
        return await asyncio.wait_for(arrived(), timeout)

    # ---- requests -------------------------------------------------------------------------------------
    async def request(self, request: Any, reply_type: type | None = None) -> Answer:
        try:
            outcome = await self.carrier.request(request)
        except RemoteError as exc:
            return Answer(error=exc.error or cmip.CmipError(cmip.PROCESSING_FAILURE))
        reply = None
        if reply_type is not None and getattr(outcome.result, "reply_info", None) is not None:
            reply = asn1.to_plain(asn1.decode(reply_type, outcome.result.reply_info))
        return Answer(outcome.result, reply, None, outcome.linked)

    async def action(self, name: str, info: bytes) -> Answer:
        record = OIDS.action(name)
        req = cmip.ActionRequest(OIDS.object_class("lnpSubscriptions").oid, subscriptions_dn(self.npac_system_id),
                                 record.oid, info)
        return await self.request(req, OIDS.syntax_class(record, reply=True))

    async def new_sp_create(self, tn: TargetSpec, old_sp: str, due_ms: int, values: dict[str, Any] | None = None, *,
                            lnp_type: LnpType = LnpType.LSPP, porting_to_original: bool = False,
                            new_sp: str | None = None) -> Answer:
        info = acts.new_sp_create(target(tn), old_sp, new_sp or self.sp, due_ms, lnp_type=lnp_type,
                                  porting_to_original=porting_to_original, values=values)
        return await self.action("subscriptionVersionNewSP-Create", info)

    async def old_sp_create(self, tn: TargetSpec, new_sp: str, due_ms: int, authorization: bool = True,
                            old_sp: str | None = None) -> Answer:
        info = acts.old_sp_create(target(tn), old_sp or self.sp, new_sp, due_ms, authorization)
        return await self.action("subscriptionVersionOldSP-Create", info)

    async def activate(self, spec: TargetSpec) -> Answer:
        return await self.action("subscriptionVersionActivate", acts.targeted_action("ActivateAction", target(spec)))

    async def cancel(self, spec: int | str) -> Answer:
        return await self.action("subscriptionVersionCancel", acts.version_action("CancelAction", target(spec)))

    async def modify(self, spec: TargetSpec, changes: dict[str, Any], version_status: int | None = None) -> Answer:
        return await self.action("subscriptionVersionModify", acts.modify(target(spec), changes, version_status))

    async def disconnect(self, spec: TargetSpec, customer_disconnect_ms: int, effective_release_ms: int | None = None
                         ) -> Answer:
        info = acts.disconnect(target(spec), customer_disconnect_ms, effective_release_ms)
        return await self.action("subscriptionVersionDisconnect", info)

    async def cancel_ack(self, spec: int | str, side: str) -> Answer:
        """side: "old" or "new" (the action names the acknowledging side)."""
        name = f"subscriptionVersion{side.capitalize()}SP-CancellationAcknowledge"
        return await self.action(name, acts.version_action("CancellationAcknowledgeAction", target(spec)))

    async def conflict_resolution_ack(self, spec: int | str, side: str) -> Answer:
        name = f"subscriptionVersion{side.capitalize()}SP-ConflictResolutionAcknowledge"
        return await self.action(name, acts.version_action("ConflictResolutionAcknowledgeAction", target(spec)))

    async def conflict_resolution_pending(self, spec: int | str) -> Answer:
        info = acts.version_action("ConflictResolutionPendingAction", target(spec))
        return await self.action("subscriptionVersionNewSP-ConflictResolutionPending", info)

    async def set_version(self, version_id: int, changes: dict[str, Any]) -> Answer:
        """M-SET on the subscriptionVersionNPAC (flow 6.4.4.1)."""
        by_field = {codec.field: codec for codec in BY_OID.values()}
        mods = tuple((by_field[f].oid, by_field[f].encode(v), cmip.REPLACE) for f, v in changes.items())
        return await self.request(cmip.SetRequest(VERSION_CLASS, version_dn(self.npac_system_id, version_id), mods))

    async def query(self, *, tn: str | None = None, version_id: int | None = None, flt: Filter | None = None,
                    scope: cmip.Scope = cmip.FIRST_LEVEL_ONLY, attributes: tuple[str, ...] | None = None) -> Answer:
        """Scoped/filtered M-GET from lnpSubscriptions (flow 6.4.11); `reply` is one dict per version."""
        items = []
        for name, value in (("subscriptionTN", tn), ("subscriptionVersionId", version_id)):
            if value is not None:
                codec = next(c for c in BY_OID.values() if c.name == name)
                items.append(FilterItem("equality", codec.oid, codec.encode(value)))
        if flt is not None:
            items.append(flt)
        ids = None if attributes is None else tuple(OIDS.attribute(a).oid for a in attributes)
        answer = await self.request(cmip.GetRequest(
            OIDS.object_class("lnpSubscriptions").oid, subscriptions_dn(self.npac_system_id), scope,
            FilterAnd(tuple(items)), ids))
        if not answer.ok:
            return answer
        results = [answer.result, *answer.linked] if answer.result is not None else list(answer.linked)
        versions = [version_values(r.attributes) for r in results
                    if isinstance(r, cmip.GetResult) and r.object_class == VERSION_CLASS]
        return Answer(answer.result, sorted(versions, key=lambda v: v.get("subscriptionVersionId", 0)), None,
                      answer.linked)

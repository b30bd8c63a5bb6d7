"""Network data over CMIP (flows 6.3.4-6.3.9; IIS 4.1 "Network Data Update"): the SOA's and the
LSMS's M-CREATE / M-DELETE of serviceProvNPA-NXX and serviceProvLRN, M-SET of serviceProv, and
M-GET through the store views mounted on the agent. The agent has already checked the access
control and that the association's functions reach the class (IIS Exhibit 8); ownership, in-use
and value checks are `NetworkData`'s, whose refusals come back as the CMIP error they name.
"""
from __future__ import annotations

from typing import Any

from appliance.agent import NpacAgent, RequestContext
from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_plain, attribute_tlv, lrn_digits, ms_of, rdn_plain
from appliance.npac.model import DownloadReason
from appliance.npac.network_data import NetworkData, NetworkDataError, Requester
from appliance.npac.network_view import ADDRESS_ATTRIBUTES, NetworkView, ServiceProvsView
from appliance.npac.network_wire import KIND_OF_CLASS, LRN, NPA_NXX, npac_network, npac_service_provs
from appliance.osi import cmip
from appliance.osi.errors import ProtocolError
from appliance.store.network import LRNS, NPA_NXX as NPA_NXX_ROWS, SERVICE_PROVIDERS

_BAD = (ProtocolError, KeyError, ValueError, TypeError)
_SPECIFIC_INFO = OIDS.attribute("lnpSpecificInfo").oid


def requester(ctx: RequestContext) -> Requester:
    return Requester(ctx.system_id, lsms=any(f.startswith("lsms.") for f in ctx.grant.functions))


class NetworkInterface:
    def __init__(self, agent: NpacAgent, data: NetworkData):
        self.agent = agent
        self.data = data
        npac_id = agent.identity.system_id
        self.network, self.service_provs = npac_network(npac_id), npac_service_provs(npac_id)
        store = data.store
        agent.mount(self.network, NetworkView(store, npac_id))
        agent.mount(self.service_provs, lambda ctx: ServiceProvsView(store, npac_id, ctx.system_id if ctx else None))
        for class_name in ("serviceProvNPA-NXX", "serviceProvLRN"):
            agent.on_operation("create", class_name, self.create)
            agent.on_operation("delete", class_name, self.delete)
        agent.on_operation("set", "serviceProv", self.modify_service_prov)

    # ---- errors --------------------------------------------------------------------------------
    def _error(self, ctx: RequestContext, exc: NetworkDataError, instance: Any = None) -> cmip.CmipError:
        req = ctx.request
        parameters = {
            cmip.NO_SUCH_OBJECT_INSTANCE: instance or getattr(req, "object_instance", None),
            cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE: instance or getattr(req, "object_instance", None),
            cmip.COMPLEXITY_LIMITATION: cmip.ComplexityLimitation(),
            # IIS 5.3.3: the reason rides as lnpSpecificInfo in the SpecificErrorInfo
            cmip.PROCESSING_FAILURE: cmip.ProcessingFailure(
                req.object_class, _SPECIFIC_INFO, attribute_tlv("lnpSpecificInfo", exc.text[:255] or "refused")),
        }
        return cmip.CmipError(exc.code, parameters.get(exc.code))

    # ---- M-CREATE (6.3.8.3, 6.3.8.4, 6.3.9.2, 6.3.9.6) --------------------------------------------
    async def create(self, ctx: RequestContext) -> Any:
        req: cmip.CreateRequest = ctx.request
        kind = KIND_OF_CLASS[ctx.class_name]
        superior = req.superior_instance or (req.object_instance[:-1] if isinstance(req.object_instance, tuple)
                                             else None)
        sp_id = self._sp_of(superior)
        if sp_id is None:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, superior)
        attrs: dict[str, bytes] = {}
        for aid, tlv in req.attributes:
            record = OIDS.find(aid) if isinstance(aid, str) else None
            if record is None or record.kind != "attribute":
                return cmip.CmipError(cmip.NO_SUCH_ATTRIBUTE, aid)
            attrs[record.name] = tlv
        required = _REQUIRED[kind.name]
        missing = [name for name in required if name not in attrs]
        if missing:
            return cmip.CmipError(cmip.MISSING_ATTRIBUTE_VALUE, tuple(OIDS.attribute(n).oid for n in missing))
        values = {}
        for name in required:
            try:
                values[name] = _CONVERT[name](attribute_plain(name, attrs[name]))
            except _BAD:
                return cmip.CmipError(cmip.INVALID_ATTRIBUTE_VALUE, (OIDS.attribute(name).oid, attrs[name]))
        by = requester(ctx)
        try:
            if kind.name == NPA_NXX:
                row = await self.data.create_npa_nxx(sp_id, values["serviceProvNPA-NXX-Value"],
                                                     values["serviceProvNPA-NXX-EffectiveTimeStamp"], by)
            else:
                row = await self.data.create_lrn(sp_id, values["serviceProvLRN-Value"], by)
        except NetworkDataError as exc:
            return self._error(ctx, exc, superior)
        attributes = tuple((oid, tlv) for oid, tlv in kind.encoded(row, DownloadReason.NEW)
                           if oid != OIDS.attribute("serviceProvDownloadReason").oid)
        return cmip.CreateResult(req.object_class, kind.dn(self.network, row), self.agent.clock(), attributes)

    def _sp_of(self, dn: Any) -> str | None:
        """The SP of a serviceProvNetwork DN under the NPAC's lnpNetwork."""
        if not isinstance(dn, tuple) or len(dn) != len(self.network) + 1 or dn[:-1] != self.network:
            return None
        try:
            name, sp_id = rdn_plain(dn, -1)
        except _BAD:
            return None
        return sp_id if name == "serviceProvID" else None

    # ---- M-DELETE (6.3.8.5, 6.3.8.6, 6.3.9.3, 6.3.9.7) --------------------------------------------
    async def delete(self, ctx: RequestContext) -> Any:
        req: cmip.DeleteRequest = ctx.request
        kind = KIND_OF_CLASS[ctx.class_name]
        dn = req.object_instance
        if req.scope != cmip.BASE_OBJECT:
            return cmip.CmipError(cmip.INVALID_SCOPE, req.scope)
        sp_id = self._sp_of(dn[:-1]) if isinstance(dn, tuple) and dn else None
        try:
            name, key = rdn_plain(dn, -1) if sp_id is not None else (None, None)
        except _BAD:
            name = None
        if name != kind.naming:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, dn)
        remove = self.data.delete_npa_nxx if kind.name == NPA_NXX else self.data.delete_lrn
        try:
            row = await remove(key, requester(ctx)) if self._belongs(kind.name, key, sp_id) else None
        except NetworkDataError as exc:
            return self._error(ctx, exc)
        if row is None:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, dn)
        return cmip.DeleteResult(req.object_class, dn, self.agent.clock())

    def _belongs(self, kind: str, key: int, sp_id: str) -> bool:
        row = (NPA_NXX_ROWS if kind == NPA_NXX else LRNS).get(self.data.store, key)
        return row is not None and row["sp_id"] == sp_id

    # ---- M-SET serviceProv (6.3.4, 6.3.5) ------------------------------------------------------------
    async def modify_service_prov(self, ctx: RequestContext) -> Any:
        req: cmip.SetRequest = ctx.request
        dn = req.object_instance
        if req.scope != cmip.BASE_OBJECT:
            return cmip.CmipError(cmip.INVALID_SCOPE, req.scope)
        if not isinstance(dn, tuple) or len(dn) != len(self.service_provs) + 1 or dn[:-1] != self.service_provs:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, dn)
        try:
            _, sp_id = rdn_plain(dn, -1)
        except _BAD:
            return cmip.CmipError(cmip.NO_SUCH_OBJECT_INSTANCE, dn)
        changes: dict[str, Any] = {}
        for aid, tlv, operator in req.modifications:
            record = OIDS.find(aid) if isinstance(aid, str) else None
            if record is None or (record.name not in _SETTERS and record.name not in _NPAC_ONLY_ATTRIBUTES):
                return cmip.CmipError(cmip.NO_SUCH_ATTRIBUTE, aid)
            if record.name in _NPAC_ONLY_ATTRIBUTES:
                return cmip.CmipError(cmip.ACCESS_DENIED)  # L35668: not replaceable over the interface
            if operator != cmip.REPLACE or tlv is None or not _decodes(record.name, tlv):
                return cmip.CmipError(cmip.INVALID_ATTRIBUTE_VALUE, (aid, tlv or b""))
            _SETTERS[record.name](changes, record.name, tlv)
        if "addresses" in changes:
            current = SERVICE_PROVIDERS.get(self.data.store, sp_id)
            changes["addresses"] = {**((current or {}).get("addresses") or {}), **changes["addresses"]}
        try:
            await self.data.modify_service_provider(sp_id, changes, requester(ctx))
        except NetworkDataError as exc:
            return self._error(ctx, exc)
        return cmip.SetResult(req.object_class, dn, self.agent.clock(),
                              tuple((aid, tlv) for aid, tlv, _ in req.modifications))


def _decodes(name: str, tlv: bytes) -> bool:
    try:
        attribute_plain(name, tlv)
    except _BAD:
        return False
    return True


_REQUIRED = {
    NPA_NXX: ("serviceProvNPA-NXX-Value", "serviceProvNPA-NXX-EffectiveTimeStamp"),  # Table 3-5: both required
    LRN: ("serviceProvLRN-Value",),
}
_CONVERT = {  # attribute plain value -> the store's form
    "serviceProvNPA-NXX-Value": lambda v: v["npa-value"] + v["nxx-value"],
    "serviceProvNPA-NXX-EffectiveTimeStamp": ms_of,
    "serviceProvLRN-Value": lrn_digits,
}
_NPAC_ONLY_ATTRIBUTES = frozenset({"serviceProvID", "npacCustomerAllowableFunctions"})


def _set_name(changes: dict[str, Any], name: str, tlv: bytes) -> None:
    changes["name"] = attribute_plain(name, tlv)


def _set_tunables(changes: dict[str, Any], name: str, tlv: bytes) -> None:
    changes["tunables"] = {t["name"]: t["value"] for t in attribute_plain(name, tlv)}


def _set_address(changes: dict[str, Any], name: str, tlv: bytes) -> None:
    changes.setdefault("addresses", {})[name] = tlv.hex()


def _set_link_info(changes: dict[str, Any], name: str, tlv: bytes) -> None:
    changes["network_addresses"] = [tlv.hex()]


_SETTERS = {"serviceProvName": _set_name, "serviceProvTunables": _set_tunables,
            "serviceProvSysLinkInfo": _set_link_info, **{a: _set_address for a in ADDRESS_ATTRIBUTES}}

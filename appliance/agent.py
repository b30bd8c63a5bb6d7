"""The NPAC's CMIP agent: accepts carriers' associations, checks every request, dispatches it.

Per association: the LNP access control (`lnp.secure_association`), then the association functions
the carrier was granted (IIS Exhibit 8) against the object class addressed, then the handler
registered for the operation. Errors a carrier can cause come back as the CMIP error the IIS names
(Exhibit 79/80); nothing reaches a handler that has not passed the checks.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from appliance.lnp.association_info import SUCCESS
from appliance.lnp.oids import OIDS
from appliance.lnp.secure_association import SecureEndpoint, SecurityLogger, event_access_control
from appliance.lnp.security import Directory, Grant, Identity
from appliance.osi import cmip
from appliance.osi.association import Address, Association, AssociateIndication, RequestIndication
from appliance.osi.cmip_filter import ContainmentTree, InvalidScope, NoSuchObject, select
from appliance.osi.transport import AbortAssociation, CmipConnection, Outcome, Replies

log = logging.getLogger("appliance.agent")

# IIS Exhibit 8: the classes each association function reaches (query reaches all of them).
_SOA_MGMT = frozenset({"lnpSubscriptions", "subscriptionAudit", "subscriptionVersion", "subscriptionVersionNPAC",
                       "lnpAudits"})
_NETWORK = frozenset({"lnpNetwork", "lnpNPAC-SMS", "lnpServiceProvs", "serviceProv", "serviceProvLRN",
                      "serviceProvNetwork", "serviceProvNPA-NXX"})
_DOWNLOAD = frozenset({"lnpNetwork", "lnpSubscriptions"})
FUNCTION_CLASSES = {
    "soa.soaMgmt": _SOA_MGMT,
    "soa.networkDataMgmt": _NETWORK,
    "lsms.networkDataMgmt": _NETWORK,
    "lsms.dataDownload": _DOWNLOAD,
}


# Actions a function grants beyond its classes: recovery (IIS 5.2.1.10) belongs to the download
# function, but lnpRecoveryComplete is addressed to lnpNPAC-SMS (IIS 4.1, L26764).
FUNCTION_ACTIONS = {"lnpRecoveryComplete": frozenset({"lsms.dataDownload"})}


class ObjectAccessDenied(LookupError):
    """Raised by a tree view for an object the requester may not see (answered accessDenied)."""


def function_allows(grant: Grant, class_name: str, kind: str) -> bool:
    if kind == "get" and "lsms.query" in grant.functions:
        return True
    if kind == "get" and "soa.soaMgmt" in grant.functions:
        return True  # SOAs query subscription versions and network data (IIS 6.4.x, 6.3.x)
    return any(class_name in FUNCTION_CLASSES.get(f, ()) for f in grant.functions)


@dataclass
class RequestContext:
    agent: "NpacAgent"
    conn: CmipConnection
    endpoint: SecureEndpoint
    invoke_id: int
    request: Any
    class_name: str

    @property
    def system_id(self) -> str:
        return self.endpoint.peer_id or ""

    @property
    def grant(self) -> Grant:
        return self.endpoint.grant  # type: ignore[return-value]


Handler = Callable[[RequestContext], Any]
TreeSource = ContainmentTree | Callable[[RequestContext], ContainmentTree]


class MountedTree:
    """The agent's tree with subtrees served by others: `mounts` maps a base DN to the tree that
    holds that object and everything under it (ContainmentTree protocol)."""

    def __init__(self, tree: ContainmentTree | None, mounts: dict[tuple, ContainmentTree]):
        self.tree = tree
        self.mounts = mounts

    def _owner(self, dn: tuple) -> ContainmentTree | None:
        best = max((b for b in self.mounts if dn[:len(b)] == b), key=len, default=None)
        return self.mounts[best] if best is not None else self.tree

    def get(self, dn: tuple):
        owner = self._owner(dn)
        return owner.get(dn) if owner is not None else None

    def children(self, dn: tuple) -> list:
        owner = self._owner(dn)
        found = {c.dn: c for c in (owner.children(dn) if owner is not None else ())}
        for base, tree in self.mounts.items():
            if len(base) == len(dn) + 1 and base[:-1] == dn and tree is not owner:
                found.pop(base, None)
                obj = tree.get(base)
                if obj is not None:
                    found[base] = obj
        return list(found.values())


def _error(code: int, parameter: Any = None) -> cmip.CmipError:
    return cmip.CmipError(code, parameter)


class NpacAgent:
    def __init__(self, *, identity: Identity, directory: Directory, security_log: SecurityLogger,
                 tree: ContainmentTree | None = None, local: Address = Address(),
                 availability: Callable[[], tuple[int, str]] | None = None,
                 clock: Callable[[], dt.datetime] | None = None, request_timeout: float = 120.0,
                 max_associations: int = 256, max_get_results: int = 150):
        self.identity = identity
        self.directory = directory
        self.security_log = security_log
        self.tree = tree
        self.local = local
        self.availability = availability
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.request_timeout = request_timeout
        self.max_associations = max_associations
        self.max_get_results = max_get_results
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.mounts: dict[tuple, TreeSource] = {}
        self.connections: set[CmipConnection] = set()
        # called with each newly accepted association (e.g. to deliver what a carrier missed)
        self.association_listeners: list[Callable[[CmipConnection], None]] = []
        # service-level metering: told of each carrier request on arrival and of each request the NPAC
        # sends; an observer returns a callable given the answer (or None), so the time in between is
        # the NPAC's processing time (SLR 3) or the round trip (SLR 6)
        self.request_observers: list[Callable[[CmipConnection, Any], Callable[[Any], None] | None]] = []
        self.outgoing_observers: list[Callable[[CmipConnection, Any], Callable[[Any], None] | None]] = []
        self.server: asyncio.AbstractServer | None = None

    # ---- registration ------------------------------------------------------------------------
    def on_action(self, action_name: str, handler: Handler) -> None:
        OIDS.action(action_name)  # a misspelt name fails here, not at a carrier's first request
        self.handlers[("action", action_name)] = handler

    def on_operation(self, kind: str, class_name: str, handler: Handler) -> None:
        """kind: create, set, delete, event (an event report on an object of that class) or get (a
        query whose base object is of that class, instead of the generic one over `tree`)."""
        OIDS.object_class(class_name)
        self.handlers[(kind, class_name)] = handler

    def on_event(self, notification_name: str, handler: Handler) -> None:
        OIDS.notification(notification_name)
        self.handlers[("event", notification_name)] = handler

    def mount(self, base: tuple, source: TreeSource) -> None:
        """Serve M-GETs at `base` and below from `source`: a tree, or a function of the request
        context giving one (a view that depends on who asks)."""
        self.mounts[base] = source

    def view(self, ctx: RequestContext | None = None) -> ContainmentTree | None:
        if not self.mounts:
            return self.tree
        trees = {base: src if hasattr(src, "children") else src(ctx) for base, src in self.mounts.items()}
        return MountedTree(self.tree, trees)  # type: ignore[arg-type]

    # ---- serving -----------------------------------------------------------------------------
    async def serve(self, host: str, port: int) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._new_connection, host, port)
        return self.server

    def _new_connection(self) -> CmipConnection:
        endpoint = SecureEndpoint(self.identity, self.directory, self.security_log, self.clock)
        conn = CmipConnection(
            Association(False, self.local), request_timeout=self.request_timeout,
            on_associate=self._on_associate, on_request=self._on_request, on_closed=self._on_closed,
            on_release=lambda c, ev: self.security_log("association-released", peer=c.peer_name,
                                                       system_id=endpoint.peer_id),
            on_abort=lambda c, ev: self.security_log("association-aborted", peer=c.peer_name,
                                                     system_id=endpoint.peer_id),
            # IIS 5.2.4: invalid messages are part of the audit trail
            on_protocol_error=lambda c, exc: self.security_log("protocol-error", peer=c.peer_name,
                                                               system_id=endpoint.peer_id, layer=exc.layer,
                                                               detail=exc.message[:200]),
        )
        conn.context["lnp"] = endpoint
        return conn

    def _on_associate(self, conn: CmipConnection, ind: AssociateIndication) -> None:
        endpoint: SecureEndpoint = conn.context["lnp"]
        if len(self.connections) >= self.max_associations:
            conn.assoc.refuse(endpoint.association_response_info(2, "too many associations"))
            return
        if endpoint.on_associate(conn, ind, self.availability) is not None:
            self.connections.add(conn)
            for listener in self.association_listeners:
                listener(conn)

    def _on_closed(self, conn: CmipConnection) -> None:
        self.connections.discard(conn)

    async def close(self, release_first: bool = True) -> None:
        """IIS 5.3.2: release the associations gracefully, then abort whatever is left."""
        if self.server is not None:
            self.server.close()
        await self.release_all(release_first)

    async def release_all(self, release_first: bool = True) -> None:
        """Every association released (A-RELEASE, 5 s each), then whatever is left aborted; the
        listener stays open (a draining node answers new AARQs from its role)."""
        if release_first:
            open_conns = [c for c in list(self.connections) if c.assoc.state == "open"]
            outcomes = await asyncio.gather(*(c.release(timeout=5) for c in open_conns), return_exceptions=True)
            for conn, outcome in zip(open_conns, outcomes):
                self.security_log("association-released", peer=conn.peer_name, by="npac",
                                  system_id=conn.context["lnp"].peer_id,
                                  detail=None if not isinstance(outcome, BaseException) else "no RLRE; aborted")
        for conn in list(self.connections):
            conn.abort()

    def associations_of(self, system_id: str, function: str | None = None) -> list[CmipConnection]:
        out = []
        for conn in self.connections:
            ep: SecureEndpoint = conn.context["lnp"]
            if ep.peer_id == system_id and conn.assoc.state == "open":
                if function is None or (ep.grant and function in ep.grant.functions):
                    out.append(conn)
        return out

    # ---- requests ----------------------------------------------------------------------------
    def _on_request(self, conn: CmipConnection, ind: RequestIndication) -> Any:
        if not self.request_observers:
            return self._handle_request(conn, ind)
        done = [d for d in (observe(conn, ind.request) for observe in self.request_observers) if d is not None]
        return _observed(self._handle_request(conn, ind), done)

    def _handle_request(self, conn: CmipConnection, ind: RequestIndication) -> Any:
        endpoint: SecureEndpoint = conn.context["lnp"]
        req = ind.request
        if isinstance(req, cmip.EventReportRequest):
            return self._on_event_report(conn, endpoint, ind)
        if isinstance(req, cmip.CancelGetRequest):
            # CMIP gives M-CANCEL-GET no accessControl (IIS 5.2.3 lists the other five); our
            # scoped gets are answered in one step, so there is never one left to cancel.
            return _error(cmip.NO_SUCH_INVOKE_ID, req.get_invoke_id)
        endpoint.check_message(conn, req.access_control)
        record = OIDS.find(req.object_class) if isinstance(req.object_class, str) else None
        if record is None or record.kind != "objectClass":
            return _error(cmip.NO_SUCH_OBJECT_CLASS, req.object_class)
        kind = {cmip.GetRequest: "get", cmip.SetRequest: "set", cmip.ActionRequest: "action",
                cmip.CreateRequest: "create", cmip.DeleteRequest: "delete"}[type(req)]
        action = OIDS.find(req.action_type) if kind == "action" and isinstance(req.action_type, str) else None
        granted = FUNCTION_ACTIONS.get(action.name, frozenset()) if action is not None else frozenset()
        if not function_allows(endpoint.grant, record.name, kind) and not granted & endpoint.grant.functions:
            return _error(cmip.ACCESS_DENIED)
        ctx = RequestContext(self, conn, endpoint, ind.invoke_id, req, record.name)
        if kind == "get":
            query = self.handlers.get(("get", record.name))
            return query(ctx) if query is not None else self._get(ctx)
        if kind == "action":
            handler = self.handlers.get(("action", action.name)) if action and action.kind == "action" else None
            if handler is None:
                return _error(cmip.NO_SUCH_ACTION, cmip.NoSuchAction(req.object_class, req.action_type))
            return handler(ctx)
        handler = self.handlers.get((kind, record.name))
        if handler is None:
            return _error(cmip.ACCESS_DENIED)
        return handler(ctx)

    def _on_event_report(self, conn: CmipConnection, endpoint: SecureEndpoint, ind: RequestIndication) -> Any:
        req: cmip.EventReportRequest = ind.request
        record = OIDS.find(req.event_type) if isinstance(req.event_type, str) else None
        if record is None or record.kind != "notification":
            # the access control sits inside the info, so an unknown event cannot be checked
            endpoint.violation(conn, "unknown-event", f"event type {req.event_type!r}")
            raise AbortAssociation()
        info_type = OIDS.syntax_class(record)
        endpoint.check_message(conn, event_access_control(info_type, req.event_info) if info_type else None)
        handler = self.handlers.get(("event", record.name))
        if handler is None:
            return _error(cmip.NO_SUCH_EVENT_TYPE, cmip.NoSuchEventType(req.object_class, req.event_type))
        ctx = RequestContext(self, conn, endpoint, ind.invoke_id, req, record.name)
        return handler(ctx)

    def _get(self, ctx: RequestContext) -> Any:
        req: cmip.GetRequest = ctx.request
        tree = self.view(ctx)
        if tree is None or not isinstance(req.object_instance, tuple):
            return _error(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        try:
            found = select(tree, req.object_instance, req.scope, req.filter)
        except NoSuchObject:
            return _error(cmip.NO_SUCH_OBJECT_INSTANCE, req.object_instance)
        except ObjectAccessDenied:
            return _error(cmip.ACCESS_DENIED)
        except InvalidScope:
            return _error(cmip.INVALID_SCOPE, req.scope)
        if len(found) > self.max_get_results:
            return _error(cmip.COMPLEXITY_LIMITATION, cmip.ComplexityLimitation(req.scope, req.filter, req.sync))
        wanted = None if req.attribute_ids is None else set(req.attribute_ids)
        now = self.clock()
        results = [
            cmip.GetResult(obj.object_class, obj.dn, now, tuple(
                (aid, v) for aid, v in obj.attributes.items() if wanted is None or aid in wanted))
            for obj in found
        ]
        if req.scope == cmip.BASE_OBJECT and len(results) == 1:
            return results[0]
        return Replies(results, None)

    # ---- outgoing notifications and requests -------------------------------------------------
    def send_event(self, conn: CmipConnection, class_oid: str, instance: Any, event_name: str,
                   build_info: Callable[[bytes], bytes], timeout: float | None = None) -> Awaitable[Outcome]:
        """Sign and send one confirmed M-EVENT-REPORT; build_info(access_control_tlv) -> info TLV."""
        endpoint: SecureEndpoint = conn.context["lnp"]
        info = build_info(endpoint.stamp())
        req = cmip.EventReportRequest(class_oid, instance, OIDS.notification(event_name).oid, info, self.clock())
        return self._outgoing(conn, req, conn.send_request(req, timeout))

    def send_request(self, conn: CmipConnection, request: Any, timeout: float | None = None) -> Awaitable[Outcome]:
        """The NPAC as manager towards an LSMS (M-CREATE / M-SET / M-DELETE / M-ACTION / M-GET):
        signed now, so sequence numbers follow call order."""
        endpoint: SecureEndpoint = conn.context["lnp"]
        return self._outgoing(conn, request, conn.send_request(endpoint.signed_request(request), timeout))

    def send_request_with(self, conn: CmipConnection, build: Callable[[bytes], Any],
                          timeout: float | None = None) -> Awaitable[Outcome]:
        """As send_request, for a request whose information carries the access control too
        (LocalSMS-CreateAction, L42570): build(access_control_tlv) -> request, one stamp for both."""
        endpoint: SecureEndpoint = conn.context["lnp"]
        stamp = endpoint.stamp()
        request = replace(build(stamp), access_control=stamp)
        return self._outgoing(conn, request, conn.send_request(request, timeout))

    def _outgoing(self, conn: CmipConnection, request: Any, answer: Awaitable[Outcome]) -> Awaitable[Outcome]:
        for observe in self.outgoing_observers:
            done = observe(conn, request)
            if done is not None:
                answer.add_done_callback(lambda fut, d=done: d(_settled(fut)))  # type: ignore[attr-defined]
        return answer


def _settled(fut: asyncio.Future) -> Any:
    """What a finished future holds: its result, or the exception that ended it."""
    if fut.cancelled():
        return asyncio.CancelledError()
    return fut.exception() or fut.result()


def _observed(answer: Any, done: list[Callable[[Any], None]]) -> Any:
    """Tell the observers the answer once there is one (an awaitable answer when it completes)."""
    if not done:
        return answer
    if isinstance(answer, Awaitable):
        task = asyncio.ensure_future(answer)
        task.add_done_callback(lambda t: [d(_settled(t)) for d in done])
        return task
    for d in done:
        d(answer)
    return answer

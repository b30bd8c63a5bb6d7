"""The node's side of the status document (`appliance.status`): what the node itself knows.

`NodeMonitor` sits in front of the security log: every record still goes to the log first (the
audit trail is the record of truth), and the monitor counts violations and refusals and remembers
when each association was established. `status(agent)` then reads the open associations from the
agent, and the epoch and last journal sequence from the store (functions the node passes in).
Peer, heartbeat paths and replication come from the HA manager, links and self-checks from the
node's own runs of the firmware hooks (appliance.ops.selfcheck); until they report here those parts
stay at their "unknown" defaults.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

from appliance.agent import NpacAgent
from appliance.config import NodeConfig
from appliance.lnp.secure_association import SecureEndpoint
from appliance.status import (
    ROLES, SECURITY_KINDS, SYSTEM_TYPES, Association, HeartbeatPath, Link, Peer, Replication, SecurityCounters,
    SelfCheck, ServiceLevels, StatusBoard, utc_text,
)

# Until the HA manager decides roles, the configured one stands: the primary is live, the DR follows.
CONFIGURED_ROLE = {"primary": "primary-live", "dr": "standby"}


def software_revision() -> str:
    try:
        return metadata.version("npac-appliance")
    except metadata.PackageNotFoundError:
        return "unknown"


def split_peer(peer: str) -> tuple[str, int]:
    host, _, port = peer.rpartition(":")
    return (host.strip("[]"), int(port)) if port.isdigit() else (peer, 0)


class NodeMonitor:
    def __init__(self, cfg: NodeConfig, record: Callable[..., Any],
                 clock: Callable[[], dt.datetime] | None = None, epoch: Callable[[], int] = lambda: 0,
                 last_sequence: Callable[[], int] = lambda: 0):
        self.cfg = cfg
        self._record = record
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.epoch = epoch
        self.last_sequence = last_sequence
        self.started = utc_text(self.clock())
        self.security = SecurityCounters()
        self.established: dict[str, str] = {}  # peer "address:port" -> when its association opened
        self.pair: Any = None  # appliance.node_ha.PairMember on a node of the pair
        self.ha_report: dict[str, Any] | None = None  # npac-ha's last report (peer, heartbeat paths)
        self._path_up: dict[str, bool] = {}
        self.path_losses: dict[str, int] = {}
        self.service_levels: Callable[[], ServiceLevels | None] | None = None  # the meters, when live
        # the last self-test and link-status run (appliance.ops.selfcheck.SelfChecks)
        self.self_checks: list[SelfCheck] = []
        self.links: list[Link] = []

    def take_ha_report(self, report: dict[str, Any] | None) -> None:
        """npac-ha's report, polled by the node; path losses counted here (up -> down)."""
        self.ha_report = report
        for name, path in ((report or {}).get("paths") or {}).items():
            up = bool(path.get("up"))
            if self._path_up.get(name) and not up:
                self.path_losses[name] = self.path_losses.get(name, 0) + 1
            self._path_up[name] = up

    def peer(self) -> Peer:
        report = self.ha_report
        if self.pair is None:
            return Peer()
        if report is None:
            return Peer(name=self.pair.cfg.peer, role="unknown", state="unknown")
        peer = report.get("peer") or {}
        role = str(peer.get("role") or "unknown")
        return Peer(name=self.pair.cfg.peer, role=role if role in ROLES else "unknown",
                    state="unreachable" if report.get("peer_lost") or not peer else "reachable")

    def heartbeat(self) -> list[HeartbeatPath]:
        report = self.ha_report
        if report is None:
            return []
        out = []
        now = time.monotonic()  # npac-ha reports CLOCK_MONOTONIC readings, the same clock on this machine
        for name, path in sorted((report.get("paths") or {}).items()):
            heard = path.get("last_heard")
            out.append(HeartbeatPath(name=name, state="up" if path.get("up") else "down",
                                     last_heard=round(max(0.0, now - heard), 3) if heard else None,
                                     losses=self.path_losses.get(name, 0)))
        return out

    def record(self, event: str, **fields: Any) -> Any:
        """The security logger the agent is given: log, then count."""
        result = self._record(event, **fields)
        peer = str(fields.get("peer") or "")
        if event == "security-violation":
            kind = str(fields.get("kind") or "")
            counters = self.security
            if kind in SECURITY_KINDS:
                setattr(counters, kind, getattr(counters, kind) + 1)
            else:
                counters.other += 1
            counters.last_kind, counters.last_peer = kind, peer
            counters.last_system_id = str(fields.get("system_id") or "")
            counters.last_time = utc_text(self.clock())
        elif event == "association-refused":
            self.security.refused += 1
        elif event == "association-established":
            self.established[peer] = utc_text(self.clock())
        elif event in ("association-released", "association-aborted"):
            self.established.pop(peer, None)
        return result

    def associations(self, agent: NpacAgent) -> list[Association]:
        out = []
        open_peers = set()
        for conn in list(agent.connections):
            endpoint: SecureEndpoint = conn.context["lnp"]
            grant = endpoint.grant
            if grant is None or conn.assoc.state != "open":
                continue
            open_peers.add(conn.peer_name)
            host, port = split_peer(conn.peer_name)
            out.append(Association(
                system_id=endpoint.peer_id or "", system_type=SYSTEM_TYPES[grant.system_type],
                peer_address=host, peer_port=port,
                established=self.established.get(conn.peer_name, self.started)))
        # a connection that vanished without a release or abort record must not linger here
        for gone in set(self.established) - open_peers:
            del self.established[gone]
        return sorted(out, key=lambda a: (a.system_id, a.system_type, a.established, a.peer_port))

    def role(self) -> str:
        # a lone node is what its configuration says; a node of the pair is what npac-ha made it
        return CONFIGURED_ROLE[self.cfg.role] if self.pair is None else str(self.pair.link.role)

    def replication(self) -> Replication:
        if self.pair is None:
            return Replication(mode="none", last_sequence=self.last_sequence())
        r = self.pair.replication_status()
        return Replication(mode=r["mode"], lag_rows=r["lag_rows"], last_sequence=r["last_sequence"],
                           ack_wait_ms=r["ack_wait_ms"])

    def status(self, agent: NpacAgent) -> StatusBoard:
        now = self.clock()
        return StatusBoard(
            node=self.cfg.name, system_id=self.cfg.system_id, role=self.role(),
            epoch=self.epoch(), started=self.started, software=software_revision(), generated=utc_text(now),
            replication=self.replication(), peer=self.peer(), heartbeat=self.heartbeat(),
            associations=self.associations(agent),
            service_levels=(self.service_levels and self.service_levels()) or ServiceLevels(month=now.strftime("%Y-%m")),
            security=SecurityCounters(**vars(self.security)),
            self_checks=list(self.self_checks), links=list(self.links),
        )

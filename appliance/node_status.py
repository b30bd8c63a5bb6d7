"""The node's side of the status document (`appliance.status`): what the node itself knows.

`NodeMonitor` sits in front of the security log: every record still goes to the log first (the
audit trail is the record of truth), and the monitor counts violations and refusals and remembers
when each association was established. `status(agent)` then reads the open associations from the
agent, and the epoch and last journal sequence from the store (functions the node passes in).
Heartbeats, replication lag, links and self-checks belong to other processes (the HA manager, the
firmware hooks); until they report here those parts stay at their "unknown" defaults.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import metadata
from typing import Any

from appliance.agent import NpacAgent
from appliance.config import NodeConfig
from appliance.lnp.secure_association import SecureEndpoint
from appliance.status import (
    SECURITY_KINDS, SYSTEM_TYPES, Association, Replication, SecurityCounters, ServiceLevels, StatusBoard, utc_text,
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
        return Replication(mode=r["mode"], lag_rows=r["lag_rows"], last_sequence=r["last_sequence"])

    def status(self, agent: NpacAgent) -> StatusBoard:
        now = self.clock()
        return StatusBoard(
            node=self.cfg.name, system_id=self.cfg.system_id, role=self.role(),
            epoch=self.epoch(), started=self.started, software=software_revision(), generated=utc_text(now),
            replication=self.replication(),
            associations=self.associations(agent), service_levels=ServiceLevels(month=now.strftime("%Y-%m")),
            security=SecurityCounters(**vars(self.security)),
        )

"""The snapshot the agent serves: SNMPv2-MIB system and snmp groups, the engine's own counters,
IF-MIB / DS1-MIB (snmp.view_links) and NPAC-APPLIANCE-MIB, all from one `Observed` reading."""
from __future__ import annotations

import datetime as dt
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.status import SYSTEM_TYPES, StatusError, parse_utc
from snmp.instrum import Snapshot, SnapshotBuilder
from snmp.model import HB_PATHS, Observed, Tracker
from snmp.oids import GAUGE, oid
from snmp.view_links import add_links

ROLE = {"primary-live": 1, "standby": 2, "promoting": 3, "fenced": 4, "unknown": 5, "isolated": 6, "draining": 7,
        "handed-over": 8}
PEER_STATE = {"reachable": 1, "unreachable": 2, "unknown": 3}
PATH_STATE = {"up": 1, "down": 2, "unknown": 3}
REPL_MODE = {"sync": 1, "async": 2, "none": 3}
CHECK_STATUS = {"ok": 1, "warning": 2, "failed": 3, "unknown": 4}
# sysServices: end-to-end (layer 4, RFC 1006 transport) and applications (layer 7)
SYS_SERVICES = (1 << 3) | (1 << 6)


@dataclass(frozen=True)
class SystemInfo:
    descr: str
    contact: str
    name: str
    location: str


def date_and_time(text: str | None) -> bytes | None:
    """SNMPv2-TC DateAndTime (11 octets, UTC) from the status document's time text."""
    if not text:
        return None
    try:
        t = parse_utc(text)
    except StatusError:
        return None
    return t.year.to_bytes(2, "big") + bytes([t.month, t.day, t.hour, t.minute, t.second, 0, ord("+"), 0, 0])


def string_index(text: str) -> tuple[int, ...]:
    raw = text.encode("utf-8", "replace")
    return (len(raw), *raw)


def inet(address: str) -> tuple[int, bytes]:
    """(InetAddressType, InetAddress): ipv4(1), ipv6(2), or unknown(0) with no octets."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return 0, b""
    return (1 if ip.version == 4 else 2), ip.packed


def build_snapshot(obs: Observed, tracker: Tracker, system: SystemInfo,
                   engine: dict[str, Callable[[], Any]]) -> Snapshot:
    b = SnapshotBuilder()
    add_system(b, system, engine)
    add_links(b, obs, tracker)
    add_node(b, obs, tracker)
    add_associations(b, obs, tracker)
    add_service_levels(b, obs)
    add_self_checks(b, obs, tracker)
    add_security(b, obs)
    return b.build()


def add_system(b: SnapshotBuilder, system: SystemInfo, engine: dict[str, Callable[[], Any]]) -> None:
    b.scalar("sysDescr", system.descr)
    b.scalar("sysObjectID", oid("npacSmsAppliance"))
    b.scalar("sysContact", system.contact)
    b.scalar("sysName", system.name)
    b.scalar("sysLocation", system.location)
    b.scalar("sysServices", SYS_SERVICES)
    b.scalar("sysORLastChange", 0)
    b.cell("sysORID", (1,), oid("npacApplianceCompliance"))
    b.cell("sysORDescr", (1,), "NPAC-APPLIANCE-MIB: node role, peer, replication, associations, "
                               "service levels, self-checks, security events")
    b.cell("sysORUpTime", (1,), 0)
    b.scalar("snmpEnableAuthenTraps", 2)  # authentication failures are counted (usmStats), not trapped
    for name, read in engine.items():
        b.scalar(name, read)


def add_node(b: SnapshotBuilder, obs: Observed, tracker: Tracker) -> None:
    board = obs.board
    b.scalar("npacNodeName", board.node)
    b.scalar("npacNodeSystemId", board.system_id)
    b.scalar("npacNodeRole", ROLE[obs.role])
    b.scalar("npacNodeEpoch", board.epoch)
    b.scalar("npacNodeRoleLastChange", tracker.changed.get(("role",), 0))
    b.scalar("npacNodeStatusReachable", 1 if obs.reachable else 2)
    if obs.read_at is not None:
        read_at = obs.read_at
        b.scalar("npacNodeStatusAge", lambda: GAUGE(min(max(0, int(time.time() - read_at)), 2**32 - 1)))
    b.scalar("npacNodeSoftwareRevision", board.software)
    b.scalar("npacNodeStarted", date_and_time(board.started))
    b.scalar("npacPeerName", board.peer.name)
    b.scalar("npacPeerRole", ROLE.get(board.peer.role, 5))
    b.scalar("npacPeerState", PEER_STATE.get(board.peer.state, 3) if obs.reachable else 3)
    for path in board.heartbeat:
        if path.name not in HB_PATHS:
            continue
        i = (HB_PATHS[path.name],)
        b.cell("npacHbPathName", i, path.name)
        b.cell("npacHbPathState", i, PATH_STATE.get(path.state, 3))
        b.cell("npacHbPathLastHeard", i, None if path.last_heard is None else round(path.last_heard))
        b.cell("npacHbPathLosses", i, path.losses)
        b.cell("npacHbPathLastChange", i, tracker.changed.get(("hb", path.name), 0))
    repl = board.replication
    b.scalar("npacReplMode", REPL_MODE.get(repl.mode, 3))
    b.scalar("npacReplLagRows", repl.lag_rows)
    b.scalar("npacReplLagSeconds", round(repl.lag_seconds))
    b.scalar("npacReplLastSequence", repl.last_sequence)


def add_associations(b: SnapshotBuilder, obs: Observed, tracker: Tracker) -> None:
    assocs = obs.board.associations
    b.scalar("npacAssocCount", len(assocs))
    per_carrier: dict[tuple[str, int], list[str]] = {}
    for a in assocs:
        stype = SYSTEM_TYPES.index(a.system_type) + 1 if a.system_type in SYSTEM_TYPES else None
        if stype is None:
            continue
        per_carrier.setdefault((a.system_id, stype), []).append(a.established)
        i = (tracker.assoc_index((a.system_id, a.peer_address, a.peer_port, a.established)),)
        kind, packed = inet(a.peer_address)
        b.cell("npacAssocSystemId", i, a.system_id)
        b.cell("npacAssocSystemType", i, stype)
        b.cell("npacAssocPeerAddressType", i, kind)
        b.cell("npacAssocPeerAddress", i, packed)
        b.cell("npacAssocPeerPort", i, a.peer_port)
        b.cell("npacAssocEstablished", i, date_and_time(a.established))
    for (system_id, stype), times in per_carrier.items():
        i = string_index(system_id) + (stype,)
        b.cell("npacAssocCarrierCount", i, len(times))
        b.cell("npacAssocCarrierLastEstablished", i, date_and_time(max(times)))


def _scaled(value: float | None, factor: int) -> int | None:
    return None if value is None else round(value * factor)


def add_service_levels(b: SnapshotBuilder, obs: Observed) -> None:
    levels = obs.board.service_levels
    b.scalar("npacSlMonth", levels.month or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m"))
    b.scalar("npacSlAvailability", _scaled(levels.availability, 1000))
    b.scalar("npacSlAckTimeP95", _scaled(levels.ack_p95_ms, 1))
    b.scalar("npacSlBroadcastTimeMean", _scaled(levels.broadcast_mean_ms, 1))
    for c in levels.carriers:
        i = string_index(c.system_id)
        b.cell("npacSlCarrierSoaTps", i, _scaled(c.soa_tps, 100))
        b.cell("npacSlCarrierLsmsTps", i, _scaled(c.lsms_tps, 100))
        b.cell("npacSlCarrierAvailability", i, _scaled(c.availability, 1000))


def add_self_checks(b: SnapshotBuilder, obs: Observed, tracker: Tracker) -> None:
    b.scalar("npacSelfCheckLastRun", date_and_time(obs.checks_ran))
    b.scalar("npacSelfCheckFailures", sum(1 for c in obs.checks if c.status == "failed"))
    for check in obs.checks:
        i = (tracker.check_index(check.name),)
        b.cell("npacSelfCheckName", i, check.name[:64])
        b.cell("npacSelfCheckComponent", i, check.component[:32])
        b.cell("npacSelfCheckStatus", i, CHECK_STATUS.get(check.status, 4))
        b.cell("npacSelfCheckDetail", i, check.detail[:255])
        b.cell("npacSelfCheckLastChange", i, tracker.changed.get(("check", check.name), 0))


def add_security(b: SnapshotBuilder, obs: Observed) -> None:
    s = obs.board.security
    for name, value in (("npacSecSignatureFailures", s.signature), ("npacSecSequenceFailures", s.sequence),
                        ("npacSecTimeFailures", s.time), ("npacSecKeyFailures", s.key),
                        ("npacSecOtherViolations", s.other), ("npacSecAssociationsRefused", s.refused),
                        ("npacSecLastViolationKind", s.last_kind[:32]),
                        ("npacSecLastViolationSystemId", s.last_system_id[:60]),
                        ("npacSecLastViolationPeer", s.last_peer[:64])):
        b.scalar(name, value)
    b.scalar("npacSecLastViolationTime", date_and_time(s.last_time))

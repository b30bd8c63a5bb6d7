"""The HA configuration: one TOML file per node, validated before anything starts.

    [ha]
    node = "primary"                  # this node's name
    peer = "dr"                       # the other node's name (heartbeats must carry it)
    role = "primary"                  # primary | dr: the configured primary leads a cold start and
                                      # takes even epochs, the DR odd ones
    key_file = "ha.key"               # shared HMAC key, hex, >= 16 octets, mode 0600
    interval = 0.5                    # seconds between heartbeats
    dead_time = 4.0                   # both paths silent this long (8 heartbeats on each): the peer is
                                      # lost; two independent paths, and fencing before promotion, make
                                      # a short one safe (keepalived: 3 adverts + skew; corosync: ~3 s)
    max_skew = 30.0                   # heartbeat clock tolerance, seconds
    notice_first = 600.0              # unscheduled outage: first users' notice at the latest this long
                                      # after detection (at once when the cutover is decided); SLR 22
                                      # asks within 15 minutes, this leaves room for the tick
    notice_every = 1800.0             # then every this long until restored (SLR 23: 30 minutes)
    control_socket = "ha.sock"        # console and SNMP talk to npac-ha here (JSON lines)
    node_socket = "node.sock"         # npac-ha drives the node here (ha.control.serve_node)

    [heartbeat]
    udp_bind = "0.0.0.0:694"          # the interconnect
    udp_peer = "192.0.2.2:694"
    serial = "/dev/ttyS1"             # the null-modem cable; both paths are required
    baudrate = 19200

    [fence]
    command = ["/opt/npac/firmware-hooks/fence"]  # default: this release's firmware-hooks/fence;
                                      # JSON on stdout: {"fenced": true, ...}; NPAC_PEER in env
    timeout = 30.0
    retry = 60.0

    [replication]                     # read by the node too (ha.config.load_replication)
    listen = "0.0.0.0:7410"
    peer = "192.0.2.2:7410"
    policy = "async"                  # async | refuse: what the live node does when acks stop
    ack_timeout = 2.0
    keepalive = 1.0
    snapshot_after = 50000            # rows behind beyond which a follower gets a snapshot

Relative paths are taken from the directory of the config file. The 10-minute cutover budget
(contract 12.4) is spent as dead_time + fence timeout + promotion; the defaults use under 1 minute.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ha.replication import Policy
from ha.wire import load_key
from appliance.tomlconfig import ConfigError, read_toml  # noqa: F401  (ConfigError re-exported)
from appliance.tomlconfig import get as _get


DEFAULT_FENCE = Path(__file__).resolve().parents[1] / "firmware-hooks" / "fence"




@dataclass(frozen=True)
class ReplicationConfig:
    listen: tuple[str, int]
    peer: tuple[str, int]
    policy: Policy
    ack_timeout: float
    keepalive: float
    snapshot_after: int


@dataclass(frozen=True)
class HaConfig:
    path: Path
    node: str
    peer: str
    preferred: bool
    key: bytes
    interval: float
    dead_time: float
    max_skew: float
    control_socket: Path
    node_socket: Path
    udp_bind: tuple[str, int]
    udp_peer: tuple[str, int]
    serial: str
    baudrate: int
    fence_command: tuple[str, ...]
    fence_timeout: float
    fence_retry: float
    replication: ReplicationConfig
    notice_first: float = 600.0
    notice_every: float = 1800.0




def _positive(table: dict[str, Any], key: str, where: str, default: float) -> float:
    value = _get(table, key, float, where, default)
    if value <= 0:
        raise ConfigError(f"{where}: '{key}' must be above 0, got {value}")
    return float(value)


def _address(table: dict[str, Any], key: str, where: str, default: str | None = None) -> tuple[str, int]:
    text = _get(table, key, str, where, default)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{where}: '{key}' must be host:port, got {text!r}")
    return host.strip("[]"), int(port)


def load_replication(table: dict[str, Any], where: str = "[replication]") -> ReplicationConfig:
    policy = _get(table, "policy", str, where, "async")
    if policy not in ("async", "refuse"):
        raise ConfigError(f"{where}: 'policy' must be async or refuse, got {policy!r}")
    snapshot_after = _get(table, "snapshot_after", int, where, 50_000)
    if snapshot_after < 1:
        raise ConfigError(f"{where}: 'snapshot_after' must be at least 1")
    return ReplicationConfig(
        listen=_address(table, "listen", where, "0.0.0.0:7410"), peer=_address(table, "peer", where),
        policy=Policy(policy), ack_timeout=_positive(table, "ack_timeout", where, 2.0),
        keepalive=_positive(table, "keepalive", where, 1.0), snapshot_after=snapshot_after)


def _key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"[ha]: cannot read key_file {path} ({exc.strerror})") from None
    if mode & 0o077:
        raise ConfigError(f"[ha]: key_file {path} is readable by others (chmod 600 it)")
    try:
        return load_key(text)
    except ValueError as exc:
        raise ConfigError(f"[ha]: key_file {path}: {exc}") from None


def load_config(path: str | Path) -> HaConfig:
    p = Path(path)
    data = read_toml(p)
    base = p.parent

    def rel(value: str) -> Path:
        q = Path(value)
        return q if q.is_absolute() else base / q

    ha = _get(data, "ha", dict, str(p))
    hb = _get(data, "heartbeat", dict, str(p))
    fence = _get(data, "fence", dict, str(p), {})
    role = _get(ha, "role", str, "[ha]")
    if role not in ("primary", "dr"):
        raise ConfigError(f"[ha]: 'role' must be primary or dr, got {role!r}")
    node, peer = _get(ha, "node", str, "[ha]"), _get(ha, "peer", str, "[ha]")
    if not node or node == peer:
        raise ConfigError("[ha]: 'node' and 'peer' must be two different names")
    interval = _positive(ha, "interval", "[ha]", 0.5)
    dead_time = _positive(ha, "dead_time", "[ha]", 4.0)
    if dead_time < 3 * interval:
        raise ConfigError(f"[ha]: 'dead_time' ({dead_time}) must be at least 3 heartbeat intervals")
    command = _get(fence, "command", list, "[fence]", [str(DEFAULT_FENCE)])
    if not command or not all(isinstance(c, str) and c for c in command):
        raise ConfigError("[fence]: 'command' must be a non-empty list of strings")
    program = command[0] if os.sep not in command[0] else str(rel(command[0]))
    serial = _get(hb, "serial", str, "[heartbeat]")
    if not serial:
        raise ConfigError("[heartbeat]: 'serial' is required: one path lost must never look like the peer lost")
    return HaConfig(
        path=p, node=node, peer=peer, preferred=role == "primary", key=_key(rel(_get(ha, "key_file", str, "[ha]"))),
        interval=interval, dead_time=dead_time, max_skew=_positive(ha, "max_skew", "[ha]", 30.0),
        control_socket=rel(_get(ha, "control_socket", str, "[ha]", "ha.sock")),
        node_socket=rel(_get(ha, "node_socket", str, "[ha]", "node.sock")),
        udp_bind=_address(hb, "udp_bind", "[heartbeat]", "0.0.0.0:694"),
        udp_peer=_address(hb, "udp_peer", "[heartbeat]"),
        serial=serial, baudrate=_get(hb, "baudrate", int, "[heartbeat]", 19200),
        fence_command=(program, *command[1:]), fence_timeout=_positive(fence, "timeout", "[fence]", 30.0),
        fence_retry=_positive(fence, "retry", "[fence]", 60.0),
        replication=load_replication(_get(data, "replication", dict, str(p))),
        notice_first=_notice(ha, "notice_first", 600.0, 15 * 60.0),
        notice_every=_notice(ha, "notice_every", 1800.0, 30 * 60.0))


def _notice(ha: dict[str, Any], key: str, default: float, limit: float) -> float:
    """SLR 22/23 set upper bounds; shorter is allowed (drills and tests run in seconds)."""
    value = _positive(ha, key, "[ha]", default)
    if value > limit:
        raise ConfigError(f"[ha]: '{key}' ({value:g} s) exceeds the {limit / 60:g} minutes of Exhibit G SLR "
                          f"{22 if key == 'notice_first' else 23}")
    return value

"""The status document: what a node (and later the HA process) tells the console and the SNMP agent.

One JSON object, served on the control socket (`{"op": "status"}`, see `appliance.control`). Its
shape is `StatusBoard` below; `to_dict` / `from_dict` are the wire form. Readers ignore keys they do
not know and take defaults for keys that are missing, so the writer can grow the document without
breaking them; a wrong type is a `StatusError`, never a crash of the reader.

Units: times are ISO 8601 UTC strings ("2026-11-22T03:40:08Z"), durations seconds or milliseconds as
the field name says, percentages 0..100, rates per second. A meter that has not been measured is
None (null), not 0.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 1
ROLES = ("primary-live", "standby", "promoting", "fenced", "unknown", "isolated", "draining", "handed-over")
SYSTEM_TYPES = ("soa", "local-sms", "soa-and-local-sms")  # LnpAccessControl systemType 0, 1, 2
CHECK_STATUSES = ("ok", "warning", "failed", "unknown")
LINK_KINDS = ("ds1", "ds0", "interconnect")
SECURITY_KINDS = ("signature", "sequence", "time", "key")  # the rest are counted as "other"


class StatusError(ValueError):
    """The document (or a part of it) does not have the expected shape."""


def utc_text(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        raise StatusError(f"not a UTC time: {text!r}") from None


@dataclass
class Peer:
    name: str = ""
    role: str = "unknown"
    state: str = "unknown"  # reachable | unreachable | unknown


@dataclass
class HeartbeatPath:
    name: str  # network | serial
    state: str = "unknown"  # up | down | unknown
    last_heard: float | None = None  # seconds since the last heartbeat on this path
    losses: int = 0  # up -> down transitions


@dataclass
class Replication:
    mode: str = "none"  # sync | async | none
    lag_rows: int = 0
    lag_seconds: float = 0.0
    last_sequence: int = 0
    # live node: how long recent writes waited for the standby's acknowledgement (count, p50, p95)
    ack_wait_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Association:
    system_id: str
    system_type: str  # one of SYSTEM_TYPES
    peer_address: str
    peer_port: int
    established: str  # UTC time


@dataclass
class CarrierMeters:
    system_id: str
    soa_tps: float | None = None  # SLR 5
    lsms_tps: float | None = None  # SLR 6
    availability: float | None = None  # SLR 7, percent


@dataclass
class ServiceLevels:
    month: str = ""  # YYYY-MM
    availability: float | None = None  # SLR 1, percent
    ack_p95_ms: float | None = None  # SLR 3
    broadcast_mean_ms: float | None = None  # SLR 4
    carriers: list[CarrierMeters] = field(default_factory=list)


@dataclass
class SelfCheck:
    name: str
    component: str
    status: str  # one of CHECK_STATUSES
    detail: str = ""


@dataclass
class SecurityCounters:
    signature: int = 0
    sequence: int = 0
    time: int = 0
    key: int = 0
    other: int = 0
    refused: int = 0
    last_kind: str = ""
    last_system_id: str = ""
    last_peer: str = ""
    last_time: str | None = None

    def violations(self) -> int:
        return self.signature + self.sequence + self.time + self.key + self.other


@dataclass
class LinkCounters:
    in_octets: int = 0
    out_octets: int = 0
    in_packets: int = 0
    out_packets: int = 0
    in_errors: int = 0
    out_errors: int = 0
    in_discards: int = 0
    out_discards: int = 0


@dataclass
class Ds1Interval:
    number: int  # 1 = the most recent completed 15-minute interval
    counts: dict[str, int] = field(default_factory=dict)  # es ses sefs uas css pcv les bes dm lcv
    valid: bool = True


@dataclass
class Ds1Line:
    line_type: str = "esf"  # esf | d4 | unframed | other
    line_coding: str = "b8zs"  # b8zs | ami | other
    circuit_id: str = ""
    line_status: list[str] = field(default_factory=lambda: ["dsx1NoAlarm"])  # DS1-MIB dsx1LineStatus bit names
    time_elapsed: int = 0  # seconds into the current 15-minute interval
    current: dict[str, int] = field(default_factory=dict)
    intervals: list[Ds1Interval] = field(default_factory=list)
    invalid_intervals: int = 0


@dataclass
class Link:
    name: str
    kind: str  # one of LINK_KINDS
    description: str = ""
    carrier: str = ""  # the carrier's systemId for a carrier line
    parent: str = ""  # a DS-0 channel group: the DS-1 it rides on
    channels: str = ""  # a DS-0 channel group: its timeslots, e.g. "1-12"
    medium: str = ""  # an interconnect path: ethernet | serial
    admin: str = "up"  # up | down | testing
    oper: str = "unknown"  # up | down | testing | unknown | dormant | notPresent | lowerLayerDown
    speed: int = 0  # bits per second
    counters: LinkCounters = field(default_factory=LinkCounters)
    ds1: Ds1Line | None = None


@dataclass
class StatusBoard:
    node: str = ""
    system_id: str = ""
    role: str = "unknown"
    epoch: int = 0
    started: str = ""
    software: str = ""
    generated: str = ""
    schema: int = SCHEMA
    peer: Peer = field(default_factory=Peer)
    heartbeat: list[HeartbeatPath] = field(default_factory=list)
    replication: Replication = field(default_factory=Replication)
    associations: list[Association] = field(default_factory=list)
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    self_checks: list[SelfCheck] = field(default_factory=list)
    security: SecurityCounters = field(default_factory=SecurityCounters)
    links: list[Link] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "StatusBoard":
        board = from_json(cls, data, "status")
        if board.role not in ROLES:
            raise StatusError(f"status.role: {board.role!r} is not one of {ROLES}")
        return board


def from_json(cls: type, data: Any, where: str) -> Any:
    """A dataclass instance of this module from JSON data, every field's type checked against its
    annotation (also for parts that arrive on their own, like a hook's links)."""
    if not isinstance(data, dict):
        raise StatusError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise StatusError(f"{where}: '{f.name}' is missing")
    return cls(**values)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(o for o in options if o is not type(None))
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_json(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise StatusError(f"{where}: expected a list")
        (item,) = typing.get_args(hint)
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise StatusError(f"{where}: expected an object")
        _, item = typing.get_args(hint)
        return {str(k): _convert(item, v, f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and type(value) is hint:
        return value
    raise StatusError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r:.40}")


# ---- Exhibit G objectives, in the SNMP MIB's units (0.001 percent, milliseconds, 0.01 tps) --------

@dataclass(frozen=True)
class Breach:
    slr: int
    carrier: str  # "" for a system-wide meter
    value: int
    objective: int


def _milli_pct(pct: float) -> int:
    return round(pct * 1000)


def breaches(levels: ServiceLevels) -> list[Breach]:
    """The meters of the month that miss their objective (SLR 1, 3, 4 system-wide; 5, 6, 7 per carrier)."""
    out: list[Breach] = []
    if levels.availability is not None and _milli_pct(levels.availability) < 99900:
        out.append(Breach(1, "", _milli_pct(levels.availability), 99900))
    if levels.ack_p95_ms is not None and levels.ack_p95_ms > 3000:
        out.append(Breach(3, "", round(levels.ack_p95_ms), 3000))
    if levels.broadcast_mean_ms is not None and levels.broadcast_mean_ms > 60000:
        out.append(Breach(4, "", round(levels.broadcast_mean_ms), 60000))
    for c in levels.carriers:
        if c.soa_tps is not None and round(c.soa_tps * 100) < 200:
            out.append(Breach(5, c.system_id, round(c.soa_tps * 100), 200))
        if c.lsms_tps is not None and round(c.lsms_tps * 100) < 1000:
            out.append(Breach(6, c.system_id, round(c.lsms_tps * 100), 1000))
        if c.availability is not None and _milli_pct(c.availability) < 99900:
            out.append(Breach(7, c.system_id, _milli_pct(c.availability), 99900))
    return out

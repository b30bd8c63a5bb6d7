"""The HA wire format: messages as frozen dataclasses, sealed with HMAC-SHA256 under the pair's key.

    sealed  = mac(32 octets) || payload
    payload = UTF-8 JSON {"t": type, "s": session, "n": counter, "m": {fields}}
    mac     = HMAC-SHA256(key, payload)

Replication (TCP, 7410) sends each sealed message as a frame: a 4-octet big-endian length, then the
sealed octets. Heartbeats send one sealed message per UDP datagram, and one line per message on the
serial cable: b"NPHB " + base64(sealed) + b"\\n" (the prefix and newline let a receiver find the next
message after line noise).

Replay: on TCP each direction of a connection has its own session name (both sides' random nonces
plus the direction) and a counter that must rise by exactly one, so a frame recorded from another
connection, replayed in this one or reflected back fails. Heartbeats carry (boot, counter) and the
sender's clock instead (see heartbeat.py).

Anything that fails a check raises `WireError`; the caller drops it and logs it.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import struct
import typing
from dataclasses import dataclass, fields
from typing import Any, ClassVar

MAC_LEN = 32
MAX_FRAME = 4 * 1024 * 1024
MAX_DATAGRAM = 2048
LINE_PREFIX = b"NPHB "
MIN_KEY = 16


class WireError(Exception):
    """A message that is forged, malformed, replayed or out of place."""


class FramingError(WireError):
    """The stream's framing itself is garbage: it cannot be resynchronised, the connection must go."""


# --- messages -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Heartbeat:
    TYPE: ClassVar[str] = "heartbeat"
    node: str
    role: str
    epoch: int
    sequence: int       # last journal sequence committed on the sender
    at_risk_from: int   # first sequence acknowledged to carriers but not yet held by the peer (0: none)
    preferred: bool     # the configured primary (cold-start tie-break)
    boot: int           # sender's start time, ms: orders its restarts
    counter: int        # rises by one per heartbeat within a boot
    time_ms: int        # sender's wall clock (freshness)


@dataclass(frozen=True)
class Challenge:
    TYPE: ClassVar[str] = "challenge"
    nonce: str


@dataclass(frozen=True)
class Hello:
    TYPE: ClassVar[str] = "hello"
    node: str
    epoch: int
    sequence: int
    last_hash: str  # sha256 of the change of row `sequence` ("" if none): divergence check
    nonce: str
    purpose: str    # "follow" | "probe"


@dataclass(frozen=True)
class Status:
    TYPE: ClassVar[str] = "status"
    node: str
    role: str
    epoch: int
    sequence: int
    at_risk_from: int


@dataclass(frozen=True)
class Rows:
    TYPE: ClassVar[str] = "rows"
    rows: list[dict[str, Any]]  # {"sequence", "epoch", "time", "change"}, checked by Store.apply_journal_row


@dataclass(frozen=True)
class Ack:
    TYPE: ClassVar[str] = "ack"
    sequence: int  # every row up to here is durable on the follower


@dataclass(frozen=True)
class Refusal:
    TYPE: ClassVar[str] = "refusal"
    code: str  # not-live | stale-epoch | disk-full | gap | diverged | snapshot | bad-hello
    text: str


@dataclass(frozen=True)
class SnapshotBegin:
    TYPE: ClassVar[str] = "snapshot-begin"
    epoch: int
    sequence: int
    size: int
    sha256: str


@dataclass(frozen=True)
class SnapshotChunk:
    TYPE: ClassVar[str] = "snapshot-chunk"
    data: str  # base64


@dataclass(frozen=True)
class SnapshotEnd:
    TYPE: ClassVar[str] = "snapshot-end"


@dataclass(frozen=True)
class Handover:
    TYPE: ClassVar[str] = "handover"
    epoch: int
    sequence: int  # the sender's last row: the follower may promote once it holds it (RN10-4)


Message = (Heartbeat | Challenge | Hello | Status | Rows | Ack | Refusal | SnapshotBegin | SnapshotChunk
           | SnapshotEnd | Handover)
TYPES: dict[str, Any] = {cls.TYPE: cls for cls in typing.get_args(Message)}


@functools.cache
def _field_kinds(cls: Any) -> tuple[tuple[str, Any], ...]:
    # resolved once per message type: every heartbeat and replication message is checked against it
    hints = typing.get_type_hints(cls)
    return tuple((f.name, typing.get_origin(hints[f.name]) or hints[f.name]) for f in fields(cls))


def _check_fields(cls: Any, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WireError(f"{cls.TYPE}: fields are not an object")
    kinds = _field_kinds(cls)
    names = [name for name, _ in kinds]
    if set(data) != set(names):
        raise WireError(f"{cls.TYPE}: fields {sorted(data)} are not {sorted(names)}")
    for name, kind in kinds:  # list[...] is checked as list
        value = data[name]
        # bool is an int in Python; on the wire the two must not stand in for each other
        if (kind is int and (isinstance(value, bool) or not isinstance(value, int))) \
                or (kind is not int and not isinstance(value, kind)):
            raise WireError(f"{cls.TYPE}.{name}: {type(value).__name__} is not {kind.__name__}")
        if kind is int and not -2**63 <= value < 2**63:
            raise WireError(f"{cls.TYPE}.{name}: out of range")
    return data


@dataclass(frozen=True)
class Opened:
    message: Message
    session: str
    counter: int


def seal(key: bytes, message: Message, session: str = "", counter: int = 0) -> bytes:
    body = {"t": message.TYPE, "s": session, "n": counter,
            "m": {f.name: getattr(message, f.name) for f in fields(message)}}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return hmac.new(key, payload, hashlib.sha256).digest() + payload


def unseal(key: bytes, sealed: bytes) -> Opened:
    if len(sealed) <= MAC_LEN:
        raise WireError("too short")
    tag, payload = sealed[:MAC_LEN], sealed[MAC_LEN:]
    if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
        raise WireError("bad HMAC")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or set(body) != {"t", "s", "n", "m"}:
        raise WireError("not an envelope")
    cls = TYPES.get(body["t"]) if isinstance(body["t"], str) else None
    if cls is None:
        raise WireError(f"unknown type {body['t']!r}")
    if not isinstance(body["s"], str) or isinstance(body["n"], bool) or not isinstance(body["n"], int):
        raise WireError("bad session or counter")
    return Opened(cls(**_check_fields(cls, body["m"])), body["s"], body["n"])


# --- stream framing (replication) -----------------------------------------------------------------

def frame(sealed: bytes) -> bytes:
    return struct.pack(">I", len(sealed)) + sealed


def frame_length(header: bytes, limit: int = MAX_FRAME) -> int:
    length = int(struct.unpack(">I", header)[0])
    if not MAC_LEN < length <= limit:
        raise FramingError(f"frame length {length} out of bounds")
    return length


class Channel:
    """One replication connection's sealing: per-direction session names and counters."""

    def __init__(self, key: bytes, local_nonce: str, remote_nonce: str, server: bool):
        self.key = key
        nonces = f"{local_nonce}.{remote_nonce}" if server else f"{remote_nonce}.{local_nonce}"
        self._out = nonces + (".s" if server else ".c")
        self._in = nonces + (".c" if server else ".s")
        self._sent = 0
        self._received = 0

    def seal(self, message: Message) -> bytes:
        self._sent += 1
        return frame(seal(self.key, message, self._out, self._sent))

    def open(self, sealed: bytes) -> Message:
        opened = unseal(self.key, sealed)
        if opened.session != self._in:
            raise WireError("wrong session (replayed from another connection?)")
        if opened.counter != self._received + 1:
            raise WireError(f"counter {opened.counter}, expected {self._received + 1} (replayed?)")
        self._received += 1
        return opened.message


# --- line framing (serial) ------------------------------------------------------------------------

def to_line(sealed: bytes) -> bytes:
    return LINE_PREFIX + base64.b64encode(sealed) + b"\n"


class LineDecoder:
    """Bytes from the serial line in, sealed messages out. Noise, over-long lines and bad base64 are
    counted and skipped; the next newline resynchronises."""

    def __init__(self, limit: int = 4 * MAX_DATAGRAM):
        self.limit = limit
        self._buf = bytearray()
        self._overflow = False
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        self._buf += data
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > self.limit:
                    self._buf.clear()
                    self._overflow = True
                return out
            line = bytes(self._buf[:end])
            del self._buf[:end + 1]
            if self._overflow:
                self._overflow = False
                self.dropped += 1
                continue
            start = line.find(LINE_PREFIX)
            if start < 0:
                if line.strip():
                    self.dropped += 1
                continue
            try:
                out.append(base64.b64decode(line[start + len(LINE_PREFIX):].strip(), validate=True))
            except (binascii.Error, ValueError):
                self.dropped += 1


def row_hash(change: str) -> str:
    return hashlib.sha256(change.encode()).hexdigest()


def load_key(text: str | bytes) -> bytes:
    """The pair's shared key from its file: hex (whitespace ignored) or raw octets, >= 16 octets."""
    raw = text.encode() if isinstance(text, str) else text
    stripped = b"".join(raw.split())
    try:
        key = bytes.fromhex(stripped.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = raw
    if len(key) < MIN_KEY:
        raise ValueError(f"the HA key must be at least {MIN_KEY} octets, got {len(key)}")
    return key

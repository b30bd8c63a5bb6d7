"""A small, strict BER TLV reader/writer for the hot paths and for pre-checking peer bytes.

pyasn1 costs 50-90 µs to wrap or unwrap one presentation User-data and it trips over some
indefinite-length forms (an AttributeError deep in its Choice decoder), so the data phase uses
these helpers, and connection PPDUs are passed through `to_definite` before pyasn1 sees them.
Every malformation raises `ProtocolError`; nesting depth and tag/length sizes are bounded so
hostile input cannot recurse or loop without limit.

A tag is returned as the integer value of its identifier octets, e.g. 0x61 for [APPLICATION 1]
constructed, 0xBF1F for [31] constructed; the constructed bit is `first_octet & 0x20`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from .errors import ProtocolError

MAX_DEPTH = 64
_MAX_TAG_OCTETS = 5
_MAX_LENGTH_OCTETS = 4
EOC = 0x00


def _tag_first_octet(tag: int) -> int:
    while tag > 0xFF:
        tag >>= 8
    return tag


def is_constructed(tag: int) -> bool:
    return bool(_tag_first_octet(tag) & 0x20)


def read_header(buf: bytes, pos: int, end: int, layer: str) -> tuple[int, int, int | None]:
    """(tag, content start, content length or None for the indefinite form) of the TLV at pos."""
    if pos >= end:
        raise ProtocolError(layer, "truncated BER: missing tag")
    first = buf[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        for count in range(_MAX_TAG_OCTETS):
            if pos >= end:
                raise ProtocolError(layer, "truncated BER: tag")
            octet = buf[pos]
            pos += 1
            if count == 0 and octet == 0x80:
                raise ProtocolError(layer, "non-minimal BER tag")
            tag = (tag << 8) | octet
            if not octet & 0x80:
                break
        else:
            raise ProtocolError(layer, "BER tag too long")
    if pos >= end:
        raise ProtocolError(layer, "truncated BER: missing length")
    octet = buf[pos]
    pos += 1
    if octet < 0x80:
        length: int | None = octet
    elif octet == 0x80:
        if not first & 0x20:
            raise ProtocolError(layer, "indefinite length on a primitive BER value")
        length = None
    else:
        count = octet & 0x7F
        if count > _MAX_LENGTH_OCTETS or octet == 0xFF:
            raise ProtocolError(layer, "BER length too long")
        if pos + count > end:
            raise ProtocolError(layer, "truncated BER: length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if length is not None and pos + length > end:
        raise ProtocolError(layer, "BER length runs past the end of the data")
    return tag, pos, length


def read_tlv(buf: bytes, pos: int, end: int, layer: str, depth: int = 0) -> tuple[int, int, int, int]:
    """(tag, content start, content end, next position) of the TLV at pos.

    For the indefinite form the content ends at the end-of-contents octets, which are skipped.
    """
    tag, start, length = read_header(buf, pos, end, layer)
    if length is not None:
        return tag, start, start + length, start + length
    if depth >= MAX_DEPTH:
        raise ProtocolError(layer, "BER nesting too deep")
    pos = start
    while True:
        if pos + 2 <= end and buf[pos] == EOC and buf[pos + 1] == 0:
            return tag, start, pos, pos + 2
        if pos >= end:
            raise ProtocolError(layer, "truncated BER: missing end-of-contents")
        _, _, _, pos = read_tlv(buf, pos, end, layer, depth + 1)


def children(buf: bytes, start: int, end: int, layer: str, depth: int = 0) -> list[tuple[int, int, int, int]]:
    """The TLVs filling buf[start:end] exactly, as (tag, content start, content end, tlv start)."""
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend, nxt = read_tlv(buf, pos, end, layer, depth)
        if tag == EOC:
            raise ProtocolError(layer, "unexpected BER end-of-contents")
        out.append((tag, cstart, cend, pos))
        pos = nxt
    return out


def single_tlv(buf: bytes, layer: str) -> tuple[int, int, int]:
    """(tag, content start, content end) of buf, which must be exactly one TLV."""
    tag, start, cend, nxt = read_tlv(buf, 0, len(buf), layer)
    if nxt != len(buf):
        raise ProtocolError(layer, "trailing octets after BER value")
    if tag == EOC:
        raise ProtocolError(layer, "unexpected BER end-of-contents")
    return tag, start, cend


def read_int(buf: bytes, start: int, end: int, layer: str, max_octets: int = 8) -> int:
    """A BER INTEGER's content octets as a signed int."""
    if start >= end:
        raise ProtocolError(layer, "empty INTEGER")
    if end - start > max_octets:
        raise ProtocolError(layer, "INTEGER too large")
    return int.from_bytes(buf[start:end], "big", signed=True)


def check_oid(buf: bytes, start: int, end: int, layer: str) -> None:
    """An OBJECT IDENTIFIER's content octets must be a non-empty run of complete subidentifiers."""
    if start >= end or buf[end - 1] & 0x80:
        raise ProtocolError(layer, "malformed OBJECT IDENTIFIER")


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: bytes, content: bytes) -> bytes:
    return tag + encode_length(len(content)) + content


def encode_int(value: int) -> bytes:
    """Content octets of a BER INTEGER (minimal two's complement)."""
    # ~value for negatives: -128 fits one octet although (-128).bit_length() is 8.
    return value.to_bytes((value if value >= 0 else ~value).bit_length() // 8 + 1, "big", signed=True)


def to_definite(buf: bytes, layer: str) -> bytes:
    """buf (exactly one TLV) re-encoded with definite lengths only; returned as-is if it has none.

    Walks the whole value, so it doubles as a bounded structural check before pyasn1 sees it.
    """
    out, nxt, changed = _definite(buf, 0, len(buf), layer, 0)
    if nxt != len(buf):
        raise ProtocolError(layer, "trailing octets after BER value")
    return out if changed else buf


def _definite(buf: bytes, pos: int, end: int, layer: str, depth: int) -> tuple[bytes, int, bool]:
    """(the TLV at pos with definite lengths, the position after it, whether anything changed)."""
    if depth >= MAX_DEPTH:
        raise ProtocolError(layer, "BER nesting too deep")
    if pos >= end:
        raise ProtocolError(layer, "truncated BER: value expected")
    if buf[pos] == EOC:
        raise ProtocolError(layer, "unexpected BER end-of-contents")
    _, cstart, length = read_header(buf, pos, end, layer)
    if not buf[pos] & 0x20:
        nxt = cstart + length  # type: ignore[operator]  # primitives always have a definite length
        return buf[pos:nxt], nxt, False
    limit = end if length is None else cstart + length
    parts = []
    changed = length is None
    p = cstart
    while True:
        if length is None:
            if p + 2 <= limit and buf[p] == EOC and buf[p + 1] == 0:
                nxt = p + 2
                break
            if p >= limit:
                raise ProtocolError(layer, "truncated BER: missing end-of-contents")
        elif p >= limit:
            nxt = limit
            break
        part, p, sub_changed = _definite(buf, p, limit, layer, depth + 1)
        parts.append(part)
        changed = changed or sub_changed
    if not changed:
        return buf[pos:nxt], nxt, False
    return tlv(buf[pos:_ident_end(buf, pos)], b"".join(parts)), nxt, True


def _ident_end(buf: bytes, pos: int) -> int:
    if buf[pos] & 0x1F != 0x1F:
        return pos + 1
    pos += 1
    while buf[pos] & 0x80:
        pos += 1
    return pos + 1


# ------------------------------------------------------------------------------------------------
# OIDs, GeneralizedTime and a declarative codec for ROSE and CMIP. pyasn1 spends hundreds of µs per
# CMIP PDU; this codec maps BER straight onto Python values, so a protocol module describes each
# ASN.1 type in a line or two. A codec has `tags` (the tags a value may start with) and
#   encode(value) -> TLV bytes
#   decode(buf, tlv_start, tag, content_start, content_end, tlv_end, depth) -> value
# Non-CHOICE codecs also have `tag`, content(value) and value(buf, start, end, depth), which is what
# IMPLICIT tagging needs. Errors on peer bytes are ProtocolError("ber", ...); callers relabel them.

_LAYER, _OID_CACHE_MAX = "ber", 4096  # peers choose the OIDs: bound the caches
_OID_ENCODE: dict[str, bytes] = {}
_OID_DECODE: dict[bytes, str] = {}


def _fail(message: str) -> ProtocolError:
    return ProtocolError(_LAYER, message)


def _base128(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def make_tag(tag_class: int, constructed: bool, number: int) -> int:
    """The int form of an identifier (tag_class 0x00/0x40/0x80/0xC0)."""
    first = tag_class | (0x20 if constructed else 0)
    if number < 31:
        return first | number
    return int.from_bytes(bytes((first | 0x1F,)) + _base128(number), "big")


def encode_tlv(tag: int | bytes, content: bytes) -> bytes:
    """One TLV; `tag` is the identifier as an int (see the module doc) or as its octets."""
    n = len(content)
    if type(tag) is int:
        if tag <= 0xFF and n < 0x80:
            return bytes((tag, n)) + content
        tag = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    return tag + encode_length(n) + content


def encode_oid(oid: str) -> bytes:
    """Content octets of an OBJECT IDENTIFIER written as dotted text."""
    cached = _OID_ENCODE.get(oid)
    if cached is not None:
        return cached
    try:
        arcs = [int(a) for a in oid.split(".")]
    except (ValueError, AttributeError):
        raise ValueError(f"bad OID {oid!r}") from None
    if len(arcs) < 2 or min(arcs) < 0 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"bad OID {oid!r}")
    content = b"".join(_base128(arc) for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]])
    if len(_OID_ENCODE) >= _OID_CACHE_MAX:
        _OID_ENCODE.clear()
    _OID_ENCODE[oid] = content
    return content


def decode_oid(buf: bytes, start: int, end: int) -> str:
    content = buf[start:end]
    cached = _OID_DECODE.get(content)
    if cached is not None:
        return cached
    if not content or content[-1] & 0x80 or len(content) > 256:
        raise _fail("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    value, fresh = 0, True
    for b in content:
        if fresh and b == 0x80:
            raise _fail("non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    text = ".".join(map(str, head + arcs[1:]))
    if len(_OID_DECODE) >= _OID_CACHE_MAX:
        _OID_DECODE.clear()
    _OID_DECODE[content] = text
    return text


def encode_generalized_time(value: datetime) -> bytes:
    """Content octets, UTC with a Z; a naive datetime is taken as UTC (all wire times are UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    text = f"{value.year:04d}{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return (text + "Z").encode("ascii")


def decode_generalized_time(buf: bytes, start: int, end: int) -> datetime:
    """YYYYMMDDHH[MM[SS[.f]]] then Z, +hhmm, -hhmm or nothing (local time is read as UTC)."""
    raw = buf[start:end]
    if not raw.isascii():
        raise _fail("GeneralizedTime is not ASCII")
    text, offset = raw.decode("ascii").replace(",", "."), timedelta(0)
    if text.endswith("Z"):
        text = text[:-1]
    elif len(text) > 5 and text[-5] in "+-":
        sign, zone, text = text[-5], text[-4:], text[:-5]
        if not zone.isdigit() or int(zone[:2]) > 23 or int(zone[2:]) > 59:
            raise _fail("bad GeneralizedTime zone")
        offset = timedelta(hours=int(zone[:2]), minutes=int(zone[2:])) * (1 if sign == "+" else -1)
    whole, dot, fraction = text.partition(".")
    if not whole.isdigit() or len(whole) not in (10, 12, 14):
        raise _fail("bad GeneralizedTime")
    if dot and (len(whole) != 14 or not fraction.isdigit()):
        raise _fail("bad GeneralizedTime fraction")
    try:
        stamp = datetime(
            int(whole[0:4]), int(whole[4:6]), int(whole[6:8]), int(whole[8:10]), int(whole[10:12] or 0),
            int(whole[12:14] or 0), int((fraction + "000000")[:6]) if dot else 0, tzinfo=timezone.utc,
        )
        return stamp - offset
    except (ValueError, OverflowError):
        raise _fail("GeneralizedTime out of range") from None


class _AnyTag:
    def __contains__(self, tag: object) -> bool:
        return True


ANY_TAG = _AnyTag()  # `tag in ANY_TAG` is always true: an untagged open type matches any tag
REQUIRED, OPTIONAL = object(), object()


class Codec:
    tag: int = -1
    tags: Any = frozenset()

    def encode(self, value: Any) -> bytes:
        return encode_tlv(self.tag, self.content(value))

    def decode(self, buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> Any:
        if tag != self.tag:
            raise _fail(f"unexpected tag {tag:#x}, wanted {self.tag:#x}")
        return self.value(buf, cs, ce, depth)

    def content(self, value: Any) -> bytes:  # overridden by every non-CHOICE codec
        raise NotImplementedError

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:  # likewise
        raise NotImplementedError

    def decode_bytes(self, data: bytes) -> Any:  # the one complete TLV that fills `data`
        tag, cs, ce, te = read_tlv(data, 0, len(data), _LAYER)
        if te != len(data):
            raise _fail("trailing octets after value")
        if tag not in self.tags:
            raise _fail(f"unexpected tag {tag:#x}")
        return self.decode(data, 0, tag, cs, ce, te, 0)


class Prim(Codec):
    """A primitive type: `enc(value) -> content`, `dec(buf, start, end) -> value`."""

    def __init__(self, tag: int, enc: Callable[[Any], bytes], dec: Callable[[bytes, int, int], Any]):
        self.tag, self.tags, self._enc, self._dec = tag, frozenset((tag,)), enc, dec

    def content(self, value: Any) -> bytes:
        return self._enc(value)

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        return self._dec(buf, start, end)


def _int(buf: bytes, start: int, end: int) -> int:
    return read_int(buf, start, end, _LAYER)


INTEGER = Prim(0x02, encode_int, _int)
OBJECT_IDENTIFIER = Prim(0x06, encode_oid, decode_oid)
OCTET_STRING = Prim(0x04, bytes, lambda buf, s, e: buf[s:e])
GENERALIZED_TIME = Prim(0x18, encode_generalized_time, decode_generalized_time)
ENUMERATED = Prim(0x0A, encode_int, _int)


class AnyValue(Codec):
    """An open type: the complete TLV of whatever value is there, as bytes."""

    tags = ANY_TAG

    def encode(self, value: bytes) -> bytes:
        return value

    def decode(self, buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> bytes:
        return buf[ts:te]


ANY = AnyValue()


class Implicit(Codec):
    def __init__(self, number: int, inner: Codec, tag_class: int = 0x80):
        if not isinstance(inner.tags, frozenset) or len(inner.tags) != 1:
            raise TypeError("IMPLICIT needs a type with one tag (not a CHOICE or an open type)")
        self.inner = inner
        self.tag = make_tag(tag_class, is_constructed(inner.tag), number)
        self.tags = frozenset((self.tag,))

    def content(self, value: Any) -> bytes:
        return self.inner.content(value)

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        return self.inner.value(buf, start, end, depth)


class Explicit(Codec):
    def __init__(self, number: int, inner: Codec, tag_class: int = 0x80):
        self.inner = inner
        self.tag = make_tag(tag_class, True, number)
        self.tags = frozenset((self.tag,))

    def content(self, value: Any) -> bytes:
        return self.inner.encode(value)

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _fail("nesting too deep")
        tag, cs, ce, te = read_tlv(buf, start, end, _LAYER)
        if te != end:
            raise _fail("more than one value inside an explicit tag")
        if tag not in self.inner.tags:
            raise _fail(f"unexpected tag {tag:#x} inside an explicit tag")
        return self.inner.decode(buf, start, tag, cs, ce, te, depth + 1)


class Map(Codec):
    """The wire form of `inner` with Python values converted: dec(wire value), enc(Python value)."""

    def __init__(self, inner: Codec, dec: Callable[[Any], Any], enc: Callable[[Any], Any]):
        self.inner, self._dec, self._enc = inner, dec, enc
        self.tag, self.tags = inner.tag, inner.tags

    def encode(self, value: Any) -> bytes:
        return self.inner.encode(self._enc(value))

    def decode(self, buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> Any:
        return self._dec(self.inner.decode(buf, ts, tag, cs, ce, te, depth))

    def content(self, value: Any) -> bytes:
        return self.inner.content(self._enc(value))

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        return self._dec(self.inner.value(buf, start, end, depth))


class Choice(Codec):
    """CHOICE: decoding dispatches on the tag; encoding looks `key(value)` (by default the Python
    type) up in `alternatives`."""

    def __init__(self, alternatives: dict[Any, Codec], key: Callable[[Any], Any] = type):
        self.by_key, self.key = alternatives, key
        self.by_tag: dict[int, Codec] = {}
        for codec in alternatives.values():
            if not isinstance(codec.tags, frozenset):
                raise TypeError("an untagged open type cannot be a CHOICE alternative")
            for t in codec.tags:
                if self.by_tag.setdefault(t, codec) is not codec:
                    raise TypeError(f"ambiguous CHOICE tag {t:#x}")
        self.tags = frozenset(self.by_tag)

    def encode(self, value: Any) -> bytes:
        codec = self.by_key.get(self.key(value))
        if codec is None:
            raise ValueError(f"no CHOICE alternative for {value!r}")
        return codec.encode(value)

    def decode(self, buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> Any:
        codec = self.by_tag.get(tag)
        if codec is None:
            raise _fail(f"unexpected CHOICE tag {tag:#x}")
        return codec.decode(buf, ts, tag, cs, ce, te, depth)


class Lazy(Codec):
    """A forward reference for recursive types; `define` it once the target exists."""

    def __init__(self, tags: Iterable[int]):
        self.tags, self.target = frozenset(tags), Codec()

    def define(self, target: Codec) -> None:
        if target.tags != self.tags:
            raise TypeError("forward reference declared with the wrong tags")
        self.target = target

    def encode(self, value: Any) -> bytes:
        return self.target.encode(value)

    def decode(self, buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> Any:
        return self.target.decode(buf, ts, tag, cs, ce, te, depth)


class CollectionOf(Codec):
    """SEQUENCE OF (tag 0x30) / SET OF (0x31) as a tuple, in the sender's order."""

    def __init__(self, element: Codec, tag: int = 0x31):
        self.element, self.tag, self.tags = element, tag, frozenset((tag,))

    def content(self, value: Iterable[Any]) -> bytes:
        enc = self.element.encode
        return b"".join([enc(v) for v in value])

    def value(self, buf: bytes, start: int, end: int, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            raise _fail("nesting too deep")
        element, tags, out, i = self.element, self.element.tags, [], start
        while i < end:
            tag, cs, ce, te = read_tlv(buf, i, end, _LAYER)
            if tag not in tags:
                raise _fail(f"unexpected element tag {tag:#x}")
            out.append(element.decode(buf, i, tag, cs, ce, te, depth + 1))
            i = te
        return tuple(out)


class Seq(Codec):
    """SEQUENCE, or SET with `unordered`; `fields` are (codec, REQUIRED | OPTIONAL | default). Decoding
    gives make(*values), with None for an absent OPTIONAL and the default for an absent DEFAULT;
    encoding takes split(obj) -> values and leaves out None and default values. `extensible` (`...`):
    unknown trailing components are skipped."""

    def __init__(self, fields: list[tuple[Codec, Any]], make: Callable[..., Any] | None = None,
                 split: Callable[[Any], Iterable[Any]] = tuple, *, extensible: bool = False,
                 unordered: bool = False):
        self.fields, self.split, self.extensible, self.unordered = fields, split, extensible, unordered
        self.make = make or (lambda *values: values)
        self.tag = 0x31 if unordered else 0x30
        self.tags = frozenset((self.tag,))

    def content(self, obj: Any) -> bytes:
        parts = []
        for (codec, mode), v in zip(self.fields, self.split(obj)):
            if v is None:
                if mode is REQUIRED:
                    raise ValueError(f"mandatory component missing in {obj!r}")
            elif mode is REQUIRED or mode is OPTIONAL or v != mode:
                parts.append(codec.encode(v))
        return b"".join(parts)

    def value(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _fail("nesting too deep")
        if self.unordered:
            return self._unordered(buf, start, end, depth)
        values, i, pending = [], start, None
        for codec, mode in self.fields:
            if pending is None and i < end:
                pending = read_tlv(buf, i, end, _LAYER)
            if pending is not None and pending[0] in codec.tags:
                tag, cs, ce, te = pending
                values.append(codec.decode(buf, i, tag, cs, ce, te, depth + 1))
                i, pending = te, None
            elif mode is REQUIRED:
                raise _fail("mandatory component missing")
            else:
                values.append(None if mode is OPTIONAL else mode)
        if i < end:
            if not self.extensible:
                raise _fail("unexpected component")
            children(buf, i, end, _LAYER)
        return self.make(*values)

    def _unordered(self, buf: bytes, start: int, end: int, depth: int) -> Any:
        found: dict[int, Any] = {}
        i = start
        while i < end:
            tag, cs, ce, te = read_tlv(buf, i, end, _LAYER)
            for n, (codec, _) in enumerate(self.fields):
                if tag in codec.tags:
                    if n in found:
                        raise _fail("duplicate SET component")
                    found[n] = codec.decode(buf, i, tag, cs, ce, te, depth + 1)
                    break
            else:
                if not self.extensible:
                    raise _fail("unexpected SET component")
            i = te
        values = []
        for n, (_, mode) in enumerate(self.fields):
            if n in found:
                values.append(found[n])
            elif mode is REQUIRED:
                raise _fail("mandatory SET component missing")
            else:
                values.append(None if mode is OPTIONAL else mode)
        return self.make(*values)

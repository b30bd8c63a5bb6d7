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
    return value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)


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

"""Decoding peer bytes with pyasn1 so that only `ProtocolError` can come out.

pyasn1 signals bad input with PyAsn1Error most of the time, but fuzzing shows plain Python
exceptions too (AttributeError on some indefinite-length forms, ValueError from int/str
conversions, RecursionError on deep nesting). Input is first walked by `ber.to_definite`,
which bounds depth and removes the indefinite forms pyasn1 mishandles.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type.base import Asn1Item

from . import ber
from .errors import ProtocolError

DECODE_ERRORS: tuple[type[BaseException], ...] = (
    PyAsn1Error,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    UnicodeError,
)

T = TypeVar("T", bound=Asn1Item)

# pyasn1 spends ~50-100 µs per element it decodes, so a megabyte of tiny elements (say 170,000
# empty EXTERNALs) would take seconds. Connection and association PDUs have tens of elements.
MAX_ELEMENTS = 1024


@contextmanager
def peer_errors(layer: str, what: str) -> Iterator[None]:
    """Turn any decoding failure inside the block into ProtocolError(layer, ...)."""
    try:
        yield
    except ProtocolError:
        raise
    except DECODE_ERRORS as exc:
        raise ProtocolError(layer, f"bad {what}: {type(exc).__name__}: {exc}"[:300]) from exc


def check_elements(buf: bytes, layer: str, limit: int = MAX_ELEMENTS) -> None:
    """Raise ProtocolError if buf has more than `limit` TLVs, or is not BER at all.

    Iterative and exits at the limit, so hostile input costs at most `limit` header reads.
    """
    pos, n, count = 0, len(buf), 0
    ends: list[int | None] = []  # enclosing containers: end offset, or None for the indefinite form
    bounds: list[int] = [n]  # innermost definite end, for bounding reads
    while True:
        if ends:
            top = ends[-1]
            if top is None and buf[pos:pos + 2] == b"\0\0":
                ends.pop()
                pos += 2
                continue
            if top is not None and pos == top:
                ends.pop()
                bounds.pop()
                continue
        elif pos > 0:
            break
        if pos >= bounds[-1] or buf[pos] == ber.EOC:
            raise ProtocolError(layer, "malformed BER: truncated or misplaced end-of-contents")
        _, cstart, length = ber.read_header(buf, pos, bounds[-1], layer)
        count += 1
        if count > limit:
            raise ProtocolError(layer, f"more than {limit} BER elements")
        if not buf[pos] & 0x20:
            pos = cstart + length  # type: ignore[operator]  # primitives are always definite
        else:
            if len(ends) >= ber.MAX_DEPTH:
                raise ProtocolError(layer, "BER nesting too deep")
            ends.append(None if length is None else cstart + length)
            if length is not None:
                bounds.append(cstart + length)
            pos = cstart
    if pos != n:
        raise ProtocolError(layer, "trailing octets after BER value")


def decode(data: bytes, spec: T, layer: str, what: str, max_len: int) -> T:
    """Decode exactly one `spec` value filling `data`, after bounding and normalising it."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(layer, f"{what} is not bytes")
    data = bytes(data)
    if not data:
        raise ProtocolError(layer, f"empty {what}")
    if len(data) > max_len:
        raise ProtocolError(layer, f"{what} of {len(data)} octets exceeds the limit of {max_len}")
    check_elements(data, layer)
    data = ber.to_definite(data, layer)
    with peer_errors(layer, what):
        value, rest = decoder.decode(data, asn1Spec=spec)
    if rest:
        raise ProtocolError(layer, f"trailing octets after {what}")
    return value


def encode(value: Asn1Item) -> bytes:
    return encoder.encode(value)

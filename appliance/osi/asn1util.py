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


@contextmanager
def peer_errors(layer: str, what: str) -> Iterator[None]:
    """Turn any decoding failure inside the block into ProtocolError(layer, ...)."""
    try:
        yield
    except ProtocolError:
        raise
    except DECODE_ERRORS as exc:
        raise ProtocolError(layer, f"bad {what}: {type(exc).__name__}: {exc}"[:300]) from exc


def decode(data: bytes, spec: T, layer: str, what: str, max_len: int) -> T:
    """Decode exactly one `spec` value filling `data`, after bounding and normalising it."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(layer, f"{what} is not bytes")
    data = bytes(data)
    if not data:
        raise ProtocolError(layer, f"empty {what}")
    if len(data) > max_len:
        raise ProtocolError(layer, f"{what} of {len(data)} octets exceeds the limit of {max_len}")
    data = ber.to_definite(data, layer)
    with peer_errors(layer, what):
        value, rest = decoder.decode(data, asn1Spec=spec)
    if rest:
        raise ProtocolError(layer, f"trailing octets after {what}")
    return value


def encode(value: Asn1Item) -> bytes:
    return encoder.encode(value)

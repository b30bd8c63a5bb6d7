"""LNP-ASN1 (NANC IIS chapter 8) as pyasn1 types, built at import time from `LNP-ASN1.asn`.

The .asn file is the IIS module as printed (spec/lnp-asn1/lnp-asn1-fixed.asn, copied unchanged), so
wire-visible oddities stay as printed (DECISIONS.md). Each ASN.1 type `X-Y` is the class `X_Y`
here; `TYPES` maps the exact ASN.1 names to the classes. The three imported types live in
`imports.py` and are listed in `IMPORTED_TYPES`.
"""
from __future__ import annotations

from importlib import resources

from pyasn1.type.base import Asn1Item

from .builder import GeneralizedTime, GeneralizedTimeSyntax, build_module, python_name
from .codec import LAYER, decode_with, encode, set_component, to_plain
from .imports import IMPORTED_FROM, IMPORTED_TYPES, STANDARD_FROM, STANDARD_TYPES
from .parser import parse

_SOURCE = resources.files(__name__).joinpath("LNP-ASN1.asn").read_text(encoding="ascii")
_MODULES = {m.name: m for m in parse(_SOURCE)}

# ASN.1 type name -> pyasn1 class, for the 122 assignments of module LNP-ASN1.
TYPES: dict[str, type] = build_module(_MODULES["LNP-ASN1"], IMPORTED_TYPES)

# OBJECT IDENTIFIER values of module LNP-OIDS (lnp-net and its seven arcs), dotted.
OID_VALUES: dict[str, str] = {
    name: ".".join(map(str, arcs)) for name, arcs in _MODULES["LNP-OIDS"].values.items()
}
MODULE_OIDS: dict[str, str] = {
    name: ".".join(map(str, m.oid)) for name, m in _MODULES.items() if m.oid is not None
}

_EXPORTED = {python_name(name): cls for name, cls in TYPES.items()}
if set(_EXPORTED) & set(globals()):
    raise ImportError(f"LNP-ASN1 type names shadow module names: {sorted(set(_EXPORTED) & set(globals()))}")
globals().update(_EXPORTED)
globals().update(IMPORTED_TYPES)


def type_class(type_name_or_class: str | type) -> type:
    """The pyasn1 class for an LNP-ASN1 (or imported) type name; a class is passed through."""
    if isinstance(type_name_or_class, type):
        return type_name_or_class
    cls = TYPES.get(type_name_or_class) or IMPORTED_TYPES.get(type_name_or_class)
    if cls is None:
        raise KeyError(f"no LNP-ASN1 type {type_name_or_class!r}")
    return cls


def decode(type_name_or_class: str | type, data: bytes) -> Asn1Item:
    """Decode one complete value; raises `ProtocolError` (only) for bad bytes, no trailing bytes."""
    cls = type_class(type_name_or_class)
    name = type_name_or_class if isinstance(type_name_or_class, str) else None
    return decode_with(cls, data, name)


__all__ = [
    "TYPES", "IMPORTED_TYPES", "IMPORTED_FROM", "STANDARD_TYPES", "STANDARD_FROM", "OID_VALUES", "MODULE_OIDS",
    "LAYER",
    "GeneralizedTime", "GeneralizedTimeSyntax", "encode", "decode", "to_plain", "set_component",
    "type_class", "python_name",
    *sorted(python_name(n) for n in TYPES), *sorted(IMPORTED_TYPES),
]

"""BER encode/decode of LNP values; decode is the boundary where peer bytes become pyasn1 values.

Every failure to decode (malformed BER, a tag that does not fit the type, a broken constraint,
bytes left over after the value) becomes `ProtocolError`, the one exception the association
manager expects from a decoder.
"""
from __future__ import annotations

from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import char, univ
from pyasn1.type.base import Asn1Item, ConstructedAsn1Type

from appliance.osi.errors import ProtocolError

LAYER = "lnp-asn1"


def encode(value: Asn1Item) -> bytes:
    """BER encoding of a complete value (pyasn1 raises on a missing mandatory component)."""
    return encoder.encode(value)


def set_component(parent: Asn1Item, name: str, value: Asn1Item) -> Asn1Item:
    """`parent[name] = value`, with the value taking the component's own tags; returns `parent`.

    pyasn1 refuses a value whose tags differ from the component's, e.g. an `LnpAccessControl`
    (tagged [0]) stored in `AuditResults.access-control` ([5] IMPLICIT). Such a component is the
    same type under another tag, so a copy carrying the component's tag set is stored instead.
    """
    types = parent.componentType
    spec = types.getTypeByPosition(types.getPositionByName(name))
    if value.tagSet != spec.tagSet:
        if isinstance(value, ConstructedAsn1Type):
            value = value.clone(tagSet=spec.tagSet, cloneValueFlag=True)
        else:
            value = spec.clone(value)
    parent.setComponentByName(name, value)
    return parent


def decode_with(spec_class: type, data: bytes, type_name: str | None = None) -> Asn1Item:
    """Decode exactly one value of `spec_class` filling all of `data`."""
    label = type_name or spec_class.__name__
    try:
        value, rest = decoder.decode(bytes(data), asn1Spec=spec_class())
    # pyasn1's decoder does not confine itself to PyAsn1Error on bad input: fuzzing found
    # IndexError and AttributeError from its indefinite-length paths, besides UnicodeError,
    # ValueError and RecursionError. Whatever escapes the third-party decoder while it reads peer
    # bytes is bad input; only this call is guarded, so errors in this module still surface.
    except Exception as exc:  # noqa: BLE001
        raise ProtocolError(LAYER, f"{label}: {_short(exc)}") from None
    if rest:
        raise ProtocolError(LAYER, f"{label}: {len(rest)} bytes after the value")
    if _has_list_constraints(spec_class):
        problem = _list_constraint_violation(value)
        if problem is not None:
            raise ProtocolError(LAYER, f"{label}: {problem}")
    return value


# pyasn1's decoder checks the constraints of scalar values but not SIZE on SEQUENCE OF / SET OF;
# those are found by walking the decoded value, only for types that have such a constraint.
_LIST_CONSTRAINTS: dict[type, bool] = {}


def _has_list_constraints(spec_class: type) -> bool:
    known = _LIST_CONSTRAINTS.get(spec_class)
    if known is None:
        known = _LIST_CONSTRAINTS[spec_class] = _schema_has_list_constraints(spec_class(), 0)
    return known


def _schema_has_list_constraints(spec, depth: int) -> bool:
    if depth > 64:
        raise ValueError(f"{type(spec).__name__}: schema nested too deeply")
    if isinstance(spec, (univ.SequenceOf, univ.SetOf)):
        return bool(spec.subtypeSpec) or _schema_has_list_constraints(spec.componentType, depth + 1)
    if isinstance(spec, (univ.Sequence, univ.Set, univ.Choice)):
        return any(
            _schema_has_list_constraints(named.asn1Object, depth + 1)
            for named in spec.componentType.namedTypes
        )
    return False


def _list_constraint_violation(value) -> str | None:
    if isinstance(value, (univ.SequenceOf, univ.SetOf)):
        if value.isInconsistent:
            return f"{type(value).__name__} has {len(value)} items, outside its SIZE constraint"
        items = list(value)
    elif isinstance(value, univ.Choice):
        items = [value.getComponent()]
    elif isinstance(value, (univ.Sequence, univ.Set)):
        positions = range(len(value.componentType))
        present = (value.getComponentByPosition(i, default=None, instantiate=False) for i in positions)
        items = [c for c in present if c is not None]
    else:
        return None
    for item in items:
        problem = _list_constraint_violation(item)
        if problem is not None:
            return problem
    return None


def _short(exc: Exception) -> str:
    # pyasn1 messages embed whole schema reprs; the first line is what an operator needs.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def to_plain(value: Asn1Item) -> object:
    """A pyasn1 value as plain Python data: dicts (present components only), lists, scalars.

    pyasn1's own `==` trips over schema placeholders of absent OPTIONAL components, so values are
    compared (and logged, and stored) in this form. DEFAULT components always appear. ENUMERATED
    values become their identifiers, GeneralizedTime and character strings `str`, OCTET STRING and
    open types `bytes`, BIT STRING a string of '0'/'1', OBJECT IDENTIFIER dotted text, NULL `None`.
    """
    if isinstance(value, univ.Choice):
        return {value.getName(): to_plain(value.getComponent())}
    if isinstance(value, (univ.Sequence, univ.Set)):
        out = {}
        for idx, named in enumerate(value.componentType.namedTypes):
            # A DEFAULT component is shown with its effective value, present on the wire or not.
            instantiate = named.isDefaulted
            component = value.getComponentByPosition(idx, default=None, instantiate=instantiate)
            if component is not None and component.isValue:
                out[named.name] = to_plain(component)
        return out
    if isinstance(value, (univ.SequenceOf, univ.SetOf)):
        return [to_plain(item) for item in value]
    if isinstance(value, univ.Null):  # before OCTET STRING: pyasn1 derives Null from it
        return None
    if isinstance(value, univ.Any):
        return bytes(value)
    if isinstance(value, char.AbstractCharacterString):
        return str(value)
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.BitString):
        return "".join(str(bit) for bit in value)
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    if isinstance(value, univ.Boolean):
        return bool(value)
    if isinstance(value, univ.Integer):
        named = value.namedValues.getName(int(value)) if value.namedValues else None
        return named if named is not None else int(value)
    raise TypeError(f"to_plain: unsupported pyasn1 type {type(value).__name__}")

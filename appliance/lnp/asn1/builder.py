"""Turn a parsed ASN.1 module into pyasn1 classes, one per type assignment.

Tagging follows X.680 §31: under IMPLICIT TAGS a tag replaces the type's outermost tag, except on
an untagged CHOICE or an open type (ANY), which has no tag to replace, so the tag is EXPLICIT there.
Every constraint becomes a pyasn1 subtype constraint, so the pyasn1 decoder rejects a value that
breaks one (an 11-digit PhoneNumber, a 41-character GraphicString40, an unlisted ENUMERATED value).
"""
from __future__ import annotations

import re

from pyasn1 import error as pyasn1_error
from pyasn1.type import char, constraint, namedtype, namedval, tag, univ, useful

from .opentype import TaggedAny
from .parser import Asn1SyntaxError, Component, Constraint, Module, TypeNode

_TAG_CLASSES = {
    "CONTEXT": tag.tagClassContext,
    "APPLICATION": tag.tagClassApplication,
    "PRIVATE": tag.tagClassPrivate,
}
_UNBOUNDED = 2**63  # stands for MAX in SIZE constraints


class GeneralizedTimeSyntax(constraint.AbstractConstraint):
    """X.680 §46 GeneralizedTime: YYYYMMDDHH[MM[SS[(.|,)f+]]][Z|(+|-)HHMM], with field ranges.

    pyasn1 treats GeneralizedTime as a plain VisibleString; without this check any text would be
    accepted from a peer and fail later, far from the association that sent it.
    """

    PATTERN = re.compile(
        r"(\d{4})(\d{2})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(?:[.,]\d+)?)?)?(?:Z|[+-](\d{2})(\d{2}))?",
        re.ASCII,
    )

    def __init__(self) -> None:
        # The single dummy value only makes the constraint truthy (pyasn1 skips empty constraints).
        super().__init__("GeneralizedTime")

    def _testValue(self, value, idx):  # noqa: N802 (pyasn1 hook name)
        m = self.PATTERN.fullmatch(str(value))
        if m is None:
            raise pyasn1_error.ValueConstraintError(value)
        _, month, day, hour, minute, second, off_h, off_m = (int(g) if g else 0 for g in m.groups())
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
            raise pyasn1_error.ValueConstraintError(value)
        if off_h > 23 or off_m > 59:
            raise pyasn1_error.ValueConstraintError(value)


class GeneralizedTime(useful.GeneralizedTime):
    subtypeSpec = useful.GeneralizedTime.subtypeSpec + GeneralizedTimeSyntax()


_SIMPLE: dict[str, type] = {
    "BOOLEAN": univ.Boolean,
    "NULL": univ.Null,
    "INTEGER": univ.Integer,
    "ENUMERATED": univ.Enumerated,
    "OCTET STRING": univ.OctetString,
    "BIT STRING": univ.BitString,
    "OBJECT IDENTIFIER": univ.ObjectIdentifier,
    "GraphicString": char.GraphicString,
    "VisibleString": char.VisibleString,
    "IA5String": char.IA5String,
    "PrintableString": char.PrintableString,
    "NumericString": char.NumericString,
    "GeneralizedTime": GeneralizedTime,
    "UTCTime": useful.UTCTime,
    "ANY": univ.Any,
}
_CONSTRUCTED: dict[str, type] = {
    "SEQUENCE": univ.Sequence,
    "SET": univ.Set,
    "CHOICE": univ.Choice,
    "SEQUENCE OF": univ.SequenceOf,
    "SET OF": univ.SetOf,
}


def python_name(asn1_name: str) -> str:
    """ASN.1 type reference -> Python identifier (`NewSP-CreateData` -> `NewSP_CreateData`)."""
    return asn1_name.replace("-", "_")


def _alphabet(node: Constraint) -> set[str]:
    # Inside FROM, a union of values is a union of characters, not a union of string constraints.
    if node.kind == "single" and isinstance(node.value, str):
        return set(node.value)
    if node.kind == "range" and isinstance(node.lo, str) and isinstance(node.hi, str):
        if len(node.lo) != 1 or len(node.hi) != 1:
            raise Asn1SyntaxError("FROM range bounds must be single characters")
        return {chr(c) for c in range(ord(node.lo), ord(node.hi) + 1)}
    if node.kind == "union":
        chars: set[str] = set()
        for item in node.items:
            chars |= _alphabet(item)
        return chars
    raise Asn1SyntaxError(f"unsupported element inside FROM: {node.kind}")


def _size(node: Constraint) -> constraint.AbstractConstraint:
    if node.kind == "single" and isinstance(node.value, int):
        return constraint.ValueSizeConstraint(node.value, node.value)
    if node.kind == "range":
        lo = 0 if node.lo == "MIN" else node.lo
        hi = _UNBOUNDED if node.hi == "MAX" else node.hi
        if not isinstance(lo, int) or not isinstance(hi, int):
            raise Asn1SyntaxError("SIZE bounds must be integers")
        return constraint.ValueSizeConstraint(lo, hi)
    if node.kind == "union":
        return constraint.ConstraintsUnion(*(_size(i) for i in node.items))
    raise Asn1SyntaxError(f"unsupported element inside SIZE: {node.kind}")


def _convert(node: Constraint) -> constraint.AbstractConstraint:
    if node.kind == "size":
        return _size(node.items[0])
    if node.kind == "from":
        return constraint.PermittedAlphabetConstraint(*sorted(_alphabet(node.items[0])))
    if node.kind == "single":
        return constraint.SingleValueConstraint(node.value)
    if node.kind == "range":
        lo = float("-inf") if node.lo == "MIN" else node.lo
        hi = float("inf") if node.hi == "MAX" else node.hi
        return constraint.ValueRangeConstraint(lo, hi)
    if node.kind == "union":
        return constraint.ConstraintsUnion(*(_convert(i) for i in node.items))
    raise Asn1SyntaxError(f"unsupported constraint {node.kind}")


def is_untagged_choice_or_any(cls: type) -> bool:
    return issubclass(cls, (univ.Choice, univ.Any)) and len(cls.tagSet) == 0


class ModuleBuilder:
    """Builds the classes of one module; references are resolved on demand, in any order."""

    def __init__(self, module: Module, imported: dict[str, type]):
        missing = set(module.imports) - set(imported)
        if missing:
            raise Asn1SyntaxError(f"module {module.name}: no definition for imports {sorted(missing)}")
        self.module = module
        self.imported = imported
        self.classes: dict[str, type] = {}
        self._in_progress: set[str] = set()

    def build_all(self) -> dict[str, type]:
        for name in self.module.types:
            self.resolve(name)
        return dict(self.classes)

    def resolve(self, name: str) -> type:
        if name in self.classes:
            return self.classes[name]
        if name in self.module.imports:
            return self.imported[name]
        node = self.module.types.get(name)
        if node is None:
            raise Asn1SyntaxError(f"module {self.module.name}: undefined type {name}")
        if name in self._in_progress:
            raise Asn1SyntaxError(f"module {self.module.name}: recursive type {name} is not supported")
        self._in_progress.add(name)
        try:
            # A named assignment always gets its own class, even a plain alias, so that
            # `type(value).__name__` and error messages carry the ASN.1 name.
            cls = self._build(node, python_name(name), force_class=True)
        finally:
            self._in_progress.discard(name)
        self.classes[name] = cls
        return cls

    def _build(self, node: TypeNode, name: str, force_class: bool = False) -> type:
        base, attrs = self._untagged(node, name)
        if node.constraints:
            spec = attrs.get("subtypeSpec", base.subtypeSpec)
            for c in node.constraints:
                spec = spec + _convert(c)
            attrs["subtypeSpec"] = spec
        bases: tuple[type, ...] = (base,)
        if node.tag is not None:
            attrs["tagSet"] = self._tag_set(base, node)
            if base is univ.Any:
                bases = (TaggedAny,)
            elif issubclass(base, univ.Any) and not issubclass(base, TaggedAny):
                bases = (base, TaggedAny)
        if not attrs and not force_class:
            return base
        return type(name, bases, attrs)

    def _tag_set(self, base: type, node: TypeNode) -> tag.TagSet:
        t = node.tag
        if t.cls == "UNIVERSAL":
            raise Asn1SyntaxError(f"line {node.line}: UNIVERSAL tags are outside the supported subset")
        mode = t.mode or self.module.tag_default
        if is_untagged_choice_or_any(base):
            if t.mode == "IMPLICIT":
                raise Asn1SyntaxError(f"line {node.line}: IMPLICIT tag on an untagged CHOICE or ANY")
            mode = "EXPLICIT"
        if mode == "EXPLICIT":
            return base.tagSet.tagExplicitly(tag.Tag(_TAG_CLASSES[t.cls], tag.tagFormatConstructed, t.number))
        return base.tagSet.tagImplicitly(tag.Tag(_TAG_CLASSES[t.cls], tag.tagFormatSimple, t.number))

    def _untagged(self, node: TypeNode, name: str) -> tuple[type, dict]:
        if node.kind == "ref":
            return self.resolve(node.ref), {}
        if node.kind in _SIMPLE:
            base = _SIMPLE[node.kind]
            attrs: dict = {}
            if node.named:
                attrs["namedValues"] = namedval.NamedValues(*node.named)
            if node.kind == "ENUMERATED":
                # The subset has no extension marker ("..."): an unlisted value is invalid on the wire.
                values = [v for _, v in node.named]
                attrs["subtypeSpec"] = base.subtypeSpec + constraint.SingleValueConstraint(*values)
            return base, attrs
        if node.kind in ("SEQUENCE OF", "SET OF"):
            element = self._build(node.element, f"{name}_item")
            return _CONSTRUCTED[node.kind], {"componentType": element()}
        if node.kind in ("SEQUENCE", "SET", "CHOICE"):
            fields = [self._component(c, name) for c in node.components]
            return _CONSTRUCTED[node.kind], {"componentType": namedtype.NamedTypes(*fields)}
        raise Asn1SyntaxError(f"line {node.line}: unsupported type {node.kind}")

    def _component(self, comp: Component, parent: str) -> namedtype.NamedType:
        cls = self._build(comp.type, f"{parent}_{python_name(comp.name)}")
        if comp.optional:
            return namedtype.OptionalNamedType(comp.name, cls())
        if comp.default is not None:
            return namedtype.DefaultedNamedType(comp.name, cls(comp.default))
        return namedtype.NamedType(comp.name, cls())


def build_module(module: Module, imported: dict[str, type]) -> dict[str, type]:
    """{ASN.1 type name: pyasn1 class} for every type assignment of `module`."""
    return ModuleBuilder(module, imported).build_all()

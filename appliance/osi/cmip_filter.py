"""CMIS scope and filter (X.710, X.711): their Python form, their BER, and their evaluation over a
containment tree. `cmip` builds its argument codecs on the ones here and re-exports the types.

Filter semantics follow the comments of CMIP-1's FilterItem, which put the asserted value first:
greaterOrEqual is "asserted value >= attribute value", lessOrEqual "asserted value <= attribute
value", subsetOf "asserted value is a subset of the attribute value", supersetOf the reverse.
An item on an attribute the object does not have is FALSE (so `not` of it is TRUE); and:{} is TRUE,
or:{} is FALSE. Values arrive as BER TLVs; a `ValueMatcher` decodes them (per attribute if told how,
else by universal tag) and compares decoded values; undecodable ones compare as raw TLVs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import attrgetter, itemgetter
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Protocol

from . import ber
from .ber import ANY, INTEGER, OBJECT_IDENTIFIER, REQUIRED, Choice, CollectionOf, Explicit, Implicit, Lazy, Map, Seq
from .errors import ProtocolError

LAYER = "cmip"
OBJECT_CLASS_ATTRIBUTE = "2.9.3.2.7.65"  # X.721 objectClass: matched against ManagedObject.object_class

Identifier = str | int  # globalForm OID (dotted) or localForm INTEGER
RDN = tuple[tuple[str, bytes], ...]  # (attribute OID, value TLV) pairs
DN = tuple[RDN, ...]
Attribute = tuple[Identifier, bytes]


@dataclass(frozen=True, slots=True)
class Scope:
    """kind: baseObject, firstLevelOnly, wholeSubtree, individualLevels or baseToNthLevel; `level`
    is used by the last two."""

    kind: str = "baseObject"
    level: int = 0


BASE_OBJECT, FIRST_LEVEL_ONLY, WHOLE_SUBTREE = Scope(), Scope("firstLevelOnly"), Scope("wholeSubtree")


@dataclass(frozen=True, slots=True)
class FilterAnd:
    items: tuple[Filter, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterOr:
    items: tuple[Filter, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterNot:
    item: Filter


@dataclass(frozen=True, slots=True)
class FilterItem:
    """kind: equality, greaterOrEqual, lessOrEqual, present (value None), subsetOf, supersetOf or
    nonNullSetIntersection."""

    kind: str
    attribute_id: Identifier
    value: bytes | None = None


@dataclass(frozen=True, slots=True)
class FilterSubstrings:
    """parts: (position "initial" | "any" | "final", attribute_id, value TLV), in order."""

    parts: tuple[tuple[str, Identifier, bytes], ...]
    kind: ClassVar[str] = "substrings"


Filter = FilterAnd | FilterOr | FilterNot | FilterItem | FilterSubstrings
MATCH_ALL = FilterAnd()  # the DEFAULT filter and:{}

# ---- BER -----------------------------------------------------------------------------------------


def global_or_local(first_tag: int) -> Choice:
    """ObjectClass / AttributeId ([0] OID, [1] INTEGER) and the action/event type ids."""
    return Choice({str: Implicit(first_tag, OBJECT_IDENTIFIER), int: Implicit(first_tag + 1, INTEGER)})


ATTRIBUTE_ID = global_or_local(0)
ATTRIBUTE = Seq([(ATTRIBUTE_ID, REQUIRED), (ANY, REQUIRED)])
_SCOPE_NAMES = ("baseObject", "firstLevelOnly", "wholeSubtree")


def _named_scope(n: int) -> Scope:
    if not 0 <= n <= 2:
        raise ProtocolError(LAYER, f"scope namedNumbers value {n} undefined")
    return (BASE_OBJECT, FIRST_LEVEL_ONLY, WHOLE_SUBTREE)[n]


_NAMED_SCOPE = Map(INTEGER, _named_scope, lambda s: _SCOPE_NAMES.index(s.kind))
SCOPE = Choice({
    **{name: _NAMED_SCOPE for name in _SCOPE_NAMES},
    "individualLevels": Map(Implicit(1, INTEGER), lambda n: Scope("individualLevels", n), attrgetter("level")),
    "baseToNthLevel": Map(Implicit(2, INTEGER), lambda n: Scope("baseToNthLevel", n), attrgetter("level")),
}, key=attrgetter("kind"))


def _item(kind: str, number: int) -> Map:
    return Map(Implicit(number, ATTRIBUTE), lambda a: FilterItem(kind, a[0], a[1]), attrgetter("attribute_id", "value"))


def _part(position: str, number: int) -> Map:
    return Map(Implicit(number, ATTRIBUTE), lambda a: (position, a[0], a[1]), itemgetter(1, 2))


_ITEM_TAGS = {"equality": 0, "greaterOrEqual": 2, "lessOrEqual": 3, "subsetOf": 5, "supersetOf": 6,
              "nonNullSetIntersection": 7}
_FILTER_ITEM = Choice({
    **{kind: _item(kind, n) for kind, n in _ITEM_TAGS.items()},
    "present": Map(Explicit(4, ATTRIBUTE_ID), lambda a: FilterItem("present", a), attrgetter("attribute_id")),
    "substrings": Map(Implicit(1, CollectionOf(Choice(
        {"initial": _part("initial", 0), "any": _part("any", 1), "final": _part("final", 2)}, key=itemgetter(0),
    ), 0x30)), FilterSubstrings, attrgetter("parts")),
}, key=attrgetter("kind"))
FILTER = Lazy((0xA8, 0xA9, 0xAA, 0xAB))
_EXPLICIT_ITEM = Explicit(8, _FILTER_ITEM)
FILTER.define(Choice({
    FilterItem: _EXPLICIT_ITEM,
    FilterSubstrings: _EXPLICIT_ITEM,
    FilterAnd: Map(Implicit(9, CollectionOf(FILTER)), FilterAnd, attrgetter("items")),
    FilterOr: Map(Implicit(10, CollectionOf(FILTER)), FilterOr, attrgetter("items")),
    FilterNot: Map(Explicit(11, FILTER), FilterNot, attrgetter("item")),
}))

# ---- the containment tree ------------------------------------------------------------------------


class ManagedObject(Protocol):
    dn: DN
    object_class: Identifier
    attributes: Mapping[Identifier, Any]  # Python values, or BER TLVs as bytes


class ContainmentTree(Protocol):
    def get(self, dn: DN) -> ManagedObject | None: ...

    def children(self, dn: DN) -> Iterable[ManagedObject]: ...


@dataclass(frozen=True, slots=True)
class MemoryObject:
    dn: DN
    object_class: Identifier
    attributes: Mapping[Identifier, Any] = field(default_factory=dict)


class MemoryTree:
    """A dict-backed ContainmentTree; a DN's superior is the DN minus its last RDN."""

    def __init__(self, objects: Iterable[ManagedObject] = ()):
        self._objects: dict[DN, ManagedObject] = {}
        self._children: dict[DN, dict[DN, None]] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: ManagedObject) -> None:
        self._objects[obj.dn] = obj
        if obj.dn:
            self._children.setdefault(obj.dn[:-1], {})[obj.dn] = None

    def remove(self, dn: DN) -> None:
        """Remove the object and its whole subtree."""
        for child in list(self._children.pop(dn, ())):
            self.remove(child)
        self._objects.pop(dn, None)
        if dn:
            self._children.get(dn[:-1], {}).pop(dn, None)

    def get(self, dn: DN) -> ManagedObject | None:
        return self._objects.get(dn)

    def children(self, dn: DN) -> list[ManagedObject]:
        return [self._objects[c] for c in self._children.get(dn, ())]


class InvalidScope(ValueError):
    """The scope cannot be evaluated (a negative level): answer with invalidScope."""


class NoSuchObject(LookupError):
    """The base object is not in the tree: answer with noSuchObjectInstance."""


def scope_levels(scope: Scope) -> tuple[int, int | None]:
    """The selected levels below the base as (first, last); last None means unbounded."""
    kind, n = scope.kind, scope.level
    if kind == "baseObject":
        return 0, 0
    if kind == "firstLevelOnly":
        return 1, 1
    if kind == "wholeSubtree":
        return 0, None
    if kind in ("individualLevels", "baseToNthLevel") and n >= 0:
        return (n, n) if kind == "individualLevels" else (0, n)
    raise InvalidScope(f"invalid scope {scope}")


def iter_scope(tree: ContainmentTree, base: DN, scope: Scope) -> Iterator[ManagedObject]:
    """The objects the scope selects, base first then depth-first in the tree's child order."""
    first, last = scope_levels(scope)
    root = tree.get(base)
    if root is None:
        raise NoSuchObject(base)
    stack = [(root, 0)]
    while stack:
        obj, level = stack.pop()
        if level >= first:
            yield obj
        if last is None or level < last:
            stack.extend((child, level + 1) for child in reversed(list(tree.children(obj.dn))))


def select(tree: ContainmentTree, base: DN, scope: Scope = BASE_OBJECT, filter: Filter = MATCH_ALL,
           matcher: ValueMatcher | None = None) -> list[ManagedObject]:
    """The scoped objects that pass the filter: the targets of a scoped/filtered operation."""
    m = matcher or DEFAULT_MATCHER
    return [obj for obj in iter_scope(tree, base, scope) if m.matches(obj, filter)]


def matches(obj: ManagedObject, filter: Filter, matcher: ValueMatcher | None = None) -> bool:
    return (matcher or DEFAULT_MATCHER).matches(obj, filter)


# ---- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opaque:
    """A value the matcher cannot decode; it equals only the same TLV."""

    tlv: bytes


_STRINGS = {0x0C: "utf-8", 0x12: "ascii", 0x13: "ascii", 0x14: "latin-1", 0x16: "latin-1", 0x19: "latin-1",
            0x1A: "latin-1", 0x1B: "latin-1", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
_ABSENT = object()


def _utc_time(text: bytes) -> datetime:
    """UTCTime YYMMDDhhmm[ss](Z|+hhmm|-hhmm), years 50-99 as 19xx, read via GeneralizedTime."""
    body = text.rstrip(b"Z")
    zone = b""
    if len(body) > 5 and body[-5:-4] in (b"+", b"-"):
        body, zone = body[:-5], body[-5:]
    century = b"19" if body[:2] >= b"50" else b"20"
    full = century + body + (zone or b"Z")
    return ber.decode_generalized_time(full, 0, len(full))


def _decode_at(buf: bytes, ts: int, tag: int, cs: int, ce: int, te: int, depth: int) -> Any:
    if tag in (0x02, 0x0A):
        return ber.read_int(buf, cs, ce, LAYER, max_octets=64)
    if tag in _STRINGS:
        return buf[cs:ce].decode(_STRINGS[tag])
    if tag == 0x04:
        return buf[cs:ce]
    if tag == 0x01 and ce - cs == 1:
        return buf[cs] != 0
    if tag == 0x05 and ce == cs:
        return None
    if tag == 0x06:
        return ber.decode_oid(buf, cs, ce)
    if tag == 0x18:
        return ber.decode_generalized_time(buf, cs, ce)
    if tag == 0x17:
        return _utc_time(buf[cs:ce])
    if tag in (0x30, 0x31) and depth < ber.MAX_DEPTH:
        items, i = [], cs
        while i < ce:
            t, c0, c1, t1 = ber.read_tlv(buf, i, ce, LAYER)
            items.append(_decode_at(buf, i, t, c0, c1, t1, depth + 1))
            i = t1
        return tuple(items) if tag == 0x30 else frozenset(items)
    return Opaque(buf[ts:te])


def decode_value(tlv: bytes) -> Any:
    """Universal types to Python: INTEGER/ENUMERATED int, strings str, OCTET STRING bytes, BOOLEAN,
    NULL None, OID str, times aware datetimes, SEQUENCE (OF) tuple, SET (OF) frozenset; anything
    else (or malformed) is Opaque."""
    try:
        tag, cs, ce, te = ber.read_tlv(tlv, 0, len(tlv), LAYER)
        if te == len(tlv):
            return _decode_at(tlv, 0, tag, cs, ce, te, 0)
    except (ProtocolError, ValueError, UnicodeError, TypeError):
        pass
    return Opaque(bytes(tlv))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python, but not in ASN.1
        return type(a) is type(b) and a == b
    return a == b


def _orderable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return any(isinstance(a, kind) and isinstance(b, kind) for kind in (int, str, bytes, datetime))


def _as_set(value: Any) -> frozenset | None:
    return frozenset(value) if isinstance(value, (frozenset, set, tuple, list)) else None


class ValueMatcher:
    """Decodes asserted (and stored TLV) values and evaluates filter items; subclass to change a
    rule. `decoders` maps an attribute id to a function from its value TLV to a Python value."""

    def __init__(self, decoders: Mapping[Identifier, Callable[[bytes], Any]] | None = None):
        self.decoders = {OBJECT_CLASS_ATTRIBUTE: _decode_object_class, **(decoders or {})}

    def decode(self, attribute_id: Identifier, tlv: bytes) -> Any:
        decoder = self.decoders.get(attribute_id)
        if decoder is not None:
            try:
                return decoder(tlv)
            except (ProtocolError, ValueError, TypeError, LookupError, UnicodeError):
                return Opaque(bytes(tlv))
        return decode_value(tlv)

    def normalize(self, attribute_id: Identifier, value: Any) -> Any:
        if isinstance(value, (bytes, bytearray)):
            return self.decode(attribute_id, bytes(value))
        if isinstance(value, (set, frozenset)):
            return frozenset(self.normalize(attribute_id, v) for v in value)
        if isinstance(value, (list, tuple)):
            return tuple(self.normalize(attribute_id, v) for v in value)
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value

    def stored(self, obj: ManagedObject, attribute_id: Identifier) -> Any:
        """The object's (normalized) value of the attribute, or _ABSENT."""
        if attribute_id in obj.attributes:
            return self.normalize(attribute_id, obj.attributes[attribute_id])
        if attribute_id == OBJECT_CLASS_ATTRIBUTE:
            return obj.object_class
        return _ABSENT

    def matches(self, obj: ManagedObject, flt: Filter) -> bool:
        kind = type(flt)
        if kind is FilterAnd:
            return all(self.matches(obj, f) for f in flt.items)  # type: ignore[union-attr]
        if kind is FilterOr:
            return any(self.matches(obj, f) for f in flt.items)  # type: ignore[union-attr]
        if kind is FilterNot:
            return not self.matches(obj, flt.item)  # type: ignore[union-attr]
        if kind is FilterSubstrings:
            return self.substrings(obj, flt.parts)  # type: ignore[union-attr]
        stored = self.stored(obj, flt.attribute_id)  # type: ignore[union-attr]
        if stored is _ABSENT:
            return False
        if flt.kind == "present":  # type: ignore[union-attr]
            return True
        asserted = self.decode(flt.attribute_id, flt.value or b"")  # type: ignore[union-attr]
        return self.item(flt.kind, asserted, stored)  # type: ignore[union-attr]

    def item(self, kind: str, asserted: Any, stored: Any) -> bool:
        if kind == "equality":
            return _same(asserted, stored)
        if kind in ("greaterOrEqual", "lessOrEqual"):
            if not _orderable(asserted, stored):
                return False
            return asserted >= stored if kind == "greaterOrEqual" else asserted <= stored
        a, s = _as_set(asserted), _as_set(stored)
        if a is None or s is None:
            return False
        if kind == "subsetOf":
            return a <= s
        if kind == "supersetOf":
            return a >= s
        if kind == "nonNullSetIntersection":
            return bool(a & s)
        return False

    def substrings(self, obj: ManagedObject, parts: tuple[tuple[str, Identifier, bytes], ...]) -> bool:
        """Each attribute named in the parts must match its parts, taken in order; no parts name no
        attribute, so they match nothing."""
        if not parts:
            return False
        by_attribute: dict[Identifier, list[tuple[str, bytes]]] = {}
        for position, attribute_id, tlv in parts:
            by_attribute.setdefault(attribute_id, []).append((position, tlv))
        for attribute_id, pieces in by_attribute.items():
            stored = self.stored(obj, attribute_id)
            if not isinstance(stored, (str, bytes)):
                return False
            pos = 0
            for n, (position, tlv) in enumerate(pieces):
                piece = self.decode(attribute_id, tlv)
                if type(piece) is not type(stored):
                    return False
                if position == "initial":
                    if n != 0 or not stored.startswith(piece):
                        return False
                    pos = len(piece)
                elif position == "any":
                    found = stored.find(piece, pos)
                    if found < 0:
                        return False
                    pos = found + len(piece)
                elif n != len(pieces) - 1 or len(stored) - len(piece) < pos or not stored.endswith(piece):
                    return False
        return True


def _decode_object_class(tlv: bytes) -> Identifier:
    return ATTRIBUTE_ID.decode_bytes(tlv)  # objectClass has the ObjectClass syntax: [0] OID / [1] INT


DEFAULT_MATCHER = ValueMatcher()

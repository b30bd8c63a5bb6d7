"""CMIS scope and filter evaluation (appliance.osi.cmip_filter), against naive reference models."""
import itertools
import re
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.osi import ber
from appliance.osi.cmip import GetResult, M_LINKED_REPLY, decode_argument, linked_replies
from appliance.osi.cmip_filter import (
    BASE_OBJECT, FIRST_LEVEL_ONLY, MATCH_ALL, OBJECT_CLASS_ATTRIBUTE, WHOLE_SUBTREE, FilterAnd, FilterItem,
    FilterNot, FilterOr, FilterSubstrings, InvalidScope, MemoryObject, MemoryTree, NoSuchObject, Opaque, Scope,
    ValueMatcher, decode_value, iter_scope, matches, scope_levels, select,
)

T = ber.encode_tlv
CN = "2.5.4.3"


def _dn_of(path: tuple[int, ...]) -> tuple:
    return tuple(((CN, T(0x13, str(n).encode())),) for n in path)


# ---- scope ---------------------------------------------------------------------------------------

scopes = st.sampled_from([BASE_OBJECT, FIRST_LEVEL_ONLY, WHOLE_SUBTREE]) | st.builds(
    Scope, st.sampled_from(["individualLevels", "baseToNthLevel"]), st.integers(0, 6))


@st.composite
def trees(draw):
    """Node 0 is the root; every other node hangs under an earlier one."""
    count = draw(st.integers(1, 30))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, count)]
    paths: list[tuple[int, ...]] = []
    for node, parent in enumerate(parents):
        paths.append((node,) if parent is None else paths[parent] + (node,))
    return paths


def _reference_selected(level: int, scope: Scope) -> bool:
    """X.711 Scope, read literally: level 0 is the base object."""
    return {
        "baseObject": level == 0,
        "firstLevelOnly": level == 1,
        "wholeSubtree": level >= 0,
        "individualLevels": level == scope.level,
        "baseToNthLevel": 0 <= level <= scope.level,
    }[scope.kind]


@given(trees(), st.data(), scopes)
def test_scope_matches_reference(paths, data, scope):
    tree = MemoryTree(MemoryObject(_dn_of(p), "1.2.3") for p in paths)
    base = data.draw(st.sampled_from(paths))
    expected = {_dn_of(p) for p in paths if p[:len(base)] == base and _reference_selected(len(p) - len(base), scope)}
    got = [obj.dn for obj in iter_scope(tree, _dn_of(base), scope)]
    assert set(got) == expected and len(got) == len(expected)
    if _dn_of(base) in expected:
        assert got[0] == _dn_of(base)
    for n, dn in enumerate(got):  # depth first: a superior comes before what it contains
        assert all(not (other[:len(dn)] == dn and len(other) > len(dn)) for other in got[:n])


def test_scope_levels_and_invalid_scopes():
    assert scope_levels(BASE_OBJECT) == (0, 0)
    assert scope_levels(Scope("individualLevels", 0)) == (0, 0)  # same as baseObject
    assert scope_levels(Scope("individualLevels", 1)) == (1, 1)  # same as firstLevelOnly
    assert scope_levels(Scope("baseToNthLevel", 3)) == (0, 3)
    assert scope_levels(WHOLE_SUBTREE) == (0, None)
    for bad in (Scope("individualLevels", -1), Scope("baseToNthLevel", -2), Scope("sideways")):
        with pytest.raises(InvalidScope):
            scope_levels(bad)


def test_missing_base_object():
    with pytest.raises(NoSuchObject):
        select(MemoryTree(), _dn_of((1,)), WHOLE_SUBTREE)


def test_memory_tree_remove_takes_the_subtree():
    paths = [(0,), (0, 1), (0, 1, 2), (0, 3)]
    tree = MemoryTree(MemoryObject(_dn_of(p), 1) for p in paths)
    tree.remove(_dn_of((0, 1)))
    assert [o.dn for o in iter_scope(tree, _dn_of((0,)), WHOLE_SUBTREE)] == [_dn_of((0,)), _dn_of((0, 3))]
    assert tree.get(_dn_of((0, 1, 2))) is None


# ---- filter: reference model ---------------------------------------------------------------------
# Objects hold three attributes, each maybe absent: INT (an integer), STR (a string over "ab"), SET (a
# set of small integers). Stored values are Python values or their BER, at random. Filters are drawn
# with Python asserted values; the reference evaluates those directly, the code under test gets BER.

INT, STR, SET = "1.2.840.1.1", "1.2.840.1.2", 7


def _tlv(value) -> bytes:
    if isinstance(value, int):
        return T(0x02, ber.encode_int(value))
    if isinstance(value, str):
        return T(0x13, value.encode())
    return T(0x31, b"".join(_tlv(v) for v in sorted(value)))


small_ints = st.integers(-3, 3)
strings = st.text("ab", max_size=5)
int_sets = st.frozensets(st.integers(0, 4), max_size=4)
any_value = small_ints | strings | int_sets


@st.composite
def objects(draw):
    attributes = {}
    for attr, strategy in ((INT, small_ints), (STR, strings), (SET, int_sets)):
        if draw(st.booleans()):
            value = draw(strategy)
            attributes[attr] = _tlv(value) if draw(st.booleans()) else value
    return MemoryObject(((("2.5.4.3", b"\x13\x01x"),),), "1.2.3", attributes)


items = st.one_of(
    st.tuples(st.sampled_from(["equality", "greaterOrEqual", "lessOrEqual"]), st.sampled_from([INT, STR, SET]),
              any_value),
    st.tuples(st.sampled_from(["subsetOf", "supersetOf", "nonNullSetIntersection"]), st.just(SET),
              int_sets | small_ints),
    st.tuples(st.just("present"), st.sampled_from([INT, STR, SET, "9.9"]), st.none()),
    st.tuples(st.just("substrings"), st.just(STR), st.tuples(
        st.none() | strings, st.lists(strings, max_size=2), st.none() | strings,
    ).filter(lambda parts: parts != (None, [], None))),
)
python_filters = st.recursive(items, lambda inner: st.one_of(
    st.tuples(st.just("and"), st.lists(inner, max_size=3)),
    st.tuples(st.just("or"), st.lists(inner, max_size=3)),
    st.tuples(st.just("not"), inner),
), max_leaves=6)


def _wire(f):
    kind = f[0]
    if kind in ("and", "or"):
        return (FilterAnd if kind == "and" else FilterOr)(tuple(_wire(x) for x in f[1]))
    if kind == "not":
        return FilterNot(_wire(f[1]))
    if kind == "present":
        return FilterItem("present", f[1])
    if kind == "substrings":
        initial, middles, final = f[2]
        parts = ([("initial", STR, _tlv(initial))] if initial is not None else []) + [
            ("any", STR, _tlv(m)) for m in middles] + ([("final", STR, _tlv(final))] if final is not None else [])
        return FilterSubstrings(tuple(parts))
    return FilterItem(kind, f[1], _tlv(f[2]))


def _python(value):
    return decode_value(value) if isinstance(value, bytes) else value


def _reference(obj, f) -> bool:
    kind = f[0]
    if kind == "and":
        return all(_reference(obj, x) for x in f[1])
    if kind == "or":
        return any(_reference(obj, x) for x in f[1])
    if kind == "not":
        return not _reference(obj, f[1])
    if f[1] not in obj.attributes:
        return False
    stored, asserted = _python(obj.attributes[f[1]]), f[2]
    if kind == "present":
        return True
    if kind == "substrings":
        initial, middles, final = asserted
        middle = "".join(".*" + re.escape(m) for m in middles)
        pattern = re.escape(initial or "") + middle + ".*" + re.escape(final or "")
        return re.fullmatch(pattern, stored, re.DOTALL) is not None
    same_kind = type(stored) is type(asserted)
    if kind == "equality":
        return same_kind and stored == asserted
    if kind == "greaterOrEqual":  # CMIP-1: asserted value >= attribute value
        return same_kind and not isinstance(stored, frozenset) and asserted >= stored
    if kind == "lessOrEqual":
        return same_kind and not isinstance(stored, frozenset) and asserted <= stored
    if not (same_kind and isinstance(stored, frozenset)):
        return False
    return {"subsetOf": asserted <= stored, "supersetOf": asserted >= stored,
            "nonNullSetIntersection": bool(asserted & stored)}[kind]


@given(objects(), python_filters)
def test_filter_matches_reference(obj, f):
    assert matches(obj, _wire(f)) == _reference(obj, f)


# ---- filter: specific rules ----------------------------------------------------------------------


def test_ordering_puts_the_asserted_value_first():
    obj = MemoryObject((), 1, {INT: 5})
    assert matches(obj, FilterItem("greaterOrEqual", INT, _tlv(7)))  # 7 >= 5
    assert not matches(obj, FilterItem("greaterOrEqual", INT, _tlv(3)))
    assert matches(obj, FilterItem("lessOrEqual", INT, _tlv(3)))  # 3 <= 5
    assert matches(obj, FilterItem("lessOrEqual", INT, _tlv(5)))


def test_times_order_and_mix_naive_and_aware():
    stamp = datetime(2024, 5, 1, 12, 0)
    obj = MemoryObject((), 1, {"1.2": stamp})  # a naive stored time is UTC
    later = T(0x18, b"20240501130000Z")
    assert matches(obj, FilterItem("greaterOrEqual", "1.2", later))
    assert matches(obj, FilterItem("equality", "1.2", T(0x18, b"20240501120000Z")))
    assert matches(obj, FilterItem("equality", "1.2", T(0x17, b"240501120000Z")))  # UTCTime


def test_absent_attributes_and_empty_sets():
    obj = MemoryObject((), 1, {})
    item = FilterItem("equality", INT, _tlv(1))
    assert not matches(obj, item)
    assert matches(obj, FilterNot(item))
    assert matches(obj, MATCH_ALL)
    assert not matches(obj, FilterOr())


def test_object_class_comes_from_the_object():
    obj = MemoryObject((), "2.16.840.1.113890.1.3.2.13", {})
    asserted = T(0x80, ber.encode_oid("2.16.840.1.113890.1.3.2.13"))  # ObjectClass globalForm
    assert matches(obj, FilterItem("equality", OBJECT_CLASS_ATTRIBUTE, asserted))
    assert matches(obj, FilterItem("present", OBJECT_CLASS_ATTRIBUTE))
    assert not matches(obj, FilterItem("equality", OBJECT_CLASS_ATTRIBUTE, T(0x81, b"\x05")))


def test_undecodable_values_compare_as_tlvs():
    raw = T(0xA3, T(0x80, b"\x01\x02"))
    obj = MemoryObject((), 1, {"1.5": raw})
    assert matches(obj, FilterItem("equality", "1.5", raw))
    assert not matches(obj, FilterItem("equality", "1.5", T(0xA3, T(0x80, b"\x01\x03"))))
    assert not matches(obj, FilterItem("greaterOrEqual", "1.5", raw))
    assert decode_value(b"\x02\x05\x01") == Opaque(b"\x02\x05\x01")  # malformed


def test_booleans_are_not_integers():
    obj = MemoryObject((), 1, {"1.6": True, "1.7": 1})
    assert matches(obj, FilterItem("equality", "1.6", b"\x01\x01\xff"))
    assert not matches(obj, FilterItem("equality", "1.6", b"\x02\x01\x01"))
    assert not matches(obj, FilterItem("equality", "1.7", b"\x01\x01\xff"))


def test_substrings_on_octet_strings_and_several_attributes():
    obj = MemoryObject((), 1, {"1.8": T(0x04, b"5551234567"), STR: "abba"})
    parts = (("initial", "1.8", T(0x04, b"555")), ("any", STR, T(0x13, b"bb")), ("final", "1.8", T(0x04, b"67")))
    assert matches(obj, FilterSubstrings(parts))
    assert not matches(obj, FilterSubstrings((("final", "1.8", T(0x13, b"67")),)))  # a string is not octets
    assert not matches(obj, FilterSubstrings((("initial", "1.8", T(0x04, b"5551")), ("final", "1.8", T(0x04, b"12")))))
    assert not matches(obj, FilterSubstrings((("any", "1.8", T(0x04, b"9")),)))


def test_substrings_without_parts_match_nothing():
    assert not matches(MemoryObject((), 1, {STR: "a"}), FilterSubstrings(()))


def test_custom_decoder_per_attribute():
    matcher = ValueMatcher({"1.9": lambda tlv: decode_value(tlv).lower()})
    obj = MemoryObject((), 1, {"1.9": "abc"})
    assert matches(obj, FilterItem("equality", "1.9", T(0x13, b"ABC")), matcher)
    assert not matches(obj, FilterItem("equality", "1.9", T(0x13, b"ABC")))


@pytest.mark.parametrize("tlv, value", [
    ("020105", 5), ("0a0102", 2), ("0101ff", True), ("010100", False), ("0500", None), ("0603550403", "2.5.4.3"),
    ("0c03c3a961", "éa"), ("1603616263", "abc"), ("0402aabb", b"\xaa\xbb"),
    ("3006020101020102", (1, 2)), ("3106020102020101", frozenset({1, 2})),
    ("180f32303234303130313132303030305a", datetime(2024, 1, 1, 12, tzinfo=timezone.utc)),
    ("170d3939313233313233353935395a", datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
    ("8001ff", Opaque(b"\x80\x01\xff")), ("020101ff", Opaque(b"\x02\x01\x01\xff")),
])
def test_decode_value(tlv, value):
    assert decode_value(bytes.fromhex(tlv)) == value


# ---- a scoped, filtered M-GET end to end ---------------------------------------------------------


def test_scoped_get_produces_linked_replies():
    paths = [(0,), (0, 1), (0, 2), (0, 1, 3)]
    tree = MemoryTree(MemoryObject(_dn_of(p), "1.2.3", {INT: p[-1]}) for p in paths)
    wanted = FilterAnd((FilterItem("lessOrEqual", INT, _tlv(1)), FilterNot(FilterItem("equality", INT, _tlv(2)))))
    chosen = select(tree, _dn_of((0,)), WHOLE_SUBTREE, wanted)
    assert [o.dn for o in chosen] == [_dn_of((0, 1)), _dn_of((0, 1, 3))]
    replies = [GetResult("1.2.3", o.dn, None, ((INT, _tlv(o.attributes[INT])),)) for o in chosen]
    pdus = linked_replies(41, replies, itertools.count(1))
    assert [p.opcode for p in pdus[:-1]] == [M_LINKED_REPLY] * 2 and pdus[-1].result is None
    assert [decode_argument(p.opcode, p.argument).reply for p in pdus[:-1]] == replies

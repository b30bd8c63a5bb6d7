"""LNP-ASN1 as pyasn1 types: round trips for every type, X.690 bytes by hand, constraints, fuzz.

Seed line numbers ("L42490") point into `shared/seeds/003_143becf4141144f2.txt`, IIS chapter 8.
"""
from __future__ import annotations

import datetime
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import encoder
from pyasn1.type import char, constraint, univ

from appliance.lnp.asn1 import (
    IMPORTED_TYPES,
    TYPES,
    AuditResults,
    DisconnectAction,
    GeneralizedTimeSyntax,
    LnpAccessControl,
    SubscriptionVersionAction,
    VersionCancellationAcknowledgeRequest,
    VersionStatusAttributeValueChange,
    decode,
    encode,
    set_component,
    to_plain,
)
from appliance.lnp.asn1.parser import Asn1SyntaxError, parse
from appliance.lnp.asn1.builder import build_module
from appliance.osi.errors import ProtocolError
from tests.fuzzing import FUZZ_CASES, mutated

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
ROUND_TRIP_EXAMPLES = 40 if CI else 30
MAX_ITEMS = 2  # SET OF / SEQUENCE OF lengths: nesting multiplies, and 2 already shows ordering bugs
MAX_STRING = 64  # unbounded or long strings are drawn up to this length


# --- a strategy builder that walks a pyasn1 schema --------------------------------------------


def _flatten(spec_constraint) -> list:
    if isinstance(spec_constraint, constraint.ConstraintsUnion):
        raise NotImplementedError("union constraints are not used by LNP-ASN1")
    if isinstance(spec_constraint, constraint.AbstractConstraintSet):
        return [leaf for inner in spec_constraint for leaf in _flatten(inner)]
    return [spec_constraint]


class Limits:
    """What the constraints of one pyasn1 type allow (their intersection)."""

    def __init__(self, spec):
        self.size_lo, self.size_hi = 0, None
        self.value_lo, self.value_hi = None, None
        self.alphabet: set[str] | None = None
        self.singles: set | None = None
        self.time = False
        for c in _flatten(spec.subtypeSpec):
            if isinstance(c, constraint.ValueSizeConstraint):
                lo, hi = c._values
                self.size_lo = max(self.size_lo, lo)
                self.size_hi = hi if self.size_hi is None else min(self.size_hi, hi)
            elif isinstance(c, constraint.ValueRangeConstraint):
                lo, hi = c._values
                self.value_lo = lo if self.value_lo is None else max(self.value_lo, lo)
                self.value_hi = hi if self.value_hi is None else min(self.value_hi, hi)
            elif isinstance(c, constraint.PermittedAlphabetConstraint):
                chars = set(c._values)
                self.alphabet = chars if self.alphabet is None else self.alphabet & chars
            elif isinstance(c, constraint.SingleValueConstraint):
                vals = set(c._values)
                self.singles = vals if self.singles is None else self.singles & vals
            elif isinstance(c, GeneralizedTimeSyntax):
                self.time = True
            else:
                raise NotImplementedError(f"constraint {c!r}")


GRAPHIC = "".join(chr(c) for c in range(0x20, 0x7F))
_datetimes = st.datetimes(min_value=datetime.datetime(1970, 1, 1))


@st.composite
def generalized_times(draw) -> str:
    when = draw(_datetimes)
    text = when.strftime("%Y%m%d%H")
    precision = draw(st.integers(0, 3))
    if precision >= 1:
        text += when.strftime("%M")
    if precision >= 2:
        text += when.strftime("%S")
    if precision == 3:
        text += draw(st.sampled_from([".", ","])) + str(draw(st.integers(0, 999)))
    zone = draw(st.sampled_from(["Z", "", "+0130", "-0500"]))
    return text + zone


def open_type_values() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.integers(-(2**40), 2**40).map(lambda i: encoder.encode(univ.Integer(i))),
        st.binary(max_size=12).map(lambda b: encoder.encode(univ.OctetString(b))),
        st.just(encoder.encode(univ.Null(""))),
    )


def object_identifiers() -> st.SearchStrategy[str]:
    @st.composite
    def build(draw):
        first = draw(st.integers(0, 2))
        second = draw(st.integers(0, 39 if first < 2 else 2000))
        rest = draw(st.lists(st.integers(0, 2**32), max_size=6))
        return ".".join(map(str, [first, second, *rest]))

    return build()


def _constructed(spec, components: dict) -> object:
    value = spec.clone()
    value.clear()
    for name, item in components.items():
        if item is not None:
            value.setComponentByName(name, item)
    return value


def _listed(spec, items: list) -> object:
    value = spec.clone()
    value.clear()
    for pos, item in enumerate(items):
        value.setComponentByPosition(pos, item)
    return value


def _chosen(spec, name: str, item) -> object:
    value = spec.clone()
    value.setComponentByName(name, item)
    return value


def values_of(spec) -> st.SearchStrategy:
    """Valid values of a pyasn1 schema object, honouring tags, optionality and constraints."""
    if isinstance(spec, univ.Choice):
        alts = [(nt.name, values_of(nt.asn1Object)) for nt in spec.componentType.namedTypes]
        return st.one_of(*(s.map(lambda v, s_=spec, n=name: _chosen(s_, n, v)) for name, s in alts))
    if isinstance(spec, (univ.Sequence, univ.Set)):
        fields = {}
        for nt in spec.componentType.namedTypes:
            inner = values_of(nt.asn1Object)
            fields[nt.name] = st.one_of(st.none(), inner) if nt.isOptional or nt.isDefaulted else inner
        return st.fixed_dictionaries(fields).map(lambda d, s_=spec: _constructed(s_, d))
    if isinstance(spec, (univ.SequenceOf, univ.SetOf)):
        items = st.lists(values_of(spec.componentType), max_size=MAX_ITEMS)
        return items.map(lambda i, s_=spec: _listed(s_, i))
    limits = Limits(spec)
    return _scalars(spec, limits).map(spec.clone)


def _size_cap(limits: Limits) -> int:
    return max(limits.size_lo, min(MAX_STRING if limits.size_hi is None else limits.size_hi, MAX_STRING))


def _scalars(spec, limits: Limits) -> st.SearchStrategy:
    if isinstance(spec, univ.Null):
        return st.just("")
    if isinstance(spec, univ.Any):
        return open_type_values()
    if limits.time:
        return generalized_times()
    if isinstance(spec, char.AbstractCharacterString):
        alphabet = "".join(sorted(limits.alphabet)) if limits.alphabet is not None else GRAPHIC
        return st.text(alphabet=alphabet, min_size=limits.size_lo, max_size=_size_cap(limits))
    if isinstance(spec, univ.OctetString):
        return st.binary(min_size=limits.size_lo, max_size=_size_cap(limits))
    if isinstance(spec, univ.BitString):
        return st.lists(st.integers(0, 1), max_size=40).map(tuple)
    if isinstance(spec, univ.ObjectIdentifier):
        return object_identifiers()
    if isinstance(spec, univ.Boolean):
        return st.booleans()
    if isinstance(spec, univ.Integer):
        if limits.singles is not None:
            return st.sampled_from(sorted(limits.singles))
        lo = -(2**70) if limits.value_lo is None else limits.value_lo
        hi = 2**70 if limits.value_hi is None else limits.value_hi
        return st.integers(lo, hi)
    raise NotImplementedError(type(spec).__name__)


ALL_TYPES = {**TYPES, **IMPORTED_TYPES}


def _round_trip(value) -> None:
    data = encode(value)
    back = decode(type(value), data)
    assert to_plain(back) == to_plain(value)
    assert encode(back) == data


# --- the module as a whole -----------------------------------------------------------------------


def test_every_assignment_is_built():
    assert len(TYPES) == 122
    for name, cls in TYPES.items():
        assert cls.__name__ == name.replace("-", "_")
    assert set(IMPORTED_TYPES) == {"ObjectClass", "ObjectInstance", "AttributeValueChangeInfo"}


def test_names_importable():
    import appliance.lnp.asn1 as pkg

    assert pkg.NewSP_CreateData is TYPES["NewSP-CreateData"]
    assert pkg.LNPType is TYPES["LNPType"]
    assert pkg.ObjectInstance is IMPORTED_TYPES["ObjectInstance"]


@pytest.mark.parametrize("name", sorted(ALL_TYPES))
def test_round_trip(name):
    spec = ALL_TYPES[name]()

    @settings(max_examples=ROUND_TRIP_EXAMPLES)
    @given(values_of(spec))
    def check(value):
        _round_trip(value)

    check()


def test_decode_accepts_class_or_name():
    data = encode(SubscriptionVersionAction().clone().setComponentByName("version-id", 7))
    by_class = decode(SubscriptionVersionAction, data)
    assert to_plain(by_class) == to_plain(decode("SubscriptionVersionAction", data)) == {"version-id": 7}


# --- X.690 bytes computed by hand --------------------------------------------------------------


def access_control(**overrides):
    ac = LnpAccessControl()
    ac["systemId"]["serviceProvId"] = overrides.get("sp", "0001")
    ac["systemType"] = "soa"
    ac["listId"] = 1
    ac["keyId"] = 2
    ac["cmipDepartureTime"] = "19961231235959Z"
    ac["sequenceNumber"] = 0
    ac["function"]["soaUnits"]["soaMgmt"] = ""
    ac["function"]["lsmsUnits"].clear()
    ac["recoveryMode"] = False
    ac["signature"] = (1, 0, 1, 1)
    return ac


# L42490 `LnpAccessControl ::= [0] SEQUENCE` (IMPLICIT TAGS: A0 replaces 30); systemId [0] is a
# CHOICE (L43330), so its tag is EXPLICIT (A0 06) around serviceProvId [0] GraphicString4 (80 04);
# function [7] AssociationFunction (L42110) is a SEQUENCE of two untagged SEQUENCEs (L43098, L42624).
ACCESS_CONTROL = bytes.fromhex(
    "a034"
    "a006" "8004" "30303031"  # systemId [0] EXPLICIT { serviceProvId [0] "0001" }
    "810100"  # systemType [1] soa(0)
    "830101" "840102"  # listId [3] 1, keyId [4] 2
    "850f" + "19961231235959Z".encode().hex() +  # cmipDepartureTime [5]
    "860100"  # sequenceNumber [6] 0
    "a706" "30028000" "3000"  # function [7] { soaUnits { soaMgmt [0] NULL }, lsmsUnits { } }
    "880100"  # recoveryMode [8] FALSE
    "890204b0"  # signature [9] BIT STRING '1011'B: 4 unused bits, 1011 0000
)


def test_access_control_bytes():
    assert encode(access_control()) == ACCESS_CONTROL
    assert to_plain(decode("LnpAccessControl", ACCESS_CONTROL)) == to_plain(access_control())


def test_access_control_untagged_component_keeps_a0():
    # L43374: access-control is an untagged component, so its own [0] tag (A0) goes on the wire.
    req = VersionCancellationAcknowledgeRequest()
    req["tn"] = "3035551212"
    req["version-id"] = 5
    req["access-control"] = access_control()  # same tags: plain assignment works
    # PhoneNumber is a GraphicString (UNIVERSAL 25, 0x19); version-id an INTEGER.
    expected = "3045" "190a" + b"3035551212".hex() + "020105" + ACCESS_CONTROL.hex()
    assert encode(req).hex() == expected


def test_access_control_context_tag_replaces_a0():
    # L42202: AuditResults.access-control [5] LnpAccessControl: the implicit [5] replaces [0] -> A5.
    res = AuditResults()
    res["status"] = "success"
    res["audit-response-level"] = "audit-to-lsms"
    res["number-of-discrepancies"] = 0
    res["time-of-completion"] = "19970101000000Z"
    set_component(res, "access-control", access_control())
    body = "800100" "810101" "830100" "840f" + b"19970101000000Z".hex() + "a5" + ACCESS_CONTROL.hex()[2:]
    assert encode(res).hex() == "3050" + body  # 3 + 3 + 3 + 17 + 54 = 80 octets


def test_disconnect_action_bytes():
    # L42328: chc1 [0] CHOICE -> EXPLICIT A0; its alternative [0] SubscriptionVersionAction is a
    # CHOICE reference (L43260) -> EXPLICIT A0 again; tn [1] PhoneNumber -> IMPLICIT 81 0A.
    act = DisconnectAction()
    act["chc1"]["subscription-version-action"]["tn"] = "3035551212"
    act["customer-disconnect-date"] = "19970101000000Z"
    expected = (
        "3021" "a00e" "a00c" "810a" + b"3035551212".hex() + "810f" + b"19970101000000Z".hex()
    )
    assert encode(act).hex() == expected
    assert to_plain(decode("DisconnectAction", bytes.fromhex(expected))) == {
        "chc1": {"subscription-version-action": {"tn": "3035551212"}},
        "customer-disconnect-date": "19970101000000Z",
    }


def test_version_status_avc_wraps_attribute_value_change_info():
    # L43494: value-change-info [0] AttributeValueChangeInfo -> IMPLICIT A0 on the X.721 wrapper
    # SEQUENCE, whose attributeValueChangeDefinition is a bare SET OF (31); the old/new values are
    # open types tagged [1]/[2] EXPLICIT; attributeId globalForm [0] IMPLICIT OID (80).
    avc = VersionStatusAttributeValueChange()
    info = avc["value-change-info"]
    item = info["attributeValueChangeDefinition"].getComponentType().clone()
    item["attributeId"]["globalForm"] = "2.16.840.1.4.1.100"
    item["newAttributeValue"] = bytes.fromhex("0a0101")  # VersionStatus active(1)
    info["attributeValueChangeDefinition"].append(item)
    set_component(avc, "access-control", access_control())
    oid = "8007" "60864801040164"  # 2.16 -> 60; 840 -> 86 48; 1; 4; 1; 100 -> 64
    entry = "300e" + oid + "a203" "0a0101"
    body = "a012" "3110" + entry + "a2" + ACCESS_CONTROL.hex()[2:]
    assert encode(avc).hex() == "304a" + body


def _component_tags(type_name: str) -> dict[str, tuple[int, bool]]:
    """component -> (outermost tag number, optional) of a SEQUENCE / CHOICE type."""
    named = TYPES[type_name]().componentType.namedTypes
    return {nt.name: (nt.asn1Object.tagSet[-1].tagId if nt.asn1Object.tagSet else None, nt.isOptional)
            for nt in named}


def test_wire_oddities_kept_as_printed():
    # DECISIONS.md "Wire-visible oddities are kept as printed".
    completion = TYPES["LocalSMS-ActionResults"]().componentType["time-of-completion"].asn1Object
    assert isinstance(completion, univ.Integer)  # L42562: INTEGER, not GeneralizedTime
    for reply in ("ModifyReply", "NewSP-CreateReply", "OldSP-CreateReply"):
        assert _component_tags(reply)["invalid-data"][1] is False  # mandatory invalid-data
    tags = [t for t, _ in _component_tags("NewSP-CreateData").values()]
    assert tags == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21]  # gaps 5, 17-19
    assert [t for t, _ in _component_tags("SubscriptionData").values()] == list(range(1, 18))
    # L42624: LSMSUnits has no processAudits (IIS 5.2.1, L29492 ff., has it and shifts the tags).
    lsms_units = {"dataDownload": (0, True), "networkDataMgmt": (1, True), "query": (2, True)}
    assert _component_tags("LSMSUnits") == lsms_units
    assert sorted(TYPES["SubscriptionPreCancellationStatus"].namedValues.values()) == [0, 2, 6, 7]


# --- constraints are checked when decoding ----------------------------------------------------


# ACCESS_CONTROL with sequenceNumber [6] 4294967296 (86 05 01 00 00 00 00): 4 octets longer.
SEQUENCE_NUMBER_2_POW_32 = b"\xa0\x38" + ACCESS_CONTROL[2:].replace(
    bytes.fromhex("860100"), bytes.fromhex("86050100000000")
)


def test_sequence_number_upper_bound_accepted():
    top = b"\xa0\x38" + ACCESS_CONTROL[2:].replace(bytes.fromhex("860100"), bytes.fromhex("860500ffffffff"))
    assert int(decode("LnpAccessControl", top)["sequenceNumber"]) == 2**32 - 1


def _phone(digits: str) -> bytes:
    return bytes([0x19, len(digits)]) + digits.encode()


def test_phone_number_sizes():
    assert str(decode("PhoneNumber", _phone("3035551212"))) == "3035551212"
    for bad in ("30355512120", "303555121", "30355512a2", ""):
        with pytest.raises(ProtocolError):
            decode("PhoneNumber", _phone(bad))


def test_eleven_digit_tn_inside_an_action_is_rejected():
    data = bytes.fromhex("810b") + b"30355512120"  # SubscriptionVersionAction tn [1], 11 digits
    with pytest.raises(ProtocolError):
        decode("SubscriptionVersionAction", data)


@pytest.mark.parametrize(
    ("type_name", "data"),
    [
        ("ServiceProvId", bytes([0x19, 5]) + b"12345"),  # GraphicString4
        ("ServiceProvId", bytes([0x19, 0])),  # SIZE(1..4): empty is out
        ("LRN", bytes([0x04, 4]) + b"\x01\x02\x03\x04"),  # OCTET STRING (SIZE(5))
        ("NPA", bytes([0x19, 3]) + b"31a"),  # NumberString alphabet
        ("DigitString", bytes([0x19, 2]) + b"1+"),  # FROM 0-9 * #
        ("SSN", bytes.fromhex("80020100")),  # ssn-value INTEGER(0..255): 256
        ("VersionStatus", bytes.fromhex("0a010b")),  # 11 is not an enumerated value
        ("SubscriptionPreCancellationStatus", bytes.fromhex("0a0101")),  # 1 is skipped in the list
        ("GeneralTime", bytes([0x18, 8]) + b"19971301"),  # not a GeneralizedTime
        ("GeneralTime", bytes([0x18, 10]) + b"1997133100"),  # month 13
        ("LnpAccessControl", SEQUENCE_NUMBER_2_POW_32),  # sequenceNumber INTEGER(0..4294967295)
    ],
)
def test_constraint_violations_rejected(type_name, data):
    with pytest.raises(ProtocolError):
        decode(type_name, data)


def test_graphic_string_length_bounds():
    def graphic(n: int) -> bytes:
        return bytes([0x19, 0x81, n]) + b"x" * n if n > 127 else bytes([0x19, n]) + b"x" * n

    assert len(str(decode("LnpSpecificInfo", graphic(255)))) == 255  # GraphicString255
    assert len(str(decode("GraphicString40", graphic(40)))) == 40
    with pytest.raises(ProtocolError):
        decode("LnpSpecificInfo", bytes([0x19, 0x82, 0x01, 0x00]) + b"x" * 256)
    with pytest.raises(ProtocolError):
        decode("GraphicString40", graphic(41))


def test_trailing_bytes_rejected():
    with pytest.raises(ProtocolError, match="after the value"):
        decode("LnpAccessControl", ACCESS_CONTROL + b"\x00")


def test_wrong_outer_tag_rejected():
    with pytest.raises(ProtocolError):
        decode("LnpAccessControl", b"\x30" + ACCESS_CONTROL[1:])


def test_missing_mandatory_component_rejected():
    with pytest.raises(ProtocolError):
        decode("DisconnectAction", bytes.fromhex("3010a00ea00c810a") + b"3035551212")


# --- the parser refuses what it does not understand -----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "M DEFINITIONS AUTOMATIC TAGS ::= BEGIN A ::= INTEGER END",
        "M DEFINITIONS ::= BEGIN A ::= SEQUENCE { INTEGER } END",
        "M DEFINITIONS ::= BEGIN A ::= REAL END",
        "M DEFINITIONS ::= BEGIN A ::= CHOICE { a INTEGER OPTIONAL } END",
        "M DEFINITIONS ::= BEGIN A ::= INTEGER A ::= BOOLEAN END",
    ],
)
def test_parser_rejects_outside_subset(text):
    with pytest.raises(Asn1SyntaxError):
        build_module(parse(text)[0], {})


def test_builder_rejects_undefined_and_recursive():
    for text in ("M DEFINITIONS ::= BEGIN A ::= B END", "M DEFINITIONS ::= BEGIN A ::= SEQUENCE OF A END"):
        with pytest.raises(Asn1SyntaxError):
            build_module(parse(text)[0], {})


MINI_MODULE = """
M DEFINITIONS IMPLICIT TAGS ::= BEGIN
C ::= CHOICE { a [0] INTEGER, b [1] BOOLEAN }
T ::= SEQUENCE {
  x [0] C,
  y [1] ANY OPTIONAL,
  z [2] ANY,
  w [3] EXPLICIT INTEGER,
  v [4] INTEGER { low(0), high(9) } DEFAULT 5,
  u SET SIZE (1..2) OF INTEGER (0..7)
}
END
"""


def test_builder_tagging_rules_outside_lnp():
    # X.680 31.2.7: a tag on a CHOICE or an open type is EXPLICIT even under IMPLICIT TAGS; two
    # tagged open types side by side must still decode (pyasn1 treats every Any as a catch-all).
    t_class = build_module(parse(MINI_MODULE)[0], {})["T"]
    t = t_class()
    t["x"]["a"] = 5
    t["y"] = bytes.fromhex("020107")
    t["z"] = bytes.fromhex("0500")
    t["w"] = 1
    t["v"] = 9
    t["u"].append(1)
    expected = "301b" "a003800105" "a103020107" "a2020500" "a303020101" "840109" "3103020101"
    assert encode(t).hex() == expected
    assert to_plain(decode(t_class, bytes.fromhex(expected))) == {
        "x": {"a": 5}, "y": b"\x02\x01\x07", "z": b"\x05\x00", "w": 1, "v": "high", "u": [1],
    }
    # SIZE on SET OF is not checked by pyasn1's decoder; decode() checks it afterwards.
    empty_set = bytes.fromhex("3018" "a003800105" "a103020107" "a2020500" "a303020101" "840109" "3100")
    with pytest.raises(ProtocolError, match="SIZE"):
        decode(t_class, empty_set)
    assert to_plain(decode(t_class, bytes.fromhex("3013a003800105a2020500a3030201013103020107")))["v"] == 5


# --- fuzz: only ProtocolError may escape --------------------------------------------------------

FUZZ_TYPES = [
    "LnpAccessControl", "SubscriptionVersionAction", "ActivateAction", "DisconnectAction",
    "ModifyAction", "NewSP-CreateData", "OldSP-CreateData", "LocalSMS-CreateAction",
    "DownloadAction", "DownloadReply", "AuditResults", "VersionStatusAttributeValueChange",
    "VersionNewSP-CreateRequest", "RecoveryCompleteReply",
]


def _decode_or_protocol_error(type_name: str, data: bytes) -> None:
    try:
        value = decode(type_name, data)
    except ProtocolError:
        return
    # Whatever decodes must be a complete value that encodes again.
    encode(value)


# Found by a long fuzz run: pyasn1's indefinite-length paths raise IndexError / AttributeError.
PYASN1_CRASHERS = [
    ("ModifyAction", (
        "304da00fa180190632313938323219033436300105a237a4028100a5028100a6028100a703800159a8058003b1a18ea9"
        "02a2188100aa028100ab038001158c0c34343dfa3bf93735323536383733318e026e28"
    )),
    ("LocalSMS-CreateAction", (
        "3082011602094000000000000000003181c1306531153013190a353037393239353037350205f8a00e877030808105f4"
        "4517fb66830d3337343930353136303035395aa5058003c0d8b6a6028100a7058003f04926a8028100a90580037bc173"
        "aa028100ab058003bcb9a4ac0281008e02323290010091010430583100305481053a9a9046d883113834363130373330"
        "313331332d30353030a5058003e111fda6028100a7058003cb26fba80480020096a9028100aa028100ab058003603c9f"
        "ac0281008e0234378f034e494c900100910103a045a009810747593b65307d3181010383094000000000000000008409"
        "c00000000000000001850e32343631313032353137323835398602034da7043000300045010089020700"
    )),
]


@pytest.mark.parametrize(("type_name", "hex_data"), PYASN1_CRASHERS)
def test_pyasn1_internal_errors_become_protocol_errors(type_name, hex_data):
    with pytest.raises(ProtocolError):
        decode(type_name, bytes.fromhex(hex_data))


@settings(max_examples=FUZZ_CASES)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    for type_name in FUZZ_TYPES:
        _decode_or_protocol_error(type_name, data)


MUTATIONS_PER_VALUE = 10  # drawing a valid value costs far more than mutating and decoding it


@settings(max_examples=FUZZ_CASES // MUTATIONS_PER_VALUE)
@given(st.sampled_from(FUZZ_TYPES), st.data())
def test_fuzz_mutated_encodings(type_name, data):
    valid = encode(data.draw(values_of(TYPES[type_name]()), label="valid value"))
    for _ in range(MUTATIONS_PER_VALUE):
        _decode_or_protocol_error(type_name, data.draw(mutated(valid), label="mutated"))


@settings(max_examples=FUZZ_CASES // 3)
@given(st.sampled_from(FUZZ_TYPES), st.binary(min_size=1, max_size=40))
def test_fuzz_valid_prefix_garbage_tail(type_name, tail):
    # A structurally valid start followed by junk must not slip through as a shorter value.
    data = ACCESS_CONTROL[:-1] + tail
    _decode_or_protocol_error(type_name, data)
    with pytest.raises(ProtocolError):
        decode("LnpAccessControl", ACCESS_CONTROL + tail)

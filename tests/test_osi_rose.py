"""ROSE envelope (appliance.osi.rose) and the BER helpers it and CMIP stand on (appliance.osi.ber)."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder

from appliance.osi import ber
from appliance.osi.errors import ProtocolError
from appliance.osi.rose import (
    MISTYPED_ARGUMENT, PROBLEM_KINDS, Invoke, Reject, ReturnError, ReturnResult, ROSEapdus, decode_rose,
    encode_rose,
)
from tests.fuzzing import FUZZ_CASES, mutated

T = ber.encode_tlv
# pyasn1 encodes -128, -32768, ... with a redundant leading 0xFF; leave those out where bytes are
# compared with pyasn1's (test_negative_integer_edges_are_minimal covers our encoding of them).
ints32 = st.integers(-(2**31), 2**31 - 1).filter(lambda n: n >= 0 or (-n).bit_length() % 8 != 0 or (-n) & (-n - 1))


@st.composite
def tlvs(draw, depth: int = 2) -> bytes:
    """Small well-formed BER values, as open types carry them."""
    kind = draw(st.sampled_from(["int", "str", "null", "octets", "seq"] if depth else ["int", "str", "null"]))
    if kind == "int":
        return T(0x02, ber.encode_int(draw(st.integers(-(2**40), 2**40))))
    if kind == "str":
        return T(0x13, draw(st.text("abcXYZ 0123", max_size=20)).encode())
    if kind == "null":
        return b"\x05\x00"
    if kind == "octets":
        return T(0x04, draw(st.binary(max_size=150)))
    return T(draw(st.sampled_from([0x30, 0x31, 0xA3])), b"".join(draw(st.lists(tlvs(depth - 1), max_size=3))))


invokes = st.builds(Invoke, ints32, st.integers(0, 10), st.none() | tlvs(), st.none() | ints32)
results = st.builds(ReturnResult, ints32) | st.builds(ReturnResult, ints32, st.integers(0, 10), tlvs())
errors = st.builds(ReturnError, ints32, st.integers(0, 30), st.none() | tlvs())
rejects = st.builds(Reject, st.none() | ints32, st.sampled_from(PROBLEM_KINDS), st.integers(0, 8))
pdus = invokes | results | errors | rejects


# ---- known encodings (X.880 / X.229, hand-computed per X.690) -----------------------------------

KNOWN = [
    # [1] { invokeId 1, opcode 7, argument SEQUENCE {} }
    (Invoke(1, 7, b"\x30\x00"), "a1 08 020101 020107 3000"),
    # linkedId is [0] IMPLICIT INTEGER; no argument
    (Invoke(300, 2, None, 5), "a1 0a 0202012c 800105 020102"),
    # invokeId 128 needs a leading zero octet; opcode 10 with a NULL argument
    (Invoke(128, 10, b"\x05\x00"), "a1 09 02020080 02010a 0500"),
    (ReturnResult(1), "a2 03 020101"),
    # [2] { invokeId 2, SEQUENCE { opcode 7, result } }
    (ReturnResult(2, 7, b"\x30\x00"), "a2 0a 020102 3005 020107 3000"),
    (ReturnError(3, 10, b"\x05\x00"), "a3 08 020103 02010a 0500"),
    (ReturnError(-1, 2), "a3 06 0201ff 020102"),
    # invokeId NULL, problem [1] invoke mistypedArgument(2)
    (Reject(None, "invoke", MISTYPED_ARGUMENT), "a4 05 0500 810102"),
    (Reject(4, "general", 1), "a4 06 020104 800101"),
    (Reject(4, "returnError", 4), "a4 06 020104 830104"),
]


@pytest.mark.parametrize("pdu, wire", KNOWN)
def test_known_encodings(pdu, wire):
    data = bytes.fromhex(wire)
    assert encode_rose(pdu) == data
    assert decode_rose(data) == pdu


def test_x880_absent_linked_id_is_read():
    assert decode_rose(bytes.fromhex("a1 08 020101 8100 020102")) == Invoke(1, 2)


def test_long_argument_uses_long_length_form():
    argument = T(0x04, bytes(300))
    assert argument[:4] == bytes.fromhex("0482012c")
    data = encode_rose(Invoke(1, 6, argument))
    assert data[:4] == bytes.fromhex("a1820136")
    assert decode_rose(data).argument == argument


def test_indefinite_lengths_from_peers_are_read():
    # BER allows the indefinite form for constructed values; some stacks send it.
    data = bytes.fromhex("a180 020101 020107 3080 020105 0000 0000")
    assert decode_rose(data) == Invoke(1, 7, bytes.fromhex("3080 020105 0000"))


@given(pdus)
def test_round_trip(pdu):
    assert decode_rose(encode_rose(pdu)) == pdu


@given(pdus)
def test_same_bytes_as_pyasn1(pdu):
    data = encode_rose(pdu)
    value, rest = pyasn1_decoder.decode(data, asn1Spec=ROSEapdus())
    assert rest == b""
    assert pyasn1_encoder.encode(value) == data


@pytest.mark.parametrize("wire", [
    "",
    "a1",
    "a100",  # no invokeId
    "a103 020101",  # no opcode
    "a106 020101 800102",  # linkedId but no opcode
    "a108 020101 020107 3000 00",  # length too short for the content
    "a106 020101 020107 3000",  # argument overruns the PDU
    "a10a 020101 020107 3000 3000",  # two arguments
    "a108 020101 0c0107 3000",  # opcode not an INTEGER
    "a106 040101 020107",  # invokeId not an INTEGER
    "a103 020101 00",  # trailing octet after the PDU
    "a203 0400",
    "a20b 020101 3006 020107 3000 3000",  # result SEQUENCE with extra element
    "a208 020101 3003 020107",  # result SEQUENCE without result
    "a203 020101 3000",  # result not fitting
    "a303 020101",  # returnError without errcode
    "a404 0500 8101",  # reject problem truncated
    "a405 0500 840101",  # unknown problem kind
    "a406 050101 810101",  # NULL with content
    "a503 020101",  # not a ROSE APDU
    "a180",  # indefinite without end
    "a1 84ffffffff 020101",  # absurd length
    "a1 85 0000000003 020101",  # length of length too long
    "0201",
])
def test_malformed_is_protocol_error(wire):
    with pytest.raises(ProtocolError) as info:
        decode_rose(bytes.fromhex(wire))
    assert info.value.layer == "rose"


def test_encode_rejects_half_a_result():
    with pytest.raises(ValueError):
        encode_rose(ReturnResult(1, 7, None))


@settings(max_examples=FUZZ_CASES)
@given(st.binary(max_size=64))
def test_fuzz_random_bytes(data):
    try:
        decode_rose(data)
    except ProtocolError:
        pass


_SEEDS = [encode_rose(p) for p, _ in KNOWN] + [encode_rose(Invoke(7, 7, T(0x30, T(0x04, bytes(200)))))]


@settings(max_examples=FUZZ_CASES)
@given(st.sampled_from(_SEEDS), st.data())
def test_fuzz_mutated_pdus(seed, data):
    try:
        decode_rose(data.draw(mutated(seed)))
    except ProtocolError:
        pass


# ---- ber: TLVs, integers, OIDs, GeneralizedTime --------------------------------------------------


def test_make_tag_and_high_tag_numbers():
    assert ber.make_tag(0x80, False, 5) == 0x85
    assert ber.make_tag(0x80, True, 31) == 0xBF1F
    assert ber.make_tag(0x40, False, 200) == 0x5F8148
    assert T(0xBF1F, b"") == bytes.fromhex("bf1f00")
    assert ber.read_tlv(bytes.fromhex("5f814801ff"), 0, 5, "t") == (0x5F8148, 4, 5, 5)


@given(st.integers(-(2**63), 2**63 - 1))
def test_integer_round_trip_and_minimal(n):
    content = ber.encode_int(n)
    assert ber.read_int(content, 0, len(content), "t") == n
    if len(content) > 1:  # X.690 8.3.2: the first nine bits are never all equal
        assert not (content[0] == 0 and content[1] < 0x80) and not (content[0] == 0xFF and content[1] >= 0x80)


def test_negative_integer_edges_are_minimal():
    assert ber.encode_int(-128) == b"\x80"
    assert ber.encode_int(-129) == b"\xff\x7f"
    assert ber.encode_int(-32768) == b"\x80\x00"
    assert ber.encode_int(127) == b"\x7f" and ber.encode_int(128) == b"\x00\x80"


oids = st.builds(
    lambda first, second, rest: ".".join(map(str, [first, second, *rest])),
    st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, 2**40), max_size=8),
) | st.builds(lambda second, rest: ".".join(map(str, [2, second, *rest])), st.integers(40, 10**6),
              st.lists(st.integers(0, 2**20), max_size=3))


@given(oids)
def test_oid_round_trip_matches_pyasn1(oid):
    from pyasn1.type import univ
    content = ber.encode_oid(oid)
    assert ber.decode_oid(content, 0, len(content)) == oid
    assert pyasn1_encoder.encode(univ.ObjectIdentifier(oid)) == T(0x06, content)


def test_known_oids():
    assert ber.encode_oid("2.16.840.1.4.1.1").hex() == "60864801040101"
    assert ber.encode_oid("1.2.840.113549").hex() == "2a864886f70d"
    assert ber.encode_oid("2.999.3").hex() == "883703"


@pytest.mark.parametrize("bad", ["", "1", "3.1", "1.40", "1.-2", "a.b"])
def test_bad_oid_text(bad):
    with pytest.raises(ValueError):
        ber.encode_oid(bad)


@pytest.mark.parametrize("content", ["", "2a8f", "2a8001", "80"])
def test_bad_oid_content(content):
    raw = bytes.fromhex(content)
    with pytest.raises(ProtocolError):
        ber.decode_oid(raw, 0, len(raw))


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)))
def test_generalized_time_round_trip(stamp):
    content = ber.encode_generalized_time(stamp)
    assert ber.decode_generalized_time(content, 0, len(content)) == stamp


@pytest.mark.parametrize("text, expected", [
    ("20240229235959Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc)),
    ("20240101120000.5Z", datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)),
    ("20240101120000,25Z", datetime(2024, 1, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)),
    ("202401011200Z", datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)),
    ("2024010112", datetime(2024, 1, 1, 12, tzinfo=timezone.utc)),  # local time is read as UTC
    ("20240101120000-0130", datetime(2024, 1, 1, 13, 30, tzinfo=timezone.utc)),
    ("20240101120000+0100", datetime(2024, 1, 1, 11, 0, tzinfo=timezone.utc)),
])
def test_generalized_time_forms(text, expected):
    raw = text.encode()
    assert ber.decode_generalized_time(raw, 0, len(raw)) == expected


@pytest.mark.parametrize("text", ["", "2024", "20241301120000Z", "2024010112000Z", "20240101120000.Z",
                                  "202401011200.5Z", "20240101120000+2500", "２０２４０１０１１２Z", "2024010112\xff"])
def test_generalized_time_rejects(text):
    raw = text.encode("utf-8", "surrogateescape")
    with pytest.raises(ProtocolError):
        ber.decode_generalized_time(raw, 0, len(raw))


def test_naive_datetime_is_encoded_as_utc():
    assert ber.encode_generalized_time(datetime(2024, 1, 2, 3, 4, 5)) == b"20240102030405Z"
    eastern = timezone(timedelta(hours=-5))
    assert ber.encode_generalized_time(datetime(2024, 1, 2, 3, 4, 5, tzinfo=eastern)) == b"20240102080405Z"


# ---- ber: the declarative codec ------------------------------------------------------------------


def test_seq_defaults_optionals_and_extensions():
    seq = ber.Seq([(ber.INTEGER, ber.REQUIRED), (ber.Implicit(0, ber.INTEGER), 7),
                   (ber.Implicit(1, ber.OCTET_STRING), ber.OPTIONAL)], extensible=True)
    assert seq.encode((1, 7, None)) == bytes.fromhex("3003020101")  # the DEFAULT is left out
    assert seq.encode((1, 8, b"x")) == bytes.fromhex("3009020101800108810178")
    assert seq.decode_bytes(bytes.fromhex("3003020101")) == (1, 7, None)
    assert seq.decode_bytes(bytes.fromhex("3008020101 810178 0500")) == (1, 7, b"x")  # extension skipped
    closed = ber.Seq(seq.fields)
    with pytest.raises(ProtocolError):
        closed.decode_bytes(bytes.fromhex("3005020101 0500"))
    with pytest.raises(ProtocolError):
        seq.decode_bytes(bytes.fromhex("3003 800107"))  # mandatory first component missing
    with pytest.raises(ValueError):
        seq.encode((None, 7, None))


def test_unordered_set_takes_any_order_once():
    s = ber.Seq([(ber.Implicit(0, ber.INTEGER), ber.OPTIONAL), (ber.Implicit(1, ber.INTEGER), ber.OPTIONAL)],
                unordered=True)
    assert s.encode((1, 2)) == bytes.fromhex("3106800101810102")
    assert s.decode_bytes(bytes.fromhex("3106810102800101")) == (1, 2)
    assert s.decode_bytes(bytes.fromhex("3103810102")) == (None, 2)
    with pytest.raises(ProtocolError):
        s.decode_bytes(bytes.fromhex("3106800101800102"))


def test_explicit_holds_exactly_one_value():
    e = ber.Explicit(3, ber.INTEGER)
    assert e.encode(5) == bytes.fromhex("a303020105")
    for bad in ("a306020105020105", "a3020500", "a300"):
        with pytest.raises(ProtocolError):
            e.decode_bytes(bytes.fromhex(bad))


def test_nesting_depth_is_bounded():
    deep = ber.Lazy((0xA0,))
    deep.define(ber.Explicit(0, ber.Choice({int: ber.INTEGER, tuple: deep}, key=lambda v: type(v))))
    data = bytes.fromhex("020101")
    for _ in range(200):
        data = T(0xA0, data)
    with pytest.raises(ProtocolError):
        deep.decode_bytes(data)


def test_choice_construction_checks():
    with pytest.raises(TypeError):
        ber.Choice({int: ber.INTEGER, str: ber.INTEGER.__class__(0x02, str.encode, None)})
    with pytest.raises(TypeError):
        ber.Implicit(0, ber.ANY)

"""RFC 1006 TPKT framing: known bytes, stream splitting at any boundary, limits, fuzz.

Clause references are RFC 1006 §6 ("packet length 16 bits (min=7, max=65535)").
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.osi import tpkt
from appliance.osi.errors import ProtocolError
from tests.fuzzing import FUZZ_CASES, mutated


def mutations(valid: list[bytes]) -> st.SearchStrategy[bytes]:
    """`mutated` over several valid PDUs. One strategy per PDU, built once: `flatmap(mutated)`
    builds and validates a new strategy on every draw, which costs more than the test itself."""
    return st.one_of([mutated(v) for v in valid])


def chunks_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def test_encode_known_bytes():
    """RFC 1006 §6: version 3, reserved 0, length including the 4-octet header."""
    assert tpkt.encode(b"\x02\xf0\x80") == bytes.fromhex("03000007 02f080")


def test_encode_long_length_is_big_endian():
    assert tpkt.encode(bytes(300))[:4] == bytes.fromhex("03000130")


def test_encode_rejects_more_than_65531_octets():
    tpkt.encode(bytes(65531))
    with pytest.raises(ValueError):
        tpkt.encode(bytes(65532))


def test_reader_one_frame():
    assert tpkt.TpktReader().feed(bytes.fromhex("03000007 02f080")) == [b"\x02\xf0\x80"]


def test_reader_several_frames_in_one_chunk():
    stream = tpkt.encode(b"abc") + tpkt.encode(b"defg") + tpkt.encode(b"hij")
    assert tpkt.TpktReader().feed(stream) == [b"abc", b"defg", b"hij"]


def test_reader_frame_split_in_header_and_body():
    frame = tpkt.encode(b"hello world")
    reader = tpkt.TpktReader()
    assert reader.feed(frame[:2]) == []
    assert reader.feed(frame[2:6]) == []
    assert reader.buffered == 6
    assert reader.feed(frame[6:]) == [b"hello world"]
    assert reader.buffered == 0


def test_reader_ignores_reserved_octet():
    assert tpkt.TpktReader().feed(bytes.fromhex("03ff0007 02f080")) == [b"\x02\xf0\x80"]


@pytest.mark.parametrize(
    "header, match",
    [
        ("02000007", "version 2"),
        ("00000000", "version 0"),
        ("03000006", "packet length 6 below the minimum of 7"),
        ("03000004", "packet length 4 below"),  # the header alone
    ],
)
def test_reader_bad_header(header, match):
    with pytest.raises(ProtocolError, match=match) as err:
        tpkt.TpktReader().feed(bytes.fromhex(header) + bytes(8))
    assert err.value.layer == "tpkt"


def test_reader_limit_is_checked_from_the_header_alone():
    """An oversized TPKT is refused as soon as its header arrives, before any body is buffered."""
    reader = tpkt.TpktReader(max_len=2052)
    assert reader.feed(tpkt.encode(bytes(2048))) == [bytes(2048)]
    with pytest.raises(ProtocolError, match="packet length 2053 above the limit of 2052"):
        reader.feed(bytes.fromhex("03000805"))


def test_reader_bad_header_after_a_good_frame_in_the_same_chunk():
    with pytest.raises(ProtocolError, match="version 4"):
        tpkt.TpktReader().feed(tpkt.encode(b"abc") + b"\x04\x00\x00\x07")


@pytest.mark.parametrize("max_len", [0, 6, 65536])
def test_reader_rejects_impossible_limits(max_len):
    with pytest.raises(ValueError):
        tpkt.TpktReader(max_len)


def test_reader_octet_by_octet_stays_linear():
    """A TPKT trickling in one octet per feed is copied once, not once per octet."""
    frame = tpkt.encode(bytes(range(256)) * 120)
    reader = tpkt.TpktReader()
    out = []
    for i in range(len(frame)):
        out += reader.feed(frame[i : i + 1])
    assert out == [bytes(range(256)) * 120]


payloads = st.lists(st.binary(min_size=3, max_size=200), min_size=1, max_size=8)


@given(payloads, st.lists(st.integers(0, 2000), max_size=30))
def test_stream_split_at_random_points(frames, cuts):
    stream = b"".join(tpkt.encode(f) for f in frames)
    reader = tpkt.TpktReader()
    out = []
    for chunk in chunks_at(stream, cuts):
        out += reader.feed(chunk)
    assert out == frames
    assert reader.buffered == 0


@given(st.binary(min_size=3, max_size=3000))
def test_round_trip(payload):
    assert tpkt.TpktReader().feed(tpkt.encode(payload)) == [payload]


mutated_streams = mutations(
    [
        tpkt.encode(b"\x02\xf0\x80abc"),
        tpkt.encode(b"\x02\xf0\x00" + bytes(40)) + tpkt.encode(b"\x02\xf0\x80xyz"),
        tpkt.encode(bytes.fromhex("0ee00000000100c0010bc1020001")),
    ]
)


def thirds(data: bytes) -> list[bytes]:
    """Fixed cut points for the fuzz tests: random chunking has its own property tests, and every
    extra drawn value costs hypothesis time on each of the CI profile's cases."""
    return chunks_at(data, [len(data) // 3, 2 * len(data) // 3])


@settings(max_examples=FUZZ_CASES)
@given(st.binary(max_size=200), mutated_streams)
def test_fuzz_reader(random_bytes, mutation):
    """Each case feeds one random and one mutated stream, so both kinds get FUZZ_CASES runs."""
    for data in (random_bytes, mutation):
        reader = tpkt.TpktReader(max_len=1024)
        try:
            for chunk in thirds(data):
                for frame in reader.feed(chunk):
                    assert 3 <= len(frame) <= 1020
        except ProtocolError:
            pass
        assert reader.buffered <= 1024

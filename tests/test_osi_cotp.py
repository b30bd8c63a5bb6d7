"""ISO 8073 / X.224 class 0 over RFC 1006: TPDU bytes, negotiation, segmentation, states, fuzz.

§13.x are the TPDU clauses of ISO 8073 / X.224 (1995); "README" is the transport table at the end of
shared/asn1/README.md.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.osi import cotp, tpkt
from appliance.osi.cotp import (
    CC,
    CR,
    DR,
    DT,
    ER,
    TConnected,
    TConnectRequest,
    TData,
    TDisconnected,
    TransportConnection,
    decode_tpdu,
    encode_tpdu,
)
from appliance.osi.errors import ProtocolError
from tests.fuzzing import FUZZ_CASES
from tests.test_osi_tpkt import chunks_at, mutations, thirds

CALLING = b"\x00\x01"
CALLED = b"\x00\x02"


def connected(offer: int = 2048, own: int = 2048, max_tsdu: int = 1 << 20):
    """An initiator and a responder after CR/CC."""
    ini = TransportConnection(True, CALLING, CALLED, max_tpdu_size=offer, max_tsdu=max_tsdu, local_ref=0x0007)
    resp = TransportConnection(False, CALLED, max_tpdu_size=own, max_tsdu=max_tsdu, local_ref=0x0009)
    [req] = resp.receive_data(ini.connect())
    assert isinstance(req, TConnectRequest)
    [conf] = ini.receive_data(resp.accept())
    assert conf == TConnected(min(offer, own))
    return ini, resp


# --- known bytes ----------------------------------------------------------------------------------


def test_cr_known_bytes():
    """§13.3 / README: LI, E0, DST-REF 0000, SRC-REF, class 0, then C0 (size), C1, C2."""
    cr = CR(src_ref=0x0007, calling_tsap=CALLING, called_tsap=CALLED, tpdu_size=2048)
    wire = bytes.fromhex("11 e0 0000 0007 00 c0010b c1020001 c2020002")
    assert encode_tpdu(cr) == wire
    assert decode_tpdu(wire) == cr


def test_cc_known_bytes():
    """§13.4: DST-REF is the CR's SRC-REF."""
    cc = CC(dst_ref=0x0007, src_ref=0x0009, tpdu_size=512)
    wire = bytes.fromhex("09 d0 0007 0009 00 c00109")
    assert encode_tpdu(cc) == wire
    assert decode_tpdu(wire) == cc


def test_dt_known_bytes():
    """§13.7 class 0: LI 02, F0, EOT 0x80 on the last TPDU of the TSDU, 0x00 before it."""
    assert encode_tpdu(DT(b"abc")) == b"\x02\xf0\x80abc"
    assert encode_tpdu(DT(b"abc", eot=False)) == b"\x02\xf0\x00abc"
    assert decode_tpdu(b"\x02\xf0\x00xy") == DT(b"xy", eot=False)


def test_dr_known_bytes():
    """§13.5: LI 06, 80, DST-REF, SRC-REF, reason (README: 3 = address unknown)."""
    wire = bytes.fromhex("06 80 0007 0009 03")
    assert encode_tpdu(DR(7, 9, cotp.DR_ADDRESS_UNKNOWN)) == wire
    assert decode_tpdu(wire) == DR(7, 9, 3)


def test_er_known_bytes():
    """§13.12: LI, 70, DST-REF, reject cause, C1 = the offending TPDU header."""
    wire = bytes.fromhex("08 70 0007 02 c1 02 0160")
    assert encode_tpdu(ER(7, cotp.ER_INVALID_TPDU_TYPE, b"\x01\x60")) == wire
    assert decode_tpdu(wire) == ER(7, 2, b"\x01\x60")


def test_decode_skips_unknown_parameters_and_cdt():
    """§13.2: unknown parameters are ignored; CR carries CDT in the low nibble (§13.3)."""
    wire = bytes.fromhex("10 e3 0000 0005 00 f0 02 0800 c6 01 01 c0 01 08")
    assert decode_tpdu(wire) == CR(src_ref=5, tpdu_size=256, cdt=3)


def test_absent_tpdu_size_decodes_as_none():
    assert decode_tpdu(bytes.fromhex("06 e0 0000 0005 00")).tpdu_size is None


@pytest.mark.parametrize(
    "wire, match",
    [
        ("", "shorter than 2 octets"),
        ("02", "shorter than 2 octets"),
        ("ff e0 0000 0005 00", "length indicator 255"),  # reserved (§13.2)
        ("07 e0 0000 0005 00", "length indicator 7 does not fit"),
        ("03 f0 80 00", "class 0 DT with length indicator 3"),
        ("05 e0 0000 0005", "CR/CC header of 5 octets"),
        ("05 d0 0000 0005", "CR/CC header of 5 octets"),
        ("05 80 0000 0005", "DR header of 5 octets"),
        ("03 70 0000", "ER header of 3 octets"),
        ("07 e0 0000 0005 00 c0", "truncated parameter"),
        ("09 e0 0000 0005 00 c1 05 00", "parameter 0xc1 of 5 octets overruns"),
        ("09 e0 0000 0005 00 c0 01 06", "invalid TPDU size parameter 06"),
        ("09 e0 0000 0005 00 c0 01 0e", "invalid TPDU size parameter 0e"),
        ("0a e0 0000 0005 00 c0 02 0b0b", "invalid TPDU size parameter 0b0b"),
        ("04 60 0000 00", "0x60 is not used in class 0"),  # AK
        ("04 10 0000 00", "0x10 is not used in class 0"),  # ED
        ("06 c0 0000 0005 00", "0xc0 is not used in class 0"),  # DC
    ],
)
def test_decode_rejects(wire, match):
    with pytest.raises(ProtocolError, match=match) as err:
        decode_tpdu(bytes.fromhex(wire))
    assert err.value.layer == "cotp"


def test_encode_rejects_unknown_tpdu_size():
    with pytest.raises(ValueError):
        encode_tpdu(CR(src_ref=1, tpdu_size=1000))


# --- round trips ------------------------------------------------------------------------------------

refs = st.integers(0, 0xFFFF)
octet = st.integers(0, 255)
tsaps = st.binary(max_size=32)
sizes = st.none() | st.sampled_from(sorted(cotp.SIZE_CODES))
tpdus = st.one_of(
    st.builds(CR, refs, refs, octet, tsaps, tsaps, sizes, st.integers(0, 15)),
    st.builds(CC, refs, refs, octet, tsaps, tsaps, sizes, st.integers(0, 15)),
    st.builds(DT, st.binary(max_size=300), st.booleans()),
    st.builds(DR, refs, refs, octet, st.binary(max_size=64)),
    st.builds(ER, refs, octet, st.binary(max_size=64)),
)


@given(tpdus)
def test_round_trip_every_tpdu(tpdu):
    wire = encode_tpdu(tpdu)
    assert decode_tpdu(wire) == tpdu
    assert tpkt.TpktReader().feed(tpkt.encode(wire)) == [wire]


# --- negotiation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("offer", cotp.CLASS0_SIZES)
@pytest.mark.parametrize("own", cotp.CLASS0_SIZES)
def test_tpdu_size_is_min_of_offered_and_own(offer, own):
    """README: the responder answers min(proposed, its own)."""
    ini, resp = connected(offer, own)
    assert ini.tpdu_size == resp.tpdu_size == min(offer, own)


def test_absent_size_in_cr_means_128():
    """§13.3 / README: without the parameter the maximum TPDU size is 128."""
    resp = TransportConnection(False, local_ref=9)
    [req] = resp.receive_data(tpkt.encode(bytes.fromhex("06 e0 0000 0005 00")))
    assert req == TConnectRequest(b"", b"", 128)
    cc = decode_tpdu(tpkt.TpktReader().feed(resp.accept())[0])
    assert cc == CC(dst_ref=5, src_ref=9, tpdu_size=128)
    assert resp.tpdu_size == 128


def test_absent_size_in_cc_means_128():
    ini = TransportConnection(True, local_ref=7)
    ini.connect()
    assert ini.receive_data(tpkt.encode(bytes.fromhex("06 d0 0007 0009 00"))) == [TConnected(128)]
    assert ini.tpdu_size == 128


def test_offer_above_class0_limit_is_cut_to_ours():
    """A CR proposing 8192 (not a class 0 size) still gets a legal class 0 answer."""
    resp = TransportConnection(False, local_ref=9)
    [req] = resp.receive_data(tpkt.encode(encode_tpdu(CR(src_ref=5, tpdu_size=8192))))
    assert req.tpdu_size == 8192
    resp.accept()
    assert resp.tpdu_size == 2048


def test_cr_and_cc_carry_the_tsaps():
    ini = TransportConnection(True, CALLING, CALLED, local_ref=7)
    cr = decode_tpdu(tpkt.TpktReader().feed(ini.connect())[0])
    assert cr == CR(src_ref=7, calling_tsap=CALLING, called_tsap=CALLED, tpdu_size=2048)
    resp = TransportConnection(False, CALLED, local_ref=9)
    assert resp.receive_data(tpkt.encode(encode_tpdu(cr))) == [TConnectRequest(CALLING, CALLED, 2048)]
    assert resp.remote_tsap == CALLING
    cc = decode_tpdu(tpkt.TpktReader().feed(resp.accept())[0])
    assert cc == CC(dst_ref=7, src_ref=9, calling_tsap=CALLING, called_tsap=CALLED, tpdu_size=2048)


def test_cr_proposing_another_class_is_answered_with_class_0():
    resp = TransportConnection(False, local_ref=9)
    resp.receive_data(tpkt.encode(encode_tpdu(CR(src_ref=5, class_options=0x20))))
    assert decode_tpdu(tpkt.TpktReader().feed(resp.accept())[0]).class_options == 0


@pytest.mark.parametrize(
    "cc, match",
    [
        (CC(dst_ref=7, src_ref=9, class_options=0x20), "selects class 2"),
        (CC(dst_ref=8, src_ref=9), "CC for reference 8, not 7"),
        (CC(dst_ref=7, src_ref=9, tpdu_size=2048), "raises the TPDU size to 2048"),  # 1024 offered
    ],
)
def test_bad_cc(cc, match):
    ini = TransportConnection(True, max_tpdu_size=1024, local_ref=7)
    ini.connect()
    with pytest.raises(ProtocolError, match=match):
        ini.receive_data(tpkt.encode(encode_tpdu(cc)))


def test_bad_local_settings():
    with pytest.raises(ValueError):
        TransportConnection(True, max_tpdu_size=4096)
    with pytest.raises(ValueError):
        TransportConnection(True, max_tsdu=0)


# --- segmentation and reassembly ---------------------------------------------------------------------

TSDU_10K = bytes(range(256)) * 40


@pytest.mark.parametrize("size", [128, 2048])
def test_10k_tsdu_segments(size):
    """README: DTs of at most the negotiated size (header included), EOT on the last only."""
    ini, resp = connected(size, size)
    frames = tpkt.TpktReader().feed(ini.send(TSDU_10K))
    room = size - 3
    assert len(frames) == -(-len(TSDU_10K) // room)
    assert all(len(f) <= size for f in frames)
    assert [f[2] for f in frames] == [0x00] * (len(frames) - 1) + [0x80]
    assert b"".join(f[3:] for f in frames) == TSDU_10K


@pytest.mark.parametrize("size", [128, 2048])
@settings(max_examples=50)
@given(cuts=st.lists(st.integers(0, 11000), max_size=40))
def test_10k_tsdu_reassembled_across_any_tcp_chunks(size, cuts):
    ini, resp = connected(size, size)
    stream = ini.send(TSDU_10K) + ini.send(b"next")
    events = []
    for chunk in chunks_at(stream, cuts):
        events += resp.receive_data(chunk)
    assert events == [TData(TSDU_10K), TData(b"next")]


@given(
    st.sampled_from(cotp.CLASS0_SIZES),
    st.lists(st.binary(max_size=3000), min_size=1, max_size=5),
    st.lists(st.integers(0, 20000), max_size=20),
)
def test_tsdus_survive_any_chunking(size, tsdus, cuts):
    ini, resp = connected(size, 2048)
    stream = b"".join(resp.send(t) for t in tsdus)
    events = []
    for chunk in chunks_at(stream, cuts):
        events += ini.receive_data(chunk)
    assert events == [TData(t) for t in tsdus]


def test_exact_multiple_of_the_room():
    ini, resp = connected(128, 128)
    frames = tpkt.TpktReader().feed(ini.send(bytes(250)))
    assert [len(f) for f in frames] == [128, 128]
    assert resp.receive_data(ini.send(bytes(250))) == [TData(bytes(250))]


def test_empty_tsdu_is_one_dt():
    ini, resp = connected()
    assert ini.send(b"") == bytes.fromhex("03000007 02f080")
    assert resp.receive_data(ini.send(b"")) == [TData(b"")]


def test_reassembly_limit():
    ini, resp = connected(128, 128, max_tsdu=1000)
    assert resp.receive_data(ini.send(bytes(1000))) == [TData(bytes(1000))]
    with pytest.raises(ProtocolError, match="exceeds the limit of 1000"):
        resp.receive_data(ini.send(bytes(1001)))


def test_reassembly_limit_hits_before_eot():
    """The limit stops a TSDU that never ends, not only one that ends too big."""
    ini, resp = connected(128, 128, max_tsdu=1000)
    more = tpkt.encode(b"\x02\xf0\x00" + bytes(125))
    with pytest.raises(ProtocolError, match="exceeds the limit of 1000"):
        for _ in range(9):
            resp.receive_data(more)


def test_dt_larger_than_negotiated_is_accepted():
    """Some stacks count the TPDU size without the header; such DTs are taken as they come."""
    ini, resp = connected(128, 128)
    assert resp.receive_data(tpkt.encode(b"\x02\xf0\x80" + bytes(128))) == [TData(bytes(128))]


def test_cc_and_data_in_one_chunk():
    ini = TransportConnection(True, local_ref=7)
    ini.connect()
    stream = tpkt.encode(encode_tpdu(CC(7, 9, tpdu_size=2048))) + tpkt.encode(b"\x02\xf0\x80hi")
    assert ini.receive_data(stream) == [TConnected(2048), TData(b"hi")]


# --- refusal, errors, states -----------------------------------------------------------------------


def test_refused_connection():
    """README: class 0 uses DR only to refuse a CR."""
    ini = TransportConnection(True, CALLING, CALLED, local_ref=7)
    resp = TransportConnection(False, CALLED, local_ref=9)
    resp.receive_data(ini.connect())
    dr = resp.refuse(cotp.DR_ADDRESS_UNKNOWN)
    assert dr == bytes.fromhex("0300000b 06 80 0007 0009 03")
    assert ini.receive_data(dr) == [TDisconnected(3)]
    assert ini.state == resp.state == cotp.CLOSED
    with pytest.raises(ProtocolError, match="send not allowed"):
        ini.send(b"x")


def test_er_reports_disconnection():
    ini, resp = connected()
    er = tpkt.encode(encode_tpdu(ER(9, cotp.ER_INVALID_PARAMETER_VALUE)))
    assert ini.receive_data(er) == [TDisconnected(3, error=True)]


def test_dr_during_data_transfer_reports_disconnection():
    ini, resp = connected()
    assert ini.receive_data(tpkt.encode(encode_tpdu(DR(7, 9, 0)))) == [TDisconnected(0)]


CR_BYTES = tpkt.encode(encode_tpdu(CR(src_ref=5, tpdu_size=2048)))
CC_BYTES = tpkt.encode(encode_tpdu(CC(7, 9, tpdu_size=2048)))
DT_BYTES = tpkt.encode(b"\x02\xf0\x80x")
DR_BYTES = tpkt.encode(encode_tpdu(DR(7, 9, 0)))


def initiator_idle():
    return TransportConnection(True, local_ref=7)


def initiator_wait_cc():
    t = initiator_idle()
    t.connect()
    return t


def responder_idle():
    return TransportConnection(False, local_ref=9)


def responder_wait_accept():
    t = responder_idle()
    t.receive_data(CR_BYTES)
    return t


def initiator_open():
    return connected()[0]


def responder_open():
    return connected()[1]


def closed():
    t = responder_wait_accept()
    t.refuse()
    return t


@pytest.mark.parametrize(
    "make, data, why",
    [
        (initiator_wait_cc, DT_BYTES, "DT before CC"),
        (initiator_idle, CC_BYTES, "CC without a CR"),
        (initiator_wait_cc, CR_BYTES, "CR to the initiator"),
        (responder_idle, DT_BYTES, "DT before CR"),
        (responder_idle, CC_BYTES, "CC to the responder"),
        (responder_wait_accept, DT_BYTES, "DT before accept"),
        (responder_wait_accept, CR_BYTES, "second CR"),
        (responder_open, CR_BYTES, "CR during data transfer"),
        (initiator_open, CC_BYTES, "second CC"),
        (closed, DT_BYTES, "DT after refusal"),
        (responder_wait_accept, DR_BYTES, "DR to the responder"),
    ],
)
def test_tpdu_not_allowed_in_state(make, data, why):
    with pytest.raises(ProtocolError, match="not expected in state"):
        make().receive_data(data)


@pytest.mark.parametrize(
    "make, call",
    [
        (initiator_wait_cc, lambda t: t.connect()),
        (initiator_wait_cc, lambda t: t.send(b"x")),
        (initiator_wait_cc, lambda t: t.accept()),
        (responder_idle, lambda t: t.connect()),
        (responder_idle, lambda t: t.accept()),
        (responder_idle, lambda t: t.refuse()),
        (responder_wait_accept, lambda t: t.send(b"x")),
        (responder_open, lambda t: t.accept()),
    ],
)
def test_primitive_not_allowed_in_state(make, call):
    with pytest.raises(ProtocolError, match="not allowed"):
        call(make())


# --- fuzz ------------------------------------------------------------------------------------------

VALID_TPDUS = [
    encode_tpdu(CR(src_ref=5, calling_tsap=CALLING, called_tsap=CALLED, tpdu_size=2048)),
    encode_tpdu(CC(7, 9, calling_tsap=CALLING, called_tsap=CALLED, tpdu_size=1024)),
    encode_tpdu(DT(b"\x01\x00\x01\x00abc")),
    encode_tpdu(DT(bytes(20), eot=False)),
    encode_tpdu(DR(7, 9, 1, b"why")),
    encode_tpdu(ER(7, 1, b"\x02\xf0")),
]
VALID_STREAMS = [
    CR_BYTES,
    CC_BYTES + DT_BYTES,
    tpkt.encode(b"\x02\xf0\x00" + bytes(30)) + tpkt.encode(b"\x02\xf0\x80" + bytes(10)) + DR_BYTES,
    tpkt.encode(encode_tpdu(ER(7, 2, b"\x02\xf0\x80"))),
]
STATES = [initiator_wait_cc, responder_idle, responder_wait_accept, initiator_open, responder_open, closed]


# Each fuzz case draws one random and one mutated input, so both kinds get FUZZ_CASES runs.


@settings(max_examples=FUZZ_CASES)
@given(st.binary(max_size=100), mutations(VALID_TPDUS))
def test_fuzz_decode_tpdu(random_bytes, mutation):
    for data in (random_bytes, mutation):
        try:
            decode_tpdu(data)
        except ProtocolError:
            pass


random_streams = st.one_of(
    st.binary(max_size=200),
    # Random TPDUs in well-formed TPKTs, to get past the framing.
    st.lists(st.binary(min_size=3, max_size=60).map(tpkt.encode), min_size=1, max_size=4).map(b"".join),
)
mutated_streams = st.one_of(
    mutations(VALID_STREAMS),
    st.lists(
        mutations(VALID_TPDUS).filter(lambda t: len(t) >= 3).map(tpkt.encode),
        min_size=1,
        max_size=3,
    ).map(b"".join),
)


@settings(max_examples=FUZZ_CASES)
@given(mutated_streams, random_streams)
def test_fuzz_receive_data(mutation, random_bytes):
    """Every state gets both inputs: the mutated stream first, then the random one on the same
    connection when that survived (reaching the states the mutation led to), else on a fresh one.
    Looping over the states is cheaper than drawing one."""
    for make in STATES:
        conn = make()
        for data in (mutation, random_bytes):
            conn.max_tsdu = 200
            try:
                for chunk in thirds(data):
                    for event in conn.receive_data(chunk):
                        if isinstance(event, TData):
                            assert len(event.tsdu) <= 200
            except ProtocolError:
                conn = make()

"""ISO 8327-1 / X.225 kernel + duplex: SPDU bytes, tolerance and strictness, the state table, fuzz,
and one capture of all three lower layers checked against tshark's dissectors.

"README" is the session table at the end of shared/asn1/README.md, whose codes match Wireshark's
packet-ses.h.
"""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.osi import cotp, session
from appliance.osi.errors import ProtocolError
from appliance.osi.session import (
    AA, AB, AC, CN, DN, DT, FN, GT, RF, SAbortIndication, SConnectConfirm, SConnectIndication, SData,
    SessionConnection, SRefuseIndication, SReleaseConfirm, SReleaseIndication, decode_spdus,
    encode_spdu, encode_spdus,
)
from tests import pcap
from tests.fuzzing import FUZZ_CASES
from tests.test_osi_tpkt import mutations

SSEL_I = b"\x00\x01"
SSEL_R = b"\x00\x02"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def initiator() -> SessionConnection:
    return SessionConnection(True, SSEL_I, SSEL_R)


def responder() -> SessionConnection:
    return SessionConnection(False, SSEL_R)


def connected(cn_data: bytes = b"CP", ac_data: bytes = b"CPA"):
    ini, resp = initiator(), responder()
    [ind] = resp.receive_tsdu(ini.connect(cn_data))
    assert ind == SConnectIndication(cn_data, SSEL_I, SSEL_R)
    [conf] = ini.receive_tsdu(resp.accept(ac_data))
    assert conf == SConnectConfirm(ac_data, SSEL_R)
    return ini, resp


# --- known bytes ------------------------------------------------------------------------------------


def test_cn_known_bytes():
    """README CN: PGI 5 (PI 19, PI 22 = both versions), PI 20 duplex, PI 51, PI 52, PGI 193."""
    wire = initiator().connect(b"\xaa")
    assert wire == h("0d 17 05 06 13 01 00 16 01 03 14 02 00 02 33 02 0001 34 02 0002 c1 01 aa")
    assert decode_spdus(wire) == [CN(b"\xaa", SSEL_I, SSEL_R)]


def test_ac_known_bytes():
    """README AC: the selected version (2), the calling SSEL echoed, the responding SSEL."""
    resp = responder()
    resp.receive_tsdu(initiator().connect(b"\xaa"))
    wire = resp.accept(b"\xbb")
    assert wire == h("0e 17 05 06 13 01 00 16 01 02 14 02 00 02 33 02 0001 34 02 0002 c1 01 bb")
    assert resp.version == session.VERSION_2


def test_cn_extended_user_data_uses_version_2_and_long_li():
    """README: LI 0xFF + 2 octets; PGI 194 (v2 only) for 513..10240 octets."""
    wire = SessionConnection(True).connect(bytes(600))
    assert wire[:4] == h("0d ff 0268")
    assert wire[4:20] == h("05 06 13 01 00 16 01 02 14 02 00 02 c2 ff 0258")
    assert decode_spdus(wire) == [CN(bytes(600), version=session.VERSION_2)]


@pytest.mark.parametrize("size, pgi", [(512, 193), (513, 194), (10240, 194)])
def test_cn_user_data_parameter_by_size(size, pgi):
    cn = decode_spdus(SessionConnection(True).connect(bytes(size)))[0]
    assert cn.user_data == bytes(size)
    assert (cn.version == session.VERSION_2) == (pgi == 194)


def test_cn_user_data_over_10240_is_refused_locally():
    with pytest.raises(ValueError):
        SessionConnection(True).connect(bytes(10241))


def test_dt_is_gt_dt_then_user_information():
    """README DT: category 0 GT then DT, both without parameters: 01 00 01 00 + user data."""
    ini, resp = connected()
    assert ini.send(b"PDATA") == b"\x01\x00\x01\x00PDATA"
    assert decode_spdus(b"\x01\x00\x01\x00PDATA") == [GT(), DT(b"PDATA")]


def test_release_known_bytes():
    """README FN: PI 17 bit 1 = release the transport; DN: PGI 193 only."""
    ini, resp = connected()
    assert ini.release(b"\xdd") == h("09 06 11 01 01 c1 01 dd")
    resp.receive_tsdu(h("09 06 11 01 01 c1 01 dd"))
    assert resp.release_response(b"\xee") == h("0a 03 c1 01 ee")


def test_refuse_known_bytes():
    """README RF: PI 17, PI 22, PI 50 = reason 2 followed by the user data."""
    resp = responder()
    resp.receive_tsdu(initiator().connect())
    assert resp.refuse(session.RF_REJECTED, b"\xcc") == h("0c 0a 11 01 01 16 01 02 32 02 02 cc")


def test_abort_known_bytes():
    """README AB: PI 17 = transport released | user abort."""
    ini, _ = connected()
    assert ini.abort() == h("19 03 11 01 03")
    assert encode_spdu(AA()) == h("1a 00")


# --- tolerant and strict decoding --------------------------------------------------------------------


def test_parameters_in_any_order_unknown_skipped_pgi1_kept():
    """PGI 1 connection identifier accepted; PI 19/22 outside PGI 5 and an unknown PI 99."""
    pgi1 = h("0a 02 4142 0b 03 313233")
    wire = (
        h("0d")
        + bytes((4 + 2 + 3 + 3 + 3 + 4 + 2 + len(pgi1) + 4,))
        + h("c1 02 5858")  # user data first
        + h("63 00")  # unknown PI 99
        + h("16 01 02")
        + h("13 01 00")
        + h("34 01 07")
        + h("14 02 0002")
        + h("01")
        + bytes((len(pgi1),))
        + pgi1
        + h("33 02 0102")
    )
    [cn] = decode_spdus(wire)
    assert cn == CN(b"XX", b"\x01\x02", b"\x07", session.VERSION_2, 0, 0x0002, connection_id=pgi1)


def test_three_octet_li_accepted_for_short_lengths():
    assert decode_spdus(h("0a ff 0003 c1 01 ee")) == [DN(b"\xee")]
    assert decode_spdus(h("0a 05 c1 ff 0001 ee")) == [DN(b"\xee")]


def test_cn_without_version_means_version_1():
    """X.225: Version Number absent = version 1."""
    assert decode_spdus(h("0d 03 c1 01 aa"))[0].version == session.VERSION_1


def test_rf_user_data_with_any_reason():
    assert decode_spdus(h("0c 04 32 02 81 aa")) == [RF(129, b"\xaa", None)]


@pytest.mark.parametrize(
    "wire, match",
    [
        ("", "empty TSDU"),
        ("0d", "length indicator missing"),
        ("0d ff 00", "truncated 3-octet length indicator"),
        ("0a 05 c1 01 ee", "SPDU 10 of 5 octets overruns"),
        ("0a 03 c1 02 ee", "parameter 193 of 2 octets overruns"),
        ("0d 05 05 03 16 02 02", "parameter 22 of 2 octets overruns"),  # PI beyond its PGI 5
        ("0d 08 01 06 0a 07 414243 00", "parameter 10 of 7 octets overruns"),  # PI beyond PGI 1
        ("0a 03 c1 01 ee ff", "1 octets after SPDU 10"),
        ("0a 03 c1 01 ee 0a 00", "2 octets after SPDU 10"),  # extended concatenation not offered
        ("0d 04 14 01 0002", "parameter 20 has 1 octets"),
        ("0d 04 16 02 0202", "parameter 22 has 2 octets"),
        ("19 04 11 02 0303", "parameter 17 has 2 octets"),
        ("0d 13 33 11 000102030405060708090a0b0c0d0e0f10", "session selector of 17 octets"),
        ("0c 03 11 01 01", "RF without a reason code"),
        ("0c 05 11 01 01 32 00", "RF without a reason code"),
        ("0d 09 16 01 02 c1 01 aa c2 01 bb", "both User Data and Extended User Data"),
        ("0d 06 16 01 01 c2 01 bb", "does not propose version 2"),
        ("02 00 01 00 aa", "SPDU type 2 is outside"),  # PLEASE TOKENS
        ("05 00", "SPDU type 5 is outside"),  # EXPEDITED
        ("08 00", "SPDU type 8 is outside"),  # NOT FINISHED needs negotiated release
        ("01 00 0a 00", "SPDU 10 after GT is not a DT"),
        ("01 00 01 05 19 01", "DT parameters of 5 octets overrun"),
        ("01 01 10", "length indicator missing"),  # GT parameter cut
    ],
)
def test_decode_rejects(wire, match):
    with pytest.raises(ProtocolError, match=match) as err:
        decode_spdus(h(wire))
    assert err.value.layer == "session"


def test_cn_user_data_limits_on_decode():
    ok = encode_spdu(CN(bytes(512)))
    assert decode_spdus(ok)[0].user_data == bytes(512)
    too_long = h("0d ff 0205 c1 ff 0201") + bytes(513)
    with pytest.raises(ProtocolError, match="CN User Data of 513 octets"):
        decode_spdus(too_long)
    assert len(decode_spdus(h("0d ff 2807 16 01 02 c2 ff 2800") + bytes(10240))[0].user_data) == 10240
    with pytest.raises(ProtocolError, match="CN Extended User Data of 10241 octets"):
        decode_spdus(h("0d ff 2808 16 01 02 c2 ff 2801") + bytes(10241))


# --- round trips ---------------------------------------------------------------------------------------

octet = st.integers(0, 255)
opt_octet = st.none() | octet
opt_u16 = st.none() | st.integers(0, 0xFFFF)
ssels = st.binary(max_size=16)
# PGI 1 holds PIs 9-12 (references); the decoder checks that they fit, so generate real ones.
connection_ids = st.lists(st.tuples(st.integers(9, 12), st.binary(max_size=64)), max_size=3).map(
    lambda items: b"".join(bytes((c, len(v))) + v for c, v in items)
)
tsdu_max = st.none() | st.integers(0, 2**32 - 1)
user_data = st.binary(max_size=700)


@st.composite
def cns(draw):
    version = draw(octet)
    limit = session.CN_EXTENDED_USER_DATA_MAX if version & session.VERSION_2 else session.CN_USER_DATA_MAX
    return CN(
        draw(st.binary(max_size=min(limit, 1200))), draw(ssels), draw(ssels), version, draw(octet),
        draw(opt_u16), draw(tsdu_max), draw(connection_ids), draw(opt_octet),
    )  # fmt: skip


spdus = st.one_of(
    cns(),
    st.builds(AC, user_data, ssels, ssels, octet, octet, opt_u16, tsdu_max, connection_ids),
    st.builds(RF, octet, user_data, opt_octet, opt_u16, opt_octet, connection_ids),
    st.builds(FN, user_data, opt_octet),
    st.builds(DN, user_data),
    st.builds(AB, user_data, opt_octet),
    st.just(AA()),
)


@given(spdus)
def test_round_trip_category_1(spdu):
    assert decode_spdus(encode_spdu(spdu)) == [spdu]


@given(st.binary(max_size=3000), opt_octet)
def test_round_trip_gt_dt(data, enclosure):
    spdus_ = [GT(), DT(data, enclosure)]
    assert decode_spdus(encode_spdus(spdus_)) == spdus_


def test_lone_gt_decodes():
    assert decode_spdus(encode_spdu(GT())) == [GT()]


# --- the state machine ------------------------------------------------------------------------------


def test_full_life_cycle_fn_answered_by_dn():
    ini, resp = connected()
    assert resp.receive_tsdu(ini.send(b"req")) == [SData(b"req")]
    assert ini.receive_tsdu(resp.send(b"rsp")) == [SData(b"rsp")]
    assert resp.receive_tsdu(ini.release(b"RLRQ")) == [SReleaseIndication(b"RLRQ")]
    # Duplex: the side that received FN may still send before answering.
    assert ini.receive_tsdu(resp.send(b"late")) == [SData(b"late")]
    assert ini.receive_tsdu(resp.release_response(b"RLRE")) == [SReleaseConfirm(b"RLRE")]
    assert ini.state == resp.state == session.CLOSED


def test_refused_connection():
    ini, resp = initiator(), responder()
    resp.receive_tsdu(ini.connect(b"CP"))
    assert ini.receive_tsdu(resp.refuse(session.RF_REJECTED, b"CPR")) == [SRefuseIndication(2, b"CPR")]
    assert ini.state == resp.state == session.CLOSED
    with pytest.raises(ProtocolError, match="send not allowed"):
        ini.send(b"x")


def test_refuse_without_user_data_keeps_the_reason():
    resp = responder()
    resp.receive_tsdu(initiator().connect())
    assert decode_spdus(resp.refuse(session.RF_SSEL_UNKNOWN)) == [RF(129, b"", session.TD_RELEASE, version=2)]


def test_refuse_reason_that_cannot_carry_data():
    resp = responder()
    resp.receive_tsdu(initiator().connect())
    with pytest.raises(ValueError):
        resp.refuse(session.RF_SSEL_UNKNOWN, b"CPR")


def test_dt_before_ac_is_a_protocol_error():
    ini = initiator()
    ini.connect(b"CP")
    with pytest.raises(ProtocolError, match="DT not allowed for the initiator in wait-ac"):
        ini.receive_tsdu(b"\x01\x00\x01\x00data")


def test_abort_in_data_transfer():
    ini, resp = connected()
    assert resp.receive_tsdu(ini.abort(b"ARU")) == [SAbortIndication(b"ARU", 0x03)]
    assert resp.state == session.CLOSED


def test_after_our_abort_everything_is_discarded():
    """X.225 STA16: SPDUs in flight after AB, and the AA, are consumed silently."""
    ini, resp = connected()
    ini.abort()
    for tsdu in (resp.send(b"in flight"), encode_spdu(AA()), encode_spdu(AB()), encode_spdu(FN())):
        assert ini.receive_tsdu(tsdu) == []


def test_aa_after_peer_abort_is_ignored():
    ini, resp = connected()
    resp.receive_tsdu(ini.abort())
    assert resp.receive_tsdu(encode_spdu(AA())) == []


def test_release_collision():
    ini, resp = connected()
    fn_i, fn_r = ini.release(), resp.release()
    assert ini.receive_tsdu(fn_r) == [SReleaseIndication(b"")]
    assert resp.receive_tsdu(fn_i) == [SReleaseIndication(b"")]
    dn_i, dn_r = ini.release_response(), resp.release_response()
    assert ini.receive_tsdu(dn_r) == [SReleaseConfirm(b"")]
    assert resp.receive_tsdu(dn_i) == [SReleaseConfirm(b"")]
    assert ini.state == resp.state == session.CLOSED


def test_version_1_peer():
    resp = responder()
    [ind] = resp.receive_tsdu(encode_spdu(CN(b"CP", version=session.VERSION_1)))
    assert resp.version == session.VERSION_1
    with pytest.raises(ValueError):
        resp.accept(bytes(513))
    assert decode_spdus(resp.accept(b"CPA"))[0].version == session.VERSION_1


def test_version_1_abort_drops_long_user_data():
    resp = responder()
    resp.receive_tsdu(encode_spdu(CN(version=session.VERSION_1)))
    resp.accept()
    assert decode_spdus(resp.abort(bytes(10))) == [AB()]


def test_no_common_version():
    with pytest.raises(ProtocolError, match="no common protocol version"):
        responder().receive_tsdu(encode_spdu(CN(version=0x04)))


def test_ac_must_select_a_proposed_version():
    ini = SessionConnection(True)
    ini.connect(bytes(600))  # proposes version 2 only
    with pytest.raises(ProtocolError, match="not one proposed"):
        ini.receive_tsdu(encode_spdu(AC(version=session.VERSION_1)))


def test_data_overflow_is_not_supported():
    with pytest.raises(ProtocolError, match="Data Overflow"):
        responder().receive_tsdu(encode_spdu(CN(data_overflow=1)))


def test_segmented_dt_is_refused():
    """Segmenting needs a negotiated TSDU maximum size (PI 21), which this end never offers."""
    ini, resp = connected()
    assert resp.receive_tsdu(encode_spdus([GT(), DT(b"x", 0x03)])) == [SData(b"x")]
    with pytest.raises(ProtocolError, match="segmented SSDU"):
        resp.receive_tsdu(encode_spdus([GT(), DT(b"x", 0x01)]))


def open_pair_initiator():
    return connected()[0]


def open_pair_responder():
    return connected()[1]


def wait_ac():
    ini = initiator()
    ini.connect(b"CP")
    return ini


def wait_connect_response():
    resp = responder()
    resp.receive_tsdu(initiator().connect(b"CP"))
    return resp


def wait_dn():
    ini, _ = connected()
    ini.release()
    return ini


def wait_release_response():
    ini, resp = connected()
    resp.receive_tsdu(ini.release())
    return resp


def collision():
    ini, resp = connected()
    ini.release()
    ini.receive_tsdu(resp.release())
    return ini


def aborted():
    ini, _ = connected()
    ini.abort()
    return ini


def closed():
    ini, resp = connected()
    resp.receive_tsdu(ini.abort())
    return resp


STATE_MAKERS = {
    session.IDLE: initiator,
    session.LISTEN: responder,
    session.WAIT_AC: wait_ac,
    session.WAIT_CONNECT_RESPONSE: wait_connect_response,
    session.OPEN: open_pair_responder,
    session.WAIT_DN: wait_dn,
    session.WAIT_RELEASE_RESPONSE: wait_release_response,
    session.COLLISION: collision,
    session.ABORTED: aborted,
    session.CLOSED: closed,
}
SAMPLE_TSDUS = {
    CN: encode_spdu(CN(b"CP")),
    AC: encode_spdu(AC(b"CPA", version=session.VERSION_2)),
    RF: encode_spdu(RF(2, b"CPR")),
    FN: encode_spdu(FN(b"RLRQ")),
    DN: encode_spdu(DN(b"RLRE")),
    AB: encode_spdu(AB(b"ARU")),
    AA: encode_spdu(AA()),
    GT: encode_spdu(GT()),
    DT: session.DATA_HEADER + b"PDATA",
}


@pytest.mark.parametrize("state", list(STATE_MAKERS))
@pytest.mark.parametrize("kind", list(SAMPLE_TSDUS), ids=lambda k: k.__name__)
def test_state_table(state, kind):
    """Every (state, SPDU) pair: the table's next state and event, or ProtocolError if absent."""
    conn = STATE_MAKERS[state]()
    assert conn.state == state
    row = session._RECEIVE.get((state, kind))
    if row is None:
        with pytest.raises(ProtocolError, match=f"{kind.__name__} not allowed"):
            conn.receive_tsdu(SAMPLE_TSDUS[kind])
        return
    events = conn.receive_tsdu(SAMPLE_TSDUS[kind])
    assert conn.state == row[0]
    assert len(events) == (row[1] is not None)


PRIMITIVES = {
    "connect": lambda c: c.connect(b"CP"),
    "accept": lambda c: c.accept(b"CPA"),
    "refuse": lambda c: c.refuse(0),
    "send": lambda c: c.send(b"PDATA"),
    "release": lambda c: c.release(b"RLRQ"),
    "release_response": lambda c: c.release_response(b"RLRE"),
    "abort": lambda c: c.abort(b"ARU"),
}


@pytest.mark.parametrize("state", list(STATE_MAKERS))
@pytest.mark.parametrize("primitive", list(PRIMITIVES))
def test_primitive_table(state, primitive):
    conn = STATE_MAKERS[state]()
    next_state = session._SEND.get((state, primitive))
    if next_state is None:
        with pytest.raises(ProtocolError, match=f"{primitive} not allowed"):
            PRIMITIVES[primitive](conn)
    else:
        assert isinstance(PRIMITIVES[primitive](conn), bytes)
        assert conn.state == next_state


# --- fuzz ---------------------------------------------------------------------------------------------

VALID_TSDUS = [
    *SAMPLE_TSDUS.values(),
    encode_spdu(CN(bytes(600), SSEL_I, SSEL_R, version=session.VERSION_2, connection_id=h("0a 02 4142"))),
    encode_spdu(CN(b"CP", SSEL_I, SSEL_R, version=session.VERSION_1, tsdu_max=0x01000100)),
    encode_spdu(AC(b"CPA", SSEL_I, SSEL_R, version=session.VERSION_1)),
    encode_spdu(RF(129, b"", 1, 2, 2, h("0b 01 41"))),
    encode_spdus([GT(), DT(b"PDATA", 0x03)]),
]
random_tsdus = st.one_of(
    st.binary(max_size=120),
    # A known SI and a consistent LI, to get past the SPDU header.
    st.tuples(st.sampled_from([1, 9, 10, 12, 13, 14, 25, 26]), st.binary(max_size=80)).map(
        lambda t: bytes((t[0], len(t[1]))) + t[1]
    ),
)
mutated_tsdus = mutations(VALID_TSDUS)
PROTOTYPES = [make() for make in STATE_MAKERS.values()]

# Each fuzz case draws one random and one mutated input, so both kinds get FUZZ_CASES runs.


@settings(max_examples=FUZZ_CASES)
@given(random_tsdus, mutated_tsdus)
def test_fuzz_decode_spdus(random_bytes, mutation):
    for data in (random_bytes, mutation):
        try:
            decode_spdus(data)
        except ProtocolError:
            pass


@settings(max_examples=FUZZ_CASES)
@given(mutated_tsdus, random_tsdus)
def test_fuzz_receive_tsdu(mutation, random_bytes):
    """Every state gets both inputs: the mutated TSDU first, then the random one on the same
    connection when that survived (reaching the states the mutation led to), else on a fresh one.
    A connection holds only immutable values, so a shallow copy of a prototype is a fresh one."""
    for prototype in PROTOTYPES:
        conn = copy.copy(prototype)
        for tsdu in (mutation, random_bytes):
            try:
                conn.receive_tsdu(tsdu)
            except ProtocolError:
                conn = copy.copy(prototype)


# --- Wireshark ----------------------------------------------------------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = bytes((n,)) if n < 128 else b"\x81" + bytes((n,)) if n < 256 else b"\x82" + n.to_bytes(2, "big")
    return bytes((tag,)) + length + content


def _pdv(ctx: int, apdu: bytes) -> bytes:
    """Presentation fully-encoded User-data with one single-ASN1-type PDV."""
    return _tlv(0x61, _tlv(0x30, _tlv(0x02, bytes((ctx,))) + _tlv(0xA0, apdu)))


def _cp(padding: bytes) -> bytes:
    """A CP-type PPDU proposing ACSE (id 1) and CMIP (id 3), carrying an AARQ padded with
    implementation-information."""
    aarq = _tlv(0x60, _tlv(0xA1, _tlv(0x06, h("59000002"))) + _tlv(0x9D, padding))
    contexts = b"".join(
        _tlv(0x30, _tlv(0x02, bytes((ctx,))) + _tlv(0x06, oid) + _tlv(0x30, _tlv(0x06, h("5101"))))
        for ctx, oid in ((1, h("52010001")), (3, h("59000002")))
    )
    normal = _tlv(0x80, h("0780")) + _tlv(0xA4, contexts) + _pdv(1, aarq)
    return _tlv(0x31, _tlv(0xA0, _tlv(0x80, b"\x01")) + _tlv(0xA2, normal))


CPA = _tlv(0x31, _tlv(0xA0, _tlv(0x80, b"\x01")))
CPR = _tlv(0x30, _tlv(0x8A, b"\x01"))  # normal mode, provider reason: temporary congestion
ROSE_REJECT = _pdv(3, _tlv(0xA4, h("020101 800100")))  # invoke id 1, general problem 0
RLRQ = _pdv(1, h("6203 800100"))
RLRE = _pdv(1, h("6303 800100"))
ARU = _tlv(0xA0, _pdv(1, h("6403 800100")))


class _Link:
    """Both ends of one association, every TPKT also recorded as a TCP segment for tshark."""

    def __init__(self, client_port: int, tpdu_size: int):
        self.conv = pcap.TcpConversation(client=("10.0.0.1", client_port))
        self.t = {True: cotp.TransportConnection(True, b"\x00\x01", b"\x00\x02", tpdu_size, local_ref=7),
                  False: cotp.TransportConnection(False, b"\x00\x02", local_ref=9)}  # fmt: skip
        self.s = {True: initiator(), False: responder()}
        for from_client, make in ((True, self.t[True].connect), (False, self.t[False].accept)):
            wire = make()
            self.conv.send(from_client, wire)
            self.t[not from_client].receive_data(wire)

    def __call__(self, from_client: bool, tsdu: bytes) -> list:
        wire = self.t[from_client].send(tsdu)
        self.conv.send(from_client, wire)
        [event] = self.t[not from_client].receive_data(wire)
        return self.s[not from_client].receive_tsdu(event.tsdu)


@pytest.mark.interop
def test_tshark_decodes_all_three_layers(tmp_path):
    """CN with Extended User Data in 128-octet DTs, AC, GT+DT both ways, FN/DN; then CN+RF and
    CN+AB on two more connections: tshark must decode every layer without an expert warning."""
    cp = _cp(b"x" * 700)
    main = _Link(40102, 128)
    assert main(True, main.s[True].connect(cp)) == [SConnectIndication(cp, SSEL_I, SSEL_R)]
    assert main(False, main.s[False].accept(CPA)) == [SConnectConfirm(CPA, SSEL_R)]
    assert main(True, main.s[True].send(ROSE_REJECT)) == [SData(ROSE_REJECT)]
    assert main(False, main.s[False].send(ROSE_REJECT)) == [SData(ROSE_REJECT)]
    assert main(True, main.s[True].release(RLRQ)) == [SReleaseIndication(RLRQ)]
    assert main(False, main.s[False].release_response(RLRE)) == [SReleaseConfirm(RLRE)]

    refused = _Link(40103, 2048)
    refused(True, refused.s[True].connect(_cp(b"y")))
    assert refused(False, refused.s[False].refuse(session.RF_REJECTED, CPR)) == [SRefuseIndication(2, CPR)]

    aborted = _Link(40104, 2048)
    aborted(True, aborted.s[True].connect(_cp(b"z")))
    assert aborted(True, aborted.s[True].abort(ARU)) == [SAbortIndication(ARU, 0x03)]

    frames = main.conv.frames + refused.conv.frames + aborted.conv.frames
    text = pcap.tshark_verbose(pcap.write_pcap(tmp_path / "osi.pcap", frames))
    assert pcap.tshark_problems(text) == []
    for expected in (
        "Parameter code: tpdu-size (0xc0)",
        "Parameter code: src-tsap (0xc1)",
        "SPDU Type: CONNECT (CN) SPDU (13)",
        "Parameter type: Session extended user data (194)",
        "Protocol Version 2: True",
        "Duplex functional unit: True",
        "Calling Session Selector: 0001",
        "Called Session Selector: 0002",
        "SPDU Type: ACCEPT (AC) SPDU (14)",
        "SPDU Type: Give tokens PDU (1)",
        "SPDU Type: DATA TRANSFER (DT) SPDU (1)",
        "SPDU Type: FINISH (FN) SPDU (9)",
        "SPDU Type: DISCONNECT (DN) SPDU (10)",
        "SPDU Type: REFUSE (RF) SPDU (12)",
        "Reason Code: Rejection by called SS-user. (2)",
        "SPDU Type: ABORT (AB) SPDU (25)",
        "User abort: Yes",
        "CP-type",
        "CPR-PPDU",
        "aarq",
        "rlrq",
        "rlre",
        "abrt",
        "X711 CMIP",
    ):
        assert expected in text, expected

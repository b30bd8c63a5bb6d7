"""ISO 8823 presentation (normal mode, kernel): PPDU bytes, context negotiation and refusal, the
hand-written data-phase codec cross-checked against pyasn1, its speed, fuzz, and tshark's decode.
"""
from __future__ import annotations

import copy
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder

from appliance.osi import acse, ber
from appliance.osi.errors import ProtocolError
from appliance.osi.presentation import (
    ARPPPDU,
    CPType,
    ContextListItem,
    PAbortIndication,
    PConnectConfirm,
    PConnectIndication,
    PData,
    PDVList,
    PRefused,
    PresentationConnection,
    PresentationRefused,
    UserData,
    decode_user_data,
    encode_user_data,
)
from tests import pcap
from tests.fuzzing import FUZZ_CASES, mutated

PSEL_I = b"\x00\x00\x00\x01"
PSEL_R = b"\x00\x00\x00\x02"
AARQ = bytes.fromhex("6009a10706052900000002")  # minimal AARQ, application context 1.1.0.0.0.2
AARE = bytes.fromhex("6115a10706052900000002a203020100a305a103020100")
ABRT = bytes.fromhex("6403800100")
ROIV = bytes.fromhex("a10b020101020107300380010f")


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def handshake(aarq: bytes = AARQ, aare: bytes = AARE):
    """(initiator, responder, CP, CPA) after a successful connection."""
    ini = PresentationConnection(True, PSEL_I, PSEL_R)
    resp = PresentationConnection(False, PSEL_R)
    cp = ini.connect(aarq)
    assert resp.on_connect(cp) == PConnectIndication(PSEL_I, PSEL_R, aarq)
    cpa = resp.accept(aare)
    assert ini.on_accept(cpa) == PConnectConfirm(aare, PSEL_R)
    return ini, resp, cp, cpa


def connected(aarq: bytes = AARQ, aare: bytes = AARE):
    ini, resp, _, _ = handshake(aarq, aare)
    return ini, resp


def foreign_cp(contexts, version_bits=(1,), ud_ctx: int = 1, with_user_data: bool = True) -> bytes:
    """A CP from some other initiator: contexts is [(id, abstract syntax, [transfer syntaxes])]."""
    cp = CPType()
    cp["mode-selector"]["mode-value"] = 1
    params = cp["normal-mode-parameters"]
    if version_bits is not None:
        params["protocol-version"] = version_bits
    for ctx_id, syntax, transfer in contexts:
        item = ContextListItem()
        item["presentation-context-identifier"] = ctx_id
        item["abstract-syntax-name"] = syntax
        for ts in transfer:
            item["transfer-syntax-name-list"].append(ts)
        params["presentation-context-definition-list"].append(item)
    if with_user_data:
        params["user-data"] = decoder.decode(encode_user_data(ud_ctx, AARQ), asn1Spec=UserData())[0]
    return encoder.encode(cp)


# --- known bytes ------------------------------------------------------------------------------------


def test_cp_known_bytes():
    cp = PresentationConnection(True, PSEL_I, PSEL_R).connect(AARQ)
    assert cp == h(
        "31 4f a0 03 80 01 01"                      # CP-type SET, mode-selector {normal-mode}
        "a2 48 80 02 07 80"                         # normal-mode-parameters, protocol-version {version-1}
        "81 04 00000001 82 04 00000002"             # calling / called presentation selector
        "a4 22 30 0f 02 01 01 06 04 52 01 00 01 30 04 06 02 51 01"   # ctx 1: ACSE, BER
        "30 0f 02 01 03 06 04 59 00 00 02 30 04 06 02 51 01"         # ctx 3: CMIP, BER
        "61 12 30 10 02 01 01 a0 0b" + AARQ.hex()   # fully-encoded user data, ctx 1
    )


def test_cpa_known_bytes():
    resp = PresentationConnection(False, PSEL_R)
    resp.on_connect(PresentationConnection(True, PSEL_I, PSEL_R).connect(AARQ))
    assert resp.accept(AARE) == h(
        "31 45 a0 03 80 01 01 a2 3e 80 02 07 80 83 04 00000002"
        "a5 12 30 07 80 01 00 81 02 51 01 30 07 80 01 00 81 02 51 01"  # both accepted, BER
        "61 1e 30 1c 02 01 01 a0 17" + AARE.hex()
    )


def test_data_known_bytes_and_back():
    ini, resp = connected()
    wire = ini.data(3, ROIV)
    assert wire == h("61 14 30 12 02 01 03 a0 0d") + ROIV
    assert resp.on_data(wire) == [PData(3, ROIV)]
    assert ini.on_data(resp.data(1, ABRT)) == [PData(1, ABRT)]


def test_aru_known_bytes_and_back():
    ini, resp = connected()
    wire = ini.abort(ABRT)
    assert wire == h("a0 0e 61 0c 30 0a 02 01 01 a0 05") + ABRT
    assert resp.on_abort(wire) == PAbortIndication(ABRT, None)
    assert resp.state == "closed"


def test_arp_and_bare_abort():
    arp = ARPPPDU()
    arp["provider-reason"] = 2
    arp["event-identifier"] = 7
    _, resp = connected()
    assert resp.on_abort(encoder.encode(arp)) == PAbortIndication(None, 2, 7)
    _, resp = connected()
    assert resp.on_abort(h("30 00")) == PAbortIndication(None, 0, None)
    _, resp = connected()
    assert resp.on_abort(b"") == PAbortIndication(None, None)


# --- negotiation ----------------------------------------------------------------------------------


def test_responder_accepts_the_initiators_ids_and_rejects_the_rest():
    resp = PresentationConnection(False)
    cp = foreign_cp(
        [(5, "2.2.1.0.1", ["2.1.1"]), (7, "2.9.1.1.4", ["1.2.3", "2.1.1"]), (9, "1.2.840.1", ["2.1.1"]),
         (11, "2.9.0.0.2", ["2.1.1"])],
        ud_ctx=5,
    )
    assert resp.on_connect(cp).acse_apdu == AARQ
    assert (resp.acse_ctx, resp.cmip_ctx) == (5, 7)
    assert resp.contexts == {5: "2.2.1.0.1", 7: "2.9.1.1.4"}
    cpa = resp.accept(AARE)
    # results in proposal order: accept, accept, abstract syntax not supported, duplicate CMIP
    assert h("a5 22 30 07 80 01 00 81 02 51 01 30 07 80 01 00 81 02 51 01 30 06 80 01 02 82 01 01"
             "30 06 80 01 02 82 01 03") in cpa
    assert resp.on_data(encode_user_data(7, ROIV)) == [PData(7, ROIV)]
    with pytest.raises(ProtocolError):
        resp.on_data(encode_user_data(9, ROIV))
    with pytest.raises(ProtocolError):
        resp.on_data(encode_user_data(3, ROIV))


@pytest.mark.parametrize(
    "contexts, reason",
    [
        ([(1, "2.2.1.0.1", ["2.1.1"])], 0),                                    # no CMIP context
        ([(3, "2.9.0.0.2", ["2.1.1"])], 6),                                    # no ACSE context
        ([(1, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.2.2"])], 0),       # CMIP without BER
        ([], 6),
    ],
)
def test_unacceptable_cp_is_refused(contexts, reason):
    resp = PresentationConnection(False, PSEL_R)
    with pytest.raises(PresentationRefused) as info:
        resp.on_connect(foreign_cp(contexts))
    assert isinstance(info.value, ProtocolError) and info.value.provider_reason == reason
    assert resp.state == "closed"
    ini = PresentationConnection(True)
    ini.connect(AARQ)
    assert ini.on_refuse(info.value.cpr) == PRefused(reason, None)


def test_cp_without_version_1_is_refused():
    with pytest.raises(PresentationRefused) as info:
        PresentationConnection(False).on_connect(
            foreign_cp([(1, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.1.1"])], version_bits=(0, 1))
        )
    assert info.value.provider_reason == 4


def test_cp_with_absent_protocol_version_defaults_to_version_1():
    resp = PresentationConnection(False)
    resp.on_connect(foreign_cp([(1, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.1.1"])], version_bits=None))
    assert resp.state == "await-response"


@pytest.mark.parametrize(
    "cp",
    [
        foreign_cp([(1, "2.2.1.0.1", ["2.1.1"]), (1, "2.9.0.0.2", ["2.1.1"])]),   # duplicate id
        foreign_cp([(1, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.1.1"])], ud_ctx=3),  # AARQ not in ACSE ctx
        foreign_cp([(1, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.1.1"])], with_user_data=False),
        foreign_cp([(0, "2.2.1.0.1", ["2.1.1"]), (3, "2.9.0.0.2", ["2.1.1"])]),   # id out of range
    ],
)
def test_malformed_cp_is_a_protocol_error(cp):
    with pytest.raises(ProtocolError) as info:
        PresentationConnection(False).on_connect(cp)
    assert not isinstance(info.value, PresentationRefused)


def test_user_refusal_carries_the_aare():
    ini = PresentationConnection(True)
    resp = PresentationConnection(False, PSEL_R)
    resp.on_connect(ini.connect(AARQ))
    assert ini.on_refuse(resp.refuse(AARE)) == PRefused(None, AARE)
    assert ini.state == resp.state == "closed"


def test_provider_refusal_and_empty_refuse():
    ini = PresentationConnection(True)
    resp = PresentationConnection(False)
    resp.on_connect(ini.connect(AARQ))
    assert ini.on_refuse(resp.refuse_provider(3)) == PRefused(3, None)
    ini = PresentationConnection(True)
    ini.connect(AARQ)
    assert ini.on_refuse(b"") == PRefused(None, None)


def test_initiator_rejects_cpa_that_drops_a_context():
    ini = PresentationConnection(True)
    resp = PresentationConnection(False)
    resp.on_connect(ini.connect(AARQ))
    resp._results[1] = (2, 1)  # the responder turns CMIP down
    with pytest.raises(ProtocolError):
        ini.on_accept(resp.accept(AARE))
    assert ini.state == "closed"


def test_state_checks():
    ini = PresentationConnection(True)
    with pytest.raises(ProtocolError):
        ini.on_data(encode_user_data(1, ROIV))
    with pytest.raises(ProtocolError):
        ini.on_connect(b"")
    ini.connect(AARQ)
    with pytest.raises(ProtocolError):
        ini.connect(AARQ)
    with pytest.raises(ProtocolError):
        ini.data(1, ROIV)
    ini, _ = connected()
    with pytest.raises(ValueError):
        ini.data(5, ROIV)  # never negotiated
    with pytest.raises(ValueError):
        ini.abort(b"\x30\x05")  # not one BER value


def test_selectors():
    with pytest.raises(ValueError):
        PresentationConnection(True, b"x" * 17)
    ini = PresentationConnection(True, b"", b"y" * 16)
    resp = PresentationConnection(False)
    assert resp.on_connect(ini.connect(AARQ)) == PConnectIndication(b"", b"y" * 16, AARQ)
    cp = CPType()
    cp["mode-selector"]["mode-value"] = 1
    cp["normal-mode-parameters"]["calling-presentation-selector"] = b"z" * 17
    with pytest.raises(ProtocolError):
        PresentationConnection(False).on_connect(encoder.encode(cp))


# --- the data-phase codec ---------------------------------------------------------------------------


def test_decode_user_data_forms():
    # transfer-syntax-name present; two PDV-lists; octet-aligned with two APDUs; indefinite lengths
    assert decode_user_data(h("61 14 30 12 06 02 51 01 02 01 03 a0 09 a1 07 02 01 01 02 02 00 80")) == [
        PData(3, h("a1 07 02 01 01 02 02 00 80"))
    ]
    two = encode_user_data(1, ABRT)[2:] + encode_user_data(3, ROIV)[2:]
    assert decode_user_data(b"\x61" + ber.encode_length(len(two)) + two) == [PData(1, ABRT), PData(3, ROIV)]
    assert decode_user_data(h("61 0e 30 0c 02 01 03 81 07 30 00 02 01 05 04 00")) == [
        PData(3, h("30 00")), PData(3, h("02 01 05")), PData(3, h("04 00"))
    ]
    assert decode_user_data(h("61 80 30 80 02 01 03 a0 80 30 80 02 01 05 00 00 00 00 00 00 00 00")) == [
        PData(3, h("30 80 02 01 05 00 00"))
    ]


@pytest.mark.parametrize(
    "ud",
    [
        "40 02 30 00",                                  # simply-encoded-data
        "61 00",                                        # no PDV-list
        "61 05 30 03 02 01 03",                         # no presentation-data-values
        "61 09 30 07 02 01 03 a0 02 30 00 00",          # trailing octet inside
        "61 0b 30 09 02 01 03 a0 04 30 00 30 00",       # two values in single-ASN1-type
        "61 07 30 05 02 01 03 a0 00",                   # empty single-ASN1-type
        "61 09 30 07 02 01 03 82 02 00 ff",             # arbitrary (BIT STRING)
        "61 08 30 06 02 01 00 a0 01 05",                # context id 0, broken inner value
        "61 0a 30 08 02 01 03 a0 03 30 05 00",          # inner length overruns
        "61 08 30 06 02 01 03 a0 02 30 00 00",          # trailing octets after the PPDU
        "61 0c 30 0a 02 05 0100000000 a0 02 30 00",     # context id wider than 4 octets
        "61 80 30 80 02 01 03 a0 80 30 00 00 00 00 00", # missing end-of-contents
    ],
)
def test_decode_user_data_rejects(ud):
    with pytest.raises(ProtocolError):
        decode_user_data(h(ud))


def test_size_limits():
    big = b"\x04\x83\x10\x00\x00" + bytes(0x100000)
    wire = encode_user_data(3, big)
    assert decode_user_data(wire, max_apdu=len(big)) == [PData(3, big)]
    with pytest.raises(ProtocolError):
        decode_user_data(wire, max_apdu=len(big) - 1)
    ini, resp = connected()
    with pytest.raises(ProtocolError):
        resp.on_data(wire)  # 1 MiB + 5 octets is over the default limit
    with pytest.raises(ProtocolError):
        PresentationConnection(False).on_connect(b"\x31\x84\x00\x01\x00\x00" + bytes(0x10000))


primitive = st.builds(
    lambda tag, content: ber.tlv(bytes((tag,)), content),
    st.sampled_from([0x02, 0x04, 0x80, 0x9E]),
    st.binary(max_size=40),
)
# APDUs are well-formed BER all the way down: connection PPDUs are checked through the APDU.
tlvs = st.recursive(
    primitive,
    lambda inner: st.builds(
        lambda tag, parts: ber.tlv(bytes((tag,)), b"".join(parts)),
        st.sampled_from([0x30, 0x31, 0x60, 0x61, 0xA1, 0xA2, 0xBE]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)


@given(ctx_id=st.integers(1, 2**31 - 1), apdu=tlvs)
def test_fast_codec_matches_pyasn1(ctx_id, apdu):
    ud = UserData()
    pdv = PDVList()
    pdv["presentation-context-identifier"] = ctx_id
    pdv["presentation-data-values"]["single-ASN1-type"] = apdu
    ud["fully-encoded-data"].append(pdv)
    reference = encoder.encode(ud)
    assert encode_user_data(ctx_id, apdu) == reference
    assert decode_user_data(reference) == [PData(ctx_id, apdu)]
    decoded, rest = decoder.decode(encode_user_data(ctx_id, apdu), asn1Spec=UserData())
    item = decoded["fully-encoded-data"][0]
    assert not rest and int(item["presentation-context-identifier"]) == ctx_id
    assert bytes(item["presentation-data-values"]["single-ASN1-type"]) == apdu


selectors = st.binary(max_size=16)


@given(psel_i=selectors, psel_r=selectors, aarq=tlvs, aare=tlvs, apdus=st.lists(tlvs, max_size=4))
def test_connection_round_trip(psel_i, psel_r, aarq, aare, apdus):
    ini = PresentationConnection(True, psel_i, psel_r)
    resp = PresentationConnection(False, psel_r)
    assert resp.on_connect(ini.connect(aarq)) == PConnectIndication(psel_i, psel_r, aarq)
    assert ini.on_accept(resp.accept(aare)) == PConnectConfirm(aare, psel_r)
    for i, apdu in enumerate(apdus):
        ctx = (1, 3)[i % 2]
        assert resp.on_data(ini.data(ctx, apdu)) == [PData(ctx, apdu)]
        assert ini.on_data(resp.data(ctx, apdu)) == [PData(ctx, apdu)]


def test_data_phase_speed():
    """The LAYERS.md budget: well under 50 µs per User-data wrap and unwrap for a typical APDU."""
    ini, resp = connected()
    apdu = b"\xa1\x82\x01\x2c" + bytes(300)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        wire = ini.data(3, apdu)
    encode_us = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        resp.on_data(wire)
    decode_us = (time.perf_counter() - start) / n * 1e6
    assert encode_us < 50 and decode_us < 50, (encode_us, decode_us)


# --- fuzz -------------------------------------------------------------------------------------------


def _valid_ppdus() -> dict[str, list[bytes]]:
    ini = PresentationConnection(True, PSEL_I, PSEL_R)
    resp = PresentationConnection(False, PSEL_R)
    cp = ini.connect(AARQ)
    resp.on_connect(cp)
    refuser = PresentationConnection(False, PSEL_R)
    refuser.on_connect(cp)
    cpr = refuser.refuse(AARE)
    cpa = resp.accept(AARE)
    arp = ARPPPDU()
    arp["provider-reason"] = 1
    return {
        "connect": [cp, foreign_cp([(5, "2.2.1.0.1", ["2.1.1"]), (7, "2.9.1.1.4", ["2.1.1"])], ud_ctx=5)],
        "accept": [cpa],
        "refuse": [cpr],
        "data": [encode_user_data(3, ROIV), encode_user_data(1, ABRT),
                 h("61 0e 30 0c 02 01 03 81 07 30 00 02 01 05 04 00")],
        "abort": [ini.abort(ABRT), encoder.encode(arp)],
    }


VALID = _valid_ppdus()


def _templates() -> dict[str, PresentationConnection]:
    waiting = PresentationConnection(True)
    waiting.connect(AARQ)
    ini, _ = connected()
    return {"connect": PresentationConnection(False), "accept": waiting, "refuse": waiting, "data": ini, "abort": ini}


# A handshake per fuzz case would cost more than the case itself; copies of these are cheap.
TEMPLATES = _templates()


def _fresh(method: str) -> PresentationConnection:
    return copy.deepcopy(TEMPLATES[method])


def _feed_everywhere(data: bytes) -> None:
    """Every peer-bytes entry point of the layer, each on a connection in the state that accepts it."""
    for method in ("connect", "accept", "refuse", "data", "abort"):
        try:
            getattr(_fresh(method), f"on_{method}")(data)
        except ProtocolError:
            pass
    try:
        decode_user_data(data)
    except ProtocolError:
        pass


ALL_VALID = [ppdu for ppdus in VALID.values() for ppdu in ppdus]


# One input feeds every decoder: hypothesis' own cost per case (~1-3 ms) would otherwise dominate.
@settings(max_examples=FUZZ_CASES)
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(data):
    _feed_everywhere(data)


@settings(max_examples=FUZZ_CASES)
@given(data=st.sampled_from(ALL_VALID).flatmap(mutated))
def test_fuzz_mutated_ppdus(data):
    _feed_everywhere(data)


# --- tshark -----------------------------------------------------------------------------------------


@pytest.mark.interop
def test_tshark_decodes_presentation_and_acse(tmp_path):
    user_info = acse.build_cmip_user_info(bytes.fromhex("3006020101020100"))
    aarq = acse.build_aarq(acse.CMIP_APPLICATION_CONTEXT, user_info, "1.3.6.1.4.1.9999.1", 7)
    aare = acse.build_aare(acse.CMIP_APPLICATION_CONTEXT, user_info=user_info)
    ini, resp, cp, cpa = handshake(aarq, aare)
    conv = pcap.osi_conversation([
        (True, pcap.spdu_cn(cp)),
        (False, pcap.spdu_ac(cpa)),
        (True, pcap.spdu_dt(ini.data(3, ROIV))),
        (True, pcap.spdu_fn(ini.data(1, acse.build_rlrq(0, user_info)))),
        (False, pcap.spdu_dn(resp.data(1, acse.build_rlre(0, user_info)))),
    ])
    text = pcap.tshark_verbose(conv.write(tmp_path / "pres.pcap"))
    assert pcap.tshark_problems(text) == []
    for needle in ("CP-type", "CPA-PPDU", "id-as-acse", "presentation-context-identifier: 3 (cmip)", "aarq", "aare",
                   "rlrq", "rlre", "invoke", "version2: True"):
        assert needle in text, needle
    # a user abort on another connection: ARU carrying ABRT with CMIPAbortInfo
    ini, _, cp, cpa = handshake(aarq, aare)
    abrt = acse.build_abrt(0, acse.build_cmip_abort_info(0))
    conv = pcap.osi_conversation([
        (True, pcap.spdu_cn(cp)), (False, pcap.spdu_ac(cpa)), (True, pcap.spdu_ab(ini.abort(abrt))),
    ])
    text = pcap.tshark_verbose(conv.write(tmp_path / "abort.pcap"))
    assert pcap.tshark_problems(text) == []
    assert "abrt" in text and "abortSource: cmiseServiceUser (0)" in text

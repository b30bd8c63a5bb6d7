"""X.227 ACSE APDUs and X.711 CMIP association user information: known bytes, round trips,
tolerance of the forms peers may send, fuzz, and tshark's decode through presentation.
"""
from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import encoder
from pyasn1.type import univ

from appliance.osi import acse, ber
from appliance.osi.acse import (
    AARE,
    AARQ,
    ABRT,
    CMIPAbortInfoRecord,
    CMIPUserInfoRecord,
    ExternalItem,
    RLRE,
    RLRQ,
    build_aare,
    build_aarq,
    build_abrt,
    build_cmip_abort_info,
    build_cmip_user_info,
    build_rlre,
    build_rlrq,
    encode_acse,
    encode_cmip_user_info,
    parse_acse,
    parse_cmip_abort_info,
    parse_cmip_user_info,
    user_info_for,
)
from appliance.osi.errors import ProtocolError
from appliance.osi.presentation import PresentationConnection
from tests import pcap
from tests.fuzzing import FUZZ_CASES, mutated

ACCESS_CONTROL = bytes.fromhex("3006020101020100")  # stands in for an LnpAccessControl TLV
LNP_AC_OID_TLV = "06 07 60 86 48 01 04 01 01"  # 2.16.840.1.4.1.1


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# --- known bytes ------------------------------------------------------------------------------------


def test_cmip_user_info_known_bytes():
    """X.711 module has no tag default: [0]/[1] IMPLICIT as written, [2] EXTERNAL is EXPLICIT."""
    wire = build_cmip_user_info(ACCESS_CONTROL)
    assert wire == h(
        "30 1b 80 02 06 c0"                                 # protocolVersion {version1, version2}
        "a2 15 28 13" + LNP_AC_OID_TLV + "a0 08" + ACCESS_CONTROL.hex()  # [2] { EXTERNAL {oid, [0] value} }
    )
    assert parse_cmip_user_info(wire) == CMIPUserInfoRecord((1, 2), (), ACCESS_CONTROL, acse.LNP_ACCESS_CONTROL_OID)
    assert build_cmip_user_info(None, (1,), (0, 1, 4)) == h("30 08 80 02 07 80 81 02 03 c8")


def test_cmip_user_info_defaults_and_implicit_externals():
    assert parse_cmip_user_info(h("30 00")) == CMIPUserInfoRecord((1,), (), None, None)
    # the IMPLICIT reading of [2] EXTERNAL (what Wireshark's CMIP dissector expects) is accepted too
    implicit = h("30 19 80 02 06 c0 a2 13" + LNP_AC_OID_TLV + "a0 08" + ACCESS_CONTROL.hex())
    assert parse_cmip_user_info(implicit).access_control == ACCESS_CONTROL
    implicit_abort = h("30 0c 80 01 01 a1 07 02 01 03 a0 02 05 00")
    assert parse_cmip_abort_info(implicit_abort) == CMIPAbortInfoRecord(1, h("05 00"), None)


def test_cmip_abort_info_known_bytes():
    assert build_cmip_abort_info(0) == h("30 03 80 01 00")
    wire = build_cmip_abort_info(1, h("05 00"), "1.2.3")
    assert wire == h("30 0f 80 01 01 a1 0a 28 08 06 02 2a 03 a0 02 05 00")
    assert parse_cmip_abort_info(wire) == CMIPAbortInfoRecord(1, h("05 00"), "1.2.3")


def test_aarq_known_bytes():
    user_info = build_cmip_user_info(ACCESS_CONTROL)
    wire = build_aarq(acse.CMIP_APPLICATION_CONTEXT, user_info, "1.2.3.4", 7, called_ap_title="1.2.3.5",
                      called_ae_qualifier=9)
    assert wire == h(
        "60 4a 80 02 07 80"                          # [APPLICATION 0], protocol-version {version1}
        "a1 06 06 04 59 00 00 02"                    # [1] application-context-name 2.9.0.0.2 (EXPLICIT)
        "a2 05 06 03 2a 03 05 a3 03 02 01 09"        # called AP-title form2, AE-qualifier form2
        "a6 05 06 03 2a 03 04 a7 03 02 01 07"        # calling AP-title, AE-qualifier
        "be 24 28 22 02 01 03 a0 1d" + user_info.hex()  # [30] user-information: EXTERNAL, indirect-ref 3
    )
    assert parse_acse(wire) == AARQ(
        called_ap_title="1.2.3.5", called_ae_qualifier=9, calling_ap_title="1.2.3.4", calling_ae_qualifier=7,
        user_information=(ExternalItem(None, 3, user_info),),
    )


def test_aare_rlrq_rlre_abrt_known_bytes():
    assert build_aare() == h("61 18 80 02 07 80 a1 06 06 04 59 00 00 02 a2 03 02 01 00 a3 05 a1 03 02 01 00")
    rejected = build_aare(result=acse.REJECTED_PERMANENT, diagnostic=2, diagnostic_source=acse.DIAG_PROVIDER)
    assert rejected == h("61 18 80 02 07 80 a1 06 06 04 59 00 00 02 a2 03 02 01 01 a3 05 a2 03 02 01 02")
    assert parse_acse(rejected) == AARE(result=1, diagnostic_source=acse.DIAG_PROVIDER, diagnostic=2)
    assert build_rlrq() == h("62 03 80 01 00")
    assert build_rlre(None) == h("63 00")
    assert build_abrt(acse.SOURCE_PROVIDER, diagnostic=2) == h("64 06 80 01 01 81 01 02")
    assert parse_acse(h("62 03 80 01 01")) == RLRQ(1)
    assert parse_acse(h("63 00")) == RLRE(None)
    assert parse_acse(h("64 03 80 01 00")) == ABRT(0)


def test_parse_tolerates_peer_forms():
    # protocol-version absent (DEFAULT), indefinite lengths, form1 titles, octet-aligned EXTERNAL
    assert parse_acse(h("60 80 a1 80 06 04 59 00 00 02 00 00 00 00")) == AARQ()
    name = h("30 0d 31 0b 30 09 06 03 55 04 03 13 02 4e 50")  # CN=NP
    rdn = h("31 0b 30 09 06 03 55 04 03 13 02 4e 50")
    wire = build_aarq(calling_ap_title=name, calling_ae_qualifier=rdn)
    rec = parse_acse(wire)
    assert (rec.calling_ap_title, rec.calling_ae_qualifier) == (name, rdn)
    octets = h("60 14 a1 06 06 04 59 00 00 02 be 0a 28 08 02 01 03 81 03 02 01 05")
    assert parse_acse(octets).user_information == (ExternalItem(None, 3, h("02 01 05")),)


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "60 00",                                           # AARQ without application-context-name
        "65 00",                                           # [APPLICATION 5]
        "62 03 80 01 00 00",                               # trailing octet
        "62 0a be 08 28 06 02 01 03 82 01 00",             # EXTERNAL with arbitrary encoding
        "62 0d be 0b 28 09 02 01 03 a0 04 05 00 05 00",    # two values in single-ASN1-type
        "61 0b a1 06 06 04 59 00 00 02 a2 01 00",          # AARE without diagnostic, broken result
        "62 84 ff ff ff ff",                               # length beyond the data
    ],
)
def test_parse_rejects(wire):
    with pytest.raises(ProtocolError):
        parse_acse(h(wire))


def test_size_limit():
    big = build_rlrq(0, b"\x04\x83\x01\x00\x00" + bytes(0x10000))
    assert parse_acse(big, max_len=len(big)).reason == 0
    with pytest.raises(ProtocolError):
        parse_acse(big, max_len=len(big) - 1)
    with pytest.raises(ProtocolError):
        parse_cmip_user_info(build_cmip_user_info(b"\x04\x82\x10\x00" + bytes(0x1000)), max_len=100)


def test_builders_reject_bad_arguments():
    with pytest.raises(ValueError):
        build_aarq("not an oid")
    with pytest.raises(ValueError):
        build_aarq(calling_ap_title=b"\x30\x03\x02\x01")  # not one BER value
    with pytest.raises(ValueError):
        build_aarq(calling_ae_qualifier=b"\x02\x01\x01")  # not a RelativeDistinguishedName
    with pytest.raises(ValueError):
        build_aare(diagnostic_source="somebody")
    with pytest.raises(ValueError):
        build_rlrq(0, b"\x30")
    with pytest.raises(ValueError):
        build_cmip_user_info(versions=(0,))


def test_user_info_for():
    items = (ExternalItem("1.2", None, h("05 00")), ExternalItem(None, 3, h("30 00")))
    assert user_info_for(items, 3) == h("30 00")
    assert user_info_for(items, 5) == h("05 00")
    assert user_info_for((), 3) is None


# --- round trips ------------------------------------------------------------------------------------

arcs = st.integers(0, 2**32)
oids = st.one_of(
    st.builds(lambda a, b, rest: ".".join(map(str, (a, b, *rest))), st.integers(0, 1), st.integers(0, 39),
              st.lists(arcs, max_size=5)),
    st.builds(lambda b, rest: ".".join(map(str, (2, b, *rest))), st.integers(0, 1000), st.lists(arcs, max_size=5)),
)


def _tlv(tag: int, content: bytes) -> bytes:
    return ber.tlv(bytes((tag,)), content)


def _oid_tlv(oid: str) -> bytes:
    return encoder.encode(univ.ObjectIdentifier(oid))


atvs = st.builds(lambda oid, text: _tlv(0x30, _oid_tlv(oid) + _tlv(0x13, text)), oids, st.binary(max_size=8))
rdns = st.builds(lambda parts: _tlv(0x31, b"".join(parts)), st.lists(atvs, min_size=1, max_size=2))
names = st.builds(lambda parts: _tlv(0x30, b"".join(parts)), st.lists(rdns, max_size=3))
values = st.recursive(
    st.builds(_tlv, st.sampled_from([0x02, 0x04, 0x05, 0x13, 0x80]), st.binary(max_size=30)),
    lambda inner: st.builds(lambda tag, parts: _tlv(tag, b"".join(parts)), st.sampled_from([0x30, 0x31, 0xA0, 0xA5]),
                            st.lists(inner, max_size=3)),
    max_leaves=8,
)
ints = st.integers(-(2**40), 2**40)
user_information = st.lists(st.builds(ExternalItem, st.none() | oids, st.none() | ints, values), max_size=3).map(tuple)
bits = st.lists(st.integers(0, 20), max_size=4, unique=True).map(lambda b: tuple(sorted(b)))
versions = st.lists(st.integers(1, 9), min_size=1, max_size=3, unique=True).map(lambda v: tuple(sorted(v)))
auth_values = st.one_of(
    st.builds(lambda s: _tlv(0x80, s), st.binary(max_size=10)),
    st.builds(lambda s: _tlv(0x81, b"\x00" + s), st.binary(max_size=10)),
)
text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=20)
titles = st.none() | oids | names
qualifiers = st.none() | ints | rdns
common = dict(
    application_context=oids, protocol_versions=versions, acse_requirements=bits, mechanism_name=st.none() | oids,
    authentication_value=st.none() | auth_values, application_context_list=st.lists(oids, max_size=2).map(tuple),
    implementation_information=st.none() | text, user_information=user_information,
)
aarqs = st.builds(
    AARQ, called_ap_title=titles, called_ae_qualifier=qualifiers, called_ap_invocation_id=st.none() | ints,
    called_ae_invocation_id=st.none() | ints, calling_ap_title=titles, calling_ae_qualifier=qualifiers,
    calling_ap_invocation_id=st.none() | ints, calling_ae_invocation_id=st.none() | ints, **common,
)
aares = st.builds(
    AARE, result=st.integers(0, 2), diagnostic_source=st.sampled_from([acse.DIAG_USER, acse.DIAG_PROVIDER]),
    diagnostic=st.integers(0, 14), responding_ap_title=titles, responding_ae_qualifier=qualifiers,
    responding_ap_invocation_id=st.none() | ints, responding_ae_invocation_id=st.none() | ints, **common,
)
reasons = st.none() | st.sampled_from([0, 1, 30])
releases = st.builds(RLRQ, reasons, user_information) | st.builds(RLRE, reasons, user_information)
aborts = st.builds(ABRT, st.integers(0, 1), st.none() | st.integers(1, 6), user_information)


@given(rec=st.one_of(aarqs, aares, releases, aborts))
def test_acse_round_trip(rec):
    assert parse_acse(encode_acse(rec)) == rec


@given(rec=st.builds(CMIPUserInfoRecord, versions, bits, st.none() | values, st.none() | oids, st.none() | values,
                     st.none() | oids))
def test_cmip_user_info_round_trip(rec):
    # an OID without its EXTERNAL has nowhere to go
    if rec.access_control is None:
        rec = dataclasses.replace(rec, access_control_oid=None)
    if rec.user_info is None:
        rec = dataclasses.replace(rec, user_info_oid=None)
    assert parse_cmip_user_info(encode_cmip_user_info(rec)) == rec


@given(source=st.integers(0, 1), user_info=st.none() | values, oid=st.none() | oids)
def test_cmip_abort_info_round_trip(source, user_info, oid):
    expected = CMIPAbortInfoRecord(source, user_info, oid if user_info is not None else None)
    assert parse_cmip_abort_info(build_cmip_abort_info(source, user_info, oid)) == expected


@given(access=st.none() | values, versions=versions, units=bits, ctx=st.integers(1, 127))
def test_builders_nest_as_the_npac_binding_says(access, versions, units, ctx):
    user_info = build_cmip_user_info(access, versions, units)
    rec = parse_acse(build_aarq(user_info=user_info, user_info_ctx=ctx))
    assert rec.user_information == (ExternalItem(None, ctx, user_info),)
    inner = parse_cmip_user_info(user_info_for(rec.user_information, ctx))
    assert inner == CMIPUserInfoRecord(versions, units, access, acse.LNP_ACCESS_CONTROL_OID if access else None)


# --- fuzz -------------------------------------------------------------------------------------------

user_info_sample = build_cmip_user_info(ACCESS_CONTROL, functional_units=(0, 1))
VALID = [
    build_aarq(acse.CMIP_APPLICATION_CONTEXT, user_info_sample, "1.2.3.4", 7, called_ap_title="1.2.3.5"),
    build_aarq(calling_ap_title=h("30 0d 31 0b 30 09 06 03 55 04 03 13 02 4e 50"), mechanism_name="1.2.3",
               authentication_value=h("80 03 61 62 63")),
    build_aare(user_info=user_info_sample, responding_ap_title="1.2.3.5"),
    build_rlrq(0, user_info_sample),
    build_rlre(0, user_info_sample),
    build_abrt(0, build_cmip_abort_info(0, h("05 00"), "1.2")),
    user_info_sample,
    build_cmip_abort_info(1, h("30 03 02 01 05")),
]


def _feed_everywhere(data: bytes) -> None:
    for parse in (parse_acse, parse_cmip_user_info, parse_cmip_abort_info):
        try:
            parse(data)
        except ProtocolError:
            pass


@settings(max_examples=FUZZ_CASES)
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(data):
    _feed_everywhere(data)


@settings(max_examples=FUZZ_CASES)
@given(data=st.sampled_from(VALID).flatmap(mutated))
def test_fuzz_mutated_apdus(data):
    _feed_everywhere(data)


# --- tshark -----------------------------------------------------------------------------------------


@pytest.mark.interop
def test_tshark_decodes_acse_and_cmip_user_info(tmp_path):
    """Through pres, the indirect-reference 3 leads Wireshark to CMIPUserInfo / CMIPAbortInfo."""
    user_info = build_cmip_user_info(ACCESS_CONTROL, functional_units=(0, 1))
    ini = PresentationConnection(True, b"\0\0\0\1", b"\0\0\0\2")
    resp = PresentationConnection(False, b"\0\0\0\2")
    cp = ini.connect(build_aarq(acse.CMIP_APPLICATION_CONTEXT, user_info, "1.3.6.1.4.1.9999.1", 1,
                                called_ap_title="1.3.6.1.4.1.9999.2", called_ae_qualifier=2))
    resp.on_connect(cp)
    cpa = resp.accept(build_aare(user_info=user_info, responding_ap_title="1.3.6.1.4.1.9999.2"))
    ini.on_accept(cpa)
    conv = pcap.osi_conversation([
        (True, pcap.spdu_cn(cp)),
        (False, pcap.spdu_ac(cpa)),
        (True, pcap.spdu_fn(ini.data(1, build_rlrq(0, user_info)))),
        (False, pcap.spdu_dn(resp.data(1, build_rlre(0, user_info)))),
    ])
    text = pcap.tshark_verbose(conv.write(tmp_path / "acse.pcap"))
    assert pcap.tshark_problems(text) == []
    assert text.count("X711 CMIP") == 4 and text.count("version2: True") == 4
    assert text.count("filter: True") == 4 and text.count("indirect-reference: 3") == 4
    for needle in ("aarq", "aare", "rlrq", "rlre", "aSO-context-name: 2.9.0.0.2 (cmip)", "result: accepted (0)",
                   "calling-AP-title: ap-title-form2", "ap-title-form2: 1.3.6.1.4.1.9999.2"):
        assert needle in text, needle


def test_hostile_shapes_are_rejected_cheaply():
    """Bounded work for inputs pyasn1 would be slow on: many tiny elements, long bit strings."""
    many_externals = ber.tlv(b"\x62", ber.tlv(b"\xbe", h("28 04 a0 02 05 00") * 10000))
    long_bits = ber.tlv(b"\x30", ber.tlv(b"\x81", b"\x00" + b"\xff" * 60000))
    deep = b"\x62\x80" + b"\x30\x80" * 70 + b"\x00\x00" * 71
    start = time.perf_counter()
    for parse, wire in ((parse_acse, many_externals), (parse_cmip_user_info, long_bits), (parse_acse, deep)):
        with pytest.raises(ProtocolError):
            parse(wire)
    assert time.perf_counter() - start < 0.5

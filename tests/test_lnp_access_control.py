"""LnpAccessControl's hand codec (seed L42490ff) against the pyasn1 type built from the module text."""
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.lnp.access_control import (
    LSMS_UNITS, SOA_UNITS, AccessControl, decode_access_control, encode_access_control, signed_fields, to_asn1,
)
from appliance.lnp.asn1 import to_plain
from appliance.osi.errors import ProtocolError
from tests.fuzzing import FUZZ_CASES, mutated

graphic = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60)
times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)).map(
    lambda t: t.replace(microsecond=0, tzinfo=dt.timezone.utc))


@st.composite
def access_controls(draw):
    npac = draw(st.booleans())
    system_id = draw(graphic) if npac else draw(st.text("0123456789ABCDEF", min_size=1, max_size=4))
    return AccessControl(
        system_id=system_id, npac=npac, system_type=draw(st.integers(0, 3)),
        user_id=draw(st.none() | graphic), list_id=draw(st.integers(0, 2**31)), key_id=draw(st.integers(0, 2**31)),
        departure_time=draw(times), sequence=draw(st.integers(0, 4294967295)),
        functions=frozenset(draw(st.sets(st.sampled_from(SOA_UNITS + LSMS_UNITS)))),
        recovery_mode=draw(st.booleans()), signature=draw(st.binary(min_size=1, max_size=256)),
    )


@settings(max_examples=200)
@given(access_controls())
def test_round_trip_and_signed_input(ac):
    data = encode_access_control(ac)
    back = decode_access_control(data)
    assert back == ac
    assert back.signed == signed_fields(ac)  # the signed input is the received TLVs


TYPE_NAMES = ("soa", "local-sms", "soa-and-local-sms", "npac-sms")
UNIT_PATHS = {"soa.soaMgmt": ("soaUnits", "soaMgmt"), "soa.networkDataMgmt": ("soaUnits", "networkDataMgmt"),
              "lsms.dataDownload": ("lsmsUnits", "dataDownload"), "lsms.networkDataMgmt": ("lsmsUnits", "networkDataMgmt"),
              "lsms.query": ("lsmsUnits", "query")}


@settings(max_examples=100)
@given(access_controls())
def test_pyasn1_reads_the_same_fields(ac):
    """The hand codec's bytes decode under the pyasn1 LnpAccessControl built from the IIS text."""
    plain = to_plain(to_asn1(ac))
    assert plain["systemId"] == {("npac-sms" if ac.npac else "serviceProvId"): ac.system_id}
    assert plain["systemType"] == TYPE_NAMES[ac.system_type]
    assert plain.get("userId") == ac.user_id
    assert (plain["listId"], plain["keyId"], plain["sequenceNumber"]) == (ac.list_id, ac.key_id, ac.sequence)
    assert plain["cmipDepartureTime"] == ac.departure_time.strftime("%Y%m%d%H%M%SZ")
    units = {name for name, (group, unit) in UNIT_PATHS.items() if unit in (plain["function"].get(group) or {})}
    assert units == ac.functions
    assert plain["recoveryMode"] is ac.recovery_mode
    assert plain["signature"] == "".join(f"{b:08b}" for b in ac.signature)


def test_known_bytes():
    """[0] SEQUENCE { [0] {[0] "0001"}, [1] soa, [3] 1, [4] 32, [5] time, [6] 0, [7] {{[0]},{}}, [8] FALSE, [9] sig }"""
    ac = AccessControl("0001", False, 0, None, 1, 32, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), 0,
                       frozenset({"soa.soaMgmt"}), False, b"\xab")
    expected = bytes.fromhex(
        "a034" "a006800430303031" "810100" "830101" "840120" "850f" + b"20260102030405Z".hex()
        + "860100" "a70630028000" "3000" "880100" "890200ab")
    assert encode_access_control(ac) == expected


@settings(max_examples=FUZZ_CASES)
@given(st.one_of(st.binary(max_size=300), mutated(encode_access_control(AccessControl(
    "0001", False, 0, "user", 1, 1, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), 5,
    frozenset({"soa.soaMgmt", "lsms.query"}), True, b"\x01" * 128)))))
def test_fuzzed_access_control_raises_only_protocol_error(data):
    try:
        decode_access_control(data)
    except ProtocolError:
        pass

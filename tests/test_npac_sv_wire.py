"""Subscription-version values on the wire (sv_codec, sv_actions, notices): the readings the IIS leaves
open, every GDMO attribute round trip, TN ranges, and the access control inside the X.721
notifications (accessControlParameter, GDMO L40410)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.lnp.secure_association import event_access_control
from appliance.npac import notices, sv_actions
from appliance.npac.effects import Notification
from appliance.npac.model import Status, SubscriptionVersion
from appliance.lnp.values import BadValue, dpc_digits, dpc_octets, gtime, lrn_digits, lrn_octets, ms_of
from appliance.npac.sv_codec import ATTRIBUTES, BY_OID, version_attributes

T0 = 1_767_268_800_000
AC = bytes.fromhex("a0030101ff")  # stands for an LnpAccessControl TLV: only its place is checked here


def test_lrn_is_packed_bcd_and_dpc_one_octet_per_group():
    assert lrn_octets("3035550001") == bytes.fromhex("3035550001")
    assert lrn_digits(bytes.fromhex("3035550001")) == "3035550001"
    assert dpc_octets("001002255") == b"\x01\x02\xff" and dpc_digits(b"\x01\x02\xff") == "001002255"
    for bad in (lambda: lrn_octets("303555"), lambda: lrn_digits(b"\xff" * 5), lambda: dpc_octets("001002256")):
        with pytest.raises(BadValue):
            bad()


def test_times_are_utc_seconds_and_any_x680_form_is_read():
    assert gtime(T0 + 999) == "20260101120000Z"
    assert ms_of("20260101120000Z") == ms_of("202601011200Z") == ms_of("20260101070000-0500") == T0
    with pytest.raises(BadValue):
        ms_of("2026-01-01")


def test_tn_ranges_stay_in_one_npa_nxx():
    assert sv_actions.expand_range("3035551234", "36") == ("3035551234", "3035551235", "3035551236")
    assert len(sv_actions.expand_range("3035550000", "3035559999")) == 10_000
    for start, stop in (("3035551234", "3035561234"), ("3035551234", "30"), ("303555", "1")):
        with pytest.raises(BadValue):
            sv_actions.expand_range(start, stop)


def test_every_attribute_of_a_version_round_trips():
    v = SubscriptionVersion(
        7, "3035551234", Status.DOWNLOAD_FAILED_PARTIAL, "0002", "0001", lrn="3035550001", class_dpc="001002003",
        class_ssn=5, lidb_dpc="004005006", lidb_ssn=6, cnam_dpc="007008009", cnam_ssn=7, isvm_dpc="010011012",
        isvm_ssn=8, billing_id="B1", end_user_location_value="123456789012", end_user_location_type="01",
        new_sp_due_date_ms=T0, old_sp_due_date_ms=T0, old_sp_authorization=True, creation_ms=T0,
        pre_cancellation_status=Status.PENDING, failed_sp_list=("0003",))
    encoded = version_attributes(v, {"0003": "Three"})
    decoded = {BY_OID[oid].field: BY_OID[oid].decode(tlv) for oid, tlv in encoded.items()}
    expected = {c.field: getattr(v, c.field) for c in ATTRIBUTES.values() if getattr(v, c.field) not in (None, ())}
    expected["failed_sp_list"] = ["0003"]
    assert decoded == expected


def test_x721_notifications_carry_the_access_control_as_a_management_extension():
    v = SubscriptionVersion(1, "3035551234", Status.PENDING, "0002", "0001", creation_ms=T0)
    for notification, before in ((Notification.OBJECT_CREATION, None), (Notification.ATTRIBUTE_VALUE_CHANGE, v)):
        after = v if before is None else SubscriptionVersion(1, "3035551234", Status.PENDING, "0002", "0001",
                                                             creation_ms=T0, new_sp_due_date_ms=T0)
        info = notices.build(notification, notices.payload(notification, after, before), AC)
        record = OIDS.notification(notification)
        assert event_access_control(OIDS.syntax_class(record), info) == AC
    plain = asn1.to_plain(asn1.decode("AttributeValueChangeInfo", info))
    assert plain["attributeValueChangeDefinition"][0]["attributeId"] == {
        "globalForm": OIDS.attribute("subscriptionNewSP-DueDate").oid}


@given(st.text("0123456789", min_size=10, max_size=10))
def test_lrn_packed_bcd_round_trips(digits):
    """06 §D.4 #8 reading: ten digits <-> five packed-BCD octets, one codec for every LNP value."""
    assert lrn_digits(lrn_octets(digits)) == digits


@given(st.binary(min_size=5, max_size=5))
def test_lrn_octets_with_a_nibble_above_9_are_refused(octets):
    if all(b >> 4 <= 9 and b & 0x0F <= 9 for b in octets):
        assert lrn_octets(lrn_digits(octets)) == octets
    else:
        with pytest.raises(BadValue):
            lrn_digits(octets)


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_dpc_one_octet_per_group_round_trips(groups):
    digits = "".join(f"{g:03d}" for g in groups)
    assert dpc_octets(digits) == bytes(groups) and dpc_digits(bytes(groups)) == digits


@given(st.integers(0, 4_102_444_800_000))
def test_generalized_time_keeps_whole_utc_seconds(ms):
    assert ms_of(gtime(ms)) == ms - ms % 1000

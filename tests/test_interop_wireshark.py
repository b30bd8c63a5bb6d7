"""Interop: a live, signed LNP association on loopback, captured by tshark and decoded by
Wireshark's own dissectors (tpkt, cotp, ses, pres, acse, cmip), with nothing malformed.

This is the issue's "Must show": association (AARQ/AARE in CP/CPA on CN/AC), a confirmed M-ACTION
from the SOA (subscriptionVersionNewSP-Create, IIS seed L41106) and its result, a confirmed
M-EVENT-REPORT from the NPAC (subscriptionVersionNewSP-CreateRequest, seed L41814, its access
control nested in version-create-request, L43452) and its result, a scoped M-GET answered with
linked replies and an empty final result, then the release (RLRQ/RLRE on FN/DN). Wireshark has no LNP dissectors, so the LNP OIDs on the wire are given its
generic BER syntax ("ASN.1") through the oid UAT, as tests/test_osi_cmip.py does; with that, any
expert info of Warning or above is a failure, not only Error.
"""
from __future__ import annotations

import asyncio

import pytest

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.osi import cmip
from appliance.osi.transport import Outcome
from tests.support import tshark_capture
from tests.support.lnp_rig import service_provs_dn, start_rig
from tests.support.lnp_values import (
    ACTION, NEW_SP, NOTIFICATION, NOTIFIED_TN, PORTED_TN, new_sp_create, new_sp_create_handler,
    new_sp_create_request, subscriptions_dn, version_dn,
)

pytestmark = pytest.mark.interop

# CMIP operation codes (X.711 CMIP-1 Operations) and the ROSE APDU kinds as Wireshark names them.
M_EVENT_REPORT_CONFIRMED, M_LINKED_REPLY, M_GET, M_ACTION_CONFIRMED = 1, 2, 3, 7
OSI_LAYERS = ("tpkt", "cotp", "ses", "pres", "acse", "cmip")
ROS_KINDS = {"cmip.invoke_element": "invoke", "cmip.returnResult_element": "returnResult",
             "cmip.returnError_element": "returnError", "cmip.reject_element": "reject"}
WARNING = 0x00600000  # _ws.expert.severity of "Warning"; Error is 0x00800000


def lnp_oid_syntaxes() -> dict[str, str]:
    """Every LNP OID this conversation puts where Wireshark looks for a syntax: the action and
    event types, the naming attributes of the DNs and the attributes the M-GET returns."""
    attributes = ("lnpNPAC-SMS-Name", "lnpSubscriptionsName", "subscriptionVersionId", "lnpServiceProvsName",
                  "serviceProvID", "serviceProvName")
    oids = [OIDS.action(ACTION).oid, OIDS.notification(NOTIFICATION).oid]
    oids += [OIDS.attribute(name).oid for name in attributes]
    return {oid: "ASN.1" for oid in oids}


async def converse(tmp_path, capture_path) -> tuple[int, dict[str, Outcome]]:
    """Run the whole association under capture; returns the agent's port and what the SOA got."""
    rig = await start_rig(tmp_path, tmp_path / "keys")
    rig.agent.on_action(ACTION, new_sp_create_handler)
    outcomes: dict[str, Outcome] = {}
    capture = tshark_capture.LoopbackCapture(capture_path, rig.port)
    await asyncio.to_thread(capture.start)
    try:
        soa = rig.carrier(NEW_SP)
        await soa.open(rig.hosts())
        outcomes["action"] = await soa.action("lnpSubscriptions", subscriptions_dn(), ACTION, new_sp_create())
        (npac_side,) = rig.agent.associations_of(NEW_SP)
        outcomes["event"] = await rig.agent.send_event(
            npac_side, OIDS.object_class("subscriptionVersionNPAC").oid, version_dn(), NOTIFICATION,
            new_sp_create_request, timeout=10)
        outcomes["get"] = await soa.get("lnpServiceProvs", service_provs_dn(), cmip.FIRST_LEVEL_ONLY)
        await soa.release()
        assert soa.conn.assoc.state == "closed"
    finally:
        await asyncio.to_thread(capture.stop)
    await rig.agent.close()
    return rig.port, outcomes


def ros_pdus(packets: list[tshark_capture.Packet], npac_port: int) -> list[dict]:
    """Each CMIP ROSE APDU Wireshark decoded: kind, invoke id, linked id, opcode, direction."""
    out = []
    for packet in packets:
        for proto, fields in packet.layers:
            if proto != "cmip":
                continue
            names = [name for name, _, _ in fields]
            kind = next((ROS_KINDS[n] for n in names if n in ROS_KINDS), None)
            if kind is None:
                continue  # the CMIPUserInfo inside AARQ / AARE

            def after(marker: str, name: str) -> int | None:
                if marker in names and names.index(marker) + 1 < len(names) and names[names.index(marker) + 1] == name:
                    return int(fields[names.index(marker) + 1][1])
                return None

            out.append({
                "frame": packet.number, "kind": kind, "from_npac": packet.src_port == npac_port,
                "invoke_id": after("cmip.invokeId", "cmip.present"),
                "linked_id": after("cmip.linkedId", "cmip.linkedIdPresent"),
                "opcode": after("cmip.opcode", "cmip.local"),
                "oids": {show for name, show, _ in fields if name.endswith("_OID")},
                "text": " ".join(showname for _, _, showname in fields),
            })
    return out


def expert_problems(packets: list[tshark_capture.Packet]) -> list[tuple[int, str]]:
    """(frame, what) for each malformed layer and each expert info of Warning or above."""
    problems = []
    for packet in packets:
        expert = ""
        for proto, fields in packet.layers:
            if proto == "_ws.malformed":
                problems.append((packet.number, "malformed"))
            for name, show, showname in fields:
                if name == "_ws.expert":
                    expert = showname
                elif name == "_ws.expert.severity" and int(show) >= WARNING:
                    problems.append((packet.number, expert))
                elif name.startswith("_ws.malformed"):
                    problems.append((packet.number, showname or name))
    return problems


def test_live_association_is_decoded_cleanly_by_wireshark(tmp_path):
    capture_path = tmp_path / "association.pcapng"
    port, outcomes = asyncio.run(asyncio.wait_for(converse(tmp_path, capture_path), 60))

    # What the SOA got back over the live association.
    reply = asn1.decode(OIDS.syntax_class(OIDS.action(ACTION), reply=True), outcomes["action"].result.reply_info)
    assert str(reply["status"]) == "success"
    assert outcomes["event"].result == cmip.EventReportResult()
    assert len(outcomes["get"].linked) == 3 and outcomes["get"].result is None

    options = tshark_capture.decode_options(port, lnp_oid_syntaxes())
    packets = tshark_capture.pdml(capture_path, options, f"tcp.port == {port}")
    payload = [p for p in packets if p.values("tcp.len") != ["0"]]

    # Every layer is there, and every TCP payload is TPKT + COTP.
    seen = {proto for packet in payload for proto in packet.protocols}
    assert set(OSI_LAYERS) <= seen, f"layers missing: {set(OSI_LAYERS) - seen}"
    assert all({"tpkt", "cotp"} <= set(p.protocols) for p in payload), [p.protocols for p in payload]

    # Nothing malformed, no expert info of Warning or above, anywhere in the capture.
    assert expert_problems(packets) == []
    flagged = tshark_capture.run_tshark(
        capture_path, options, "-Y", f"tcp.port == {port} && (_ws.malformed || _ws.expert.severity >= 0x00600000)")
    assert flagged.strip() == ""

    # ACSE: AARQ from the SOA, AARE (accepted) from the NPAC, then RLRQ / RLRE.
    acse = [(p.src_port == port, name) for p in payload for name, _, _ in p.fields("acse")
            if name in ("acse.aarq_element", "acse.aare_element", "acse.rlrq_element", "acse.rlre_element")]
    assert acse == [(False, "acse.aarq_element"), (True, "acse.aare_element"),
                    (False, "acse.rlrq_element"), (True, "acse.rlre_element")]
    (aare,) = [p for p in payload if p.values("acse.aare_element")]
    assert aare.values("acse.result") == ["0"]  # accepted

    # CMIP: each primitive, in order, with matching invoke / linked ids.
    pdus = ros_pdus(payload, port)
    action, action_result, event, event_result, get, *linked, final = pdus
    assert (action["kind"], action["opcode"], action["from_npac"]) == ("invoke", M_ACTION_CONFIRMED, False)
    assert OIDS.action(ACTION).oid in action["oids"] and PORTED_TN in action["text"]
    assert (action_result["kind"], action_result["opcode"], action_result["invoke_id"]) == (
        "returnResult", M_ACTION_CONFIRMED, action["invoke_id"])
    assert action_result["from_npac"] and OIDS.action(ACTION).oid in action_result["oids"]

    assert (event["kind"], event["opcode"], event["from_npac"]) == ("invoke", M_EVENT_REPORT_CONFIRMED, True)
    assert OIDS.notification(NOTIFICATION).oid in event["oids"] and NOTIFIED_TN in event["text"]
    assert (event_result["kind"], event_result["opcode"], event_result["invoke_id"], event_result["from_npac"]) == (
        "returnResult", M_EVENT_REPORT_CONFIRMED, event["invoke_id"], False)

    assert (get["kind"], get["opcode"], get["from_npac"]) == ("invoke", M_GET, False)
    assert len(linked) >= 2
    for reply_pdu in linked:
        assert (reply_pdu["kind"], reply_pdu["opcode"], reply_pdu["linked_id"]) == (
            "invoke", M_LINKED_REPLY, get["invoke_id"])
        assert reply_pdu["from_npac"] and "getResult" in reply_pdu["text"]
    assert (final["kind"], final["invoke_id"], final["opcode"], final["from_npac"]) == (
        "returnResult", get["invoke_id"], None, True)

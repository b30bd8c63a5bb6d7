"""Bad input against the composed stack and a live agent: it costs the offending association only.

LAYERS.md: "Every decoder of peer bytes raises errors.ProtocolError and nothing else; the
association that fed it is aborted, nothing else is touched." Part (a) fuzzes the sans-I/O
`Association` of both roles with random bytes and with mutations of a recorded valid session;
part (b) sends malformed and out-of-order PDUs to the NPAC agent over loopback while two carrier
associations are open, and checks that only the offending association goes (or, for the semantic
cases, gets the CMIP error X.711 / IIS Exhibit 79 names), that the others still answer an M-GET,
that the server still accepts associations and that the loop saw no unhandled exception.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from appliance.lnp.oids import OIDS
from appliance.osi import acse, ber, cmip, rose, tpkt
from appliance.osi.association import (
    AbortIndication, Address, Association, AssociateConfirm, AssociateIndication, AssociateRefused, Closed,
    ErrorIndication, RejectIndication, ReleaseConfirm, ReleaseIndication, RequestIndication, ResultIndication,
)
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import AssociationLost, RemoteError
from appliance.peers.carrier import CarrierAssociation
from tests.fuzzing import FUZZ_CASES, mutated
from tests.support import lnp_values
from tests.support.lnp_rig import NPAC_ADDRESS, Rig, graphic, npac_dn, service_provs_dn, start_rig

# ---- (a) the composed sans-I/O stack -------------------------------------------------------------

SUBSCRIPTIONS_DN = lnp_values.subscriptions_dn()
ACTION_NAME = lnp_values.ACTION
ACTION_OID = OIDS.action(ACTION_NAME).oid
ACTION = cmip.ActionRequest(OIDS.object_class("lnpSubscriptions").oid, SUBSCRIPTIONS_DN, ACTION_OID,
                            b"\x30\x03\x02\x01\x07", access_control=b"\xa0\x03\x02\x01\x01")
ACTION_RESULT = cmip.ActionResult(action_type=ACTION_OID, reply_info=b"\x30\x03\x0a\x01\x00")
GET = cmip.GetRequest(OIDS.object_class("lnpServiceProvs").oid, service_provs_dn(), cmip.FIRST_LEVEL_ONLY,
                      access_control=b"\xa0\x03\x02\x01\x02")
GET_RESULT = cmip.GetResult(OIDS.object_class("serviceProv").oid, service_provs_dn(), None,
                            ((OIDS.attribute("serviceProvID").oid, graphic("0001")),))
EVENT = cmip.EventReportRequest(OIDS.object_class("subscriptionVersionNPAC").oid, SUBSCRIPTIONS_DN,
                                OIDS.notification("subscriptionVersionNewSP-CreateRequest").oid, b"\x30\x00")
USER_INFO = acse.build_cmip_user_info(b"\xa0\x03\x02\x01\x00")
INITIATOR_REF = 0x4E50
EVENTS = (AbortIndication, AssociateConfirm, AssociateIndication, AssociateRefused, Closed, ErrorIndication,
          RejectIndication, ReleaseConfirm, ReleaseIndication, RequestIndication, ResultIndication)


class Player:
    """One end of the reference session, reacting to events as an agent / manager would: the
    responder accepts, sends an M-EVENT-REPORT, answers M-ACTION with a result and M-GET with two
    linked replies and an empty result, and answers the release; the initiator associates, sends
    M-ACTION and M-GET, answers the event report and releases once both answers are in."""

    def __init__(self, initiator: bool):
        self.assoc = Association(True, Address(), NPAC_ADDRESS) if initiator else Association(False, NPAC_ADDRESS)
        self.answers = 0
        self.released = False
        if initiator:
            # the CR's source reference is random; a replayed CC must confirm the recorded one
            self.assoc.transport.local_ref = INITIATOR_REF
            self.assoc.associate(USER_INFO)

    def feed(self, data: bytes) -> list[Any]:
        events = self.assoc.receive_data(data)
        self.react(events)
        return events

    def react(self, events: list[Any]) -> None:
        assert all(isinstance(ev, EVENTS) for ev in events), events
        for ev in events:
            self._react(ev)

    def _react(self, ev: Any) -> None:
        a = self.assoc
        if isinstance(ev, AssociateIndication) and a.state == "associating":
            a.accept(USER_INFO)
            a.send_request(EVENT)
        elif isinstance(ev, AssociateConfirm) and a.state == "open":
            a.send_request(ACTION)
            a.send_request(GET)
        elif isinstance(ev, RequestIndication) and (a.state == "open" or a.state == "releasing" and not self.released):
            # after our own RLRQ nothing more may go out (X.217 A-RELEASE); the peer's may still come in
            if isinstance(ev.request, cmip.ActionRequest):
                a.send_result(ev.invoke_id, ACTION_RESULT)
            elif isinstance(ev.request, cmip.GetRequest):
                a.send_linked_reply(ev.invoke_id, GET_RESULT)
                a.send_linked_reply(ev.invoke_id, GET_RESULT)
                a.send_result(ev.invoke_id, None)
            elif isinstance(ev.request, cmip.EventReportRequest):
                a.send_result(ev.invoke_id, cmip.EventReportResult())
        elif isinstance(ev, ResultIndication) and a.initiator:
            self.answers += 1
            if self.answers == 2 and a.state == "open":
                a.release()
                self.released = True
        elif isinstance(ev, ReleaseIndication) and a.state == "releasing":
            a.release_response()


def record_session() -> dict[bool, list[bytes]]:
    """The bytes each end sends in the reference session, per write, keyed by `initiator`."""
    ini, resp = Player(True), Player(False)
    sent: dict[bool, list[bytes]] = {True: [], False: []}
    while True:
        progressed = False
        for sender, receiver in ((ini, resp), (resp, ini)):
            data = sender.assoc.data_to_send()
            if data:
                sent[sender.assoc.initiator].append(data)
                receiver.feed(data)
                progressed = True
        if not progressed:
            break
    assert ini.assoc.state == resp.assoc.state == "closed"
    return sent


SESSION = record_session()


def test_reference_session_is_complete():
    """The recording covers CR/CC, CN/AC (AARQ/AARE), data both ways, linked replies, FN/DN."""
    resp = Player(False)
    assert [[type(ev).__name__ for ev in resp.feed(chunk)] for chunk in SESSION[True]] == [
        [], ["AssociateIndication"], ["RequestIndication", "RequestIndication", "ResultIndication"],
        ["ReleaseIndication"]]
    assert resp.assoc.state == "closed"
    ini = Player(True)
    events = [type(ev).__name__ for chunk in SESSION[False] for ev in ini.feed(chunk)]
    assert events == ["AssociateConfirm", "RequestIndication", "ResultIndication", "RequestIndication",
                      "RequestIndication", "ResultIndication", "ReleaseConfirm", "Closed"]
    assert ini.assoc.state == "closed"


def replay(player: Player, chunks: list[bytes]) -> None:
    """Feed `chunks` in order: ProtocolError is the only exception allowed out of receive_data,
    after it the association is closed and ignores whatever else arrives."""
    for n, chunk in enumerate(chunks):
        try:
            events = player.assoc.receive_data(chunk)
        except ProtocolError as exc:
            event(f"ProtocolError from {exc.layer}")
            assert player.assoc.state == "closed"
            player.assoc.data_to_send()  # an AB at most; must not raise
            assert all(player.assoc.receive_data(rest) == [] for rest in chunks[n + 1:])
            return
        # anything else propagates and fails the test, as does a reaction the state refuses
        player.react(events)
    event(f"no error; association {player.assoc.state}")


@st.composite
def corrupted_sessions(draw) -> tuple[bool, list[bytes]]:
    """(initiator?, chunks): the peer's recorded writes with write k mutated (bytes flipped,
    inserted, deleted, cut), or only flipped past its first TPKT + DT header (so the framing
    mostly holds and the upper decoders get the damage), or replaced by random bytes, or mutated
    and split in two (reassembly), or with random bytes appended."""
    initiator = draw(st.booleans())
    chunks = list(SESSION[not initiator])
    k = draw(st.integers(0, len(chunks) - 1))
    how = draw(st.sampled_from(["mutate", "flip", "flip", "random", "split-mutate", "append"]))
    if how == "mutate":
        chunks[k] = draw(mutated(chunks[k]))
    elif how == "flip":
        data = bytearray(chunks[k])
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(min(7, len(data) - 1), len(data) - 1))] = draw(st.integers(0, 255))
        chunks[k] = bytes(data)
    elif how == "random":
        chunks[k] = draw(st.binary(max_size=200))
    elif how == "split-mutate":
        bad = draw(mutated(chunks[k]))
        cut = draw(st.integers(0, len(bad)))
        chunks[k:k + 1] = [bad[:cut], bad[cut:]]
    else:
        chunks[k] += draw(st.binary(min_size=1, max_size=64))
    return initiator, chunks


def peer_before_write(initiator: bool, k: int) -> Player:
    """The peer of the end under test (`initiator`), as it stood when it made its write k: it has
    received the tested end's writes before that one (the initiator writes first)."""
    peer = Player(not initiator)
    for chunk in SESSION[initiator][:k if not initiator else k + 1]:
        peer.feed(chunk)
    peer.assoc.data_to_send()
    return peer


# How the peer's own lower layers carry a payload to one decoder of the end under test: the
# session (a TSDU), presentation (session user data), ROSE (a PDV on the CMIP context) or ACSE
# (a PDV on the ACSE context, in an FN as a release request would be).
def _pdv(a: Association, ctx: int | None, apdu: bytes) -> bytes:
    return a.transport.send(a.session.send(a.presentation.data(ctx, apdu)))


def _release(a: Association, apdu: bytes) -> bytes:
    a = copy.deepcopy(a)  # FN moves the session on; the cached peer must stay as it was
    return a.transport.send(a.session.release(a.presentation.data(a.presentation.acse_ctx, apdu)))


LEVELS = {
    "session": lambda a, payload: a.transport.send(payload),
    "presentation": lambda a, payload: a.transport.send(a.session.send(payload)),
    "rose": lambda a, payload: _pdv(a, a.cmip_ctx, payload),
    "acse": _release,
}
ROSE_SAMPLE = rose.encode_rose(cmip.invoke_pdu(7, ACTION))
SAMPLES = {  # a valid payload of each level, to mutate
    "session": lambda a: a.session.send(a.presentation.data(a.cmip_ctx, ROSE_SAMPLE)),
    "presentation": lambda a: a.presentation.data(a.cmip_ctx, ROSE_SAMPLE),
    "rose": lambda a: ROSE_SAMPLE,
    "acse": lambda a: acse.build_rlrq(0, None),
}
# ROSE APDUs whose CMIP argument / result / error parameter the "cmip" level damages.
CMIP_SAMPLES = [
    cmip.invoke_pdu(7, ACTION), cmip.invoke_pdu(8, GET), cmip.invoke_pdu(9, EVENT),
    cmip.linked_reply(10, 8, GET_RESULT), cmip.result_pdu(7, ACTION_RESULT),
    cmip.result_pdu(9, cmip.EventReportResult()),
    cmip.error_pdu(7, cmip.CmipError(cmip.NO_SUCH_ACTION, cmip.NoSuchAction(ACTION.object_class, ACTION_OID))),
]
# Outer tags of the APDUs, kept with a correct length around damaged contents so that the
# presentation layer (which needs one whole TLV per PDV) passes them up: ROSE invoke,
# returnResult, returnError, reject; ACSE AARQ, AARE, RLRQ, RLRE, ABRT.
OUTER_TAGS = {"rose": [0xA1, 0xA2, 0xA3, 0xA4], "acse": [0x60, 0x61, 0x62, 0x63, 0x64]}


def _carriable() -> dict[tuple[bool, int, str], Association]:
    """(initiator?, k, level) -> the peer before its write k, wherever its layers can carry a
    payload to that level then (the data phase, and ACSE from the AARE on). The peer is only
    used to encode, which changes no state in the data phase, so one copy serves every example."""
    out = {}
    for initiator in (False, True):
        for k in range(len(SESSION[not initiator])):
            for level in sorted(LEVELS):
                peer = peer_before_write(initiator, k).assoc
                try:
                    LEVELS[level](peer, SAMPLES[level](peer))
                except ProtocolError:
                    continue
                out[initiator, k, level] = peer
                if level == "rose":
                    out[initiator, k, "cmip"] = peer
    return out


CARRIABLE = _carriable()


@st.composite
def layered_corruptions(draw) -> tuple[bool, list[bytes]]:
    """(initiator?, chunks): the recorded session with random bytes or a damaged valid payload
    sent after write k, carried by the peer's own (valid) lower layers up to the session,
    presentation, ROSE, CMIP or ACSE decoder; the remaining writes follow unchanged."""
    initiator, k, level = draw(st.sampled_from(sorted(CARRIABLE)))
    peer = CARRIABLE[initiator, k, level]
    event(f"corrupted at the {level} layer")
    if level == "cmip":
        return initiator, replaced(initiator, k, LEVELS["rose"](peer, draw(cmip_corruptions())))
    valid = SAMPLES[level](peer)
    payload = draw(st.one_of(damaged(valid), st.binary(max_size=150)))
    if level in OUTER_TAGS and draw(st.booleans()):  # damage inside a well-formed outer TLV
        tag = draw(st.sampled_from(OUTER_TAGS[level]) | st.integers(0, 255))
        _, start, end = ber.single_tlv(valid, "test")
        payload = ber.encode_tlv(tag, draw(st.one_of(damaged(valid[start:end]), st.binary(max_size=150))))
    return initiator, replaced(initiator, k, LEVELS[level](peer, payload))


def replaced(initiator: bool, k: int, write: bytes) -> list[bytes]:
    """The recorded writes with `write` sent right after write k, in the same TCP segment."""
    chunks = SESSION[not initiator]
    return chunks[:k] + [chunks[k] + write] + chunks[k + 1:]


@st.composite
def flipped(draw, valid: bytes) -> bytes:
    """`valid` with one to three octets changed and its length kept, so that BER lengths mostly
    still hold and the damage reaches the decoder of the contents."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def damaged(valid: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(flipped(valid), mutated(valid))


@st.composite
def cmip_corruptions(draw) -> bytes:
    """A well-formed ROSE APDU whose CMIP argument, result or error parameter is damaged (and,
    sometimes, whose operation / error code is another one)."""
    pdu = draw(st.sampled_from(CMIP_SAMPLES))
    codes = st.integers(0, 30)
    if isinstance(pdu, rose.Invoke):
        pdu = replace(pdu, argument=draw(damaged(pdu.argument)), opcode=draw(st.just(pdu.opcode) | codes))
    elif isinstance(pdu, rose.ReturnResult):
        pdu = replace(pdu, result=draw(damaged(pdu.result)), opcode=draw(st.just(pdu.opcode) | codes))
    else:
        pdu = replace(pdu, parameter=draw(damaged(pdu.parameter)), error_code=draw(st.just(pdu.error_code) | codes))
    return rose.encode_rose(pdu)


@settings(max_examples=FUZZ_CASES)
@given(case=corrupted_sessions())
def test_mutated_session_only_raises_protocol_error(case):
    initiator, chunks = case
    replay(Player(initiator), chunks)


@settings(max_examples=FUZZ_CASES)
@given(case=layered_corruptions())
def test_bad_payload_under_valid_framing_only_raises_protocol_error(case):
    initiator, chunks = case
    replay(Player(initiator), chunks)


@settings(max_examples=FUZZ_CASES)
@given(initiator=st.booleans(), data=st.lists(st.binary(max_size=120), min_size=1, max_size=4))
def test_random_bytes_only_raise_protocol_error(initiator, data):
    """Random TCP data at a fresh association of either role (the initiator has sent its CR)."""
    replay(Player(initiator), data)


def test_protocol_error_in_the_data_phase_aborts_with_ab():
    """An undecodable ROSE APDU in the data phase: ProtocolError, the association is closed and an
    AB (SPDU 25) carrying ARU(ABRT) is queued for the peer (association.py module docstring)."""
    resp = Player(False)
    for chunk in SESSION[True][:2]:
        resp.feed(chunk)
    resp.assoc.data_to_send()
    peer = Player(True)
    for chunk in SESSION[False][:2]:
        peer.feed(chunk)
    peer.assoc.data_to_send()
    bad = peer.assoc.transport.send(peer.assoc.session.send(peer.assoc.presentation.data(3, b"\xa9\x03\x02\x01\x01")))
    with pytest.raises(ProtocolError):
        resp.assoc.receive_data(bad)
    assert resp.assoc.state == "closed"
    ab = resp.assoc.data_to_send()
    assert ab[:2] == b"\x03\x00" and ab[4:7] == b"\x02\xf0\x80" and ab[7] == 25
    [abort, closed] = peer.feed(ab)
    assert isinstance(abort, AbortIndication) and isinstance(closed, Closed)


# ---- (b) a live agent ----------------------------------------------------------------------------


@dataclass
class Live:
    rig: Rig
    a: CarrierAssociation
    b: CarrierAssociation
    loop_errors: list = field(default_factory=list)


async def service_provs(carrier: CarrierAssociation) -> int:
    """A signed, scoped M-GET of the serviceProv objects: how many linked replies came."""
    return len((await carrier.get("lnpServiceProvs", service_provs_dn(), cmip.FIRST_LEVEL_ONLY)).linked)


def run(tmp_path, scenario, timeout: float = 15.0) -> Live:
    """Start the agent, open carriers A (0001) and B (0002), run `scenario(live)`, then check that
    A and B still answer an M-GET, a new association still works and the loop stayed clean."""

    async def main() -> Live:
        loop = asyncio.get_running_loop()
        rig = await start_rig(tmp_path, tmp_path / "keys")
        live = Live(rig, rig.carrier("0001"), rig.carrier("0002"))
        loop.set_exception_handler(lambda _, context: live.loop_errors.append(context))
        try:
            await live.a.open(rig.hosts())
            await live.b.open(rig.hosts())
            await scenario(live)
            await asyncio.sleep(0.05)  # let the agent finish closing whatever it aborted
            for carrier in (live.a, live.b):
                assert carrier.conn.assoc.state == "open"
                assert await service_provs(carrier) == 3
            assert len(rig.agent.connections) == 2  # the offending association is gone from the agent
            assert rig.agent.server.is_serving()
            fresh = rig.carrier("0003", system_type=1, functions=frozenset({"lsms.networkDataMgmt"}))
            await fresh.open(rig.hosts())
            assert await service_provs(fresh) == 3
            for carrier in (live.a, live.b, fresh):
                await carrier.release()
        finally:
            await rig.agent.close(release_first=False)
        return live

    live = asyncio.run(asyncio.wait_for(main(), timeout))
    assert live.loop_errors == []
    return live


async def raw_exchange(live: Live, *writes: bytes) -> bytes:
    """A bare TCP connection to the agent: when the first write is our CR, wait for the CC as
    ISO 8073 requires before going on; write the rest, then read until the agent closes. Returns
    what came after the CC (a reset, the agent closing with our data unread, counts as closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", live.rig.port)
    try:
        if writes and writes[0] == CR:
            writer.write(CR)
            header = await asyncio.wait_for(reader.readexactly(4), 3)
            cc = await reader.readexactly(int.from_bytes(header[2:], "big") - 4)
            assert cc[1] & 0xF0 == 0xD0, cc  # CC
            writes = writes[1:]
        try:
            for data in writes:
                writer.write(data)
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 3)
        except (ConnectionResetError, BrokenPipeError):
            return b""
    finally:
        writer.close()


CR = SESSION[True][0]
CN_AARQ = SESSION[True][1]
DATA = SESSION[True][2]  # M-ACTION and M-GET in DTs
DT_NO_EOT = tpkt.encode(b"\x02\xf0\x00" + bytes(65528))  # the largest DT TPDU, more to follow


@pytest.mark.parametrize("writes, error", [
    ((b"\x05\x00\x00\x10" + bytes(range(12)),), "tpkt: version 5"),
    ((b"\x03\x00\x00\x05\x00",), "tpkt: packet length 5 below the minimum"),
    ((tpkt.encode(CR[4:-6]),), "cotp: "),
    ((CR + DATA,), "cotp: DT not expected in state wait-accept"),
    ((CR, DATA), "session: "),
    ((CR, tpkt.encode(CN_AARQ[4:60])), "session: "),
    ((CR,) + (DT_NO_EOT,) * 17, "cotp: TSDU exceeds the limit"),
], ids=["garbage-tpkt", "short-tpkt", "truncated-cr", "dt-before-cc", "data-before-association",
        "truncated-aarq", "oversized-tsdu"])
def test_malformed_input_on_a_raw_connection_closes_it_alone(tmp_path, caplog, writes, error):
    """The agent closes the offending TCP connection without a word (no session is up to carry
    an abort), logs a warning naming the protocol error, and the two live associations go on."""
    got: dict[str, bytes] = {}

    async def scenario(live: Live) -> None:
        got["reply"] = await raw_exchange(live, *writes)

    with caplog.at_level(logging.WARNING, logger="appliance.osi.transport"):
        run(tmp_path, scenario)
    assert got["reply"] == b""
    warnings = [r.getMessage() for r in caplog.records if r.name == "appliance.osi.transport"]
    assert len(warnings) == 1 and "aborted: " + error in warnings[0], warnings


async def third_association(live: Live, system_id: str = "0003"):
    """A third, properly signed association: an LSMS for 0003, an SOA for 0001 or 0002."""
    if system_id == "0003":
        carrier = live.rig.carrier(system_id, system_type=1, functions=frozenset({"lsms.networkDataMgmt"}))
    else:
        carrier = live.rig.carrier(system_id)
    await carrier.open(live.rig.hosts())
    return carrier


async def aborted_by_agent(carrier) -> None:
    """The carrier's connection is over (the agent aborted or released it)."""
    await asyncio.wait_for(asyncio.shield(carrier.conn.closed), 3)
    assert carrier.conn.assoc.state == "closed"


def test_second_aarq_on_an_open_association_aborts_it(tmp_path, caplog):
    """A CN (carrying a new AARQ) on an association that is already open is not allowed by the
    session state table (ISO 8327 kernel): the agent aborts that association only."""

    async def scenario(live: Live) -> None:
        c = await third_association(live)
        c.conn.transport.write(CN_AARQ)
        await aborted_by_agent(c)

    with caplog.at_level(logging.WARNING, logger="appliance.osi.transport"):
        run(tmp_path, scenario)
    assert any("aborted: " in r.getMessage() and "session" in r.getMessage() for r in caplog.records)


def test_wrong_rose_tag_aborts_the_association(tmp_path, caplog):
    """A CMIP-context PDV whose APDU is no ROSE PDU ([9] where Invoke is [1]) over well-formed
    lower layers: the agent aborts with AB (the carrier sees the abort), the rest goes on."""

    async def scenario(live: Live) -> None:
        c = await third_association(live)
        assoc = c.conn.assoc
        c.conn.transport.write(assoc.transport.send(assoc.session.send(
            assoc.presentation.data(assoc.cmip_ctx, b"\xa9\x06\x02\x01\x01\x02\x01\x03"))))
        with pytest.raises(AssociationLost):
            await c.get("lnpServiceProvs", service_provs_dn())
        await aborted_by_agent(c)

    with caplog.at_level(logging.WARNING, logger="appliance.osi.transport"):
        run(tmp_path, scenario)
    assert any("aborted: " in r.getMessage() and "rose" in r.getMessage() for r in caplog.records)


def test_request_without_access_control_is_a_security_violation(tmp_path):
    """IIS 5.2.3: every request carries LNP access control; one without is aborted with no
    further information and written to the security log (IIS 5.2.4)."""

    async def scenario(live: Live) -> None:
        c = await third_association(live)
        with pytest.raises(AssociationLost):
            await c.conn.request(cmip.GetRequest(OIDS.object_class("lnpServiceProvs").oid, service_provs_dn()))
        await aborted_by_agent(c)

    live = run(tmp_path, scenario)
    violations = [r for r in live.rig.log.records() if r["event"] == "security-violation"]
    assert [(r["kind"], r["system_id"]) for r in violations] == [("missing", "0003")]


def test_replayed_access_control_is_a_security_violation(tmp_path):
    """A request that repeats the previous one's signed access control (a replay: its sequence
    number is not the next one, IIS 5.2.3) aborts that association and is logged."""

    async def scenario(live: Live) -> None:
        c = await third_association(live)
        signed = c.endpoint.signed_request(
            cmip.GetRequest(OIDS.object_class("lnpServiceProvs").oid, service_provs_dn(), cmip.FIRST_LEVEL_ONLY))
        assert len((await c.conn.request(signed)).linked) == 3
        with pytest.raises(AssociationLost):
            await c.conn.request(signed)
        await aborted_by_agent(c)

    live = run(tmp_path, scenario)
    violations = [r for r in live.rig.log.records() if r["event"] == "security-violation"]
    assert [(r["kind"], r["system_id"]) for r in violations] == [("sequence", "0003")]


def test_unknown_event_type_is_a_security_violation(tmp_path):
    """An M-EVENT-REPORT whose event type is no LNP notification cannot have its access control
    checked (it sits inside the notification's information), so the association is aborted."""

    async def scenario(live: Live) -> None:
        c = await third_association(live)
        with pytest.raises(AssociationLost):
            await c.conn.request(cmip.EventReportRequest(
                OIDS.object_class("lnpNPAC-SMS").oid, npac_dn(), "1.2.3.4.5.6", b"\x30\x00"))
        await aborted_by_agent(c)

    live = run(tmp_path, scenario)
    violations = [r for r in live.rig.log.records() if r["event"] == "security-violation"]
    assert [(r["kind"], r["system_id"]) for r in violations] == [("unknown-event", "0003")]


def test_unknown_object_class_gets_no_such_object_class(tmp_path):
    """X.711 noSuchObjectClass (error 0, parameter: the class) for a class the NPAC does not
    have; a semantic error, so the association stays up and answers the next request."""
    unknown = "2.16.840.1.4.2.999"

    async def scenario(live: Live) -> None:
        c = await third_association(live, "0001")
        with pytest.raises(RemoteError) as caught:
            await c.request(cmip.ActionRequest(unknown, SUBSCRIPTIONS_DN, ACTION_OID, b"\x30\x00"))
        assert caught.value.error == cmip.CmipError(cmip.NO_SUCH_OBJECT_CLASS, unknown)
        assert str(caught.value) == "noSuchObjectClass"
        assert await service_provs(c) == 3
        await c.release()

    run(tmp_path, scenario)


def test_unknown_action_gets_no_such_action(tmp_path):
    """X.711 noSuchAction (error 9, parameter NoSuchAction {class, action type}) for an action
    type that is not registered; the association stays up."""
    unknown = "2.16.840.1.4.5.999"
    subscriptions = OIDS.object_class("lnpSubscriptions").oid

    async def scenario(live: Live) -> None:
        c = await third_association(live, "0001")
        with pytest.raises(RemoteError) as caught:
            await c.request(cmip.ActionRequest(subscriptions, SUBSCRIPTIONS_DN, unknown, b"\x30\x00"))
        assert caught.value.error == cmip.CmipError(cmip.NO_SUCH_ACTION, cmip.NoSuchAction(subscriptions, unknown))
        assert await service_provs(c) == 3
        await c.release()

    run(tmp_path, scenario)


def test_answer_due_after_the_npac_asked_for_release_is_dropped(tmp_path):
    """The NPAC releases an association (IIS 5.3.2: graceful first) while a handler is still
    working on that carrier's M-ACTION. Once the RLRQ is out nothing more may be sent (X.217
    A-RELEASE), so the late answer is dropped: the release completes, the carrier's request
    fails with AssociationLost, and the loop sees no exception (it used to get the session's
    "send not allowed in wait-dn" from the reply callback)."""

    async def scenario(live: Live) -> None:
        gate, started = asyncio.Event(), asyncio.Event()

        async def slow(ctx) -> cmip.ActionResult:
            started.set()
            await gate.wait()
            return cmip.ActionResult(action_type=ctx.request.action_type, reply_info=b"\x30\x00")

        live.rig.agent.on_action(ACTION_NAME, slow)
        before = set(live.rig.agent.connections)
        c = await third_association(live, "0001")
        (npac_side,) = live.rig.agent.connections - before
        pending = asyncio.ensure_future(c.action("lnpSubscriptions", SUBSCRIPTIONS_DN, ACTION_NAME, b"\x30\x00"))
        await started.wait()
        release = asyncio.ensure_future(npac_side.release(timeout=3))
        await asyncio.sleep(0)  # the RLRQ goes out
        gate.set()
        confirm, lost = await asyncio.gather(release, pending, return_exceptions=True)
        assert isinstance(confirm, ReleaseConfirm) and isinstance(lost, AssociationLost)
        await aborted_by_agent(c)  # closed (by the release, here)

    run(tmp_path, scenario)


def test_notification_access_control_is_checked_by_the_soa(tmp_path):
    """IIS 5.2.3 both ways: the SOA checks the access control inside each notification, here the
    one nested in VersionNewSP-CreateRequest's version-create-request (seed L43452). A properly
    signed one is answered; the same one again (a replayed sequence number) makes the SOA abort
    that association and log it, and the NPAC's other associations go on."""
    soa_log: list[tuple] = []

    async def scenario(live: Live) -> None:
        before = set(live.rig.agent.connections)
        soa = live.rig.carrier("0001", security_log=lambda what, **kw: soa_log.append((what, kw)))
        await soa.open(live.rig.hosts())
        (npac_side,) = live.rig.agent.connections - before
        sent: list[bytes] = []

        def build(access_control: bytes) -> bytes:
            sent.append(lnp_values.new_sp_create_request(access_control))
            return sent[-1]

        def replay_first(_: bytes) -> bytes:
            return sent[0]

        version_class = OIDS.object_class("subscriptionVersionNPAC").oid
        outcome = await live.rig.agent.send_event(npac_side, version_class, lnp_values.version_dn(),
                                                  lnp_values.NOTIFICATION, build, timeout=3)
        assert outcome.result == cmip.EventReportResult()
        with pytest.raises(AssociationLost):
            await live.rig.agent.send_event(npac_side, version_class, lnp_values.version_dn(),
                                            lnp_values.NOTIFICATION, replay_first, timeout=3)
        await aborted_by_agent(soa)

    run(tmp_path, scenario)
    assert [(what, kw["kind"]) for what, kw in soa_log] == [("security-violation", "sequence")]

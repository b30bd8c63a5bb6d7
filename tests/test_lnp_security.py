"""Secure association refusals over live associations (IIS §5.2, DECISIONS.md "Secure associations").

Crypto, time and sequence failures end in an A-ABORT with no information and a security-log record;
policy failures at association time end in an AARE carrying the NpacAssociationInfo ErrorCode.
"""
import asyncio
import dataclasses
import datetime as dt

import pytest

from appliance.lnp.association_info import ACCESS_DENIED, RETRY_SAME_HOST, TRY_OTHER_HOST
from appliance.lnp.keys import generate_key_list
from appliance.lnp.security import LOCAL_SMS, SOA, Identity
from appliance.osi import cmip
from appliance.osi.transport import AssociationLost
from appliance.peers.carrier import AssociationRefused
from tests.support.lnp_rig import service_provs_dn, start_rig


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def violations(rig, kind=None):
    return [r for r in rig.log.records() if r["event"] == "security-violation" and (kind is None or r["kind"] == kind)]


async def _get(carrier):
    return await carrier.get("lnpServiceProvs", service_provs_dn(), cmip.FIRST_LEVEL_ONLY)


def test_valid_association_and_signed_requests(tmp_path, keys_dir):
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        c = rig.carrier()
        await c.open(rig.hosts())
        for _ in range(3):  # sequence numbers 1, 2, 3 in each direction
            out = await _get(c)
            assert len(out.linked) == 3
        await c.release()
        events = [r["event"] for r in rig.log.records()]
        assert events == ["association-established", "association-released"]
        assert not violations(rig)
    run(body())


def _refused_at_association(tmp_path, keys_dir, make_carrier, kind):
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        c = make_carrier(rig)
        with pytest.raises(AssociationLost):
            await c.open(rig.hosts())
        assert [v["kind"] for v in violations(rig)] == [kind]
        assert not rig.agent.connections
    run(body())


def test_wrong_key_aborts_association_and_is_logged(tmp_path, keys_dir):
    """IIS 5.2.2 step 3(d): the signature must verify with the key named by listId/keyId."""
    impostor = generate_key_list("0001", 1, count=1)

    def make(rig):
        c = rig.carrier()
        c.identity = Identity("0001", SOA, impostor, 1)
        return c
    _refused_at_association(tmp_path, keys_dir, make, "signature")


def test_unknown_key_list_aborts(tmp_path, keys_dir):
    other = generate_key_list("0001", 9, count=1)

    def make(rig):
        c = rig.carrier()
        c.identity = Identity("0001", SOA, other, 1)
        return c
    _refused_at_association(tmp_path, keys_dir, make, "key")


def test_retired_key_aborts(tmp_path, keys_dir):
    def make(rig):
        rig.agent.directory.get("0001").key_lists[1].retired.add(2)
        return rig.carrier(key_id=2)
    _refused_at_association(tmp_path, keys_dir, make, "key")


def test_departure_time_six_minutes_off_aborts(tmp_path, keys_dir):
    """IIS 5.2.2 step 3(c): cmipDepartureTime within 5 minutes of the NPAC's clock."""
    late = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=6)  # noqa: E731
    _refused_at_association(tmp_path, keys_dir, lambda rig: rig.carrier(clock=late), "time")


def test_departure_time_four_minutes_off_is_accepted(tmp_path, keys_dir):
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        early = lambda: dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=4)  # noqa: E731
        c = rig.carrier(clock=early)
        await c.open(rig.hosts())
        assert len((await _get(c)).linked) == 3
        c.abort()
    run(body())


def _refused_by_policy(tmp_path, keys_dir, make_carrier, code):
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        with pytest.raises(AssociationRefused) as info:
            await make_carrier(rig).open(rig.hosts())
        assert info.value.code == code
        refused = [r for r in rig.log.records() if r["event"] == "association-refused"]
        assert refused and refused[0]["code"] == code
        assert not violations(rig)
    run(body())


def test_unknown_system_id_gets_access_denied(tmp_path, keys_dir):
    """DECISIONS.md: policy failures at association time -> AARE with access-denied(1)."""
    def make(rig):
        c = rig.carrier()
        c.identity = Identity("0009", SOA, generate_key_list("0009", 1, count=1), 1)
        return c
    _refused_by_policy(tmp_path, keys_dir, make, ACCESS_DENIED)


def test_function_not_allowed_for_system_type_gets_access_denied(tmp_path, keys_dir):
    """IIS Exhibit 8: a SOA cannot ask for the LSMS data download function."""
    make = lambda rig: rig.carrier(system_type=SOA, functions={"lsms.dataDownload"})  # noqa: E731
    _refused_by_policy(tmp_path, keys_dir, make, ACCESS_DENIED)


def test_system_type_not_registered_gets_access_denied(tmp_path, keys_dir):
    """Carrier 0003 is registered as an LSMS only."""
    make = lambda rig: rig.carrier("0003", system_type=SOA, functions={"soa.soaMgmt"})  # noqa: E731
    _refused_by_policy(tmp_path, keys_dir, make, ACCESS_DENIED)


def test_recovery_mode_only_with_data_download(tmp_path, keys_dir):
    """IIS 5.2.1.10: recoveryMode applies only to the data download function."""
    make = lambda rig: rig.carrier(system_type=LOCAL_SMS, functions={"lsms.query"}, recovery_mode=True)  # noqa: E731
    _refused_by_policy(tmp_path, keys_dir, make, ACCESS_DENIED)


@pytest.mark.parametrize("code", [TRY_OTHER_HOST, RETRY_SAME_HOST])
def test_node_not_live_answers_with_its_error_code(tmp_path, keys_dir, code):
    """IIS 5.3.1.2: a standby answers try-other-host, a resynchronising node retry-same-host."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir, availability=lambda: (code, "not live"))
        with pytest.raises(AssociationRefused) as info:
            await rig.carrier().open(rig.hosts(), retry_wait=0.01, attempts=2)
        assert info.value.code == code
    run(body())


def _after_association(tmp_path, keys_dir, tamper, kind):
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        victim, bystander = rig.carrier(), rig.carrier("0002")
        await victim.open(rig.hosts())
        await bystander.open(rig.hosts())
        await _get(victim)
        tamper(rig, victim)
        with pytest.raises(AssociationLost):
            await _get(victim)
        assert [v["kind"] for v in violations(rig)] == [kind]
        assert len((await _get(bystander)).linked) == 3  # the other association is untouched
        bystander.abort()
    run(body())


def test_replayed_sequence_number_aborts(tmp_path, keys_dir):
    """IIS 5.2.3: the sequence number must be the next expected one; a replay is refused."""
    def tamper(rig, c):
        c.endpoint.channel.sent_seq -= 1
    _after_association(tmp_path, keys_dir, tamper, "sequence")


def test_gap_in_sequence_aborts(tmp_path, keys_dir):
    def tamper(rig, c):
        c.endpoint.channel.sent_seq += 1
    _after_association(tmp_path, keys_dir, tamper, "sequence")


def test_time_drift_after_association_aborts(tmp_path, keys_dir):
    def tamper(rig, c):
        c.endpoint.channel.clock = lambda: dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=6)
    _after_association(tmp_path, keys_dir, tamper, "time")


def test_forged_signature_on_a_request_aborts(tmp_path, keys_dir):
    def tamper(rig, c):
        forger = generate_key_list("0001", 1, count=1)
        c.endpoint.channel.identity = dataclasses.replace(c.endpoint.channel.identity, key_list=forger)
    _after_association(tmp_path, keys_dir, tamper, "signature")


def test_sequence_wraps_to_one():
    """IIS 5.2.1.7: after 4294967295 the sequence number is 1, not 0."""
    from appliance.lnp.security import next_sequence
    assert next_sequence(4294967295) == 1 and next_sequence(0) == 1 and next_sequence(7) == 8

"""Association management: confirmation timeout, bounded queues, the NPAC as manager (IIS §5.2.3, 5.3)."""
import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.lnp.security import LOCAL_SMS
from appliance.osi import cmip
from appliance.osi.transport import AssociationLost
from tests.support.lnp_rig import graphic, npac_dn, start_rig

ACTION = "subscriptionVersionNewSP-Create"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _action_request():
    return cmip.ActionRequest(OIDS.object_class("lnpSubscriptions").oid, npac_dn(), OIDS.action(ACTION).oid, None)


def test_unanswered_request_times_out_and_aborts(tmp_path, keys_dir):
    """IIS 5.2.3: no response within the timer -> the sender terminates the association."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        never = asyncio.get_running_loop().create_future()
        rig.agent.on_action(ACTION, lambda ctx: never)
        c = rig.carrier()
        await c.open(rig.hosts())
        with pytest.raises(asyncio.TimeoutError):
            await c.request(_action_request(), timeout=0.2)
        await asyncio.wait_for(c.conn.closed, 5)
        await asyncio.sleep(0.1)
        assert not rig.agent.connections
        assert any(r["event"] == "association-aborted" for r in rig.log.records())
    run(body())


def test_a_flood_of_requests_is_read_only_as_fast_as_it_is_answered(tmp_path, keys_dir):
    """Bounded queues: with 64 requests unanswered the agent stops reading that association."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        gate = asyncio.Event()
        seen = []

        async def slow(ctx):
            seen.append(ctx.invoke_id)
            await gate.wait()
            return cmip.ActionResult()
        rig.agent.on_action(ACTION, slow)
        c = rig.carrier()
        await c.open(rig.hosts())
        futures = [c.send(_action_request()) for _ in range(300)]
        await asyncio.sleep(0.5)
        assert len(seen) == 64  # the rest wait in socket buffers, not in the agent's memory
        gate.set()
        outcomes = await asyncio.gather(*futures)
        assert len(seen) == 300 and all(isinstance(o.result, cmip.ActionResult) for o in outcomes)
        await c.release()
    run(body())


def test_npac_as_manager_towards_an_lsms(tmp_path, keys_dir):
    """The NPAC signs its M-CREATE to the LSMS; the LSMS checks it (IIS 5.2.3, manager role)."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        created = []

        def lsms_handler(carrier, ind):
            created.append(ind.request)
            return cmip.CreateResult(ind.request.object_class, ind.request.object_instance)
        lsms = rig.carrier("0003", system_type=LOCAL_SMS, functions={"lsms.dataDownload"}, on_request=lsms_handler)
        await lsms.open(rig.hosts())
        (conn,) = rig.agent.associations_of("0003", "lsms.dataDownload")
        version_dn = npac_dn() + (((OIDS.attribute("subscriptionVersionId").oid, b"\x02\x01\x07"),),)
        req = cmip.CreateRequest(OIDS.object_class("subscriptionVersion").oid, version_dn,
                                 attributes=((OIDS.attribute("subscriptionTN").oid, graphic("3035551234")),))
        for _ in range(3):
            out = await rig.agent.send_request(conn, req)
            assert isinstance(out.result, cmip.CreateResult)
        assert len(created) == 3 and all(r.access_control for r in created)
        assert lsms.endpoint.channel.expected_seq == 4
        await lsms.release()
        with pytest.raises(AssociationLost):
            rig.agent.send_request(conn, req)
    run(body())


def test_a_connection_that_never_associates_is_closed(tmp_path, keys_dir):
    """Half-open connections cannot pin sockets: no association within the timer -> closed."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir, request_timeout=0.3)
        reader, writer = await asyncio.open_connection("127.0.0.1", rig.port)
        writer.write(b"\x03\x00")  # half a TPKT header, then silence
        await writer.drain()
        assert await asyncio.wait_for(reader.read(100), 5) == b""  # the agent closed it
        writer.close()
    run(body())


def test_protocol_errors_are_in_the_security_log(tmp_path, keys_dir):
    """IIS 5.2.4: invalid messages are logged."""
    async def body():
        rig = await start_rig(tmp_path, keys_dir)
        reader, writer = await asyncio.open_connection("127.0.0.1", rig.port)
        writer.write(b"\x05\x00\x00\x10" + bytes(12))  # TPKT version 5
        await writer.drain()
        assert await asyncio.wait_for(reader.read(100), 5) == b""
        writer.close()
        (rec,) = [r for r in rig.log.records() if r["event"] == "protocol-error"]
        assert rec["layer"] == "tpkt"
    run(body())

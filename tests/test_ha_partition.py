"""Partitions of the real pair (processes; each side in its own network namespace, the interconnect a
veth pair between them that the test takes down as a pulled cable would; the serial cable a pty pair
it can cut): one path lost is an alarm and never a cutover; both lost without a successful fence is
no cutover (the operator is asked); with the fence the DR takes over and the old primary, back again,
is refused writes and rejoins as the standby (RN10-1, ARCHITECTURE "Roles")."""
from __future__ import annotations

import asyncio
import os
import time

from appliance.control import request_async
from ha.sim_fence import fence
from tests.support.netns_link import NetnsInterconnect
from tests.support.pair_rig import LIVE, ha_status, roles, start_pair, wait_current_standby, wait_roles

HOLD = 5.0  # well over the FAST dead time (3 s)


async def alarms(pair, side):
    status = await ha_status(pair, side)
    return set((status or {}).get("alarms", {}))


async def eventually(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


async def steady(pair):
    assert await roles(pair) == {"primary": "primary-live", "dr": "standby"}


def test_partitions_of_the_pair(tmp_path):
    async def scenario():
        pair = await start_pair(tmp_path, interconnect=link)
        try:
            # each side really is on its own network: the interconnect is the only way across
            own = os.readlink("/proc/self/ns/net")
            nets = {side: {os.readlink(f"/proc/{pair.procs[(side, kind)].pid}/ns/net") for kind in ("node", "ha")}
                    for side in ("primary", "dr")}
            assert all(len(n) == 1 and own not in n for n in nets.values()) and nets["primary"] != nets["dr"], nets
            # the interconnect alone: heartbeats go on over the serial line
            pair.cut_interconnect()
            await eventually(lambda: _has(pair, "dr", "heartbeat-network"))
            await asyncio.sleep(HOLD)
            assert (await roles(pair))["dr"] in ("standby", "fenced")  # never promoting or live
            assert (await roles(pair))["primary"] in ("primary-live", "isolated")
            pair.cut_interconnect(False)
            await settled(pair)

            # the serial cable alone
            pair.cable.cut()
            await eventually(lambda: _has(pair, "dr", "heartbeat-serial"))
            await asyncio.sleep(HOLD)
            await steady(pair)
            pair.cable.restore()
            await eventually(lambda: _clear(pair, "dr", "heartbeat-serial"))

            # both, with the power switch out of order: no cutover, an operator is asked
            (tmp_path / "power-switch-broken").write_text("")
            pair.cable.cut()
            pair.cut_interconnect()
            await eventually(lambda: _has(pair, "dr", "peer-lost"))
            await asyncio.sleep(HOLD)
            r = await roles(pair)
            assert r["dr"] in ("standby", "fenced") and r["primary"] in ("primary-live", "isolated"), r
            assert "fence-failed" in await alarms(pair, "dr") or "promotion-needs-operator" in await alarms(pair, "dr")
            pair.cable.restore()
            pair.cut_interconnect(False)
            # a fence retry still out when the paths came back reports the broken switch after them:
            # that alarm is about the device, which is still broken, and may stand
            await settled(pair, allow=frozenset({"fence-failed"}))

            # both, the switch working: the DR fences the primary (its processes die) and takes over
            (tmp_path / "power-switch-broken").unlink()
            pair.cable.cut()
            pair.cut_interconnect()
            await eventually(lambda: _fenced_or_asking(pair), timeout=30)
            if (await roles(pair))["primary"] != "down":
                # the DR could not be sure it held everything: the operator powers the old primary
                # off (the same switch) and confirms the promotion at the console
                assert "promotion-needs-operator" in await alarms(pair, "dr")
                assert fence(tmp_path / "primary")["fenced"] is True
                await request_async(pair.socket("dr", "ha"), "confirm_promotion")
            await wait_roles(pair, {"dr": LIVE, "primary": "down"}, timeout=30)
            epoch = (await request_async(pair.socket("dr"), "status"))["epoch"]
            assert epoch % 2 == 1  # the DR's epochs are odd

            # the old primary comes back behind a higher epoch: it follows, never writes
            pair.cable.restore()
            pair.cut_interconnect(False)
            await pair.start_side("primary")
            await wait_current_standby(pair, "primary", "dr")
            status = await request_async(pair.socket("primary"), "ha.status")
            assert status["role"] == "standby" and not status["accepting_writes"] and status["epoch"] == epoch
        finally:
            await pair.stop()

    link = NetnsInterconnect().up()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 300))
    finally:
        link.close()


async def settled(pair, quiet=1.5, allow=frozenset()):
    """Primary live, DR a current standby without alarms (but those in `allow`), for `quiet` seconds."""
    since = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ok = await roles(pair) == {"primary": "primary-live", "dr": "standby"} and not await alarms(pair, "dr") - allow
        since = (since or time.monotonic()) if ok else None
        if since is not None and time.monotonic() - since >= quiet:
            await wait_current_standby(pair, "dr", "primary", allow=allow)
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the pair did not settle: {await roles(pair)}, {await alarms(pair, 'dr')}")


async def _fenced_or_asking(pair):
    return (await roles(pair))["primary"] == "down" or "promotion-needs-operator" in await alarms(pair, "dr")


async def _has(pair, side, alarm):
    return alarm in await alarms(pair, side)


async def _clear(pair, side, alarm):
    return alarm not in await alarms(pair, side)


async def _role(pair, side, role):
    return (await roles(pair))[side] == role

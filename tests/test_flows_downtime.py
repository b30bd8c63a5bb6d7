"""Scheduled NPAC downtime notice (IIS flow 6.6, seed L34308-34340; FRS RR6-6, RR6-7; GDMO
lnpNPAC-SMS-Operational-Information L41478): a lead time before the outage, a signed, confirmed
M-EVENT-REPORT from lnpNPAC-SMS goes to every Local SMS and only then to every SOA.
"""
import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.lnp.values import decode_plain, gtime
from tests.support.lsms_rig import MINUTE, T0, eventually, start_lsms_rig

DAY = 24 * 60 * MINUTE


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class Arrivals(list):
    """A peer's inbox that also writes who received what into one shared order."""

    def __init__(self, who, order):
        super().__init__()
        self.who, self.order = who, order

    def append(self, item):
        self.order.append(self.who)
        super().append(item)


def test_downtime_notice_goes_to_lsmss_before_soas(tmp_path, keys_dir):
    """Flow 6.6 b-f: at the lead time before the outage, each LSMS is notified and confirms (c-d), then
    each SOA (e-f); the information is the down time, the NPAC contact number and the text (L35026);
    each notice carries the NPAC's access control (checked by the peer, IIS 5.2.3). The schedule is
    in the store and a notice is sent once."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir, downtime_lead_ms=DAY)
        try:
            order: list[str] = []
            sims = await rig.lsms_up("0001", "0003")
            for sim in sims:
                sim.notifications = Arrivals(f"lsms {sim.sp_id}", order)
            for sp in ("0001", "0002"):
                soa = await rig.soa_up(sp)
                soa.events = Arrivals(f"soa {sp}", order)
            notices = rig.side.downtime
            entry = await notices.schedule(T0 + 2 * DAY, T0 + 2 * DAY + 4 * 60 * MINUTE, "8005551212",
                                           "Planned maintenance of the NPAC SMS")
            assert entry["notice_ms"] == T0 + DAY and notices.schedules()[0]["sent_ms"] is None
            await rig.advance(DAY - MINUTE)
            assert order == []
            await rig.advance(MINUTE, settle=lambda: len(order) == 4)
            assert sorted(order[:2]) == ["lsms 0001", "lsms 0003"] and sorted(order[2:]) == ["soa 0001", "soa 0002"]
            name, info = sims[1].notifications[0]
            assert name == "lnpNPAC-SMS-Operational-Information"
            assert info["down-time"] == {"startTime": gtime(T0 + 2 * DAY), "stopTime": gtime(T0 + 2 * DAY + 4 * 60 * MINUTE)}
            assert info["npac-contact-number"] == "8005551212"
            assert info["additional-down-time-information"] == "Planned maintenance of the NPAC SMS"
            assert info["access-control"]["systemId"] == {"npac-sms": "NPAC SMS"}
            request = rig.soas["0002"].events[0][1]
            assert OIDS.by_oid(request.object_class).name == "lnpNPAC-SMS"
            decoded = decode_plain("NPAC-SMS-Operational-Information", request.event_info)
            assert decoded["npac-contact-number"] == "8005551212"
            await eventually(lambda: notices.schedules()[0]["sent_ms"] == T0 + DAY)
            assert await notices.send_due() == []  # sent once
        finally:
            await rig.close()
    run(body())


def test_announce_reports_each_association(tmp_path, keys_dir):
    """Flow 6.6 d, f: NPAC personnel can send a notice at once; each association's confirmation is
    reported, LSMSs first; an outage without a stop time leaves stopTime out (it is optional in
    TimeRange, L43310)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up("0003")
            await rig.soa_up("0002")
            entry = await rig.side.downtime.schedule(T0 + DAY, None, "8005551212", "Switch upgrade")
            deliveries = await rig.side.downtime.announce(entry)
            assert [(d.system_id, d.role, d.confirmed) for d in deliveries] == [("0003", "lsms", True),
                                                                              ("0002", "soa", True)]
            assert sims[0].notifications[0][1]["down-time"] == {"startTime": gtime(T0 + DAY)}
        finally:
            await rig.close()
    run(body())

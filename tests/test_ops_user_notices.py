"""Notices to the users about the NPAC service itself (Exhibit G SLR 22/23, contract 12.5, RN10-4):
sent as lnpNPAC-SMS-Operational-Information to every associated LSMS, then every SOA, and recorded for
the operators. (Carriers that associate later get what they missed: tests/test_ha_pair_carriers.py.)"""
import asyncio
from types import SimpleNamespace

import pytest

from appliance.ops.notices import UserNotices, commands
from appliance.ops.security_log import SecurityLog
from tests.support.lsms_rig import start_lsms_rig


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def test_notices_reach_every_association_lsms_first_and_are_recorded(tmp_path, keys_dir):
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            cfg = SimpleNamespace(data_dir=tmp_path, name="dr", contact_number="8005550100")
            log = SecurityLog(tmp_path / "security.log")
            notices = UserNotices(cfg, rig.agent, log)
            (lsms,) = await rig.lsms_up("0001")
            soa = await rig.soa_up("0001")
            await notices.notify("unscheduled-unavailability", {"node": "dr", "detected_ms": 1_767_268_800_000})
            name, info = lsms.notifications[-1]
            assert name == "lnpNPAC-SMS-Operational-Information"
            assert info["npac-contact-number"] == "8005550100"
            assert "Unscheduled NPAC SMS outage" in info["additional-down-time-information"]
            assert info["down-time"] == {"startTime": "20260101120000Z"}
            assert [n for n, _ in soa.events] == ["lnpNPAC-SMS-Operational-Information"]
            cutovers = []
            notices.on_cutover = lambda start, end, details: cutovers.append((start, end))
            await notices.notify("service-restored", {"node": "dr", "database": {"lost": False},
                                                      "cutover": {"detected": 1000, "completed": 7000}})
            assert cutovers == [(1000, 7000)]  # the SLR 8 record of the cutover
            assert "Database status: no transactions lost" in lsms.notifications[-1][1]["additional-down-time-information"]
            recorded = notices.recent()
            assert [r["kind"] for r in recorded] == ["unscheduled-unavailability", "service-restored"]
            assert {d["system_id"] for d in recorded[0]["delivered"]} == {"0001"}
            assert all(d["confirmed"] for d in recorded[0]["delivered"])
            events = [r for r in log.records() if r["event"] == "user-notice"]
            assert [(e["kind"], e["delivered"], e["confirmed"]) for e in events] == [
                ("unscheduled-unavailability", 2, 2), ("service-restored", 2, 2)]
            listed = await commands()[0].handler(SimpleNamespace(notices=notices), None, limit=1)
            assert [r["kind"] for r in listed] == ["service-restored"]
            with pytest.raises(ValueError):
                await commands()[0].handler(SimpleNamespace(notices=notices), None, limit=0)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(body(), 60))


def test_lost_transaction_window_is_named(tmp_path):
    from appliance.ops.notices import database_status
    text = database_status({"database": {"lost": True, "from_ms": 1_767_268_800_000, "to_ms": 1_767_268_860_000}})
    assert text == "transactions between 2026-01-01 12:00:00Z and 2026-01-01 12:01:00Z may be lost; resubmit them"
    assert database_status({}) == "no transactions lost"

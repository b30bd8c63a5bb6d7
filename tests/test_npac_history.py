"""Transaction history and error log (FRS R5-6 L11374-11422; Table 11-4 History_File_Data_Storage
L23144, Error_Log_Retention_Period L23088; DECISIONS: history one year, the other logs 90 days),
fed by requests over real CMIP from SOA simulators.
"""
from __future__ import annotations

import asyncio

import pytest

from appliance.npac.history import HOUSEKEEPING, History, install_history
from appliance.store.timers import TIMERS
from tests.support.npac_rig import DAY, NEW, OLD, TN, pending_port, start_npac


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(tmp_path, keys_dir, body):
    async def main():
        rig = await start_npac(tmp_path, keys_dir)
        history: History = rig.services.install(install_history)
        try:
            await body(rig, history)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 30))


def test_history_records_every_transaction_with_r5_6_fields(tmp_path, keys_dir):
    """R5-6 (L11382-11422): activity type, SP id, initial/new status, userid, LNP type, date, time,
    ported TN, success/fail flag and version id, for each version a request touched; the file lives
    beside the store (the node's data directory)."""
    async def body(rig, history):
        version_id = await pending_port(rig)
        records = history.history()
        assert [(r["activity"], r["sp_id"], r["initial_status"], r["new_status"]) for r in records] == [
            ("subscriptionVersionOldSP-Create", OLD, None, "pending"),
            ("subscriptionVersionNewSP-Create", NEW, "pending", "pending"),
        ]
        first = records[0]
        assert first["tn"] == TN and first["version_id"] == version_id and first["status_flag"] == "success"
        assert first["lnp_type"] == "lspp" and first["userid"] == OLD
        assert first["date"] == "2026-01-01" and first["time"].startswith("12:00:00")
        assert history.history_path.parent == rig.tmp
    run(tmp_path, keys_dir, body)


def test_refused_request_goes_to_error_log(tmp_path, keys_dir):
    """R5-6 status flag fail, and the error log: a refused activation (the old SP may not activate,
    R5-35) is logged with its cause and CMIP error; nothing else is recorded for it."""
    async def body(rig, history):
        await pending_port(rig)
        refused = await (await rig.soa(OLD)).activate(TN)
        assert not refused.ok
        [error] = history.errors()
        assert error["sp_id"] == OLD and error["targets"] == [TN] and error["text"]
        assert error["activity"] == "subscriptionVersionActivate"
        fail = history.history()[-1]
        assert fail["status_flag"] == "fail" and fail["tn"] == TN and fail["sp_id"] == OLD
    run(tmp_path, keys_dir, body)


def test_retention_housekeeping_from_the_timer_runner(tmp_path, keys_dir):
    """Table 11-4: errors kept 90 days, history 365 days; housekeeping is a daily persisted timer the
    timer runner fires."""
    async def body(rig, history):
        await pending_port(rig)
        await (await rig.soa(OLD)).activate(TN)
        timer = TIMERS.get(rig.store, {"kind": HOUSEKEEPING, "version_id": 0, "target": "logs"})
        assert timer["due_ms"] == rig.clock() + DAY
        rig.clock.advance(91 * DAY)
        await rig.services.timers.run_due()
        assert history.errors() == [] and len(history.history()) == 3
        assert TIMERS.get(rig.store, timer)["due_ms"] > rig.clock()
        rig.clock.advance(275 * DAY)
        assert history.housekeeping() == {"history": 3, "errors": 0}
        assert history.history() == []
    run(tmp_path, keys_dir, body)

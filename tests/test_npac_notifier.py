"""Notification delivery from the durable outbox (ARCHITECTURE "never sent before commit"; DECISIONS
retries: the first send plus SOA_Retry_Attempts (3) resends, SOA_Retry_Interval (2 min) apart, FRS
App. C L22118-22200), re-association, restart, and the node's background loops."""
from __future__ import annotations

import asyncio
import logging

import pytest

from tests.support.npac_rig import DAY, H, MINUTE, NEW, OLD, T0, TN, pending_port, start_npac

OC = "objectCreation"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(tmp_path, keys_dir, body, **rig_kw):
    async def main():
        rig = await start_npac(tmp_path, keys_dir, **rig_kw)
        try:
            await body(rig)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 60))


def test_unconfirmed_notification_is_resent_then_dropped_without_holding_up_others(tmp_path, keys_dir, caplog):
    """A SOA that does not confirm gets the report again every 2 minutes, 4 sends in all, then the NPAC
    gives up and logs it (the SOA resynchronises by query, IIS L30491); the other SOA is not held up."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        new.confirm = False
        assert (await old.old_sp_create(TN, NEW, T0 + DAY, True)).ok
        await rig.settle()
        assert rig.seen() == [(OLD, OC, 1)]
        (row,) = rig.outbox()
        assert (row["recipient"], row["attempts"], row["next_attempt_ms"]) == (NEW, 1, T0 + 2 * MINUTE)
        await rig.advance(MINUTE)
        assert rig.outbox()[0]["attempts"] == 1  # not yet due
        for sends in (2, 3):
            await rig.advance(MINUTE if sends == 2 else 2 * MINUTE)
            assert rig.outbox()[0]["attempts"] == sends
        await rig.advance(2 * MINUTE)
        assert not rig.outbox()
        (dropped,) = rig.outbox("dropped")
        assert dropped["attempts"] == 4 and "processingFailure" in dropped["last_error"]
        assert any("dropped after 4 sends" in r.getMessage() for r in caplog.records)
    caplog.set_level(logging.WARNING, "appliance.npac.notifier")
    run(tmp_path, keys_dir, body)


def test_a_soa_that_associates_again_gets_what_it_missed_in_order(tmp_path, keys_dir):
    """Notifications for a SOA with no association wait in the outbox; when it associates they go out
    at once, in commit order."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        await new.release()
        assert (await old.old_sp_create(TN, NEW, T0 + DAY, True)).ok
        assert (await old.modify(TN, {"old_sp_due_date_ms": T0 + 2 * DAY})).ok
        await rig.settle()
        assert [r["last_error"] for r in rig.outbox()] == ["not associated", None]
        await new.open(rig.hosts())
        await rig.settle()
        assert [(r.name, r.version_id) for r in new.received] == [(OC, 1), ("attributeValueChange", 1)]
        assert not rig.outbox()
    run(tmp_path, keys_dir, body)


def test_the_outbox_survives_a_restart(tmp_path, keys_dir):
    """Rows are written with the change that caused them, so a node stopped before delivering still owes
    them after it starts again on its store."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        await pending_port(rig)
        await new.release()
        assert (await old.cancel(TN)).ok
        await rig.settle()
        assert len(rig.outbox()) == 1
        await rig.restart()
        await rig.settle()
        assert new.notifications("subscriptionVersionStatusAttributeValueChange")[-1].values[
            "subscriptionVersionStatus"] == (2, 10)
        assert not rig.outbox()
    run(tmp_path, keys_dir, body)


def test_background_loops_deliver_and_fire_without_being_asked(tmp_path, keys_dir):
    """`services.start()` runs the notifier and the timer runner as a node does: notifications arrive
    and T1 fires on the clock alone."""
    async def body(rig):
        await rig.services.start()
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(TN, NEW, T0 + DAY, True)).ok
        await new.wait_for(OC)
        rig.clock.advance(18 * H)
        await new.wait_for("subscriptionVersionNewSP-CreateRequest")
        assert rig.services.timers.fired == 1
    run(tmp_path, keys_dir, body, poll_s=0.05)

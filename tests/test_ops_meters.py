"""Service-level meters (Exhibit G): what each hook records, how buckets and intervals are written
through the one writer, a crash's effect on the node's in-service interval, and the histogram and
interval arithmetic the reports rely on (property tests). Ends with the meters on a live node: a
port from SOA requests to broadcast, recorded as the reports read it."""
from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from appliance.lnp.security import LOCAL_SMS, SOA_AND_LOCAL_SMS
from appliance.npac.effects import Broadcast
from appliance.npac.model import BroadcastOp
from appliance.ops import meter_records as mr
from appliance.ops.meters import install_meters, sv_subtype
from appliance.ops.reports.service_levels import measure
from appliance.osi import cmip
from appliance.osi.transport import AssociationLost
from appliance.store.broadcasts import BROADCASTS
from tests.support.meter_rig import Clock, Conn, Services, associate, committed, disassociate, ms, outgoing, request
from tests.support.npac_rig import active_port, start_npac
from tests.support.report_run import action, lsms_create, query

HOUR = mr.HOUR_MS
T0 = ms("2026-05-04 10:00")


def arun(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def rig(tmp_path, now=T0):
    clock = Clock(now)
    services = Services(tmp_path / "npac.sqlite", clock)
    meters = install_meters(services, node="primary", flush_s=3600)
    return clock, services, meters


def buckets(services, kind=None):
    rows = services.store.select("slr_buckets", "kind = ?" if kind else None, [kind] if kind else [])
    return {(r["kind"], r["party"]): r for r in rows}


# ---- what each hook records ------------------------------------------------------------------------
def test_carrier_requests_timed_and_classified(tmp_path):
    """SLR 3 (L86404): SOA and LSMS transactions apart from queries, audits and edits; processing time
    from arrival to answer, per system id."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        soa, lsms, both = Conn("0001"), Conn("0002", LOCAL_SMS), Conn("0003", SOA_AND_LOCAL_SMS,
                                                                          frozenset({"soa.soaMgmt", "lsms.dataDownload"}))
        request(meters, clock, soa, action(), 120)
        request(meters, clock, soa, query(), 900)
        request(meters, clock, soa, action(), 40, answer=cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, None))
        request(meters, clock, soa, action("subscriptionVersionActivate"), 70, answer=RuntimeError("failed"))
        request(meters, clock, lsms, action("lnpRecoveryComplete"), 300)
        request(meters, clock, both, action("lnpRecoveryComplete"), 10)
        request(meters, clock, both, action(), 20)
        await meters.flush()
        b = buckets(services)
        hour = T0 - T0 % HOUR
        assert {k: (r["count"], r["errors"], r["sum_ms"], r["max_ms"], r["hist"]) for k, r in b.items()} == {
            ("soa-request", "0001"): (2, 1, 190, 120, {"120": 1, "70": 1}),
            ("soa-misc", "0001"): (2, 1, 940, 900, {"900": 1, "40": 1}),
            ("lsms-request", "0002"): (1, 0, 300, 300, {"300": 1}),
            ("lsms-request", "0003"): (1, 0, 10, 10, {"10": 1}),
            ("soa-request", "0003"): (1, 0, 20, 20, {"20": 1}),
        }
        assert {r["start_ms"] for r in b.values()} == {hour}
        services.close()
    arun(main())


def test_npac_requests_round_trip_per_lsms_and_soa(tmp_path):
    """SLR 6 (L86482): requests the NPAC sends to an LSMS, timed to their answer; notifications to SOAs
    apart; a lost association counts as an error."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        lsms, soa = Conn("0002", LOCAL_SMS), Conn("0001")
        event = cmip.EventReportRequest("1.2.3", (), "1.2.4")
        outgoing(meters, clock, lsms, lsms_create(), 30)
        outgoing(meters, clock, lsms, lsms_create(), 50, outcome=AssociationLost("gone"))
        outgoing(meters, clock, lsms, event, 5)  # a notification to an LSMS association
        outgoing(meters, clock, soa, event, 80)
        await meters.flush()
        b = buckets(services)
        assert (b[("lsms-transaction", "0002")]["count"], b[("lsms-transaction", "0002")]["errors"]) == (3, 1)
        assert b[("lsms-transaction", "0002")]["sum_ms"] == 85
        assert (b[("soa-notification", "0001")]["count"], b[("soa-notification", "0001")]["max_ms"]) == (1, 80)
        services.close()
    arun(main())


def test_broadcasts_per_version_and_per_lsms_and_usage(tmp_path):
    """SLR 4 (L86430): broadcast start (the commit deciding it) to broadcast complete; per LSMS from
    the broadcasts table; usage: SV transactions by subtype and TN porting events (Exhibit E/K)."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        version = SimpleNamespace(version_id=7, broadcast_kind="activate", broadcast_ms=T0)
        committed(meters, version_ids=(7,), versions=(version,), effects=(Broadcast(7, BroadcastOp.CREATE),),
                  operation="subscriptionVersionActivate", requester="0001")

        def rows(tx):
            BROADCASTS.put(tx, {"version_id": 7, "lsms_sp_id": "0002", "operation": "create", "state": "succeeded",
                                "sends": 1, "first_sent_ms": T0, "last_sent_ms": T0, "result_ms": T0 + 2_000})
            BROADCASTS.put(tx, {"version_id": 7, "lsms_sp_id": "0003", "operation": "create", "state": "failed",
                                "sends": 4, "first_sent_ms": T0, "last_sent_ms": T0, "result_ms": T0 + 9_000})
        await services.writer.run("broadcast rows", rows)
        clock.set(T0 + 9_500)
        committed(meters, version_ids=(7,), versions=(version,), operation="broadcast-complete")
        committed(meters, version_ids=(8, 9), operation="subscriptionVersionDisconnect", requester="0002")
        committed(meters, version_ids=(10,), operation="set", requester="0002")
        await meters.flush()
        b = buckets(services)
        assert (b[("broadcast", "activate")]["count"], b[("broadcast", "activate")]["sum_ms"]) == (1, 9_500)
        assert (b[("broadcast-lsms", "0002")]["sum_ms"], b[("broadcast-lsms", "0002")]["errors"]) == (2_000, 0)
        assert (b[("broadcast-lsms", "0003")]["sum_ms"], b[("broadcast-lsms", "0003")]["errors"]) == (9_000, 1)
        usage = {p: r["count"] for (k, p), r in b.items() if k == "usage"}
        assert usage == {"0001|SV transactions|activate": 1, "0001|TN Porting Event|": 1,
                         "0002|SV transactions|disconnect": 2, "0002|SV transactions|modify": 1}
        services.close()
    arun(main())


def test_sv_subtypes_follow_exhibit_k():
    """Exhibit K Table 8 field 9 (L95402): create, activate, modify, disconnect, conflict, conflict
    resolution, cancel."""
    assert [sv_subtype(op) for op in (
        "subscriptionVersionNewSP-Create", "subscriptionVersionOldSP-Create", "subscriptionVersionActivate",
        "subscriptionVersionDisconnect", "subscriptionVersionNewSP-CancellationAcknowledge",
        "subscriptionVersionOldSP-ConflictResolution", "subscriptionVersionRemoveFromConflict", "set",
        "timer conflict-expiration")] == ["create", "create", "activate", "disconnect", "cancel",
                                          "conflict resolution", "conflict resolution", "modify", "conflict"]


# ---- buckets and intervals through the writer --------------------------------------------------
def test_flushes_merge_into_one_hour_row(tmp_path):
    """One row per hour, kind and party however many flushes; a second split across flushes is one
    active second; the busiest second is kept across flushes; each flush is one journal row."""
    async def main():
        clock, services, meters = await rig(tmp_path, T0 + 500)
        soa = Conn("0001")
        request(meters, clock, soa, action(), 100)   # answered at .600
        await meters.flush()
        before = services.store.last_sequence()
        request(meters, clock, soa, action(), 100)   # .700, same second
        request(meters, clock, soa, action(), 400)   # 1.100, next second
        clock.set(T0 + HOUR + 10)
        request(meters, clock, soa, action(), 3_000)  # the next hour
        await meters.flush()
        assert services.store.last_sequence() == before + 1
        rows = services.store.select("slr_buckets", "kind = ?", ["soa-request"], order_by="start_ms")
        assert [(r["start_ms"], r["count"], r["active_s"], r["peak_per_s"], r["hist"]) for r in rows] == [
            (T0, 3, 2, 2, {"100": 2, "400": 1}), (T0 + HOUR, 1, 1, 1, {"3000": 1})]
        services.close()
    arun(main())


def test_interface_and_service_intervals(tmp_path):
    """G(a), G(b): the node in service from start to close; a carrier's interface up while it has at
    least one association, each down and up between flushes kept."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        await meters.start()
        a, b = Conn("0001"), Conn("0001")
        associate(meters, a)
        associate(meters, b)
        clock.set(T0 + 1_000)
        await disassociate(a)  # one left: still up
        clock.set(T0 + 2_000)
        await disassociate(b)
        clock.set(T0 + 3_000)
        c = Conn("0001")
        associate(meters, c)
        clock.set(T0 + 4_000)
        await disassociate(c)
        clock.set(T0 + 5_000)
        associate(meters, Conn("0001"))
        clock.set(T0 + 6_000)
        await meters.flush()
        rows = services.store.select("slr_intervals", order_by="interval_id")
        got = [(r["kind"], r["party"], r["start_ms"], r["end_ms"], r["open"]) for r in rows]
        assert got == [("service", "primary", T0, T0 + 6_000, True),
                       ("interface", "0001", T0, T0 + 2_000, False),
                       ("interface", "0001", T0 + 3_000, T0 + 4_000, False),
                       ("interface", "0001", T0 + 5_000, T0 + 6_000, True)]
        clock.set(T0 + 7_000)
        await meters.close()
        rows = services.store.select("slr_intervals", "open = 1")
        assert rows == []
        assert services.store.get("slr_intervals", 1)["end_ms"] == T0 + 7_000
        assert buckets(services)[("association", "0001")]["count"] == 4
        services.close()
    arun(main())


def test_crash_counts_from_the_last_flush(tmp_path):
    """A node that dies leaves its interval open, ended at its last flush; the next start closes it,
    and the time in between is service unavailability (SLR 1)."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        await meters.start()
        clock.set(T0 + 10 * 60_000)
        await meters.flush()
        meters.detach()
        meters._task.cancel()
        clock.set(T0 + 40 * 60_000)  # died after the last flush; back 30 min later
        again = install_meters(services, node="primary", flush_s=3600)
        await again.start()
        clock.set(T0 + 60 * 60_000)
        await again.close()
        rows = services.store.select("slr_intervals", order_by="interval_id")
        assert [(r["start_ms"], r["end_ms"], r["open"]) for r in rows] == [
            (T0, T0 + 10 * 60_000, False), (T0 + 40 * 60_000, T0 + 60 * 60_000, False)]
        m = measure(services.store, T0, T0 + HOUR, T0 + HOUR)
        assert (m.unavailable_ms, m.window_ms) == (30 * 60_000, HOUR)
        assert m.availability_pct == 50.0
        services.close()
    arun(main())


def test_light_flush_keeps_buckets_for_the_full_one(tmp_path):
    """Every few seconds only the node's sign of life, events and interval changes go to the journal;
    the buckets (with their histograms) and open interfaces' ends wait for the minute's full flush."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        await meters.start()
        associate(meters, Conn("0001"))
        request(meters, clock, Conn("0001"), action(), 10)
        meters.record_event(mr.CUTOVER, T0, T0 + 60_000)
        clock.set(T0 + 5_000)
        await meters.flush(full=False)
        assert buckets(services) == {}
        rows = {(r["kind"], r["party"]): r for r in services.store.select("slr_intervals")}
        assert rows[("service", "primary")]["end_ms"] == T0 + 5_000
        assert rows[("interface", "0001")]["end_ms"] == T0 + 5_000 and ("cutover", "") in rows  # new: written
        clock.set(T0 + 10_000)
        await meters.flush(full=False)
        rows = {(r["kind"], r["party"]): r for r in services.store.select("slr_intervals")}
        assert rows[("service", "primary")]["end_ms"] == T0 + 10_000
        assert rows[("interface", "0001")]["end_ms"] == T0 + 5_000  # its end waits for the full flush
        clock.set(T0 + 60_000)
        await meters.flush()
        assert buckets(services)[("soa-request", "0001")]["count"] == 1
        assert services.store.get("slr_intervals", rows[("interface", "0001")]["interval_id"])["end_ms"] == T0 + 60_000
        await meters.close()
        services.close()
    arun(main())


def test_failed_flush_keeps_what_was_observed(tmp_path):
    async def main():
        clock, services, meters = await rig(tmp_path)
        request(meters, clock, Conn("0001"), action(), 10)
        meters.record_event(mr.CUTOVER, T0, T0 + 60_000)
        real = services.writer.run

        async def broken(note, fn):
            raise OSError("disk full")
        services.writer.run = broken
        with pytest.raises(OSError):
            await meters.flush()
        services.writer.run = real
        await meters.flush()
        assert buckets(services)[("soa-request", "0001")]["count"] == 1
        assert [r["kind"] for r in services.store.select("slr_intervals")] == ["cutover"]
        services.close()
    arun(main())


def test_large_flush_holds_the_writer_a_few_rows_at_a_time(tmp_path):
    """40 bucket rows go in transactions of 16 (the one writer is never held long); a failure part way
    keeps the rows not yet written for the next flush, so nothing is counted twice or lost."""
    async def main():
        clock, services, meters = await rig(tmp_path)
        for i in range(40):
            request(meters, clock, Conn(f"{i:04d}"), action(), 5)
        before = services.store.last_sequence()
        real, calls = services.writer.run, []

        async def second_fails(note, fn):
            calls.append(note)
            if len(calls) == 2:
                raise OSError("disk full")
            return await real(note, fn)
        services.writer.run = second_fails
        with pytest.raises(OSError):
            await meters.flush()
        assert services.store.last_sequence() == before + 1 and len(buckets(services)) == 16
        services.writer.run = real
        await meters.flush()
        assert services.store.last_sequence() == before + 3
        assert {r["count"] for r in buckets(services).values()} == {1} and len(buckets(services)) == 40
        services.close()
    arun(main())


def test_record_event_refuses_what_it_cannot_count(tmp_path):
    async def main():
        _, services, meters = await rig(tmp_path)
        with pytest.raises(ValueError, match="unknown service-level event kind"):
            meters.record_event("party", T0, T0 + 1)
        with pytest.raises(ValueError, match="ends before it starts"):
            meters.record_event(mr.OUTAGE, T0, T0 - 1)
        meters.detach()
        assert services.agent.request_observers == [] and services.engine.listeners == []
        services.close()
    arun(main())


def test_current_month_summary_for_status_and_snmp(tmp_path):
    """The status document's and the MIB's Exhibit G meters: availability, p95 acknowledgement, mean
    broadcast time, TPS per SOA and per LSMS, over the current calendar month."""
    async def main():
        clock, services, meters = await rig(tmp_path, ms("2026-05-31 23:00"))
        await meters.start()
        soa, lsms = Conn("0001"), Conn("0002", LOCAL_SMS)
        associate(meters, soa)
        for took in (100, 200, 300, 400):
            request(meters, clock, soa, action(), took)
        outgoing(meters, clock, lsms, lsms_create(), 20)
        v = SimpleNamespace(version_id=1, broadcast_kind="activate", broadcast_ms=clock.now)
        committed(meters, version_ids=(1,), versions=(v,), effects=(Broadcast(1, BroadcastOp.CREATE),))
        clock.set(clock.now + 4_000)
        committed(meters, version_ids=(1,), versions=(v,), operation="broadcast-complete")
        await meters.flush()
        now = meters.current_month()
        assert now["month"] == "2026-05" and now["availability_pct"] == 100.0
        assert (now["p95_ack_ms"], now["mean_broadcast_ms"]) == (400, 4000.0)
        # answers at .100, .300, .600 and 1.000: four in two busy seconds
        assert now["tps_soa"] == {"0001": 2.0} and now["tps_lsms"] == {"0002": 1.0}
        assert now["interface_availability_pct"] == {"0001": 100.0}
        levels = meters.status_levels()  # the status document's shape, read by the SNMP agent
        assert (levels.month, levels.availability, levels.ack_p95_ms, levels.broadcast_mean_ms) == (
            "2026-05", 100.0, 400, 4000.0)
        assert [(c.system_id, c.soa_tps, c.lsms_tps, c.availability) for c in levels.carriers] == [
            ("0001", 2.0, None, 100.0), ("0002", None, 1.0, None)]
        clock.set(ms("2026-06-01 00:30"))  # a new month starts empty
        await meters.flush()
        assert meters.current_month()["p95_ack_ms"] is None
        await meters.close()
        services.close()
    arun(main())


# ---- properties ------------------------------------------------------------------------------------
latencies = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=300)


@given(latencies, st.sampled_from([50, 90, 95, 99, 100]))
def test_histogram_percentile_never_below_and_within_one_percent(values, pct):
    """Three significant digits: the percentile read from the histogram is the exact nearest-rank one
    rounded up, at most 1 % above it."""
    hist: dict[str, int] = {}
    for v in values:
        mr.hist_add(hist, v)
    exact = sorted(values)[max(1, math.ceil(len(values) * pct / 100)) - 1]
    got = mr.percentile(hist, pct)
    assert exact <= got <= max(exact * 1.01, exact + 1)
    assert got == mr.hist_key(exact)


@given(latencies, st.integers(min_value=0, max_value=300))
def test_histogram_merge_is_the_histogram_of_the_whole(values, cut):
    whole, a, b = {}, {}, {}
    for i, v in enumerate(values):
        mr.hist_add(whole, v)
        mr.hist_add(a if i < cut else b, v)
    assert mr.hist_merge(a, b) == whole


spans = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)).map(lambda t: (min(t), max(t))), max_size=8)


@given(spans, spans, st.integers(0, 60), st.integers(0, 60))
def test_interval_arithmetic_matches_sets_of_instants(a, b, lo, hi):
    """union / subtract / clip / total agree with the same operations on sets of unit instants."""
    def instants(ss):
        return {t for s, e in ss for t in range(s, e)}
    assert instants(mr.union(a)) == instants(a) and mr.total(a) == len(instants(a))
    assert instants(mr.subtract(a, b)) == instants(a) - instants(b)
    assert instants(mr.clip(a, lo, hi)) == {t for t in instants(a) if lo <= t < hi}
    merged = mr.union(a)
    assert all(e1 < s2 for (_, e1), (s2, _) in zip(merged, merged[1:]))


steps = st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(1, 5_000), st.booleans()), max_size=25)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_interface_intervals_are_the_union_of_associations(tmp_path_factory, plan):
    """G(b) as a state machine: whatever order up to four associations of one carrier open and close
    in (flushes in between or not), the written interface intervals are exactly the stretches with at
    least one association open."""
    async def main():
        clock, services, meters = await rig(tmp_path_factory.mktemp("iface"))
        conns: dict[int, Conn] = {}
        spans, opened_at = [], None
        for slot, up, wait, flush in plan:
            clock.set(clock.now + wait)
            if up and slot not in conns:
                conns[slot] = Conn("0001")
                associate(meters, conns[slot])
                opened_at = clock.now if opened_at is None else opened_at
            elif not up and slot in conns:
                await disassociate(conns.pop(slot))
                if not conns:
                    spans.append((opened_at, clock.now))
                    opened_at = None
            if flush:
                await meters.flush()
        clock.set(clock.now + 1_000)
        if opened_at is not None:
            spans.append((opened_at, clock.now))
        await meters.flush()
        rows = services.store.select("slr_intervals", "kind = ?", ["interface"], order_by="interval_id")
        assert [(r["start_ms"], r["end_ms"]) for r in rows] == spans
        assert [r["open"] for r in rows] == [False] * (len(spans) - bool(conns)) + [True] * bool(conns)
        services.close()
    arun(main())


# ---- on a live node ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def test_live_port_recorded_end_to_end(tmp_path, keys_dir):
    """A port on a live node (SOA simulators over CMIP, the engine, a broadcast round): the agent's
    hooks time each SOA action, the engine's listener the broadcast and the usage, as the reports read."""
    async def main():
        npac = await start_npac(tmp_path, keys_dir)
        meters = npac.services.install(lambda services: install_meters(services, node="primary", flush_s=3600))
        try:
            await meters.start()
            await active_port(npac)
            await meters.flush()
            b = {(r["kind"], r["party"]): r for r in npac.store.select("slr_buckets")}
            # old SP create (0002), new SP create and activate (0001)
            assert b[("soa-request", "0002")]["count"] == 1 and b[("soa-request", "0001")]["count"] == 2
            assert b[("broadcast", "activate")]["count"] == 1
            usage = {p: r["count"] for (k, p), r in b.items() if k == "usage"}
            assert usage["0001|TN Porting Event|"] == 1 and usage["0001|SV transactions|activate"] == 1
            assert usage["0002|SV transactions|create"] == 1 and usage["0001|SV transactions|create"] == 1
            intervals = {(r["kind"], r["party"]) for r in npac.store.select("slr_intervals")}
            assert {("service", "primary"), ("interface", "0001"), ("interface", "0002")} <= intervals
        finally:
            await npac.close()
    arun(main())

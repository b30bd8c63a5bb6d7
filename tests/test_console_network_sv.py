"""`npac npanxx|lrn|sv ...` against a live node: network data by NPAC personnel (FRS R3-3, RR4-1,
RR4-3, RR3-2; flows 6.3.8/6.3.9) reaching the LSMS simulators, and subscription-version query and
personnel actions (R4-29, R4-30.6, R5-43, R5-70, RR5-38) going through the same engine as a SOA's."""
import asyncio
import json

import pytest

from appliance.npac.model import Status
from appliance.store.network import LRNS, NPA_NXX
from tests.support.console_rig import NEW_SP, start_console
from tests.support.lsms_rig import eventually
from tests.support.npac_rig import TN, pending_port


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_npa_nxx_and_lrn_created_and_deleted_reach_the_lsmss(tmp_path, keys_dir):
    """R3-3, R3-9, RR3-2: personnel create a provider, then an NPA-NXX and an LRN for it, and delete
    them; each LSMS taking network data receives every M-CREATE and M-DELETE."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        sims = rig.npac.lsms.values()
        try:
            assert (await rig.npac_cli(*NEW_SP)).code == 0
            made = await rig.npac_cli("npanxx", "create", "0009", "720556", "--effective", "20260105000000")
            assert made.code == 0, made.err
            row = NPA_NXX.by_value(rig.store, "720556")
            assert row["sp_id"] == "0009" and row["effective_ms"] == 1_767_571_200_000
            await eventually(lambda: all("720556" in s.mib.network_data().get("0009", {}).get("npa_nxx", {}).values()
                                         for s in sims))
            assert (await rig.npac_cli("lrn", "create", "0009", "7205560000")).code == 0
            await eventually(lambda: all(len(s.mib.network_data().get("0009", {}).get("lrn", {})) == 1 for s in sims))
            listed = await rig.npac_cli("npanxx", "list", "--sp", "0009")
            assert "720556" in listed.out and "212555" not in listed.out
            assert "7205560000" in (await rig.npac_cli("lrn", "list")).out

            assert (await rig.npac_cli("npanxx", "delete", "720556")).code == 0
            assert (await rig.npac_cli("lrn", "delete", "7205560000")).code == 0
            await eventually(lambda: all(not s.mib.network_data()["0009"]["npa_nxx"]
                                         and not s.mib.network_data()["0009"]["lrn"] for s in sims))
            assert NPA_NXX.by_value(rig.store, "720556") is None and LRNS.by_value(rig.store, "7205560000") is None
        finally:
            await rig.close()
    run(body())


def test_network_data_in_use_cannot_be_deleted(tmp_path, keys_dir):
    """RR4-3, RP3-3.1/3.2: an NPA-NXX or LRN a live version uses stays; duplicates are refused (R4-7.2
    reading for network data); an unknown one is named."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            await pending_port(rig.npac)
            before = rig.store.last_sequence()
            for argv, needle in ((("npanxx", "delete", "303555"), "not old or canceled"),
                                 (("lrn", "delete", "3035550001"), "not old or canceled"),
                                 (("npanxx", "create", "0001", "303555"), "exists"),
                                 (("npanxx", "delete", "999999"), "no NPA-NXX 999999"),
                                 (("lrn", "create", "0001", "30355"), "must be 10 digits"),
                                 (("npanxx", "create", "0001", "720557", "--effective", "tomorrow"), "not a GMT time")):
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and needle in out.err and out.err.count("\n") == 1, (argv, out.err)
            assert rig.store.last_sequence() == before
        finally:
            await rig.close()
    run(body())


def test_query_conflict_and_cancel_by_npac_personnel(tmp_path, keys_dir):
    """R4-29 query keys; R5-43 (T7A1: pending -> conflict by NPAC personnel), R5-70 (conflict ->
    cancel-pending, then both SOAs are asked to acknowledge); a refused transition prints the
    machine's reason and commits nothing."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            version = await pending_port(rig.npac)
            found = json.loads((await rig.npac_cli("--json", "sv", "query", "--tn", TN)).out)
            assert [v["version_id"] for v in found["versions"]] == [version]
            assert found["versions"][0]["status"] == "pending"
            table = await rig.npac_cli("sv", "query", "--sp", "0001", "--status", "pending,conflict")
            assert str(version) in table.out and "VERSION" in table.out
            nothing = await rig.npac_cli("sv", "query", "--status", "old")
            assert nothing.code == 0 and "no data matched" in nothing.out  # R4-30.8

            assert (await rig.npac_cli("sv", "conflict", str(version))).code == 0
            assert rig.npac.status(version) is Status.CONFLICT
            before = rig.store.last_sequence()
            again = await rig.npac_cli("sv", "conflict", str(version))
            assert again.code == 1 and rig.store.last_sequence() == before
            canceled = await rig.npac_cli("sv", "cancel", str(version))
            assert canceled.code == 0 and "cancel-pending" in canceled.out
            assert rig.npac.status(version) is Status.CANCEL_PENDING
            await rig.npac.settle()
            assert ("0001", "subscriptionVersionStatusAttributeValueChange", version) in rig.npac.seen()
        finally:
            await rig.close()
    run(body())


def test_query_limit_and_bad_keys(tmp_path, keys_dir):
    """R4-30.6: more matches than Max_Subscriber_Query are refused with their count; every bad key
    is one line."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            assert (await rig.npac_cli("tunable", "set", "max_subscriber_query", "10")).code == 0

            def versions(tx):
                for n in range(12):
                    tx.upsert("subscription_versions", {"version_id": 500 + n, "tn": f"303555{n:04d}", "status": 8,
                                                        "old_sp": "0002", "new_sp": "0001"})
            rig.npac.services.writer.run_now("old versions", versions)
            over = await rig.npac_cli("sv", "query", "--npa-nxx", "303555")
            assert over.code == 1 and "12 versions match, more than Max_Subscriber_Query 10" in over.err
            ten = await rig.npac_cli("--json", "sv", "query", "--range", "3035550000-3035550009")
            assert json.loads(ten.out)["count"] == 10
            for argv, needle in ((("sv", "query"), "at least one search key"),
                                 (("sv", "query", "--status", "zombie"), "status 'zombie' must be one of"),
                                 (("sv", "query", "--range", "3035550009-3035550001"), "runs backwards"),
                                 (("sv", "cancel", "abc"), "version id 'abc' must be a whole number"),
                                 (("sv", "resend", "999"), "no subscription version 999")):
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and needle in out.err, (argv, out.err)
        finally:
            await rig.close()
    run(body())


def test_resend_to_the_failed_lsms(tmp_path, keys_dir):
    """RR5-38 (flow 6.4.2): an activation one LSMS refuses ends partially failed; NPAC personnel
    resend it to that LSMS only, and the version becomes active once it accepts."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            rig.npac.fail_at("0003", TN)
            version = await pending_port(rig.npac)
            assert (await (await rig.npac.soa("0001")).activate(TN)).ok
            await rig.npac.settle()
            await rig.npac.finish_broadcasts()
            assert rig.npac.status(version) is Status.DOWNLOAD_FAILED_PARTIAL
            wrong = await rig.npac_cli("sv", "resend", str(version), "--lsms", "0002")
            assert wrong.code == 1 and "0002 did not fail" in wrong.err
            rig.npac.lsms["0003"].fail_tns.clear()
            rig.use("oper")
            resent = await rig.npac_cli("sv", "resend", str(version))
            assert resent.code == 0, resent.err
            await eventually(lambda: TN in rig.npac.lsms["0003"].mib.versions())
            await rig.npac.settle()
            await eventually(lambda: rig.npac.status(version) is Status.ACTIVE)
            log = rig.ctx.security_log.records()
            assert any(r["event"] == "operator-action" and r.get("command") == "sv.resend" and r.get("user") == "oper"
                       for r in log)
        finally:
            await rig.close()
    run(body())

"""`npac sp ...` against a live node: service-provider administration by NPAC personnel (FRS §4
R4-1..R4-22, RR4-1/2/4; flows 6.3.1-6.3.3) and Exhibit A certification, with the effect checked in the
store and at the LSMS simulators; an auditor is refused every change (issue: "an auditor cannot
change anything")."""
import asyncio
import json

import pytest
from hypothesis import given, strategies as st

from appliance.ops import personnel
from appliance.ops.personnel_commands import commands as personnel_commands
from appliance.store.network import SERVICE_PROVIDERS
from tests.support.console_rig import NEW_SP, start_console
from tests.support.lsms_rig import eventually


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_create_show_rename_delete_service_provider(tmp_path, keys_dir):
    """R4-1, R4-8 (required data, RE/BI defaulting to the SP contact), R4-10 (success shown), R4-7.2
    (duplicate refused, exit 1, nothing committed), RR4-4 (name pushed to the LSMSs), R4-15.2, R4-21,
    R4-22.1 (deleted SP kept as history)."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            made = await rig.npac_cli(*NEW_SP)
            assert made.code == 0, made.err
            assert "service provider 0009 created" in made.out
            row = SERVICE_PROVIDERS.get(rig.store, "0009")
            assert row["system_type"] == 2 and row["customer_type"] == "CLEC" and row["download_network_data"]
            assert set(row["allowable_functions"]) == {"soa-mgmt", "soa-network-data-mgmt", "lsms-data-download",
                                                       "lsms-network-data-mgmt", "lsms-query"}
            assert sorted(c["type"] for c in row["contacts"]) == ["BI", "NC", "RE", "SE"]
            assert row["max_query"] == 50  # Max_Subscriber_Query default (App. C L20968)
            sims = rig.npac.lsms
            await eventually(lambda: all("0009" in s.mib.network_data() for s in sims.values()))

            before = rig.store.last_sequence()
            again = await rig.npac_cli(*NEW_SP)
            assert again.code == 1 and again.out == ""
            assert again.err.count("\n") == 1 and "exists" in again.err
            assert rig.store.last_sequence() == before

            shown = await rig.npac_cli("sp", "show", "0009")
            assert shown.code == 0
            assert "Ninth Carrier" in shown.out and "S tsap=0001 ssap=0001 psap=00000001" in shown.out
            as_json = json.loads((await rig.npac_cli("--json", "sp", "show", "0009")).out)
            assert as_json["certification"]["connectivity"] is None and as_json["live_versions"] == 0

            renamed = await rig.npac_cli("sp", "modify", "0009", "--name", "Ninth Renamed")
            assert renamed.code == 0, renamed.err
            await eventually(lambda: all(s.mib.network_data()["0009"]["name"] == "Ninth Renamed"
                                         for s in sims.values()))

            gone = await rig.npac_cli("sp", "delete", "0009")
            assert gone.code == 0, gone.err
            await eventually(lambda: all("0009" not in s.mib.network_data() for s in sims.values()))
            assert SERVICE_PROVIDERS.get(rig.store, "0009")["deleted_ms"] is not None
            listed = await rig.npac_cli("sp", "list")
            assert "0009" not in listed.out and "0001" in listed.out
            assert "0009" in (await rig.npac_cli("sp", "list", "--all")).out
            twice = await rig.npac_cli("sp", "delete", "0009")
            assert twice.code == 1 and "no service provider 0009" in twice.err
        finally:
            await rig.close()
    run(body())


def test_delete_refused_while_network_data_or_live_versions_reference_it(tmp_path, keys_dir):
    """RR4-1, RR4-2 (NPA-NXX and LRN data first), R4-22.2 (no delete while live versions name it)."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            has_data = await rig.npac_cli("sp", "delete", "0002")
            assert has_data.code == 1 and "still has NPA-NXX data" in has_data.err
            assert (await rig.npac_cli(*NEW_SP)).code == 0

            def version(tx):
                tx.upsert("subscription_versions", {"version_id": 900, "tn": "3035559999", "status": 2,
                                                    "old_sp": "0002", "new_sp": "0009"})
            rig.npac.services.writer.run_now("a pending port to 0009", version)
            refused = await rig.npac_cli("sp", "delete", "0009")
            assert refused.code == 1 and "R4-22.2" in refused.err
            assert SERVICE_PROVIDERS.get(rig.store, "0009")["deleted_ms"] is None
        finally:
            await rig.close()
    run(body())


BAD_ARGUMENTS = [
    (["sp", "create", "00099", "--name", "X", "--type", "soa", "--customer-type", "C"], "4 letters or digits"),
    (NEW_SP[:-2], "LSMS (L) network address is required"),
    (NEW_SP[:11] + NEW_SP[13:], "must include SE"),
    (NEW_SP + ["--functions", "soa-mgmt,teleport"], "unknown functions teleport"),
    (NEW_SP[:-1] + ["L:zz:0001:00000001"], "TSAP 'zz' must be hex"),
    (["sp", "modify", "0001"], "nothing to change"),
    (["sp", "modify", "0001", "--max-query", "0"], "maximum query 0 is outside"),
    (["sp", "certify", "0001", "turn-up"], "turn-up needs connectivity first"),
    (["sp", "show", "7777"], "no service provider 7777"),
    (["call", "sp.create", "sp_id=0010", "name=Tenth", "system_type=soa"], "customer type (R4-8 item 2) is required"),
    (["call", "sp.create", "sp_id=0010", "name=Tenth", "system_type=scp"], "system type 'scp' must be one of"),
]


def test_bad_arguments_are_one_line_and_change_nothing(tmp_path, keys_dir):
    """Issue: every command validates its arguments and says in one line what is wrong."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            before = rig.store.last_sequence()
            for argv, needle in BAD_ARGUMENTS:
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and out.out == "", (argv, out)
                assert out.err.startswith("npac: ") and out.err.count("\n") == 1 and needle in out.err, out.err
            assert rig.store.last_sequence() == before
        finally:
            await rig.close()
    run(body())


def test_certification_follows_exhibit_a_steps(tmp_path, keys_dir):
    """Exhibit A (L4076-4092): connectivity, keys, association, turn-up, SP-to-SP in order; certified
    when all are done; a step cannot be withdrawn while a later one stands."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            for step in ("connectivity", "keys", "association", "turn-up"):
                assert (await rig.npac_cli("sp", "certify", "0003", step)).code == 0
            assert "certified: no" in (await rig.npac_cli("sp", "certify", "0003", "turn-up")).out
            clear = await rig.npac_cli("sp", "certify", "0003", "keys", "--clear")
            assert clear.code == 1 and "clear turn-up before keys" in clear.err
            done = await rig.npac_cli("sp", "certify", "0003", "sp-to-sp")
            assert "certified: yes" in done.out
            assert json.loads((await rig.npac_cli("--json", "sp", "show", "0003")).out)["certified"] is True
            assert rig.store.get("meta", "certification:0003")["value"]["sp-to-sp"]["by"] == "admin"
        finally:
            await rig.close()
    run(body())


def test_auditor_reads_but_cannot_change(tmp_path, keys_dir):
    """FRS §7 roles: the auditor lists and shows; every change is refused before it reaches the node's
    services, and the operator (no administer permission) cannot create a provider either."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            rig.use("audit")
            assert (await rig.npac_cli("sp", "list")).code == 0
            before = rig.store.last_sequence()
            for argv in (NEW_SP, ["sp", "delete", "0003"], ["sp", "certify", "0003", "connectivity"],
                         ["sp", "modify", "0001", "--name", "Mine Now"]):
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and "audit (auditor) may not administer" in out.err
            changing = [c.name for c in personnel_commands() if c.permission in ("operate", "administer")]
            assert len(changing) >= 15
            for op in changing:  # every personnel change, whatever its arguments
                out = await rig.npac_cli("call", op)
                assert out.code == 1 and "audit (auditor) may not" in out.err, (op, out.err)
            rig.use("oper")
            assert "may not administer" in (await rig.npac_cli(*NEW_SP)).err
            rig.use(None)
            logged_out = await rig.npac_cli("sp", "list")
            assert logged_out.code == 1 and "not logged in" in logged_out.err
            assert rig.store.last_sequence() == before
        finally:
            await rig.close()
    run(body())


@given(st.lists(st.tuples(st.sampled_from("SL"), st.binary(min_size=1, max_size=4), st.binary(min_size=1, max_size=4),
                          st.binary(min_size=1, max_size=4), st.binary(min_size=0, max_size=20)), min_size=1, max_size=3))
def test_network_addresses_survive_the_serviceprovsyslinkinfo_encoding(entries):
    """Table 3-3 addresses are kept as the serviceProvSysLinkInfo value the LSMSs and SOAs read
    (NetworkAddressInformation, ASN.1 L353): what the operator typed comes back out of the TLV."""
    typed = [f"{k}:{t.hex()}:{s.hex()}:{p.hex()}" + (f":{n.hex()}" if n else "") for k, t, s, p, n in entries]
    shown = personnel._describe_link_info(personnel._link_info([personnel.parse_address(a) for a in typed]))
    zero = b"\0"
    expected = sorted(f"{k} tsap={t.hex()} ssap={s.hex()} psap={p.hex()} nsap={n.ljust(20, zero).hex()}"
                      for k, t, s, p, n in entries)
    assert sorted(shown) == expected


@given(st.sampled_from(sorted(personnel.CONTACT_TYPES)), st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                                                               blacklist_characters=":"),
                                                                 min_size=1, max_size=40),
       st.text("0123456789", min_size=10, max_size=10))
def test_contacts_parse_to_table_3_2_fields(kind, name, phone):
    assert personnel.parse_contact(f"{kind.lower()}:{name}:{phone}") == {"type": kind, "name": name, "phone": phone}

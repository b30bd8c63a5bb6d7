"""`npac keys ...` against a live node: key lists generated, imported with their MD5 hash file,
retired and listed with expiry warnings (FRS R7-107..R7-111; Exhibit K key exchange, error 4500;
contract Exhibit A step 1). A retired key is refused on the next association (R7-111.2)."""
import asyncio
import json

import pytest

from appliance.lnp.keys import generate_key_list, load_key_list, write_key_list
from appliance.lnp.security import Directory
from appliance.ops.keys_admin import restore_key_lists
from appliance.osi.transport import AssociationLost
from tests.support.console_rig import NEW_SP, start_console

DAY = 86_400_000


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_generate_list_and_expiry_warnings(tmp_path, keys_dir):
    """R7-110.1 (numbered list), R7-108.2 (MD5 hash file beside it), R7-111.4 (one year of use), Exhibit
    K 4500 (fewer than 100 keys left)."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            assert (await rig.npac_cli(*NEW_SP)).code == 0
            made = await rig.npac_cli("--json", "keys", "generate", "0009", "1", "--count", "3")
            assert made.code == 0, made.err
            result = json.loads(made.out)
            assert result["in_use"] is True and result["keys"] == 3
            kl = load_key_list(result["private"])
            assert kl.system_id == "0009" and sorted(kl.private) == [1, 2, 3]
            assert (tmp_path / "keys" / "0009" / "0009-list1.md5").read_text().startswith("# MD5")
            assert sorted(rig.npac.agent.directory.get("0009").key_lists) == [1]
            twice = await rig.npac_cli("keys", "generate", "0009", "1", "--count", "3")
            assert twice.code == 1 and "already has key list 1" in twice.err

            listed = await rig.npac_cli("keys", "list", "--system", "0009")
            assert "warning: 0009 list 1: only 3 keys remain (Exhibit K 4500" in listed.out
            rig.npac.clock.advance(340 * DAY)
            assert "expires in 25 days" in (await rig.npac_cli("keys", "list", "--system", "0009")).out
            rig.npac.clock.advance(30 * DAY)
            assert "change keys now (R7-111.4" in (await rig.npac_cli("keys", "list", "--system", "0009")).out
            everyone = json.loads((await rig.npac_cli("--json", "keys", "list")).out)
            assert {(r["system_id"], r["role"]) for r in everyone} >= {("NPAC SMS", "own"), ("0001", "peer"),
                                                                       ("0009", "peer")}
            for argv, needle in ((("keys", "generate", "0009", "2", "--count", "1001"), "outside 1..1000"),
                                 (("keys", "generate", "0009", "2", "--bits", "512"), "outside 1024..4096"),
                                 (("keys", "list", "--system", "7777"), "no key lists of 7777")):
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and needle in out.err, out.err
        finally:
            await rig.close()
    run(body())


def test_import_checks_the_md5_file(tmp_path, keys_dir):
    """Exhibit K key exchange / R7-108.2: a provider's public list is used only when every key's MD5
    and the whole list's match the hash file; a private list is refused."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            assert (await rig.npac_cli(*NEW_SP)).code == 0
            paths = write_key_list(generate_key_list("0009", 4, count=2), tmp_path / "from-0009")
            tampered = tmp_path / "tampered.md5"
            text = paths["md5"].read_text().splitlines()
            text[1] = text[1].split()[0] + " " + "0" * 32
            tampered.write_text("\n".join(text) + "\n")
            bad = await rig.npac_cli("keys", "import", "0009", str(paths["public"]), "--md5", str(tampered))
            assert bad.code == 1 and "MD5 of key 1 does not match" in bad.err
            private = await rig.npac_cli("keys", "import", "0009", str(paths["private"]), "--md5", str(paths["md5"]))
            assert private.code == 1 and "private keys" in private.err
            wrong = await rig.npac_cli("keys", "import", "0001", str(paths["public"]), "--md5", str(paths["md5"]))
            assert wrong.code == 1 and "key list of 0009, not 0001" in wrong.err
            assert rig.npac.agent.directory.get("0009") is None  # nothing of it is in use yet
            good = await rig.npac_cli("keys", "import", "0009", str(paths["public"]), "--md5", str(paths["md5"]))
            assert good.code == 0, good.err
            assert sorted(rig.npac.agent.directory.get("0009").key_lists[4].public) == [1, 2]
            assert rig.store.get("meta", "keylist:0009:4")["value"]["source"] == "imported"
            fresh = Directory()  # after a restart the imported list is loaded again from the node's copy
            assert restore_key_lists(rig.store, fresh) == []
            assert sorted(fresh.get("0009").key_lists[4].public) == [1, 2]
        finally:
            await rig.close()
    run(body())


def test_retired_key_is_refused_at_the_next_association(tmp_path, keys_dir):
    """R7-111.2, R7-111.3: NPAC personnel retire key 1 of 0001's list; the SOA signing with it is
    refused; an auditor cannot retire anything."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            rig.use("audit")
            assert "may not administer" in (await rig.npac_cli("keys", "retire", "0001", "1", "1")).err
            rig.use("admin")
            missing = await rig.npac_cli("keys", "retire", "0001", "1", "77")
            assert missing.code == 1 and "has no key 77" in missing.err
            done = await rig.npac_cli("keys", "retire", "0001", "1", "1")
            assert done.code == 0 and "1 retired" in done.out, done.err
            assert 1 in rig.npac.agent.directory.get("0001").key_lists[1].retired
            with pytest.raises(AssociationLost, match="aborted by peer"):  # A-ABORT, no information
                await rig.npac.soa("0001")
            log = rig.npac.tmp / "security.log"
            assert "retired" in log.read_text()
            # a restarted node (fresh directory from its configuration) keeps the key retired
            fresh = rig.npac.keys.npac_directory()
            assert 1 not in fresh.get("0001").key_lists[1].retired
            assert restore_key_lists(rig.store, fresh) == []
            assert 1 in fresh.get("0001").key_lists[1].retired
        finally:
            await rig.close()
    run(body())

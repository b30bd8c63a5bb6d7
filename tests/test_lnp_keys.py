"""Key lists: files, limits, MD5 acknowledgements, the npac-keys command (FRS R7-107..R7-110)."""
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from appliance.lnp import keytool
from appliance.lnp.keys import (
    KeyListError,
    format_key_list,
    generate_key_list,
    hash_file_text,
    key_md5,
    load_key_list,
    parse_key_list,
    write_key_list,
)


@pytest.fixture(scope="module")
def small_list():
    return generate_key_list("0001", 1, count=3)


def test_round_trip_private_and_public(small_list, tmp_path):
    paths = write_key_list(small_list, tmp_path)
    priv = load_key_list(paths["private"])
    pub = load_key_list(paths["public"])
    assert priv.private.keys() == {1, 2, 3} and not pub.private
    assert pub.list_id == 1 and pub.system_id == "0001"
    for k in (1, 2, 3):
        assert key_md5(pub.public[k]) == key_md5(small_list.public[k])
    assert (paths["private"].stat().st_mode & 0o777) == 0o600


def test_md5_file_holds_each_key_and_the_whole_list(small_list):
    text = hash_file_text(small_list)
    lines = text.splitlines()[1:]
    der = small_list.public[2].public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert f"2 {hashlib.md5(der).hexdigest()}" in lines  # R7-108.2
    whole = hashlib.md5(format_key_list(small_list.public_only(), private=False).encode()).hexdigest()
    assert lines[-1] == f"list {whole}"  # R7-108.3


def test_retired_keys_survive_the_file(small_list):
    small = parse_key_list(format_key_list(small_list, private=False))
    small.retired.add(2)
    again = parse_key_list(format_key_list(small, private=False))
    assert again.retired == {2} and again.active_ids() == [1, 3]


@pytest.mark.parametrize(
    "text,needle",
    [
        ("", "no Key-List"),
        ("Key-List: x\n", "must be a number"),
        ("Key-List: 1\nSystem-Id: 0001\n", "holds no keys"),
        ("Key-List: 1\nSystem-Id: 0001\nKey-Id: 1001\n-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n", "outside 1..1000"),
        ("Key-List: 1\nSystem-Id: 0001\nKey-Id: 1\n-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n", "cannot be read"),
        ("Key-List: 1\nSystem-Id: 0001\nbogus\n", "unexpected line"),
        ("Key-List: 1\nSystem-Id: 0001\nKey-Id: 1 gone\n", "'N retired'"),
    ],
)
def test_bad_key_list_files_say_what_is_wrong(text, needle):
    with pytest.raises(KeyListError, match=needle):
        parse_key_list(text)


def test_duplicate_key_id_refused(small_list):
    text = format_key_list(small_list, private=False).replace("Key-Id: 2", "Key-Id: 1")
    with pytest.raises(KeyListError, match="appears twice"):
        parse_key_list(text)


def test_generation_limits():
    with pytest.raises(KeyListError, match="1 to 1000"):
        generate_key_list("0001", 1, count=1001)
    with pytest.raises(KeyListError, match="at least 1024"):
        generate_key_list("0001", 1, count=1, bits=768)


def test_keytool_generate_hash_retire_show(tmp_path, capsys):
    assert keytool.main(["generate", "--system-id", "0002", "--list-id", "7", "--count", "4", "--out", str(tmp_path)]) == 0
    pub = tmp_path / "0002-list7.pub.pem"
    assert pub.exists() and (tmp_path / "0002-list7.md5").exists()
    assert keytool.main(["retire", str(pub), "3"]) == 0
    assert load_key_list(pub).retired == {3}
    assert keytool.main(["hash", str(pub)]) == 0
    assert keytool.main(["show", str(pub)]) == 0
    out = capsys.readouterr().out
    assert "public key list 7 of 0002: 4 keys, 1 retired" in out


def test_keytool_errors_are_one_line_and_nonzero(tmp_path, capsys):
    assert keytool.main(["show", str(tmp_path / "missing.pem")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("npac-keys: ") and "cannot read" in err[0]
    assert keytool.main(["generate", "--system-id", "1", "--list-id", "1", "--count", "0", "--out", str(tmp_path)]) == 2
    assert keytool.main(["frobnicate"]) == 2

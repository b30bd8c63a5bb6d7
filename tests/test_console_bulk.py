"""`npac bulk download`: Exhibit K download files (seed L94202-94760; FRS R3-8, R3-14, R3-17) written by
the live node, read back as an LSMS would; and the record codec and GMT time forms as properties."""
import asyncio
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from appliance.ops import bulk_data
from appliance.ops.commands import CommandError
from appliance.ops.personnel_args import gmt14, when_ms
from tests.support.console_rig import start_console
from tests.support.npac_rig import TN, active_port

STAMP = "01-01-2026120000"  # T0 as DD-MM-YYYYHHMMSS (L94238)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def records(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert b"\n" not in raw and raw.endswith(b"\r")  # CR after each record, nothing else between
    return bulk_data.read_records(raw.decode("ascii"))


def test_download_files_hold_the_exhibit_k_records(tmp_path, keys_dir):
    """Table 2 (subscription file, one NPA-NXX per file, L94246), Tables 3-5 (SP, NPA-NXX, LRN files),
    their names, and the SP / time-range / NPA-NXX criteria."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            version = await active_port(rig.npac)
            row = rig.npac.version(version)
            out_dir = tmp_path / "bulk"
            done = await rig.npac_cli("bulk", "download", "--out", str(out_dir))
            assert done.code == 0, done.err
            names = sorted(p.name for p in out_dir.iterdir())
            assert names == sorted([f"303555-303555.{STAMP}", f"SPID.{STAMP}", f"NPANXX.{STAMP}", f"LRN.{STAMP}"])
            assert str(out_dir / f"LRN.{STAMP}") in done.out

            (sv,) = records(out_dir / f"303555-303555.{STAMP}")
            assert len(sv) == 19
            assert sv[:6] == [f"{version:010d}", TN, "3035550001", "0001", gmt14(row["activation_ms"]), "1"]
            assert sv[17:] == ["0", str(row["download_reason"])]  # LNP type LSPP, download reason
            assert records(out_dir / f"SPID.{STAMP}")[0] == ["0001", "Demo Carrier One"]
            npa = records(out_dir / f"NPANXX.{STAMP}")
            assert ["0002", "1", "303-555"] == npa[1][:3] and npa[1][5] == "0" and len(npa[1]) == 6
            assert records(out_dir / f"LRN.{STAMP}")[2][:3] == ["0003", "3", "3035550003"]

            only = tmp_path / "only-0002"
            mine = await rig.npac_cli("bulk", "download", "network", "--sp", "0002", "--out", str(only))
            assert mine.code == 0, mine.err
            assert {r[0] for p in only.iterdir() for r in records(p)} == {"0002"}
            later = await rig.npac_cli("bulk", "download", "subscriptions", "--start", "20270101000000",
                                       "--out", str(tmp_path / "none"))
            assert later.code == 1 and "no data matched" in later.err
            ranged = await rig.npac_cli("bulk", "download", "subscriptions", "--npa-nxx", "212555-212999",
                                        "--out", str(tmp_path / "none"))
            assert ranged.code == 1
        finally:
            await rig.close()
    run(body())


BAD_CRITERIA = [
    (["bulk", "download", "--start", "20260102000000", "--stop", "20260101000000"], "5006"),
    (["bulk", "download", "--npa-nxx", "303999-303000"], "5006"),
    (["bulk", "download", "--sp", "7777"], "no service provider 7777"),
    (["bulk", "download", "--npa-nxx", "30355"], "must be 6 digits"),
]


def test_bad_criteria_are_one_line(tmp_path, keys_dir):
    """Exhibit K 5006 "Bulk Download - invalid criteria specified"; 5007 "file error"."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            for argv, needle in BAD_CRITERIA:
                out = await rig.npac_cli(*argv, "--out", str(tmp_path / "x"))
                assert out.code == 1 and needle in out.err and out.err.count("\n") == 1, out.err
            blocker = tmp_path / "a-file"
            blocker.write_text("not a directory")
            out = await rig.npac_cli("bulk", "download", "--out", str(blocker / "sub"))
            assert out.code == 1 and "5007" in out.err
        finally:
            await rig.close()
    run(body())


digits = st.text("0123456789", min_size=1, max_size=10)
optional = st.one_of(st.none(), digits)


@given(st.fixed_dictionaries({
    "version_id": st.integers(1, 9_999_999_999), "tn": digits, "lrn": optional, "new_sp": st.text("0123456789AB", min_size=4, max_size=4),
    "activation_ms": st.one_of(st.none(), st.integers(0, 4_102_444_800_000)), "status": st.integers(0, 10),
    "class_dpc": optional, "class_ssn": st.one_of(st.none(), st.integers(0, 255)), "lidb_dpc": optional,
    "lidb_ssn": st.one_of(st.none(), st.integers(0, 255)), "isvm_dpc": optional, "isvm_ssn": st.none(),
    "cnam_dpc": optional, "cnam_ssn": st.integers(0, 255), "end_user_location_value": optional,
    "end_user_location_type": st.one_of(st.none(), st.text("0123456789", min_size=2, max_size=2)),
    "billing_id": optional, "lnp_type": st.integers(0, 1), "download_reason": st.one_of(st.none(), st.integers(0, 4)),
}), st.integers(1, 5))
def test_subscription_records_read_back_field_for_field(row, copies):
    """Table 2: 19 pipe-delimited fields per record, CR-terminated; what is written is what an LSMS
    reads, in Table 2 order, whatever the optional fields hold."""
    text = bulk_data.file_text([bulk_data.subscription_record(row)] * copies)
    parsed = bulk_data.read_records(text)
    assert len(parsed) == copies
    fields = parsed[0]
    assert len(fields) == 19
    assert int(fields[0]) == row["version_id"] and len(fields[0]) >= 10
    assert fields[4] == gmt14(row["activation_ms"])
    expected = {name: "" if row[name] is None else str(row[name]) for name in bulk_data.SUBSCRIPTION_FIELDS}
    expected["download_reason"] = str(row["download_reason"] if row["download_reason"] is not None else 0)
    for name, value in zip(bulk_data.SUBSCRIPTION_FIELDS[5:], fields[5:]):
        assert value == expected[name]


@given(st.tuples(st.text(max_size=10), st.sampled_from("|\r\n"), st.text(max_size=10)).map("".join))
def test_a_value_that_would_break_the_format_is_refused(name):
    with pytest.raises(CommandError):
        bulk_data.sp_record({"sp_id": "0001", "name": name})


@given(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2099, 12, 31)))
def test_gmt_time_forms_round_trip(moment):
    """Exhibit K time stamps (yyyymmddhhmmss GMT) parse back to the same second."""
    ms = int(moment.replace(microsecond=0, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert when_ms(gmt14(ms), "t") == ms
    assert when_ms(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "t") == ms
    assert bulk_data.file_stamp(ms) == moment.strftime("%d-%m-%Y%H%M%S")

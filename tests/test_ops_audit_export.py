"""Security audit log export: the chain is checked before anything is written, and a tampered,
reordered or cut log is reported with its first bad record (FRS R7-68.1, R7-70, R7-71.2, R7-72,
R7-74, R7-75; IIS 5.2.4)."""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import inspect
import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance import config
from appliance.config import NodeConfig
from appliance.ops import audit_export
from appliance.ops.audit_export import ChainBroken, ExportError, export, main, verify_chain
from appliance.ops.commands import CommandError
from appliance.ops.security_log import SecurityLog, _digest
from appliance.ops.user_commands import auditlog_export
from appliance.ops.users import Session

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
REPO = Path(__file__).resolve().parents[1]


def make_log(path: Path, n: int = 6) -> SecurityLog:
    times = iter(T0 + dt.timedelta(hours=i) for i in range(10_000))
    log = SecurityLog(path, clock=lambda: next(times))
    for i in range(n):
        if i % 2:
            log.record("login", user=f"user{i}", terminal="tty1", outcome="failure", reason="wrong password")
        else:
            log.record("signature-failure", system_id=f"000{i}", peer="127.0.0.1:4000", outcome="failure")
    return log


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


# ---- intact logs -----------------------------------------------------------------------------------
def test_csv_export_leads_with_the_r7_75_fields_and_is_private(tmp_path):
    log = make_log(tmp_path / "security.log")
    result = export(log.path, tmp_path / "out" / "audit.csv", "csv")
    assert (result.records, result.verified) == (6, 6)
    rows = list(csv.DictReader(io.StringIO(Path(result.path).read_text())))
    assert [r["n"] for r in rows] == [str(i) for i in range(1, 7)]
    assert rows[1]["time"] == "2026-11-22T13:00:00Z" and rows[1]["event"] == "login"
    assert (rows[1]["user"], rows[1]["terminal"], rows[1]["outcome"]) == ("user1", "tty1", "failure")
    assert json.loads(rows[1]["details"]) == {"reason": "wrong password"}
    assert rows[-1]["hash"] == result.last_hash == json.loads(lines_of(log.path)[-1])["hash"]
    assert stat.S_IMODE(Path(result.path).stat().st_mode) == 0o600  # R7-70


def test_json_and_text_exports_carry_every_record(tmp_path):
    log = make_log(tmp_path / "security.log")
    doc = json.loads(Path(export(log.path, tmp_path / "a.json", "json").path).read_text())
    assert doc["verified"] == 6 and doc["records"] == log.records()
    text = Path(export(log.path, tmp_path / "a.txt", "text").path).read_text().splitlines()
    assert "6 records, chain intact" in text[0] and len(text) == 7
    assert text[2].split()[:3] == ["2", "2026-11-22T13:00:00Z", "login"] and "user=user1" in text[2]


def test_time_window_selects_after_verifying_the_whole_chain(tmp_path):
    log = make_log(tmp_path / "security.log")
    result = export(log.path, tmp_path / "w.csv", "csv", since="2026-11-22T13:00:00Z", until="2026-11-22T15:00")
    assert (result.records, result.verified) == (2, 6)
    with pytest.raises(ExportError, match="since must be an ISO date"):
        export(log.path, tmp_path / "w.csv", "csv", since="yesterday")
    with pytest.raises(ExportError, match="format must be one of"):
        export(log.path, tmp_path / "w.xml", "xml")


# ---- tampering -------------------------------------------------------------------------------------
def test_edited_record_is_reported_and_nothing_is_exported(tmp_path):
    log = make_log(tmp_path / "security.log")
    lines = lines_of(log.path)
    rec = json.loads(lines[3])
    rec["outcome"] = "success"
    lines[3] = json.dumps(rec, sort_keys=True)
    write_lines(log.path, lines)
    with pytest.raises(ChainBroken, match=r"record 4: .*altered") as err:
        export(log.path, tmp_path / "audit.csv", "csv")
    assert err.value.record == 4 and not (tmp_path / "audit.csv").exists()
    assert list(tmp_path.glob(".audit.csv.*")) == []


def test_edited_and_rehashed_record_breaks_the_next_link(tmp_path):
    log = make_log(tmp_path / "security.log")
    lines = lines_of(log.path)
    rec = json.loads(lines[2])
    rec["system_id"] = "9999"
    body = {k: v for k, v in rec.items() if k != "hash"}
    rec["hash"] = _digest(rec["prev"], body)
    lines[2] = json.dumps(rec, sort_keys=True)
    write_lines(log.path, lines)
    with pytest.raises(ChainBroken, match="record 4: does not follow record 3"):
        verify_chain(log.path)


def test_removed_reordered_and_cut_records_are_reported(tmp_path):
    log = make_log(tmp_path / "security.log")
    good = lines_of(log.path)
    write_lines(log.path, good[:2] + good[3:])
    with pytest.raises(ChainBroken, match=r"record 3: numbered 4 where 3 was due"):
        verify_chain(log.path)
    write_lines(log.path, good[:1] + [good[2], good[1]] + good[3:])
    with pytest.raises(ChainBroken, match="record 2: numbered 3"):
        verify_chain(log.path)
    write_lines(log.path, good[:3] + [good[3][:40]] + good[4:])  # truncated in the middle
    with pytest.raises(ChainBroken, match="record 4: not a JSON record"):
        verify_chain(log.path)
    write_lines(log.path, good[:4])  # cut at the end: only the writer's own count can tell
    assert len(verify_chain(log.path).records) == 4
    with pytest.raises(ChainBroken, match="record 5: missing: the log ends at record 4, 6 were written"):
        verify_chain(log.path, expect_count=6)


@settings(max_examples=60)
@given(st.integers(3, 12), st.data())
def test_property_any_single_tampering_names_the_first_bad_record(tmp_path_factory, n, data):
    path = tmp_path_factory.mktemp("log") / "security.log"
    make_log(path, n)
    lines = lines_of(path)
    kind = data.draw(st.sampled_from(["edit", "delete", "swap", "cut"]))
    i = data.draw(st.integers(0, n - 2))
    if kind == "edit":
        rec = json.loads(lines[i])
        rec[data.draw(st.sampled_from(["event", "time", "outcome"]))] = "forged"
        lines[i] = json.dumps(rec, sort_keys=True)
    elif kind == "delete":
        del lines[i]
    elif kind == "swap":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    else:
        lines[i] = lines[i][: data.draw(st.integers(1, len(lines[i]) - 1))]
    write_lines(path, lines)
    with pytest.raises(ChainBroken) as err:
        verify_chain(path, expect_count=n)
    assert err.value.record == i + 1


# ---- the CLI ---------------------------------------------------------------------------------------
def test_cli_exports_and_fails_with_one_line_on_a_tampered_log(tmp_path, capsys):
    log = make_log(tmp_path / "security.log")
    assert main([str(log.path), "--format", "json", "--out", str(tmp_path / "x.json")]) == 0
    assert "6 of 6 records exported" in capsys.readouterr().err
    assert main([str(log.path), "--format", "text"]) == 0
    assert capsys.readouterr().out.count("\n") == 7
    lines = lines_of(log.path)
    write_lines(log.path, lines[:1] + lines[2:])
    assert main([str(log.path), "--out", str(tmp_path / "y.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tampered log, record 2" in err and not (tmp_path / "y.csv").exists()
    assert main([str(tmp_path / "absent.log")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cli_bad_arguments_get_one_line_and_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "appliance.ops.audit_export", str(tmp_path / "l"),
                           "--format", "xml"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# ---- the console command -------------------------------------------------------------------------
class Ctx:
    def __init__(self, log: SecurityLog, tmp_path: Path):
        self.security_log, self.data_dir = log, tmp_path

    def clock_ms(self) -> int:
        return int(T0.timestamp() * 1000)


AUDITOR = Session("audrey", "auditor", "t" * 64, "tty9", 0, 0)


def test_export_command_for_an_auditor_and_its_refusals(tmp_path):
    log = make_log(tmp_path / "security.log")
    ctx = Ctx(log, tmp_path)
    result = asyncio.run(auditlog_export(ctx, AUDITOR, format="csv"))
    assert result["records"] == 6 and result["path"].endswith("audit-exports/security-20261122T120000Z.csv")
    exported = log.records()[-1]
    assert (exported["event"], exported["user"], exported["outcome"]) == ("audit-log-export", "audrey", "success")
    for bad in ("../x.csv", "/etc/passwd", "a/b.csv", ".hidden"):
        with pytest.raises(CommandError, match="plain file name"):
            asyncio.run(auditlog_export(ctx, AUDITOR, name=bad))
    with pytest.raises(CommandError, match="format must be"):
        asyncio.run(auditlog_export(ctx, AUDITOR, format="pdf"))


def test_export_command_reports_a_tampered_log_and_records_it(tmp_path):
    log = make_log(tmp_path / "security.log")
    lines = lines_of(log.path)
    write_lines(log.path, lines[:-2])  # the node wrote 6 records: losing the last two is noticed
    with pytest.raises(CommandError, match="record 5: missing.*nothing exported"):
        asyncio.run(auditlog_export(ctx := Ctx(log, tmp_path), AUDITOR, name="a.csv"))
    assert not (ctx.data_dir / "audit-exports" / "a.csv").exists()
    last = json.loads(lines_of(log.path)[-1])
    assert last["event"] == "audit-log-tampered" and last["first_bad_record"] == 5


# ---- R7-74: auditing cannot be disabled ------------------------------------------------------------
def test_no_setting_turns_the_security_log_off_R7_74():
    switches = [f.name for f in dataclasses.fields(NodeConfig)
                if any(w in f.name for w in ("audit", "security", "log"))]
    assert switches == []
    assert list(inspect.signature(SecurityLog).parameters) == ["path", "clock"]
    assert not [m for m in dir(SecurityLog) if any(w in m.lower() for w in ("disable", "enable", "off", "stop"))]
    documented_keys = [line.split("=")[0].strip() for line in config.__doc__.splitlines() if "=" in line]
    assert documented_keys and not [k for k in documented_keys if "log" in k or "audit" in k]
    assert "enabled" not in inspect.signature(audit_export.export).parameters

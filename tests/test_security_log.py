"""The security audit log is append-only and tamper-evident (IIS 5.2.4, FRS §7 audit log)."""
import datetime as dt
import json

from appliance.ops.security_log import SecurityLog, verify

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _log(tmp_path, n=5):
    log = SecurityLog(tmp_path / "security.log", clock=lambda: T0)
    for i in range(n):
        log.record("signature-failure", system_id=f"000{i}", peer="127.0.0.1:4000")
    return log


def test_chain_verifies_and_survives_reopen(tmp_path):
    log = _log(tmp_path)
    assert verify(log.path) == (True, "5 records, chain intact")
    again = SecurityLog(log.path, clock=lambda: T0)
    again.record("association-aborted", system_id="0009")
    assert verify(log.path)[0] and len(again.records()) == 6


def test_edited_record_is_detected(tmp_path):
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["system_id"] = "9999"
    lines[2] = json.dumps(rec, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    assert verify(log.path) == (False, "line 3: record altered, removed or out of order")


def test_removed_or_reordered_record_is_detected(tmp_path):
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert verify(log.path) == (False, "line 2: record altered, removed or out of order")
    log.path.write_text("\n".join([lines[1], lines[0]] + lines[2:]) + "\n")
    assert not verify(log.path)[0]


def test_garbage_line_is_detected(tmp_path):
    log = _log(tmp_path, 2)
    with open(log.path, "a") as fh:
        fh.write("not json\n")
    assert verify(log.path) == (False, "line 3: record altered, removed or out of order")

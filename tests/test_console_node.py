"""`npac` against a real node process (`python -m appliance.node --config`): first administrator,
login with the password on standard input, session file mode 0600, status at a glance, a network-data
change an associated LSMS receives, logout; exit codes 0 / 1 / 2 and one line on every failure."""
import asyncio
import json
import contextlib
import io
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.console.__main__ import main
from appliance.console.status_cmds import render_status
from appliance.lnp.security import LOCAL_SMS
from appliance.node import write_demo_config
from appliance.osi.association import Address
from appliance.peers.carrier import Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.status import Association, CarrierMeters, HeartbeatPath, ServiceLevels, StatusBoard

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kestrel-41x"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def start_node(cfg_path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "appliance.node", "--config", str(cfg_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:
        if "NPAC node" in line:
            return proc
    raise AssertionError(f"node exited with {proc.wait()}")


def stop_node(proc: subprocess.Popen) -> None:
    proc.terminate()
    assert proc.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One node for the module (starting one takes seconds); each test logs in for itself."""
    tmp = tmp_path_factory.mktemp("node")
    port = _free_port()
    cfg_path = write_demo_config(tmp, port)
    text = cfg_path.read_text().replace('data_dir = "primary"', 'data_dir = "primary"\ncontrol_socket = "c.sock"')
    cfg_path.write_text(text)
    procs = [start_node(cfg_path)]
    env = pytest.MonkeyPatch()
    env.setenv("NPAC_SESSION_FILE", str(tmp / "session"))
    env.setenv("NPAC_CONTROL_SOCKET", str(load_config(cfg_path).control_socket))
    try:
        yield load_config(cfg_path), port, tmp, procs
    finally:
        env.undo()
        for proc in procs:
            if proc.poll() is None:
                stop_node(proc)


def as_admin() -> None:
    """The first administrator exists (made now if not), and this console is logged in as it."""
    code, _, err = cli("init-admin", "admin", stdin=PASSWORD + "\n")
    assert code == 0 or "already exist" in err, err
    code, _, err = cli("login", "admin", "--take-over", stdin=PASSWORD + "\n")
    assert code == 0, err


def test_console_session_and_personnel_change_on_a_running_node(node):
    cfg, port, tmp, _ = node
    cli("logout")
    code, _, err = cli("sp", "list")
    assert code == 1 and err == "npac: not logged in: run `npac login USER` first\n"
    code, _, err = cli("init-admin", "admin", stdin=PASSWORD + "\n")
    assert code == 0 or "already exist" in err, err
    code, out, err = cli("login", "admin", stdin="wrong-Pass9\n")
    assert code == 1 and err.startswith("npac: invalid")
    code, out, err = cli("login", "admin", "--take-over", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "logged in as admin (administrator)" in out
    session = tmp / "session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600

    code, out, err = cli("status")
    assert code == 0, err
    assert "role primary-live" in out and "associations: 0" in out

    keys = DemoKeys(tmp / "keys")
    hosts = [Host("127.0.0.1", port, Address(cfg.tsap, cfg.ssap, cfg.psap))]

    async def lsms_hears_the_new_npa_nxx():
        sim = LsmsSimulator("0003", keys.carrier_identity("0003", LOCAL_SMS), keys.carrier_directory(),
                            npac_system_id=NPAC_SYSTEM_ID)
        await sim.associate(hosts)
        try:
            code, out, err = await asyncio.to_thread(cli, "status")
            assert "0003 local-sms: 1" in out
            code, out, err = await asyncio.to_thread(cli, "npanxx", "create", "0003", "720599")
            assert code == 0, err
            for _ in range(100):
                if any(r.kind == "create" for r in sim.received):
                    break
                await asyncio.sleep(0.05)
            return [r for r in sim.received if r.kind == "create"]
        finally:
            await sim.release()
    creates = asyncio.run(asyncio.wait_for(lsms_hears_the_new_npa_nxx(), 60))
    assert creates, "the LSMS received no M-CREATE for the new NPA-NXX"
    code, out, _ = cli("npanxx", "list", "--sp", "0003")
    assert "720599" in out and "720555" in out

    code, out, err = cli("sv", "cancel", "12")
    assert code == 1 and err.count("\n") == 1 and "no subscription version 12" in err
    code, _, err = cli("sp", "create")
    assert code == 2 and err.count("\n") == 1
    assert cli("logout")[0] == 0 and not session.exists()
    code, _, err = cli("sp", "list")
    assert code == 1 and "not logged in" in err


def test_unreachable_node_is_exit_2(tmp_path):
    code, out, err = cli("--socket", str(tmp_path / "none.sock"), "status")
    assert code == 2 and out == "" and err.startswith("npac: cannot reach the node at ")


def test_status_summary_prints_what_the_document_holds():
    """Issue: role, epoch, peer and heartbeat paths, replication lag, associations by carrier, open
    tickets, service levels; sections the node does not send are left out."""
    board = StatusBoard(node="primary", system_id="NPAC SMS", role="primary-live", epoch=3,
                        heartbeat=[HeartbeatPath("network", "up", 0.4), HeartbeatPath("serial", "down", 9.0, 2)],
                        associations=[Association("0001", "soa", "127.0.0.1", 1, "t"),
                                      Association("0001", "local-sms", "127.0.0.1", 2, "t"),
                                      Association("0001", "soa", "127.0.0.1", 3, "t")],
                        service_levels=ServiceLevels(month="2026-11", availability=99.99,
                                                     carriers=[CarrierMeters("0001", soa_tps=2.5)]))
    doc = board.to_dict()
    doc["tickets"] = {"open": [{"id": "T-7", "severity": "critical", "title": "LSMS 0002 down"}]}
    text = render_status(doc)
    assert "role primary-live  epoch 3" in text
    assert "heartbeat serial: down (last heard 9.0 s, 2 losses)" in text
    assert "  0001 soa: 2" in text and "  0001 local-sms: 1" in text
    assert "open tickets: 1" in text and "T-7 critical LSMS 0002 down" in text
    assert "service levels 2026-11: availability 99.99%" in text
    bare = render_status({"role": "standby", "epoch": 4})
    assert "role standby" in bare and "associations" not in bare and "tickets" not in bare


def test_users_first_login_password_change_call_and_tickets(node):
    """FRS §7: an administrator adds an operator (one-time password shown once, R7-27.1); the
    operator's first login must set a new password (R7-24.3), read from standard input; the operator
    may not administer; `npac call` reaches any node command; `npac status` lists open tickets."""
    as_admin()
    code, out, err = cli("user", "add", "oper", "operator")
    assert code == 0, err
    one_time = out.rsplit(": ", 1)[1].strip()
    code, out, err = cli("call", "ticket.open", "reporter=0001", "severity=2", "summary=LSMS 0001 cannot associate")
    assert code == 0, err
    tracking = json.loads(out)["tracking"]
    assert cli("logout")[0] == 0

    code, out, err = cli("login", "oper", stdin=f"{one_time}\nHeron-77yz\n")
    assert code == 0, err
    assert "password expired" in err and "logged in as oper (operator)" in out
    code, out, err = cli("status")
    assert code == 0 and "open tickets: 1" in out and str(tracking) in out
    assert "oper" in cli("user", "list")[1]
    code, _, err = cli("user", "add", "snoop", "auditor")
    assert code == 1 and "oper (operator) may not administer" in err
    code, _, err = cli("call", "no.such.op")
    assert code == 1 and "unknown op 'no.such.op'" in err
    code, _, err = cli("call", "tunable.list", "bad")
    assert code == 2 and "must be name=value" in err
    code, out, err = cli("passwd", stdin="Heron-77yz\nEgret-55pq\nEgret-55pq\n")
    assert code == 0 and "password changed" in out, err


def test_key_list_made_at_the_console_survives_a_restart(node):
    """R7-111.2 across restarts: a list generated at the console and the key retired in it are
    loaded again when the node starts (the store remembers them, the files are on the node)."""
    cfg, _, _, procs = node
    as_admin()
    assert cli("keys", "generate", "0003", "2", "--count", "2")[0] == 0
    assert cli("keys", "retire", "0003", "2", "1")[0] == 0
    stop_node(procs[0])
    procs.append(start_node(cfg.path))
    as_admin()
    code, out, err = cli("--json", "keys", "list", "--system", "0003")
    assert code == 0, err
    lists = {r["list_id"]: r for r in json.loads(out)}
    assert (lists[2]["keys"], lists[2]["retired"], lists[2]["source"]) == (2, 1, "generated")

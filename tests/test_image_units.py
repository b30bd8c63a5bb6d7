"""The appliance image's static parts (issue 7), fast enough for `make test`: the systemd units, the
boot-time configuration step (npac.toml to the three processes' files, refusing bad ones), the build
manifest (contract 21.1 line 3108: hashed builds, dependency provenance), the mirror lookup and the
sd_notify module. Building and booting the image are `make image` / `make image-test`."""
from __future__ import annotations

import asyncio
import configparser
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from appliance import sdnotify
from appliance.config import load_config as load_node_config
from appliance.lnp.keys import generate_key_list, write_key_list
from appliance.tomlconfig import ConfigError
from ha.config import load_config as load_ha_config
from snmp.config import load_config as load_snmp_config

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "image"
UNITS = IMAGE / "rootfs" / "etc" / "systemd" / "system"
SERVICES = ("npac-node", "npac-ha", "npac-snmp")
sys.path.insert(0, str(IMAGE / "firstboot"))
import appliance_config  # noqa: E402
import npac_firstboot  # noqa: E402


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"image_{name}", IMAGE / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


manifest = _tool("manifest")
mirror = _tool("mirror")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNITS / f"{name}.service")
    return parser


# ---- systemd units ---------------------------------------------------------------------------------

def test_units_pass_systemd_analyze_verify(tmp_path):
    """Every unit loads in systemd without a warning (the venv's python stands in for the image's)."""
    for unit in UNITS.glob("*.service"):
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/npac/venv/bin/python", sys.executable))
    proc = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_service_units_notify_watchdog_restart_and_hardening(name):
    """Issue 7: Type=notify with sd_notify READY/WATCHDOG, WatchdogSec, Restart=, a dedicated user,
    ProtectSystem, PrivateTmp, and the port-binding capability as the only one kept."""
    unit = _unit(name)
    s = unit["Service"]
    assert s["Type"] == "notify" and s["NotifyAccess"] == "main"
    assert int(s["WatchdogSec"].rstrip("s")) > 0 and s["Restart"] == "on-failure"
    assert s["User"] == "npac" and s["ProtectSystem"] == "strict" and s["PrivateTmp"] == "yes"
    assert s["CapabilityBoundingSet"] == s["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert s["NoNewPrivileges"] == "yes"
    # no service starts on a configuration npac-firstboot refused
    assert "npac-firstboot.service" in unit["Unit"]["Requires"].split()
    assert "npac-firstboot.service" in unit["Unit"]["After"].split()


def test_firstboot_reaches_the_console_and_precedes_the_network():
    s = _unit("npac-firstboot")
    assert s["Service"]["Type"] == "oneshot" and "console" in s["Service"]["StandardError"]
    assert "systemd-networkd.service" in s["Unit"]["Before"].split()


def test_root_is_read_only_and_data_partition_holds_var():
    rows = [line.split() for line in (IMAGE / "rootfs/etc/fstab").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    by_mount = {r[1]: r for r in rows}
    assert "ro" in by_mount["/"][3].split(",")
    assert by_mount["/var"][0] == "PARTLABEL=npac-data" and "rw" in by_mount["/var"][3].split(",")
    assert "ro" in by_mount["/config"][3].split(",")


# ---- npac-firstboot --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def key_dir(tmp_path_factory):
    """Small real key lists (2 keys each) for the NPAC and one carrier."""
    d = tmp_path_factory.mktemp("keys")
    write_key_list(generate_key_list("NPAC SMS", 1, count=2), d)
    write_key_list(generate_key_list("0001", 1, count=2), d)
    return d


PAIR = """
[node]
name = "primary"
role = "primary"
system_id = "NPAC SMS"

[network.carrier]
interface = "eth0"
address = "dhcp"

[network.interconnect]
interface = "eth1"
address = "198.51.100.1/30"
peer_address = "198.51.100.2"

[pair]
peer = "dr"
key_file = "ha.key"
serial = "/dev/ttyS1"

[keys]
private_list = "keys/NPAC SMS-list1.key.pem"
key_id = 1

[[carrier]]
system_id = "0001"
name = "Demo Carrier One"
system_types = ["soa", "local-sms"]
key_lists = ["keys/0001-list1.pub.pem"]

[snmp]
location = "rack 4"

[[snmp.user]]
name = "nms"
auth_key = "auth-key-123"
priv_key = "priv-key-456"
"""


def _partition(tmp_path: Path, key_dir: Path, text: str) -> Path:
    part = tmp_path / "config"
    (part / "keys").mkdir(parents=True)
    for name in ("NPAC SMS-list1.key.pem", "0001-list1.pub.pem"):
        shutil.copy(key_dir / name, part / "keys" / name)
    (part / "ha.key").write_text("00112233445566778899aabbccddeeff\n")
    (part / "npac.toml").write_text(text)
    return part / "npac.toml"


def _run(tmp_path: Path, config: Path, cmdline: str = "") -> tuple[int, npac_firstboot.Layout]:
    (tmp_path / "cmdline").write_text(cmdline)
    root = tmp_path / "root"
    code = npac_firstboot.main(["--config", str(config), "--cmdline", str(tmp_path / "cmdline"), "--root", str(root)])
    return code, npac_firstboot.rooted(root)


def test_firstboot_pair_config_gives_three_files_the_processes_accept(tmp_path, key_dir):
    code, layout = _run(tmp_path, _partition(tmp_path, key_dir, PAIR))
    assert code == 0
    node = load_node_config(layout.etc / "node.toml")
    assert (node.role, node.cmip_port, node.ha_config) == ("primary", 102, layout.etc / "ha.toml")
    assert node.private_list == layout.keys / "NPAC SMS-list1.key.pem"
    assert node.carriers[0].key_lists == (layout.keys / "0001-list1.pub.pem",)
    ha = load_ha_config(layout.etc / "ha.toml")
    assert (ha.node, ha.peer, ha.preferred, ha.serial) == ("primary", "dr", True, "/dev/ttyS1")
    assert ha.udp_bind == ("198.51.100.1", 694) and ha.replication.peer == ("198.51.100.2", 7410)
    assert ha.node_socket == node.control_socket
    snmp = load_snmp_config(layout.etc / "snmp.toml")
    assert snmp.port == 161 and [u.name for u in snmp.users] == ["nms"] and snmp.interconnect == ("eth1",)
    assert snmp.control_socket == node.control_socket
    # keys and secrets are private to the service user
    for p in (layout.etc / "ha.key", layout.keys / "NPAC SMS-list1.key.pem", layout.etc / "snmp.toml"):
        assert p.stat().st_mode & 0o077 == 0
    net = (layout.network / "20-npac-interconnect.network").read_text()
    assert "Name=eth1" in net and "Address=198.51.100.1/30" in net
    assert "DHCP=ipv4" in (layout.network / "10-npac-carrier.network").read_text()


def test_firstboot_lone_node_has_no_ha_file(tmp_path, key_dir):
    text = PAIR.split("[network.interconnect]")[0] + "[keys]" + PAIR.split("[keys]")[1]
    code, layout = _run(tmp_path, _partition(tmp_path, key_dir, text))
    assert code == 0
    assert not (layout.etc / "ha.toml").exists() and load_node_config(layout.etc / "node.toml").ha_config is None


def test_kernel_command_line_overrides_the_file(tmp_path, key_dir):
    config = _partition(tmp_path, key_dir, PAIR)
    code, layout = _run(tmp_path, config, "root=PARTUUID=x ro npac.node.role=dr npac.node.name=dr npac.pair.peer=primary "
                                          "npac.cmip.port=10102 quiet")
    assert code == 0
    node = load_node_config(layout.etc / "node.toml")
    assert (node.role, node.name, node.cmip_port) == ("dr", "dr", 10102)
    assert load_ha_config(layout.etc / "ha.toml").preferred is False


@given(st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
                       st.one_of(st.integers(-10**6, 10**6), st.booleans(),
                                 st.from_regex(r"[A-Za-z][A-Za-z0-9_./:-]{0,20}", fullmatch=True)),
                       min_size=1, max_size=5))
def test_cmdline_overrides_round_trip(values):
    """Whatever a bare npac.<section>.<key>=<value> word holds comes back typed as TOML would read it."""
    words = " ".join(f"npac.sec.{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items())
    got = appliance_config.cmdline_overrides("console=ttyS0 " + words)["sec"]
    for k, v in values.items():
        want = v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            want = v.lower() == "true"
        elif isinstance(v, str):
            try:
                import tomllib
                want = tomllib.loads(f"v = {v}")["v"]
            except Exception:
                want = v
        assert got[k] == want


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace('role = "primary"', 'role = "boss"'), "'role' must be primary or dr"),
    (lambda t: t.replace('address = "198.51.100.1/30"', 'address = "198.51.100.1"'), "prefix length"),
    (lambda t: t.replace('address = "198.51.100.1/30"', 'address = "dhcp"'), "fixed 'address'"),
    (lambda t: t.replace('key_file = "ha.key"', 'key_file = "missing.key"'), "missing.key is not on"),
    (lambda t: t.replace("0001-list1.pub.pem", "0002-list1.pub.pem"), "0002-list1.pub.pem is not on"),
    (lambda t: t.replace('key_id = 1', 'key_id = 7'), "key_id 7 is not a private key"),
    (lambda t: t.replace('key_lists = ["keys/0001-list1.pub.pem"]',
                         'key_lists = ["keys/0001-list1.pub.pem"]\nkey_list_md5 = ["0123456789abcdef0123456789abcdef"]'),
     "R7-108.3"),
    (lambda t: t.replace('priv_key = "priv-key-456"', 'priv_key = "short"'), "at least 8 characters"),
    (lambda t: t.replace('serial = "/dev/ttyS1"', 'serial = ""'), "'serial' is required"),
    (lambda t: t + '\n[ssh]\nauthorized_keys = ["hunter2"]\n', "OpenSSH public keys"),
    (lambda t: t.replace('system_id = "0001"', 'system_id = "00012"'), "1 to 4 characters"),
])
def test_firstboot_refuses_a_bad_config_in_one_line(tmp_path, key_dir, capsys, edit, needle):
    code, layout = _run(tmp_path, _partition(tmp_path, key_dir, edit(PAIR)))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("npac-firstboot: CONFIGURATION REFUSED") and needle in err and err.count("\n") == 1


def test_firstboot_accepts_the_agreed_key_list_md5(tmp_path, key_dir):
    md5 = hashlib.md5((key_dir / "0001-list1.pub.pem").read_bytes()).hexdigest()
    text = PAIR.replace('key_lists = ["keys/0001-list1.pub.pem"]',
                        f'key_lists = ["keys/0001-list1.pub.pem"]\nkey_list_md5 = ["{md5}"]')
    assert _run(tmp_path, _partition(tmp_path, key_dir, text))[0] == 0


def test_firstboot_without_npac_toml_says_where_it_goes(tmp_path):
    proc = subprocess.run([sys.executable, str(IMAGE / "firstboot" / "npac_firstboot.py"), "--config",
                           str(tmp_path / "npac.toml"), "--cmdline", "", "--root", str(tmp_path / "r")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "write npac.toml on the NPAC-CONFIG partition" in proc.stderr


def test_the_documented_example_is_valid(tmp_path, key_dir):
    """image/config/npac.toml.example is what installers copy: it must pass as written."""
    part = _partition(tmp_path, key_dir, (IMAGE / "config" / "npac.toml.example").read_text())
    assert _run(tmp_path, part)[0] == 0


def test_ssh_keys_are_checked_and_off_by_default(tmp_path, key_dir):
    cfg = appliance_config.load(_partition(tmp_path, key_dir, PAIR))
    assert cfg.ssh_keys == ()
    with pytest.raises(ConfigError, match="OpenSSH"):
        appliance_config.load(tmp_path / "config" / "npac.toml", 'npac.ssh.authorized_keys=[\\"x\\"]')


# ---- build manifest --------------------------------------------------------------------------------

def _inputs(tmp_path: Path) -> dict:
    debs, wheels, src = tmp_path / "debs", tmp_path / "wheels", tmp_path / "src"
    for d in (debs, wheels, src):
        d.mkdir()
    (debs / manifest.deb_file("libc6", "2.36-9+deb12u9", "amd64")).write_bytes(b"libc")
    (debs / manifest.deb_file("systemd", "1:252.39-1~deb12u2", "amd64")).write_bytes(b"sd")
    (tmp_path / "installed.txt").write_text("libc6 2.36-9+deb12u9 amd64\nsystemd 1:252.39-1~deb12u2 amd64\n")
    (wheels / "pysnmp-7.1.30-py3-none-any.whl").write_bytes(b"w")
    (src / "a.txt").write_text("a")
    (tmp_path / "disk.img").write_bytes(b"\0" * 4096)
    (tmp_path / "x_InRelease").write_text("release")
    return dict(suite="bookworm", epoch=1767225600, releases=[tmp_path / "x_InRelease"],
                installed=tmp_path / "installed.txt", debs=debs, wheels=wheels, sources=[src], image=tmp_path / "disk.img")


def test_manifest_names_every_input_with_its_hash(tmp_path):
    args = _inputs(tmp_path)
    lines = manifest.build_lines(**args)
    records = manifest.parse("\n".join(lines) + "\n")
    debs = {r[1]: r for r in records if r[0] == "deb"}
    assert debs["systemd"][4] == hashlib.sha256(b"sd").hexdigest() and debs["systemd"][2] == "1:252.39-1~deb12u2"
    assert [r[1] for r in records if r[0] == "wheel"] == ["pysnmp-7.1.30-py3-none-any.whl"]
    (image,) = [r for r in records if r[0] == "image"]
    assert image[3] == "4096"
    out = tmp_path / "m"
    out.write_text("\n".join(lines) + "\n")
    assert "matches" in manifest.verify(out, args["image"])
    args["image"].write_bytes(b"\1" * 4096)
    with pytest.raises(manifest.ManifestError, match="not the image"):
        manifest.verify(out, args["image"])


def test_manifest_refuses_an_installed_package_without_its_file(tmp_path):
    args = _inputs(tmp_path)
    (tmp_path / "installed.txt").write_text("bash 5.2.15-2+b7 amd64\n")
    with pytest.raises(manifest.ManifestError, match="bash"):
        manifest.build_lines(**args)


@pytest.mark.parametrize("text,needle", [
    ("", "not a manifest"),
    (manifest.HEADER + "\ndeb a 1 amd64 zz\nimage i " + "0" * 64 + " 1\n", "not a SHA-256"),
    (manifest.HEADER + "\nfrobnicate x\n", "not a manifest record"),
    (manifest.HEADER + "\nsuite bookworm\n", "exactly one image"),
])
def test_manifest_parse_rejects_malformed(text, needle):
    with pytest.raises(manifest.ManifestError, match=needle):
        manifest.parse(text)


def test_deb_file_names_encode_epochs_as_apt_does():
    assert manifest.deb_file("systemd", "1:252.39-1~deb12u2", "amd64") == "systemd_1%3a252.39-1~deb12u2_amd64.deb"


def test_python_lock_hashes_are_enforced(tmp_path):
    (tmp_path / "pyserial-3.5-py2.py3-none-any.whl").write_bytes(b"real")
    good = hashlib.sha256(b"real").hexdigest()
    lock = tmp_path / "lock"
    lock.write_text(f"pyserial==3.5 --hash=sha256:{good}\n")
    assert [p.name for p in manifest.check_python(lock, tmp_path)] == ["pyserial-3.5-py2.py3-none-any.whl"]
    lock.write_text(f"pyserial==3.5 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(manifest.ManifestError, match="hash differs"):
        manifest.check_python(lock, tmp_path)


def test_the_committed_python_lock_covers_the_run_time_dependencies():
    entries = manifest.lock_entries((IMAGE / "pins" / "python.lock").read_text())
    names = {k.split("==")[0] for k in entries}
    assert {"pyasn1", "cryptography", "pysnmp", "sqlite-utils", "pyserial", "systemd-python"} <= names


# ---- mirror ----------------------------------------------------------------------------------------

def test_mirror_is_read_from_the_hosts_apt_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# nothing here\ndeb [arch=amd64] http://one.example/debian trixie main\n")
    (tmp_path / "sources.list.d" / "a.sources").write_text(
        "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://two.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main contrib\n")
    assert mirror.find_mirror("bookworm", tmp_path) == "http://two.example/debian"
    assert mirror.find_mirror("trixie", tmp_path) == "http://one.example/debian"
    assert mirror.find_mirror("sid", tmp_path) is None


# ---- sd_notify -------------------------------------------------------------------------------------

def test_sdnotify_is_a_no_op_outside_systemd():
    assert sdnotify.ready("x", environ={}) is False
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "1000000"}) is None
    assert sdnotify.journal_logging("npac-node", environ={}) is False


def test_watchdog_interval_is_half_of_watchdogsec_and_only_for_its_process():
    env = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "30000000"}
    assert sdnotify.watchdog_interval(env) == 15.0
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_USEC": "0"}) is None


def test_ready_and_watchdog_reach_a_real_notify_socket(tmp_path, monkeypatch):
    """READY=1 then WATCHDOG=1 pings through systemd-python to a datagram socket, as systemd sees them.
    The socket is read while the pings run: a datagram queue holds only a few messages."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "40000")  # pings every 20 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    got: list[str] = []

    async def run():
        loop = asyncio.get_running_loop()

        async def collect():
            while True:
                got.append((await loop.sock_recv(sock, 4096)).decode())

        reader = asyncio.create_task(collect())
        assert sdnotify.ready("serving")
        while got.count("WATCHDOG=1") < 3:
            await asyncio.sleep(0.01)
        sdnotify.stopping()
        while got[-1] != "STOPPING=1":
            await asyncio.sleep(0.01)
        reader.cancel()

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
    finally:
        sock.close()
    assert got[0] == "READY=1\nSTATUS=serving"
    assert got.count("WATCHDOG=1") >= 3 and got[-1] == "STOPPING=1"

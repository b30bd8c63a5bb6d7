"""npac-firstboot: every boot, before any NPAC service, turn npac.toml (NPAC-CONFIG partition, plus
npac.* kernel command-line settings) into the node's, npac-ha's and the SNMP agent's configuration,
check all of it with the processes' own loaders, and only then let the services start.

    npac_firstboot.py [--config /config/npac.toml] [--cmdline /proc/cmdline] [--root DIR] [--apply]

--apply does the system side (owners, hostname, SSH); without it the files are written and checked
only, under --root (a test tree). On any error: one line on the console, exit 2, and the units that
require npac-firstboot.service stay stopped.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from appliance.config import load_config as load_node_config
from appliance.lnp.keys import KeyListError, load_key_list
from appliance.tomlconfig import ConfigError
from ha.config import load_config as load_ha_config
from snmp.config import load_config as load_snmp_config

from appliance_config import ApplianceConfig, load
from render import Layout, key_copy, render

SERVICE_USER = "npac"


def rooted(root: Path | None) -> Layout:
    if root is None:
        return Layout()
    base = Layout()
    return Layout(*(root / str(p).lstrip("/") for p in (base.etc, base.run, base.data, base.hooks, base.network, base.ssh)))


def write(cfg: ApplianceConfig, layout: Layout) -> list[Path]:
    """Generated files and key copies; secrets 0600, the rest 0640."""
    for d in (layout.etc, layout.run, layout.data, layout.keys, layout.network, layout.data / "node", layout.data / "snmp"):
        d.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in render(cfg, layout).items():
        path.write_text(text)
        path.chmod(0o644 if path.suffix == ".network" else 0o600)
        written.append(path)
    for source, _ in cfg.key_lists:
        target = key_copy(layout, source)
        shutil.copyfile(source, target)
        target.chmod(0o600)
        written.append(target)
    if cfg.pair is not None:
        target = layout.etc / "ha.key"
        shutil.copyfile(cfg.pair.key_file, target)
        target.chmod(0o600)
        written.append(target)
    return written


def check(layout: Layout, paired: bool) -> None:
    """The processes' own loaders judge the result, so a file that passes here starts there."""
    node = load_node_config(layout.etc / "node.toml")
    try:
        private = load_key_list(node.private_list)
    except KeyListError as exc:
        raise ConfigError(f"[keys]: {exc}") from None
    if node.key_id not in private.private:
        raise ConfigError(f"[keys]: key_id {node.key_id} is not a private key of {node.private_list.name}")
    for carrier in node.carriers:
        for path in carrier.key_lists:
            try:
                kl = load_key_list(path)
            except KeyListError as exc:
                raise ConfigError(f"[[carrier]] {carrier.system_id}: {exc}") from None
            if kl.system_id != carrier.system_id:
                raise ConfigError(f"[[carrier]] {carrier.system_id}: {path.name} is a key list of {kl.system_id}")
    if paired:
        load_ha_config(layout.etc / "ha.toml")
    load_snmp_config(layout.etc / "snmp.toml")


def apply(cfg: ApplianceConfig, layout: Layout, written: list[Path]) -> list[str]:
    """The system side, on the appliance only. Returns what it did, for the journal."""
    import pwd
    user = pwd.getpwnam(SERVICE_USER)
    for path in written + [layout.run, layout.etc, layout.keys, layout.data / "node", layout.data / "snmp"]:
        if path.suffix != ".network":
            os.chown(path, user.pw_uid, user.pw_gid)
    layout.etc.chmod(0o700)
    layout.run.chmod(0o750)
    done = []
    socket.sethostname(cfg.hostname)
    done.append(f"hostname {cfg.hostname}")
    if cfg.ssh_keys:
        layout.ssh.mkdir(mode=0o755, exist_ok=True)
        keys = layout.ssh / "authorized_keys"
        keys.write_text("\n".join(k.strip() for k in cfg.ssh_keys) + "\n")
        keys.chmod(0o644)
        host_keys = layout.data / "ssh"
        host_keys.mkdir(mode=0o700, exist_ok=True)
        if not (host_keys / "ssh_host_ed25519_key").exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_keys / "ssh_host_ed25519_key")],
                           check=True)
        subprocess.run(["systemctl", "--no-block", "start", "ssh.service"], check=True)
        done.append(f"ssh on for {len(cfg.ssh_keys)} key(s)")
    else:
        done.append("ssh off (no [ssh] authorized_keys)")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-firstboot", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="/config/npac.toml")
    parser.add_argument("--cmdline", default="/proc/cmdline", help="file holding the kernel command line")
    parser.add_argument("--root", type=Path, help="write under this directory instead of the system paths")
    parser.add_argument("--apply", action="store_true", help="also set owners, hostname and SSH (the appliance)")
    args = parser.parse_args(argv)
    layout = rooted(args.root)
    try:
        cmdline = Path(args.cmdline).read_text() if args.cmdline else ""
        cfg = load(Path(args.config), cmdline)
        written = write(cfg, layout)
        check(layout, paired=cfg.pair is not None)
        done = apply(cfg, layout, written) if args.apply else []
    except (ConfigError, OSError, subprocess.CalledProcessError) as exc:
        text = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
        print(f"npac-firstboot: CONFIGURATION REFUSED, NPAC services not started: {text}", file=sys.stderr, flush=True)
        return 2
    mode = f"pair with {cfg.pair.peer}" if cfg.pair else "lone node"
    print(f"npac-firstboot: node '{cfg.name}' ({cfg.role}, {mode}) configured" +
          (": " + "; ".join(done) if done else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

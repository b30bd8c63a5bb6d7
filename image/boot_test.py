"""`make image-test`: boot the built image under qemu and use it as a carrier and an NMS would.

1. check the image against its manifest, copy it, write a primary node's npac.toml on the copy's
   NPAC-CONFIG partition;
2. boot (UEFI, KVM when usable), wait until npac-node, npac-ha and npac-snmp report ready
   (Type=notify: systemd prints "Started ..." only after READY=1) on the serial console;
   the node is one of a pair whose DR is absent, so, as at any cold start without the peer, an
   operator confirms the promotion (here over SSH, which the test's npac.toml switches on);
3. associate over CMIP as a simulated SOA (demo carrier 0001) through the forwarded port 102, read
   the NPAC's service-provider objects, release;
4. walk the NPAC-APPLIANCE-MIB with net-snmp's snmpwalk (SNMPv3 authPriv) through port 161;
5. power down with the ACPI button and require a clean shutdown.
Prints each step's time; the figures also go to var/image/test/result.json. Exit 0 only if all pass.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from appliance.osi import cmip  # noqa: E402
from appliance.osi.association import Address  # noqa: E402
from appliance.peers.carrier import AssociationRefused, CarrierAssociation, Host  # noqa: E402
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys  # noqa: E402
from node_configs import SNMP_USER, node_files  # noqa: E402
from vm import Vm, VmError, free_port, kvm_usable, write_config_partition  # noqa: E402

ENV = dict(line.split("=", 1) for line in (HERE / "pins" / "image.env").read_text().splitlines()
           if line and not line.startswith("#"))
CONFIG_OFFSET_MIB = 1 + int(ENV["ESP_MIB"])
READY = [r"Started npac-node\b", r"Started npac-ha\b", r"Started npac-snmp\b"]
REFUSED = [r"CONFIGURATION REFUSED", r"Failed to start npac-", r"Kernel panic"]
ADDRESS = Address(bytes.fromhex("4e504143"), bytes.fromhex("0001"), bytes.fromhex("00000001"))


def service_provs_dn() -> tuple:
    from appliance.lnp.oids import OIDS
    from appliance.osi import ber

    def rdn(attr: str, text: str) -> tuple:
        return ((OIDS.attribute(attr).oid, ber.encode_tlv(0x19, text.encode("latin-1"))),)
    return (rdn("lnpNPAC-SMS-Name", NPAC_SYSTEM_ID), rdn("lnpServiceProvsName", "lnpServiceProvs"))


async def associate_as_soa(keys: DemoKeys, port: int, timeout: float) -> tuple[float, int]:
    """Associate as 0001's SOA until the node takes it (it goes live once npac-ha decides), read the
    service providers it shows this carrier, release. Returns (seconds until accepted, objects read)."""
    t0 = time.monotonic()
    while True:
        carrier = CarrierAssociation(keys.carrier_identity("0001", 0), keys.carrier_directory(),
                                     frozenset({"soa.soaMgmt"}), npac_system_id=NPAC_SYSTEM_ID)
        try:
            await carrier.open([Host("127.0.0.1", port, ADDRESS)], retry_wait=1.0, attempts=1)
            break
        except (AssociationRefused, OSError, asyncio.TimeoutError, ConnectionError) as exc:
            if time.monotonic() - t0 > timeout:
                raise VmError(f"no CMIP association within {timeout:.0f} s: {exc}") from None
            await asyncio.sleep(2)
    accepted = time.monotonic() - t0
    out = await carrier.get("lnpServiceProvs", service_provs_dn(), cmip.FIRST_LEVEL_ONLY)
    await carrier.release()
    return round(accepted, 1), len(out.linked)


def snmpwalk(port: int) -> list[str]:
    user, auth, priv = SNMP_USER
    proc = subprocess.run(["snmpwalk", "-v3", "-l", "authPriv", "-u", user, "-a", "SHA", "-A", auth, "-x", "AES",
                           "-X", priv, "-t", "5", "-r", "3", "-M", f"+:{REPO / 'snmp' / 'mibs'}",
                           "-m", "+NPAC-APPLIANCE-MIB", f"udp:127.0.0.1:{port}", "NPAC-APPLIANCE-MIB::npacApplianceMIB"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise VmError(f"snmpwalk failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    return proc.stdout.splitlines()


def operator_key(work: Path) -> Path:
    """The test operator's SSH key (the image has none: SSH runs only for keys npac.toml lists)."""
    key = work / "operator_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "image-test operator", "-f", str(key)],
                       check=True)
    return key


def over_ssh(key: Path, port: int, command: str, timeout: float = 60) -> str:
    proc = subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no",
                           "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                           "-o", "ConnectTimeout=20", "root@127.0.0.1", command],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise VmError(f"ssh: {(proc.stderr or proc.stdout).strip()[-200:]}")
    return proc.stdout.strip()


CONFIRM = ("/opt/npac/venv/bin/python -c 'from appliance.control import request; "
           "print(request(\"/run/npac/ha.sock\", \"confirm_promotion\"))'")


def confirm_promotion(key: Path, port: int, timeout: float) -> tuple[float, str]:
    """What the operator does at a cold start with the peer absent (contract 12.4: no automatic
    promotion of a node that cannot prove it is current): confirm, over SSH, once npac-ha has found
    both heartbeat paths silent for the dead time."""
    t0 = time.monotonic()
    while True:
        try:
            role = over_ssh(key, port, CONFIRM)
            if role in ("promoting", "primary-live", "isolated"):
                return round(time.monotonic() - t0, 1), role
            why = f"npac-ha still {role} (a confirmation counts only once both heartbeat paths are lost)"
        except (VmError, subprocess.TimeoutExpired) as exc:
            why = str(exc)
        if time.monotonic() - t0 > timeout:
            raise VmError(f"promotion not confirmed within {timeout:.0f} s: {why}")
        time.sleep(3)


def prepare_disk(image: Path, work: Path, name: str, files: dict[str, Path]) -> Path:
    disk = work / f"{name}.img"
    subprocess.run(["cp", "--sparse=always", str(image), str(disk)], check=True)
    write_config_partition(disk, CONFIG_OFFSET_MIB, files)
    return disk


def verify_manifest(image: Path) -> None:
    proc = subprocess.run([sys.executable, str(HERE / "tools" / "manifest.py"), "verify",
                           str(image.with_suffix(".manifest")), str(image)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise VmError(proc.stderr.strip() or "manifest check failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="image-test")
    parser.add_argument("--image", type=Path, default=REPO / "var" / "image" / "npac-appliance.img")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "image" / "test")
    parser.add_argument("--boot-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    if not args.image.is_file():
        print(f"image-test: no {args.image}; run make image first", file=sys.stderr)
        return 2
    for tool in ("qemu-system-x86_64", "snmpwalk", "mcopy", "ssh"):
        if shutil.which(tool) is None:
            print(f"image-test: {tool} is missing (apt-get install qemu-system-x86 ovmf snmp mtools openssh-client)", file=sys.stderr)
            return 2
    args.work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"accel": "kvm" if kvm_usable() else "tcg"}
    vm = None
    try:
        verify_manifest(args.image)
        key = operator_key(args.work)
        files = node_files(args.work, name="primary", role="primary", peer="dr", ic_address="198.51.100.1/30",
                           ic_peer="198.51.100.2", stand_in_fence=True,
                           ssh_key=key.with_suffix(".pub").read_text())
        disk = prepare_disk(args.image, args.work, "primary", files)
        cmip_port, snmp_port, ssh_port = free_port(), free_port(socket.SOCK_DGRAM), free_port()
        vm = Vm("primary", disk, args.work, forwards={"tcp:102": cmip_port, "udp:161": snmp_port, "tcp:22": ssh_port},
                extra=["-netdev", "user,id=ic,restrict=on", "-device", "virtio-net-pci,netdev=ic",
                       "-serial", "null"])
        vm.start()
        print(f"image-test: booting {args.image.name} ({figures['accel']}); serial console in {vm.log_path}", flush=True)
        seen = vm.wait_for(READY, args.boot_timeout, fail=REFUSED)
        figures["ready_s"] = {p.split(" ")[1].split("\\")[0]: t for p, t in seen.items()}
        print(f"image-test: services ready after {max(seen.values())} s: {figures['ready_s']}", flush=True)
        took, answer = confirm_promotion(key, ssh_port, timeout=300)
        figures["confirmed_after_s"] = took
        print(f"image-test: operator confirmed the promotion over SSH after {took} s; npac-ha: {answer}", flush=True)
        keys = DemoKeys(args.work / "keys", count=4)
        accepted, objects = asyncio.run(associate_as_soa(keys, cmip_port, timeout=120))
        figures["cmip_accepted_after_s"], figures["cmip_objects"] = accepted, objects
        print(f"image-test: CMIP association as SOA 0001 accepted after {accepted} s more; {objects} object(s) read",
              flush=True)
        walk = snmpwalk(snmp_port)
        figures["snmpwalk_lines"] = len(walk)
        print(f"image-test: snmpwalk NPAC-APPLIANCE-MIB: {len(walk)} values, e.g. {walk[0][:80]}", flush=True)
        down = vm.power_down(timeout=120)
        if not vm.saw(r"reboot: Power down") or vm.saw(r"Failed to stop npac-"):
            raise VmError(f"no clean power-down on the console (serial log {vm.log_path})")
        figures["shutdown_s"] = down
        print(f"image-test: clean power-down in {down} s", flush=True)
    except (VmError, subprocess.CalledProcessError, OSError) as exc:
        print(f"image-test: FAILED: {exc}", file=sys.stderr)
        if vm is not None:
            vm.kill()
        return 1
    (args.work / "result.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("image-test: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

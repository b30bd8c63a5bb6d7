"""`make image-drill`: the cutover drill on two VMs of the built image.

The primary and the DR each boot a copy of the image with their own npac.toml. Between them: a
virtual null-modem cable (a qemu socket chardev on each side's ttyS1) and an interconnect (a qemu
socket netdev joining their eth1). Each has its own user-mode carrier network with CMIP forwarded.
Steps: both nodes ready; a SOA associates with the primary; the DR refuses (it is the standby);
the primary VM is killed (power gone, both heartbeat paths silent); the drill measures how long
until the DR accepts the SOA's association. Figures go to var/image/drill/result.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from appliance.peers.carrier import AssociationRefused, CarrierAssociation, Host  # noqa: E402
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys  # noqa: E402
from boot_test import (ADDRESS, READY, REFUSED, associate_as_soa, confirm_promotion, operator_key,  # noqa: E402
                       over_ssh, prepare_disk, verify_manifest)
from node_configs import node_files  # noqa: E402
from vm import Vm, VmError, free_port, kvm_usable  # noqa: E402


async def refused_by(keys: DemoKeys, port: int) -> str:
    """What a SOA's AARQ gets from a node that should not accept it."""
    carrier = CarrierAssociation(keys.carrier_identity("0001", 0), keys.carrier_directory(),
                                 frozenset({"soa.soaMgmt"}), npac_system_id=NPAC_SYSTEM_ID)
    try:
        await carrier.open([Host("127.0.0.1", port, ADDRESS)], retry_wait=1.0, attempts=1)
    except AssociationRefused as exc:
        return exc.text
    await carrier.release()
    raise VmError("the DR accepted an association while the primary was live")


STATUS = ("/opt/npac/venv/bin/python -c 'import json; from appliance.control import request; "
          "s = request(\"/run/npac/ha.sock\", \"status\"); "
          "print(json.dumps({n: p.get(\"state\", p) for n, p in s[\"paths\"].items()}))'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="image-drill")
    parser.add_argument("--image", type=Path, default=REPO / "var" / "image" / "npac-appliance.img")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "image" / "drill")
    parser.add_argument("--dead-time", type=float, default=6.0, help="npac-ha dead time of both nodes, seconds")
    args = parser.parse_args(argv)
    if not args.image.is_file():
        print(f"image-drill: no {args.image}; run make image first", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"accel": "kvm" if kvm_usable() else "tcg", "dead_time_s": args.dead_time}
    vms: list[Vm] = []
    try:
        verify_manifest(args.image)
        cable = args.work / "cable.sock"
        cable.unlink(missing_ok=True)
        ic_port = free_port()
        ports = {"primary": free_port(), "dr": free_port()}
        ssh_port, dr_ssh_port = free_port(), free_port()
        key = operator_key(args.work)
        disks = {
            "primary": prepare_disk(args.image, args.work, "primary", node_files(
                args.work, name="primary", role="primary", peer="dr", ic_address="198.51.100.1/30",
                ic_peer="198.51.100.2", dead_time=args.dead_time, stand_in_fence=True,
                ssh_key=key.with_suffix(".pub").read_text())),
            "dr": prepare_disk(args.image, args.work, "dr", node_files(
                args.work, name="dr", role="dr", peer="primary", ic_address="198.51.100.2/30",
                ic_peer="198.51.100.1", dead_time=args.dead_time, stand_in_fence=True,
                ssh_key=key.with_suffix(".pub").read_text())),
        }
        cpus = 2 if kvm_usable() else 1  # two emulated VMs share the host's cores
        primary = Vm("primary", disks["primary"], args.work, cpus=cpus, forwards={"tcp:102": ports["primary"], "tcp:22": ssh_port}, extra=[
            "-netdev", f"socket,id=ic,listen=127.0.0.1:{ic_port}", "-device", "virtio-net-pci,netdev=ic",
            "-chardev", "null,id=cable", "-serial", "chardev:cable"])
        dr = Vm("dr", disks["dr"], args.work, cpus=cpus, forwards={"tcp:102": ports["dr"], "tcp:22": dr_ssh_port}, extra=[
            "-netdev", f"socket,id=ic,connect=127.0.0.1:{ic_port}", "-device", "virtio-net-pci,netdev=ic",
            "-chardev", "null,id=cable", "-serial", "chardev:cable"])
        primary.start()
        time.sleep(1)  # the listening end of the interconnect first
        dr.start()
        vms = [primary, dr]
        print(f"image-drill: two VMs ({figures['accel']}); serial logs in {args.work}", flush=True)
        for vm in vms:
            vm.wait_for([r"EFI stub|Loading, please wait"], 300)  # past the firmware
        primary.plug_cable("cable", cable, server=True)
        dr.plug_cable("cable", cable, server=False)
        for vm in vms:
            seen = vm.wait_for(READY, 600, fail=REFUSED)
            figures[f"{vm.name}_ready_s"] = max(seen.values())
        print(f"image-drill: both ready (primary {figures['primary_ready_s']} s, dr {figures['dr_ready_s']} s)", flush=True)
        keys = DemoKeys(args.work / "keys", count=4)
        try:
            accepted, _ = asyncio.run(associate_as_soa(keys, ports["primary"], timeout=120))
        except VmError:
            # no automatic lead at this cold start: the operator confirms, as at any cold start
            took, _ = confirm_promotion(key, ssh_port, timeout=300)
            figures["primary_confirmed_by_operator_after_s"] = took
            accepted, _ = asyncio.run(associate_as_soa(keys, ports["primary"], timeout=120))
        figures["primary_accepts_after_s"] = accepted
        figures["dr_while_primary_live"] = asyncio.run(refused_by(keys, ports["dr"]))
        print(f"image-drill: primary accepts a SOA; the DR refuses it ({figures['dr_while_primary_live']})", flush=True)
        figures["dr_heartbeat_paths_before_kill"] = json.loads(over_ssh(key, dr_ssh_port, STATUS))
        print(f"image-drill: the DR's heartbeat paths: {figures['dr_heartbeat_paths_before_kill']}", flush=True)
        t0 = time.monotonic()
        primary.kill()
        print("image-drill: primary VM killed", flush=True)
        took, _ = asyncio.run(associate_as_soa(keys, ports["dr"], timeout=600))
        figures["dr_accepts_after_kill_s"] = round(time.monotonic() - t0, 1)
        print(f"image-drill: the DR accepts the SOA {figures['dr_accepts_after_kill_s']} s after the primary died "
              f"(contract 12.4 budget: 600 s)", flush=True)
        figures["dr_shutdown_s"] = dr.power_down(timeout=120)
    except (VmError, OSError) as exc:
        print(f"image-drill: FAILED: {exc}", file=sys.stderr)
        for vm in vms:
            vm.kill()
        return 1
    (args.work / "result.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("image-drill: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

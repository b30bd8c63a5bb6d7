"""`python -m appliance.peers` (`make demo`): simulated carriers driving a running NPAC over CMIP.

    python -m appliance.peers port [--tn 3035551234] [--old 0001] [--new 0002]
    python -m appliance.peers load [--rate 2] [--duration 30] [--soa 0002 --donor 0001]

`port` ports one number end to end, as flows 6.4.1.1, 6.4.1.2, 6.4.1.5 and 6.4.1.6 have it: the old
SP's SOA concurs (subscriptionVersionOldSP-Create), the new SP's SOA creates and activates, and every
demo LSMS (0001, 0002, 0003) watches the broadcast arrive; each step is printed as it happens.
`load` sends subscriptionVersionNewSP-Create at a fixed rate and prints acknowledgement times.
Both find the NPAC through the host list (primary, then DR: `make run`'s ports) and sign with the demo
carriers' keys under var/demo/keys. Exit 0 when done, 1 when the NPAC refused a step, 2 when it
could not be reached or an argument is wrong.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from appliance.lnp.security import LOCAL_SMS, SOA
from appliance.lnp.values import lrn_digits
from appliance.osi.association import Address
from appliance.peers.carrier import Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.peers.soa import SoaSimulator, routing

ADDRESS = Address(bytes.fromhex("4e504143"), bytes.fromhex("0001"), bytes.fromhex("00000001"))
LRN_OF = {"0001": "3035550000", "0002": "3035560000", "0003": "7205550000"}


class Refused(Exception):
    pass


def _hosts(text: str) -> list[Host]:
    out = []
    for part in text.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise argparse.ArgumentTypeError(f"host list entries are host:port, got {part!r}")
        out.append(Host(host, int(port), ADDRESS))
    return out


def _tn(text: str) -> str:
    if len(text) != 10 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"a TN is 10 digits, got {text!r}")
    return text


def _check(step: str, answer) -> None:
    if not answer.ok:
        raise Refused(f"{step}: refused with {answer.error_name} {answer.specific_info or ''}".rstrip())
    print(f"  {step}: ok", flush=True)


async def port(args: argparse.Namespace, keys: DemoKeys) -> None:
    directory = keys.carrier_directory()
    lsmss = [LsmsSimulator(sp, keys.carrier_identity(sp, LOCAL_SMS), directory, npac_system_id=NPAC_SYSTEM_ID)
             for sp in ("0001", "0002", "0003")]
    for sim in lsmss:
        await sim.associate(args.hosts)
    print(f"LSMSs 0001, 0002, 0003 associated to {lsmss[0].carrier.host.host}:{lsmss[0].carrier.host.port}")
    old = SoaSimulator(keys.carrier_identity(args.old, SOA), directory, npac_system_id=NPAC_SYSTEM_ID)
    new = SoaSimulator(keys.carrier_identity(args.new, SOA), directory, npac_system_id=NPAC_SYSTEM_ID)
    await old.open(args.hosts)
    await new.open(args.hosts)
    print(f"SOAs {args.old} (old SP) and {args.new} (new SP) associated; porting {args.tn}")
    due = int(time.time() * 1000) + 2 * 86_400_000
    try:
        _check(f"{args.old} subscriptionVersionOldSP-Create", await old.old_sp_create(args.tn, args.new, due, True))
        _check(f"{args.new} subscriptionVersionNewSP-Create",
               await new.new_sp_create(args.tn, args.old, due, routing(LRN_OF.get(args.new, "3035560000"))))
        _check(f"{args.new} subscriptionVersionActivate", await new.activate(args.tn))
        t0 = time.monotonic()
        while not all(args.tn in sim.mib.versions() for sim in lsmss):
            if time.monotonic() - t0 > 60:
                raise Refused("the broadcast did not reach every LSMS within 60 s")
            await asyncio.sleep(0.05)
        print(f"  broadcast: every LSMS holds the new version ({time.monotonic() - t0:.2f} s after activate)")
        for sim in lsmss:
            view = sim.mib.versions()[args.tn]
            lrn = view.get("subscriptionLRN")
            print(f"    LSMS {sim.sp_id}: TN {args.tn} -> LRN {lrn_digits(lrn) if isinstance(lrn, bytes) else lrn}, "
                  f"new SP {view.get('subscriptionNewCurrentSP', '?')}")
    finally:
        for party in (*lsmss, old, new):
            await party.release()


async def load(args: argparse.Namespace, keys: DemoKeys) -> None:
    soa = SoaSimulator(keys.carrier_identity(args.soa, SOA), keys.carrier_directory(), npac_system_id=NPAC_SYSTEM_ID)
    await soa.open(args.hosts)
    due = int(time.time() * 1000) + 3 * 86_400_000
    times: list[float] = []
    refused = 0
    start = time.monotonic()
    n = 0
    try:
        while time.monotonic() - start < args.duration:
            tn = str(args.first + n)
            t0 = time.monotonic()
            answer = await soa.new_sp_create(tn, args.donor, due, routing(LRN_OF.get(args.soa, "3035560000")))
            times.append(time.monotonic() - t0)
            refused += 0 if answer.ok else 1
            n += 1
            await asyncio.sleep(max(0.0, start + n / args.rate - time.monotonic()))
    finally:
        await soa.release()
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)] if times else 0.0
    print(f"{n} creates in {time.monotonic() - start:.1f} s, {refused} refused; ack median "
          f"{statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (Exhibit G: 3 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.peers", description="Simulated SOAs and LSMSs")
    parser.add_argument("--hosts", type=_hosts, default=_hosts("127.0.0.1:10102,127.0.0.1:10202"),
                        help="the NPAC host list (default: make run's primary, then DR)")
    parser.add_argument("--keys", default="var/demo/keys", help="the demo key lists (default var/demo/keys)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("port", help="port one number end to end, three LSMSs watching")
    p.add_argument("--tn", type=_tn, default="3035551234")
    p.add_argument("--old", default="0001")
    p.add_argument("--new", default="0002")
    lo = sub.add_parser("load", help="NewSP-Create at a fixed rate from one SOA")
    lo.add_argument("--rate", type=float, default=2.0)
    lo.add_argument("--duration", type=float, default=30.0)
    lo.add_argument("--soa", default="0002")
    lo.add_argument("--donor", default="0001")
    lo.add_argument("--first", type=int, default=3035557000)
    args = parser.parse_args(argv)
    if not Path(args.keys).is_dir():
        print(f"peers: no key lists in {args.keys} (start `make run` first)", file=sys.stderr)
        return 2
    keys = DemoKeys(Path(args.keys))
    try:
        asyncio.run(port(args, keys) if args.cmd == "port" else load(args, keys))
    except Refused as exc:
        print(f"peers: {exc}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError, asyncio.TimeoutError) as exc:
        print(f"peers: the NPAC could not be reached: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an association refused or lost: one line, never a traceback
        print(f"peers: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The NPAC side of the wire bench, in a process of its own (`python -m tests.bench.wire_server`).

Starts an `NpacAgent` on loopback, as `tests.support.lnp_rig.start_rig` does, with one handler for
a real LNP action (subscriptionVersionNewSP-Create by default). The handler decodes the action
information with its LNP-ASN1 type and answers with a success reply of the action's reply type;
there is no store behind it: the bench measures the wire stack (TPKT .. CMIP, LNP access control),
not the NPAC SMS logic.

Prints `PORT <n>` on stdout once listening; runs until stdin is closed (so it never outlives the
bench that started it), then prints `CPU <seconds>` and, with --profile, writes cProfile stats.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import sys
from pathlib import Path

from appliance.agent import NpacAgent, RequestContext
from appliance.lnp.asn1 import decode_with, encode, set_component
from appliance.lnp.oids import OIDS
from appliance.osi import cmip
from appliance.peers.demo_keys import DemoKeys
from tests.support.lnp_rig import NPAC_ADDRESS, network_tree

DEFAULT_ACTION = "subscriptionVersionNewSP-Create"


def action_handler(action_name: str):
    """A handler answering `action_name` with its LNP reply type: status success, no store."""
    record = OIDS.action(action_name)
    info_type = OIDS.syntax_class(record)
    reply_type = OIDS.syntax_class(record, reply=True)
    if info_type is None or reply_type is None:
        raise SystemExit(f"{action_name}: no LNP-ASN1 info and reply types")
    counter = [0]

    def handle(ctx: RequestContext) -> cmip.ActionResult | cmip.CmipError:
        req: cmip.ActionRequest = ctx.request
        if req.action_info is None:
            return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, None)
        info = decode_with(info_type, req.action_info)  # ProtocolError -> the agent's own handling
        reply = reply_type()
        reply["status"] = "success"
        if "invalid-data" in reply_type.componentType:  # mandatory in the NewSP/OldSP/Modify replies
            set_component(reply, "invalid-data", info)
        counter[0] += 1
        return cmip.ActionResult(req.object_class, req.object_instance, ctx.agent.clock(), req.action_type,
                                 encode(reply))

    handle.count = counter  # type: ignore[attr-defined]
    return handle


async def serve(args: argparse.Namespace) -> None:
    keys = DemoKeys(Path(args.keys), count=3)
    events: list[str] = []

    def security_log(event: str, **fields) -> None:
        # per-association events only (established, released, violations); a bench run has a few
        if event not in ("association-established", "association-released"):
            print(f"wire_server: security event {event} {fields}", file=sys.stderr, flush=True)
        events.append(event)

    agent = NpacAgent(identity=keys.npac_identity(), directory=keys.npac_directory(), security_log=security_log,
                      tree=network_tree(keys.carriers), local=NPAC_ADDRESS)
    handler = action_handler(args.action)
    agent.on_action(args.action, handler)
    server = await agent.serve(args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # EOF: the bench is done (or gone)
    await agent.close(release_first=False)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--keys", default="var/bench/keys")
    p.add_argument("--action", default=DEFAULT_ACTION)
    p.add_argument("--profile", help="write cProfile stats of the whole server run to this file")
    args = p.parse_args(argv)
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    try:
        asyncio.run(serve(args))
    finally:
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
        t = os.times()
        print(f"CPU {t.user + t.system:.3f}", flush=True)


if __name__ == "__main__":
    main()

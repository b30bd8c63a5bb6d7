"""`npac [--socket PATH] [--json] <group> <verb> [arguments]`: the operations console.

Exit codes: 0 done, 1 refused by the node (its one-line reason is printed), 2 bad command line or
node not reachable. Never a traceback: whatever goes wrong is one line on standard error.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from appliance.console import (
    bulk_cmds, calendar_cmds, call_cmds, drill_cmds, keys_cmds, mass_cmds, network_cmds, notice_cmds, outage_cmds,
    pair_cmds, report_cmds, session_cmds, sp_cmds, status_cmds, sv_cmds, ticket_cmds, tunable_cmds, user_cmds,
)
from appliance.console.client import Client, Refused, Unreachable, load_session, socket_path
from appliance.console.verbs import Parser, UsageError

GROUPS = (status_cmds, session_cmds, sp_cmds, network_cmds, sv_cmds, tunable_cmds, mass_cmds, bulk_cmds, keys_cmds,
          user_cmds, outage_cmds, ticket_cmds, report_cmds, drill_cmds, pair_cmds, notice_cmds, calendar_cmds, call_cmds)


def parser() -> Parser:
    p = Parser(prog="npac", description="NPAC SMS operations console")
    p.add_argument("--socket", help="the node's control socket (default $NPAC_CONTROL_SOCKET or "
                                    "var/demo/primary/control.sock)")
    p.add_argument("--json", action="store_true", help="print the node's answer as JSON")
    sub = p.add_subparsers(dest="group", metavar="COMMAND", required=True, parser_class=Parser)
    for module in GROUPS:
        module.register(sub)
    return p


def _run(args: Any, client: Client) -> int:
    if hasattr(args, "action"):
        return args.action(args, client)
    raw = args.build(args)
    # flags left off are not sent (the node's default applies); `call` sends exactly what it was given
    request = raw if hasattr(args, "call_op") else {k: v for k, v in raw.items() if v is not None and v is not False}
    session = load_session()
    if args.needs_session and session is None and not hasattr(args, "call_op"):
        raise Refused("not logged in: run `npac login USER` first")
    if args.needs_session and session is not None:
        request["session"] = session["token"]
    op = getattr(args, "call_op", None) or args.op
    result = client.call(op, timeout=args.timeout, **request)
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else args.render(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except UsageError as exc:
        print(f"npac: {exc}" if not str(exc).startswith("npac") else str(exc), file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    client = Client(socket_path(args.socket))
    try:
        return _run(args, client)
    except UsageError as exc:
        print(f"npac: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"npac: {exc}", file=sys.stderr)
        return 1
    except Unreachable as exc:
        print(f"npac: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError) as exc:  # an answer of an unexpected shape
        print(f"npac: unexpected answer from the node ({type(exc).__name__}: {exc}); use --json to see it",
              file=sys.stderr)
        return 2
    except OSError as exc:  # the session file or the terminal, not the node
        print(f"npac: {getattr(exc, 'filename', None) or ''}{': ' if getattr(exc, 'filename', None) else ''}"
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("npac: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`npac report ...`: Exhibit G / Exhibit H reports as text, CSV, JSON or one self-contained HTML page.

The node builds and renders the report; the console prints it, or with `--out FILE` writes it to a file
on this machine (the HTML page needs nothing else to be opened in a browser)."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from appliance.console.client import Client, Refused, load_session
from appliance.console.verbs import Parser, UsageError

FORMATS = ("text", "csv", "json", "html")
MANAGEMENT = {"monthly": ("report.monthly", "YYYY-MM"), "quarterly": ("report.quarterly", "YYYY-Qn"),
              "ytd": ("report.ytd", "YYYY")}
PARTS = {"service-levels": ("report.service-levels", "Exhibit G service levels against their commitments"),
         "usage": ("report.usage", "usage per User for billing (Exhibit E/K)"),
         "exhibit-h": ("report.exhibit-h", "RP9-1..RP9-7 and RR9-1 (Exhibit H)")}
PERIOD_HELP = {"month": "YYYY-MM", "quarter": "YYYY-Qn", "ytd": "YYYY"}


def write_out(path: str, content: str) -> Path:
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"--out {path}: is a directory; name the file")
    if not out.parent.is_dir():
        raise UsageError(f"--out {path}: no directory {out.parent}")
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, out)  # a reader never sees half a report
    return out


def report(args: argparse.Namespace, client: Client) -> int:
    session = load_session()
    if session is None:
        raise Refused("not logged in: run `npac login USER` first")
    request: dict[str, Any] = {"period": args.period, "format": args.format}
    if args.report_kind is not None:
        request["kind"] = args.report_kind
    if getattr(args, "sp", None):
        request["sp"] = args.sp
    result = client.call(args.op, timeout=300, session=session["token"], **request)
    content = result["content"]
    text = json.dumps(content, indent=1) if not isinstance(content, str) else content
    if args.out:
        path = write_out(args.out, text if text.endswith("\n") else text + "\n")
        print(f"{result.get('period', '')} {args.format} report written to {path} ({path.stat().st_size} bytes)".strip())
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _common(p: argparse.ArgumentParser, op: str, period_help: str) -> None:
    p.add_argument("--period", metavar="PERIOD", help=f"{period_help} (GMT; default the current one)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE instead of printing it")
    p.set_defaults(action=report, op=op)


def register(sub: Any) -> None:
    g = sub.add_parser("report", help="Exhibit G/H reports", description="Exhibit G/H reports: text, CSV, JSON, HTML")
    verbs = g.add_subparsers(dest="verb", metavar="REPORT", required=True, parser_class=Parser)
    for name, (op, fmt) in MANAGEMENT.items():
        help = f"the {name} management and performance report (Exhibit H)"
        p = verbs.add_parser(name, help=help, description=help)
        _common(p, op, fmt)
        p.set_defaults(report_kind=None)
    for name, (op, help) in PARTS.items():
        p = verbs.add_parser(name, help=help, description=help)
        _common(p, op, "YYYY-MM, YYYY-Qn or YYYY, as --kind says")
        p.add_argument("--kind", dest="report_kind", choices=tuple(PERIOD_HELP), default="month",
                       help="the period's kind (default month)")
        if name != "service-levels":
            p.add_argument("--sp", help="one service provider")

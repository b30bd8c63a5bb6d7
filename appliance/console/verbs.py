"""How a console command is declared: an argparse subcommand carrying its control-socket op, the
function that turns the parsed arguments into the request's arguments, and the one that prints the
answer."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

Build = Callable[[argparse.Namespace], dict[str, Any]]
Render = Callable[[Any], str]


class UsageError(Exception):
    """Bad command line: one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line instead of usage text and exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def group(sub: Any, name: str, help: str) -> Any:
    parser = sub.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=Parser)


def verb(sub: Any, name: str, op: str, help: str, build: Build, render: Render, *, timeout: float = 30.0,
         session: bool = True) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(op=op, build=build, render=render, timeout=timeout, needs_session=session)
    return parser


def nothing(_: argparse.Namespace) -> dict[str, Any]:
    return {}

"""`npac login USER`, `npac logout`, `npac init-admin USER`: the console session (FRS §7.1-7.3).

The password is read from the terminal without echo, or from standard input when that is not a
terminal (one line; a second line is the new password when the node asks for one). The session token
goes to the session file, mode 0600."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from appliance.console.client import Client, Refused, forget_session, load_session, save_session
from appliance.console.verbs import UsageError

_PIPED: list[str] | None = None


def _terminal() -> str:
    try:
        return os.ttyname(sys.stdin.fileno())
    except (OSError, AttributeError, ValueError):
        return "console"


def ask(prompt: str) -> str:
    """A secret from the terminal, or the next line of standard input when it is not a terminal."""
    global _PIPED
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except (EOFError, KeyboardInterrupt):
            raise UsageError("no password given") from None
    if _PIPED is None:
        _PIPED = (sys.stdin.read() if sys.stdin is not None else "").splitlines()
    if not _PIPED:
        raise UsageError("no password on standard input")
    return _PIPED.pop(0)


def reset_input() -> None:
    """Forget standard input read by an earlier command of this process (tests run several)."""
    global _PIPED
    _PIPED = None


def _new_password() -> str:
    first = ask("new password: ")
    if sys.stdin is not None and sys.stdin.isatty() and ask("new password again: ") != first:
        raise UsageError("the new passwords differ")
    return first


def login(args: argparse.Namespace, client: Client) -> int:
    reset_input()
    try:
        print(client.call("banner")["banner"])
    except Refused:
        pass  # a node without the banner command still lets us log in
    password = ask(f"password for {args.user}: ")
    request: dict[str, Any] = {"user_id": args.user, "password": password, "terminal": _terminal(),
                               "take_over": bool(args.take_over) or None}
    try:
        result = client.call("login", **request)
    except Refused as exc:
        if "new password" not in str(exc):
            raise
        print(f"npac: {exc}", file=sys.stderr)
        result = client.call("login", **request, new_password=_new_password())
    path = save_session({"token": result["token"], "user_id": result["user_id"], "role": result["role"],
                         "socket": str(client.path)})
    print(f"logged in as {result['user_id']} ({result['role']}); session in {path}")
    if result.get("last_login_ms"):
        print(f"last login {result['last_login_ms']} from {result.get('last_login_terminal') or '-'}; "
              f"failed attempts since: {result.get('failed_since_last', 0)}")
    if result.get("expiry_warning_days") is not None:
        print(f"your password expires in {result['expiry_warning_days']} days")
    return 0


def logout(args: argparse.Namespace, client: Client) -> int:
    session = load_session()
    if session is None:
        print("not logged in")
        return 0
    try:
        client.call("logout", session=session["token"])
    finally:
        forget_session()
    print(f"logged out {session.get('user_id', '')}".rstrip())
    return 0


def init_admin(args: argparse.Namespace, client: Client) -> int:
    reset_input()
    password = ask(f"password for the first administrator {args.user}: ")
    client.call("user.init", user_id=args.user, password=password, terminal=_terminal())
    print(f"administrator {args.user} created; log in with `npac login {args.user}`")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("login", help="log in (password from the terminal or standard input)")
    p.add_argument("user", metavar="USER")
    p.add_argument("--take-over", action="store_true", help="end this user's session elsewhere (R7-9.2)")
    p.set_defaults(action=login)
    p = sub.add_parser("logout", help="end the session")
    p.set_defaults(action=logout)
    p = sub.add_parser("init-admin", help="create the first administrator (only while there is no user)")
    p.add_argument("user", metavar="USER")
    p.set_defaults(action=init_admin)

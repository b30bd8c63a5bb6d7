"""`npac user ...`, `npac passwd`, `npac auditlog export`: console users and the security audit log
(FRS §7). Passwords are read from the terminal without echo (or standard input), never taken from
the command line, where other users could see them."""
from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from appliance.console.client import Client, load_session
from appliance.console.render import record, table
from appliance.console.session_cmds import ask, reset_input
from appliance.console.verbs import UsageError, group, nothing, verb

ROLES = ("administrator", "operator", "auditor")


def _when(ms: Any) -> str | None:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ms else None


def _users(r: Any) -> str:
    rows = [{**u, "last_login": _when(u.get("last_login_ms")), "expires": _when(u.get("password_expires_ms"))}
            for u in r["users"]]
    out = [table(rows, (("user_id", "USER"), ("role", "ROLE"), ("state", "STATE"), ("logged_on", "ON"),
                        ("last_login", "LAST LOGIN"), ("expires", "PASSWORD EXPIRES")), empty="no users")]
    out += [f"notice: {n}" for n in r.get("notices", [])]
    return "\n".join(out)


def _generated(r: Any) -> str:
    line = record({k: v for k, v in r.items() if k != "password"})
    if "password" in r:  # R7-27.1: a generated password is shown once, to the administrator
        line += f"\none-time password (the user must change it at first login): {r['password']}"
    return line


def passwd(args: argparse.Namespace, client: Client) -> int:
    session = load_session()
    if session is None:
        raise UsageError("not logged in: run `npac login USER` first")
    reset_input()
    old = ask("current password: ")
    new = ask("new password: ")
    if ask("new password again: ") != new:
        raise UsageError("the new passwords differ")
    client.call("user.passwd", session=session["token"], old_password=old, new_password=new)
    print("password changed")
    return 0


def register(sub: Any) -> None:
    g = group(sub, "user", "console users (administrators manage them)")
    verb(g, "list", "user.list", "users and who is logged on", nothing, _users)
    p = verb(g, "add", "user.add", "add a user (a one-time password is generated)",
             lambda a: {"user_id": a.user, "role": a.role}, _generated)
    p.add_argument("user", metavar="USER")
    p.add_argument("role", choices=ROLES)
    p = verb(g, "reset", "user.reset", "reset a user's password (a one-time password is generated)",
             lambda a: {"user_id": a.user}, _generated)
    p.add_argument("user", metavar="USER")
    p = verb(g, "disable", "user.disable", "disable a user", lambda a: {"user_id": a.user, "days": a.days},
             lambda r: record(r))
    p.add_argument("user", metavar="USER")
    p.add_argument("--days", type=int, help="re-enable by itself after this many days")
    for name, op, help in (("enable", "user.enable", "re-enable a user"), ("delete", "user.delete", "revoke a user")):
        p = verb(g, name, op, help, lambda a: {"user_id": a.user}, lambda r: record(r))
        p.add_argument("user", metavar="USER")
    p = verb(g, "role", "user.role", "change a user's role", lambda a: {"user_id": a.user, "role": a.role},
             lambda r: record(r))
    p.add_argument("user", metavar="USER")
    p.add_argument("role", choices=ROLES)
    p = sub.add_parser("passwd", help="change your own password")
    p.set_defaults(action=passwd)

    g = group(sub, "auditlog", "the security audit log")
    p = verb(g, "export", "auditlog.export", "verify the hash chain and export the log on the node",
             lambda a: {"format": a.format, "name": a.name, "since": a.since, "until": a.until}, lambda r: record(r),
             timeout=300)
    p.add_argument("--format", default="csv")
    p.add_argument("--name", help="file name in the node's export directory")
    p.add_argument("--since", metavar="TIME")
    p.add_argument("--until", metavar="TIME")

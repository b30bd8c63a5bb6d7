"""Console commands for logins, users and the security audit log export (FRS §7).

Permissions: `login` commands run without a session (the banner, logging in, the first
administrator); `read` is every role's, so an auditor can log out, change its own password, list
users and export the audit log; `administer` is the security administrator's (R7-49).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from appliance.ops import audit_export
from appliance.ops.commands import Command, CommandError
from appliance.ops.users import Session, Users

EXPORT_DIR = "audit-exports"
EXPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def users_of(ctx: Any) -> Users:
    users = getattr(ctx, "users", None)
    if users is None:
        raise CommandError("console users are not available on this node")
    return users


async def banner(ctx: Any, session: None) -> dict[str, Any]:
    """The advisory warning shown before the login prompt (R7-47.1)."""
    return {"banner": users_of(ctx).banner()}


async def login(ctx: Any, session: None, user_id: str, password: str, terminal: str = "console",
                new_password: str | None = None, take_over: bool = False) -> dict[str, Any]:
    result = await users_of(ctx).login(user_id, password, terminal, new_password=new_password, take_over=take_over)
    return dataclasses.asdict(result)


async def init(ctx: Any, session: None, user_id: str, password: str, terminal: str = "console") -> dict[str, Any]:
    return await users_of(ctx).init_admin(user_id, password, terminal)


async def logout(ctx: Any, session: Session) -> dict[str, Any]:
    await users_of(ctx).logout(session.token)
    return {"user_id": session.user_id, "logged_out": True}


async def passwd(ctx: Any, session: Session, old_password: str, new_password: str) -> dict[str, Any]:
    return await users_of(ctx).change_password(session, old_password, new_password)


async def user_list(ctx: Any, session: Session) -> dict[str, Any]:
    users = users_of(ctx)
    return {"logged_on": users.logged_on(), "users": users.list_users(), "notices": list(users.notices)}


async def user_add(ctx: Any, session: Session, user_id: str, role: str, password: str | None = None) -> dict[str, Any]:
    return await users_of(ctx).add_user(session, user_id, role, password)


async def user_disable(ctx: Any, session: Session, user_id: str, days: int | None = None) -> dict[str, Any]:
    return await users_of(ctx).disable(session, user_id, days)


async def user_enable(ctx: Any, session: Session, user_id: str) -> dict[str, Any]:
    return await users_of(ctx).enable(session, user_id)


async def user_reset(ctx: Any, session: Session, user_id: str, password: str | None = None) -> dict[str, Any]:
    return await users_of(ctx).reset_password(session, user_id, password)


async def user_delete(ctx: Any, session: Session, user_id: str) -> dict[str, Any]:
    return await users_of(ctx).delete(session, user_id)


async def user_role(ctx: Any, session: Session, user_id: str, role: str) -> dict[str, Any]:
    return await users_of(ctx).set_role(session, user_id, role)


async def banner_set(ctx: Any, session: Session, text: str) -> dict[str, Any]:
    return await users_of(ctx).set_banner(session, text)


async def auditlog_export(ctx: Any, session: Session, format: str = "csv", name: str | None = None,
                          since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """Verify the security log's chain and export it under <data_dir>/audit-exports/ (R7-68, R7-77).

    The destination is a plain file name inside the node's export directory: a read-only auditor
    must not be able to overwrite anything else with it."""
    log = ctx.security_log
    if format not in audit_export.FORMATS:
        raise CommandError(f"format must be one of {', '.join(audit_export.FORMATS)}, got {format!r}")
    stamp = dt.datetime.fromtimestamp(ctx.clock_ms() / 1000, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = name or f"security-{stamp}.{audit_export.SUFFIX[format]}"
    if not isinstance(name, str) or not EXPORT_NAME.fullmatch(name) or ".." in name:
        raise CommandError("name must be a plain file name (letters, digits, '.', '_', '-')")
    out = ctx.data_dir / EXPORT_DIR / name
    who = {"user": session.user_id, "terminal": session.terminal, "function": "auditlog.export"}
    try:
        # the node's own count and last hash catch a log cut short or swapped since it started
        result = audit_export.export(log.path, out, format, since=since, until=until,
                                     expect_count=getattr(log, "_count", None),
                                     expect_last_hash=getattr(log, "_prev", None))
    except audit_export.ChainBroken as exc:
        log.record("audit-log-tampered", **who, outcome="failure", first_bad_record=exc.record, reason=str(exc))
        raise CommandError(f"security log failed its check: {exc}; nothing exported") from None
    except audit_export.ExportError as exc:
        raise CommandError(str(exc)) from None
    log.record("audit-log-export", **who, outcome="success", file=name, records=result.records)
    return dataclasses.asdict(result)


def commands() -> list[Command]:
    return [
        Command("banner", banner, "login", "the pre-login advisory warning"),
        Command("login", login, "login", "log in: user_id, password [, terminal, new_password, take_over]"),
        Command("user.init", init, "login", "create the first administrator (only while no user exists)"),
        Command("logout", logout, "read", "end this session"),
        Command("user.passwd", passwd, "read", "change your own password: old_password, new_password"),
        Command("user.list", user_list, "read", "users, who is logged on, administrator notices"),
        Command("user.add", user_add, "administer", "add a user: user_id, role [, password]"),
        Command("user.disable", user_disable, "administer", "disable a user [for days]"),
        Command("user.enable", user_enable, "administer", "reinstate a disabled user"),
        Command("user.reset", user_reset, "administer", "reset a user's password [to password]"),
        Command("user.delete", user_delete, "administer", "revoke a user for good"),
        Command("user.role", user_role, "administer", "change a user's role"),
        Command("banner.set", banner_set, "administer", "set the pre-login advisory warning"),
        Command("auditlog.export", auditlog_export, "read", "verify and export the security audit log"),
    ]

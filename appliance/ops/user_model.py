"""What console users are made of: roles and their permissions, sessions, login results, the
errors a refused login or change raises, and the bounds on userids, terminals and the banner.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.ops.commands import CommandError
from appliance.store.store import Tx


DAY_MS = 86_400_000
USERS, HISTORY = "console_users", "console_password_history"
ROLES: dict[str, frozenset[str]] = {
    "administrator": frozenset({"read", "operate", "administer"}),
    "operator": frozenset({"read", "operate"}),
    "auditor": frozenset({"read"}),
}
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
TERMINAL = re.compile(r"[\x21-\x7e]{1,64}")
# R7-47.2 (L16452-16456)
DEFAULT_BANNER = "NOTICE: This is a private computer system.\nUnauthorized access or use may lead to prosecution."
BANNER_KEY = "console_banner"
MAX_BANNER_LINES = 20  # R7-47.1
MAX_BANNER_CHARS = 20 * 120
MAX_TRACKED_IDS = 10_000  # failed-attempt counters of ids typed at the prompt, known or not


class AuthError(CommandError):
    """A refused login, session or password change: one line for the operator."""


class PasswordChangeRequired(AuthError):
    """The password was right but has expired: log in again giving a new one (R7-24.3)."""


class AlreadyLoggedIn(AuthError):
    """The userid has an active session (R7-9.1); `take_over` ends it (R7-9.2)."""


@dataclass
class Session:
    user_id: str
    role: str
    token: str
    terminal: str = "console"
    login_ms: int = 0
    last_activity_ms: int = 0

    def may(self, permission: str) -> bool:
        return permission in ROLES.get(self.role, frozenset())

    def public(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "role": self.role, "terminal": self.terminal,
                "login_ms": self.login_ms, "last_activity_ms": self.last_activity_ms}


@dataclass(frozen=True)
class LoginResult:
    token: str
    user_id: str
    role: str
    banner: str
    last_login_ms: int | None          # R7-48.1: the previous successful access
    last_login_terminal: str | None
    failed_since_last: int             # R7-48.2
    password_expires_ms: int
    expiry_warning_days: int | None    # R7-24.1: days left when inside the notice period
    idle_logout_minutes: int           # R7-32.1
    ended_session: str | None = None   # terminal of the session this login took over (R7-9.2)


@dataclass
class Attempts:
    failures: int = 0
    locked_until_ms: int = 0


class LiveWriter:
    """The one writer of whichever services are live; a standby refuses the change in one line."""

    def __init__(self, live: Any):
        self.live = live

    def check(self) -> Any:
        services = getattr(self.live, "services", None)
        if services is None:
            raise AuthError("this node is not the live NPAC SMS: make changes on the live node")
        return services

    async def run(self, note: str, fn: Callable[[Tx], Any]) -> Any:
        return await self.check().writer.run(note, fn)


def one_line(text: str) -> str:
    return " ".join(str(text).split())

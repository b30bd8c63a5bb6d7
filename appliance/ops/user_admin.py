"""User administration by the NPAC security administrator (FRS R7-6, R7-7, R7-8, R7-22, R7-29,
R7-46, R7-49): the first administrator, adding, resetting, disabling, enabling, deleting and
re-roling userids, and the pre-login banner.

`UserAdministration` is a part of `appliance.ops.users.Users`: it uses that class's store, writer,
clock, lock, security log and password checks.
"""
from __future__ import annotations

import asyncio
from typing import Any

from appliance.ops.passwords import generate_password, password_problem
from appliance.ops.user_model import (BANNER_KEY, DAY_MS, HISTORY, MAX_BANNER_CHARS, MAX_BANNER_LINES, ROLES, USER_ID,
                                      USERS, AuthError, Session)
from appliance.store.store import Tx


class UserAdministration:
    """The security administrator's operations; every change is one store transaction and one
    security-log record naming who made it (R7-4, R7-75)."""

    async def init_admin(self, user_id: str, password: str, terminal: str = "console") -> dict[str, Any]:
        """The first administrator, with a password of its own choosing; refused once any user exists."""
        terminal = self._terminal(terminal)
        async with self._lock:
            if self.store.select(USERS, limit=1):
                self._log("user-init", user=user_id, terminal=terminal, outcome="failure", reason="users exist")
                raise AuthError("console users already exist: an administrator adds users")
            self._check_user_id(user_id)
            now, t = self.clock_ms(), self.tunables()
            problem = password_problem(user_id, password) if isinstance(password, str) else "password missing"
            if problem:
                raise AuthError(problem)
            encoded = await asyncio.to_thread(self.hasher.new_hash, password, self.rng)
            await self._write(f"console user {user_id}: first administrator", lambda tx: tx.upsert(
                USERS, self._new_row(user_id, "administrator", encoded, now, "init", must_change=False)))
            self._log("user-add", user=user_id, terminal=terminal, outcome="success", role="administrator",
                      function="user.init")
            return {"user_id": user_id, "role": "administrator",
                    "password_expires_ms": now + t.password_age_limit * DAY_MS}

    async def add_user(self, by: Session, user_id: str, role: str, password: str | None = None) -> dict[str, Any]:
        """A new userid (R7-29.1); without a password one is generated (R7-27.1) and shown once."""
        self._require_admin(by)
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        self._check_user_id(user_id)
        generated = password is None
        password = generate_password(user_id, self.rng) if generated else password
        problem = password_problem(user_id, password) if isinstance(password, str) else "password must be text"
        if problem:
            raise AuthError(problem)
        async with self._lock:
            existing = self.store.get(USERS, user_id)
            if existing is not None:
                raise AuthError(f"userid {user_id} already exists" if existing["state"] != "deleted" else
                                f"userid {user_id} was deleted and is not issued again (R7-1)")
            now = self.clock_ms()
            encoded = await asyncio.to_thread(self.hasher.new_hash, password, self.rng)
            await self._write(f"console user {user_id}: add", lambda tx: tx.upsert(
                USERS, self._new_row(user_id, role, encoded, now, by.user_id, must_change=True)))
            self._log("user-add", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id, role=role)
        return {"user_id": user_id, "role": role, **({"password": password} if generated else {})}

    async def reset_password(self, by: Session, user_id: str, password: str | None = None) -> dict[str, Any]:
        """Administrator's reset (R7-22): a new password the user must replace at the next login."""
        self._require_admin(by)
        generated = password is None
        password = generate_password(user_id, self.rng) if generated else password
        problem = password_problem(user_id, password) if isinstance(password, str) else "password must be text"
        if problem:
            raise AuthError(problem)
        async with self._lock:
            row = self._existing(user_id)
            now, t = self.clock_ms(), self.tunables()
            encoded = await asyncio.to_thread(self.hasher.new_hash, password, self.rng)
            await self._write(f"console user {user_id}: reset",
                              lambda tx: self._set_password(tx, row, encoded, now, t, must_change=True))
            self._attempts.pop(user_id, None)
            self._log("password-reset", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id)
        return {"user_id": user_id, **({"password": password} if generated else {})}

    async def disable(self, by: Session, user_id: str, days: int | None = None) -> dict[str, Any]:
        """Disable a userid (R7-7); with `days` it comes back by itself when they have passed (R7-8)."""
        self._require_admin(by)
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
            raise AuthError(f"days must be a whole number from 1 to 3650, got {days!r}")
        async with self._lock:
            row = self._existing(user_id)
            self._keep_an_administrator(row, "disable")
            now = self.clock_ms()
            until = now + days * DAY_MS if days else None
            await self._write(f"console user {user_id}: disable", lambda tx: tx.upsert(USERS, {
                "user_id": user_id, "state": "disabled", "disabled_reason": f"by {by.user_id}",
                "disabled_until_ms": until, "modified_ms": now}))
            self._end_user(user_id, f"disabled by {by.user_id}", now)
            self._log("user-disable", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id,
                      until_ms=until)
        return {"user_id": user_id, "state": "disabled", "disabled_until_ms": until}

    async def enable(self, by: Session, user_id: str) -> dict[str, Any]:
        """Reinstate a disabled userid (R7-6.1)."""
        self._require_admin(by)
        async with self._lock:
            self._existing(user_id)
            now = self.clock_ms()
            await self._write(f"console user {user_id}: enable", lambda tx: tx.upsert(USERS, {
                "user_id": user_id, "state": "enabled", "disabled_reason": None, "disabled_until_ms": None,
                "unused_since_ms": now, "modified_ms": now}))
            self._log("user-enable", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id)
        return {"user_id": user_id, "state": "enabled"}

    async def delete(self, by: Session, user_id: str) -> dict[str, Any]:
        """Revoke a userid for good (R7-6.2, R7-49.2): its row stays so the id is never reissued."""
        self._require_admin(by)
        async with self._lock:
            row = self._existing(user_id)
            self._keep_an_administrator(row, "delete")
            now = self.clock_ms()

            def commit(tx: Tx) -> None:
                for old in tx.select(HISTORY, "user_id = ?", [user_id]):
                    tx.delete(HISTORY, old["entry_id"])
                tx.upsert(USERS, {"user_id": user_id, "state": "deleted", "password_hash": None,
                                  "disabled_reason": f"deleted by {by.user_id}", "disabled_until_ms": None,
                                  "modified_ms": now})
            await self._write(f"console user {user_id}: delete", commit)
            self._end_user(user_id, f"deleted by {by.user_id}", now)
            self._log("user-delete", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id)
        return {"user_id": user_id, "state": "deleted"}

    async def set_role(self, by: Session, user_id: str, role: str) -> dict[str, Any]:
        """Change what a user may do (R7-29.2, R7-57/58); a logged-on user gets it at the next login."""
        self._require_admin(by)
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        async with self._lock:
            row = self._existing(user_id)
            if role != "administrator":
                self._keep_an_administrator(row, "demote")
            now = self.clock_ms()
            await self._write(f"console user {user_id}: role", lambda tx: tx.upsert(
                USERS, {"user_id": user_id, "role": role, "modified_ms": now}))
            self._end_user(user_id, f"role changed by {by.user_id}", now)
            self._log("user-role", user=by.user_id, terminal=by.terminal, outcome="success", target=user_id, role=role)
        return {"user_id": user_id, "role": role}

    async def set_banner(self, by: Session, text: str) -> dict[str, Any]:
        """The pre-login advisory warning, NPAC-specifiable (R7-46), at most 20 lines (R7-47.1)."""
        self._require_admin(by)
        if not isinstance(text, str) or not text.strip():
            raise AuthError("the banner needs some text")
        lines = text.strip("\n").splitlines()
        if len(lines) > MAX_BANNER_LINES or len(text) > MAX_BANNER_CHARS:
            raise AuthError(f"the banner may have at most {MAX_BANNER_LINES} lines (R7-47.1)")
        if any(ch < " " for ch in "".join(lines)):
            raise AuthError("the banner may not hold control characters")
        value = "\n".join(lines)
        await self._write("console banner", lambda tx: tx.upsert("meta", {"key": BANNER_KEY, "value": value}))
        self._log("banner-set", user=by.user_id, terminal=by.terminal, outcome="success", lines=len(lines))
        return {"banner": value}


    # ---- internals -------------------------------------------------------------------------------
    def _check_user_id(self, user_id: Any) -> None:
        if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
            raise AuthError("userid must be 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit")

    def _require_admin(self, by: Any) -> None:
        if not isinstance(by, Session) or not by.may("administer"):
            who = getattr(by, "user_id", None)
            self._log("access-denied", user=who, function="user administration", outcome="failure")
            raise AuthError("only the security administrator manages users (R7-49)")

    def _existing(self, user_id: Any) -> dict[str, Any]:
        row = self.store.get(USERS, user_id) if isinstance(user_id, str) else None
        if row is None or row["state"] == "deleted":
            raise AuthError(f"no userid {user_id!r}")
        return row

    def _keep_an_administrator(self, row: dict[str, Any], what: str) -> None:
        if row["role"] != "administrator" or row["state"] != "enabled":
            return
        others = self.store.select(USERS, "role = 'administrator' AND state = 'enabled' AND user_id != ?",
                                   [row["user_id"]])
        if not others:
            raise AuthError(f"cannot {what} {row['user_id']}: it is the last enabled administrator")

    def _new_row(self, user_id: str, role: str, encoded: str, now: int, by: str, must_change: bool) -> dict[str, Any]:
        return {"user_id": user_id, "role": role, "state": "enabled", "password_hash": encoded,
                "password_set_ms": now, "must_change": must_change, "created_ms": now, "modified_ms": now,
                "created_by": by, "unused_since_ms": now}

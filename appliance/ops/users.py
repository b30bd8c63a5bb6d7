"""Console users and their sessions (FRS §7.1-7.3).

Users, password hashes, password history, last login and failure counts live in the store (tables
`console_users`, `console_password_history`), so they replicate to the DR node; sessions live in this
process only, so a restart logs everyone out.

Readings of the FRS taken here:
- A second login for a logged-in userid (R7-9.1) is refused unless the user asks to end the first
  session (`take_over`), which is the choice R7-9.2 asks the console to offer.
- Three failed attempts (Failed_LoginAttempts) end the attempt: that userid's login answers only
  "invalid" until Failed_Login_Shutdown_Period has passed (R7-33, R7-35). The userid itself is not
  suspended (R7-36); the administrator is told at once (R7-34) through the security log and
  `notices`. Unknown userids get the same procedure, cost and answer as known ones (R7-37, R7-38).
- An expired password never gives access (R7-24.3): the login must carry a new password. Each
  login that does not is refused and counted; past Post_Expiration_Logins (App. C) only an
  administrator's reset (R7-22) opens the userid again. A password set by an administrator (new
  user, reset) is expired from the start, so only its user ever knows the working one.
- The last enabled administrator cannot be disabled, deleted, demoted, or disabled for non-use: the
  appliance would otherwise have nobody to authorize users (R7-49).

Administration (adding, resetting, disabling users; the banner) is in `user_admin.py`, the data
types and errors in `user_model.py`, the console commands in `user_commands.py`.
"""
from __future__ import annotations

import asyncio
import math
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

from appliance.npac.persist import load_tunables
from appliance.npac.tunables import Tunables, add_months
from appliance.ops.passwords import Hasher, password_problem
from appliance.ops.user_admin import UserAdministration
from appliance.ops.user_model import (BANNER_KEY, DAY_MS, DEFAULT_BANNER, HISTORY, MAX_TRACKED_IDS, ROLES, TERMINAL,
                                      USER_ID, USERS, AlreadyLoggedIn, Attempts, AuthError, LiveWriter, LoginResult,
                                      PasswordChangeRequired, Session, one_line)
from appliance.store.store import Store, Tx

__all__ = ["AlreadyLoggedIn", "AuthError", "DEFAULT_BANNER", "LoginResult", "PasswordChangeRequired", "ROLES",
           "Session", "Users", "commands"]


class Users(UserAdministration):
    def __init__(self, store: Store, writer: Any, clock_ms: Callable[[], int], security_log: Any,
                 rng: Any = None, *, tunables: Callable[[], Tunables] | None = None, hasher: Hasher | None = None):
        self.store = store
        self.writer = writer
        self.clock_ms = clock_ms
        self._record = security_log.record if hasattr(security_log, "record") else security_log
        self.rng = rng or secrets.SystemRandom()
        self.tunables = tunables or (lambda: load_tunables(store))
        self.hasher = hasher or Hasher()
        self.notices: deque[dict[str, Any]] = deque(maxlen=100)  # R7-34, shown by the status
        self._sessions: dict[str, Session] = {}
        self._by_user: dict[str, str] = {}
        self._attempts: dict[str, Attempts] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def for_node(cls, live: Any, security_log: Any, rng: Any = None) -> "Users":
        """The users of a node whose services come and go with the live role (`live.store` stays,
        `live.services` is None on a standby): reads work on any node, changes only on the live one."""
        store = live.store
        return cls(store, LiveWriter(live), store.clock, security_log, rng, tunables=lambda: load_tunables(store))

    # ---- reading ---------------------------------------------------------------------------------
    def banner(self) -> str:
        row = self.store.get("meta", BANNER_KEY)
        return row["value"] if row and isinstance(row["value"], str) else DEFAULT_BANNER

    def list_users(self) -> list[dict[str, Any]]:
        """Every userid with its state; never a password hash (R7-12, R7-16)."""
        now, t = self.clock_ms(), self.tunables()
        out = []
        for row in self.store.select(USERS):
            row = {**row, **(self._due_change(row, now, t) or {})}
            token = self._by_user.get(row["user_id"])
            out.append({
                "user_id": row["user_id"], "role": row["role"], "state": row["state"],
                "disabled_reason": row["disabled_reason"], "disabled_until_ms": row["disabled_until_ms"],
                "last_login_ms": row["last_login_ms"], "last_login_terminal": row["last_login_terminal"],
                "failed_since_login": row["failed_since_login"], "last_failure_ms": row["last_failure_ms"],
                "password_expires_ms": self._expires_ms(row, t) if row["password_hash"] else None,
                "logged_on": self._sessions[token].terminal if token in self._sessions else None,
            })
        return out

    def logged_on(self) -> list[dict[str, Any]]:
        """The internal list of logged-on users (R7-3); idle sessions are ended first."""
        self.sweep_sessions()
        return [s.public() for s in sorted(self._sessions.values(), key=lambda s: s.login_ms)]

    # ---- sessions --------------------------------------------------------------------------------
    def authorize(self, token: Any, permission: str) -> Session:
        """The session behind `token` if it may use `permission`; ends an idle session (R7-32.1)."""
        session = self._sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise AuthError("not logged in, or the session has ended: log in first (R7-2)")
        now, t = self.clock_ms(), self.tunables()
        if now - session.last_activity_ms >= t.non_use_disconnect * 60_000:
            self._end(session, "idle", now)
            raise AuthError(f"session ended after {t.non_use_disconnect} minutes without use (R7-32.1); log in again")
        if not session.may(permission):
            self._log("access-denied", user=session.user_id, terminal=session.terminal, function=permission,
                      outcome="failure", role=session.role)
            raise AuthError(f"{session.user_id} ({session.role}) may not {permission}")
        session.last_activity_ms = now
        return session

    async def logout(self, token: Any) -> None:
        session = self._sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise AuthError("not logged in")
        self._end(session, "logout", self.clock_ms())

    def sweep_sessions(self) -> list[str]:
        """End idle sessions now (the status and R7-3 list stay true without waiting for a request)."""
        now, t = self.clock_ms(), self.tunables()
        idle = [s for s in self._sessions.values() if now - s.last_activity_ms >= t.non_use_disconnect * 60_000]
        for session in idle:
            self._end(session, "idle", now)
        return [s.user_id for s in idle]

    async def sweep(self) -> dict[str, list[str]]:
        """Idle sessions ended; userids reactivated (R7-8) or disabled for non-use (R7-5.1) by the clock."""
        ended = self.sweep_sessions()
        async with self._lock:
            now, t = self.clock_ms(), self.tunables()
            changes = {r["user_id"]: c for r in self.store.select(USERS) if (c := self._due_change(r, now, t))}
            if changes:
                await self.writer.run("console users: clock", lambda tx: [self._apply_due(tx, uid, c, now)
                                                                          for uid, c in changes.items()])
        return {"sessions_ended": ended,
                "reactivated": sorted(u for u, c in changes.items() if c["state"] == "enabled"),
                "disabled": sorted(u for u, c in changes.items() if c["state"] == "disabled")}

    # ---- login -----------------------------------------------------------------------------------
    async def login(self, user_id: str, password: str, terminal: str = "console", *,
                    new_password: str | None = None, take_over: bool = False) -> LoginResult:
        if not isinstance(user_id, str) or not isinstance(password, str):
            raise AuthError("invalid")
        terminal = self._terminal(terminal)
        # a node of a pair that is not live checks the password against its replicated copy of the
        # users and records nothing in the store (it cannot write): the DR's operators must be able to
        # log in to confirm a promotion or see the pair's state while their node is the standby
        standby = isinstance(self.writer, LiveWriter) and getattr(self.writer.live, "services", None) is None
        if standby and new_password is not None:
            raise AuthError("this node is not the live NPAC SMS: passwords are changed on the live node")
        async with self._lock:
            return await self._login(user_id, password, terminal, new_password, bool(take_over), standby)

    async def _login(self, user_id: str, password: str, terminal: str, new_password: str | None,
                     take_over: bool, standby: bool = False) -> LoginResult:
        now, t = self.clock_ms(), self.tunables()
        attempts = self._attempts_of(user_id, now)
        if attempts.locked_until_ms > now:
            wait = math.ceil((attempts.locked_until_ms - now) / 1000)
            self._log("login", user=user_id, terminal=terminal, outcome="failure", reason="login process restarting")
            raise AuthError(f"invalid; the login process restarts in {wait} s (R7-35)")
        row = await self._settled(user_id, now, t, standby) if USER_ID.fullmatch(user_id) else None
        ok = await asyncio.to_thread(self.hasher.verify, password, row["password_hash"] if row else None)
        if not ok or row is None or row["state"] != "enabled":
            reason = ("unknown userid" if row is None else "wrong password" if not ok else f"userid {row['state']}")
            await self._failed(user_id, row, terminal, reason, attempts, now, t, standby=standby)
        self._attempts.pop(user_id, None)
        assert row is not None
        expired = row["must_change"] or now >= self._expires_ms(row, t)
        if expired:
            if row["expired_logins"] > t.post_expiration_logins:
                self._log("login", user=user_id, terminal=terminal, outcome="failure",
                          reason="password expired, no logins left")
                raise AuthError("password expired and no logins are left: ask the security administrator to reset it")
            if standby:
                self._log("login", user=user_id, terminal=terminal, outcome="failure", reason="password expired",
                          node="standby")
                raise AuthError("password expired: change it at a login on the live node (R7-24.3)")
            if new_password is None:
                await self._write(f"console user {user_id}: expired login", lambda tx: tx.upsert(
                    USERS, {"user_id": user_id, "expired_logins": row["expired_logins"] + 1, "modified_ms": now}))
                self._log("login", user=user_id, terminal=terminal, outcome="failure", reason="password expired")
                raise PasswordChangeRequired("password expired: log in again giving a new password (R7-24.3)")
        previous = self._live_session(user_id, now, t)
        if previous is not None and not take_over:
            self._log("login", user=user_id, terminal=terminal, outcome="failure", reason="already logged in")
            raise AlreadyLoggedIn(f"{user_id} is already logged in at {previous.terminal}: log in with take_over "
                                  "to end that session, or give up this login (R7-9.2)")
        new_hash = await self._checked_new_hash(row, new_password, now, t) if new_password is not None else None

        def commit(tx: Tx) -> None:
            if new_hash is not None:
                self._set_password(tx, row, new_hash, now, t, must_change=False)
            tx.upsert(USERS, {"user_id": user_id, "last_login_ms": now, "last_login_terminal": terminal,
                              "failed_since_login": 0, "expired_logins": 0, "unused_since_ms": now,
                              "modified_ms": now})
        if not standby:
            await self._write(f"console user {user_id}: login", commit)
        if new_hash is not None:
            self._log("password-change", user=user_id, terminal=terminal, outcome="success", at="login")
        if previous is not None:
            self._end(previous, f"taken over by the login at {terminal}", now)
        session = Session(user_id, row["role"], self.rng.randbytes(32).hex(), terminal, now, now)
        self._sessions[session.token] = session
        self._by_user[user_id] = session.token
        self._log("login", user=user_id, terminal=terminal, outcome="success", role=row["role"],
                  **({"node": "standby"} if standby else {}))
        fresh = row if standby else self.store.get(USERS, user_id) or row
        expires = self._expires_ms(fresh, t)
        left = expires - now
        warning = math.ceil(left / DAY_MS) if left <= t.password_expiration_notice * DAY_MS else None
        return LoginResult(session.token, user_id, row["role"], self.banner(), row["last_login_ms"],
                           row["last_login_terminal"], row["failed_since_login"], expires, warning,
                           t.non_use_disconnect, previous.terminal if previous else None)

    async def _failed(self, user_id: str, row: dict[str, Any] | None, terminal: str, reason: str,
                      attempts: Attempts, now: int, t: Tunables, session: Session | None = None,
                      standby: bool = False) -> None:
        """Count and record a failed authentication, then refuse with "invalid" (R7-33, R7-38); on a
        standby the count and the lockout are this node's own and the record is the security log."""
        attempts.failures += 1
        if row is not None and row["state"] != "deleted" and not standby:
            await self._write(f"console user {user_id}: failed login", lambda tx: tx.upsert(USERS, {
                "user_id": user_id, "last_failure_ms": now,
                "failed_since_login": (tx.get(USERS, user_id) or row)["failed_since_login"] + 1}))
        self._log("login", user=user_id, terminal=terminal, outcome="failure", reason=reason)  # R7-73.1
        if attempts.failures < t.failed_login_attempts:
            raise AuthError("invalid")
        failures, attempts.failures = attempts.failures, 0
        attempts.locked_until_ms = now + t.failed_login_shutdown_period * 1000
        notice = {"time_ms": now, "kind": "failed-login-threshold", "user_id": user_id, "terminal": terminal,
                  "failures": failures, "restart_ms": attempts.locked_until_ms}
        self.notices.append(notice)
        self._log("login-threshold-exceeded", user=user_id, terminal=terminal, outcome="failure",
                  failures=failures, restart_in_s=t.failed_login_shutdown_period, notify="administrator")
        if session is not None:
            self._end(session, "failed re-authentication", now)  # R7-33.1: the session ends too
        raise AuthError(f"invalid; the login process restarts in {t.failed_login_shutdown_period} s (R7-35)")

    # ---- passwords -------------------------------------------------------------------------------
    async def change_password(self, session: Session, old_password: str, new_password: str) -> dict[str, Any]:
        """The user's own change, after re-authenticating (R7-21)."""
        if not isinstance(old_password, str) or not isinstance(new_password, str):
            raise AuthError("old_password and new_password are required")
        async with self._lock:
            now, t = self.clock_ms(), self.tunables()
            attempts = self._attempts_of(session.user_id, now)
            if attempts.locked_until_ms > now:
                raise AuthError("invalid; the login process restarts in "
                                f"{math.ceil((attempts.locked_until_ms - now) / 1000)} s (R7-35)")
            row = self.store.get(USERS, session.user_id)
            ok = await asyncio.to_thread(self.hasher.verify, old_password, row["password_hash"] if row else None)
            if not ok or row is None:
                await self._failed(session.user_id, row, session.terminal, "wrong password at change", attempts, now, t,
                                   session)
            assert row is not None
            new_hash = await self._checked_new_hash(row, new_password, now, t)
            await self._write(f"console user {row['user_id']}: password",
                              lambda tx: self._set_password(tx, row, new_hash, now, t, must_change=False))
            self._log("password-change", user=row["user_id"], terminal=session.terminal, outcome="success")
            return {"user_id": row["user_id"], "password_expires_ms": now + t.password_age_limit * DAY_MS}

    async def _checked_new_hash(self, row: dict[str, Any], new_password: str, now: int, t: Tunables) -> str:
        problem = (password_problem(row["user_id"], new_password) if isinstance(new_password, str)
                   else "new password must be text")
        if problem is None and await self._recently_used(row, new_password, now, t):
            problem = f"password was used in the last {t.password_reuse_limit} months (R7-25.1)"
        if problem:
            self._log("password-change", user=row["user_id"], outcome="failure", reason=problem)
            raise AuthError(problem)
        return await asyncio.to_thread(self.hasher.new_hash, new_password, self.rng)

    async def _recently_used(self, row: dict[str, Any], password: str, now: int, t: Tunables) -> bool:
        """The current password, or one replaced within Password_Reuse_Limit (R7-25.1)."""
        since = add_months(now, -t.password_reuse_limit)
        earlier = [h["password_hash"] for h in self.store.select(HISTORY, "user_id = ? AND replaced_ms >= ?",
                                                                   [row["user_id"], since])]
        hashes = [h for h in [row["password_hash"], *earlier] if h]
        return await asyncio.to_thread(lambda: any(self.hasher.verify(password, h) for h in hashes))

    def _set_password(self, tx: Tx, row: dict[str, Any], new_hash: str, now: int, t: Tunables,
                      must_change: bool) -> None:
        """The new hash in, the old one into the history; history past the reuse period goes (R7-25)."""
        user_id = row["user_id"]
        current = tx.get(USERS, user_id) or row
        if current["password_hash"]:
            tx.upsert(HISTORY, {"entry_id": tx.next_id(HISTORY), "user_id": user_id,
                                "password_hash": current["password_hash"],
                                "set_ms": current["password_set_ms"] or now, "replaced_ms": now})
        cutoff = add_months(now, -t.password_reuse_limit)
        for old in tx.select(HISTORY, "user_id = ? AND replaced_ms < ?", [user_id, cutoff]):
            tx.delete(HISTORY, old["entry_id"])
        tx.upsert(USERS, {"user_id": user_id, "password_hash": new_hash, "password_set_ms": now,
                          "must_change": must_change, "expired_logins": 0, "modified_ms": now})

    # ---- internals -------------------------------------------------------------------------------
    def _log(self, event: str, **fields: Any) -> None:
        self._record(event, **fields)

    async def _write(self, note: str, fn: Callable[[Tx], Any]) -> Any:
        return await self.writer.run(note, fn)

    def _terminal(self, terminal: Any) -> str:
        if not isinstance(terminal, str) or not TERMINAL.fullmatch(terminal):
            raise AuthError("terminal must be 1 to 64 printable characters without blanks")
        return terminal

    def _expires_ms(self, row: dict[str, Any], t: Tunables) -> int:
        return (row["password_set_ms"] or 0) + t.password_age_limit * DAY_MS  # R7-23

    def _due_change(self, row: dict[str, Any], now: int, t: Tunables) -> dict[str, Any] | None:
        """What the clock alone does to a userid: timed reactivation (R7-8), non-use disable (R7-5.1)."""
        if row["state"] == "disabled" and row["disabled_until_ms"] is not None and now >= row["disabled_until_ms"]:
            return {"state": "enabled", "disabled_reason": None, "disabled_until_ms": None, "unused_since_ms": now}
        unused_since = row["unused_since_ms"] or row["created_ms"] or now
        if row["state"] == "enabled" and now - unused_since >= t.unused_user_id_disable_period * DAY_MS:
            if row["role"] == "administrator" and not self.store.select(
                    USERS, "role = 'administrator' AND state = 'enabled' AND user_id != ?", [row["user_id"]]):
                return None
            return {"state": "disabled", "disabled_reason": "unused", "disabled_until_ms": None}
        return None

    def _apply_due(self, tx: Tx, user_id: str, change: dict[str, Any], now: int) -> None:
        tx.upsert(USERS, {"user_id": user_id, **change, "modified_ms": now})
        event = "user-enable" if change["state"] == "enabled" else "user-disable"
        self._log(event, user="npac", target=user_id, outcome="success",
                  reason="disable period over" if change["state"] == "enabled" else "unused")

    async def _settled(self, user_id: str, now: int, t: Tunables, standby: bool = False) -> dict[str, Any] | None:
        row = self.store.get(USERS, user_id)
        change = self._due_change(row, now, t) if row else None
        if change and standby:
            return {**row, **change}  # as the clock has it; the live node records it
        if change:
            await self._write(f"console user {user_id}: clock", lambda tx: self._apply_due(tx, user_id, change, now))
            row = self.store.get(USERS, user_id)
        return row

    def _attempts_of(self, user_id: str, now: int) -> Attempts:
        if user_id not in self._attempts and len(self._attempts) >= MAX_TRACKED_IDS:
            stale = [k for k, a in self._attempts.items() if a.locked_until_ms <= now]
            for k in stale[: len(stale) // 2 + 1]:
                del self._attempts[k]
        return self._attempts.setdefault(user_id, Attempts())

    def _live_session(self, user_id: str, now: int, t: Tunables) -> Session | None:
        token = self._by_user.get(user_id)
        session = self._sessions.get(token) if token else None
        if session is not None and now - session.last_activity_ms >= t.non_use_disconnect * 60_000:
            self._end(session, "idle", now)
            return None
        return session

    def _end(self, session: Session, why: str, now: int) -> None:
        self._sessions.pop(session.token, None)
        if self._by_user.get(session.user_id) == session.token:
            del self._by_user[session.user_id]
        self._log("logout", user=session.user_id, terminal=session.terminal, outcome="success", reason=one_line(why),
                  session_ms=now - session.login_ms)

    def _end_user(self, user_id: str, why: str, now: int) -> None:
        for session in [s for s in self._sessions.values() if s.user_id == user_id]:
            self._end(session, why, now)


def commands() -> list[Any]:
    """The console commands of users, sessions and the security audit log export."""
    from appliance.ops.user_commands import commands as user_commands
    return user_commands()

"""Console users, logins and passwords against FRS §7.1-7.3 (R7-x ids; seed lines L15816-16484,
App. C security tunables L22256-22766). The clock is injected: days of aging run in milliseconds."""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.control import ControlServer
from appliance.npac.tunables import Tunables, add_months
from appliance.npac.writer import Writer
from appliance.ops.commands import CommandError, control_handlers
from appliance.ops.passwords import Hasher, generate_password, password_problem
from appliance.ops.security_log import SecurityLog, verify
from appliance.ops.users import (DEFAULT_BANNER, AlreadyLoggedIn, AuthError, PasswordChangeRequired, Session, Users,
                                 commands)
from appliance.store.store import Store

T0 = 1_795_000_000_000  # 2026-11-18
MIN, DAY = 60_000, 86_400_000
FAST = Hasher(n=16, r=1, p=1)  # the production cost is irrelevant to the rules under test
ADMIN_PW, OP_PW, AUD_PW = "Adm1n!pass", "0per8tor#", "Aud1tor$x"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms

    def utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now / 1000, dt.timezone.utc)


class Env:
    def __init__(self, tmp_path, tunables: Tunables | None = None):
        self.clock = Clock()
        self.store = Store(str(tmp_path / "npac.sqlite"), clock=self.clock)
        self.writer = Writer(self.store, self.clock)
        self.log = SecurityLog(tmp_path / "security.log", clock=self.clock.utc)
        self.tunables = tunables or Tunables()
        self.users = Users(self.store, self.writer, self.clock, self.log, random.Random(7),
                           tunables=lambda: self.tunables, hasher=FAST)

    def events(self, event: str) -> list[dict]:
        return [r for r in self.log.records() if r["event"] == event]

    async def admin(self) -> Session:
        await self.users.init_admin("admin", ADMIN_PW)
        result = await self.users.login("admin", ADMIN_PW, "tty1")
        return self.users.authorize(result.token, "administer")

    async def user(self, admin: Session, user_id: str, role: str, password: str) -> str:
        """A user who has logged in once and chosen `password` (admin-set passwords start expired)."""
        temp = (await self.users.add_user(admin, user_id, role))["password"]
        result = await self.users.login(user_id, temp, f"tty-{user_id}", new_password=password)
        await self.users.logout(result.token)
        return password


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.store.close()


def run(coro):
    return asyncio.run(coro)


# ---- password rules (R7-20, R7-26.1, R7-26.2) ---------------------------------------------------
@pytest.mark.parametrize("password, problem", [
    ("", "R7-20"), ("ab1!", "R7-26.1"), ("abcdef", "R7-26.1"), ("123456", "R7-26.1"), ("!!!!!!", "R7-26.1"),
    ("abc de1", "R7-26.1"), ("xyzJSMITH9", "R7-26.2"), ("jsmith!", "R7-26.2"),
    ("abcde1", None), ("abcde!", None), ("Z.....", None), ("Pa55word", None),
])
def test_password_structure_rules_R7_20_R7_26(password, problem):
    found = password_problem("jsmith", password)
    assert (found is None) if problem is None else (problem in found)


def _oracle(user_id: str, pw: str) -> bool:
    """The FRS rule restated independently: >= 6 letters/digits/punctuation, a letter, a digit or
    punctuation mark, and no userid inside (ignoring case)."""
    return (6 <= len(pw) <= 128 and re.fullmatch(r"[!-~]+", pw) is not None
            and re.search(r"[A-Za-z]", pw) is not None and re.search(r"[0-9!-/:-@\[-`{-~]", pw) is not None
            and user_id.lower() not in pw.lower())


@settings(max_examples=400)
@given(st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " \té", max_size=20),
       st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True))
def test_property_password_acceptance_matches_the_frs_rule_R7_26(password, user_id):
    assert (password_problem(user_id, password) is None) == _oracle(user_id, password)


@settings(max_examples=50)
@given(st.integers(0, 2 ** 32), st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_property_generated_passwords_meet_the_rules_and_are_random_R7_27(seed, user_id):
    rng = random.Random(seed)
    batch = [generate_password(user_id, rng) for _ in range(20)]
    assert all(password_problem(user_id, pw) is None for pw in batch)
    assert len(set(batch)) == 20 and all(len(pw) >= 14 for pw in batch)  # R7-27.2: ~90 bits each


def test_passwords_are_stored_one_way_and_salted_R7_14_R7_15(env):
    async def go():
        admin = await env.admin()
        await env.user(admin, "alice", "operator", "Same!pass1")
        await env.user(admin, "bob", "operator", "Same!pass1")  # R7-14: another userid may use it
    run(go())
    rows = {r["user_id"]: r for r in env.store.select("console_users")}
    assert rows["alice"]["password_hash"] != rows["bob"]["password_hash"]
    assert all("Same!pass1" not in (r["password_hash"] or "") for r in rows.values())
    assert rows["alice"]["password_hash"].startswith("scrypt$")
    assert FAST.verify("Same!pass1", rows["alice"]["password_hash"]) and not FAST.verify("same!pass1",
                                                                                         rows["alice"]["password_hash"])
    assert not FAST.verify("x", "scrypt$garbage") and not FAST.verify("x", None)


# ---- bootstrap, banner, last login (R7-29.1, R7-47, R7-48) --------------------------------------
def test_no_default_password_and_init_only_while_no_user_exists(env):
    async def go():
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("admin", "admin1")
        with pytest.raises(AuthError, match="R7-26"):
            await env.users.init_admin("admin", "short")
        await env.users.init_admin("admin", ADMIN_PW)
        with pytest.raises(AuthError, match="already exist"):
            await env.users.init_admin("root", "R00t!pass")
    run(go())
    assert [r["user_id"] for r in env.store.select("console_users")] == ["admin"]
    assert env.events("user-init")[0]["outcome"] == "failure"


def test_login_shows_banner_last_access_and_failures_since_R7_47_R7_48(env):
    async def go():
        await env.users.init_admin("admin", ADMIN_PW)
        first = await env.users.login("admin", ADMIN_PW, "tty1")
        assert first.banner == DEFAULT_BANNER and first.last_login_ms is None and first.failed_since_last == 0
        await env.users.logout(first.token)
        env.clock.advance(5 * MIN)
        for _ in range(2):
            with pytest.raises(AuthError, match="^invalid$"):
                await env.users.login("admin", "Wrong!pw1", "tty2")
        env.clock.advance(MIN)
        second = await env.users.login("admin", ADMIN_PW, "tty3")
        assert (second.last_login_ms, second.last_login_terminal, second.failed_since_last) == (T0, "tty1", 2)
        await env.users.logout(second.token)
        third = await env.users.login("admin", ADMIN_PW, "tty3")
        assert third.failed_since_last == 0
    run(go())
    assert DEFAULT_BANNER.splitlines() == ["NOTICE: This is a private computer system.",
                                           "Unauthorized access or use may lead to prosecution."]  # L16452-16456


def test_banner_is_specifiable_up_to_20_lines_R7_46_R7_47_1(env):
    async def go():
        admin = await env.admin()
        with pytest.raises(AuthError, match="20 lines"):
            await env.users.set_banner(admin, "\n".join(f"line {i}" for i in range(21)))
        await env.users.set_banner(admin, "\n".join(f"line {i}" for i in range(20)))
        assert env.users.banner().count("\n") == 19
        await env.users.logout(admin.token)
        assert (await env.users.login("admin", ADMIN_PW)).banner.startswith("line 0")
    run(go())


# ---- failed logins (R7-33..R7-38) ---------------------------------------------------------------
def test_three_failures_end_the_attempt_for_60_s_and_notify_R7_33_R7_34_R7_35_R7_36(env):
    async def go():
        await env.users.init_admin("admin", ADMIN_PW)
        for _ in range(2):
            with pytest.raises(AuthError, match="^invalid$"):
                await env.users.login("admin", "Wrong!pw1", "tty1")
        assert not env.users.notices
        with pytest.raises(AuthError, match="restarts in 60 s"):
            await env.users.login("admin", "Wrong!pw1", "tty1")
        assert env.users.notices[-1]["user_id"] == "admin" and env.users.notices[-1]["failures"] == 3  # R7-34
        env.clock.advance(59_000)
        with pytest.raises(AuthError, match="restarts in 1 s"):  # even the right password waits
            await env.users.login("admin", ADMIN_PW, "tty1")
        env.clock.advance(1_000)
        result = await env.users.login("admin", ADMIN_PW, "tty1")  # R7-36: the userid was not suspended
        assert result.failed_since_last == 3
    run(go())
    threshold = env.events("login-threshold-exceeded")
    assert len(threshold) == 1 and threshold[0]["notify"] == "administrator" and threshold[0]["user"] == "admin"
    failures = [r for r in env.events("login") if r["outcome"] == "failure"]
    assert len(failures) == 4 and all(r["terminal"] == "tty1" for r in failures)  # R7-73.1, R7-75
    assert env.store.get("console_users", "admin")["state"] == "enabled"


def test_unknown_userid_runs_the_whole_procedure_and_answers_invalid_R7_37_R7_38(env):
    calls = []

    class Counting(Hasher):
        def verify(self, password, encoded):
            calls.append(encoded)
            return super().verify(password, encoded)

    env.users.hasher = Counting(n=16, r=1, p=1)

    async def go():
        await env.users.init_admin("admin", ADMIN_PW)
        answers = []
        for user_id in ("nobody", "admin", "bad id!"):
            with pytest.raises(AuthError) as err:
                await env.users.login(user_id, "Wrong!pw1")
            answers.append(str(err.value))
        assert answers == ["invalid"] * 3
        assert len(calls) == 3  # a hash computed for every attempt, known userid or not
        for _ in range(2):
            with pytest.raises(AuthError):
                await env.users.login("nobody", "Wrong!pw1")
        with pytest.raises(AuthError, match="restarts in 60 s"):  # the same lockout for unknown ids
            await env.users.login("nobody", "Wrong!pw1")
    run(go())
    assert [r["reason"] for r in env.events("login")][:3] == ["unknown userid", "wrong password", "unknown userid"]


# ---- one active login (R7-9) --------------------------------------------------------------------
def test_second_login_is_refused_unless_it_takes_over_the_first_R7_9_1_R7_9_2(env):
    async def go():
        await env.users.init_admin("admin", ADMIN_PW)
        first = await env.users.login("admin", ADMIN_PW, "tty1")
        with pytest.raises(AlreadyLoggedIn, match="already logged in at tty1"):
            await env.users.login("admin", ADMIN_PW, "tty2")
        assert env.users.authorize(first.token, "read").terminal == "tty1"  # the first goes on
        second = await env.users.login("admin", ADMIN_PW, "tty2", take_over=True)
        assert second.ended_session == "tty1"
        with pytest.raises(AuthError, match="log in first"):
            env.users.authorize(first.token, "read")
        assert [s["terminal"] for s in env.users.logged_on()] == ["tty2"]  # R7-3
    run(go())
    assert any(r.get("reason", "").startswith("taken over") for r in env.events("logout"))


# ---- idle sessions (R7-32) ----------------------------------------------------------------------
def test_idle_session_ends_after_60_minutes_R7_32(env):
    async def go():
        admin = await env.admin()
        env.clock.advance(59 * MIN)
        env.users.authorize(admin.token, "read")  # use restarts the idle clock
        env.clock.advance(59 * MIN)
        env.users.authorize(admin.token, "read")
        env.clock.advance(60 * MIN)
        with pytest.raises(AuthError, match="60 minutes without use"):
            env.users.authorize(admin.token, "read")
        assert env.users.logged_on() == []
        again = await env.users.login("admin", ADMIN_PW, "tty1")  # no take-over needed now
        env.clock.advance(61 * MIN)
        assert env.users.sweep_sessions() == ["admin"]
        with pytest.raises(AuthError):
            env.users.authorize(again.token, "read")
    run(go())
    assert [r["reason"] for r in env.events("logout")] == ["idle", "idle"]


# ---- roles (R7-49, R7-53, R7-57) ----------------------------------------------------------------
def test_roles_auditor_reads_only_operator_cannot_administer(env):
    async def go():
        admin = await env.admin()
        await env.user(admin, "audrey", "auditor", AUD_PW)
        await env.user(admin, "oscar", "operator", OP_PW)
        aud = (await env.users.login("audrey", AUD_PW)).token
        op = (await env.users.login("oscar", OP_PW)).token
        assert env.users.authorize(aud, "read").role == "auditor"
        for perm in ("operate", "administer"):
            with pytest.raises(AuthError, match=r"audrey \(auditor\) may not " + perm):
                env.users.authorize(aud, perm)
        env.users.authorize(op, "operate")
        with pytest.raises(AuthError, match="may not administer"):
            env.users.authorize(op, "administer")
        for perm in ("read", "operate", "administer"):
            env.users.authorize(admin.token, perm)
        # called directly, user administration still checks the role (R7-49.1, R7-49.2)
        auditor = env.users.authorize(aud, "read")
        with pytest.raises(AuthError, match="R7-49"):
            await env.users.add_user(auditor, "mallory", "administrator", "M4llory!x")
        with pytest.raises(AuthError, match="R7-49"):
            await env.users.disable(auditor, "admin")
    run(go())
    assert env.store.get("console_users", "mallory") is None
    denied = env.events("access-denied")
    assert len(denied) == 5 and {r["outcome"] for r in denied} == {"failure"}  # R7-73.5


# ---- aging and expiry (R7-23, R7-24, Post_Expiration_Logins) ------------------------------------
def test_password_aging_warning_and_forced_change_R7_23_R7_24(env):
    async def go():
        await env.users.init_admin("admin", ADMIN_PW)
        assert (await env.users.login("admin", ADMIN_PW)).expiry_warning_days is None
        env.users._sessions.clear(), env.users._by_user.clear()
        env.clock.advance(83 * DAY)
        r = await env.users.login("admin", ADMIN_PW)
        assert r.expiry_warning_days == 7 and r.password_expires_ms == T0 + 90 * DAY  # R7-24.1/24.2
        await env.users.logout(r.token)
        env.clock.advance(7 * DAY)  # day 90: expired (R7-23.2)
        with pytest.raises(PasswordChangeRequired, match="R7-24.3"):
            await env.users.login("admin", ADMIN_PW)
        with pytest.raises(AuthError, match="R7-26"):
            await env.users.login("admin", ADMIN_PW, new_password="short")
        r = await env.users.login("admin", ADMIN_PW, new_password="N3w!b0ss")
        assert r.expiry_warning_days is None and r.password_expires_ms == env.clock.now + 90 * DAY
        await env.users.logout(r.token)
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("admin", ADMIN_PW)
    run(go())


def test_expired_logins_beyond_post_expiration_logins_need_a_reset(env):
    env.tunables = Tunables(unused_user_id_disable_period=360)  # aging alone, not the non-use disable

    async def go():
        admin = await env.admin()
        await env.user(admin, "oscar", "operator", OP_PW)
        env.clock.advance(90 * DAY)
        for _ in range(3):  # Post_Expiration_Logins = 2 (L22540): the first 3 are counted 0, 1, 2
            with pytest.raises(PasswordChangeRequired):
                await env.users.login("oscar", OP_PW)
        with pytest.raises(AuthError, match="reset"):
            await env.users.login("oscar", OP_PW, new_password="Fresh!pw9")
        admin = env.users.authorize((await env.users.login("admin", ADMIN_PW, new_password="N3w!b0ss",
                                                           take_over=True)).token, "administer")
        temp = (await env.users.reset_password(admin, "oscar"))["password"]  # R7-22
        with pytest.raises(PasswordChangeRequired):  # a reset password is expired from the start
            await env.users.login("oscar", temp)
        assert (await env.users.login("oscar", temp, new_password="Fresh!pw9")).role == "operator"
    run(go())


# ---- change and reuse (R7-21, R7-25) ------------------------------------------------------------
def test_own_change_needs_reauthentication_and_no_reuse_for_6_months_R7_21_R7_25(env):
    env.tunables = Tunables(unused_user_id_disable_period=360, password_age_limit=360)  # reuse alone

    async def go():
        admin = await env.admin()
        await env.user(admin, "oscar", "operator", OP_PW)
        me = env.users.authorize((await env.users.login("oscar", OP_PW)).token, "read")
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.change_password(me, "not!mine1", "Second#2")
        await env.users.change_password(me, OP_PW, "Second#2")
        for reused in (OP_PW, "Second#2"):
            with pytest.raises(AuthError, match="R7-25.1"):
                await env.users.change_password(me, "Second#2", reused)
        env.clock.advance(30 * DAY)
        await env.users.change_password(me, "Second#2", "Third#3x")
        env.clock.advance(add_months(env.clock.now, 6) - env.clock.now - DAY)
        with pytest.raises(AuthError, match="6 months"):  # replaced 30 days ago + 6 months - 1 day
            await env.users.change_password(me, "Third#3x", "Second#2")
        env.clock.advance(2 * DAY)
        me = env.users.authorize((await env.users.login("oscar", "Third#3x", take_over=True)).token, "read")
        await env.users.change_password(me, "Third#3x", "Second#2")  # now past the reuse period
    run(go())
    history = env.store.select("console_password_history", "user_id = 'oscar'")
    cutoff = add_months(env.clock.now, -6)
    assert history and all(h["replaced_ms"] >= cutoff for h in history)  # older history is dropped
    assert [r["outcome"] for r in env.events("password-change")].count("failure") == 3


def test_three_wrong_reauthentications_end_the_session_R7_33_1(env):
    async def go():
        admin = await env.admin()
        for _ in range(3):
            with pytest.raises(AuthError, match="invalid"):
                await env.users.change_password(admin, "Wrong!pw1", "Other#pw2")
        with pytest.raises(AuthError, match="log in first"):
            env.users.authorize(admin.token, "read")
    run(go())


# ---- administration (R7-1, R7-5..R7-8, R7-29, R7-49) --------------------------------------------
def test_userids_are_unique_and_never_reissued_R7_1_R7_6_2(env):
    async def go():
        admin = await env.admin()
        added = await env.users.add_user(admin, "oscar", "operator")
        assert password_problem("oscar", added["password"]) is None  # R7-27.1 generated
        with pytest.raises(AuthError, match="already exists"):
            await env.users.add_user(admin, "oscar", "auditor")
        with pytest.raises(AuthError, match="userid must be"):
            await env.users.add_user(admin, "bad id", "auditor")
        with pytest.raises(AuthError, match="role must be"):
            await env.users.add_user(admin, "zed", "root")
        await env.users.delete(admin, "oscar")
        with pytest.raises(AuthError, match="not issued again"):
            await env.users.add_user(admin, "oscar", "operator")
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("oscar", added["password"])
    run(go())
    assert env.store.get("console_users", "oscar")["password_hash"] is None


def test_disable_enable_and_timed_reactivation_R7_6_1_R7_7_R7_8(env):
    async def go():
        admin = await env.admin()
        await env.user(admin, "oscar", "operator", OP_PW)
        token = (await env.users.login("oscar", OP_PW)).token
        await env.users.disable(admin, "oscar")
        with pytest.raises(AuthError):
            env.users.authorize(token, "read")  # disabling ends the session
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("oscar", OP_PW)
        await env.users.enable(admin, "oscar")
        await env.users.logout((await env.users.login("oscar", OP_PW)).token)
        await env.users.disable(admin, "oscar", days=2)
        env.clock.advance(DAY)
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("oscar", OP_PW)
        env.clock.advance(DAY)
        assert (await env.users.login("oscar", OP_PW)).role == "operator"
    run(go())
    assert env.events("user-enable")[-1]["reason"] == "disable period over"


def test_unused_userid_is_disabled_after_60_days_but_not_the_last_administrator_R7_5(env):
    async def go():
        admin = await env.admin()
        await env.user(admin, "oscar", "operator", OP_PW)
        await env.users.logout(admin.token)
        env.clock.advance(60 * DAY)
        swept = await env.users.sweep()
        assert swept["disabled"] == ["oscar"]
        with pytest.raises(AuthError, match="^invalid$"):
            await env.users.login("oscar", OP_PW)
        admin = env.users.authorize((await env.users.login("admin", ADMIN_PW)).token, "administer")
        with pytest.raises(AuthError, match="last enabled administrator"):
            await env.users.disable(admin, "admin")
        with pytest.raises(AuthError, match="last enabled administrator"):
            await env.users.set_role(admin, "admin", "auditor")
    run(go())
    listed = {u["user_id"]: u for u in env.users.list_users()}
    assert listed["oscar"]["disabled_reason"] == "unused" and listed["admin"]["state"] == "enabled"
    assert all("password_hash" not in u for u in listed.values())  # R7-12, R7-16


# ---- persistence and replication --------------------------------------------------------------------
def test_users_replicate_through_the_journal_sessions_do_not_survive_restart(env, tmp_path):
    async def go():
        admin = await env.admin()
        await env.user(admin, "oscar", "operator", OP_PW)
        return admin.token
    token = run(go())
    replica = Store(str(tmp_path / "replica.sqlite"), clock=env.clock)
    for row in env.store.journal_since(0):
        replica.apply_journal_row(row)
    assert replica.select("console_users") == env.store.select("console_users")
    assert replica.schema_versions[-1] >= 4
    restarted = Users(replica, Writer(replica, env.clock), env.clock, env.log, random.Random(1),
                      tunables=lambda: env.tunables, hasher=FAST)
    with pytest.raises(AuthError):
        restarted.authorize(token, "read")
    assert run(restarted.login("oscar", OP_PW)).last_login_terminal == "tty-oscar"
    replica.close()


# ---- through the command dispatcher ---------------------------------------------------------------
class Ctx:
    def __init__(self, env: Env, tmp_path):
        self.users, self.security_log, self.data_dir = env.users, env.log, tmp_path
        self.clock_ms = env.clock


def test_commands_through_the_dispatcher_auditor_cannot_change_anything(env, tmp_path):
    server = ControlServer(tmp_path / "c.sock", control_handlers(Ctx(env, tmp_path), commands()))

    async def ask(op, **args):
        import json
        return await server.answer(json.dumps({"op": op, **args}).encode())

    async def go():
        assert (await ask("banner"))["result"]["banner"] == DEFAULT_BANNER
        assert (await ask("user.init", user_id="admin", password=ADMIN_PW))["ok"]
        adm = (await ask("login", user_id="admin", password=ADMIN_PW, terminal="tty1"))["result"]["token"]
        added = await ask("user.add", session=adm, user_id="audrey", role="auditor")
        temp = added["result"]["password"]
        first = await ask("login", user_id="audrey", password=temp)
        assert first == {"ok": False, "error": "password expired: log in again giving a new password (R7-24.3)"}
        aud = (await ask("login", user_id="audrey", password=temp, new_password=AUD_PW))["result"]["token"]
        listed = await ask("user.list", session=aud)
        assert {u["user_id"] for u in listed["result"]["users"]} == {"admin", "audrey"}
        for op, args in [("user.add", {"user_id": "x1", "role": "operator"}), ("user.disable", {"user_id": "admin"}),
                         ("user.reset", {"user_id": "admin"}), ("banner.set", {"text": "hi"}),
                         ("user.role", {"user_id": "audrey", "role": "administrator"})]:
            answer = await ask(op, session=aud, **args)
            assert answer == {"ok": False, "error": "audrey (auditor) may not administer"}
        assert (await ask("user.passwd", session=aud, old_password=AUD_PW, new_password="Aud1tor$y"))["ok"]
        assert (await ask("logout", session=aud))["result"]["logged_out"]
        assert (await ask("user.list", session=aud))["error"].startswith("not logged in")
        bad = await ask("login", user_id="admin")
        assert bad["ok"] is False and "\n" not in bad["error"]
    run(go())
    assert verify(env.log.path)[0]
    actions = env.events("operator-action")
    assert [a["command"] for a in actions] == ["user.add"] and "password" not in actions[0]["arguments"]
    assert ADMIN_PW not in env.log.path.read_text() and AUD_PW not in env.log.path.read_text()


def test_commands_are_declared_with_their_permissions():
    perms = {c.name: c.permission for c in commands()}
    assert perms["login"] == perms["user.init"] == perms["banner"] == "login"
    assert {perms[n] for n in ("user.add", "user.disable", "user.enable", "user.reset", "user.delete",
                               "user.role", "banner.set")} == {"administer"}
    assert perms["user.list"] == perms["auditlog.export"] == perms["user.passwd"] == perms["logout"] == "read"


def test_command_errors_are_control_refusals():
    assert issubclass(AuthError, CommandError)


# ---- the login procedure as a state machine (R7-33, R7-35, R7-36, R7-48.2) ------------------------
STEP = st.one_of(st.just(("wrong", 0)), st.just(("right", 0)), st.tuples(st.just("wait"), st.integers(0, 90_000)))


@settings(max_examples=30)
@given(st.lists(STEP, max_size=25))
def test_property_login_attempts_follow_the_lockout_model(tmp_path_factory, steps):
    """Any sequence of wrong and right attempts and pauses: every third consecutive failure ends the
    attempt for 60 s (right password included), the userid is never suspended, and a successful login
    reports exactly the failures since the previous one."""
    e = Env(tmp_path_factory.mktemp("users"))
    model = {"failures": 0, "since": 0, "locked_until": 0}

    async def go():
        await e.users.init_admin("admin", ADMIN_PW)
        for kind, ms in steps:
            if kind == "wait":
                e.clock.advance(ms)
                continue
            now = e.clock.now
            try:
                result = await e.users.login("admin", ADMIN_PW if kind == "right" else "Wrong!pw1", "tty1")
            except AuthError as err:
                result, message = None, str(err)
            if now < model["locked_until"]:
                assert result is None and "restarts in" in message
            elif kind == "right":
                assert result is not None and result.failed_since_last == model["since"]
                model.update(failures=0, since=0)
                await e.users.logout(result.token)
            else:
                model["failures"] += 1
                model["since"] += 1
                if model["failures"] == 3:
                    model.update(failures=0, locked_until=now + 60_000)
                    assert message == "invalid; the login process restarts in 60 s (R7-35)"
                else:
                    assert message == "invalid"
        assert e.store.get("console_users", "admin")["failed_since_login"] == model["since"]
        assert e.store.get("console_users", "admin")["state"] == "enabled"  # R7-36
    try:
        run(go())
    finally:
        e.store.close()


def test_on_a_standby_node_logins_check_the_replicated_users_and_change_nothing(env):
    """A node of a pair keeps its store while standby; its services (and writer) exist only when live.
    Its operators still log in (to confirm a promotion, see the pair): the password is checked against
    the replicated users, nothing is written (last login, failures), the lockout is the node's own,
    and every change is refused in one line."""
    class Live:
        store, services = env.store, None

    live = Live()
    users = Users.for_node(live, env.log, random.Random(3))
    users.hasher = FAST
    run(env.users.init_admin("admin", ADMIN_PW))
    before = env.store.get("console_users", "admin")
    sequence = env.store.last_sequence()
    assert users.banner() == DEFAULT_BANNER and users.list_users()[0]["user_id"] == "admin"
    for user_id, password in (("ghost", ADMIN_PW), ("admin", "Wrong-pass-1")):  # the same answer for both
        with pytest.raises(AuthError, match="^invalid$"):
            run(users.login(user_id, password))
    result = run(users.login("admin", ADMIN_PW, "dr-console"))
    assert result.role == "administrator" and result.last_login_ms == before["last_login_ms"]
    assert users.authorize(result.token, "read").user_id == "admin"
    assert env.store.last_sequence() == sequence and env.store.get("console_users", "admin") == before
    with pytest.raises(AuthError, match="passwords are changed on the live node"):
        run(users.login("admin", ADMIN_PW, new_password="Another-pass-2"))
    with pytest.raises(AuthError, match="not the live NPAC SMS: make changes on the live node"):
        run(users.change_password(users.authorize(result.token, "read"), ADMIN_PW, "Another-pass-2"))
    # three failures lock this node's login process out (R7-33/35) without a store write
    for _ in range(3):
        with pytest.raises(AuthError, match="invalid"):
            run(users.login("admin", "Wrong-pass-1"))
    with pytest.raises(AuthError, match="login process restarts"):
        run(users.login("admin", ADMIN_PW))
    assert env.store.last_sequence() == sequence
    assert any(r["event"] == "login" and r.get("node") == "standby" and r.get("outcome") == "success"
               for r in env.log.records())
    assert env.store.get("console_users", "admin")["failed_since_login"] == before["failed_since_login"]


def test_console_users_on_a_running_node_control_socket(tmp_path):
    """The node serves these commands on its control socket: first administrator, login, an auditor
    refused, and the audit log export verified (R7-10, R7-49, R7-68)."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from appliance.config import load_config
    from appliance.control import ControlError, request
    from appliance.node import write_demo_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg_path = write_demo_config(tmp_path, port)
    proc = subprocess.Popen([sys.executable, "-m", "appliance.node", "--config", str(cfg_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:
            if "accepting CMIP associations" in line:
                break
        sock = load_config(cfg_path).control_socket
        assert request(sock, "banner")["banner"] == DEFAULT_BANNER
        request(sock, "user.init", user_id="admin", password=ADMIN_PW)
        admin = request(sock, "login", user_id="admin", password=ADMIN_PW, terminal="pts/1")["token"]
        temp = request(sock, "user.add", session=admin, user_id="audrey", role="auditor")["password"]
        aud = request(sock, "login", user_id="audrey", password=temp, new_password=AUD_PW)["token"]
        with pytest.raises(ControlError, match=r"^audrey \(auditor\) may not administer$"):
            request(sock, "user.disable", session=aud, user_id="admin")
        with pytest.raises(ControlError, match="^invalid$"):
            request(sock, "login", user_id="ghost", password="Ghost!pw1")
        exported = request(sock, "auditlog.export", session=aud, format="json")
        assert exported["records"] == exported["verified"] >= 5
    finally:
        proc.terminate()
        proc.wait(10)
    assert verify(tmp_path / "primary" / "security.log")[0]

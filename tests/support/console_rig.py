"""The console against a live NPAC in this process: the scenario node of `npac_rig` (real LSMS side,
LSMS simulators associated, SOA simulators on demand, fake business clock) with mass updates
installed, console users, and the node's control socket serving the operator commands, so `npac`
(`appliance.console.__main__.main`) is driven exactly as at a terminal, in a worker thread.

Users: `admin` (administrator), `oper` (operator) and `audit` (auditor), each logged in through the
users API; `use(name)` points the session file at that user's session.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.config import NodeConfig
from appliance.console.__main__ import main
from appliance.control import ControlServer
from appliance.npac.mass_update import install_mass_updates
from appliance.ops.commands import control_handlers
from appliance.ops.context import OpsContext
from appliance.ops.passwords import Hasher
from appliance.ops.personnel_commands import commands as personnel_commands
from appliance.ops.security_log import SecurityLog
from appliance.ops.user_commands import commands as user_commands
from appliance.ops.users import Users
from appliance.store.network import SERVICE_PROVIDERS
from tests.support.npac_rig import FakeClock, NpacRig, start_npac

PASSWORDS = {"admin": "Kestrel-41x", "oper": "Heron-77yz", "audit": "Osprey-9qq"}
ROLES = {"oper": "operator", "audit": "auditor"}
# a provider with everything R4-8 asks for (SOA and LSMS, NC and SE contacts, both network addresses)
NEW_SP = ["sp", "create", "0009", "--name", "Ninth Carrier", "--type", "soa-and-local-sms",
          "--customer-type", "CLEC", "--contact", "NC:Nina Admin:3035550100:nina@ninth.example",
          "--contact", "SE:Sam Secure:3035550101", "--address", "S:0001:0001:00000001",
          "--address", "L:0002:0001:00000001"]


@dataclass
class Live:
    services: Any
    store: Any


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@dataclass
class ConsoleRig:
    npac: NpacRig
    ctx: OpsContext
    control: ControlServer
    socket: Path
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)
    saved_env: str | None = None

    @property
    def store(self) -> Any:
        return self.npac.store

    def use(self, user: str | None) -> None:
        path = self.home / "session"
        if user is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text('{"token": "%s", "user_id": "%s"}' % (self.tokens[user], user))
            os.chmod(path, 0o600)

    async def npac_cli(self, *argv: str, stdin: str = "") -> Outcome:
        """`npac --socket S argv...` in a worker thread, its exit code and what it printed."""
        return await asyncio.to_thread(_run_cli, ["--socket", str(self.socket), *argv], stdin)

    async def close(self) -> None:
        if self.saved_env is None:
            os.environ.pop("NPAC_SESSION_FILE", None)
        else:
            os.environ["NPAC_SESSION_FILE"] = self.saved_env
        await self.control.close()
        await self.npac.close()
        shutil.rmtree(self.home, ignore_errors=True)




def _run_cli(argv: list[str], stdin: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        sys.stdin = saved
    return Outcome(code, out.getvalue(), err.getvalue())


def node_config(data_dir: Path, keys_dir: Path) -> NodeConfig:
    return NodeConfig(path=data_dir / "node.toml", name="primary", system_id="NPAC SMS", role="primary",
                      data_dir=data_dir, cmip_host="127.0.0.1", cmip_port=10102, tsap=b"", ssap=b"", psap=b"",
                      max_associations=16, request_timeout=10.0,
                      private_list=keys_dir / "NPAC SMS" / "NPAC SMS-list1.key.pem", key_id=1)


async def start_console(tmp: Path, keys_dir: Path) -> ConsoleRig:
    npac = await start_npac(tmp, keys_dir, broadcaster="lsms")
    npac.services.install(install_mass_updates)
    # the LSMS simulators take network data (RR3-1 download indicator on)
    npac.services.writer.run_now("download indicators", lambda tx: [
        SERVICE_PROVIDERS.put(tx, {"sp_id": sp, "download_network_data": True}) for sp in ("0001", "0002", "0003")])
    security_log = SecurityLog(tmp / "security.log")
    # sessions keep their own clock: tests move the business clock by months (key expiry, timers)
    users = Users(npac.store, npac.services.writer, FakeClock(), security_log, hasher=Hasher(n=2 ** 8))
    ctx = OpsContext(node_config(tmp, keys_dir), Live(npac.services, npac.store), security_log, users=users)
    home = Path(tempfile.mkdtemp(prefix="npac-console-"))  # short: a Unix socket path is at most 107 bytes
    sock = home / "control.sock"
    control = ControlServer(sock, control_handlers(ctx, [*personnel_commands(), *user_commands()]))
    await control.start()
    rig = ConsoleRig(npac, ctx, control, sock, home, saved_env=os.environ.get("NPAC_SESSION_FILE"))
    os.environ["NPAC_SESSION_FILE"] = str(home / "session")
    await users.init_admin("admin", PASSWORDS["admin"])
    admin = await users.login("admin", PASSWORDS["admin"])
    rig.tokens["admin"] = admin.token
    for user, role in ROLES.items():
        session = users.authorize(admin.token, "administer")
        await users.add_user(session, user, role, "Temp-pass99")
        rig.tokens[user] = (await users.login(user, "Temp-pass99", new_password=PASSWORDS[user])).token
    rig.use("admin")
    return rig

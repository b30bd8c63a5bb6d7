"""The node's self-checks (FRS R10-6 line monitoring, R10-7 memory errors, R10-9 self-checking): the
`selftest` and `link-status` firmware hooks, run every `interval` seconds and on demand
(`selfcheck.run`), their last results kept in the status document's `self_checks` and `links`.

The node runs them itself so that its status document (the console, the SNMP agent, anything on the
control socket) is right whether or not an SNMP agent is running; the agent runs the same hooks
through `read_hooks` and merges the two readings.

Settings: an optional section of the node's TOML file (appliance/config.py ignores it):

    [selfcheck]
    hooks_dir = "/opt/npac/firmware-hooks"   # default: this release's firmware-hooks/
    hw_sim = ""                     # NPAC_HW_SIM for the hooks (workstation pair, tests)
    interval = 60.0                 # seconds between runs
    timeout = 10.0                  # a hook that takes longer is killed and reported failed
    mounts = ["/", "/var"]          # filesystems the self-test watches
    interconnect = ["eth1"]         # interconnect interfaces (link-status)
    serial = ["/dev/ttyS1"]         # the heartbeat cable's serial device (link-status)
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.hooks import HookResult, run_hook
from appliance.ops.commands import Command, CommandError
from appliance.status import Link, SelfCheck, StatusError, from_json, utc_text
from appliance.tomlconfig import ConfigError, read_toml, relative_to
from appliance.tomlconfig import get as _get

log = logging.getLogger("appliance.ops.selfcheck")
HOOKS_DIR = Path(__file__).resolve().parents[2] / "firmware-hooks"
RUNNING = "selfcheck"  # the OpsContext.extras key of the node's running SelfChecks


@dataclass(frozen=True)
class HookSettings:
    hooks_dir: Path = HOOKS_DIR
    hw_sim: Path | None = None
    interval: float = 60.0
    timeout: float = 10.0
    mounts: tuple[str, ...] = ("/",)
    interconnect: tuple[str, ...] = ()
    serial: tuple[str, ...] = ()


def _strings(table: dict, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    items = _get(table, key, list, "[selfcheck]", list(default))
    if not all(isinstance(x, str) and x for x in items):
        raise ConfigError(f"[selfcheck]: '{key}' must be a list of non-empty strings")
    return tuple(items)


def load_settings(path: str | Path) -> HookSettings:
    """The [selfcheck] section of a node's configuration file (defaults when it has none)."""
    table = _get(read_toml(path), "selfcheck", dict, str(path), {})
    seconds = {}
    for key, default in (("interval", 60.0), ("timeout", 10.0)):
        value = _get(table, key, float, "[selfcheck]", default)
        if value <= 0:
            raise ConfigError(f"[selfcheck]: '{key}' must be more than 0 seconds, got {value}")
        seconds[key] = value
    hooks = _get(table, "hooks_dir", str, "[selfcheck]", "")
    hw_sim = _get(table, "hw_sim", str, "[selfcheck]", "")
    # absolute: the hooks run in a working directory of their own
    return HookSettings(
        hooks_dir=relative_to(path, hooks).absolute() if hooks else HOOKS_DIR,
        hw_sim=relative_to(path, hw_sim).absolute() if hw_sim else None,
        interval=seconds["interval"], timeout=seconds["timeout"],
        mounts=_strings(table, "mounts", ("/",)), interconnect=_strings(table, "interconnect", ()),
        serial=_strings(table, "serial", ()))


# ---- one run of the hooks ----------------------------------------------------------------------

@dataclass
class Readings:
    checks: list[SelfCheck]
    links: list[Link] | None  # None: link-status gave nothing usable, the lines' state is not known
    ran: str  # UTC time text of the run
    hooks: list[dict[str, Any]] = field(default_factory=list)  # per hook: ok, error, seconds

    def to_dict(self) -> dict[str, Any]:
        return {"ran": self.ran, "hooks": self.hooks,
                "failed": [c.name for c in self.checks if c.status == "failed"],
                "checks": [dataclasses.asdict(c) for c in self.checks],
                "links": None if self.links is None else [dataclasses.asdict(link) for link in self.links]}


def _parse(result: HookResult, key: str, cls: type) -> list | None:
    """The hook's list, or None (and the result marked failed) when its JSON has the wrong shape."""
    if not result.ok:
        return None
    items = result.data.get(key)
    try:
        if not isinstance(items, list):
            raise StatusError(f"no '{key}' list")
        return [from_json(cls, item, f"{result.hook}.{key}[{i}]") for i, item in enumerate(items)]
    except StatusError as exc:
        result.ok, result.error = False, f"printed JSON of the wrong shape ({exc})"[:200]
        return None


HookRunner = Callable[..., HookResult]


async def read_hooks(settings: HookSettings, run: HookRunner = run_hook) -> Readings:
    """Both hooks at once (each in a thread: run_hook blocks); a hook that fails is a failed check."""
    selftest_args = [arg for m in settings.mounts for arg in ("--mount", m)]
    link_args = [arg for i in settings.interconnect for arg in ("--interconnect", i)]
    link_args += [arg for d in settings.serial for arg in ("--serial", d)]
    kwargs = {"timeout": settings.timeout, "hw_sim": settings.hw_sim}
    selftest, links = await asyncio.gather(
        asyncio.to_thread(run, settings.hooks_dir, "selftest", selftest_args, **kwargs),
        asyncio.to_thread(run, settings.hooks_dir, "link-status", link_args, **kwargs))
    checks = _parse(selftest, "checks", SelfCheck) or []
    found = _parse(links, "links", Link)
    checks += [from_json(SelfCheck, r.failed_check(), "hook") for r in (selftest, links) if not r.ok]
    summary = [{"hook": r.hook, "ok": r.ok, "error": r.error, "seconds": round(r.seconds, 3)}
               for r in (selftest, links)]
    return Readings(checks, found, utc_text(), summary)


def unknown_lines(links: list[Link]) -> list[Link]:
    """The rows of lines whose state is no longer known: they stay, with ifOperStatus unknown."""
    return [dataclasses.replace(link, oper="unknown") for link in links]


# ---- the node's periodic run ------------------------------------------------------------------

class SelfChecks:
    """Runs the hooks every `settings.interval` seconds (and when asked) and hands each reading to the
    node's status document (`monitor.self_checks`, `monitor.links`). Runs never overlap: one asked
    for while another is under way waits for it and then runs afresh."""

    def __init__(self, settings: HookSettings, monitor: Any = None, *, run: HookRunner = run_hook,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.settings, self.monitor = settings, monitor
        self._run, self._sleep = run, sleep
        self.latest: Readings | None = None
        self.links: list[Link] = []
        self.runs = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_node(cls, cfg: Any, monitor: Any) -> "SelfChecks":
        return cls(load_settings(cfg.path), monitor)

    async def run_now(self) -> Readings:
        async with self._lock:
            readings = await read_hooks(self.settings, self._run)
            if readings.links is not None:
                self.links = readings.links
            else:
                self.links = unknown_lines(self.links)
            self.latest, self.runs = readings, self.runs + 1
            if self.monitor is not None:
                self.monitor.self_checks, self.monitor.links = list(readings.checks), list(self.links)
            failed = [c.name for c in readings.checks if c.status == "failed"]
            if failed:
                log.warning("self-check failed: %s", ", ".join(failed))
            return readings

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_now()
            except Exception:  # one bad run must not end the checks
                log.exception("self-check run failed")
            await self._sleep(self.settings.interval)

    def start(self) -> None:
        """The first run at once, then every interval (inside the running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# ---- the operator command -----------------------------------------------------------------------

async def run_selfcheck(ctx: Any, session: Any) -> dict[str, Any]:
    """Run the self-test and link-status hooks now; the status document takes the result too."""
    checks = ctx.extras.get(RUNNING)
    if checks is None:
        try:
            checks = SelfChecks(load_settings(ctx.config.path), ctx.monitor)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        ctx.extras[RUNNING] = checks
    return (await checks.run_now()).to_dict()


def commands() -> list[Command]:
    return [Command("selfcheck.run", run_selfcheck, "read",
                    "run the hardware self-test and link checks now (R10-6, R10-7, R10-9)")]

"""The HA pair on loopback for tests: two stores, replication senders and receivers, LocalNode links,
heartbeats over a UdpCable and a NullModem (pty pair), and an HaManager per node, with short timers.

`fence_script(...)` writes the executable fence hook a manager runs: it records the call and prints
the JSON verdict. When it says fenced, `Pair.watch_fence` "powers the peer off" (stops its manager,
heartbeats and replication), as the real hook would.
"""
from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.store import Store, Upsert
from ha.cable import NullModem, TcpRelay, UdpCable
from ha.fence import run_fence
from ha.heartbeat import Heartbeats, SerialPath, UdpPath
from ha.manager import HaManager, Settings
from ha.node_link import LocalNode
from ha.receiver import ReplicationReceiver, probe
from ha.replication import Policy, ReplicationSender

KEY = bytes(range(32))
INTERVAL = 0.1
DEAD_TIME = 1.5  # the rig's managers share one event loop with the test: leave room for a slow turn
NAMES = ("primary", "dr")


def run(coro: Any, timeout: float = 60.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def put(store: Store, n: int, sp: str = "0001") -> int:
    """One journaled transaction (an LRN row)."""
    seq = store.apply([Upsert("lrn", {"lrn_id": n, "value": f"3125{n:06d}", "sp_id": sp})])
    assert seq is not None
    return seq


def fence_script(folder: Path, fenced: bool, name: str = "fence") -> Path:
    path = folder / name
    calls = folder / f"{name}.calls"
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$NPAC_PEER" >> "{calls}"\n'
        f"echo '{json.dumps({'fenced': fenced, 'method': 'test'})}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fence_calls(folder: Path, name: str = "fence") -> list[str]:
    calls = folder / f"{name}.calls"
    return calls.read_text().split() if calls.exists() else []


@dataclass
class Node:
    name: str
    folder: Path
    store: Store
    sender: ReplicationSender
    port: int
    receiver: ReplicationReceiver | None = None
    link: LocalNode | None = None
    manager: HaManager | None = None
    udp: UdpPath | None = None
    udp_port: int = 0
    alarms: list[tuple[str, bool]] = field(default_factory=list)
    running: bool = False

    @property
    def role(self) -> str:
        assert self.manager is not None
        return str(self.manager.state.role)


class Pair:
    """Build with `await Pair.start(tmp, fence=True|False)`; `nodes["primary"]`, `nodes["dr"]`."""

    def __init__(self, folder: Path, fenced: bool, policy: Policy):
        self.folder = folder
        self.fenced = fenced
        self.policy = policy
        self.nodes: dict[str, Node] = {}
        self.modem = NullModem()
        self.udp = UdpCable()
        self.relays: dict[str, TcpRelay] = {}  # replication (and probes) towards each node
        self._tasks: list[asyncio.Task[Any]] = []

    @classmethod
    async def start(cls, folder: Path, fenced: bool = True, policy: Policy = Policy.ASYNC) -> Pair:
        pair = cls(folder, fenced, policy)
        pair.modem.start()
        await pair.udp.start()
        for name in NAMES:
            await pair._open_sender(name)
            pair.relays[name] = TcpRelay(("127.0.0.1", pair.nodes[name].port))
            await pair.relays[name].start()
        for i, name in enumerate(NAMES):
            await pair.boot(name, i)
        pair.udp.connect(*(("127.0.0.1", pair.nodes[n].udp_port) for n in NAMES))
        return pair

    def cut(self, network: bool = True, serial: bool = True) -> None:
        """Lose the interconnect (UDP heartbeats and replication) and/or the serial cable."""
        if network:
            self.udp.cut()
            for relay in self.relays.values():
                relay.cut()
        if serial:
            self.modem.cut()

    def restore(self) -> None:
        self.udp.restore()
        for relay in self.relays.values():
            relay.restore()
        self.modem.restore()

    def peer_of(self, name: str) -> Node:
        return self.nodes[NAMES[1 - NAMES.index(name)]]

    async def _open_sender(self, name: str) -> None:
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        store = Store(folder / "store.db")
        sender = self._sender(store, name)
        await sender.start("127.0.0.1", 0)
        self.nodes[name] = Node(name, folder, store, sender, sender.port)

    def _sender(self, store: Store, name: str) -> ReplicationSender:
        return ReplicationSender(store, KEY, node=name, policy=self.policy, ack_timeout=0.4, keepalive=0.2)

    async def boot(self, name: str, index: int | None = None) -> Node:
        """Start (or restart, on the same store file and ports) a node and its manager."""
        index = NAMES.index(name) if index is None else index
        node = self.nodes[name]
        if node.running:
            raise RuntimeError(f"{name} is running")
        if node.manager is not None:  # a restart: the same store file and addresses
            node.store = Store(node.folder / "store.db")
            node.sender = self._sender(node.store, name)
            await node.sender.start("127.0.0.1", node.port)
        peer_name = NAMES[1 - index]
        peer_address = self.relays[peer_name].address
        node.receiver = ReplicationReceiver(node.store, KEY, node=name, peer=peer_address, retry=0.05,
                                            idle_timeout=1.0)
        node.link = LocalNode(node.store, node.sender, node.receiver)
        node.udp = UdpPath(("127.0.0.1", node.udp_port), self.udp.sides[index])
        serial = SerialPath(self.modem.ends[index])
        heartbeats = Heartbeats(KEY, name, peer_name, [node.udp, serial], interval=INTERVAL, dead_time=DEAD_TIME)
        hook = fence_script(self.folder, self.fenced, f"fence-{name}")
        node.manager = HaManager(
            Settings(name, peer_name, preferred=index == 0, interval=INTERVAL, dead_time=DEAD_TIME, fence_retry=0.5,
                     probe_every=0.2),
            node.link, heartbeats,
            fence=lambda: run_fence([str(hook)], 5.0, peer_name),
            probe=lambda: probe(peer_address, KEY, name, timeout=0.5),
            on_alarm=lambda alarm, raised, _detail, node=node: node.alarms.append((alarm, raised)))
        await node.manager.start()
        node.udp_port = node.udp.address[1]
        node.running = True
        self._tasks.append(asyncio.create_task(self._watch_fence(name)))
        return node

    async def _watch_fence(self, name: str) -> None:
        """What the real hook does to the peer: power it off."""
        peer = self.peer_of(name).name
        while True:
            await asyncio.sleep(0.01)
            if self.fenced and fence_calls(self.folder, f"fence-{name}") and self.nodes[peer].running:
                await self.power_off(peer)
                (self.folder / f"fence-{name}.calls").unlink()

    async def power_off(self, name: str) -> None:
        node = self.nodes[name]
        if not node.running:
            return
        node.running = False
        assert node.manager is not None and node.receiver is not None
        await node.manager.stop()
        await node.receiver.stop()
        await node.sender.close()
        node.store.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for name in NAMES:
            await self.power_off(name)
        self.modem.close()
        self.udp.close()
        for relay in self.relays.values():
            relay.close()

    def roles(self) -> dict[str, str]:
        return {n: self.nodes[n].role for n in NAMES if self.nodes[n].running}


def key_file(folder: Path) -> Path:
    path = folder / "ha.key"
    path.write_text(KEY.hex() + "\n")
    os.chmod(path, 0o600)
    return path

"""The pair's interconnect as a real network: each side in its own network namespace, the two joined
by a veth pair (10.79.x.1 and .2). Cutting it takes the link down, as pulling the interconnect cable
does: both ends lose carrier, heartbeat datagrams and replication segments go nowhere. The serial
cable (a pty pair) is outside it and stays up.

Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2, both installed by `.ci/run`.
"""
from __future__ import annotations

import itertools
import os
import subprocess

from appliance.pair import SIDES

_count = itertools.count(1)


class NetnsInterconnect:
    def __init__(self) -> None:
        n = next(_count)
        tag = f"{os.getpid() % 100000}{n}"
        self.namespaces = {side: f"npacp{tag}{side[0]}" for side in SIDES}
        self.devices = {side: f"ic{tag}{side[0]}" for side in SIDES}
        net = 1 + (os.getpid() + n) % 250
        self.addresses = (f"10.79.{net}.1", f"10.79.{net}.2")
        self._up = False

    def up(self) -> "NetnsInterconnect":
        try:
            for ns in self.namespaces.values():
                _ip("netns", "add", ns)
            a, b = (self.devices[s] for s in SIDES)
            _ip("link", "add", a, "type", "veth", "peer", "name", b)
            for i, side in enumerate(SIDES):
                ns, dev = self.namespaces[side], self.devices[side]
                _ip("link", "set", dev, "netns", ns)
                _ip("-n", ns, "addr", "add", f"{self.addresses[i]}/30", "dev", dev)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "link", "set", dev, "up")
            self._up = True
        except Exception:
            self.close()
            raise
        return self

    def prefix(self, side: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespaces[side]]

    def cut(self, cut: bool = True) -> None:
        """The primary's end down (the cable pulled) or up again; the DR's end follows its carrier."""
        side = SIDES[0]
        _ip("-n", self.namespaces[side], "link", "set", self.devices[side], "down" if cut else "up")

    def close(self) -> None:
        for ns in self.namespaces.values():  # the veth pair goes with its namespaces
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._up = False


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")

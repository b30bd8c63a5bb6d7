"""`pair.*` node commands and `npac pair`: the operator's way to npac-ha (confirm a promotion after
powering the other node off, R10-x; switchback RN10-2..4). A command that changes no role is refused
with its reason; npac-ha not answering is one line too."""
import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance.console.pair_cmds import render_status
from appliance.control import ControlServer
from appliance.ops.commands import CommandError
from appliance.ops.pair_commands import commands

HANDLERS = {c.name: c.handler for c in commands()}


class FakeHa:
    """npac-ha's control ops, with the guard the role table puts on them: a promotion needs the peer
    lost on both paths, a switchback the live role."""

    def __init__(self, role: str, peer_lost: bool):
        self.role, self.peer_lost = role, peer_lost

    def handlers(self):
        async def status():
            return {"node": "dr", "role": self.role, "preferred": False, "peer_lost": self.peer_lost,
                    "paths": {"network": {"up": not self.peer_lost}, "serial": {"up": not self.peer_lost}},
                    "peer": None if self.peer_lost else {"node": "primary", "role": "primary-live", "epoch": 2},
                    "alarms": {"peer-unreachable": "both paths"} if self.peer_lost else {},
                    "cutover": {}, "database": {}, "history": [], "wall_ms": 0}

        async def confirm_promotion():
            if self.role in ("standby", "fenced") and self.peer_lost:
                self.role = "promoting"
            return self.role

        async def switchback():
            if self.role == "primary-live":
                self.role = "draining"
            return self.role

        async def cancel_switchback():
            if self.role == "draining":
                self.role = "primary-live"
            return self.role
        return {"status": status, "confirm_promotion": confirm_promotion, "switchback": switchback,
                "cancel_switchback": cancel_switchback}


def run(tmp_path: Path, ha: FakeHa | None, op: str):
    sock = tmp_path / "ha.sock"
    ctx = SimpleNamespace(ha=SimpleNamespace(cfg=SimpleNamespace(control_socket=sock)))

    async def go():
        server = ControlServer(sock, ha.handlers()) if ha is not None else None
        if server is not None:
            await server.start()
        try:
            return await HANDLERS[op](ctx, None)
        finally:
            if server is not None:
                await server.close()
    return asyncio.run(go())


def test_confirm_promotes_only_a_node_whose_peer_is_lost(tmp_path):
    assert run(tmp_path, FakeHa("standby", peer_lost=True), "pair.confirm") == {"before": "standby",
                                                                               "after": "promoting"}
    with pytest.raises(CommandError, match="no promotion: .*peer is lost.*this node is standby"):
        run(tmp_path, FakeHa("standby", peer_lost=False), "pair.confirm")


def test_switchback_starts_on_the_live_node_and_can_be_cancelled_while_draining(tmp_path):
    assert run(tmp_path, FakeHa("primary-live", False), "pair.switchback")["after"] == "draining"
    with pytest.raises(CommandError, match="no switchback.*this node is standby"):
        run(tmp_path, FakeHa("standby", False), "pair.switchback")
    assert run(tmp_path, FakeHa("draining", False), "pair.cancel-switchback")["after"] == "primary-live"
    with pytest.raises(CommandError, match="nothing to cancel"):
        run(tmp_path, FakeHa("primary-live", False), "pair.cancel-switchback")


def test_npac_ha_not_answering_or_no_pair_is_one_line(tmp_path):
    with pytest.raises(CommandError, match="npac-ha did not answer") as err:
        run(tmp_path, None, "pair.status")
    assert "\n" not in str(err.value)
    with pytest.raises(CommandError, match="not one of a pair"):
        asyncio.run(HANDLERS["pair.status"](SimpleNamespace(ha=None), None))


def test_status_shows_role_paths_peer_and_alarms(tmp_path):
    lost = render_status(run(tmp_path, FakeHa("fenced", True), "pair.status"))
    assert "node dr: fenced, peer lost: yes" in lost
    assert "heartbeat network: down" in lost and "heartbeat serial: down" in lost
    assert "alarms: peer-unreachable (both paths)" in lost
    fine = render_status(run(tmp_path, FakeHa("standby", False), "pair.status"))
    assert "peer primary: primary-live, epoch 2" in fine and "alarms: none" in fine
    assert all(c.permission == ("read" if c.name == "pair.status" else "operate") for c in commands())

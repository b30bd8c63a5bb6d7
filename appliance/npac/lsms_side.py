"""The LSMS-facing half of the NPAC SMS, assembled on one agent: broadcaster, network data (API,
CMIP handlers, M-GET views), recovery and downtime notices, sharing one `LsmsLink`.

`install_lsms_side` is what a node's service assembly calls once the writer, store and agent exist;
`on_complete` is the engine's `broadcast_complete`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.agent import NpacAgent
from appliance.npac.broadcast import Broadcaster, OnComplete
from appliance.npac.downloads import DownloadLimits
from appliance.npac.downtime import DEFAULT_LEAD_MS, DowntimeNotices
from appliance.npac.lsms_link import LsmsLink
from appliance.npac.network_data import NetworkData
from appliance.npac.network_interface import NetworkInterface
from appliance.npac.recovery import Recovery
from appliance.npac.tunables import Tunables
from appliance.npac.writer import Writer
from appliance.store.store import Store


@dataclass
class LsmsSide:
    link: LsmsLink
    broadcaster: Broadcaster
    network: NetworkData
    network_interface: NetworkInterface
    recovery: Recovery
    downtime: DowntimeNotices

    async def start(self) -> None:
        """After restart or cutover: carry unfinished broadcasts on, and watch the downtime schedule."""
        await self.broadcaster.resume()
        self.downtime.start()

    async def close(self) -> None:
        await self.downtime.close()
        await self.broadcaster.close()


def install_lsms_side(agent: NpacAgent, writer: Writer, store: Store, clock_ms: Callable[[], int],
                      tunables: Callable[[], Tunables], on_complete: OnComplete, *,
                      limits: DownloadLimits = DownloadLimits(), downtime_lead_ms: int = DEFAULT_LEAD_MS) -> LsmsSide:
    link = LsmsLink(agent, store)
    broadcaster = Broadcaster(writer, store, agent, clock_ms, tunables, on_complete, link=link)
    network = NetworkData(writer, agent, link)
    return LsmsSide(
        link=link, broadcaster=broadcaster, network=network, network_interface=NetworkInterface(agent, network),
        recovery=Recovery(writer, agent, link, clock_ms, broadcaster, limits),
        downtime=DowntimeNotices(writer, store, agent, clock_ms, downtime_lead_ms),
    )

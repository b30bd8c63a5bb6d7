"""What an operator command sees of the node it runs in.

Commands run inside the node process, so they change the store only through the node's one writer
(`services.writer.run`) and reach carriers through the same services a carrier request uses. On a
node of a pair the services exist only while the node is live: a command that needs them on the
standby is refused with one line saying where to go.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.config import NodeConfig
from appliance.ops.commands import CommandError
from appliance.ops.security_log import SecurityLog


@dataclass
class OpsContext:
    config: NodeConfig
    live: Any                      # appliance.node.LiveServices, or anything with .services and .store
    security_log: SecurityLog
    monitor: Any = None            # appliance.node_status.NodeMonitor (the status document)
    ha: Any = None                 # appliance.node_ha.PairMember when the node is one of a pair
    users: Any = None              # appliance.ops.users.Users
    notices: Any = None            # appliance.ops.notices.UserNotices
    extras: dict[str, Any] = field(default_factory=dict)  # parts installed later (meters, reports...)

    @property
    def services(self) -> Any:
        services = getattr(self.live, "services", None)
        if services is None:
            role = self.ha.link.role if self.ha is not None else "not live"
            raise CommandError(f"this node is not the live NPAC SMS (role {role}); run the command on the live node")
        return services

    @property
    def store(self) -> Any:
        """Reads are allowed on any node (a standby's store follows the live one)."""
        return self.live.store

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def clock_ms(self) -> int:
        return self.services.clock_ms()

"""The pysnmp engine: USM users, optional v2c community, VACM views, UDP transport, responders,
notification targets.

Access: every USM user gets the whole tree read-only at authPriv and nothing else (there is no write
view, and the instrumentation refuses writes anyway). A v2c community, when configured, gets the
same read view at noAuthNoPriv, for SNMPv2c only (an SNMPv1 request with it sees nothing). A
request with an unknown user, a wrong key or a community guess never reaches the instrumentation:
pysnmp's USM / community model drops it and counts it (usmStats*, snmpInBadCommunityNames).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context, ntforg
from pysnmp.proto import rfc1902

from snmp.config import AgentConfig
from snmp.instrum import Snapshot, SnapshotInstrum

log = logging.getLogger("snmp.engine")

AUTH = {"SHA": config.USM_AUTH_HMAC96_SHA, "SHA-224": config.USM_AUTH_HMAC128_SHA224,
        "SHA-256": config.USM_AUTH_HMAC192_SHA256, "SHA-384": config.USM_AUTH_HMAC256_SHA384,
        "SHA-512": config.USM_AUTH_HMAC384_SHA512}
# AES-192/256 as net-snmp's AES192/AES256 (the Blumenthal key extension)
PRIV = {"AES": config.USM_PRIV_CFB128_AES, "AES-192": config.USM_PRIV_CFB192_AES_BLUMENTHAL,
        "AES-256": config.USM_PRIV_CFB256_AES_BLUMENTHAL}
READ_VIEW = (1, 3, 6, 1)
NOTIFY_TAGS = {"trap": "npac-trap", "inform": "npac-inform"}
ENGINE_SCALARS = {
    "__SNMPv2-MIB": ("sysUpTime", "snmpInPkts", "snmpInBadVersions", "snmpInBadCommunityNames",
                     "snmpInBadCommunityUses", "snmpInASNParseErrs", "snmpSilentDrops", "snmpProxyDrops"),
    "__SNMP-FRAMEWORK-MIB": ("snmpEngineID", "snmpEngineBoots", "snmpEngineTime", "snmpEngineMaxMessageSize"),
    "__SNMP-USER-BASED-SM-MIB": ("usmStatsUnsupportedSecLevels", "usmStatsNotInTimeWindows",
                                 "usmStatsUnknownUserNames", "usmStatsUnknownEngineIDs", "usmStatsWrongDigests",
                                 "usmStatsDecryptionErrors"),
}


def next_boots(state_dir: Path | None) -> int:
    """snmpEngineBoots must grow across restarts (RFC 3414 replay protection): kept in state_dir."""
    if state_dir is None:
        return 1
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "engine-boots"
    try:
        boots = int(path.read_text().strip()) + 1
    except (OSError, ValueError):
        boots = 1
    boots = min(boots, 2147483647)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(boots))
    tmp.replace(path)
    return boots


class AgentEngine:
    def __init__(self, cfg: AgentConfig, current: Callable[[], Snapshot]):
        self.cfg = cfg
        self.snmp = engine.SnmpEngine(snmpEngineID=rfc1902.OctetString(cfg.engine_id))
        builder = self.snmp.get_mib_builder()
        (boots,) = builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineBoots")
        boots.syntax = boots.syntax.clone(next_boots(cfg.state_dir))
        self._add_users()
        self.context = context.SnmpContext(self.snmp)
        self.context.unregister_context_name(b"")
        self.context.register_context_name(b"", SnapshotInstrum(current))
        for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder, cmdrsp.BulkCommandResponder,
                          cmdrsp.SetCommandResponder):
            responder(self.snmp, self.context)
        self._add_targets()
        self.originator = ntforg.NotificationOriginator()

    def _add_users(self) -> None:
        for u in self.cfg.users:
            config.add_v3_user(self.snmp, u.name, AUTH[u.auth], u.auth_key, PRIV[u.priv], u.priv_key)
            config.add_vacm_user(self.snmp, 3, u.name, "authPriv", readSubTree=READ_VIEW, notifySubTree=READ_VIEW)
        if self.cfg.community is not None:
            config.add_v1_system(self.snmp, "npac-ro", self.cfg.community)
            config.add_vacm_user(self.snmp, 2, "npac-ro", "noAuthNoPriv", readSubTree=READ_VIEW)

    def _add_targets(self) -> None:
        for i, t in enumerate(self.cfg.trap_targets):
            params = f"npac-params-{t.user}"
            config.add_target_parameters(self.snmp, params, t.user, "authPriv", mpModel=3)
            config.add_target_address(self.snmp, f"npac-target-{i}", udp.DOMAIN_NAME, (t.host, t.port), params,
                                      tagList=NOTIFY_TAGS[t.kind], timeout=300, retryCount=2)
        for kind, tag in NOTIFY_TAGS.items():
            config.add_notification_target(self.snmp, f"npac-{kind}s", f"npac-filter-{kind}", tag, kind)

    def open(self) -> None:
        """Bind the UDP port (inside the running asyncio loop)."""
        transport = udp.UdpTransport().open_server_mode((self.cfg.host, self.cfg.port))
        config.add_transport(self.snmp, udp.DOMAIN_NAME, transport)

    def close(self) -> None:
        self.snmp.close_dispatcher()

    def values(self) -> dict[str, Callable[[], Any]]:
        """The objects the engine itself keeps (uptime, protocol and USM counters), read when asked."""
        builder = self.snmp.get_mib_builder()
        out: dict[str, Callable[[], Any]] = {}
        for module, names in ENGINE_SCALARS.items():
            for name, symbol in zip(names, builder.import_symbols(module, *names)):
                # clone() makes sysUpTime and snmpEngineTime compute the time; for counters it is the value
                out[name] = lambda s=symbol: s.syntax.clone()
        return out

    def uptime(self) -> int:
        (up,) = self.snmp.get_mib_builder().import_symbols("__SNMPv2-MIB", "sysUpTime")
        return int(up.syntax.clone())

    def notify(self, var_binds: list[tuple[tuple[int, ...], Any]]) -> None:
        """Send one notification (sysUpTime.0 and snmpTrapOID.0 first in var_binds) to every target."""
        kinds = {t.kind for t in self.cfg.trap_targets}
        for kind in kinds:
            try:
                self.originator.send_varbinds(self.snmp, f"npac-{kind}s", None, rfc1902.OctetString(b""), var_binds)
            except Exception:  # a target that cannot be reached must not stop the agent
                log.exception("sending a %s failed", kind)

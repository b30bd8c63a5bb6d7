"""Every MIB object the agent serves: name -> (module, OID, SMI type).

Written out by hand so the agent needs no MIB compiler at run time; tests/test_snmp_mib.py checks
each entry against the MIB texts in snmp/mibs/ (OID with net-snmp, type with pysmi), so this table
cannot drift from them.
"""
from __future__ import annotations

from dataclasses import dataclass

from pysnmp.proto import rfc1902

INT = rfc1902.Integer32
UINT = rfc1902.Unsigned32
GAUGE = rfc1902.Gauge32
C32 = rfc1902.Counter32
C64 = rfc1902.Counter64
STR = rfc1902.OctetString
OID = rfc1902.ObjectIdentifier
TICKS = rfc1902.TimeTicks


@dataclass(frozen=True)
class MibObject:
    module: str
    name: str
    oid: tuple[int, ...]
    syntax: type | None  # None: a node with no value (table, notification, identity)


OBJECTS: dict[str, MibObject] = {}


def _add(module: str, base: tuple[int, ...], members: dict[str, tuple[int, type | None]]) -> None:
    for name, (arc, syntax) in members.items():
        OBJECTS[name] = MibObject(module, name, base + (arc,), syntax)


def oid(name: str) -> tuple[int, ...]:
    return OBJECTS[name].oid


MIB2 = (1, 3, 6, 1, 2, 1)
_add("SNMPv2-MIB", MIB2 + (1,), {
    "sysDescr": (1, STR), "sysObjectID": (2, OID), "sysUpTime": (3, TICKS), "sysContact": (4, STR),
    "sysName": (5, STR), "sysLocation": (6, STR), "sysServices": (7, INT), "sysORLastChange": (8, TICKS),
})
_add("SNMPv2-MIB", MIB2 + (1, 9, 1), {"sysORID": (2, OID), "sysORDescr": (3, STR), "sysORUpTime": (4, TICKS)})
_add("SNMPv2-MIB", MIB2 + (11,), {
    "snmpInPkts": (1, C32), "snmpInBadVersions": (3, C32), "snmpInBadCommunityNames": (4, C32),
    "snmpInBadCommunityUses": (5, C32), "snmpInASNParseErrs": (6, C32), "snmpEnableAuthenTraps": (30, INT),
    "snmpSilentDrops": (31, C32), "snmpProxyDrops": (32, C32),
})
_add("SNMPv2-MIB", (1, 3, 6, 1, 6, 3, 1, 1, 4), {"snmpTrapOID": (1, OID)})
_add("SNMPv2-MIB", (1, 3, 6, 1, 6, 3, 1, 1, 5), {"coldStart": (1, None)})
_add("IF-MIB", (1, 3, 6, 1, 6, 3, 1, 1, 5), {"linkDown": (3, None), "linkUp": (4, None)})
_add("SNMP-FRAMEWORK-MIB", (1, 3, 6, 1, 6, 3, 10, 2, 1), {
    "snmpEngineID": (1, STR), "snmpEngineBoots": (2, INT), "snmpEngineTime": (3, INT),
    "snmpEngineMaxMessageSize": (4, INT),
})
_add("SNMP-USER-BASED-SM-MIB", (1, 3, 6, 1, 6, 3, 15, 1, 1), {
    "usmStatsUnsupportedSecLevels": (1, C32), "usmStatsNotInTimeWindows": (2, C32),
    "usmStatsUnknownUserNames": (3, C32), "usmStatsUnknownEngineIDs": (4, C32), "usmStatsWrongDigests": (5, C32),
    "usmStatsDecryptionErrors": (6, C32),
})

# IF-MIB (RFC 2863)
_add("IF-MIB", MIB2 + (2,), {"ifNumber": (1, INT)})
_add("IF-MIB", MIB2 + (2, 2, 1), {
    "ifIndex": (1, INT), "ifDescr": (2, STR), "ifType": (3, INT), "ifMtu": (4, INT), "ifSpeed": (5, GAUGE),
    "ifPhysAddress": (6, STR), "ifAdminStatus": (7, INT), "ifOperStatus": (8, INT), "ifLastChange": (9, TICKS),
    "ifInOctets": (10, C32), "ifInUcastPkts": (11, C32), "ifInDiscards": (13, C32), "ifInErrors": (14, C32),
    "ifInUnknownProtos": (15, C32), "ifOutOctets": (16, C32), "ifOutUcastPkts": (17, C32),
    "ifOutDiscards": (19, C32), "ifOutErrors": (20, C32),
})
_add("IF-MIB", MIB2 + (31, 1), {"ifTableLastChange": (5, TICKS), "ifStackLastChange": (6, TICKS)})
_add("IF-MIB", MIB2 + (31, 1, 1, 1), {
    "ifName": (1, STR), "ifInMulticastPkts": (2, C32), "ifInBroadcastPkts": (3, C32),
    "ifOutMulticastPkts": (4, C32), "ifOutBroadcastPkts": (5, C32), "ifHCInOctets": (6, C64),
    "ifHCInUcastPkts": (7, C64), "ifHCOutOctets": (10, C64), "ifHCOutUcastPkts": (11, C64),
    "ifLinkUpDownTrapEnable": (14, INT), "ifHighSpeed": (15, GAUGE), "ifPromiscuousMode": (16, INT),
    "ifConnectorPresent": (17, INT), "ifAlias": (18, STR), "ifCounterDiscontinuityTime": (19, TICKS),
})
_add("IF-MIB", MIB2 + (31, 1, 2, 1), {"ifStackStatus": (3, INT)})

# DS1-MIB (RFC 4805)
DS1 = MIB2 + (10, 18)
_add("DS1-MIB", DS1 + (6, 1), {
    "dsx1LineIndex": (1, INT), "dsx1IfIndex": (2, INT), "dsx1TimeElapsed": (3, INT), "dsx1ValidIntervals": (4, INT),
    "dsx1LineType": (5, INT), "dsx1LineCoding": (6, INT), "dsx1SendCode": (7, INT),
    "dsx1CircuitIdentifier": (8, STR), "dsx1LoopbackConfig": (9, INT), "dsx1LineStatus": (10, INT),
    "dsx1SignalMode": (11, INT), "dsx1TransmitClockSource": (12, INT), "dsx1Fdl": (13, INT),
    "dsx1InvalidIntervals": (14, INT), "dsx1LineLength": (15, INT), "dsx1LineStatusLastChange": (16, TICKS),
    "dsx1LineStatusChangeTrapEnable": (17, INT), "dsx1LoopbackStatus": (18, INT),
    "dsx1Ds1ChannelNumber": (19, INT), "dsx1Channelization": (20, INT), "dsx1LineMode": (21, INT),
    "dsx1LineBuildOut": (22, INT), "dsx1LineImpedance": (23, INT),
})
PERF = ("ESs", "SESs", "SEFSs", "UASs", "CSSs", "PCVs", "LESs", "BESs", "DMs", "LCVs")
PERF_KEYS = ("es", "ses", "sefs", "uas", "css", "pcv", "les", "bes", "dm", "lcv")  # the status document's names
_add("DS1-MIB", DS1 + (7, 1), {"dsx1CurrentIndex": (1, INT), **{f"dsx1Current{p}": (2 + i, GAUGE)
                                                               for i, p in enumerate(PERF)}})
_add("DS1-MIB", DS1 + (8, 1), {"dsx1IntervalIndex": (1, INT), "dsx1IntervalNumber": (2, INT),
                               **{f"dsx1Interval{p}": (3 + i, GAUGE) for i, p in enumerate(PERF)},
                               "dsx1IntervalValidData": (13, INT)})
_add("DS1-MIB", DS1 + (9, 1), {"dsx1TotalIndex": (1, INT), **{f"dsx1Total{p}": (2 + i, GAUGE)
                                                             for i, p in enumerate(PERF)}})
_add("DS1-MIB", DS1 + (15, 0), {"dsx1LineStatusChange": (1, None)})

# NPAC-APPLIANCE-MIB (snmp/mibs/NPAC-APPLIANCE-MIB.txt)
NPAC = (1, 3, 6, 1, 4, 1, 32473, 1)
NPAC_OBJECTS = NPAC + (1,)
NPAC_MODULE = "NPAC-APPLIANCE-MIB"
_add(NPAC_MODULE, NPAC + (3,), {"npacSmsAppliance": (1, None)})
_add(NPAC_MODULE, NPAC + (2, 1), {"npacApplianceCompliance": (1, None)})
_add(NPAC_MODULE, NPAC_OBJECTS + (1,), {
    "npacNodeName": (1, STR), "npacNodeSystemId": (2, STR), "npacNodeRole": (3, INT), "npacNodeEpoch": (4, UINT),
    "npacNodeRoleLastChange": (5, TICKS), "npacNodeStatusReachable": (6, INT), "npacNodeStatusAge": (7, GAUGE),
    "npacNodeSoftwareRevision": (8, STR), "npacNodeStarted": (9, STR),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (2,), {"npacPeerName": (1, STR), "npacPeerRole": (2, INT), "npacPeerState": (3, INT)})
_add(NPAC_MODULE, NPAC_OBJECTS + (2, 4, 1), {
    "npacHbPathName": (2, STR), "npacHbPathState": (3, INT), "npacHbPathLastHeard": (4, GAUGE),
    "npacHbPathLosses": (5, C32), "npacHbPathLastChange": (6, TICKS),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (3,), {
    "npacReplMode": (1, INT), "npacReplLagRows": (2, GAUGE), "npacReplLagSeconds": (3, GAUGE),
    "npacReplLastSequence": (4, C64),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (4,), {"npacAssocCount": (1, GAUGE)})
_add(NPAC_MODULE, NPAC_OBJECTS + (4, 2, 1), {"npacAssocCarrierCount": (3, GAUGE),
                                             "npacAssocCarrierLastEstablished": (4, STR)})
_add(NPAC_MODULE, NPAC_OBJECTS + (4, 3, 1), {
    "npacAssocSystemId": (2, STR), "npacAssocSystemType": (3, INT), "npacAssocPeerAddressType": (4, INT),
    "npacAssocPeerAddress": (5, STR), "npacAssocPeerPort": (6, UINT), "npacAssocEstablished": (7, STR),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (5,), {
    "npacSlMonth": (1, STR), "npacSlAvailability": (2, UINT), "npacSlAckTimeP95": (3, UINT),
    "npacSlBroadcastTimeMean": (4, UINT), "npacSlBreachSlr": (6, UINT), "npacSlBreachCarrierId": (7, STR),
    "npacSlBreachValue": (8, UINT), "npacSlBreachObjective": (9, UINT),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (5, 5, 1), {
    "npacSlCarrierSoaTps": (2, GAUGE), "npacSlCarrierLsmsTps": (3, GAUGE), "npacSlCarrierAvailability": (4, UINT),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (6,), {"npacSelfCheckLastRun": (1, STR), "npacSelfCheckFailures": (2, GAUGE)})
_add(NPAC_MODULE, NPAC_OBJECTS + (6, 3, 1), {
    "npacSelfCheckName": (2, STR), "npacSelfCheckComponent": (3, STR), "npacSelfCheckStatus": (4, INT),
    "npacSelfCheckDetail": (5, STR), "npacSelfCheckLastChange": (6, TICKS),
})
_add(NPAC_MODULE, NPAC_OBJECTS + (7,), {
    "npacSecSignatureFailures": (1, C32), "npacSecSequenceFailures": (2, C32), "npacSecTimeFailures": (3, C32),
    "npacSecKeyFailures": (4, C32), "npacSecOtherViolations": (5, C32), "npacSecAssociationsRefused": (6, C32),
    "npacSecLastViolationKind": (7, STR), "npacSecLastViolationSystemId": (8, STR),
    "npacSecLastViolationPeer": (9, STR), "npacSecLastViolationTime": (10, STR),
})
_add(NPAC_MODULE, NPAC + (0,), {
    "npacRoleChange": (1, None), "npacHeartbeatPathLost": (2, None), "npacHeartbeatPathRestored": (3, None),
    "npacSelfCheckFailed": (4, None), "npacSelfCheckCleared": (5, None), "npacSecurityViolation": (6, None),
    "npacServiceLevelBreach": (7, None),
})

# Objects with values, and the OID prefixes under which a missing instance is noSuchInstance
VALUE_OBJECTS = {o.oid: o for o in OBJECTS.values() if o.syntax is not None}

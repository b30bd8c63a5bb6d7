"""IF-MIB (RFC 2863) and DS1-MIB (RFC 4805) rows for the links the agent has observed.

One ifTable row per carrier DS-1, per DS-0 channel group (ifType ds0Bundle, stacked on its DS-1 in
ifStackTable) and per interconnect path. DS-1 lines also get their dsx1ConfigTable, CurrentTable,
IntervalTable and TotalTable rows, indexed by the line's ifIndex.
"""
from __future__ import annotations

from appliance.status import Link
from snmp.instrum import SnapshotBuilder
from snmp.model import Observed, Tracker
from snmp.oids import PERF, PERF_KEYS

IF_TYPE = {"ds1": 18, "ds0": 82, "ethernet": 6, "serial": 33}
ADMIN = {"up": 1, "down": 2, "testing": 3}
OPER = {"up": 1, "down": 2, "testing": 3, "unknown": 4, "dormant": 5, "notPresent": 6, "lowerLayerDown": 7}
LINE_TYPE = {"other": 1, "esf": 2, "d4": 3, "unframed": 8}
LINE_CODING = {"b8zs": 2, "ami": 5, "other": 6}
LINE_STATUS_BITS = {
    "dsx1NoAlarm": 1, "dsx1RcvFarEndLOF": 2, "dsx1XmtFarEndLOF": 4, "dsx1RcvAIS": 8, "dsx1XmtAIS": 16,
    "dsx1LossOfFrame": 32, "dsx1LossOfSignal": 64, "dsx1LoopbackState": 128, "dsx1T16AIS": 256,
    "dsx1RcvFarEndLOMF": 512, "dsx1XmtFarEndLOMF": 1024, "dsx1RcvTestCode": 2048, "dsx1OtherFailure": 4096,
    "dsx1UnavailSigState": 8192, "dsx1NetEquipOOS": 16384, "dsx1RcvPayloadAIS": 32768,
    "dsx1Ds2PerfThreshold": 65536,
}


def if_type(link: Link) -> int:
    if link.kind != "interconnect":
        return IF_TYPE[link.kind]
    return IF_TYPE["serial"] if link.medium == "serial" else IF_TYPE["ethernet"]


def line_status(names: list[str]) -> int:
    """The dsx1LineStatus sum; noAlarm only when no other bit is set (RFC 4805), unknown names count as
    dsx1OtherFailure rather than vanishing."""
    bits = 0
    for name in names:
        bits |= LINE_STATUS_BITS.get(name, LINE_STATUS_BITS["dsx1OtherFailure"])
    return bits & ~1 if bits & ~1 else 1


def add_links(b: SnapshotBuilder, obs: Observed, tracker: Tracker) -> None:
    links = sorted(obs.links, key=lambda link: tracker.if_index(link.name))
    index_of = {link.name: tracker.if_index(link.name) for link in links}
    b.scalar("ifNumber", len(links))
    b.scalar("ifTableLastChange", tracker.table_changed)
    b.scalar("ifStackLastChange", tracker.table_changed)
    children: dict[str, list[int]] = {}
    for link in links:
        if link.parent in index_of:
            children.setdefault(link.parent, []).append(index_of[link.name])
    for link in links:
        i = (index_of[link.name],)
        c = link.counters
        b.cell("ifIndex", i, i[0])
        b.cell("ifDescr", i, link.description or link.name)
        b.cell("ifType", i, if_type(link))
        b.cell("ifMtu", i, 0)  # no packet MTU is reported for these links
        b.cell("ifSpeed", i, min(link.speed, 4294967295))
        b.cell("ifPhysAddress", i, b"")
        b.cell("ifAdminStatus", i, ADMIN.get(link.admin, 1))
        b.cell("ifOperStatus", i, OPER.get(link.oper, 4))
        b.cell("ifLastChange", i, tracker.changed.get(("if", link.name), 0))
        for column, value in (("ifInOctets", c.in_octets), ("ifInUcastPkts", c.in_packets),
                              ("ifInDiscards", c.in_discards), ("ifInErrors", c.in_errors), ("ifInUnknownProtos", 0),
                              ("ifOutOctets", c.out_octets), ("ifOutUcastPkts", c.out_packets),
                              ("ifOutDiscards", c.out_discards), ("ifOutErrors", c.out_errors)):
            b.cell(column, i, value)
        b.cell("ifName", i, link.name)
        b.cell("ifHCInOctets", i, c.in_octets)
        b.cell("ifHCInUcastPkts", i, c.in_packets)
        b.cell("ifHCOutOctets", i, c.out_octets)
        b.cell("ifHCOutUcastPkts", i, c.out_packets)
        b.cell("ifLinkUpDownTrapEnable", i, 1)
        b.cell("ifHighSpeed", i, round(link.speed / 1_000_000))
        b.cell("ifPromiscuousMode", i, 2)
        b.cell("ifConnectorPresent", i, 2 if link.kind == "ds0" else 1)
        b.cell("ifAlias", i, f"carrier {link.carrier}" if link.carrier else "")
        b.cell("ifCounterDiscontinuityTime", i, tracker.changed.get(("ifcounters", link.name), 0))
        # ifStackTable: who rides on whom; 0 marks the top and the bottom of a stack
        lower = index_of.get(link.parent, 0)
        b.cell("ifStackStatus", (i[0], lower), 1)
        if link.name not in children:
            b.cell("ifStackStatus", (0, i[0]), 1)
        if link.ds1 is not None:
            add_ds1(b, link, i[0], tracker, bool(children.get(link.name)))


def add_ds1(b: SnapshotBuilder, link: Link, index: int, tracker: Tracker, channelized: bool) -> None:
    ds1 = link.ds1
    assert ds1 is not None
    i = (index,)
    status = line_status(ds1.line_status)
    b.cell("dsx1LineIndex", i, index)
    b.cell("dsx1IfIndex", i, index)
    b.cell("dsx1TimeElapsed", i, min(max(ds1.time_elapsed, 0), 899))
    valid = [iv for iv in ds1.intervals if iv.valid and 1 <= iv.number <= 96]
    b.cell("dsx1ValidIntervals", i, len(valid))
    b.cell("dsx1InvalidIntervals", i, min(ds1.invalid_intervals, 96))
    b.cell("dsx1LineType", i, LINE_TYPE.get(ds1.line_type, 1))
    b.cell("dsx1LineCoding", i, LINE_CODING.get(ds1.line_coding, 6))
    b.cell("dsx1CircuitIdentifier", i, ds1.circuit_id)
    b.cell("dsx1LineStatus", i, status)
    # The appliance's own line settings: a CSU on a carrier T1, timed from the network, sending no
    # test code, ANSI T1.403 facility data link on ESF lines.
    looped = bool(status & LINE_STATUS_BITS["dsx1LoopbackState"])
    b.cell("dsx1SendCode", i, 1)
    b.cell("dsx1LoopbackConfig", i, 4 if looped else 1)
    b.cell("dsx1SignalMode", i, 1)
    b.cell("dsx1TransmitClockSource", i, 1)
    b.cell("dsx1Fdl", i, 2 if ds1.line_type == "esf" else 8)
    b.cell("dsx1LineLength", i, 0)
    b.cell("dsx1LineStatusLastChange", i, tracker.changed.get(("ds1", link.name), 0))
    b.cell("dsx1LineStatusChangeTrapEnable", i, 1)
    b.cell("dsx1LoopbackStatus", i, 8 if looped else 1)
    b.cell("dsx1Ds1ChannelNumber", i, 0)
    b.cell("dsx1Channelization", i, 2 if channelized else 1)
    b.cell("dsx1LineMode", i, 1)
    b.cell("dsx1LineBuildOut", i, 5)
    b.cell("dsx1LineImpedance", i, 3)
    b.cell("dsx1CurrentIndex", i, index)
    for perf, key in zip(PERF, PERF_KEYS):
        b.cell(f"dsx1Current{perf}", i, ds1.current.get(key, 0))
    totals = dict.fromkeys(PERF_KEYS, 0)
    for iv in sorted((iv for iv in ds1.intervals if 1 <= iv.number <= 96), key=lambda iv: iv.number):
        j = (index, iv.number)
        b.cell("dsx1IntervalIndex", j, index)
        b.cell("dsx1IntervalNumber", j, iv.number)
        for perf, key in zip(PERF, PERF_KEYS):
            b.cell(f"dsx1Interval{perf}", j, iv.counts.get(key, 0))
            if iv.valid:  # RFC 4805: invalid intervals count as 0 in the totals
                totals[key] += iv.counts.get(key, 0)
        b.cell("dsx1IntervalValidData", j, 1 if iv.valid else 2)
    b.cell("dsx1TotalIndex", i, index)
    for perf, key in zip(PERF, PERF_KEYS):
        b.cell(f"dsx1Total{perf}", i, totals[key])

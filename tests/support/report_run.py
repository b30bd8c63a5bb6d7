"""A known month of service recorded through the meters (injected clock): the figures the report
tests expect are derived here, next to what produced them.

Timeline (GMT):
- 2026-02-28 22:00 node in service; 23:00 SOA 0001 sends 20 actions of 300 ms (the prior month).
- 2026-03-01 00:00 SOA 0001 and LSMS 0002 associated.
- 03-02 10:00 SOA 0001: 90 actions of 200 ms, 10 of 2 500 ms, 10 queries of 5 000 ms, 2 refused
  edits of 50 ms; the NPAC sends LSMS 0002 40 requests of 40 ms and 10 of 150 ms.
- 03-03: two activation broadcasts of 30 s and 50 s, one modify broadcast of 90 s; 0001 activates
  3 TNs (one range) and creates 2.
- 03-05 00:00-01:00 SOA 0001's association down (interface unavailability, 1 h).
- 03-10 12:00 last flush, the node dies; 12:30 it is back (unscheduled, 30 min), 0001 associates
  again; an unscheduled outage notice: notified 10 min after, update at 25 min.
- 03-15 cutover 6 min; 03-16 partial restoral 20 h.
- 03-20 02:00-04:00 scheduled routine maintenance announced 03-01 00:00 (19 days ahead).
- a bulk data download for 0001 made at the console (security log);
- trouble tickets: 3 "LSMS timeout", 1 "login refused" (a software problem); one change.
- 04-01 00:00 the run ends (flush, close).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

from appliance.lnp.oids import OIDS
from appliance.lnp.security import LOCAL_SMS
from appliance.npac.effects import Broadcast
from appliance.npac.model import BroadcastOp
from appliance.ops import meter_records as mr
from appliance.ops.meters import Meters, install_meters
from appliance.ops.security_log import SecurityLog
from appliance.osi import cmip
from tests.support.meter_rig import Clock, Conn, Services, associate, committed, disassociate, ms, outgoing, request

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
MARCH, APRIL = ms("2026-03-01 00:00"), ms("2026-04-01 00:00")
CRASH, BACK = ms("2026-03-10 12:00"), ms("2026-03-10 12:30")
SCHEDULED = (ms("2026-03-20 02:00"), ms("2026-03-20 04:00"))
MONTH_MS = APRIL - MARCH
# SLR 1: 30 min down over March less the 2 h of scheduled maintenance
AVAILABILITY = round(100 * (1 - 30 * MINUTE / (MONTH_MS - 2 * HOUR)), 4)
# SLR 7 for 0001: 1 h down over the month less scheduled time and the service outage
INTERFACE_0001 = round(100 * (1 - HOUR / (MONTH_MS - 2 * HOUR - 30 * MINUTE)), 4)


def action(name: str = "subscriptionVersionNewSP-Create") -> cmip.ActionRequest:
    return cmip.ActionRequest(OIDS.object_class("lnpSubscriptions").oid, (), OIDS.action(name).oid)


def query() -> cmip.GetRequest:
    return cmip.GetRequest(OIDS.object_class("subscriptionVersion").oid, ())


def lsms_create() -> cmip.CreateRequest:
    return cmip.CreateRequest(OIDS.object_class("subscriptionVersion").oid, ())


def broadcast(meters: Meters, clock: Clock, version_id: int, kind: str, took_ms: int) -> None:
    version = SimpleNamespace(version_id=version_id, broadcast_kind=kind, broadcast_ms=clock.now)
    committed(meters, version_ids=(version_id,), versions=(version,),
              effects=(Broadcast(version_id, BroadcastOp.CREATE),), operation="subscriptionVersionActivate")
    clock.set(clock.now + took_ms)
    committed(meters, version_ids=(version_id,), versions=(version,), operation="broadcast-complete")


async def record_month(tmp: Path) -> tuple[Services, Clock, Path]:
    clock = Clock(ms("2026-02-28 22:00"))
    services = Services(tmp / "npac.sqlite", clock)
    seclog = SecurityLog(tmp / "security.log", clock=lambda: dt.datetime.fromtimestamp(clock.now / 1000, dt.timezone.utc))
    meters = install_meters(services, node="primary", flush_s=3600)
    await meters.start()
    clock.set(ms("2026-02-28 23:00"))
    soa = Conn("0001")
    for _ in range(20):
        request(meters, clock, soa, action(), 300)
    seclog.record("security-violation", kind="signature", system_id="0009", peer="10.0.0.9:3000")
    clock.set(MARCH)
    associate(meters, soa)
    lsms = Conn("0002", LOCAL_SMS)
    associate(meters, lsms)
    clock.set(ms("2026-03-02 10:00"))
    for took in [200] * 90 + [2500] * 10:
        request(meters, clock, soa, action(), took)
    for _ in range(10):
        request(meters, clock, soa, query(), 5000)
    for _ in range(2):
        request(meters, clock, soa, action(), 50, answer=cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, None))
    for took in [40] * 40 + [150] * 10:
        outgoing(meters, clock, lsms, lsms_create(), took)
    clock.set(ms("2026-03-03 09:00"))
    broadcast(meters, clock, 1, "activate", 30_000)
    broadcast(meters, clock, 2, "activate", 50_000)
    broadcast(meters, clock, 3, "modify", 90_000)
    committed(meters, version_ids=(11, 12, 13), operation="subscriptionVersionActivate", requester="0001")
    committed(meters, version_ids=(14, 15), operation="subscriptionVersionNewSP-Create", requester="0001")
    await meters.flush()
    clock.set(ms("2026-03-05 00:00"))
    await disassociate(soa)
    clock.set(ms("2026-03-05 01:00"))
    soa = Conn("0001")
    associate(meters, soa)
    seclog.record("security-violation", kind="sequence", system_id="0001", peer="10.0.0.1:4000")
    seclog.record("association-refused", system_id="0007", peer="10.0.0.7:4000", reason="unknown systemId")
    seclog.record("association-established", system_id="0001", peer="10.0.0.1:4001")
    seclog.record("operator-action", user="oper", command="bulk.download", arguments={"sp_id": "0001"})
    clock.set(CRASH)
    await meters.flush()
    meters.detach()  # the node dies: no close, nothing more flushed
    meters._task.cancel()
    clock.set(BACK)
    meters = install_meters(services, node="primary", flush_s=3600)
    await meters.start()
    associate(meters, Conn("0001"))
    associate(meters, Conn("0002", LOCAL_SMS))
    meters.record_event(mr.OUTAGE, CRASH, BACK, {"scheduled": False, "notified_ms": CRASH + 10 * MINUTE,
                                                 "updates_ms": [CRASH + 25 * MINUTE], "description": "node restart"})
    meters.record_event(mr.CUTOVER, ms("2026-03-15 08:00"), ms("2026-03-15 08:06"), {"description": "drill"})
    meters.record_event(mr.RESTORAL_PARTIAL, ms("2026-03-16 00:00"), ms("2026-03-16 20:00"))
    meters.record_event(mr.OUTAGE, *SCHEDULED, {"scheduled": True, "routine": True, "notice_ms": MARCH,
                                                "description": "database maintenance"})
    for i in range(3):
        meters.record_event(mr.TROUBLE_TICKET, ms(f"2026-03-0{i + 4} 09:00"), None,
                            {"category": "LSMS timeout", "ticket": f"T-{i + 1}"})
    meters.record_event(mr.TROUBLE_TICKET, ms("2026-03-08 09:00"), None,
                        {"category": "login refused", "problem": "software", "ticket": "T-4", "state": "closed"})
    meters.record_event(mr.CHANGE, ms("2026-03-12 00:00"), None, {"area": "software", "description": "release 1.1"})
    clock.set(APRIL - 1)
    await meters.close()
    clock.set(APRIL)
    return services, clock, tmp / "security.log"

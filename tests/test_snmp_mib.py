"""NPAC-APPLIANCE-MIB and the IETF modules beside it: they compile with pysmi and load in net-snmp,
and the agent's own OID table (snmp/oids.py) agrees with them object by object."""
import hashlib
import json
import re
import subprocess

import pytest
from pysmi.codegen import JsonCodeGen
from pysmi.compiler import MibCompiler
from pysmi.parser import SmiV2Parser
from pysmi.reader import FileReader
from pysmi.searcher import StubSearcher
from pysmi.writer import CallbackWriter

from snmp.oids import OBJECTS
from tests.support.snmp_rig import MIBS, ROOT

MODULES = sorted(p.stem for p in MIBS.glob("*.txt"))


@pytest.fixture(scope="module")
def compiled():
    """Every module, compiled by pysmi to JSON from snmp/mibs alone (no network, no borrowed MIBs)."""
    out: dict[str, dict] = {}
    compiler = MibCompiler(SmiV2Parser(), JsonCodeGen(), CallbackWriter(lambda name, text, ctx: out.update(
        {name: json.loads(text)})))
    compiler.add_sources(FileReader(str(MIBS)))
    compiler.add_searchers(StubSearcher(*JsonCodeGen.baseMibs))
    status = compiler.compile(*MODULES, rebuild=True, genTexts=True)
    return status, out


def test_pysmi_compiles_the_appliance_mib_and_its_imports(compiled):
    status, out = compiled
    failed = {name: str(s) for name, s in status.items() if s not in ("compiled", "untouched")}
    assert not failed
    assert status["NPAC-APPLIANCE-MIB"] == "compiled"
    mib = out["NPAC-APPLIANCE-MIB"]
    assert mib["npacApplianceMIB"]["oid"] == "1.3.6.1.4.1.32473.1"
    described = mib["npacApplianceMIB"]["description"]
    assert "documentation" in described and "32473" in described and "Private Enterprise Number" in described
    assert mib["npacNodeRole"]["syntax"]["type"] == "NpacNodeRole"
    assert mib["NpacNodeRole"]["type"]["constraints"]["enumeration"] == {
        "primaryLive": 1, "standby": 2, "promoting": 3, "fenced": 4, "unknown": 5, "isolated": 6, "draining": 7,
        "handedOver": 8}
    notifications = {k for k, v in mib.items() if isinstance(v, dict) and v.get("class") == "notificationtype"}
    assert notifications == {"npacRoleChange", "npacHeartbeatPathLost", "npacHeartbeatPathRestored",
                             "npacSelfCheckFailed", "npacSelfCheckCleared", "npacSecurityViolation",
                             "npacServiceLevelBreach"}
    writable = [k for k, v in mib.items()
                if isinstance(v, dict) and v.get("maxaccess") in ("read-write", "read-create")]
    assert writable == []


def _translate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["snmptranslate", *args], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "SNMPCONFPATH": "/nonexistent"})


def test_net_snmp_loads_the_mib_as_the_readme_says():
    proc = _translate("-M", "+:snmp/mibs", "-m", "+NPAC-APPLIANCE-MIB", "-Tp", "NPAC-APPLIANCE-MIB::npacApplianceMIB")
    assert proc.returncode == 0, proc.stderr
    assert "+--npacApplianceMIB(1)" in proc.stdout
    for name in ("npacNodeRole(3)", "npacHbPathTable(4)", "npacAssocCarrierTable(2)", "npacSelfCheckTable(3)",
                 "npacServiceLevelBreach(7)"):
        assert name in proc.stdout
    # net-snmp's default MIB list names modules Debian does not ship: that noise is not about ours
    ours = set(MODULES)
    for line in proc.stderr.splitlines():
        assert " snmp/mibs/" not in line and "NPAC" not in line, line
        missing = re.match(r"Cannot find module \((.+?)\)", line)
        assert not (missing and missing.group(1) in ours), line


def test_net_snmp_finds_no_fault_in_the_modules():
    """Alone on its path, with warnings on: only net-snmp's informational macro notes."""
    proc = _translate("-M", "snmp/mibs", "-m", "NPAC-APPLIANCE-MIB:DS1-MIB:IF-MIB", "-Pw", "-Tz")
    assert proc.returncode == 0
    assert [ln for ln in proc.stderr.splitlines() if "parsed and ignored" not in ln] == []


def test_every_served_object_has_the_mibs_oid():
    names = sorted(OBJECTS)
    proc = _translate("-M", "snmp/mibs", "-m", "ALL", "-On", *(f"{OBJECTS[n].module}::{n}" for n in names))
    assert proc.returncode == 0, proc.stderr
    got = proc.stdout.split()
    assert len(got) == len(names)
    wrong = {n: g for n, g in zip(names, got) if g != "." + ".".join(map(str, OBJECTS[n].oid))}
    assert wrong == {}


SNMPV2_TC = {"DisplayString": "OCTET STRING", "PhysAddress": "OCTET STRING", "DateAndTime": "OCTET STRING",
             "TruthValue": "INTEGER", "RowStatus": "INTEGER", "TimeStamp": "TimeTicks", "TestAndIncr": "INTEGER",
             "AutonomousType": "OBJECT IDENTIFIER", "StorageType": "INTEGER"}
BASE = {"INTEGER": "Integer32", "Integer32": "Integer32", "Unsigned32": "Unsigned32", "Gauge32": "Gauge32",
        "Counter32": "Counter32", "Counter64": "Counter64", "OCTET STRING": "OctetString",
        "OBJECT IDENTIFIER": "ObjectIdentifier", "TimeTicks": "TimeTicks"}


def test_every_served_object_has_the_mibs_type(compiled):
    _, out = compiled
    tcs = {name: body["type"]["type"] for mod in out.values() for name, body in mod.items()
           if isinstance(body, dict) and body.get("class") == "textualconvention"}

    def base(t: str) -> str:
        while t not in BASE:
            t = SNMPV2_TC.get(t) or tcs[t]
        return BASE[t]

    checked = 0
    for obj in OBJECTS.values():
        entry = out[obj.module][obj.name]
        assert entry["oid"] == ".".join(map(str, obj.oid)), obj.name
        if obj.syntax is None:
            assert entry["class"] in ("notificationtype", "objectidentity", "modulecompliance"), obj.name
            continue
        assert base(entry["syntax"]["type"]) == obj.syntax.__name__, obj.name
        assert entry["maxaccess"] in ("read-only", "accessible-for-notify", "read-write", "read-create"), obj.name
        checked += 1
    assert checked > 150


def test_the_ietf_modules_are_unmodified_copies():
    listed = dict(re.findall(r"^\| (\S+) \| [^|]+ \| ([0-9a-f]{40}) \|$", (MIBS / "README.md").read_text(), re.M))
    assert set(listed) == set(MODULES) - {"NPAC-APPLIANCE-MIB"}
    for module, blob in listed.items():
        data = (MIBS / f"{module}.txt").read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, module

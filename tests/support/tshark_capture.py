"""A live tshark capture on loopback, and Wireshark's own decode of it, for interop tests.

`LoopbackCapture` runs `tshark -i lo` for one TCP port. "Capturing on 'Loopback: lo'" on tshark's
stderr comes before dumpcap really captures (a conversation started right after it was missed
whole on the build machine), so readiness is proven instead: UDP probes to a port of our own,
inside the capture filter, are sent until tshark prints one. Stopping works the same way: a last
probe is sent and seen, so everything before it is in the file, then tshark gets SIGINT.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

START_PROBE = b"capture-start"
STOP_PROBE = b"capture-stop"


def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise AssertionError("tshark is not installed; the interop tests need it (CI: apt-get install tshark)")
    return path


class LoopbackCapture:
    """`with LoopbackCapture(path, port):` captures TCP `port` on lo into `path` (pcapng)."""

    def __init__(self, path: str | Path, tcp_port: int, timeout: float = 20.0):
        self.path = Path(path)
        self.tcp_port = tcp_port
        self.timeout = timeout
        self._probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._probe.bind(("127.0.0.1", 0))
        self.probe_port = self._probe.getsockname()[1]
        self._proc: subprocess.Popen | None = None
        self._seen = b""
        self._stderr_path = self.path.with_suffix(".tshark.log")

    def __enter__(self) -> "LoopbackCapture":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop(check=exc[0] is None)

    def start(self) -> None:
        # -P -T fields: besides writing the file, print each packet's UDP payload, so that the
        # probes show when the capture is live (and when it has caught up at the end).
        self._stderr = open(self._stderr_path, "wb")
        self._proc = subprocess.Popen(
            [tshark(), "-i", "lo", "-f", f"tcp port {self.tcp_port} or udp port {self.probe_port}",
             "-w", str(self.path), "-P", "-l", "-T", "fields", "-e", "data.data"],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
        )
        self._wait_for(START_PROBE, resend=True)

    def stop(self, check: bool = True) -> None:
        if self._proc is None:
            return
        try:
            if check and self._proc.poll() is None:
                self._wait_for(STOP_PROBE, resend=False)
        finally:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc.stdout.close()
            self._stderr.close()
            self._probe.close()
            self._proc = None

    def _wait_for(self, payload: bytes, resend: bool) -> None:
        marker = payload.hex().encode()
        deadline = time.monotonic() + self.timeout
        self._probe.sendto(payload, ("127.0.0.1", self.probe_port))
        fd = self._proc.stdout.fileno()
        while marker not in self._seen:
            if self._proc.poll() is not None:
                raise AssertionError(f"tshark exited ({self._proc.returncode}): {self._log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"tshark did not see its probe within {self.timeout} s: {self._log()}")
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                self._seen += os.read(fd, 65536)
            elif resend:
                self._probe.sendto(payload, ("127.0.0.1", self.probe_port))

    def _log(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text(errors="replace").strip()


# ------------------------------------------------------------------------------------ decoding
@dataclass
class Packet:
    """One frame of a PDML decode: its protocol stack, and each protocol layer (a frame may hold
    several CMIP PDUs) with its fields in order as (name, show, showname)."""

    number: int
    protocols: list[str]
    layers: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)
    src_port: int | None = None

    def fields(self, proto: str | None = None) -> list[tuple[str, str, str]]:
        return [f for name, fields in self.layers if proto in (None, name) for f in fields]

    def values(self, name: str) -> list[str]:
        return [show for n, show, _ in self.fields() if n == name]


def decode_options(tcp_port: int, oid_syntaxes: dict[str, str] | None = None) -> list[str]:
    """tshark options: TPKT on `tcp_port`, and a syntax for each OID Wireshark has no dissector
    for (its "oid" UAT; "ASN.1" is its generic BER decoder), since it warns "Dissector for OID not
    implemented" otherwise."""
    args = ["-2", "-o", f"tpkt.tcp.port:{tcp_port}", "-o", "tcp.analyze_sequence_numbers:TRUE"]
    for oid, syntax in (oid_syntaxes or {}).items():
        args += ["-o", f'uat:oid:"{oid}","lnp","{syntax}"']
    return args


def run_tshark(path: str | Path, options: list[str], *extra: str) -> str:
    result = subprocess.run([tshark(), "-r", str(path), *options, *extra], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"tshark -r failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def pdml(path: str | Path, options: list[str], display_filter: str = "tcp") -> list[Packet]:
    """Wireshark's decode of the capture (two passes), one `Packet` per frame matching the filter."""
    root = ET.fromstring(run_tshark(path, options, "-Y", display_filter, "-T", "pdml"))
    packets = []
    for node in root.iter("packet"):
        protos = node.findall("proto")
        number = int(next(f.get("show") for f in node.iter("field") if f.get("name") == "frame.number"))
        stack = next((f.get("show") for f in node.iter("field") if f.get("name") == "frame.protocols"), "")
        packet = Packet(number, stack.split(":"))
        for proto in protos:
            fields = [(f.get("name") or "", f.get("show") or "", f.get("showname") or "") for f in proto.iter("field")]
            packet.layers.append((proto.get("name") or "", fields))
            if proto.get("name") == "tcp":
                packet.src_port = int(next(show for n, show, _ in fields if n == "tcp.srcport"))
        packets.append(packet)
    return packets

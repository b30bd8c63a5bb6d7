"""Test helpers: write OSI-over-TCP conversations to a classic pcap and check tshark's decode.

`TcpConversation` builds Ethernet/IPv4/TCP frames (3-way handshake, correct sequence numbers and
checksums) so tshark's TCP analysis stays quiet and only the OSI dissectors can complain.
`tpkt`, `cotp_*` and `spdu_*` hand-build the lower framing, so a test of one layer does not
depend on the modules that own the others.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
ISO_TSAP_PORT = 102


# ------------------------------------------------------------------------------ pcap + TCP/IP
def write_pcap(path: str | Path, frames: Iterable[bytes], linktype: int = LINKTYPE_ETHERNET) -> Path:
    """Classic pcap (microsecond timestamps), one record per frame, 1 ms apart."""
    path = Path(path)
    out = [struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, linktype)]
    for i, frame in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000, i * 1000, len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


class TcpConversation:
    """One TCP connection between a client and port 102, as Ethernet frames."""

    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01

    def __init__(
        self, client: tuple[str, int] = ("10.0.0.1", 40102), server: tuple[str, int] = ("10.0.0.2", ISO_TSAP_PORT)
    ):
        self.client, self.server = client, server
        self.seq = {True: 1000, False: 5000}  # keyed by "from client"
        self.frames: list[bytes] = []
        self._ip_id = 1
        self._segment(True, self.SYN, b"")
        self.seq[True] += 1
        self._segment(False, self.SYN | self.ACK, b"")
        self.seq[False] += 1
        self._segment(True, self.ACK, b"")

    def _segment(self, from_client: bool, flags: int, payload: bytes) -> None:
        (sip, sport), (dip, dport) = (self.client, self.server) if from_client else (self.server, self.client)
        ack = self.seq[not from_client] if flags & self.ACK else 0
        tcp = struct.pack("!HHIIBBHHH", sport, dport, self.seq[from_client], ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = _ip(sip) + _ip(dip) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp + payload)) + tcp[18:]
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), self._ip_id, 0x4000, 64, 6, 0, _ip(sip), _ip(dip)
        )
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        self._ip_id += 1
        mac_c, mac_s = b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02"
        eth = (mac_s + mac_c if from_client else mac_c + mac_s) + b"\x08\x00"
        self.frames.append(eth + ip + tcp + payload)

    def send(self, from_client: bool, payload: bytes) -> None:
        """One data segment (PSH/ACK); payloads over 60000 octets are split."""
        for i in range(0, len(payload), 60000):
            chunk = payload[i:i + 60000]
            self._segment(from_client, self.PSH | self.ACK, chunk)
            self.seq[from_client] += len(chunk)

    def write(self, path: str | Path) -> Path:
        return write_pcap(path, self.frames)


# ------------------------------------------------------------------ RFC 1006 / ISO 8073 class 0
def tpkt(tpdu: bytes) -> bytes:
    return struct.pack("!BBH", 3, 0, len(tpdu) + 4) + tpdu


def cotp_cr(src_ref: int = 1, tpdu_size_code: int = 0x0B) -> bytes:
    body = struct.pack("!BHHB", 0xE0, 0, src_ref, 0) + bytes((0xC0, 1, tpdu_size_code))
    return tpkt(bytes((len(body),)) + body)


def cotp_cc(dst_ref: int = 1, src_ref: int = 2, tpdu_size_code: int = 0x0B) -> bytes:
    body = struct.pack("!BHHB", 0xD0, dst_ref, src_ref, 0) + bytes((0xC0, 1, tpdu_size_code))
    return tpkt(bytes((len(body),)) + body)


def cotp_dt(tsdu: bytes) -> bytes:
    """One DT TPDU with EOT (tests keep TSDUs under the 65531-octet TPKT limit)."""
    return tpkt(b"\x02\xf0\x80" + tsdu)


# ------------------------------------------------------------------------ ISO 8327 session SPDUs
def _li(n: int) -> bytes:
    return bytes((n,)) if n < 255 else b"\xff" + struct.pack("!H", n)


def _param(code: int, value: bytes) -> bytes:
    return bytes((code,)) + _li(len(value)) + value


def _spdu(si: int, params: bytes) -> bytes:
    return bytes((si,)) + _li(len(params)) + params


def _connect_items(version: int) -> bytes:
    # PGI 5: protocol options 0, version; PI 20 session user requirements = duplex
    return _param(5, _param(19, b"\x00") + _param(22, bytes((version,)))) + _param(20, b"\x00\x02")


def _user_data_param(ud: bytes) -> bytes:
    return _param(193 if len(ud) <= 512 else 194, ud)


def spdu_cn(ud: bytes) -> bytes:
    return _spdu(13, _connect_items(2) + _user_data_param(ud))


def spdu_ac(ud: bytes) -> bytes:
    return _spdu(14, _connect_items(2) + _user_data_param(ud))


def spdu_rf(ud: bytes) -> bytes:
    # PI 50 reason: 2 = rejected with user data following
    return _spdu(12, _param(20, b"\x00\x02") + _param(50, b"\x02" + ud))


def spdu_dt(ud: bytes) -> bytes:
    """Category-0 concatenation: GIVE TOKENS then DATA TRANSFER, then the user information."""
    return b"\x01\x00\x01\x00" + ud


def spdu_fn(ud: bytes) -> bytes:
    return _spdu(9, _param(17, b"\x01") + _user_data_param(ud))


def spdu_dn(ud: bytes) -> bytes:
    return _spdu(10, _user_data_param(ud))


def spdu_ab(ud: bytes) -> bytes:
    return _spdu(25, _param(17, b"\x03") + (_user_data_param(ud) if ud else b""))


def osi_conversation(exchanges: Iterable[tuple[bool, bytes]]) -> TcpConversation:
    """CR/CC, then each (from_client, SPDU bytes) in a DT TPDU."""
    conv = TcpConversation()
    conv.send(True, cotp_cr())
    conv.send(False, cotp_cc())
    for from_client, spdu in exchanges:
        conv.send(from_client, cotp_dt(spdu))
    return conv


# ---------------------------------------------------------------------------------------- tshark
def tshark_path() -> str | None:
    return shutil.which("tshark")


def tshark_verbose(path: str | Path) -> str:
    """`tshark -V` of the capture, with the expert info of every frame."""
    result = subprocess.run(
        [tshark_path() or "tshark", "-r", str(path), "-V", "-o", "tcp.analyze_sequence_numbers:TRUE"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout


def tshark_problems(text: str) -> list[str]:
    """Lines of a -V decode that report malformed packets or expert info above 'Chat'."""
    problems = []
    for line in text.splitlines():
        stripped = line.strip()
        if "Malformed" in stripped or "Dissector bug" in stripped:
            problems.append(stripped)
        elif stripped.startswith("[Expert Info (") and not stripped.startswith("[Expert Info (Chat/"):
            problems.append(stripped)
    return problems

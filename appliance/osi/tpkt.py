"""RFC 1006 framing: one TPKT (`03 00 LL LL` + TPDU) carries one ISO 8073 TPDU over TCP.

The reader is sans-I/O: it is fed whatever TCP delivered and returns the complete TPDUs. It never
buffers more than one TPKT of `max_len` octets, so a peer cannot make it allocate without bound.
"""
from .errors import ProtocolError

LAYER = "tpkt"
VERSION = 3
HEADER_LEN = 4
# RFC 1006 §6: "packet length 16 bits (min=7, max=65535)"; 7 is the header plus the smallest TPDU.
MIN_LEN = 7
MAX_LEN = 65535


def encode(tpdu: bytes) -> bytes:
    """Frame one TPDU (RFC 1006 §6); the length counts the 4-octet header."""
    n = len(tpdu) + HEADER_LEN
    if n > MAX_LEN:
        raise ValueError(f"TPDU of {len(tpdu)} octets does not fit a TPKT")
    return b"\x03\x00" + n.to_bytes(2, "big") + tpdu


def _frame_len(buf: bytes | bytearray, pos: int, max_len: int) -> int:
    """The length announced by the TPKT header at `pos`, checked."""
    if buf[pos] != VERSION:
        raise ProtocolError(LAYER, f"version {buf[pos]} (expected 3)")
    # The reserved octet is not checked: RFC 1006 gives it no meaning and old stacks vary.
    n = (buf[pos + 2] << 8) | buf[pos + 3]
    if n < MIN_LEN:
        raise ProtocolError(LAYER, f"packet length {n} below the minimum of {MIN_LEN}")
    if n > max_len:
        raise ProtocolError(LAYER, f"packet length {n} above the limit of {max_len}")
    return n


class TpktReader:
    """Splits a TCP byte stream into TPDUs (the TPKT payloads)."""

    __slots__ = ("max_len", "_buf", "_need")

    def __init__(self, max_len: int = MAX_LEN):
        if not MIN_LEN <= max_len <= MAX_LEN:
            raise ValueError(f"max_len must be in {MIN_LEN}..{MAX_LEN}")
        self.max_len = max_len
        self._buf = bytearray()
        # Octets the partial TPKT in _buf needs before it is worth parsing again; keeps a TPKT
        # that trickles in octet by octet from being re-copied on every feed.
        self._need = HEADER_LEN

    @property
    def buffered(self) -> int:
        """Octets held of an incomplete TPKT."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Every TPDU completed by `data`, in order; a bad header raises ProtocolError."""
        if self._buf:
            self._buf += data
            if len(self._buf) < self._need:
                return []
            data = bytes(self._buf)
            self._buf.clear()
        out: list[bytes] = []
        pos = 0
        end = len(data)
        max_len = self.max_len
        while end - pos >= HEADER_LEN:
            n = _frame_len(data, pos, max_len)
            if end - pos < n:
                self._need = n
                break
            out.append(data[pos + HEADER_LEN : pos + n])
            pos += n
        else:
            self._need = HEADER_LEN
        if pos < end:
            self._buf += data[pos:]
        return out

"""Workstation stand-ins for the pair's interconnect, each with a switch for drills and tests.

`NullModem`: two pty pairs joined master to master. Each node opens one slave (a real tty path,
configured by pyserial like a serial port) and the bytes cross as on a null-modem cable. `cut()`
pulls the cable: bytes are read and dropped, so neither node's writes ever block.

`UdpCable`: a relay for the network heartbeat path. Each node sends its heartbeats to its side of
the cable, which forwards them to the other node's address unless cut.

`TcpRelay`: the replication side of the same interconnect (7410): connections to the relay reach
the target until cut, which drops the ones open and refuses new ones. Cut it with the UdpCable to
lose the interconnect as a whole.

Neither is used on the appliance, where the serial port and the interconnect are real.
"""
from __future__ import annotations

import asyncio
import os
import tty


class NullModem:
    def __init__(self) -> None:
        self._masters: list[int] = []
        self._slaves: list[int] = []
        for _ in range(2):
            master, slave = os.openpty()
            # raw from the start: a pty echoes by default, which would loop heartbeats back
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._masters.append(master)
            self._slaves.append(slave)  # held open so the masters never see EIO between opens
        self.ends = (os.ttyname(self._slaves[0]), os.ttyname(self._slaves[1]))
        self.connected = True
        self.carried = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self._masters[0], self._relay, 0, 1)
        loop.add_reader(self._masters[1], self._relay, 1, 0)

    def _relay(self, src: int, dst: int) -> None:
        try:
            data = os.read(self._masters[src], 4096)
        except (BlockingIOError, OSError):
            return
        if self.connected and data:
            try:
                os.write(self._masters[dst], data)
                self.carried += len(data)
            except BlockingIOError:
                pass  # the far end is not reading: a real line would lose these bytes too

    def cut(self) -> None:
        self.connected = False

    def restore(self) -> None:
        self.connected = True

    def inject(self, end: int, data: bytes) -> None:
        """Line noise (or a forger on the wire) towards the node holding end `end`."""
        os.write(self._masters[end], data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in self._masters:
            loop.remove_reader(fd)
        for fd in self._masters + self._slaves:
            os.close(fd)
        self._masters.clear()
        self._slaves.clear()


class _Side(asyncio.DatagramProtocol):
    def __init__(self, cable: UdpCable, index: int):
        self.cable = cable
        self.index = index
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.cable.forward(self.index, data)


class UdpCable:
    """`sides[i]` is where node i sends; the cable delivers to `targets[1 - i]` (set by `connect`)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.connected = True
        self.carried = 0
        self._sides: list[_Side] = []
        self.targets: list[tuple[str, int] | None] = [None, None]

    async def start(self) -> None:
        for i in range(2):
            self._sides.append(await self._open_side(i))

    async def _open_side(self, index: int) -> _Side:
        side = _Side(self, index)
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: side, local_addr=(self.host, 0))
        return side

    @property
    def sides(self) -> tuple[tuple[str, int], tuple[str, int]]:
        a, b = (s.transport.get_extra_info("sockname")[:2] for s in self._sides if s.transport)
        return a, b

    def connect(self, node0: tuple[str, int], node1: tuple[str, int]) -> None:
        self.targets = [node0, node1]

    def forward(self, index: int, data: bytes) -> None:
        target = self.targets[1 - index]
        out = self._sides[1 - index].transport
        if self.connected and target is not None and out is not None:
            out.sendto(data, target)
            self.carried += 1

    def cut(self) -> None:
        self.connected = False

    def restore(self) -> None:
        self.connected = True

    def close(self) -> None:
        for side in self._sides:
            if side.transport is not None:
                side.transport.close()
        self._sides.clear()


class TcpRelay:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1"):
        self.target = target
        self.host = host
        self.connected = True
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.connected:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._pipes.discard(writer)
            writer.close()

    def cut(self) -> None:
        self.connected = False
        for writer in list(self._pipes):
            transport = writer.transport
            transport.abort()  # no FIN politeness: the line is gone
        self._pipes.clear()

    def restore(self) -> None:
        self.connected = True

    def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()

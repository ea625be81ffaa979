"""Simulator server throughput: ``BlastServer`` and per-message ``conn.send`` vs a bare asyncio writer.

Each case starts a server on 127.0.0.1, a plain-socket client completes the websocket
handshake, sends one frame and counts received bytes until it has every frame (no frame
parsing: the client is not what is measured).  Measured in the same run:

* ``baseline_asyncio``: an ``asyncio`` server writing the same pre-encoded frames in 1 MiB
  chunks with ``drain()`` (no websockets, no simulator);
* ``blast_server``: :class:`rxfeeds.sim.server.BlastServer` (frames encoded once, streamed
  in ~1 MiB chunks with flow control);
* ``conn_send``: a simulator hook calling ``conn.send(text)`` per message (each frame
  encoded by the ``websockets`` package's frame model and written to the transport).

Run: ``python benchmarks/sim_server.py [--frames 1000000] [--repeat 5]``; prints JSON with
the best frames/s per case and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rxfeeds.sim.server import BlastServer, SimConnection, SimServer, encode_frame

FRAME = '{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":12345,"p":"30000.01","q":"0.01000000","m":true}'
END = '{"end":true}'


def client(port: int, path: str, total_bytes: int) -> float:
    """Handshake, send "go", read ``total_bytes`` of frames; returns the seconds from "go" to the last byte."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    got = len(head.split(b"\r\n\r\n", 1)[1])
    mask = os.urandom(4)
    s.sendall(bytes((0x81, 0x80 | 2)) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"go")))
    start = time.perf_counter()
    buf = bytearray(1 << 20)
    while got < total_bytes:
        n = s.recv_into(buf)
        if not n:
            raise RuntimeError(f"closed after {got} of {total_bytes} bytes")
        got += n
    elapsed = time.perf_counter() - start
    s.close()
    return elapsed


def total(frames: int) -> int:
    return frames * len(encode_frame(FRAME)) + len(encode_frame(END))


def run_baseline(frames: int) -> float:
    """A bare asyncio server: accepts, answers the handshake, waits for a frame, writes."""
    port_box: list[int] = []
    loop = asyncio.new_event_loop()
    block = encode_frame(FRAME)
    copies = (1 << 20) // len(block)
    chunk = block * copies

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        await reader.readexactly(8)  # the client's masked "go"
        writer.transport.set_write_buffer_limits(high=4 << 20)
        left = frames
        while left:
            n = min(copies, left)
            writer.write(chunk if n == copies else block * n)
            left -= n
            await writer.drain()
        writer.write(encode_frame(END))
        await writer.drain()
        writer.close()

    async def main() -> asyncio.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_box.append(server.sockets[0].getsockname()[1])
        return server

    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    server = asyncio.run_coroutine_threadsafe(main(), loop).result(10)
    try:
        return client(port_box[0], "/", total(frames))
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)


def run_blast(frames: int) -> float:
    with BlastServer([FRAME], repeat=frames, end_frame=END) as srv:
        return client(srv.port, "/", total(frames))


class SendSim(SimServer):
    """On the first message, sends ``n`` frames with ``conn.send`` (in slices, draining between)."""

    def __init__(self, n: int) -> None:
        super().__init__(tick_interval=None)
        self.n = n

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        self.spawn(self._send(conn))

    async def _send(self, conn: SimConnection) -> None:
        conn.ws.transport.set_write_buffer_limits(high=4 << 20)
        left = self.n
        while left:
            for _ in range(min(10_000, left)):
                conn.send(FRAME)
            left -= min(10_000, left)
            await conn.ws.drain()
        conn.send(END)


def run_send(frames: int) -> float:
    with SendSim(frames) as srv:
        return client(srv.port, "/", total(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases = {"baseline_asyncio": run_baseline, "blast_server": run_blast, "conn_send": run_send}
    best: dict[str, float] = {name: float("inf") for name in cases}
    for _ in range(args.repeat):
        for name, fn in cases.items():  # interleaved: load changes hit every case alike
            best[name] = min(best[name], fn(args.frames))
    rates = {name: args.frames / seconds for name, seconds in best.items()}
    out: dict[str, Any] = {
        "frames": args.frames,
        "frame_bytes": len(encode_frame(FRAME)),
        "frames_per_s": {k: round(v) for k, v in rates.items()},
        "ratio_to_baseline": {k: round(v / rates["baseline_asyncio"], 3) for k, v in rates.items()},
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

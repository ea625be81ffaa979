"""Transport throughput: frames/s received, decoded, routed and delivered, vs plain loops.

A local server (the ``websockets`` package on 127.0.0.1) completes the handshake, waits for
the client's first frame, then writes N pre-encoded ~150-byte text frames straight to its
transport (websockets' per-message ``send()`` would be the bottleneck), then an end marker.

Measured in the same run:

* ``plain_default``: websocket-client ``recv()`` loop with default settings (UTF-8 check on),
  no decoding: the baseline the issue compares against;
* ``plain_no_utf8``: the same loop with ``skip_utf8_validation=True``;
* ``rxfeeds_1_key``: SocketSubject + orjson decode into ``Trade`` events + routing + delivery
  to a subscriber, every frame for one key;
* ``rxfeeds_1000_keys``: the same with 1,000 subscribed keys, frames spread over all of them.

Run: ``python benchmarks/transport.py [--frames 400000] [--repeat 3]``; prints JSON (best of
``repeat`` runs per case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Sequence

import orjson
import websocket
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rxfeeds.codec import BaseCodec, Data, Key, Message
from rxfeeds.events import Trade
from rxfeeds.transport import SocketSubject

END = b'{"end":true}'


def ws_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (server to client)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + payload


def payload_for(symbol: str, i: int) -> bytes:
    body = {
        "ch": "trade",
        "sym": symbol,
        "p": "5541.20000",
        "q": "0.15850568",
        "t": 1534614057.321597,
        "side": "s",
        "id": 100000000 + i,
        "pad": "",
    }
    raw = orjson.dumps(body)
    body["pad"] = "x" * max(0, 150 - len(raw))
    return orjson.dumps(body)


class TradeCodec(BaseCodec):
    """Decodes the benchmark frames into Trade events (realistic per-frame work)."""

    venue = "bench"

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [f'{{"sub":"{key[1]}"}}']

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return []

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        m = orjson.loads(frame)
        if "end" in m:
            return [Data(("end", ""), [Trade("bench", "", 0.0, recv_time, 0.0, 0.0)])]
        sym = m["sym"]
        trade = Trade("bench", sym, m["t"], recv_time, float(m["p"]), float(m["q"]), "sell", m["id"])
        return [Data(("trade", sym), [trade])]


class BlastServer:
    def __init__(self, frames: bytes, count: int, per_chunk: int) -> None:
        self.chunk = frames
        self.count = count
        self.per_chunk = per_chunk
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.stop_future: asyncio.Future[None] | None = None

    def __enter__(self) -> BlastServer:
        self.thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            assert self.stop_future is not None
            self.stop_future.set_result(None)

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(5)

    def _main(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.stop_future = self.loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0, ping_interval=None, max_size=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            await self.stop_future

    async def _handler(self, ws: ServerConnection) -> None:
        await ws.recv()  # the client's first frame says "go"
        transport = ws.transport
        sent = 0
        while sent < self.count:
            transport.write(self.chunk)
            sent += self.per_chunk
            while transport.get_write_buffer_size() > 8 << 20:
                await asyncio.sleep(0.001)
        transport.write(ws_frame(END))
        try:
            await ws.wait_closed()
        except Exception:
            pass


def chunk_of(payloads: list[bytes], per_chunk: int) -> bytes:
    frames = [ws_frame(payloads[i % len(payloads)]) for i in range(per_chunk)]
    return b"".join(frames)


def run_plain(url: str, skip_utf8: bool) -> tuple[int, float]:
    ws = websocket.create_connection(url, skip_utf8_validation=skip_utf8)
    t0 = time.perf_counter()
    ws.send("go")
    n = 0
    while True:
        data = ws.recv()
        if data == END or data == END.decode():
            break
        n += 1
    dt = time.perf_counter() - t0
    ws.close()
    return n, dt


def run_rxfeeds(url: str, symbols: list[str]) -> tuple[int, float]:
    sock = SocketSubject(url, TradeCodec(), ping_interval=None)
    count = 0
    done = threading.Event()

    def on_trade(_: object) -> None:
        nonlocal count
        count += 1

    t0 = time.perf_counter()
    subs = [sock.multiplex(("trade", s), subscribe=()).subscribe(on_trade) for s in symbols]
    # Subscribing the end marker last sends "go": the server starts blasting.
    subs.append(sock.multiplex(("end", ""), subscribe=['"go"']).subscribe(lambda _: done.set()))
    done.wait(120)
    dt = time.perf_counter() - t0
    for d in subs:
        d.dispose()
    sock.close()
    return count, dt


def best(results: list[tuple[int, float]]) -> dict[str, float]:
    n, dt = min(results, key=lambda r: r[1])
    return {"frames": n, "seconds": round(dt, 4), "frames_per_s": round(n / dt)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    per_chunk = 1000
    count = args.frames - args.frames % per_chunk
    one = [payload_for("XBT/USD", i) for i in range(per_chunk)]
    many_syms = [f"S{i:04d}/USD" for i in range(1000)]
    many = [payload_for(many_syms[i], i) for i in range(per_chunk)]
    out: dict[str, object] = {"frames": count, "frame_bytes": len(one[0])}
    with BlastServer(chunk_of(one, per_chunk), count, per_chunk) as srv:
        url = f"ws://127.0.0.1:{srv.port}"
        out["plain_default"] = best([run_plain(url, False) for _ in range(args.repeat)])
        out["plain_no_utf8"] = best([run_plain(url, True) for _ in range(args.repeat)])
        out["rxfeeds_1_key"] = best([run_rxfeeds(url, ["XBT/USD"]) for _ in range(args.repeat)])
    with BlastServer(chunk_of(many, per_chunk), count, per_chunk) as srv:
        url = f"ws://127.0.0.1:{srv.port}"
        out["rxfeeds_1000_keys"] = best([run_rxfeeds(url, many_syms) for _ in range(args.repeat)])
    r1 = out["rxfeeds_1_key"]["frames_per_s"]  # type: ignore[index]
    r1000 = out["rxfeeds_1000_keys"]["frames_per_s"]  # type: ignore[index]
    plain = out["plain_default"]["frames_per_s"]  # type: ignore[index]
    out["ratio_rxfeeds_vs_plain_default"] = round(r1 / plain, 2)
    out["routing_cost_1000_vs_1_key"] = round(r1 / r1000, 3)
    out["targets"] = {
        "rxfeeds_frames_per_s>=100k": r1 >= 100_000,
        "ratio_vs_plain_default>=3": r1 / plain >= 3,
        "routing_1000_keys_within_1.2x": r1 / r1000 <= 1.2,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Transport throughput: frames/s received, decoded, routed and delivered, vs plain loops.

A local server (the ``websockets`` package on 127.0.0.1) completes the handshake, waits for
the client's first frame, then writes N pre-encoded ~150-byte text frames straight to its
transport (websockets' per-message ``send()`` would be the bottleneck), then an end marker.

Measured in the same run:

* ``plain_default``: websocket-client ``recv()`` loop with default settings (UTF-8 check on),
  no decoding: the baseline the issue compares against;
* ``plain_no_utf8``: the same loop with ``skip_utf8_validation=True``;
* ``websockets_sync``: the ``websockets`` package's sync client, a bare ``recv()`` loop (the
  alternative transport issue 20 asks to compare; its reader thread hands every message over);
* ``rxfeeds_1_key``: SocketSubject + orjson decode into ``Trade`` events + routing + delivery
  to a subscriber, every frame for one key;
* ``rxfeeds_1000_keys``: the same with 1,000 subscribed keys, frames spread over all of them.

Run: ``python benchmarks/transport.py [--frames 400000] [--repeat 3]``; prints JSON (best of
``repeat`` runs per case).

Live rates (``--rate 1000,10000,50000``): CPU per frame where wake-ups, not parsing, set the
cost.  A ``websockets`` server in its own process sends ~150-byte frames at a fixed rate, each
stamped with the server's send time, one transport write per frame.  Each client runs in a
fresh process of its own and measures its own process CPU time (every thread) from the first
frame to the end marker, and the latency of every frame (server stamp to the subscriber's
callback):

* ``wsclient``: websocket-client's ``WebSocketApp`` with ``skip_utf8_validation=True``, whose
  ``on_message`` parses the frame with orjson to read the stamp;
* ``rxfeeds``: SocketSubject with its default options, decoding into ``Trade`` events,
  routed and delivered to one subscriber;
* ``websockets``: the ``websockets`` package's sync client (defaults but compression), a bare
  ``recv()`` loop parsing each frame with orjson: the least a transport built on it would cost.

All run ``--repeat`` times per rate, taking turns to go first; the table shows the best (lowest)
CPU per frame and latency percentiles of each, ``ratio`` = rxfeeds CPU / wsclient CPU (bests),
``paired`` = the median over repeats of the same ratio within each back-to-back pair, and
``ws ratio`` = websockets CPU / wsclient CPU (bests).
``--json`` prints the raw figures instead of the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Sequence

import orjson
import websocket
from websockets.asyncio.server import ServerConnection, serve
from websockets.sync.client import connect as ws_sync_connect

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


def run_websockets_sync(url: str) -> tuple[int, float]:
    """The ``websockets`` package's sync client: its reader thread parses the frames and hands
    each message to ``recv()`` on the caller's thread (what a transport on it would read)."""
    with ws_sync_connect(url, compression=None, max_size=None, max_queue=None, ping_interval=None) as ws:
        t0 = time.perf_counter()
        ws.send("go")
        n = 0
        while True:
            data = ws.recv()
            if data == END.decode():
                break
            n += 1
        dt = time.perf_counter() - t0
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


# ---------------------------------------------------------------------------- live rates

RATE_TEMPLATE = (
    b'{"ch":"trade","sym":"XBT/USD","p":"5541.20000","q":"0.15850568","t":%.6f,"side":"s","id":%d,'
    b'"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
)


async def _paced_handler(ws: ServerConnection) -> None:
    """Wait for ``{"rate": R, "n": N}``, then send N stamped frames at R frames/s, then END."""
    order = orjson.loads(await ws.recv())
    rate, total = float(order["rate"]), int(order["n"])
    transport = ws.transport
    clock = time.perf_counter
    stamp = time.time
    t0 = clock()
    sent = 0
    while sent < total:
        due = min(total, int((clock() - t0) * rate) + 1)
        while sent < due:
            transport.write(ws_frame(RATE_TEMPLATE % (stamp(), sent)))
            sent += 1
        # asyncio sleeps in whole milliseconds: at 10k/s and more, frames leave in bursts
        # of several writes, as they do from a venue's gateway.
        await asyncio.sleep(max(0.0, t0 + sent / rate - clock()))
    transport.write(ws_frame(END))
    try:
        await ws.wait_closed()
    except Exception:
        pass


def _paced_server(port_queue: multiprocessing.Queue[int]) -> None:
    async def main() -> None:
        async with serve(_paced_handler, "127.0.0.1", 0, ping_interval=None, max_size=None) as server:
            port_queue.put(server.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


class _Probe:
    """Counts frames and latencies; CPU time from the first frame to the end marker."""

    def __init__(self, total: int) -> None:
        self.lat: list[float] = []
        self.cpu0 = 0.0
        self.cpu1 = 0.0
        self.frames = 0
        self.done = threading.Event()

    def frame(self, sent_at: float) -> None:
        now = time.time()
        if not self.lat:
            self.cpu0 = time.process_time()
        self.lat.append(now - sent_at)

    def end(self) -> None:
        self.cpu1 = time.process_time()
        self.frames = len(self.lat)
        self.done.set()

    def result(self) -> dict[str, float]:
        lat = sorted(self.lat[len(self.lat) // 20 :])  # the first 5 % warm up caches
        n = len(lat)

        def pct(p: float) -> float:
            return round(lat[min(n - 1, int(p * n))] * 1e6, 1)

        # CPU from the first frame to the end marker serves frames 2..N
        per = (self.cpu1 - self.cpu0) / max(1, self.frames - 1)
        cpu = round(per * 1e6, 2)
        return {"frames": self.frames, "cpu_us": cpu, "p50": pct(0.5), "p99": pct(0.99), "p999": pct(0.999)}


def _client_wsclient(url: str, rate: int, total: int, out: multiprocessing.Queue[dict[str, float]]) -> None:
    probe = _Probe(total)
    loads = orjson.loads

    def on_open(app: websocket.WebSocketApp) -> None:
        app.send(json.dumps({"rate": rate, "n": total}))

    def on_message(app: websocket.WebSocketApp, msg: bytes) -> None:
        m = loads(msg)
        if "end" in m:
            probe.end()
            app.close()
        else:
            probe.frame(m["t"])

    app = websocket.WebSocketApp(url, on_open=on_open, on_message=on_message)
    app.run_forever(skip_utf8_validation=True)
    out.put(probe.result())


def _client_websockets(url: str, rate: int, total: int, out: multiprocessing.Queue[dict[str, float]]) -> None:
    probe = _Probe(total)
    loads = orjson.loads
    # Defaults but compression (venues rarely negotiate it) and the message size limit.
    with ws_sync_connect(url, compression=None, max_size=None) as ws:
        ws.send(json.dumps({"rate": rate, "n": total}))
        while True:
            m = loads(ws.recv(decode=False))
            if "end" in m:
                probe.end()
                break
            probe.frame(m["t"])
    out.put(probe.result())


def _client_rxfeeds(url: str, rate: int, total: int, out: multiprocessing.Queue[dict[str, float]]) -> None:
    probe = _Probe(total)
    sock = SocketSubject(url, TradeCodec())  # default options: pings, stale timer
    d1 = sock.multiplex(("trade", "XBT/USD"), subscribe=()).subscribe(lambda t: probe.frame(t.time))
    go = [json.dumps({"rate": rate, "n": total})]
    d2 = sock.multiplex(("end", ""), subscribe=go).subscribe(lambda _: probe.end())
    probe.done.wait(60 + total / rate)
    d1.dispose()
    d2.dispose()
    sock.close()
    out.put(probe.result())


CLIENTS = {"wsclient": _client_wsclient, "rxfeeds": _client_rxfeeds, "websockets": _client_websockets}


def run_rates(rates: list[int], seconds: float, repeat: int) -> dict[str, dict[str, object]]:
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = ctx.Queue()
    server = ctx.Process(target=_paced_server, args=(ports,), daemon=True)
    server.start()
    url = f"ws://127.0.0.1:{ports.get(timeout=30)}"
    out: dict[str, dict[str, object]] = {}
    try:
        for rate in rates:
            total = int(rate * seconds)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
            for i in range(repeat):
                names = list(CLIENTS)
                order = names[i % len(names) :] + names[: i % len(names)]  # each goes first in turn
                for name in order:
                    q: multiprocessing.Queue[dict[str, float]] = ctx.Queue()
                    p = ctx.Process(target=CLIENTS[name], args=(url, rate, total, q))
                    p.start()
                    runs[name].append(q.get(timeout=120 + 2 * seconds))
                    p.join(30)
            row: dict[str, object] = {"frames": total, "runs": runs}
            for name, rs in runs.items():
                row[name] = {k: min(r[k] for r in rs) for k in ("cpu_us", "p50", "p99", "p999")}
            rx, wc = row["rxfeeds"], row["wsclient"]
            row["ratio"] = round(rx["cpu_us"] / wc["cpu_us"], 2)  # type: ignore[index]
            # Each repeat runs the two clients back to back: the median of those paired
            # ratios is less sensitive to a neighbour's load than the ratio of the bests.
            paired = sorted(a["cpu_us"] / b["cpu_us"] for a, b in zip(runs["rxfeeds"], runs["wsclient"], strict=True))
            row["paired_ratio_median"] = round(paired[len(paired) // 2], 2)
            row["websockets_ratio"] = round(row["websockets"]["cpu_us"] / wc["cpu_us"], 2)  # type: ignore[index]
            out[str(rate)] = row
    finally:
        server.terminate()
        server.join(5)
    return out


def print_rate_table(table: dict[str, dict[str, object]], repeat: int) -> None:
    print(f"best of {repeat} runs; CPU = client process time per frame; latency = server stamp to callback;")
    print("ratio = rxfeeds / wsclient CPU (bests); paired = median of the per-repeat ratios;")
    print("websockets = the websockets package's sync client loop (ws ratio = its CPU / wsclient CPU)")
    print()
    head = "| rate/s | rxfeeds CPU µs | wsclient CPU µs | ratio | paired | websockets CPU µs | ws ratio"
    print(head + " | rxfeeds p50/p99/p99.9 µs | wsclient p50/p99/p99.9 | websockets p50/p99/p99.9 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rate, row in table.items():
        rx: dict[str, float] = row["rxfeeds"]  # type: ignore[assignment]
        wc: dict[str, float] = row["wsclient"]  # type: ignore[assignment]
        wsk: dict[str, float] = row["websockets"]  # type: ignore[assignment]

        def lat(r: dict[str, float]) -> str:
            return f"{r['p50']:.0f} / {r['p99']:.0f} / {r['p999']:.0f}"

        cpu = f"{rx['cpu_us']:.1f} | {wc['cpu_us']:.1f} | {row['ratio']:.2f} | {row['paired_ratio_median']:.2f}"
        cpu += f" | {wsk['cpu_us']:.1f} | {row['websockets_ratio']:.2f}"
        print(f"| {int(rate):,} | {cpu} | {lat(rx)} | {lat(wc)} | {lat(wsk)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rate", help="comma-separated frame rates: the live-rate CPU benchmark instead of bulk")
    ap.add_argument("--seconds", type=float, default=4.0, help="duration of each live-rate run")
    ap.add_argument("--json", action="store_true", help="live rates: print JSON, not a table")
    args = ap.parse_args()
    if args.rate:
        rates = [int(r) for r in args.rate.split(",")]
        table = run_rates(rates, args.seconds, args.repeat)
        if args.json:
            print(json.dumps(table, indent=2))
        else:
            print_rate_table(table, args.repeat)
        return
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
        out["websockets_sync"] = best([run_websockets_sync(url) for _ in range(args.repeat)])
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
        "rxfeeds_frames_per_s>=200k": r1 >= 200_000,
        "ratio_vs_plain_default>=3": r1 / plain >= 3,
        "routing_1000_keys_within_1.2x": r1 / r1000 <= 1.2,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

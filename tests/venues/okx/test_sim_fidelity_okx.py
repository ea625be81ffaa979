"""OKX simulator fidelity, over real sockets: its frames have the shapes of the real capture's, its
checksums and ``seqId`` chain follow OKX's documented rules when recomputed independently (no
codec involved), and it answers errors, unsubscribes and wrong paths as OKX does."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from rxfeeds.sim.okx import OKXSim

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim() -> Iterator[OKXSim]:
    with OKXSim(seed=4, tick_interval=None) as server:
        yield server
        assert server.hook_errors == []


class Raw:
    def __init__(self, sim: OKXSim, url: str | None = None) -> None:
        self.sim = sim
        self.ws = websocket.create_connection(url or sim.url, timeout=10)
        self.got: list[Any] = []

    def send(self, obj: Any) -> None:
        self.ws.send(json.dumps(obj))

    def recv(self) -> Any:
        text = self.ws.recv()
        return text if text == "pong" else json.loads(text)

    def close(self) -> None:
        self.ws.close()


def signed_crc(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's documented checksum, written independently of the project's code."""
    parts = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


def test_book_frames_follow_the_documented_checksum_and_seq_id_rules(sim: OKXSim) -> None:
    raw = Raw(sim)
    try:
        raw.send({"op": "subscribe", "args": [{"channel": "books", "instId": "ETH-USDT-SWAP"}]})
        ack, snap = raw.recv(), raw.recv()
        assert ack == {"event": "subscribe", "arg": {"channel": "books", "instId": "ETH-USDT-SWAP"},
                       "connId": ack["connId"]}  # fmt: skip
        assert snap["action"] == "snapshot" and list(snap["arg"]) == ["channel", "instId"]
        data = snap["data"][0]
        assert set(data) == {"asks", "bids", "ts", "checksum", "prevSeqId", "seqId"} and data["prevSeqId"] == -1
        bids = {b[0]: b for b in data["bids"]}
        asks = {a[0]: a for a in data["asks"]}
        assert len(bids) == len(asks) == 400 and all(len(level) == 4 and level[2] == "0" for level in data["bids"])
        assert data["checksum"] == signed_crc(data["bids"], data["asks"])
        last = data["seqId"]
        for _ in range(30):
            sim.step()
            update = raw.recv()
            assert update["action"] == "update"
            d = update["data"][0]
            assert d["prevSeqId"] == last and d["seqId"] >= last
            last = d["seqId"]
            for side, book in (("bids", bids), ("asks", asks)):
                for level in d[side]:
                    if level[1] == "0":
                        book.pop(level[0], None)
                    else:
                        book[level[0]] = level
            ordered_bids = sorted(bids.values(), key=lambda lv: -float(lv[0]))[:400]
            ordered_asks = sorted(asks.values(), key=lambda lv: float(lv[0]))[:400]
            assert d["checksum"] == signed_crc(ordered_bids, ordered_asks)
        assert len(bids) == len(asks) == 400  # levels leaving the 400 were removed by the venue
    finally:
        raw.close()


@pytest.mark.captures
def test_frames_have_the_real_capture_shapes(sim: OKXSim, captures_dir: Path) -> None:
    real: dict[str, set[str]] = {}
    for line in (captures_dir / "okx-v5-public.dev.capture").read_text().splitlines():
        head, _, frame = line.partition(": ")
        if " " in head or not frame.startswith('{"arg"'):
            continue
        message = json.loads(frame)
        real.setdefault(message["arg"]["channel"], set()).update(message["data"][0])
    raw = Raw(sim)
    try:
        raw.send({"op": "subscribe", "args": [{"channel": c, "instId": "BTC-USDT"} for c in ("tickers", "trades")]})
        mine: dict[str, set[str]] = {}
        while len(mine) < 2:
            sim.step()
            message = raw.recv()
            if "data" in message:
                mine.setdefault(message["arg"]["channel"], set()).update(message["data"][0])
    finally:
        raw.close()
    assert mine["tickers"] == real["tickers"]
    assert real["trades"] <= mine["trades"]  # OKX added "count" after the capture was made


def test_errors_unsubscribe_ping_and_paths(sim: OKXSim) -> None:
    raw = Raw(sim)
    try:
        raw.send({"op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]})  # wrong path
        error = raw.recv()
        assert (
            error["event"] == "error"
            and error["code"] == "60018"
            and "channel:candle1m,instId:BTC-USDT" in error["msg"]
        )
        raw.ws.send("{not json")
        assert raw.recv()["code"] == "60012"
        raw.send({"op": "subscribe", "args": [{"channel": "trades", "instId": "BTC-USDT"}]})
        assert raw.recv()["event"] == "subscribe"
        raw.send({"op": "unsubscribe", "args": [{"channel": "trades", "instId": "BTC-USDT"}]})
        assert raw.recv()["event"] == "unsubscribe"
        raw.ws.send("ping")
        assert raw.recv() == "pong"
    finally:
        raw.close()
    business = Raw(sim, sim.business_url)
    try:
        business.send({"op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT-SWAP"}]})
        assert business.recv()["event"] == "subscribe"
        business.send({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
        assert business.recv()["code"] == "60018"  # books are not on /business
    finally:
        business.close()

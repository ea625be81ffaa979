"""Kraken truth for the tests: an independent book + CRC32, and a raw websocket client.

The book is deliberately different from the library's (Decimal keys, the wire texts kept, sorted on
demand), so the codec, client and simulator tests check against something that shares no code.
"""

from __future__ import annotations

import binascii
import json
from decimal import Decimal
from typing import Any

import websocket

from rxfeeds.events import BookDelta, BookSnapshot


class IndependentBook:
    """A deliberately different book: Decimal keys, texts kept, sorted on demand."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.asks: dict[Decimal, tuple[str, str]] = {}
        self.bids: dict[Decimal, tuple[str, str]] = {}

    def apply(self, side: dict[Decimal, tuple[str, str]], levels: list[list[str]]) -> None:
        for level in levels:
            price = Decimal(level[0])
            if Decimal(level[1]) == 0:
                side.pop(price, None)
            else:
                side[price] = (level[0], level[1])

    def truncate(self) -> None:
        for side, reverse in ((self.asks, False), (self.bids, True)):
            for price in sorted(side, reverse=reverse)[self.depth :]:
                del side[price]

    def crc(self) -> int:
        def digits(text: str) -> str:
            out = "".join(ch for ch in text if ch != ".")
            while out.startswith("0"):
                out = out[1:]
            return out

        chunks = []
        for price in sorted(self.asks)[:10]:
            chunks += [digits(t) for t in self.asks[price]]
        for price in sorted(self.bids, reverse=True)[:10]:
            chunks += [digits(t) for t in self.bids[price]]
        return binascii.crc32("".join(chunks).encode()) & 0xFFFFFFFF


def rebuild(events: list[Any], depth: int) -> tuple[dict[str, IndependentBook], int]:
    """Independent books from a client's book events (reset at each snapshot); books and #verified.

    Every update's checksum is checked; a snapshot's when it carries one (v2 does, v1 does not:
    the next update checks it).
    """
    books: dict[str, IndependentBook] = {}
    verified = 0
    for e in events:
        if isinstance(e, BookSnapshot):
            books[e.symbol] = IndependentBook(depth)
        elif not isinstance(e, BookDelta):
            continue
        book = books[e.symbol]
        book.apply(book.asks, [[lv[2], lv[3]] for lv in e.asks])
        book.apply(book.bids, [[lv[2], lv[3]] for lv in e.bids])
        book.truncate()
        if isinstance(e, BookDelta) or e.checksum is not None:
            assert e.checksum == book.crc(), e
            verified += 1
    return books, verified


def same_as_truth(book: IndependentBook, truth: Any) -> bool:
    bids = [book.bids[p] for p in sorted(book.bids, reverse=True)]
    asks = [book.asks[p] for p in sorted(book.asks)]
    return bids == [(lv[2], lv[3]) for lv in truth.bids] and asks == [(lv[2], lv[3]) for lv in truth.asks]


class RawClient:
    """A blocking websocket-client connection speaking JSON."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)
        self.ping_id = 1000

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self) -> Any:
        return json.loads(self.ws.recv(), parse_float=Decimal)

    def sync(self, v2: bool = False) -> list[Any]:
        """Ping and collect every message until the pong."""
        self.ping_id += 1
        self.send({"method": "ping", "req_id": self.ping_id} if v2 else {"event": "ping", "reqid": self.ping_id})
        out: list[Any] = []
        while True:
            message = self.recv()
            if isinstance(message, dict) and message.get("event" if not v2 else "method") == "pong":
                assert message.get("reqid" if not v2 else "req_id") == self.ping_id
                return out
            out.append(message)

    def close(self) -> None:
        self.ws.close()


def v1_books(messages: list[Any], books: dict[tuple[str, str], IndependentBook], depths: dict[str, int]) -> int:
    """Apply v1 book frames to independent books; returns how many checksums were verified."""
    verified = 0
    for m in messages:
        if not isinstance(m, list) or not m[-2].startswith("book-"):
            continue
        key = (m[-2], m[-1])
        payload = m[1:-2]
        if "as" in payload[0] or "bs" in payload[0]:
            book = books[key] = IndependentBook(depths[m[-2]])
            book.apply(book.asks, payload[0].get("as", []))
            book.apply(book.bids, payload[0].get("bs", []))
            assert all("c" not in part for part in payload)  # v1 snapshots carry no checksum
            continue
        book = books[key]
        for part in payload:
            book.apply(book.asks, part.get("a", []))
            book.apply(book.bids, part.get("b", []))
        book.truncate()
        assert "c" in payload[-1]
        assert int(payload[-1]["c"]) == book.crc()
        # the venue's matching engine never leaves a book crossed between two messages
        assert not (book.bids and book.asks and max(book.bids) >= min(book.asks)), f"crossed after {payload}"
        verified += 1
    return verified


def v2_books(messages: list[Any], books: dict[str, IndependentBook], depth: int) -> int:
    verified = 0
    for m in messages:
        if not isinstance(m, dict) or m.get("channel") != "book":
            continue
        for entry in m["data"]:
            if m["type"] == "snapshot":
                books[entry["symbol"]] = IndependentBook(depth)
            book = books[entry["symbol"]]
            # The JSON number texts, exactly: Decimal keeps trailing zeros, format "f" avoids exponents.
            book.apply(book.asks, [[format(lv["price"], "f"), format(lv["qty"], "f")] for lv in entry["asks"]])
            book.apply(book.bids, [[format(lv["price"], "f"), format(lv["qty"], "f")] for lv in entry["bids"]])
            book.truncate()
            assert entry["checksum"] == book.crc()
            verified += 1
    return verified

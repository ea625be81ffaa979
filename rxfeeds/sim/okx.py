"""OKX v5 public websocket simulator (``/ws/v5/public`` and ``/ws/v5/business``).

Speaks the protocol the OKX documentation describes (``docs/venues/okx.md``), driven by one
:class:`~rxfeeds.sim.market.SyntheticMarket` per instrument:

* ``{"op":"subscribe","args":[{"channel":...,"instId":...}, ...]}`` -> one
  ``{"event":"subscribe","arg":{...},"connId":...}`` per argument; ``unsubscribe`` alike; an
  unknown instrument, a channel on the wrong path (candles live on ``/business``, the rest on
  ``/public``) or a rejected subscription (``faults.reject_subscriptions``) ->
  ``{"event":"error","code":"60018","msg":"Wrong URL or channel:C,instId:I doesn't exist. ..."}``;
  bad JSON or an unknown ``op`` -> ``60012``;
* the text ``ping`` -> ``pong``; a connection that sent nothing and was sent no data for
  ``idle_timeout`` seconds (30 on OKX) is closed with 4004 ``No data received in 30s.``;
* ``books``: 400 levels per side, ``snapshot`` then ``update`` s with the changed levels
  (``[px, sz, "0", orders]`` strings, size ``"0"`` removes, levels leaving the 400 are removed),
  the signed CRC32 ``checksum`` of the top 25 bids and asks interleaved, ``seqId`` and
  ``prevSeqId`` (-1 on a snapshot; equal on an update without change);
* ``books5`` (the whole top five when it changed), ``bbo-tbt`` (when the best levels changed),
  ``trades`` (one per push), ``tickers``,
  and every fixed-length ``candle*`` channel (running candle ``confirm "0"``, then ``"1"`` when it
  closes).

Instruments: any well-formed SPOT ``BTC-USDT``, SWAP ``BTC-USDT-SWAP`` or FUTURES
``BTC-USD-251226`` id (derivative sizes are whole contracts).

Faults (``server.faults``): ``corrupt_checksum(instId)`` sends a wrong checksum on the next
update; ``skip_sequence(instId)`` loses the next book update of that instrument (its changes
are never sent, the following update's ``prevSeqId`` names it); ``reject_subscriptions``; plus
the network faults every simulator has.  ``truth(instId)`` is the venue's 400-level book.

Example:
    >>> import json, websocket
    >>> with OKXSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     _ = ws.send('{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}')
    ...     ack, snap = json.loads(ws.recv()), json.loads(ws.recv())
    ...     _ = ws.send("ping")
    ...     pong = ws.recv()
    ...     ws.close()
    >>> ack["event"], snap["action"], snap["data"][0]["prevSeqId"], len(snap["data"][0]["bids"]), pong
    ('subscribe', 'snapshot', -1, 400, 'pong')
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from decimal import Decimal
from typing import Any, ClassVar, Final

import orjson

from .market import SyntheticMarket
from .server import SimConnection, SimServer

__all__ = ["OKXSim"]

DEPTH: Final = 400
CHECKSUM_DEPTH: Final = 25
#: candle channel suffix -> seconds (the fixed-length ones the simulator serves)
CANDLES: Final = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1H": 3600,
    "2H": 7200,
    "4H": 14400,
    "6H": 21600,
    "12H": 43200,
    "1D": 86400,
}
PUBLIC: Final = ("books", "books5", "bbo-tbt", "trades", "tickers")
_INSTRUMENT: Final = re.compile(r"([A-Z0-9]{1,15})-([A-Z0-9]{1,15})(-SWAP|-\d{6})?")


def _crc(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """OKX's signed CRC32 over the top 25 bids and asks interleaved as ``price:size``."""
    parts: list[str] = []
    for i in range(max(len(bids), len(asks), 0)):
        if i >= CHECKSUM_DEPTH:
            break
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    value = zlib.crc32(":".join(parts).encode())
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


def _quote(m: SyntheticMarket, ticks_units: int) -> str:
    """A quote-currency amount from the market's ``ticks * units`` sum, as plain decimal text."""
    amount = (Decimal(ticks_units) * m.tick_size).scaleb(-m.size_decimals)
    return format(amount.normalize(), "f") if ticks_units else "0"


def _ms(t: float) -> str:
    return str(int(t * 1000))


class _Book:
    """The venue's 400-level view of one instrument: ``ticks -> (price_text, size_text, orders)``."""

    __slots__ = ("asks", "bids", "seq")

    def __init__(self) -> None:
        self.bids: dict[int, tuple[str, str, str]] = {}
        self.asks: dict[int, tuple[str, str, str]] = {}
        self.seq = 0

    def sorted_bids(self) -> list[tuple[str, str, str]]:
        return [self.bids[k] for k in sorted(self.bids, reverse=True)]

    def sorted_asks(self) -> list[tuple[str, str, str]]:
        return [self.asks[k] for k in sorted(self.asks)]

    def checksum(self) -> int:
        return _crc([b[:2] for b in self.sorted_bids()[:25]], [a[:2] for a in self.sorted_asks()[:25]])


class OKXSim(SimServer):
    """OKX v5 public simulator (see the module docstring).

    Args:
        idle_timeout: seconds of silence both ways after which a connection is closed (OKX: 30).
        **options: :class:`~rxfeeds.sim.server.SimServer` options.
    """

    venue: ClassVar[str] = "okx"
    path: ClassVar[str] = "/ws/v5/public"

    def __init__(self, *, idle_timeout: float = 30.0, **options: Any) -> None:
        super().__init__(**options)
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        self.idle_timeout = float(idle_timeout)
        self._books: dict[str, _Book] = {}
        self._seq = 1000  # seqIds are shared by the channels of an instrument, as on OKX
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def business_url(self) -> str:
        """The candle endpoint (``/ws/v5/business``)."""
        return self.url.replace("/public", "/business")

    # ------------------------------------------------------------------ markets

    def market_options(self, symbol: str) -> dict[str, Any]:
        match = _INSTRUMENT.fullmatch(symbol)
        base = match.group(1) if match else ""
        derivative = bool(match and match.group(3))
        mid, tick = {"BTC": ("50000", "0.1"), "ETH": ("3000", "0.01")}.get(base, ("10", "0.001"))
        return {
            "mid": mid,
            "tick_size": tick,
            "size_decimals": 0 if derivative else 8,
            "base_size": 20.0 if derivative else 1.0,
            "levels": 500,
        }

    def _next_seq(self) -> int:
        self._seq += 1 + self._seq % 3  # OKX seqIds increase but not by one
        return self._seq

    def _view(self, inst: str) -> _Book:
        """The current top-400 view of the market (texts and order counts)."""
        m = self.market(inst)
        book = _Book()
        for price, units in m.bids(DEPTH):
            book.bids[price] = (m.price_text(price), m.size_text(units), str(1 + units % 7))
        for price, units in m.asks(DEPTH):
            book.asks[price] = (m.price_text(price), m.size_text(units), str(1 + units % 7))
        return book

    def _book(self, inst: str) -> _Book:
        book = self._books.get(inst)
        if book is None:
            book = self._books[inst] = self._view(inst)
            book.seq = self._next_seq()
            self._record(inst, book)
        return book

    def _record(self, inst: str, book: _Book) -> None:
        self.sent_book(inst).replace([b[:2] for b in book.sorted_bids()], [a[:2] for a in book.sorted_asks()])
        self.record_truth(inst, book.seq)

    # ------------------------------------------------------------------ connections

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["conn_id"] = f"{zlib.crc32(f'{self.seed}:{conn.id}'.encode()):08x}"
        conn.state["seen"] = time.monotonic()
        conn.state["pushed"] = time.monotonic()
        if self._watchdog is None:
            self._watchdog = self.spawn(self._idle_watch())

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 10))
            now = time.monotonic()
            for conn in self.connections:
                if self._stalled:
                    continue
                quiet = now - max(conn.state.get("seen", now), conn.state.get("pushed", now))
                if quiet > self.idle_timeout and not conn.state.get("idle_closed"):
                    conn.state["idle_closed"] = True
                    conn.close(4004, "No data received in 30s.")

    def _send(self, conn: SimConnection, frame: str | bytes, data: bool = True) -> None:
        conn.send(frame)
        if data:
            conn.state["pushed"] = time.monotonic()

    def _reply(self, conn: SimConnection, obj: dict[str, Any]) -> None:
        obj["connId"] = conn.state.get("conn_id", "")
        self._send(conn, orjson.dumps(obj), data=False)

    def _error(self, conn: SimConnection, code: str, msg: str) -> None:
        self._reply(conn, {"event": "error", "code": code, "msg": msg})

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        conn.state["seen"] = time.monotonic()
        if message == "ping":
            conn.send("pong")
            return
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError:
            self._error(conn, "60012", f"Illegal request: {str(message)[:200]}")
            return
        if not isinstance(request, dict) or request.get("op") not in ("subscribe", "unsubscribe"):
            self._error(conn, "60012", f"Illegal request: {str(message)[:200]}")
            return
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            self._error(conn, "60012", f"Illegal request: {str(message)[:200]}")
            return
        for arg in args:
            self._subscription(conn, request["op"], arg)

    def _subscription(self, conn: SimConnection, op: str, arg: dict[str, Any]) -> None:
        channel, inst = arg.get("channel"), arg.get("instId")
        business = conn.path.rstrip("/").endswith("/business")
        candle = isinstance(channel, str) and channel.startswith("candle") and channel[6:] in CANDLES
        known = candle if business else channel in PUBLIC
        if (
            not known
            or not isinstance(inst, str)
            or _INSTRUMENT.fullmatch(inst) is None
            or (op == "subscribe" and self.faults.should_reject(inst))
        ):
            self._error(
                conn,
                "60018",
                f"Wrong URL or channel:{channel},instId:{inst} doesn't exist. Please use the correct URL, "
                "channel and parameters referring to API document.",
            )
            return
        key = (str(channel), inst)
        echo = {"channel": channel, "instId": inst}
        if op == "unsubscribe":
            conn.subscriptions.pop(key, None)
            self._reply(conn, {"event": "unsubscribe", "arg": echo})
            return
        self._reply(conn, {"event": "subscribe", "arg": echo})
        conn.subscriptions[key] = {"candle": None}
        self._initial(conn, key)

    # ------------------------------------------------------------------ pushes

    def _push(self, conn: SimConnection, key: tuple[str, str], data: str, action: str | None = None) -> None:
        head = f'{{"arg":{{"channel":"{key[0]}","instId":"{key[1]}"}},'
        if action is not None:
            head += f'"action":"{action}",'
        self._send(conn, f'{head}"data":[{data}]}}')

    def _initial(self, conn: SimConnection, key: tuple[str, str]) -> None:
        channel, inst = key
        m = self.market(inst)
        now = self.clock()
        if channel == "books":
            book = self._book(inst)
            self._push(conn, key, self._book_item(book.sorted_bids(), book.sorted_asks(), now, book.checksum(),
                                                  book.seq, -1), "snapshot")  # fmt: skip
        elif channel == "books5":
            conn.subscriptions[key]["top"] = (m.bids(5), m.asks(5))
            self._push(conn, key, self._five(inst, m, now))
        elif channel == "bbo-tbt":
            conn.subscriptions[key]["top"] = (m.best_bid(), m.best_ask())
            self._push(conn, key, self._bbo(m, now))
        elif channel == "tickers":
            self._push(conn, key, self._ticker(inst, m, now))
        elif channel.startswith("candle"):
            self._candles(conn, key, m, now)

    @staticmethod
    def _levels(levels: list[tuple[str, str, str]]) -> str:
        return ",".join(f'["{p}","{s}","0","{n}"]' for p, s, n in levels)

    def _book_item(self, bids: Any, asks: Any, now: float, checksum: int, seq: int, prev: int) -> str:
        return (
            f'{{"asks":[{self._levels(asks)}],"bids":[{self._levels(bids)}],"ts":"{_ms(now)}",'
            f'"checksum":{checksum},"prevSeqId":{prev},"seqId":{seq}}}'
        )

    def _five(self, inst: str, m: SyntheticMarket, now: float) -> str:
        bids = [(m.price_text(p), m.size_text(u), str(1 + u % 7)) for p, u in m.bids(5)]
        asks = [(m.price_text(p), m.size_text(u), str(1 + u % 7)) for p, u in m.asks(5)]
        seq = self._books[inst].seq if inst in self._books else self._seq
        return (
            f'{{"asks":[{self._levels(asks)}],"bids":[{self._levels(bids)}],"instId":"{inst}",'
            f'"ts":"{_ms(now)}","seqId":{seq}}}'
        )

    def _bbo(self, m: SyntheticMarket, now: float) -> str:
        bid, ask = m.best_bid(), m.best_ask()
        bids = [(m.price_text(bid[0]), m.size_text(bid[1]), "1")] if bid else []
        asks = [(m.price_text(ask[0]), m.size_text(ask[1]), "1")] if ask else []
        return f'{{"asks":[{self._levels(asks)}],"bids":[{self._levels(bids)}],"ts":"{_ms(now)}","seqId":{self._seq}}}'

    def _ticker(self, inst: str, m: SyntheticMarket, now: float) -> str:
        s = m.ticker()
        spot = not inst.endswith("-SWAP") and _INSTRUMENT.fullmatch(inst) is not None and inst.count("-") == 1
        bid, ask = s.bid or (0, 0), s.ask or (0, 0)
        last = s.last if s.last is not None else bid[0]
        price = m.price_text
        quote = _quote(m, s.quote_volume)
        data = {
            "instType": "SPOT" if spot else ("SWAP" if inst.endswith("-SWAP") else "FUTURES"),
            "instId": inst,
            "last": price(last),
            "lastSz": m.size_text(s.last_size or 0),
            "askPx": price(ask[0]) if s.ask else "",
            "askSz": m.size_text(ask[1]) if s.ask else "",
            "bidPx": price(bid[0]) if s.bid else "",
            "bidSz": m.size_text(bid[1]) if s.bid else "",
            "open24h": price(s.open if s.open is not None else last),
            "high24h": price(s.high if s.high is not None else last),
            "low24h": price(s.low if s.low is not None else last),
            "volCcy24h": quote if spot else m.size_text(s.volume),
            "vol24h": m.size_text(s.volume),
            "sodUtc0": price(last),
            "sodUtc8": price(last),
            "ts": _ms(now),
        }
        return orjson.dumps(data).decode()

    def _candle_row(self, m: SyntheticMarket, c: Any, confirm: str) -> str:
        quote = _quote(m, c.quote_volume)
        row = [
            _ms(c.open_time),
            m.price_text(c.open),
            m.price_text(c.high),
            m.price_text(c.low),
            m.price_text(c.close),
            m.size_text(c.volume),
            quote,
            quote,
            confirm,
        ]
        return orjson.dumps(row).decode()

    def _candles(self, conn: SimConnection, key: tuple[str, str], m: SyntheticMarket, now: float) -> None:
        seconds = CANDLES[key[0][6:]]
        start = now - now % seconds
        state = conn.subscriptions.get(key)
        if state is None:
            return
        candles = {c.open_time: c for c in m.candles(seconds, since=start - seconds)}
        last_open = state["candle"]
        if last_open is not None and start > last_open and last_open in candles:
            self._push(conn, key, self._candle_row(m, candles[last_open], "1"))  # the one that just closed
        current = candles.get(start)
        if current is not None:
            self._push(conn, key, self._candle_row(m, current, "0"))
        state["candle"] = start

    # ------------------------------------------------------------------ market steps

    def on_step(self, symbol: str, market: SyntheticMarket, step: Any) -> None:
        now = step.time
        subs = [(conn, key) for conn in self.connections for key in conn.subscriptions if key[1] == symbol]
        if any(key[0] == "books" for _, key in subs) or symbol in self._books:
            self._book_step(symbol, now, [c for c, k in subs if k[0] == "books"])
        for conn, key in subs:
            channel = key[0]
            if channel == "trades":
                for t in step.trades:
                    item = (
                        f'{{"instId":"{symbol}","tradeId":"{t.id}","px":"{market.price_text(t.price)}",'
                        f'"sz":"{market.size_text(t.size)}","side":"{t.side}","ts":"{_ms(t.time)}","count":"1"}}'
                    )
                    self._push(conn, key, item)
            elif channel in ("books5", "bbo-tbt") and step.changes:
                # pushed only when the levels it shows changed (OKX: "pushed when there is a change")
                top = (
                    (market.bids(5), market.asks(5)) if channel == "books5" else (market.best_bid(), market.best_ask())
                )
                state = conn.subscriptions[key]
                if state.get("top") != top:
                    state["top"] = top
                    self._push(
                        conn, key, self._five(symbol, market, now) if channel == "books5" else self._bbo(market, now)
                    )
            elif channel == "tickers":
                self._push(conn, key, self._ticker(symbol, market, now))
            elif channel.startswith("candle"):
                self._candles(conn, key, market, now)

    def _book_step(self, inst: str, now: float, conns: list[SimConnection]) -> None:
        old = self._book(inst)
        new = self._view(inst)
        bids = [new.bids.get(k) or (old.bids[k][0], "0", "0") for k in sorted(set(old.bids) | set(new.bids),
                reverse=True) if old.bids.get(k) != new.bids.get(k)]  # fmt: skip
        asks = [new.asks.get(k) or (old.asks[k][0], "0", "0") for k in sorted(set(old.asks) | set(new.asks))
                if old.asks.get(k) != new.asks.get(k)]  # fmt: skip
        prev = old.seq
        if not bids and not asks:  # no change: OKX sends an empty update with seqId == prevSeqId
            item = self._book_item([], [], now, old.checksum(), prev, prev)
            for conn in conns:
                self._push(conn, ("books", inst), item, "update")
            return
        new.seq = self._next_seq()
        self._books[inst] = new
        self._record(inst, new)
        if self.faults.take_skip_sequence(inst):
            return  # this update is lost: the next one's prevSeqId names it
        checksum = new.checksum()
        if self.faults.take_corrupt_checksum(inst):
            checksum = checksum ^ 1
        item = self._book_item(bids, asks, now, checksum, new.seq, prev)
        for conn in conns:
            self._push(conn, ("books", inst), item, "update")

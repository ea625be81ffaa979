"""Coinbase Advanced Trade market data codec, sans-I/O (``wss://advanced-trade-ws.coinbase.com``).

One subscribe message per channel and product list; every message the venue sends is an
envelope ``{"channel", "client_id", "timestamp", "sequence_num", "events": [...]}``:

=============================  ==================================  ===================================
key                            frame sent                          events
=============================  ==================================  ===================================
``("level2", P)``              ``subscribe channel=level2 [P]``    BookSnapshot, BookDelta (``l2_data``)
``("market_trades", P)``       ``subscribe channel=market_trades`` Trade (snapshot oldest first)
``("ticker", P)``              ``subscribe channel=ticker``        Ticker
``("candles", P)``             ``subscribe channel=candles``       Kline (``5m``, the only granularity)
=============================  ==================================  ===================================

The first subscribe of every connection also subscribes ``heartbeats``: without it the venue
closes channels that stay quiet for 60-90 s.  Heartbeats become :data:`~rxfeeds.codec.HEARTBEAT`.

Continuity
----------
``sequence_num`` counts **every** message of the connection, all channels together.  Any gap
means a message was lost and no book can be trusted.  The codec turns this into the per-symbol
``sequence`` rule of :mod:`rxfeeds.books.sync`: a book event carries ``sequence = sequence_num``
and a delta ``first_sequence`` = the previous book message of that product + 1 while the
connection has no gap since, else its own ``sequence_num``.  At a gap every
product with a book gets at once an empty :class:`~rxfeeds.events.BookDelta` numbered
``last + 2`` (``last`` = that product's previous book message: one number is visibly missing,
whatever the numbers around), so ``ops.order_book`` reports ``gap`` and resyncs each book
(the client resubscribes it and the venue sends a new snapshot).  The gap is also published on
the notices stream (an :class:`~rxfeeds.events.IntegrityEvent` with an empty symbol).  A
``heartbeat_counter`` that skips a value with no ``sequence_num`` gap seen since the previous
heartbeat is treated the same way, and so is an ``l2_data`` message that cannot be decoded (it
raises :class:`~rxfeeds.errors.FrameError`; the books resync at the next message).

Example:
    >>> codec = CoinbaseCodec()
    >>> [f[:48] for f in codec.subscribe_frames(("level2", "BTC-USD"))]
    ['{"type":"subscribe","product_ids":["BTC-USD"],"c', '{"type":"subscribe","product_ids":["BTC-USD"],"c']
    >>> [m] = codec.decode(b'{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z",'
    ...     b'"sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":['
    ...     b'{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06"},'
    ...     b'{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74",'
    ...     b'"new_quantity":"1.5"}]}]}', 1.0)
    >>> m.key, m.events[0].bids[0][:2], m.events[0].asks[0][:2], m.events[0].sequence
    (('level2', 'BTC-USD'), (21921.73, 0.06), (21921.74, 1.5), 0)
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from ...codec import HEARTBEAT, Ack, BaseCodec, Data, Key, Message, Notice, Rejected
from ...errors import FrameError, InvalidArgument, SubscriptionError, UnknownMessage
from ...events import BookDelta, BookSnapshot, IntegrityEvent, Kline, Level, Ticker, Trade
from ...numeric import DECODE_ERRORS, MAX_PRICE, MAX_SIZE, MAX_TEXT, BadValue, opt_size, price, seconds, size, symbol

__all__ = ["CHANNELS", "CANDLE_SECONDS", "CoinbaseCodec", "JwtProvider", "rfc3339"]

#: key channels (the venue's subscribe names); data arrives as ``l2_data`` for ``level2``
CHANNELS: Final = ("level2", "market_trades", "ticker", "candles")
#: the one candle granularity of the websocket feed
CANDLE_SECONDS: Final = 300

#: a function returning a fresh JWT (Coinbase JWTs expire after two minutes: one per message)
JwtProvider = Callable[[], str]

_fromisoformat = _dt.datetime.fromisoformat


def rfc3339(text: Any) -> float:
    """Epoch seconds of an RFC 3339 time such as ``2023-02-09T20:32:50.714964855Z``.

    Digits beyond microseconds are dropped (``fromisoformat``, C code, reads any number of them
    since Python 3.11).

    Example:
        >>> rfc3339("2023-02-09T20:32:50.5Z")
        1675974770.5
    """
    if type(text) is not str or len(text) > 40:
        raise BadValue(f"time is not an RFC 3339 text: {text!r:.60}")
    return seconds(_fromisoformat(text).timestamp())


def _levels(updates: Any) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """Bids and asks of an ``l2_data`` event; the one loop that runs once per level.

    Only the four-tuple the book keeps is built per level (no per-level event time is parsed:
    the message's own timestamp dates the event).
    """
    bids: list[Level] = []
    asks: list[Level] = []
    bid, ask = bids.append, asks.append
    for u in updates:
        p = u["price_level"]
        q = u["new_quantity"]
        # lengths first (only a str, list or dict has one; float() then refuses the containers)
        if len(p) > MAX_TEXT or len(q) > MAX_TEXT:
            raise BadValue("book number text longer than 40 characters")
        fp = float(p)
        fq = float(q)
        # len() and float() both succeed only for a str among JSON values: no explicit type check
        if not (0.0 < fp < MAX_PRICE and 0.0 <= fq < MAX_SIZE):
            raise BadValue(f"book level out of range: {p!r:.60}, {q!r:.60}")
        side = u["side"]
        if side == "bid":
            bid((fp, fq, p, q))
        elif side == "offer":
            ask((fp, fq, p, q))
        else:
            raise BadValue(f"unknown book side {side!r:.30}")
    return tuple(bids), tuple(asks)


def _side(value: Any) -> Any:
    if value == "BUY":
        return "buy"
    if value == "SELL":
        return "sell"
    if value is None or value == "":
        return None
    raise BadValue(f"unknown trade side {value!r:.30}")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class CoinbaseCodec(BaseCodec):
    """Sans-I/O codec for Coinbase Advanced Trade market data (see the module docstring).

    Args:
        jwt: optional function returning a fresh JWT; when given, every subscribe and
            unsubscribe message carries one (market data needs none; a JWT raises the limits).
        venue: the venue name put in events.

    Attributes:
        gaps: losses seen (``sequence_num`` gaps, heartbeat counter jumps, unreadable book messages).
        missed_heartbeats: heartbeats known lost (counter jumps); both count over the codec's life.

    Example:
        >>> CoinbaseCodec().unsubscribe_frames(("ticker", "ETH-USD"))
        ['{"type":"unsubscribe","product_ids":["ETH-USD"],"channel":"ticker"}']
    """

    venue = "coinbase"

    def __init__(self, jwt: JwtProvider | None = None, *, venue: str = "coinbase") -> None:
        if jwt is not None and not callable(jwt):
            raise InvalidArgument("jwt", "***", "must be a function returning a fresh JWT", secret=True)
        self.venue = venue
        self._jwt = jwt
        self.gaps = 0
        self.missed_heartbeats = 0
        self.reset()

    def __repr__(self) -> str:
        return f"CoinbaseCodec(venue={self.venue!r}, jwt={'***' if self._jwt else None})"

    # -- connection state ---------------------------------------------------------------------

    def reset(self) -> None:
        """A new connection: numbering starts again and heartbeats must be subscribed again."""
        self._last_seq: int | None = None
        self._since = 0  # first sequence_num after the latest gap (continuity holds from here)
        self._book_seq: dict[str, int] = {}  # product -> sequence_num of its last book message
        self._heartbeat: int | None = None
        self._gap_since_heartbeat = False
        self._heartbeats_sent = False
        self._unreadable = False  # a book message failed to decode: treat it as lost
        self._pending: deque[Key] = deque(maxlen=1000)

    # -- frames out ---------------------------------------------------------------------------

    def _frame(self, kind: str, channel: str, products: list[str] | None) -> str:
        body: dict[str, Any] = {"type": kind}
        if products is not None:
            body["product_ids"] = products
        body["channel"] = channel
        if self._jwt is not None:
            body["jwt"] = self._jwt()
        return _dumps(body)

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        channel, product = key
        if channel not in CHANNELS or not product:
            raise InvalidArgument("key", key, f"channel must be one of {', '.join(CHANNELS)}, with a product")
        frames = []
        if not self._heartbeats_sent:
            # alongside the first channel: keeps every subscription of the connection open
            self._heartbeats_sent = True
            frames.append(self._frame("subscribe", "heartbeats", [product]))
        frames.append(self._frame("subscribe", channel, [product]))
        self._pending.append(key)
        return frames

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        channel, product = key
        if channel not in CHANNELS or not product:
            raise InvalidArgument("key", key, f"channel must be one of {', '.join(CHANNELS)}, with a product")
        if channel == "level2":
            self._book_seq.pop(product, None)  # no gap markers for a book nobody keeps
        return [self._frame("unsubscribe", channel, [product])]

    @staticmethod
    def redact(frame: str) -> str:
        """``frame`` with its ``jwt`` masked (recordings and logs never hold the token).

        Example:
            >>> CoinbaseCodec.redact('{"type":"subscribe","channel":"level2","jwt":"eyJ.x.y"}')
            '{"type":"subscribe","channel":"level2","jwt":"***"}'
        """
        if '"jwt"' not in frame:
            return frame
        try:
            body = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return f"<redacted: unparseable frame, {len(frame)} chars>"
        if isinstance(body, dict) and "jwt" in body:
            body["jwt"] = "***"
        return _dumps(body)

    # -- frames in ----------------------------------------------------------------------------

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS:
            raise FrameError("invalid JSON", frame, self.venue) from None
        if type(msg) is not dict:
            raise UnknownMessage("not a JSON object", frame, self.venue)
        channel = msg.get("channel")
        try:
            if channel is None:
                if msg.get("type") == "error":
                    return self._error(msg)
                raise UnknownMessage("no channel", frame, self.venue)
            return self._message(channel, msg, recv_time, frame)
        except (FrameError, *DECODE_ERRORS) as exc:
            if channel == "l2_data" and self._book_seq:
                # a book message that cannot be read is a lost one: the books resync at the next message
                self._unreadable = True
            if isinstance(exc, FrameError):
                raise
            raise FrameError(f"bad message ({type(exc).__name__}: {exc})"[:300], frame, self.venue) from None

    def _message(self, channel: Any, msg: dict[str, Any], recv_time: float, frame: str | bytes) -> list[Message]:
        seq = msg.get("sequence_num")
        if type(seq) is not int or seq < 0:
            raise BadValue(f"sequence_num is not a non-negative integer: {seq!r:.40}")
        events = msg["events"]
        if type(events) is not list:
            raise BadValue("events is not a list")
        out: list[Message] = []
        last = self._last_seq
        stale = last is not None and seq <= last
        if not stale:
            self._last_seq = seq
            if last is not None and seq > last + 1:
                detail = f"sequence_num {last} then {seq}: {seq - last - 1} message(s) lost; every book resyncs"
                self._lost(detail, seq, recv_time, out)
            elif self._unreadable:
                self._lost("a book message could not be decoded; every book resyncs", seq, recv_time, out)
            self._unreadable = False
        if channel == "l2_data":
            self._book(events, seq, rfc3339(msg["timestamp"]), recv_time, out, stale)
        elif channel == "market_trades":
            self._trades(events, recv_time, out)
        elif channel == "ticker":
            self._tickers(events, msg, recv_time, out)
        elif channel == "candles":
            self._candles(events, recv_time, out)
        elif channel == "heartbeats":
            self._heartbeats(events, seq, recv_time, out)
        elif channel == "subscriptions":
            self._subscriptions(events, out)
        else:
            raise UnknownMessage(f"unknown channel {channel!r:.40}", frame, self.venue)
        return out

    def _lost(self, detail: str, seq: int, recv_time: float, out: list[Message]) -> None:
        """Messages before ``seq`` were lost: every book must resync (see the module docstring)."""
        self.gaps += 1
        self._since = seq
        self._gap_since_heartbeat = True
        out.append(Notice(IntegrityEvent(self.venue, "", recv_time, recv_time, kind="gap", detail=detail)))
        self._mark_books(recv_time, out)

    def _mark_books(self, recv_time: float, out: list[Message]) -> None:
        """An empty delta per book whose numbering skips the one after the product's last message,
        so ``ops.order_book`` sees a gap in every book at once, whatever the numbers of the
        messages around (a message that could not be read may not have used one)."""
        venue = self.venue
        for product, last in self._book_seq.items():
            skipped = last + 2
            marker = BookDelta(venue, product, recv_time, recv_time, (), (), skipped, skipped)
            out.append(Data(("level2", product), (marker,)))

    def _book(
        self, events: list[Any], seq: int, when: float, recv_time: float, out: list[Message], stale: bool = False
    ) -> None:
        venue = self.venue
        if len(events) == 1 and not stale:  # the usual message: one product's update
            e = events[0]
            kind = e["type"]
            if kind == "update":
                product = symbol(e["product_id"])
                bids, asks = _levels(e["updates"])
                book_seq = self._book_seq
                before = book_seq.get(product)
                first = before + 1 if before is not None and before >= self._since and before < seq else seq
                book_seq[product] = seq
                delta = BookDelta(venue, product, when, recv_time, bids, asks, seq, first)
                out.append(Data(("level2", product), (delta,)))
                return
        parts: dict[str, list[tuple[bool, tuple[Level, ...], tuple[Level, ...]]]] = {}
        for e in events:
            kind = e["type"]
            if kind != "snapshot" and kind != "update":
                raise BadValue(f"unknown l2_data event type {kind!r:.30}")
            bids, asks = _levels(e["updates"])
            parts.setdefault(symbol(e["product_id"]), []).append((kind == "snapshot", bids, asks))
        if stale:
            return  # an old or repeated book message (checked all the same): applying it could undo newer ones
        for product, items in parts.items():
            # one book event per product and message: they share the message's sequence_num
            snapshot, bids, asks = items[0] if len(items) == 1 else _merged(items)
            if snapshot:
                event: Any = BookSnapshot(venue, product, when, recv_time, bids=bids, asks=asks, sequence=seq)
            else:
                before = self._book_seq.get(product)
                first = before + 1 if before is not None and before >= self._since and before < seq else seq
                event = BookDelta(
                    venue, product, when, recv_time, bids=bids, asks=asks, sequence=seq, first_sequence=first
                )
            self._book_seq[product] = seq
            out.append(Data(("level2", product), (event,)))

    def _trades(self, events: list[Any], recv_time: float, out: list[Message]) -> None:
        venue = self.venue
        by_product: dict[str, list[Trade]] = {}
        for e in events:
            kind = e["type"]
            if kind not in ("snapshot", "update"):
                raise BadValue(f"unknown market_trades event type {kind!r:.30}")
            for t in e["trades"]:
                product = symbol(t["product_id"])
                trade_id = t.get("trade_id")
                if trade_id is not None and type(trade_id) is not str:
                    trade_id = symbol(str(trade_id))
                by_product.setdefault(product, []).append(
                    Trade(
                        venue,
                        product,
                        rfc3339(t["time"]),
                        recv_time,
                        price=price(t["price"]),
                        size=size(t["size"]),
                        side=_side(t.get("side")),
                        trade_id=trade_id,
                    )
                )
        for product, trades in by_product.items():
            if len(trades) > 1:
                trades.sort(key=_trade_order)  # oldest first (a snapshot lists the newest first)
            out.append(Data(("market_trades", product), trades))

    def _tickers(self, events: list[Any], msg: dict[str, Any], recv_time: float, out: list[Message]) -> None:
        venue = self.venue
        when = rfc3339(msg["timestamp"]) if "timestamp" in msg else recv_time
        for e in events:
            for t in e["tickers"]:
                product = symbol(t["product_id"])
                last = t.get("price")
                tick = Ticker(
                    venue,
                    product,
                    when,
                    recv_time,
                    bid=_opt_price(t.get("best_bid")),
                    bid_size=opt_size(t.get("best_bid_quantity")),
                    ask=_opt_price(t.get("best_ask")),
                    ask_size=opt_size(t.get("best_ask_quantity")),
                    last=_opt_price(last),
                    high=_opt_price(t.get("high_24_h")),
                    low=_opt_price(t.get("low_24_h")),
                    volume=opt_size(t.get("volume_24_h")),
                )
                out.append(Data(("ticker", product), (tick,)))

    def _candles(self, events: list[Any], recv_time: float, out: list[Message]) -> None:
        venue = self.venue
        by_product: dict[str, list[Kline]] = {}
        for e in events:
            for c in e["candles"]:
                product = symbol(c["product_id"])
                start_text = c["start"]
                if type(start_text) is not str or not start_text.isdigit() or len(start_text) > 12:
                    raise BadValue(f"candle start is not epoch seconds: {start_text!r:.40}")
                start = seconds(float(start_text))
                end = start + CANDLE_SECONDS
                by_product.setdefault(product, []).append(
                    Kline(
                        venue,
                        product,
                        start,
                        recv_time,
                        interval="5m",
                        open_time=start,
                        close_time=end,
                        open=price(c["open"]),
                        high=price(c["high"]),
                        low=price(c["low"]),
                        close=price(c["close"]),
                        volume=size(c["volume"]),
                        closed=end <= recv_time,
                    )
                )
        for product, candles in by_product.items():
            candles.sort(key=_open_time)  # oldest first, whatever order the venue lists them in
            out.append(Data(("candles", product), candles))

    def _heartbeats(self, events: list[Any], seq: int, recv_time: float, out: list[Message]) -> None:
        for e in events:
            counter = e["heartbeat_counter"]
            if type(counter) is str:
                if not counter.isdigit() or len(counter) > 19:
                    raise BadValue(f"heartbeat_counter is not a count: {counter!r:.40}")
                counter = int(counter)
            elif type(counter) is not int or counter < 0:
                raise BadValue(f"heartbeat_counter is not a count: {counter!r:.40}")
            previous = self._heartbeat
            self._heartbeat = counter
            if previous is not None and counter > previous + 1:
                self.missed_heartbeats += counter - previous - 1
                if not self._gap_since_heartbeat:
                    # lost messages the sequence numbers did not show: the books resync all the same
                    detail = f"heartbeat_counter {previous} then {counter}: messages lost; every book resyncs"
                    self._lost(detail, seq, recv_time, out)
        self._gap_since_heartbeat = False
        out.append(HEARTBEAT)

    def _subscriptions(self, events: list[Any], out: list[Message]) -> None:
        for e in events:
            listed = e["subscriptions"]
            for channel, products in listed.items():
                if channel not in CHANNELS:
                    continue
                for product in products:
                    key = (channel, symbol(product))
                    if key in self._pending:
                        self._pending.remove(key)
                    out.append(Ack(key))

    def _error(self, msg: dict[str, Any]) -> list[Message]:
        """An ``error`` message names no subscription: it answers the oldest one not yet confirmed."""
        text = msg.get("message")
        reason = msg.get("reason")
        why = " ".join(str(x)[:200] for x in (text, reason) if x) or "error"
        if self._pending:
            key = self._pending.popleft()
            return [Rejected(key, SubscriptionError(self.venue, key, why))]
        return [Notice(SubscriptionError(self.venue, ("", ""), why))]


def _opt_price(value: Any) -> float | None:
    # a product without trades for a day reports "0" highs and lows: no price, not an error
    found = opt_size(value)
    return found if found else None


def _merged(
    items: list[tuple[bool, tuple[Level, ...], tuple[Level, ...]]],
) -> tuple[bool, tuple[Level, ...], tuple[Level, ...]]:
    """Several events of one product in one message, as one: updates after the last snapshot are
    applied to it; updates alone are concatenated (applied in order, the later ones win)."""
    start = max((i for i, item in enumerate(items) if item[0]), default=-1)
    if start < 0:
        return False, tuple(lv for it in items for lv in it[1]), tuple(lv for it in items for lv in it[2])
    sides = []
    for n in (1, 2):
        book = {lv[0]: lv for lv in _side_of(items[start], n)}
        for item in items[start + 1 :]:
            for lv in _side_of(item, n):
                if lv[1] == 0:
                    book.pop(lv[0], None)
                else:
                    book[lv[0]] = lv
        sides.append(tuple(book[p] for p in sorted(book, reverse=n == 1)))
    return True, sides[0], sides[1]


def _side_of(item: tuple[bool, tuple[Level, ...], tuple[Level, ...]], n: int) -> tuple[Level, ...]:
    return item[1] if n == 1 else item[2]


def _trade_order(t: Trade) -> tuple[float, int]:
    ident = t.trade_id
    # ids are decimal texts: they order the trades of one time (a sweep prints several)
    return t.time, int(ident) if type(ident) is str and ident.isdigit() and len(ident) < 19 else 0


def _open_time(k: Kline) -> float:
    return k.open_time

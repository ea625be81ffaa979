"""Kraken WebSocket API v1 simulator (public and private endpoints on one server).

What it speaks (``../shared/docs/protocols.md`` §5):

* on connect ``systemStatus`` (``connectionID`` above 2**63);
* ``subscribe`` / ``unsubscribe`` with one ``subscriptionStatus`` per pair (``channelID`` per
  subscription) for ``book`` (depth 10/25/100/500/1000), ``trade``, ``ticker``, ``ohlc``
  (interval 1/5/15/30/60/240/1440/10080/21600) and ``spread``; errors for malformed or unknown
  pairs, bad depths and intervals, unknown channel names, double subscriptions;
* book snapshot (``as``/``bs``) then updates shaped like real Kraken traffic: one side and one
  level per frame almost always, now and then two levels of one side or a two-part frame
  (``a`` and ``b`` in two dicts, CRC32 ``c`` in the last one); each frame's checksum is the one
  of the book after that frame, computed from the exact fixed-precision wire strings
  (prices with at least 5 decimals, volumes with 8); updates carry only levels inside the
  subscribed depth, and levels pushed out of range are not deleted (clients truncate), exactly as
  Kraken does;
* trades, spread, ticker and the running OHLC candle from the seeded
  :class:`~rxfeeds.sim.market.SyntheticMarket`; ``heartbeat`` about once a second on a
  connection that has subscriptions, whatever else it carries (as in the real captures); ``ping`` -> ``pong``;
* REST ``GET /0/public/Assets`` and ``GET /0/public/AssetPairs[?pair=...]`` with the
  simulator's pair precisions (what REST and order-book clients read ``pair_decimals`` /
  ``lot_decimals`` from);
* private: REST ``POST /0/private/GetWebSocketsToken`` (API-Key / API-Sign HMAC-SHA512 checked)
  issues tokens; ``ownTrades`` and ``openOrders`` (with a per-channel ``sequence``) and
  ``addOrder``, ``editOrder``, ``cancelOrder``, ``cancelAll``, ``cancelAllOrdersAfter`` need a
  valid token.  A limit order that crosses the book fills at once at the best opposite price
  (one ``ownTrades`` record), others rest (never filled later);
* anything else (garbage, unknown events, bad fields) gets Kraken's error reply, never a crash.

Faults (``sim.faults``): ``corrupt_checksum(pair)`` sends the next book update of that pair with a
wrong ``c``; ``reject_subscriptions(pairs)`` answers their subscriptions with "Currency pair not
supported"; ``skip_sequence("ownTrades" | "openOrders")`` (v2: ``"executions"`` |
``"balances"``) skips one private ``sequence`` number; plus the base's close, reset, stall and
malformed-frame faults.

"Unknown" pairs: every well-formed ``BASE/QUOTE`` (2-10 upper-case letters or digits each) is
served except those in ``unknown_pairs`` and those rejected with
``faults.reject_subscriptions``.

Truth: :meth:`KrakenSim.truth` ``(pair, depth)`` (or just ``pair`` for depth 10) is the book the
server has sent at that depth (the same for every subscriber).

Example:
    >>> import websocket, json
    >>> with KrakenSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     json.loads(ws.recv())["event"]
    ...     _ = ws.send('{"event":"ping","reqid":5}')
    ...     ws.recv()
    ...     ws.close()
    'systemStatus'
    '{"event":"pong","reqid":5}'
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import random
import re
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

import orjson

from ..market import SimTrade, SyntheticMarket
from ..server import HttpRequest, HttpResponse, SimConnection, SimServer, json_response

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "TOKEN_PATH",
    "AccountOrder",
    "BookView",
    "KrakenSim",
    "sign_request",
]

#: REST path of the token endpoint.
TOKEN_PATH: Final = "/0/private/GetWebSocketsToken"
DEFAULT_API_KEY: Final = "sim-api-key"
#: base64 of the secret bytes, as Kraken hands them out
DEFAULT_API_SECRET: Final = base64.b64encode(b"rxfeeds simulator secret, not a real one").decode()

BOOK_DEPTHS: Final = (10, 25, 100, 500, 1000)
OHLC_INTERVALS: Final = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
PAIR_RE: Final = re.compile(r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}\Z")
PUBLIC: Final = ("book", "trade", "ticker", "ohlc", "spread")
PRIVATE_V1: Final = ("ownTrades", "openOrders")
_CHECKSUM_LEVELS: Final = 10


def sign_request(path: str, nonce: str, body: str, secret_b64: str) -> str:
    """Kraken's ``API-Sign``: base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))).

    Example:
        >>> len(base64.b64decode(sign_request(TOKEN_PATH, "1", "nonce=1", DEFAULT_API_SECRET)))
        64
    """
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def _crc_segment(text: str) -> str:
    return text.replace(".", "").lstrip("0")


@dataclass(slots=True)
class SimSub:
    """One subscription on one connection."""

    channel: str  # wire channel name: "book-10", "ohlc-5", "trade", "ownTrades" ...
    name: str  # "book", "ohlc", "trade", ...
    pair: str
    channel_id: int
    depth: int = 0
    interval: int = 0
    snapshot: bool = True  # v2: whether the subscription asked for the initial snapshot


@dataclass(slots=True)
class AccountOrder:
    """An order of the simulated account."""

    txid: str
    pair: str
    side: str
    ordertype: str
    volume: float
    price: float | None
    status: str = "open"
    vol_exec: float = 0.0
    userref: int | None = None
    opentm: float = 0.0
    cl_ord_id: str | None = None


#: one book update frame: ask levels, bid levels (price_text, size_text), checksum after it
_BookFrame = tuple[list[tuple[str, str]], list[tuple[str, str]], int]


@dataclass(slots=True)
class BookView:
    """What the server has sent for (pair, depth): price ticks -> (price_text, size_text) per side."""

    bids: dict[int, tuple[str, str]] = field(default_factory=dict)
    asks: dict[int, tuple[str, str]] = field(default_factory=dict)


class KrakenSim(SimServer):
    """Kraken WS v1 simulator (see the module docstring).

    Args:
        unknown_pairs: well-formed pairs answered with "Currency pair not supported".
        api_keys: API key -> base64 secret accepted by the token endpoint.
        heartbeat_interval: seconds between ``heartbeat`` frames (connections with subscriptions).
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``port``...).
    """

    venue: ClassVar[str] = "kraken"
    version: ClassVar[str] = "1.9.2"
    public_channels: ClassVar[tuple[str, ...]] = PUBLIC
    private_channels: ClassVar[tuple[str, ...]] = PRIVATE_V1
    #: share of book frames that carry two levels of one side (capture: 1 of 2,779; kept a
    #: little higher so short tests meet the shape)
    two_level_share: ClassVar[float] = 0.005
    #: share of book frames with asks and bids (v1: two dicts, the checksum in the last)
    two_part_share: ClassVar[float] = 0.005

    def __init__(
        self,
        *,
        unknown_pairs: Iterable[str] = ("NOPE/USD",),
        api_keys: Mapping[str, str] | None = None,
        heartbeat_interval: float = 1.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.unknown_pairs = set(unknown_pairs)
        self.api_keys = dict(api_keys) if api_keys is not None else {DEFAULT_API_KEY: DEFAULT_API_SECRET}
        self.heartbeat_interval = heartbeat_interval
        self.tokens: set[str] = set()
        self.orders: dict[str, AccountOrder] = {}
        self.fills: list[dict[str, Any]] = []
        self.dead_man_trigger: float | None = None
        self._nonces: dict[str, int] = {}
        self._channel_ids = itertools.count(42)
        self._order_ids = itertools.count(1)
        self._views: dict[tuple[str, int], BookView] = {}
        self._tops: dict[str, tuple[Any, Any]] = {}
        # book frame shapes (which levels share a frame) draw from their own seeded stream, so
        # the market's own sequence of steps does not depend on them
        self._shape_rng = random.Random(self.seed ^ 0x4B524B)

    # ------------------------------------------------------------------ formatting

    def market_options(self, symbol: str) -> dict[str, Any]:
        base, _, quote = symbol.partition("/")
        if quote in ("XBT", "BTC", "ETH"):
            return {"mid": "0.05", "tick_size": "0.000001", "size_decimals": 8, "levels": 150}
        mid, tick = {"XBT": ("50000", "0.1"), "BTC": ("50000", "0.1"), "ETH": ("3000", "0.01")}.get(
            base, ("10", "0.0001")
        )
        return {"mid": mid, "tick_size": tick, "size_decimals": 8, "levels": 150}

    def price_text(self, market: SyntheticMarket, ticks: int) -> str:
        """v1 prices: fixed precision per pair, at least 5 decimals (``"50000.10000"``)."""
        return market.price_text(ticks, max(5, market.price_decimals))

    def size_text(self, market: SyntheticMarket, units: int) -> str:
        """v1 volumes: 8 decimals."""
        return market.size_text(units, max(8, market.size_decimals))

    def checksum(self, view: BookView, pair: str) -> int:
        """CRC32 of the top 10 asks then bids of what was sent (corrupted when the fault is armed)."""
        parts: list[str] = []
        for price in heapq.nsmallest(_CHECKSUM_LEVELS, view.asks):
            p, s = view.asks[price]
            parts += (_crc_segment(p), _crc_segment(s))
        for price in heapq.nlargest(_CHECKSUM_LEVELS, view.bids):
            p, s = view.bids[price]
            parts += (_crc_segment(p), _crc_segment(s))
        crc = zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF
        if self.faults.take_corrupt_checksum(pair):
            crc ^= 0x5A5A
        return crc

    # ------------------------------------------------------------------ truth

    def truth(self, key: Any, depth: int | None = None) -> Any:
        """The book sent for ``(pair, depth)``; a bare ``pair`` means depth 10.

        ``depth`` (with a tuple key) trims the copy like the base class does.
        """
        if isinstance(key, str):
            key, depth = (key, depth or 10), None
        return super().truth(key, depth)

    # ------------------------------------------------------------------ connection

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["last_out"] = self.clock()
        conn.state["seq"] = {}
        self.send(conn, self.status_message(conn))

    def status_message(self, conn: SimConnection) -> str:
        connection_id = 2**63 + 1_000_003 * conn.id + self.seed
        status = {
            "connectionID": connection_id,
            "event": "systemStatus",
            "status": "online",
            "version": self.version,
        }
        return orjson.dumps(status).decode()

    def send(self, conn: SimConnection, text: str | bytes) -> None:
        """Send and note the time of the last frame out."""
        conn.state["last_out"] = self.clock()
        conn.send(text)

    def on_tick(self, now: float) -> None:
        super().on_tick(now)
        if self.dead_man_trigger is not None and now >= self.dead_man_trigger:
            self.dead_man_trigger = None
            self._cancel_all(now)
        for conn in self.connections:
            # About once a second while subscribed, busy or not: the shared book capture has
            # 31 heartbeats in 31 s amid ~90 updates a second.
            if not conn.subscriptions:
                conn.state["last_heartbeat"] = now
            elif now - conn.state.setdefault("last_heartbeat", now) >= self.heartbeat_interval:
                conn.state["last_heartbeat"] = now
                self.send(conn, self.heartbeat_message())

    def heartbeat_message(self) -> str:
        return '{"event":"heartbeat"}'

    # ------------------------------------------------------------------ client messages

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.send(conn, '{"errorMessage":"Malformed request","event":"error"}')
            return
        if not isinstance(request, dict):
            self.send(conn, '{"errorMessage":"Malformed request","event":"error"}')
            return
        event = request.get("event")
        reqid = request.get("reqid")
        if reqid is not None and not isinstance(reqid, int):
            self._error(conn, "error", "EGeneral:Invalid arguments:reqid", None)
            return
        handler = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "addOrder": self._add_order,
            "editOrder": self._edit_order,
            "cancelOrder": self._cancel_order,
            "cancelAll": self._cancel_all_request,
            "cancelAllOrdersAfter": self._cancel_after,
        }.get(event if isinstance(event, str) else "")
        if handler is None:
            self._error(conn, "error", "Event(s) not found", reqid)
            return
        handler(conn, request, reqid)

    def _error(self, conn: SimConnection, event: str, text: str, reqid: Any, **extra: Any) -> None:
        reply: dict[str, Any] = {"errorMessage": text, "event": event}
        reply.update(extra)
        if event != "error":
            reply["status"] = "error"
        if reqid is not None:
            reply["reqid"] = reqid
        self.send(conn, orjson.dumps(reply))

    def _ping(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        reply: dict[str, Any] = {"event": "pong"}
        if reqid is not None:
            reply["reqid"] = reqid
        self.send(conn, orjson.dumps(reply))

    # -- subscriptions

    def pair_error(self, pair: Any) -> str | None:
        """Kraken's error text for a pair it would refuse, else None."""
        if not isinstance(pair, str) or not PAIR_RE.match(pair):
            return f"Currency pair not in ISO 4217-A3 format {pair}"
        if pair in self.unknown_pairs or self.faults.should_reject(pair):
            return f"Currency pair not supported {pair}"
        return None

    def _subscribe(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        self._subscription_request(conn, request, reqid, subscribe=True)

    def _unsubscribe(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        self._subscription_request(conn, request, reqid, subscribe=False)

    def _subscription_request(self, conn: SimConnection, request: dict[str, Any], reqid: Any, subscribe: bool) -> None:
        subscription = request.get("subscription")
        if not isinstance(subscription, dict):
            self._error(conn, "subscriptionStatus", "Subscription object missing", reqid)
            return
        name = subscription.get("name")
        echo = {k: v for k, v in subscription.items() if k != "token"}
        if name in self.private_channels:
            if not self.token_ok(subscription.get("token")):
                self._error(conn, "subscriptionStatus", "ESession:Invalid session", reqid, subscription=echo)
                return
            self._private_subscription(conn, name, echo, reqid, subscribe)
            return
        if name not in self.public_channels:
            self._error(conn, "subscriptionStatus", "Subscription name invalid", reqid, subscription=echo)
            return
        pairs = request.get("pair")
        if not isinstance(pairs, list) or not pairs:
            self._error(conn, "subscriptionStatus", "Pair(s) not found", reqid, subscription=echo)
            return
        depth = interval = 0
        channel = str(name)
        if name == "book":
            depth = subscription.get("depth", 10)
            channel = f"book-{depth}"
        elif name == "ohlc":
            interval = subscription.get("interval", 1)
            channel = f"ohlc-{interval}"
        for pair in pairs:
            error = self.pair_error(pair)
            if error is None and name == "book" and depth not in BOOK_DEPTHS:
                error = "Subscription depth not supported"
            if error is None and name == "ohlc" and interval not in OHLC_INTERVALS:
                error = "Subscription ohlc interval not supported"
            key = (channel, pair)
            if error is None and subscribe and key in conn.subscriptions:
                error = "Already subscribed"
            if error is None and not subscribe and key not in conn.subscriptions:
                error = "Subscription Not Found"
            if error is not None:
                self._error(conn, "subscriptionStatus", error, reqid, pair=pair, subscription=echo)
                continue
            if subscribe:
                sub = SimSub(channel, str(name), pair, next(self._channel_ids), depth, interval)
                conn.subscriptions[key] = sub
                self._ack(conn, sub, "subscribed", echo, reqid)
                self.initial_data(conn, sub)
            else:
                sub = conn.subscriptions.pop(key)
                self._ack(conn, sub, "unsubscribed", echo, reqid)

    def _ack(self, conn: SimConnection, sub: SimSub, status: str, echo: dict[str, Any], reqid: Any) -> None:
        reply: dict[str, Any] = {
            "channelID": sub.channel_id,
            "channelName": sub.channel,
            "event": "subscriptionStatus",
        }
        if sub.pair:
            reply["pair"] = sub.pair
        if reqid is not None:
            reply["reqid"] = reqid
        reply["status"] = status
        reply["subscription"] = echo
        self.send(conn, orjson.dumps(reply))

    def _private_subscription(
        self, conn: SimConnection, name: str, echo: dict[str, Any], reqid: Any, subscribe: bool
    ) -> None:
        key = (name, "")
        if subscribe == (key in conn.subscriptions):
            text = "Already subscribed" if subscribe else "Subscription Not Found"
            self._error(conn, "subscriptionStatus", text, reqid, subscription=echo)
            return
        if subscribe:
            sub = SimSub(name, name, "", next(self._channel_ids))
            conn.subscriptions[key] = sub
            conn.state["seq"][name] = 0
            self._ack(conn, sub, "subscribed", echo, reqid)
            if name == "ownTrades":
                self.push_own_trades(conn, self.fills[-50:])
            else:
                self.push_open_orders(conn, [self._order_record(o) for o in self.orders.values() if o.status == "open"])
        else:
            sub = conn.subscriptions.pop(key)
            self._ack(conn, sub, "unsubscribed", echo, reqid)

    # -- market data

    def _view(self, pair: str, depth: int) -> tuple[BookView, bool]:
        view = self._views.get((pair, depth))
        fresh = view is None
        if view is None:
            view = self._views[(pair, depth)] = BookView()
            market = self.market(pair)
            self._refresh_view(view, market, depth)
            self._record_truth(pair, depth, view)
        return view, fresh

    def _refresh_view(self, view: BookView, market: SyntheticMarket, depth: int) -> None:
        view.bids = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in market.bids(depth)}
        view.asks = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in market.asks(depth)}

    def _record_truth(self, pair: str, depth: int, view: BookView) -> None:
        book = self.sent_book((pair, depth))
        book.replace(bids=view.bids.values(), asks=view.asks.values())

    def initial_data(self, conn: SimConnection, sub: SimSub) -> None:
        """What a fresh subscription gets right after its ack."""
        market = self.market(sub.pair)
        now = self.clock()
        if sub.name == "book":
            view, _ = self._view(sub.pair, sub.depth)
            self.send_book_snapshot(conn, sub, view, now)
            self.record_truth((sub.pair, sub.depth), now)
        elif sub.name == "ticker":
            self.send_ticker(conn, sub, market, now)
        elif sub.name == "spread":
            self.send_spread(conn, sub, market, now)
        elif sub.name == "ohlc":
            self.send_ohlc(conn, sub, market, now)

    def on_step(self, symbol: str, market: SyntheticMarket, step: Any) -> None:
        now = step.time
        subs: list[tuple[SimConnection, SimSub]] = [
            (conn, sub) for conn in self.connections for sub in conn.subscriptions.values() if sub.pair == symbol
        ]
        depths = {sub.depth for _, sub in subs if sub.name == "book"}
        updates = {depth: self._book_update(symbol, market, depth, now) for depth in depths}
        top = (market.best_bid(), market.best_ask())
        top_changed = self._tops.get(symbol) != top
        self._tops[symbol] = top
        for conn, sub in subs:
            if sub.name == "book":
                for n, (asks, bids, checksum) in enumerate(updates[sub.depth]):
                    # each frame its own (microsecond-apart) time, as the venue's events have
                    self.send_book_update(conn, sub, asks, bids, checksum, now + n * 1e-6)
            elif sub.name == "trade" and step.trades:
                self.send_trades(conn, sub, market, step.trades)
            elif sub.name == "spread" and (top_changed or step.trades):
                self.send_spread(conn, sub, market, now)
            elif sub.name == "ticker" and (top_changed or step.trades):
                self.send_ticker(conn, sub, market, now)
            elif sub.name == "ohlc" and step.trades:
                self.send_ohlc(conn, sub, market, now)
        # forget views nobody watches any more
        for depth in [d for (p, d) in self._views if p == symbol and d not in depths]:
            del self._views[(symbol, depth)]

    def _book_update(self, pair: str, market: SyntheticMarket, depth: int, now: float) -> list[_BookFrame]:
        """The frames that bring the sent view to the market's top ``depth`` (empty: nothing to send).

        Real Kraken book traffic is one side and one level per frame almost always (2,777 of the
        2,779 updates of the shared capture), with rare two-level frames and rare two-part frames
        (asks and bids in two dicts).  So the step's changes go out one level per frame, a few
        paired, each frame with the checksum of the book *after* it, exactly as a client that
        applies the frame and truncates to ``depth`` sees it.  Deletes go first: an insert sent
        before a delete could be truncated away by the client while the book is still full.
        """
        view, fresh = self._view(pair, depth)
        if fresh:
            return []
        per_side: dict[str, list[tuple[int, tuple[str, str]]]] = {}
        for old, levels, side in (
            (view.asks, market.asks(depth), "ask"),
            (view.bids, market.bids(depth), "bid"),
        ):
            new = {p: (self.price_text(market, p), self.size_text(market, u)) for p, u in levels}
            deletes: list[tuple[int, tuple[str, str]]] = []
            sets: list[tuple[int, tuple[str, str]]] = []
            for price, texts in old.items():
                # Removed from the market: explicit delete.  Still there but pushed out of the
                # top `depth`: nothing (clients truncate), like Kraken.
                if price not in new and market.level(side, price) == 0:  # type: ignore[arg-type]
                    deletes.append((price, (texts[0], self.size_text(market, 0))))
            for price, texts in new.items():
                if old.get(price) != texts:
                    sets.append((price, texts))
            per_side[side] = deletes + sets
        asks, bids = per_side["ask"], per_side["bid"]
        if not asks and not bids:
            return []
        rng = self._shape_rng
        # Interleave the two sides in a random (seeded) order, keeping each side's own order.
        order = ["ask"] * len(asks) + ["bid"] * len(bids)
        rng.shuffle(order)
        queues = {"ask": list(reversed(asks)), "bid": list(reversed(bids))}
        frames: list[_BookFrame] = []
        i = 0
        while i < len(order):
            side = order[i]
            frame_asks: list[tuple[int, tuple[str, str]]] = []
            frame_bids: list[tuple[int, tuple[str, str]]] = []
            (frame_asks if side == "ask" else frame_bids).append(queues[side].pop())
            i += 1
            if i < len(order):
                nxt = order[i]
                roll = rng.random()
                if nxt == side and roll < self.two_level_share:
                    (frame_asks if side == "ask" else frame_bids).append(queues[side].pop())
                    i += 1
                elif nxt != side and roll < self.two_part_share:
                    (frame_asks if nxt == "ask" else frame_bids).append(queues[nxt].pop())
                    i += 1
            for book, moves in ((view.asks, frame_asks), (view.bids, frame_bids)):
                for price, (p_text, s_text) in moves:
                    if s_text.strip("0.") == "":
                        book.pop(price, None)
                    else:
                        book[price] = (p_text, s_text)
            self._truncate_view(view, depth)
            if self.truth_history_size > 0:  # the chaos harness checks books at every frame boundary
                self._record_truth(pair, depth, view)
                self.record_truth((pair, depth), now + len(frames) * 1e-6)  # the time the frame carries
            frames.append(([t for _, t in frame_asks], [t for _, t in frame_bids], self.checksum(view, pair)))
        self._record_truth(pair, depth, view)
        return frames

    @staticmethod
    def _truncate_view(view: BookView, depth: int) -> None:
        """What a client does after each message: keep the best ``depth`` levels per side."""
        if len(view.asks) > depth:
            for price in sorted(view.asks)[depth:]:
                del view.asks[price]
        if len(view.bids) > depth:
            for price in sorted(view.bids, reverse=True)[depth:]:
                del view.bids[price]

    # -- v1 wire formats (KrakenV2Sim overrides these)

    def send_book_snapshot(self, conn: SimConnection, sub: SimSub, view: BookView, now: float) -> None:
        stamp = f"{now:.6f}"
        asks = [[p, s, stamp] for _, (p, s) in sorted(view.asks.items())]
        bids = [[p, s, stamp] for _, (p, s) in sorted(view.bids.items(), reverse=True)]
        self.send(conn, orjson.dumps([sub.channel_id, {"as": asks, "bs": bids}, sub.channel, sub.pair]))

    def send_book_update(
        self,
        conn: SimConnection,
        sub: SimSub,
        asks: list[tuple[str, str]],
        bids: list[tuple[str, str]],
        checksum: int,
        now: float,
    ) -> None:
        stamp = f"{now:.6f}"
        parts: list[dict[str, Any]] = []
        if asks:
            parts.append({"a": [[p, s, stamp] for p, s in asks]})
        if bids:
            parts.append({"b": [[p, s, stamp] for p, s in bids]})
        parts[-1]["c"] = str(checksum)
        self.send(conn, orjson.dumps([sub.channel_id, *parts, sub.channel, sub.pair]))

    def send_trades(
        self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, trades: Iterable[SimTrade]
    ) -> None:
        rows = [
            [
                self.price_text(market, t.price),
                self.size_text(market, t.size),
                f"{t.time:.6f}",
                "b" if t.side == "buy" else "s",
                "m" if t.size % 2 else "l",
                "",
            ]
            for t in trades
        ]
        self.send(conn, orjson.dumps([sub.channel_id, rows, "trade", sub.pair]))

    def send_spread(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        bid, ask = market.best_bid(), market.best_ask()
        if bid is None or ask is None:
            return
        row = [
            self.price_text(market, bid[0]),
            self.price_text(market, ask[0]),
            f"{now:.6f}",
            self.size_text(market, bid[1]),
            self.size_text(market, ask[1]),
        ]
        self.send(conn, orjson.dumps([sub.channel_id, row, "spread", sub.pair]))

    def send_ticker(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        s = market.ticker()
        if s.bid is None or s.ask is None:
            return
        price = self.price_text
        size = self.size_text
        last = s.last if s.last is not None else s.bid[0]
        vwap = price(market, s.quote_volume // s.volume) if s.volume else price(market, last)
        volume = size(market, s.volume)
        payload = {
            "a": [price(market, s.ask[0]), int(market.size(s.ask[1])), size(market, s.ask[1])],
            "b": [price(market, s.bid[0]), int(market.size(s.bid[1])), size(market, s.bid[1])],
            "c": [price(market, last), size(market, s.last_size or 0)],
            "v": [volume, volume],
            "p": [vwap, vwap],
            "t": [s.count, s.count],
            "l": [price(market, s.low if s.low is not None else last)] * 2,
            "h": [price(market, s.high if s.high is not None else last)] * 2,
            "o": [price(market, s.open if s.open is not None else last)] * 2,
        }
        self.send(conn, orjson.dumps([sub.channel_id, payload, "ticker", sub.pair]))

    def current_candle(self, market: SyntheticMarket, interval: int, now: float) -> dict[str, Any]:
        """The running candle of ``interval`` minutes (the last valid one if no trade yet)."""
        seconds = interval * 60
        candles = market.candles(seconds)
        if candles:
            c = candles[-1]
            return {
                "time": c.last_trade_time,
                "begin": c.open_time,
                "end": c.open_time + seconds,
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "vwap": c.quote_volume // c.volume if c.volume else c.close,
                "volume": c.volume,
                "count": c.count,
            }
        mid = market.ticks(market.mid)
        begin = now // seconds * seconds
        return {"time": now, "begin": begin, "end": begin + seconds, "open": mid, "high": mid, "low": mid,
                "close": mid, "vwap": mid, "volume": 0, "count": 0}  # fmt: skip

    def send_ohlc(self, conn: SimConnection, sub: SimSub, market: SyntheticMarket, now: float) -> None:
        c = self.current_candle(market, sub.interval, now)
        p = self.price_text
        row = [
            f"{c['time']:.6f}",
            f"{c['end']:.6f}",
            p(market, c["open"]),
            p(market, c["high"]),
            p(market, c["low"]),
            p(market, c["close"]),
            p(market, c["vwap"]),
            self.size_text(market, c["volume"]),
            c["count"],
        ]
        self.send(conn, orjson.dumps([sub.channel_id, row, sub.channel, sub.pair]))

    # ------------------------------------------------------------------ REST token endpoint

    def issue_token(self) -> str:
        """A valid websocket token (what the REST endpoint hands out). Any thread."""
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    def token_ok(self, token: Any) -> bool:
        return isinstance(token, str) and token in self.tokens

    #: pairs listed by ``GET /0/public/AssetPairs`` without ``pair`` (REST name -> (wsname, base, quote))
    listed_pairs: ClassVar[dict[str, tuple[str, str, str]]] = {
        "XXBTZUSD": ("XBT/USD", "XXBT", "ZUSD"),
        "XETHZUSD": ("ETH/USD", "XETH", "ZUSD"),
        "XETHXXBT": ("ETH/XBT", "XETH", "XXBT"),
    }

    def asset_pair(self, wsname: str) -> dict[str, Any]:
        """The REST ``AssetPairs`` entry of a pair, with this simulator's precisions."""
        options = self.market_options(wsname)
        decimals = max(0, -Decimal(options["tick_size"]).normalize().as_tuple().exponent)  # type: ignore[operator]
        base, _, quote = wsname.partition("/")
        asset = {"XBT": "XXBT", "BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "EUR": "ZEUR"}
        return {
            "altname": base + quote,
            "wsname": wsname,
            "aclass_base": "currency",
            "base": asset.get(base, base),
            "aclass_quote": "currency",
            "quote": asset.get(quote, quote),
            "lot": "unit",
            "cost_decimals": max(decimals, 5),
            "pair_decimals": decimals,
            "lot_decimals": options["size_decimals"],
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, 0.26], [50000, 0.24]],
            "fees_maker": [[0, 0.16], [50000, 0.14]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": "0.0001",
            "costmin": "0.5",
            "tick_size": options["tick_size"],
            "status": "online",
        }

    #: ``GET /0/public/Assets``: REST asset name -> (altname, decimals, display_decimals)
    listed_assets: ClassVar[dict[str, tuple[str, int, int]]] = {
        "XXBT": ("XBT", 10, 5),
        "XETH": ("ETH", 10, 5),
        "ZUSD": ("USD", 4, 2),
        "ZEUR": ("EUR", 4, 2),
    }

    def handle_http(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/0/public/Assets" and request.method == "GET":
            assets = {
                name: {"aclass": "currency", "altname": alt, "decimals": d, "display_decimals": dd, "status": "enabled"}
                for name, (alt, d, dd) in self.listed_assets.items()
            }
            return json_response({"error": [], "result": assets})
        if request.path == "/0/public/AssetPairs" and request.method == "GET":
            # Kraken keys the answer by the name asked for (REST name, altname or wsname).
            asked = [p for p in request.query.get("pair", "").split(",") if p]
            if not asked:
                return json_response(
                    {
                        "error": [],
                        "result": {name: self.asset_pair(ws) for name, (ws, _, _) in self.listed_pairs.items()},
                    }
                )
            result: dict[str, Any] = {}
            for name in asked:
                wsname = self.listed_pairs.get(name, (name, "", ""))[0]
                if "/" not in wsname or self.pair_error(wsname) is not None:
                    return json_response({"error": ["EQuery:Unknown asset pair"]})
                result[name] = self.asset_pair(wsname)
            return json_response({"error": [], "result": result})
        if request.path != TOKEN_PATH:
            return None
        if request.method != "POST":
            return json_response({"error": ["EGeneral:Invalid arguments"]}, 405)
        key = request.headers.get("api-key", "")
        secret = self.api_keys.get(key)
        if secret is None:
            return json_response({"error": ["EAPI:Invalid key"]})
        form = request.form()
        nonce = form.get("nonce", "")
        body = request.body.decode("utf-8", "replace")
        expected = sign_request(request.path, nonce, body, secret)
        if not hmac.compare_digest(expected, request.headers.get("api-sign", "")):
            return json_response({"error": ["EAPI:Invalid signature"]})
        if not nonce.isdigit() or int(nonce) <= self._nonces.get(key, 0):
            return json_response({"error": ["EAPI:Invalid nonce"]})
        self._nonces[key] = int(nonce)
        return json_response({"error": [], "result": {"token": self.issue_token(), "expires": 900}})

    # ------------------------------------------------------------------ account model

    def place_order(
        self,
        pair: str,
        side: str,
        ordertype: str,
        volume: float,
        price: float | None,
        now: float,
        userref: int | None = None,
        cl_ord_id: str | None = None,
    ) -> AccountOrder:
        """Create an order; a market order or a crossing limit fills at once at the best price."""
        n = next(self._order_ids)
        txid = f"O{n:05d}-SIMUL-{self.seed % 100000:05d}"
        order = AccountOrder(txid, pair, side, ordertype, volume, price, "open", 0.0, userref, now, cl_ord_id)
        self.orders[txid] = order
        market = self.market(pair)
        best = market.best_ask() if side == "buy" else market.best_bid()
        crosses = best is not None and (
            ordertype == "market"
            or (
                price is not None
                and (price >= market.price(best[0]) if side == "buy" else price <= market.price(best[0]))
            )
        )
        self.order_changed(order, now, new=True)
        if crosses and best is not None:
            order.status = "closed"
            order.vol_exec = volume
            fill = {
                "id": f"T{n:05d}-SIMUL-{self.seed % 100000:05d}",
                "ordertxid": txid,
                "postxid": f"P{n:05d}",
                "pair": pair,
                "time": f"{now:.6f}",
                "type": side,
                "ordertype": ordertype,
                "price": self.price_text(market, best[0]),
                "cost": f"{market.price(best[0]) * volume:.5f}",
                "fee": f"{market.price(best[0]) * volume * 0.0026:.5f}",
                "vol": f"{volume:.8f}",
                "margin": "0.00000",
                "userref": userref or 0,
            }
            self.fills.append(fill)
            self.order_filled(order, fill, now)
        return order

    def _cancel_all(self, now: float) -> int:
        open_orders = [o for o in self.orders.values() if o.status == "open"]
        for order in open_orders:
            order.status = "canceled"
            self.order_changed(order, now)
        return len(open_orders)

    def _order_record(self, order: AccountOrder) -> dict[str, Any]:
        return {
            order.txid: {
                "status": order.status,
                "opentm": f"{order.opentm:.6f}",
                "vol": f"{order.volume:.8f}",
                "vol_exec": f"{order.vol_exec:.8f}",
                "userref": order.userref or 0,
                "descr": {
                    "pair": order.pair,
                    "type": order.side,
                    "ordertype": order.ordertype,
                    "price": f"{order.price or 0:.5f}",
                },
            }
        }

    def order_changed(self, order: AccountOrder, now: float, new: bool = False) -> None:
        """Push the order's state to every ``openOrders`` subscriber."""
        record = self._order_record(order)
        if not new:
            record = {order.txid: {"status": order.status, "vol_exec": f"{order.vol_exec:.8f}"}}
        for conn in self.connections:
            if ("openOrders", "") in conn.subscriptions:
                self.push_open_orders(conn, [record])

    def order_filled(self, order: AccountOrder, fill: dict[str, Any], now: float) -> None:
        """Push a fill (ownTrades) and the order's closed state (openOrders)."""
        for conn in self.connections:
            if ("ownTrades", "") in conn.subscriptions:
                self.push_own_trades(conn, [fill])
        self.order_changed(order, now)

    def _next_seq(self, conn: SimConnection, channel: str) -> int:
        seq: dict[str, int] = conn.state["seq"]
        value = seq.get(channel, 0) + 1
        if self.faults.take_skip_sequence(channel):
            value += 1
        seq[channel] = value
        return value

    def push_own_trades(self, conn: SimConnection, fills: list[dict[str, Any]]) -> None:
        rows = [{f["id"]: {k: v for k, v in f.items() if k != "id"}} for f in fills]
        self.send(conn, orjson.dumps([rows, "ownTrades", {"sequence": self._next_seq(conn, "ownTrades")}]))

    def push_open_orders(self, conn: SimConnection, records: list[dict[str, Any]]) -> None:
        self.send(conn, orjson.dumps([records, "openOrders", {"sequence": self._next_seq(conn, "openOrders")}]))

    # ------------------------------------------------------------------ v1 order entry

    def _authorised(self, conn: SimConnection, request: dict[str, Any], event: str, reqid: Any) -> bool:
        if not self.token_ok(request.get("token")):
            self._error(conn, event, "EGeneral:Permission denied", reqid)
            return False
        return True

    def _status_reply(self, conn: SimConnection, event: str, reqid: Any, **fields: Any) -> None:
        reply: dict[str, Any] = {"event": event, "status": "ok"}
        if reqid is not None:
            reply["reqid"] = reqid
        reply.update(fields)
        self.send(conn, orjson.dumps(reply))

    @staticmethod
    def _number(value: Any) -> float | None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if number > 0 else None

    def _add_order(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        event = "addOrderStatus"
        if not self._authorised(conn, request, event, reqid):
            return
        pair, side, ordertype = request.get("pair"), request.get("type"), request.get("ordertype")
        volume = self._number(request.get("volume"))
        price = self._number(request.get("price"))
        if self.pair_error(pair) is not None:
            self._error(conn, event, "EQuery:Unknown asset pair", reqid)
        elif side not in ("buy", "sell"):
            self._error(conn, event, "EGeneral:Invalid arguments:type", reqid)
        elif ordertype not in ("limit", "market"):
            self._error(conn, event, "EGeneral:Invalid arguments:ordertype", reqid)
        elif volume is None:
            self._error(conn, event, "EGeneral:Invalid arguments:volume", reqid)
        elif ordertype == "limit" and price is None:
            self._error(conn, event, "EGeneral:Invalid arguments:price", reqid)
        else:
            if str(request.get("validate", "false")).lower() == "true":
                self._status_reply(conn, event, reqid, descr=f"{side} {volume:.8f} {pair} @ {ordertype} {price or ''}")
                return
            userref = request.get("userref")
            ref = int(userref) if isinstance(userref, (int, str)) and str(userref).isdigit() else None
            order = self.place_order(str(pair), str(side), str(ordertype), volume, price, self.clock(), ref)
            descr = f"{side} {volume:.8f} {str(pair).replace('/', '')} @ {ordertype} {price or ''}".rstrip()
            self._status_reply(conn, event, reqid, descr=descr, txid=order.txid)

    def _edit_order(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        event = "editOrderStatus"
        if not self._authorised(conn, request, event, reqid):
            return
        order = self.orders.get(str(request.get("orderid")))
        if order is None or order.status != "open":
            self._error(conn, event, "EOrder:Unknown order", reqid)
            return
        price = self._number(request.get("price")) if request.get("price") is not None else order.price
        volume = self._number(request.get("volume")) if request.get("volume") is not None else order.volume
        if price is None or volume is None:
            self._error(conn, event, "EGeneral:Invalid arguments", reqid)
            return
        now = self.clock()
        order.status = "canceled"
        self.order_changed(order, now)
        new = self.place_order(order.pair, order.side, order.ordertype, volume, price, now, order.userref)
        descr = f"{new.side} {volume:.8f} {new.pair.replace('/', '')} @ {new.ordertype} {price}"
        self._status_reply(conn, event, reqid, descr=descr, originaltxid=order.txid, txid=new.txid)

    def _cancel_order(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        event = "cancelOrderStatus"
        if not self._authorised(conn, request, event, reqid):
            return
        txids = request.get("txid")
        if not isinstance(txids, list) or not txids:
            self._error(conn, event, "EGeneral:Invalid arguments:txid", reqid)
            return
        orders = [self.orders.get(str(t)) for t in txids]
        if any(o is None or o.status != "open" for o in orders):
            self._error(conn, event, "EOrder:Unknown order", reqid)
            return
        now = self.clock()
        for order in orders:
            assert order is not None
            order.status = "canceled"
            self.order_changed(order, now)
        self._status_reply(conn, event, reqid)

    def _cancel_all_request(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        event = "cancelAllStatus"
        if self._authorised(conn, request, event, reqid):
            self._status_reply(conn, event, reqid, count=self._cancel_all(self.clock()))

    def _cancel_after(self, conn: SimConnection, request: dict[str, Any], reqid: Any) -> None:
        event = "cancelAllOrdersAfterStatus"
        if not self._authorised(conn, request, event, reqid):
            return
        timeout = request.get("timeout")
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= 86400:
            self._error(conn, event, "EGeneral:Invalid arguments:timeout", reqid)
            return
        current, trigger = self.arm_dead_man(timeout)
        self._status_reply(conn, event, reqid, currentTime=current, triggerTime=trigger)

    def arm_dead_man(self, timeout: int) -> tuple[str, str]:
        """Arm (or disarm with 0) the cancel-all timer; returns (currentTime, triggerTime) texts."""
        now = self.clock()
        self.dead_man_trigger = now + timeout if timeout else None
        current = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        trigger = datetime.fromtimestamp(now + timeout, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if timeout else "0"
        return current, trigger

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

from collections.abc import Iterable
from typing import Any

import orjson

from ..market import SimTrade, SyntheticMarket
from ..server import SimConnection
from ._base import BOOK_DEPTHS, OHLC_INTERVALS, BookView, SimSub
from .account import KrakenAccount
from .book import KrakenBookFeed
from .rest import KrakenRest

__all__ = ["KrakenSim"]


class KrakenSim(KrakenBookFeed, KrakenAccount, KrakenRest):
    """Kraken WS v1 simulator (see the module docstring).

    Args:
        unknown_pairs: well-formed pairs answered with "Currency pair not supported".
        api_keys: API key -> base64 secret accepted by the token endpoint.
        heartbeat_interval: seconds between ``heartbeat`` frames (connections with subscriptions).
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``port``...).
    """

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
            return self._candle_dict(candles[-1], seconds)
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

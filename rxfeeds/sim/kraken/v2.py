"""Kraken WebSocket API v2 simulator (path ``/v2``), built on :class:`~rxfeeds.sim.kraken.KrakenSim`.

Same synthetic market, account model, token endpoint and faults as the v1 simulator, with the v2
wire format (``../shared/docs/protocols.md`` §5.9):

* ``status`` channel on connect, ``heartbeat`` channel when idle, ``ping`` -> ``pong``;
* ``subscribe`` / ``unsubscribe`` (``params.channel``, ``params.symbol`` list) answered with one
  reply per symbol, echoing ``req_id``; errors ``success: false`` with the venue's text;
* ``book``: snapshot and updates both carry the integer CRC32 ``checksum``; prices and
  quantities are JSON numbers written with the pair's fixed precision (``50000.1``,
  ``0.10000000``), and the checksum is computed from exactly those texts;
* ``trade`` (a snapshot of the last 50 trades first), ``ticker`` (snapshot, then updates) and
  ``ohlc`` (recent candles first, then the running candle) from the market; every number is
  written with the pair's fixed decimals (prices at the pair's precision, quantities with 8),
  never as a float repr; ``snapshot: false`` is honoured (acked as such, no snapshot sent);
* private (token required): ``executions`` (order reports and fills) and ``balances`` with a
  per-channel ``sequence``; methods ``add_order``, ``amend_order``, ``edit_order``,
  ``cancel_order``, ``cancel_all``, ``cancel_all_orders_after``, ``batch_add``, ``batch_cancel``.

Example:
    >>> import websocket, json
    >>> with KrakenV2Sim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     json.loads(ws.recv())["channel"]
    ...     _ = ws.send('{"method":"ping","req_id":5}')
    ...     json.loads(ws.recv())["req_id"]
    ...     ws.close()
    'status'
    5
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

import orjson

from ..server import SimConnection
from ._base import OHLC_INTERVALS, AccountOrder, SimSub
from .v2_frames import KrakenV2Frames, _rfc3339

__all__ = ["KrakenV2Sim"]

BOOK_DEPTHS_V2: Final = (10, 25, 100, 500, 1000)
PRIVATE_V2: Final = ("executions", "balances")


class KrakenV2Sim(KrakenV2Frames):
    """Kraken WS v2 simulator (see the module docstring)."""

    venue: ClassVar[str] = "kraken-v2"
    path: ClassVar[str] = "/v2"
    version: ClassVar[str] = "2.0.9"
    public_channels: ClassVar[tuple[str, ...]] = ("book", "trade", "ticker", "ohlc")
    private_channels: ClassVar[tuple[str, ...]] = PRIVATE_V2

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.balances: dict[str, float] = {"USD": 100000.0, "BTC": 2.0, "ETH": 20.0}

    # ------------------------------------------------------------------ status and replies

    def status_message(self, conn: SimConnection) -> str:
        data = {
            "api_version": "v2",
            "connection_id": 2**63 + 1_000_003 * conn.id + self.seed,
            "system": "online",
            "version": self.version,
        }
        return orjson.dumps({"channel": "status", "type": "update", "data": [data]}).decode()

    def heartbeat_message(self) -> str:
        return '{"channel":"heartbeat"}'

    def _reply(self, conn: SimConnection, method: str, req_id: Any, result: Any = None, error: str | None = None,
               **extra: Any) -> None:  # fmt: skip
        now = _rfc3339(self.clock())
        reply: dict[str, Any] = {"method": method} if method else {}
        if req_id is not None:
            reply["req_id"] = req_id
        if error is None:
            if result is not None:
                reply["result"] = result
            reply["success"] = True
        else:
            reply["error"] = error
            reply["success"] = False
        reply.update(extra)
        reply["time_in"] = now
        reply["time_out"] = now
        self.send(conn, orjson.dumps(reply))

    # ------------------------------------------------------------------ client messages

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError:
            self._reply(conn, "", None, error="EGeneral:Invalid arguments:malformed JSON")
            return
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            self._reply(conn, "", None, error="EGeneral:Invalid arguments:method missing")
            return
        method = request["method"]
        req_id = request.get("req_id")
        params = request.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict) or (req_id is not None and not isinstance(req_id, int)):
            self._reply(conn, method, req_id if isinstance(req_id, int) else None, error="EGeneral:Invalid arguments")
            return
        if method == "ping":
            self._reply(conn, "pong", req_id)
            return
        if method in ("subscribe", "unsubscribe"):
            self._v2_subscription(conn, method, params, req_id)
            return
        handler = {
            "add_order": self._v2_add_order,
            "amend_order": self._v2_amend_order,
            "edit_order": self._v2_edit_order,
            "cancel_order": self._v2_cancel_order,
            "cancel_all": self._v2_cancel_all,
            "cancel_all_orders_after": self._v2_cancel_after,
            "batch_add": self._v2_batch_add,
            "batch_cancel": self._v2_batch_cancel,
        }.get(method)
        if handler is None:
            self._reply(conn, method, req_id, error="EGeneral:Unknown method")
            return
        if not self.token_ok(params.get("token")):
            self._reply(conn, method, req_id, error="EAPI:Invalid key")
            return
        handler(conn, method, params, req_id)

    # -- subscriptions

    def _v2_subscription(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        subscribe = method == "subscribe"
        channel = params.get("channel")
        if channel in PRIVATE_V2:
            if not self.token_ok(params.get("token")):
                self._reply(conn, method, req_id, error="EAPI:Invalid key", result=None)
                return
            key = (str(channel), "")
            if subscribe == (key in conn.subscriptions):
                text = "Already subscribed" if subscribe else "Subscription Not Found"
                self._reply(conn, method, req_id, error=text)
                return
            if subscribe:
                sub = SimSub(str(channel), str(channel), "", next(self._channel_ids))
                conn.subscriptions[key] = sub
                conn.state["seq"][channel] = 0
                self._reply(conn, method, req_id, result={"channel": channel, "snapshot": True})
                if channel == "executions":
                    reports = [self._exec_report(o, "new") for o in self.orders.values() if o.status == "open"]
                    reports += [self._fill_report(f) for f in self.fills[-50:]]
                    self._push_private(conn, "executions", "snapshot", reports)
                else:
                    rows = [{"asset": a, "balance": b} for a, b in sorted(self.balances.items())]
                    self._push_private(conn, "balances", "snapshot", rows)
            else:
                del conn.subscriptions[key]
                self._reply(conn, method, req_id, result={"channel": channel})
            return
        if channel not in self.public_channels:
            self._reply(conn, method, req_id, error=f"Channel {channel} not supported")
            return
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments:symbol")
            return
        snapshot = params.get("snapshot", True)
        if not isinstance(snapshot, bool):
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments:snapshot")
            return
        depth = params.get("depth", 10) if channel == "book" else 0
        interval = params.get("interval", 1) if channel == "ohlc" else 0
        name = f"book-{depth}" if channel == "book" else f"ohlc-{interval}" if channel == "ohlc" else str(channel)
        for symbol in symbols:
            error = self.pair_error(symbol)
            if error is None and channel == "book" and depth not in BOOK_DEPTHS_V2:
                error = f"Invalid depth {depth}"
            if error is None and channel == "ohlc" and interval not in OHLC_INTERVALS:
                error = f"Invalid interval {interval}"
            key = (name, symbol)
            if error is None and subscribe and key in conn.subscriptions:
                error = "Already subscribed"
            if error is None and not subscribe and key not in conn.subscriptions:
                error = "Subscription Not Found"
            if error is not None:
                self._reply(conn, method, req_id, error=error, symbol=symbol)
                continue
            result: dict[str, Any] = {"channel": channel, "symbol": symbol}
            if channel == "book":
                result["depth"] = depth
            if channel == "ohlc":
                result["interval"] = interval
            if subscribe:
                result["snapshot"] = snapshot
                sub = SimSub(name, str(channel), symbol, next(self._channel_ids), depth, interval, snapshot)
                conn.subscriptions[key] = sub
                self._reply(conn, method, req_id, result=result)
                self.initial_data(conn, sub)
            else:
                del conn.subscriptions[key]
                self._reply(conn, method, req_id, result=result)

    # ------------------------------------------------------------------ snapshots after the ack

    def initial_data(self, conn: SimConnection, sub: SimSub) -> None:
        """After the ack: the snapshot the subscription asked for (``snapshot``, default true).

        Like Kraken, ``trade`` starts with the last 50 trades and ``ohlc`` with the recent
        candles; with ``snapshot: false`` nothing is sent until the next change.
        """
        market = self.market(sub.pair)
        now = self.clock()
        if not sub.snapshot:
            if sub.name == "book":
                self._view(sub.pair, sub.depth)  # updates flow from the book as it stands now
            elif sub.name == "ticker":
                conn.state.setdefault("ticked", set()).add(sub.channel_id)
            return
        if sub.name == "trade":
            self.send_trades(conn, sub, market, market.trades()[-50:], kind="snapshot")
        elif sub.name == "ohlc":
            seconds = sub.interval * 60
            candles = [self._candle_dict(c, seconds) for c in market.candles(seconds)[-720:]]
            if not candles:
                candles = [self.current_candle(market, sub.interval, now)]
            data = [self._ohlc_item(sub, market, c) for c in candles]
            frame = {"channel": "ohlc", "type": "snapshot", "timestamp": _rfc3339(now), "data": data}
            self.send(conn, orjson.dumps(frame))
        else:
            super().initial_data(conn, sub)

    # ------------------------------------------------------------------ v2 methods

    def _order_args(self, params: dict[str, Any]) -> tuple[str | None, tuple[Any, ...]]:
        symbol, side, order_type = params.get("symbol"), params.get("side"), params.get("order_type")
        qty = self._number(params.get("order_qty"))
        price = self._number(params.get("limit_price"))
        if self.pair_error(symbol) is not None:
            return "EQuery:Unknown asset pair", ()
        if side not in ("buy", "sell"):
            return "EGeneral:Invalid arguments:side", ()
        if order_type not in ("limit", "market"):
            return "EGeneral:Invalid arguments:order_type", ()
        if qty is None:
            return "EGeneral:Invalid arguments:order_qty", ()
        if order_type == "limit" and price is None:
            return "EGeneral:Invalid arguments:limit_price", ()
        return None, (symbol, side, order_type, qty, price)

    def _v2_add_order(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        error, args = self._order_args(params)
        if error is not None:
            self._reply(conn, method, req_id, error=error)
            return
        symbol, side, order_type, qty, price = args
        cl_ord_id = params.get("cl_ord_id")
        order = self.place_order(symbol, side, order_type, qty, price, self.clock(), None,
                                 str(cl_ord_id) if cl_ord_id is not None else None)  # fmt: skip
        result: dict[str, Any] = {"order_id": order.txid}
        if cl_ord_id is not None:
            result["cl_ord_id"] = cl_ord_id
        self._reply(conn, method, req_id, result=result)

    def _open_order(self, order_id: Any) -> AccountOrder | None:
        order = self.orders.get(str(order_id))
        return order if order is not None and order.status == "open" else None

    def _v2_amend_order(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        order = self._open_order(params.get("order_id"))
        if order is None:
            self._reply(conn, method, req_id, error="EOrder:Unknown order")
            return
        qty = self._number(params.get("order_qty")) if "order_qty" in params else order.volume
        price = self._number(params.get("limit_price")) if "limit_price" in params else order.price
        if qty is None or (order.ordertype == "limit" and price is None):
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments")
            return
        order.volume, order.price = qty, price
        self.order_changed(order, self.clock())
        self._reply(conn, method, req_id, result={"amend_id": f"A-{order.txid}", "order_id": order.txid})

    def _v2_edit_order(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        order = self._open_order(params.get("order_id"))
        if order is None:
            self._reply(conn, method, req_id, error="EOrder:Unknown order")
            return
        qty = self._number(params.get("order_qty")) if "order_qty" in params else order.volume
        price = self._number(params.get("limit_price")) if "limit_price" in params else order.price
        if qty is None or price is None:
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments")
            return
        now = self.clock()
        order.status = "canceled"
        self.order_changed(order, now)
        new = self.place_order(order.pair, order.side, order.ordertype, qty, price, now)
        self._reply(conn, method, req_id, result={"order_id": new.txid, "original_order_id": order.txid})

    def _cancel_listed(self, conn: SimConnection, method: str, req_id: Any, ids: Any, field: str) -> bool:
        """Cancel the open orders ``ids`` (all or none); False after replying with the error."""
        if not isinstance(ids, list) or not ids:
            self._reply(conn, method, req_id, error=f"EGeneral:Invalid arguments:{field}")
            return False
        orders = [self._open_order(i) for i in ids]
        if any(o is None for o in orders):
            self._reply(conn, method, req_id, error="EOrder:Unknown order")
            return False
        now = self.clock()
        for order in orders:
            assert order is not None
            order.status = "canceled"
            self.order_changed(order, now)
        return True

    def _v2_cancel_order(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        ids: Any = params.get("order_id")
        if self._cancel_listed(conn, method, req_id, ids, "order_id"):
            self._reply(conn, method, req_id, result={"order_id": ids[0]} if len(ids) == 1 else {"order_id": ids})

    def _v2_cancel_all(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        self._reply(conn, method, req_id, result={"count": self._cancel_all(self.clock())})

    def _v2_cancel_after(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        timeout = params.get("timeout")
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= 86400:
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments:timeout")
            return
        current, trigger = self.arm_dead_man(timeout)
        self._reply(conn, method, req_id, result={"currentTime": current, "triggerTime": trigger})

    def _v2_batch_add(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        orders = params.get("orders")
        symbol = params.get("symbol")
        if not isinstance(orders, list) or not 2 <= len(orders) <= 15 or not all(isinstance(o, dict) for o in orders):
            self._reply(conn, method, req_id, error="EGeneral:Invalid arguments:orders")
            return
        checked = [self._order_args({"symbol": symbol, **o}) for o in orders]
        for error, _ in checked:
            if error is not None:
                self._reply(conn, method, req_id, error=error)
                return
        now = self.clock()
        placed = [self.place_order(a[0], a[1], a[2], a[3], a[4], now) for _, a in checked]
        self._reply(conn, method, req_id, result=[{"order_id": o.txid} for o in placed])

    def _v2_batch_cancel(self, conn: SimConnection, method: str, params: dict[str, Any], req_id: Any) -> None:
        ids: Any = params.get("orders")
        if self._cancel_listed(conn, method, req_id, ids, "orders"):
            self._reply(conn, method, req_id, result={"count": len(ids)})

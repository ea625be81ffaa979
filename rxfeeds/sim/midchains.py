"""Midchains simulator: order-level book and trades, challenge/login, order entry (protocols.md §2).

Everything Midchains documents is served: ``{"type":"subscribe","request":[{"msg","security","dest"}]}``
for ``book`` (the full image first, then changes; ``security`` may be ``"*"``) and ``trade``;
``challenge`` (a real RSA key, generated once per server), ``login`` (the password is decrypted
with the private key and checked), ``logout``; ``addorder``, ``cancelorder``, ``queryorder``,
``querymultiorder`` (answered as ``querymultiorders``), ``querytrade`` (pages of at most 100) and
``querypos`` (``"no position"`` when flat) with ``"OK"`` or a human-readable reject text.  A
market order, or a limit order that crosses the book, fills at once at the best opposite price.

Made up where the documentation is silent ([INF], mirrored by the client's codec): a refused
subscription is answered ``{"type":"subscribe","msg","security","result":"unknown security"}``;
an unknown request type gets ``{"type":..., "result":"unknown request type"}``; orders entered
here do not join the public book (resting ones never fill later).  Not simulated: the 30 s
challenge deadline, rate limits, the undocumented pushes after login (open orders, positions).

The book is order-level: each price level of the seeded :class:`~rxfeeds.sim.market.SyntheticMarket`
is made of orders; a level that grows gets a new order for the increase, one that shrinks
reduces or removes its newest orders (``act:"R"``).  :meth:`MidchainsSim.truth` aggregates the
orders sent to price levels.

Example:
    >>> import websocket, json
    >>> with MidchainsSim(seed=1, tick_interval=None) as srv:
    ...     ws = websocket.create_connection(srv.url)
    ...     _ = ws.send(json.dumps({"type": "subscribe", "request": [
    ...         {"msg": "book", "security": "BTCUSD", "dest": "CROX"}]}))
    ...     image = json.loads(ws.recv()); ws.close()
    >>> image["type"], image["security"], all(o["act"] == "U" for o in image["books"])
    ('book', 'BTCUSD', True)
"""

from __future__ import annotations

import base64
import itertools
import random
import re
import string
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

import orjson

from .kit.orders import OrderLevels, SimOrder
from .market import MarketStep, SyntheticMarket
from .server import SimConnection, SimServer

__all__ = ["MidchainsSim"]

_SECURITY = re.compile(r"^[A-Z]{2,6}(USD|USDT|EUR|BTC|ETH)\Z")
_MARKETS: dict[str, dict[str, Any]] = {
    "BTCUSD": {"mid": "50000", "tick_size": "0.5", "size_decimals": 4},
    "ETHUSD": {"mid": "3000", "tick_size": "0.05", "size_decimals": 3},
    "LTCUSD": {"mid": "184.3", "tick_size": "0.01", "size_decimals": 2},
    "BCHUSD": {"mid": "450", "tick_size": "0.05", "size_decimals": 3},
}
_SIDE = {"bid": "B", "ask": "S"}
_ORDER_FIELDS = (
    "security",
    "side",
    "qty",
    "price",
    "amount",
    "ordertype",
    "tif",
    "stoptype",
    "stopprice",
    "exptime",
)


class MidchainsSim(SimServer):
    """A Midchains websocket server (see the module docstring).

    Args:
        users: ``{userid: password}`` accepted by ``login`` (default ``{"demo": "demo"}``).
        securities: securities served besides any well-formed ``XXXUSD``-style name; names
            that are not well formed are refused as unknown.
        key_size: RSA key size for the challenge (1024 keeps tests fast; the venue's is unknown).
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``tick_interval``...).
    """

    venue = "midchains"

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        securities: tuple[str, ...] = tuple(_MARKETS),
        key_size: int = 1024,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.users = dict(users) if users is not None else {"demo": "demo"}
        self.securities = set(securities)
        self.key_size = key_size
        self._private_key: Any = None
        self._public_der_b64 = ""
        self._order_ids = itertools.count(120946647655360)
        self._rng = random.Random(self.seed)
        self.order_books: dict[str, OrderLevels] = {}
        #: orders entered per user: refno -> record
        self.entered: dict[str, dict[str, dict[str, Any]]] = {}
        #: the users' own fills (``querytrade``) and net positions per security (``querypos``)
        self.user_trades: dict[str, list[dict[str, Any]]] = {}
        self.positions: dict[str, dict[str, Decimal]] = {}
        #: trades sent, per security (tests compare client trades with it)
        self.sent_trades: dict[str, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return super().__repr__().replace("MidchainsSim(", "MidchainsSim(users=***, ", 1)

    # -- helpers ---------------------------------------------------------------------------

    def known(self, security: str) -> bool:
        """Whether ``security`` is served."""
        return security in self.securities or bool(_SECURITY.match(security))

    def market_options(self, symbol: str) -> dict[str, Any]:
        options = dict(_MARKETS.get(symbol, {"mid": "100", "tick_size": "0.01", "size_decimals": 3}))
        options.update(levels=25, max_levels=50)
        return options

    def book_of(self, security: str) -> OrderLevels:
        """The order-level book of ``security`` (created with its market); loop thread."""
        book = self.order_books.get(security)
        if book is None:
            market = self.market(security)
            book = OrderLevels.from_market(market, lambda: next(self._order_ids))
            self.order_books[security] = book
            sent = self.sent_book(security)
            for o in book.orders():
                sent.set(o.side, market.price_text(o.price), market.size_text(book.level_units(o.side, o.price)))
        return book

    def _entry(self, security: str, order: SimOrder, now: float) -> dict[str, Any]:
        market = self.markets[security]
        entry: dict[str, Any] = {"side": _SIDE[order.side], "act": "U" if order.units else "R", "src": "CROX"}
        entry.update(price=market.price_text(order.price), qty=market.size_text(order.units), id=order.order_id)
        entry.update(time=str(int(now * 1000)), mpid="ANON", key="NA")
        return entry

    def _book_message(self, security: str, entries: list[dict[str, Any]]) -> str:
        return orjson.dumps({"security": security, "books": entries, "type": "book"}).decode()

    def _ensure_key(self) -> str:
        if self._private_key is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=self.key_size)
            der = self._private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            self._public_der_b64 = base64.b64encode(der).decode()
        return self._public_der_b64

    def _refno(self) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(14))

    # -- hooks -----------------------------------------------------------------------------

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            msg = orjson.loads(message)
        except orjson.JSONDecodeError:
            conn.send('{"type":"error","result":"invalid message"}')
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            conn.send('{"type":"error","result":"invalid message"}')
            return
        kind = msg["type"]
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            conn.send(orjson.dumps({"type": kind[:40], "result": "unknown request type"}).decode())
            return
        handler(conn, msg)

    def _on_subscribe(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        requests = msg.get("request")
        if not isinstance(requests, list):
            conn.send('{"type":"subscribe","result":"invalid request"}')
            return
        for req in requests:
            if not isinstance(req, dict):
                continue
            channel, security = req.get("msg"), req.get("security")
            if channel not in ("book", "trade") or not isinstance(security, str):
                conn.send(
                    orjson.dumps(
                        {
                            "type": "subscribe",
                            "msg": channel,
                            "security": security,
                            "result": "invalid request",
                        }
                    ).decode()
                )
                continue
            star = security == "*" and channel == "book"
            if not star and (not self.known(security) or self.faults.should_reject(security)):
                conn.send(
                    orjson.dumps(
                        {
                            "type": "subscribe",
                            "msg": channel,
                            "security": security,
                            "result": "unknown security",
                        }
                    ).decode()
                )
                continue
            conn.subscriptions[(channel, security)] = True
            if channel == "book":
                targets = list(self.order_books) if star else [security]
                for sec in targets:
                    self._send_image(conn, sec)
            else:
                self.book_of(security)

    def _send_image(self, conn: SimConnection, security: str) -> None:
        book = self.book_of(security)
        now = self.clock()
        conn.send(self._book_message(security, [self._entry(security, o, now) for o in book.orders()]))
        self.record_truth(security, int(now * 1000) / 1000)

    def _on_challenge(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        key = self._ensure_key()
        conn.state["challenged"] = True
        conn.send(orjson.dumps({"result": "OK", "type": "challenge", "key": key}).decode())

    def _on_login(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        from cryptography.hazmat.primitives.asymmetric import padding

        user, secret = msg.get("userid"), msg.get("pass")
        ok = False
        if conn.state.get("challenged") and isinstance(user, str) and isinstance(secret, str):
            try:
                password = self._private_key.decrypt(base64.b64decode(secret), padding.PKCS1v15()).decode()
                ok = self.users.get(user) == password
            except (ValueError, TypeError):
                ok = False
        if ok:
            conn.state["user"] = user
            self.entered.setdefault(str(user), {})
        conn.send(orjson.dumps({"result": "OK" if ok else "invalid user/password", "type": "login"}).decode())

    def _on_logout(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        conn.state.pop("user", None)
        conn.send('{"result":"OK","type":"logout"}')
        conn.close(1000, "logout")

    def _reply(self, conn: SimConnection, msg: dict[str, Any], result: str, **extra: Any) -> None:
        out: dict[str, Any] = {k: msg[k] for k in ("security", "refno") if k in msg}
        out.update(extra)
        out.update(result=result, type=msg["type"])
        conn.send(orjson.dumps(out).decode())

    def _on_addorder(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        user = conn.state.get("user")
        reason = self._order_problem(msg) if user else "not logged in"
        if reason:
            conn.send(
                orjson.dumps(
                    {**{k: msg[k] for k in _ORDER_FIELDS if k in msg}, "result": reason, "type": "addorder"}
                ).decode()
            )
            return
        refno = self._refno()
        record = {k: msg[k] for k in _ORDER_FIELDS if k in msg}
        record.setdefault("ordertype", "LMT")
        record.setdefault("tif", "GTC")
        record.update(refno=refno, updtime=str(int(self.clock() * 1000)), live=True, execqty="0", execamount="0")
        self.entered[str(user)][refno] = record
        self._maybe_fill(str(user), record)
        echo = {k: msg[k] for k in _ORDER_FIELDS if k in msg}
        conn.send(orjson.dumps({**echo, "result": "OK", "refno": refno, "type": "addorder"}).decode())

    def _maybe_fill(self, user: str, record: dict[str, Any]) -> None:
        """A market order, or a limit order that crosses, fills at once at the best opposite price
        (one ``sale`` for ``querytrade``, the position for ``querypos``); others rest, unfilled,
        outside the public book.  IOC/FOK limits that do not cross are canceled."""
        security = str(record["security"])
        market = self.market(security)
        buy = record["side"] == "B"
        best = market.best_ask() if buy else market.best_bid()
        if best is None:
            return
        price = Decimal(market.price_text(best[0]))
        if record["ordertype"] == "LMT" and (Decimal(str(record["price"])) < price if buy else
                                             Decimal(str(record["price"])) > price):  # fmt: skip
            if record["tif"] in ("IOC", "FOK"):
                record["live"] = False
            return
        if "qty" in record:
            qty = Decimal(str(record["qty"]))
        else:  # market buy for a fiat amount
            step = Decimal(1).scaleb(-market.size_decimals)
            qty = (Decimal(str(record["amount"])) / price).quantize(step, rounding=ROUND_DOWN)  # never over the amount
        now_ms = str(int(self.clock() * 1000))
        record.update(live=False, execqty=format(qty, "f"), execamount=format(qty * price, "f"), updtime=now_ms)
        trades = self.user_trades.setdefault(user, [])
        trades.append(
            {
                "refno": record["refno"],
                "category": "FILLED",
                "execqty": format(qty, "f"),
                "execprice": format(price, "f"),
                "traderefno": self._refno(),
                "side": record["side"],
                "trdtime": now_ms,
                "rec_no": len(trades) + 1,
                "security": security,
                "type": "sale",
            }
        )
        positions = self.positions.setdefault(user, {})
        positions[security] = positions.get(security, Decimal(0)) + (qty if buy else -qty)

    def _order_problem(self, msg: dict[str, Any]) -> str:
        security = msg.get("security")
        if not isinstance(security, str) or not self.known(security):
            return "unknown security"
        if msg.get("side") not in ("B", "S"):
            return "invalid side"
        ordertype = msg.get("ordertype", "LMT")
        tif = msg.get("tif", "GTC")
        if ordertype not in ("LMT", "MKT"):
            return "invalid order type"
        if tif not in ("GTC", "IOC", "FOK", "GTT"):
            return "invalid time in force"
        if ordertype == "MKT":
            if tif not in ("IOC", "FOK"):
                return "market orders must be IOC or FOK"
            if msg.get("side") == "B":
                if "qty" in msg:
                    return "cannot use qty for market buy order"
                return "" if _positive(msg.get("amount")) else "invalid amount"
            return "" if _positive(msg.get("qty")) else "invalid qty"
        if not _positive(msg.get("price")):
            return "invalid price"
        return "" if _positive(msg.get("qty")) else "invalid qty"

    def _own_order(self, conn: SimConnection, msg: dict[str, Any]) -> dict[str, Any] | None:
        user = conn.state.get("user")
        if not user:
            return None
        record = self.entered.get(str(user), {}).get(str(msg.get("refno")))
        if record is None or record.get("security") != msg.get("security"):
            return None
        return record

    def _on_cancelorder(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        if not conn.state.get("user"):
            self._reply(conn, msg, "not logged in")
            return
        record = self._own_order(conn, msg)
        if record is None or not record["live"]:
            self._reply(conn, msg, "order not found")
            return
        record["live"] = False
        record["updtime"] = str(int(self.clock() * 1000))
        self._reply(conn, msg, "OK")

    def _on_queryorder(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        if not conn.state.get("user"):
            self._reply(conn, msg, "not logged in")
            return
        record = self._own_order(conn, msg)
        if record is None:
            self._reply(conn, msg, "order not found")
            return
        self._reply(conn, msg, "OK", data=self._order_data(record))

    @staticmethod
    def _order_data(record: dict[str, Any]) -> dict[str, Any]:
        qty = record.get("qty", record.get("execqty", "0"))
        filled = Decimal(str(record.get("execqty", "0"))) > 0
        return {
            "updtime": record["updtime"],
            "tif": record["tif"],
            "execamount": record.get("execamount", "0"),
            "qty": qty,
            "security": record["security"],
            "type": "order",
            "clientorderid": "",
            "liveqty": qty if record["live"] else "0",
            "category": "FILLED" if filled else "CANCELED" if not record["live"] else "OPEN",
            "refno": record["refno"],
            "price": record.get("price", ""),
            "execqty": record.get("execqty", "0"),
            "side": record["side"],
        }

    @staticmethod
    def _from_ms(value: Any) -> int | None:
        """``fromtime`` in seconds or milliseconds (the docs accept both); None if unusable."""
        try:
            number = int(str(value))
        except ValueError:
            return None
        return number * 1000 if number < 100_000_000_000 else number

    def _query_filter(self, conn: SimConnection, msg: dict[str, Any], reply_type: str) -> tuple[str, int] | None:
        """(user, fromtime ms) for a query, or None after answering its problem."""
        user = conn.state.get("user")
        problem = ""
        since = self._from_ms(msg.get("fromtime", 0))
        security = msg.get("security")
        if not user:
            problem = "not logged in"
        elif not isinstance(security, str) or not self.known(security):
            problem = "unknown security"
        elif since is None:
            problem = "invalid fromtime"
        if problem:
            conn.send(orjson.dumps({"result": problem, "type": reply_type}).decode())
            return None
        assert since is not None
        return str(user), since

    def _on_querymultiorder(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        # The request is ``querymultiorder``, the answer ``querymultiorders`` (as documented).
        found = self._query_filter(conn, msg, "querymultiorders")
        if found is None:
            return
        user, since = found
        records = [
            r
            for r in self.entered.get(user, {}).values()
            if r["security"] == msg["security"] and int(r["updtime"]) >= since
        ]
        data = [dict(self._order_data(r), rec_no=i) for i, r in enumerate(records, 1)]
        reply = {"result": "OK", "data": data, "type": "querymultiorders", "total_rec": len(data)}
        conn.send(orjson.dumps(reply).decode())

    def _on_querytrade(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        found = self._query_filter(conn, msg, "querytrade")
        if found is None:
            return
        user, since = found
        trades = [
            t for t in self.user_trades.get(user, []) if t["security"] == msg["security"] and int(t["trdtime"]) >= since
        ]
        # more than 100 records come as several answers of at most 100
        for start in range(0, max(len(trades), 1), 100):
            chunk = trades[start : start + 100]
            reply = {"result": "OK", "data": chunk, "type": "querytrade", "total_rec": len(trades)}
            conn.send(orjson.dumps(reply).decode())

    def _on_querypos(self, conn: SimConnection, msg: dict[str, Any]) -> None:
        user = conn.state.get("user")
        if not user:
            conn.send('{"result":"not logged in","type":"querypos"}')
            return
        security = msg.get("security")
        positions = self.positions.get(str(user), {})
        wanted = [s for s in sorted(positions) if security in (None, "", "*", s) and positions[s] != 0]
        if not wanted:
            conn.send('{"result":"no position","type":"querypos"}')
            return
        data = [
            {"curpos": format(positions[s], "f"), "rec_no": i, "security": s, "type": "position"}
            for i, s in enumerate(wanted, 1)
        ]
        reply = {"result": "OK", "firm": "SIM", "data": data, "userid": user, "type": "querypos",
                 "total_rec": len(data)}  # fmt: skip
        conn.send(orjson.dumps(reply).decode())

    def on_tick(self, now: float) -> None:
        for security in list(self.order_books):
            self.on_step(security, self.markets[security], self.markets[security].step(now))

    def on_step(self, symbol: str, market: SyntheticMarket, step: MarketStep) -> None:
        book = self.order_books[symbol]
        sent = self.sent_book(symbol)
        entries: list[dict[str, Any]] = []
        for change in step.changes:
            for order in book.apply(change):
                entries.append(self._entry(symbol, order, step.time))
            sent.set(change.side, market.price_text(change.price), market.size_text(change.size))
        book_subs = [
            c for c in self.connections if (("book", symbol) in c.subscriptions or ("book", "*") in c.subscriptions)
        ]
        if entries and book_subs:
            frame = self._book_message(symbol, entries)
            for conn in book_subs:
                conn.send(frame)
            self.record_truth(symbol, int(step.time * 1000) / 1000)
        trade_subs = [c for c in self.connections if ("trade", symbol) in c.subscriptions]
        for trade in step.trades:
            record = {
                "security": symbol,
                "src": "CROX",
                "price": market.price_text(trade.price),
                "qty": market.size_text(trade.size),
                "time": str(int(trade.time * 1000)),
                "type": "trade",
                "matchid": f"{trade.id:012X}",
                "maker_side": "S" if trade.side == "buy" else "B",
            }
            if trade_subs:
                self.sent_trades.setdefault(symbol, []).append(record)
                frame_text = orjson.dumps(record).decode()
                for conn in trade_subs:
                    conn.send(frame_text)


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False

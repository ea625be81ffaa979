"""BitShares node simulator: fc JSON-RPC ``call`` framing, login/database APIs, notices (protocols.md §1).

What a client sees (§1.3-1.5): API 1 is the login API (``login``, ``database`` -> 0,
``network_broadcast`` -> 2, ``history`` -> 3), API 0 the database API.  Every id-bearing call
gets a reply (``jsonrpc`` echoed when the request had it); failures are fc-style errors
(``code`` 10, ``"Execution error: Assert Exception: ..."``, with the exception object in
``data``).  Requests without an id get no reply.

Database API served: ``get_objects`` (auto-subscribes what it returns), ``get_full_accounts``,
``lookup_asset_symbols``, ``get_assets``, ``get_limit_orders``, ``subscribe_to_market`` /
``unsubscribe_from_market``, ``set_subscribe_callback`` (``notify_remove_create=true`` refused as
on a default node), ``set_pending_transaction_callback``, ``set_block_applied_callback``,
``cancel_all_subscriptions``, ``get_chain_id``, ``get_chain_properties``,
``get_dynamic_global_properties``.  ``network_broadcast.broadcast_transaction`` puts a
transaction into the pending pool (pushed to pending-transaction callbacks).

Each tick is one block: a pending transaction, the markets step (limit-order objects, removed
order ids, ``fill_order`` pairs and call orders go to ``subscribe_to_market`` callbacks), the
sender's account statistics ``2.6.x`` and ``2.1.0`` change (object callback, for subscribed ids
and accounts), then the block-applied callback gets the new block id.

Markets are order-level: each level of the seeded :class:`~rxfeeds.sim.market.SyntheticMarket`
is a list of ``1.7.x`` limit orders (see :class:`~rxfeeds.sim.kit.orders.OrderLevels`), priced in
base per quote.  ``truth("BTS:USD")`` is that book aggregated to levels.

Example:
    >>> import websocket, json
    >>> with BitSharesSim(seed=1, tick_interval=None) as srv:
    ...     ws = websocket.create_connection(srv.url)
    ...     _ = ws.send(json.dumps({"method": "call", "params": [1, "database", []], "id": 1}))
    ...     print(ws.recv()); ws.close()
    {"id":1,"result":0}
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from ..kit.orders import OrderLevels, SimOrder
from ..market import MarketStep, SimTrade, SyntheticMarket
from ..server import SimConnection, SimServer

__all__ = ["BitSharesSim", "CHAIN_ID", "RpcFailure"]

CHAIN_ID = "4018d7844c78f6a6c41c6a552b898022310fc5dec06da467ee7905a8dad512c8"
_ASSETS = [
    {"id": "1.3.0", "symbol": "BTS", "precision": 5},
    {"id": "1.3.113", "symbol": "CNY", "precision": 4},
    {"id": "1.3.121", "symbol": "USD", "precision": 4},
]
#: simulated markets: canonical (base, quote) symbols -> SyntheticMarket options
_MARKETS: dict[tuple[str, str], dict[str, Any]] = {
    ("BTS", "USD"): {"mid": "25", "tick_size": "0.001", "size_decimals": 2},
    ("BTS", "CNY"): {"mid": "3.5", "tick_size": "0.001", "size_decimals": 2},
}
_ACCOUNTS = ["init0", "init1", "init2", "init3", "init4", "alice", "bob"]
_FIRST_ACCOUNT = 17
_SNAPSHOT_LIMIT = 300
_ORDER_BOOK_LIMIT = 50  # api_limit_get_order_book
_ACCOUNTS_LIMIT = 100


class RpcFailure(Exception):
    """Raised inside a handler: becomes an fc-style error reply."""

    def __init__(self, text: str, code: int = 10, name: str = "assert_exception") -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.name = name


def _assert(ok: bool, text: str) -> None:
    if not ok:
        raise RpcFailure(text)


class _SimMarket:
    """One simulated market: its order-level book, call order and precision arithmetic."""

    def __init__(self, symbol: str, market: SyntheticMarket, base: dict[str, Any], quote: dict[str, Any]) -> None:
        self.symbol = symbol
        self.market = market
        self.base = base
        self.quote = quote
        # Exact integer amounts: price = ticks * tick_size (base per quote), size = units * 10^-sd (quote).
        self.tick_sats = int(market.tick_size * Decimal(10) ** int(base["precision"]))  # base sats per tick per quote
        self.quote_scale = 10 ** int(quote["precision"])
        self.unit_quote_sats = 10 ** (int(quote["precision"]) - market.size_decimals)
        self.size_scale = 10**market.size_decimals
        self.book: OrderLevels | None = None
        self.sellers: dict[int, str] = {}
        self.call_order: dict[str, Any] | None = None

    def base_sats(self, ticks: int, units: int) -> int:
        """Base amount (satoshis) of ``units`` quote at ``ticks``."""
        return int(units * ticks * self.tick_sats // self.size_scale)

    def order_object(self, order: SimOrder) -> dict[str, Any]:
        """The ``1.7.x`` limit order object of one resting order."""
        base_id, quote_id = self.base["id"], self.quote["id"]
        price_base = {"amount": order.price * self.tick_sats, "asset_id": base_id}
        one_quote = {"amount": self.quote_scale, "asset_id": quote_id}
        if order.side == "bid":
            for_sale = self.base_sats(order.price, order.units)
            sell_price = {"base": price_base, "quote": one_quote}
        else:
            for_sale = order.units * self.unit_quote_sats
            sell_price = {"base": one_quote, "quote": price_base}
        return {
            "id": f"1.7.{order.order_id}",
            "expiration": "2030-01-01T00:00:00",
            "seller": self.sellers.get(order.order_id, "1.2.17"),
            "for_sale": str(for_sale),
            "sell_price": sell_price,
            "deferred_fee": 0,
            "deferred_paid_fee": {"amount": 0, "asset_id": "1.3.0"},
        }


class BitSharesSim(SimServer):
    """A BitShares full node as far as notifications go (see the module docstring).

    Args:
        credentials: ``{user: password}`` the login API accepts; ``None`` (default) is the
            node's ``"*"`` wildcard: any login succeeds.  With credentials, a session that has
            not logged in may still use the database API (as with a ``"*"`` entry limited to
            it) but ``network_broadcast``/``history`` answer "Access denied".
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``tick_interval``
            = the block interval...).
    """

    venue = "bitshares"

    def __init__(self, *, credentials: Mapping[str, str] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.credentials = dict(credentials) if credentials is not None else None
        self._rng = random.Random(self.seed)
        self._order_ids = itertools.count(1000)
        self._call_ids = itertools.count(100)
        self.assets: dict[str, dict[str, Any]] = {str(a["id"]): _asset_object(a) for a in _ASSETS}
        self._asset_by_symbol = {str(a["symbol"]): str(a["id"]) for a in _ASSETS}
        self.objects: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(_ACCOUNTS):
            num = _FIRST_ACCOUNT + i
            self.objects[f"1.2.{num}"] = {"id": f"1.2.{num}", "name": name, "statistics": f"2.6.{num}"}
            self.objects[f"2.6.{num}"] = {
                "id": f"2.6.{num}",
                "owner": f"1.2.{num}",
                "most_recent_op": "2.9.0",
                "total_ops": 0,
                "total_core_in_orders": "0",
                "lifetime_fees_paid": "0",
                "pending_fees": 0,
                "pending_vested_fees": 0,
            }
        self.objects.update(self.assets)
        for asset in self.assets.values():
            # the dynamic data (2.3.x) and, for market-issued assets, the bitasset data (2.4.x)
            dynamic = asset["dynamic_asset_data_id"]
            self.objects[dynamic] = {
                "id": dynamic,
                "current_supply": "100000000000000",
                "confidential_supply": "0",
                "accumulated_fees": "0",
                "accumulated_collateral_fees": "0",
                "fee_pool": "0",
            }
            if "bitasset_data_id" in asset:
                data_id = asset["bitasset_data_id"]
                self.objects[data_id] = {
                    "id": data_id,
                    "asset_id": asset["id"],
                    "options": {
                        "feed_lifetime_sec": 86400,
                        "minimum_feeds": 7,
                        "force_settlement_delay_sec": 86400,
                        "force_settlement_offset_percent": 100,
                        "maximum_force_settlement_volume": 20,
                        "short_backing_asset": "1.3.0",
                        "extensions": {},
                    },
                    "feeds": [],
                    "current_feed": {
                        "settlement_price": {
                            "base": {"amount": 0, "asset_id": asset["id"]},
                            "quote": {"amount": 0, "asset_id": "1.3.0"},
                        },
                        "maintenance_collateral_ratio": 1750,
                        "maximum_short_squeeze_ratio": 1100,
                        "core_exchange_rate": asset["options"]["core_exchange_rate"],
                    },
                    "is_prediction_market": False,
                    "settlement_fund": 0,
                }
        self.head_block = 6_484_380 + self._rng.randrange(1000)
        self.objects["2.1.0"] = {
            "id": "2.1.0",
            "head_block_number": self.head_block,
            "head_block_id": self._block_id(self.head_block),
            "time": "2026-01-01T00:00:00",
        }
        self.objects["2.8.0"] = {"id": "2.8.0", "block_id": self._block_id(0)}
        self.sim_markets: dict[str, _SimMarket] = {}
        #: what was pushed, for tests: pending transactions, block ids, fills per market
        self.sent_transactions: list[dict[str, Any]] = []
        self.sent_blocks: list[str] = []
        self.sent_fills: dict[str, list[dict[str, Any]]] = {}
        self.sent_call_orders: dict[str, list[dict[str, Any] | str]] = {}
        self._op_counter = itertools.count(1)
        # Sellers of orders removed during the current block (removals still reach their accounts).
        self._removed_seller: dict[str, str] = {}

    def __repr__(self) -> str:
        return super().__repr__().replace("BitSharesSim(", "BitSharesSim(credentials=***, ", 1)

    def _block_id(self, num: int) -> str:
        return f"{num:08x}" + "".join(self._rng.choice("0123456789abcdef") for _ in range(32))

    # -- markets ---------------------------------------------------------------------------

    def market_options(self, symbol: str) -> dict[str, Any]:
        base, _, quote = symbol.partition(":")
        options = dict(_MARKETS.get((base, quote), {"mid": "1", "tick_size": "0.001", "size_decimals": 2}))
        options.update(levels=15, max_levels=30)
        return options

    def _asset(self, symbol_or_id: Any) -> dict[str, Any] | None:
        if not isinstance(symbol_or_id, str):
            return None
        asset_id = symbol_or_id if symbol_or_id in self.assets else self._asset_by_symbol.get(symbol_or_id)
        return self.assets.get(asset_id) if asset_id else None

    def _pair(self, a: Any, b: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        asset_a, asset_b = self._asset(a), self._asset(b)
        _assert(asset_a is not None, f"itr != assets_by_symbol.end(): Asset {a} does not exist")
        _assert(asset_b is not None, f"itr != assets_by_symbol.end(): Asset {b} does not exist")
        assert asset_a is not None and asset_b is not None
        _assert(asset_a["id"] != asset_b["id"], "a != b: market of an asset with itself")
        return asset_a, asset_b

    def sim_market(self, a: dict[str, Any], b: dict[str, Any]) -> _SimMarket | None:
        """The simulated market of an asset pair (either order), created on first use; loop thread."""
        for base, quote in ((a, b), (b, a)):
            if (base["symbol"], quote["symbol"]) in _MARKETS:
                symbol = f"{base['symbol']}:{quote['symbol']}"
                sim = self.sim_markets.get(symbol)
                if sim is None:
                    sim = _SimMarket(symbol, self.market(symbol), base, quote)
                    sim.book = OrderLevels.from_market(sim.market, lambda: next(self._order_ids))
                    sent = self.sent_book(symbol)
                    for order in sim.book.orders():
                        self._place(sim, order)
                        sent.set(
                            order.side,
                            sim.market.price_text(order.price),
                            sim.market.size_text(sim.book.level_units(order.side, order.price)),
                        )
                    self._new_call_order(sim)
                    self.sim_markets[symbol] = sim
                    self.record_truth(symbol)
                return sim
        return None

    def _place(self, sim: _SimMarket, order: SimOrder) -> dict[str, Any]:
        if order.order_id not in sim.sellers:
            sim.sellers[order.order_id] = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        obj = sim.order_object(order)
        self.objects[obj["id"]] = obj
        return obj

    def _new_call_order(self, sim: _SimMarket) -> dict[str, Any]:
        num = next(self._call_ids)
        borrower = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        obj: dict[str, Any] = {
            "id": f"1.8.{num}",
            "borrower": borrower,
            "collateral": str(self._rng.randrange(10**9, 10**10)),
            "debt": str(self._rng.randrange(10**5, 10**6)),
            "call_price": {
                "base": {"amount": 1, "asset_id": sim.base["id"]},
                "quote": {"amount": 1, "asset_id": sim.quote["id"]},
            },
            "target_collateral_ratio": None,
        }
        sim.call_order = obj
        self.objects[obj["id"]] = obj
        return obj

    # -- connection state ------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state.update(
            object_cb=None,
            subscribed=set(),
            accounts=set(),
            markets={},
            block_cb=None,
            tx_cb=None,
            logged_in=self.credentials is None,
            apis={0: "database", 1: "login"},
        )

    # -- RPC -------------------------------------------------------------------------------

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        try:
            msg = orjson.loads(message)
        except orjson.JSONDecodeError:
            self._error(conn, None, False, -32700, "Invalid JSON message")
            return
        if not isinstance(msg, dict):
            self._error(conn, None, False, -32600, "Invalid Request: batch requests are not supported")
            return
        rid = msg.get("id")
        echo = "jsonrpc" in msg
        if rid is not None and not isinstance(rid, (int, str)):
            self._error(conn, None, echo, -32600, "Invalid Request: invalid id")
            return
        method, params = msg.get("method"), msg.get("params")
        if not isinstance(method, str):
            self._error(conn, rid, echo, -32600, "Invalid Request: missing method")
            return
        if isinstance(params, dict):
            self._error(conn, rid, echo, -32602, "Named parameters not supported")
            return
        try:
            if method == "call":
                _assert(
                    isinstance(params, list) and len(params) == 3, "params.size() == 3: call needs [api, method, args]"
                )
                assert isinstance(params, list)
                api, name, args = params
                _assert(isinstance(args, list), "args must be an array")
                result = self._call(conn, api, name, args)
            elif method in ("notice", "callback"):
                return
            else:
                result = self._call(conn, 0, method, params if isinstance(params, list) else [])
        except RpcFailure as exc:
            if rid is not None:
                self._fc_error(conn, rid, echo, exc)
            return
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            if rid is not None:
                self._fc_error(conn, rid, echo, RpcFailure(f"bad arguments: {type(exc).__name__}: {exc}"))
            return
        if rid is not None:
            reply: dict[str, Any] = {"id": rid}
            if echo:
                reply["jsonrpc"] = "2.0"
            reply["result"] = result
            conn.send(orjson.dumps(reply).decode())

    def _error(self, conn: SimConnection, rid: Any, echo: bool, code: int, message: str) -> None:
        reply: dict[str, Any] = {"id": rid}
        if echo:
            reply["jsonrpc"] = "2.0"
        reply["error"] = {"code": code, "message": message}
        conn.send(orjson.dumps(reply).decode())

    def _fc_error(self, conn: SimConnection, rid: Any, echo: bool, exc: RpcFailure) -> None:
        title = "Assert Exception" if exc.name == "assert_exception" else exc.name
        reply: dict[str, Any] = {"id": rid}
        if echo:
            reply["jsonrpc"] = "2.0"
        reply["error"] = {
            "code": exc.code,
            "message": f"Execution error: {title}: {exc.text}",
            "data": {
                "code": exc.code,
                "name": exc.name,
                "message": title,
                "stack": [
                    {
                        "context": {"level": "error", "file": "sim", "line": 0, "method": "call"},
                        "format": exc.text,
                        "data": {},
                    }
                ],
            },
        }
        conn.send(orjson.dumps(reply).decode())

    def _call(self, conn: SimConnection, api: Any, name: Any, args: list[Any]) -> Any:
        _assert(isinstance(name, str), "method name must be a string")
        apis: dict[int, str] = conn.state["apis"]
        if isinstance(api, str):  # fc resolves a string API id through the login API's getter
            api = self._login_api(conn, api, [])
        _assert(isinstance(api, int) and api in apis, f"_api_id < _registered_apis.size(): unknown API id {api}")
        handler = getattr(self, f"_{apis[api]}_{name}", None)
        _assert(handler is not None, f"itr != _by_name.end(): no method with name '{name}'")
        assert handler is not None
        return handler(conn, *args)

    # login API (1)

    def _login_api(self, conn: SimConnection, name: str, args: list[Any]) -> Any:
        handler = getattr(self, f"_login_{name}", None)
        _assert(handler is not None, f"itr != _by_name.end(): no method with name '{name}'")
        assert handler is not None
        return handler(conn, *args)

    def _login_login(self, conn: SimConnection, user: Any = None, password: Any = None) -> Any:
        if user is None and password is None:
            return 1
        ok = self.credentials is None or (isinstance(user, str) and self.credentials.get(user) == password)
        conn.state["logged_in"] = ok
        return ok

    def _login_database(self, conn: SimConnection) -> int:
        return 0

    def _optional_api(self, conn: SimConnection, name: str) -> int:
        _assert(bool(conn.state["logged_in"]), "_allowed_apis.find(...) != end(): Access denied")
        apis: dict[int, str] = conn.state["apis"]
        for api_id, api_name in apis.items():
            if api_name == name:
                return api_id
        api_id = max(apis) + 1
        apis[api_id] = name
        return api_id

    def _login_network_broadcast(self, conn: SimConnection) -> int:
        return self._optional_api(conn, "network_broadcast")

    def _login_history(self, conn: SimConnection) -> int:
        return self._optional_api(conn, "history")

    # network broadcast API

    def _network_broadcast_broadcast_transaction(self, conn: SimConnection, tx: Any) -> None:
        _assert(isinstance(tx, dict) and isinstance(tx.get("operations"), list), "trx.operations.size() > 0")
        self._push_pending(tx)
        return None

    def _history_get_account_history(self, conn: SimConnection, *args: Any) -> list[Any]:
        return []

    # database API (0)

    def _database_get_chain_id(self, conn: SimConnection) -> str:
        return CHAIN_ID

    def _database_get_chain_properties(self, conn: SimConnection) -> dict[str, Any]:
        return {"id": "2.11.0", "chain_id": CHAIN_ID, "immutable_parameters": {}}

    def _database_get_dynamic_global_properties(self, conn: SimConnection) -> dict[str, Any]:
        return self.objects["2.1.0"]

    def _database_get_objects(self, conn: SimConnection, ids: list[Any], subscribe: Any = None) -> list[Any]:
        _assert(isinstance(ids, list) and len(ids) <= 100, "ids.size() <= 100: too many ids")
        out = []
        for oid in ids:
            _assert(isinstance(oid, str) and _is_id(oid), f"invalid object id '{oid}'")
            obj = self.objects.get(oid)
            out.append(obj)
            if obj is not None and subscribe is not False:
                conn.state["subscribed"].add(oid)
        return out

    def _database_get_assets(self, conn: SimConnection, ids: list[Any], subscribe: Any = None) -> list[Any]:
        return [self.assets.get(i) if isinstance(i, str) else None for i in ids]

    def _database_lookup_asset_symbols(self, conn: SimConnection, names: list[Any]) -> list[Any]:
        _assert(isinstance(names, list), "symbols_or_ids must be an array")
        return [self._asset(n) for n in names]

    def _database_get_full_accounts(self, conn: SimConnection, names: list[Any], subscribe: Any = None) -> list[Any]:
        _assert(isinstance(names, list) and len(names) <= 50, "names_or_ids.size() <= 50: too many accounts")
        out = []
        for name in names:
            account = self._account(name)
            if account is None:
                continue
            if subscribe and len(conn.state["accounts"]) < _ACCOUNTS_LIMIT:
                conn.state["accounts"].add(account["id"])
            orders = [
                o for o in self.objects.values() if o["id"].startswith("1.7.") and o.get("seller") == account["id"]
            ]
            out.append(
                [
                    name,
                    {
                        "account": account,
                        "statistics": self.objects[account["statistics"]],
                        "registrar_name": "init0",
                        "referrer_name": "init0",
                        "lifetime_referrer_name": "init0",
                        "balances": [],
                        "limit_orders": orders,
                        "call_orders": [],
                        "settle_orders": [],
                        "vesting_balances": [],
                        "proposals": [],
                        "assets": [],
                        "withdraws": [],
                        "htlcs": [],
                    },
                ]
            )
        return out

    def _database_get_account_by_name(self, conn: SimConnection, name: Any) -> dict[str, Any] | None:
        _assert(isinstance(name, str), "account name must be a string")
        return self._account(name) if not str(name).startswith("1.2.") else None

    def _book_sides(self, base: dict[str, Any], quote: dict[str, Any]) -> tuple[list[dict[str, Any]], ...]:
        """Bids and asks, best first, as ``get_order_book`` orders priced in ``base`` per ``quote``."""
        sim = self.sim_market(base, quote)
        if sim is None or sim.book is None:
            return [], []
        m = sim.market
        flipped = sim.base["id"] != base["id"]
        bp, qp = int(base["precision"]), int(quote["precision"])
        bids: list[dict[str, Any]] = []
        asks: list[dict[str, Any]] = []
        for order in sim.book.orders():
            price = m.tick_size * order.price  # sim.base per sim.quote
            size = Decimal(order.units).scaleb(-m.size_decimals)  # in sim.quote
            if flipped:  # asked with the pair the other way round: invert the price, swap sides
                base_amount, quote_amount, price = size, size * price, 1 / price
                side = "ask" if order.side == "bid" else "bid"
            else:
                base_amount, quote_amount, side = size * price, size, order.side
            entry = {
                "price": _fixed(price, bp + qp),
                "quote": _fixed(quote_amount, qp),
                "base": _fixed(base_amount, bp),
                "owner_id": sim.sellers.get(order.order_id, "1.2.17"),
                "owner_name": self._account_name(sim.sellers.get(order.order_id, "1.2.17")),
                "time": "2026-01-01T00:00:00",
                "_sort": price,
            }
            (bids if side == "bid" else asks).append(entry)
        bids.sort(key=lambda e: e["_sort"], reverse=True)
        asks.sort(key=lambda e: e["_sort"])
        for entry in bids + asks:
            del entry["_sort"]
        return bids, asks

    def _account_name(self, account_id: str) -> str:
        account = self.objects.get(account_id)
        return str(account["name"]) if account else ""

    def _database_get_order_book(self, conn: SimConnection, base: Any, quote: Any, limit: Any = 50) -> dict[str, Any]:
        _assert(isinstance(limit, int) and 0 < limit <= _ORDER_BOOK_LIMIT, f"limit <= {_ORDER_BOOK_LIMIT}")
        asset_base, asset_quote = self._pair(base, quote)
        bids, asks = self._book_sides(asset_base, asset_quote)
        return {
            "base": asset_base["symbol"],
            "quote": asset_quote["symbol"],
            "bids": bids[:limit],
            "asks": asks[:limit],
            "time": self.objects["2.1.0"]["time"],
        }

    def _database_get_ticker(self, conn: SimConnection, base: Any, quote: Any) -> dict[str, Any]:
        asset_base, asset_quote = self._pair(base, quote)
        bids, asks = self._book_sides(asset_base, asset_quote)
        bp, qp = int(asset_base["precision"]), int(asset_quote["precision"])
        fills = self.sent_fills.get(f"{asset_base['symbol']}:{asset_quote['symbol']}") or self.sent_fills.get(
            f"{asset_quote['symbol']}:{asset_base['symbol']}"
        )
        mid = asks[0]["price"] if asks else bids[0]["price"] if bids else "0"
        latest = mid if not fills else (bids[0]["price"] if bids else mid)
        zero_b, zero_q = _fixed(Decimal(0), bp), _fixed(Decimal(0), qp)
        return {
            "time": self.objects["2.1.0"]["time"],
            "base": asset_base["symbol"],
            "quote": asset_quote["symbol"],
            "latest": latest,
            "lowest_ask": asks[0]["price"] if asks else "0",
            "lowest_ask_base_size": asks[0]["base"] if asks else zero_b,
            "lowest_ask_quote_size": asks[0]["quote"] if asks else zero_q,
            "highest_bid": bids[0]["price"] if bids else "0",
            "highest_bid_base_size": bids[0]["base"] if bids else zero_b,
            "highest_bid_quote_size": bids[0]["quote"] if bids else zero_q,
            "percent_change": "0",
            "base_volume": zero_b,
            "quote_volume": zero_q,
            "mto_id": "2.18.0",
        }

    def _account(self, name: Any) -> dict[str, Any] | None:
        if not isinstance(name, str):
            return None
        if name.startswith("1.2."):
            return self.objects.get(name)
        for obj in self.objects.values():
            if obj["id"].startswith("1.2.") and obj.get("name") == name:
                return obj
        return None

    def _database_get_limit_orders(self, conn: SimConnection, a: Any, b: Any, limit: Any) -> list[Any]:
        _assert(isinstance(limit, int) and 0 < limit <= _SNAPSHOT_LIMIT, f"limit <= {_SNAPSHOT_LIMIT}")
        asset_a, asset_b = self._pair(a, b)
        sim = self.sim_market(asset_a, asset_b)
        if sim is None or sim.book is None:
            return []
        bids = [o for o in sim.book.orders() if o.side == "bid"][:limit]
        asks = [o for o in sim.book.orders() if o.side == "ask"][:limit]
        return [sim.order_object(o) for o in bids + asks]

    def _database_subscribe_to_market(self, conn: SimConnection, callback: Any, a: Any, b: Any) -> None:
        _assert(isinstance(callback, int), "callback must be a callback id")
        asset_a, asset_b = self._pair(a, b)
        pair = tuple(sorted((asset_a["id"], asset_b["id"])))
        if self.faults.should_reject(f"{asset_a['symbol']}:{asset_b['symbol']}"):
            raise RpcFailure("_market_subscriptions.size() < limit: market subscriptions refused by the node")
        conn.state["markets"][pair] = callback
        self.sim_market(asset_a, asset_b)
        return None

    def _database_unsubscribe_from_market(self, conn: SimConnection, a: Any, b: Any) -> None:
        asset_a, asset_b = self._pair(a, b)
        conn.state["markets"].pop(tuple(sorted((asset_a["id"], asset_b["id"]))), None)
        return None

    def _database_set_subscribe_callback(self, conn: SimConnection, callback: Any, notify_remove_create: Any) -> None:
        _assert(isinstance(callback, int), "callback must be a callback id")
        _assert(
            not notify_remove_create,
            "_app_options == nullptr || _app_options->enable_subscribe_to_all: "
            "Subscribing to universal object creation and removal is disallowed in this server.",
        )
        conn.state.update(object_cb=callback, subscribed=set(), accounts=set())
        return None

    def _database_set_pending_transaction_callback(self, conn: SimConnection, callback: Any) -> None:
        _assert(isinstance(callback, int), "callback must be a callback id")
        conn.state["tx_cb"] = callback
        return None

    def _database_set_block_applied_callback(self, conn: SimConnection, callback: Any) -> None:
        _assert(isinstance(callback, int), "callback must be a callback id")
        conn.state["block_cb"] = callback
        return None

    def _database_cancel_all_subscriptions(self, conn: SimConnection) -> None:
        conn.state.update(object_cb=None, subscribed=set(), accounts=set(), markets={}, block_cb=None, tx_cb=None)
        return None

    # -- blocks ----------------------------------------------------------------------------

    def _notice(self, conn: SimConnection, callback: int, arg: Any) -> None:
        conn.send(orjson.dumps({"method": "notice", "params": [callback, [arg]]}).decode())

    def _push_pending(self, tx: dict[str, Any]) -> None:
        self.sent_transactions.append(tx)
        for conn in self.connections:
            callback = conn.state.get("tx_cb")
            if callback is not None:
                self._notice(conn, callback, tx)

    def on_tick(self, now: float) -> None:
        sender = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        receiver = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        amount = self._rng.randrange(1, 10**7)
        tx = {
            "ref_block_num": self.head_block & 0xFFFF,
            "ref_block_prefix": self._rng.randrange(2**32),
            "expiration": "2030-01-01T00:00:00",
            "operations": [
                [
                    0,
                    {
                        "fee": {"amount": 86869, "asset_id": "1.3.0"},
                        "from": sender,
                        "to": receiver,
                        "amount": {"amount": amount, "asset_id": "1.3.0"},
                        "extensions": [],
                    },
                ]
            ],
            "extensions": [],
            "signatures": ["1f" + "".join(self._rng.choice("0123456789abcdef") for _ in range(128))],
        }
        self._push_pending(tx)
        changed: dict[str, dict[str, Any] | None] = {}
        for sim in list(self.sim_markets.values()):
            self._step_market(sim, sim.market.step(now), changed)
        stats = self.objects[self.objects[sender]["statistics"]]
        stats.update(total_ops=stats["total_ops"] + 1, most_recent_op=f"2.9.{next(self._op_counter)}")
        changed[stats["id"]] = stats
        self.head_block += 1
        block_id = self._block_id(self.head_block)
        dgp = self.objects["2.1.0"]
        dgp.update(head_block_number=self.head_block, head_block_id=block_id)
        changed["2.1.0"] = dgp
        self._push_objects(changed)
        self.sent_blocks.append(block_id)
        for conn in self.connections:
            callback = conn.state.get("block_cb")
            if callback is not None:
                self._notice(conn, callback, block_id)

    def _step_market(self, sim: _SimMarket, step: MarketStep, changed: dict[str, dict[str, Any] | None]) -> None:
        assert sim.book is not None
        updates: list[Any] = []
        sent = self.sent_book(sim.symbol)
        for change in step.changes:
            for order in sim.book.apply(change):
                oid = f"1.7.{order.order_id}"
                if order.units:
                    obj = self._place(sim, order)
                    updates.append(obj)
                    changed[oid] = obj
                else:
                    old = self.objects.pop(oid, None)
                    updates.append(oid)
                    changed[oid] = None
                    if old is not None:
                        self._removed_seller[oid] = old.get("seller", "")
                    sim.sellers.pop(order.order_id, None)
            sent.set(change.side, sim.market.price_text(change.price), sim.market.size_text(change.size))
        for trade in step.trades:
            updates.extend(self._fills(sim, trade))
        roll = self._rng.random()
        if sim.call_order is not None and roll < 0.05:
            old_id = sim.call_order["id"]
            self.objects.pop(old_id, None)
            updates.append(old_id)
            self.sent_call_orders.setdefault(sim.symbol, []).append(old_id)
            updates.append(self._new_call_order(sim))
            self.sent_call_orders[sim.symbol].append(dict(sim.call_order))
        elif sim.call_order is not None and roll < 0.3:
            sim.call_order["collateral"] = str(int(sim.call_order["collateral"]) + self._rng.randrange(1, 10**6))
            updates.append(sim.call_order)
            self.sent_call_orders.setdefault(sim.symbol, []).append(dict(sim.call_order))
        if not updates:
            return
        pair = tuple(sorted((sim.base["id"], sim.quote["id"])))
        frame_args = orjson.dumps(updates).decode()
        for conn in self.connections:
            callback = conn.state["markets"].get(pair) if "markets" in conn.state else None
            if callback is not None:
                conn.send(f'{{"method":"notice","params":[{int(callback)},[{frame_args}]]}}')
        self.record_truth(sim.symbol)

    def _fills(self, sim: _SimMarket, trade: SimTrade) -> list[Any]:
        quote_sats = trade.size * sim.unit_quote_sats
        base_sats = sim.base_sats(trade.price, trade.size)
        base_id, quote_id = sim.base["id"], sim.quote["id"]
        quote_amt = {"amount": quote_sats, "asset_id": quote_id}
        base_amt = {"amount": base_sats, "asset_id": base_id}
        fill_price = {
            "base": {"amount": trade.price * sim.tick_sats, "asset_id": base_id},
            "quote": {"amount": sim.quote_scale, "asset_id": quote_id},
        }
        maker_account = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        taker_account = f"1.2.{_FIRST_ACCOUNT + self._rng.randrange(len(_ACCOUNTS))}"
        maker_id, taker_id = f"1.7.{next(self._order_ids)}", f"1.7.{next(self._order_ids)}"
        # taker "buy" lifted an ask: the taker paid base and got quote; the maker the reverse.
        taker_pays, taker_gets = (base_amt, quote_amt) if trade.side == "buy" else (quote_amt, base_amt)
        fee = {"amount": 0, "asset_id": quote_id}
        maker = {
            "fee": fee,
            "order_id": maker_id,
            "account_id": maker_account,
            "pays": taker_gets,
            "receives": taker_pays,
            "fill_price": fill_price,
            "is_maker": True,
        }
        taker = {
            "fee": fee,
            "order_id": taker_id,
            "account_id": taker_account,
            "pays": taker_pays,
            "receives": taker_gets,
            "fill_price": fill_price,
            "is_maker": False,
        }
        record = {
            "price": sim.market.price(trade.price),
            "size": sim.market.size(trade.size),
            "taker_side": trade.side,
            "maker_order": maker_id,
            "taker_order": taker_id,
        }
        self.sent_fills.setdefault(sim.symbol, []).append(record)
        return [[[4, maker], [0, {}]], [[4, taker], [0, {}]]]

    def _push_objects(self, changed: dict[str, dict[str, Any] | None]) -> None:
        for conn in self.connections:
            callback = conn.state.get("object_cb")
            if callback is None:
                continue
            subscribed: set[str] = conn.state["subscribed"]
            accounts: set[str] = conn.state["accounts"]
            items: list[Any] = []
            for oid, obj in changed.items():
                owner = _impacted(obj) if obj is not None else self._removed_seller.get(oid, "")
                if oid in subscribed or (owner and owner in accounts):
                    items.append(obj if obj is not None else oid)
                    if obj is None:
                        subscribed.discard(oid)
            if items:
                self._notice(conn, callback, items)
        self._removed_seller.clear()


def _fixed(value: Decimal, places: int) -> str:
    """A decimal string with at most ``places`` decimals and no trailing zeros (as the node prints)."""
    text = format(value.quantize(Decimal(1).scaleb(-places)) if places else value.to_integral_value(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _asset_object(a: dict[str, Any]) -> dict[str, Any]:
    """A ``1.3.x`` asset object shaped like the node's (options, dynamic and bitasset data ids)."""
    num = str(a["id"]).rsplit(".", 1)[1]
    core = a["id"] == "1.3.0"
    obj: dict[str, Any] = dict(a)
    obj["issuer"] = "1.2.3" if core else "1.2.0"
    obj["options"] = {
        "max_supply": "360057050210207" if core else "1000000000000000",
        "market_fee_percent": 0,
        "max_market_fee": "1000000000000000",
        "issuer_permissions": 0 if core else 511,
        "flags": 0 if core else 128,
        "core_exchange_rate": {
            "base": {"amount": 1, "asset_id": "1.3.0"},
            "quote": {"amount": 1, "asset_id": a["id"]},
        },
        "whitelist_authorities": [],
        "blacklist_authorities": [],
        "whitelist_markets": [],
        "blacklist_markets": [],
        "description": "" if core else f"1 {a['symbol']} (market-issued)",
        "extensions": {},
    }
    obj["dynamic_asset_data_id"] = f"2.3.{num}"
    if not core:
        obj["bitasset_data_id"] = f"2.4.{int(num) - 100}"
    return obj


def _impacted(obj: dict[str, Any]) -> str:
    return str(obj.get("owner") or obj.get("seller") or obj.get("borrower") or "")


def _is_id(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)

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

from decimal import Decimal
from typing import Any

import orjson

from ..server import SimConnection
from ._base import (
    _ACCOUNTS_LIMIT,
    _ORDER_BOOK_LIMIT,
    _SNAPSHOT_LIMIT,
    CHAIN_ID,
    RpcFailure,
    _assert,
    _fixed,
    _is_id,
)
from .blocks import BitSharesBlocks

__all__ = ["BitSharesSim"]


class BitSharesSim(BitSharesBlocks):
    """A BitShares full node as far as notifications go (see the module docstring).

    Args:
        credentials: ``{user: password}`` the login API accepts; ``None`` (default) is the
            node's ``"*"`` wildcard: any login succeeds.  With credentials, a session that has
            not logged in may still use the database API (as with a ``"*"`` entry limited to
            it) but ``network_broadcast``/``history`` answer "Access denied".
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``tick_interval``
            = the block interval...).
    """

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

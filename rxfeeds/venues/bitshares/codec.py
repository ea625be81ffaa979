"""Sans-I/O codec for the BitShares (graphene) node websocket API (protocols.md §1).

Framing is fc JSON-RPC ``call``: ``{"method":"call","params":[API,"method",[args]],"jsonrpc":"2.0","id":N}``.
API 1 is the login API, API 0 the database API.  Server pushes are
``{"method":"notice","params":[CALLBACK_ID,[ARG]]}``; the callback id is whatever the client passed
where a callback was expected, so the codec picks one id per slot, like python-bitshares
(``on_tx`` = 0, ``on_object`` = 1, ``on_block`` = 2), and one id per market starting at 4 (the
original's ``on_market`` slot) so that removed-order id strings and fills, which name no asset,
can still be routed to the right market.

Routing keys (``(channel, symbol)``):

==========================  ========================================================================
``("objects", "1.2.0,1.3.x")``   objects by id, or ``a.b.x`` wildcards matching whatever the node pushes
``("accounts", "init0,1.2.17")`` account statistics objects (``2.6.x``) of those accounts
``("blocks", "")``                applied block ids
``("transactions", "")``          pending transactions
``("market", "BASE:QUOTE")``      limit orders (:class:`~rxfeeds.events.BookOrder`), call orders, fills
==========================  ========================================================================

Every (re)connection opens with :meth:`BitSharesCodec.on_open_frames` (login when credentials are
set, ``database``, ``set_subscribe_callback``); the socket subject then re-sends each active key's
subscribe frames, so subscriptions survive reconnects.

Request ids: the codec's own session and subscription calls are numbered from 1 on every
connection (a reply cannot outlive its socket), so a recorded session replays with the same
ids when the same streams are subscribed in the same order; user calls and keep-alives take
ids from :data:`USER_IDS` up, never reused within a codec.

Example:
    >>> c = BitSharesCodec()
    >>> c.subscribe_frames(("blocks", ""))[0]
    '{"method":"call","params":[0,"set_block_applied_callback",[2]],"jsonrpc":"2.0","id":1}'
    >>> [m.events[0].block_num for m in c.decode(
    ...     b'{"method":"notice","params":[2,["0062f19df70ecf3a478a84b4607d9ad8b3e3b607"]]}', 1.0)]
    [6484381]
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from ...codec import BaseCodec, Data, Key, Message, Notice, Pong, Rejected, Reply
from ...errors import AuthError, FrameError, InvalidArgument, SubscriptionError, UnknownMessage
from ...events import Event
from ...numeric import DECODE_ERRORS
from .callbacks import Routes
from .constants import (
    BLOCK_CALLBACK,
    DATABASE_API,
    FIRST_MARKET_CALLBACK,
    LOGIN_API,
    OBJECT_CALLBACK,
    SNAPSHOT_LIMIT,
    TX_CALLBACK,
    USER_IDS,
    VENUE,
)
from .errors import BitSharesRPCError, rpc_error
from .events import AccountUpdate, BlockApplied, CallOrderUpdate, ObjectUpdate, OrderFill, PendingTransaction
from .ids import check_object_ids, market_symbol, parse_ids
from .market import apply_assets, decode_items, release_early

# the public names stay importable from here (the codec's home since the first release)
__all__ = [
    "VENUE",
    "USER_IDS",
    "TX_CALLBACK",
    "OBJECT_CALLBACK",
    "BLOCK_CALLBACK",
    "FIRST_MARKET_CALLBACK",
    "BitSharesCodec",
    "BitSharesRPCError",
    "ObjectUpdate",
    "AccountUpdate",
    "BlockApplied",
    "PendingTransaction",
    "OrderFill",
    "CallOrderUpdate",
    "parse_ids",
    "check_object_ids",
    "market_symbol",
]


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class BitSharesCodec(BaseCodec):
    """The BitShares node protocol (see the module docstring).

    Args:
        user, password: login API credentials; login is sent only when one of them is set.

    Thread safety: ``subscribe_frames``/``request_frame`` may run on user threads while
    ``decode`` runs on the socket thread; shared tables are replaced or guarded by a lock.

    Example:
        >>> c = BitSharesCodec()
        >>> [orjson.loads(f)["params"][1] for f in c.on_open_frames()]
        ['database', 'set_subscribe_callback']
    """

    venue = VENUE

    def __init__(self, user: str = "", password: str = "") -> None:
        self._user = user
        self._password = password
        self._ids = itertools.count(USER_IDS)
        self._internal_ids = itertools.count(1)
        # Request id -> (purpose, key or None): replies the codec consumes itself.
        self._internal: dict[int, tuple[str, Key | None]] = {}
        # Registered subscriptions and routing indexes (they survive reconnects).
        self._routes = Routes()
        self.logged_in: bool | None = None

    def __repr__(self) -> str:
        who = f"user={self._user!r}, password=***" if (self._user or self._password) else "anonymous"
        return f"BitSharesCodec({who})"

    # ------------------------------------------------------------------ frames

    def next_id(self) -> int:
        """A fresh id for a user call (never reused within one codec)."""
        return next(self._ids)

    def call_frame(self, request_id: int, api: int | str, method: str, params: list[Any]) -> str:
        """The ``call`` frame for ``api.method(*params)`` with id ``request_id``.

        Example:
            >>> BitSharesCodec().call_frame(7, 0, "get_objects", [["2.1.0"]])
            '{"method":"call","params":[0,"get_objects",[["2.1.0"]]],"jsonrpc":"2.0","id":7}'
        """
        return _dumps({"method": "call", "params": [api, method, params], "jsonrpc": "2.0", "id": request_id})

    def _internal_call(self, purpose: str, key: Key | None, api: int | str, method: str, params: list[Any]) -> str:
        rid = next(self._internal_ids)
        self._internal[rid] = (purpose, key)
        return self.call_frame(rid, api, method, params)

    def login_frame(self, request_id: int) -> str:
        """A ``login`` call with this codec's credentials (for an explicit login check)."""
        return self.call_frame(request_id, LOGIN_API, "login", [self._user, self._password])

    def redact(self, frame: str) -> str:
        """``frame`` with the login password masked (for recorders and logs).

        Example:
            >>> c = BitSharesCodec("bob", "pw")
            >>> c.redact(c.login_frame(1))
            '{"method":"call","params":[1,"login",["bob","***"]],"jsonrpc":"2.0","id":1}'
        """
        if '"login"' not in frame or not self._password:
            return frame
        try:
            msg = orjson.loads(frame)
            params = msg["params"]
            if params[1] == "login" and isinstance(params[2], list) and len(params[2]) >= 2:
                params[2][1:] = ["***"] * (len(params[2]) - 1)  # everything after the user name
                return _dumps(msg)
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            pass
        return frame

    def on_open_frames(self) -> list[str]:
        frames = []
        if self._user or self._password:
            frames.append(self._internal_call("login", None, LOGIN_API, "login", [self._user, self._password]))
        else:
            next(self._internal_ids)  # id 1 stays the login's: ids do not depend on credentials
        frames.append(self._internal_call("database", None, LOGIN_API, "database", []))
        frames.append(self.session_frames()[0])
        return frames

    def session_frames(self) -> list[str]:
        """The object-callback setup (also sent by ``reset_subscriptions``)."""
        return [self._internal_call("callback", None, DATABASE_API, "set_subscribe_callback", [OBJECT_CALLBACK, False])]

    def cancel_all_frame(self) -> str:
        """``cancel_all_subscriptions`` (the start of ``reset_subscriptions``)."""
        return self._internal_call("callback", None, DATABASE_API, "cancel_all_subscriptions", [])

    def ping_frame(self) -> str:
        rid = self.next_id()
        self._internal[rid] = ("ping", None)
        return self.call_frame(rid, DATABASE_API, "get_objects", [["2.8.0"]])

    def reset(self) -> None:
        with self._routes.lock:
            self._internal.clear()
            self._internal_ids = itertools.count(1)
            self.logged_in = None
            for market in self._routes.markets.values():
                market.early.clear()

    def subscribe_frames(self, key: Key) -> list[str]:
        channel, symbol = key
        if channel == "objects":
            ids = parse_ids(symbol)
            self._routes.add_objects(key, ids)
            concrete = [i for i in ids if not i.endswith(".x")]
            if not concrete:
                return []
            return [self._internal_call("objects", key, DATABASE_API, "get_objects", [concrete, True])]
        if channel == "accounts":
            names = parse_ids(symbol)
            self._routes.add_accounts(key, names)
            return [self._internal_call("accounts", key, DATABASE_API, "get_full_accounts", [names, True])]
        if channel == "blocks":
            self._routes.blocks = True
            return [self._internal_call("blocks", key, DATABASE_API, "set_block_applied_callback", [BLOCK_CALLBACK])]
        if channel == "transactions":
            self._routes.transactions = True
            return [
                self._internal_call(
                    "transactions", key, DATABASE_API, "set_pending_transaction_callback", [TX_CALLBACK]
                )
            ]
        if channel == "market":
            base, _, quote = symbol.partition(":")
            market = self._routes.add_market(key)
            return [
                self._internal_call("assets", key, DATABASE_API, "lookup_asset_symbols", [[base, quote]]),
                self._internal_call("market", key, DATABASE_API, "subscribe_to_market", [market.callback, base, quote]),
                self._internal_call("snapshot", key, DATABASE_API, "get_limit_orders", [base, quote, SNAPSHOT_LIMIT]),
            ]
        raise InvalidArgument("key", key, "unknown BitShares channel")

    def unsubscribe_frames(self, key: Key) -> list[str]:
        channel, symbol = key
        self._routes.remove(key)
        if channel == "market":
            base, _, quote = symbol.partition(":")
            return [self._internal_call("unsubscribe", key, DATABASE_API, "unsubscribe_from_market", [base, quote])]
        # Objects, accounts, block and pending-tx callbacks have no per-item cancel short of
        # cancel_all_subscriptions; the codec stops routing them instead.
        return []

    # ------------------------------------------------------------------ decode

    def decode(self, frame: str | bytes, recv_time: float) -> list[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS:
            raise FrameError("invalid JSON", frame, VENUE) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("expected a JSON object", frame, VENUE)
        try:
            if msg.get("method") == "notice":
                return self._notice(msg["params"], recv_time)
            rid = msg.get("id")
            if rid is None or ("result" not in msg and "error" not in msg):
                raise UnknownMessage("neither a reply nor a notice", frame, VENUE)
            internal = self._internal.pop(rid, None) if isinstance(rid, int) else None
            if internal is None:
                if "error" in msg:
                    return [Reply(rid, error=rpc_error(msg["error"]))]
                return [Reply(rid, result=msg["result"])]
            return self._internal_reply(rid, internal[0], internal[1], msg, recv_time)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"unexpected shape ({type(exc).__name__}: {exc})", frame, VENUE) from None

    def _internal_reply(
        self, rid: int, purpose: str, key: Key | None, msg: dict[str, Any], recv_time: float
    ) -> list[Message]:
        error = rpc_error(msg["error"]) if "error" in msg else None
        result = msg.get("result")
        if purpose == "ping":
            return [Pong(rid)]
        if purpose == "login":
            self.logged_in = error is None and bool(result)
            if not self.logged_in:
                why = error.message if error is not None else "wrong user name or password"
                return [Notice(AuthError(VENUE, f"login refused for user {self._user!r}: {why}"))]
            return []
        if key is None or purpose == "unsubscribe":
            return [Notice(error)] if error is not None else []
        if error is not None:
            return self._reject(key, f"{error.message}" + (f" [{error.code}]" if error.code is not None else ""))
        if purpose == "objects":
            return self._initial_objects(key, result, recv_time)
        if purpose == "accounts":
            return self._initial_accounts(key, result, recv_time)
        if purpose == "assets":
            return self._market_assets(key, result)
        if purpose == "snapshot":
            market = self._routes.markets.get(key)
            if market is None:
                return []
            return decode_items(market, list(result or ()), recv_time, snapshot=True)
        return []

    def _reject(self, key: Key, why: str) -> list[Message]:
        self._routes.remove(key)
        return [Rejected(key, SubscriptionError(VENUE, key, why))]

    def _initial_objects(self, key: Key, result: Any, recv_time: float) -> list[Message]:
        watched = self._routes.object_keys.get(key)
        if watched is None:
            return []
        concrete = [i for i in watched if not i.endswith(".x")]
        if not isinstance(result, list) or not all(isinstance(o, dict) or o is None for o in result):
            return self._reject(key, f"unexpected get_objects reply: {str(result)[:80]}")
        missing = [oid for oid, obj in zip(concrete, result, strict=False) if obj is None]
        if missing or len(result) != len(concrete):
            return self._reject(key, f"unknown object id(s): {', '.join(missing)}")
        events = [
            ObjectUpdate(
                VENUE,
                key[1],
                recv_time,
                recv_time,
                kind="object",
                data=obj,
                object_id=obj["id"],
                initial=True,
            )
            for obj in result
        ]
        return [Data(key, events)]

    def _initial_accounts(self, key: Key, result: Any, recv_time: float) -> list[Message]:
        names = self._routes.account_keys.get(key)
        if names is None:
            return []
        found: dict[str, dict[str, Any]] = {}
        if not isinstance(result, list):
            return self._reject(key, f"unexpected get_full_accounts reply: {str(result)[:80]}")
        for entry in result:
            name, full = entry[0], entry[1]
            found[name] = full
        missing = [n for n in names if n not in found]
        if missing:
            return self._reject(key, f"unknown account(s): {', '.join(missing)}")
        events: list[Event] = []
        self._routes.resolve_accounts(key, [(name, found[name]["account"]["id"]) for name in names])
        for name in names:
            full = found[name]
            stats = full.get("statistics")
            if isinstance(stats, dict):
                events.append(
                    AccountUpdate(
                        VENUE,
                        key[1],
                        recv_time,
                        recv_time,
                        kind="account",
                        data=stats,
                        account=name,
                        account_id=full["account"]["id"],
                        initial=True,
                    )
                )
        return [Data(key, events)]

    def _market_assets(self, key: Key, result: Any) -> list[Message]:
        market = self._routes.markets.get(key)
        if market is None:
            return []
        refused = apply_assets(market, result)
        if refused is not None:
            return self._reject(key, refused)
        return release_early(market)

    # ------------------------------------------------------------------ notices

    def _notice(self, params: list[Any], recv_time: float) -> list[Message]:
        callback, args = params[0], params[1]
        if callback == OBJECT_CALLBACK:
            return self._object_notice(args, recv_time)
        if callback == BLOCK_CALLBACK:
            if not self._routes.blocks:
                return []
            events: list[Event] = []
            for block_id in args:
                events.append(
                    BlockApplied(
                        VENUE,
                        "",
                        recv_time,
                        recv_time,
                        kind="block",
                        data=block_id,
                        block_id=block_id,
                        block_num=int(block_id[:8], 16),
                    )
                )
            return [Data(("blocks", ""), events)]
        if callback == TX_CALLBACK:
            if not self._routes.transactions:
                return []
            txs: list[Event] = [
                PendingTransaction(VENUE, "", recv_time, recv_time, kind="transaction", data=tx) for tx in args
            ]
            return [Data(("transactions", ""), txs)]
        market = self._routes.market_by_callback.get(callback)
        if market is None:
            return []
        # one notice is one message: its orders go out as one batch (order_book applies it whole)
        items: list[Any] = []
        for updates in args:
            items.extend(updates if isinstance(updates, list) else [updates])
        return decode_items(market, items, recv_time, False)

    def _object_notice(self, args: list[Any], recv_time: float) -> list[Message]:
        per_key: dict[Key, list[Event]] = {}
        routes = self._routes
        exact, wild, owners = routes.exact, routes.wild, routes.owners
        for arg in args:
            items = [arg] if isinstance(arg, (dict, str)) else arg
            for item in items:
                if isinstance(item, dict):
                    oid = item["id"]
                    obj: dict[str, Any] | None = item
                elif isinstance(item, str):
                    oid, obj = item, None
                else:
                    continue
                prefix = oid[: oid.rfind(".") + 1]
                for key in (*exact.get(oid, ()), *wild.get(prefix, ())):
                    per_key.setdefault(key, []).append(
                        ObjectUpdate(
                            VENUE,
                            key[1],
                            recv_time,
                            recv_time,
                            kind="object",
                            data=obj,
                            object_id=oid,
                            removed=obj is None,
                        )
                    )
                if obj is not None and prefix == "2.6.":
                    for key, name in owners.get(obj.get("owner", ""), ()):
                        per_key.setdefault(key, []).append(
                            AccountUpdate(
                                VENUE,
                                key[1],
                                recv_time,
                                recv_time,
                                kind="account",
                                data=obj,
                                account=name,
                                account_id=obj["owner"],
                            )
                        )
        return [Data(key, events) for key, events in per_key.items()]

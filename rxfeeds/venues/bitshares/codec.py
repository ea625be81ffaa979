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

import dataclasses
import itertools
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from ...codec import BaseCodec, Data, Key, Message, Notice, Pong, Rejected, Reply
from ...errors import AuthError, FrameError, InvalidArgument, RequestError, SubscriptionError, UnknownMessage
from ...events import BookOrder, Event, Side, VenueEvent
from ...numeric import DECODE_ERRORS, MAX_TEXT, BadValue
from ...numeric import price as check_price
from ...numeric import size as check_size

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

VENUE = "bitshares"
TX_CALLBACK = 0
OBJECT_CALLBACK = 1
BLOCK_CALLBACK = 2
FIRST_MARKET_CALLBACK = 4
LOGIN_API = 1
#: first id of user calls and keep-alives (session and subscription calls count from 1 per connection)
USER_IDS = 1_000_000
DATABASE_API = 0
#: ``get_limit_orders`` node limit (``api_limit_get_limit_orders``): the market's first image.
SNAPSHOT_LIMIT = 300
_MESSAGE_SHOWN = 300
_EARLY_LIMIT = 1000


# ---------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class ObjectUpdate(VenueEvent):
    """A chain object changed (``data`` is the full object) or was removed (``data`` is None).

    ``initial`` marks the current state returned when the subscription was made.

    Example:
        >>> ObjectUpdate("bitshares", "2.1.0", 1.0, 1.0, kind="object", data={"id": "2.1.0"},
        ...              object_id="2.1.0").object_id
        '2.1.0'
    """

    object_id: str = ""
    removed: bool = False
    initial: bool = False


@dataclass(frozen=True, slots=True)
class AccountUpdate(VenueEvent):
    """Account statistics (``2.6.x``) of ``account`` (the name or id as subscribed).

    Example:
        >>> AccountUpdate("bitshares", "init0", 1.0, 1.0, kind="account", data={"total_ops": 5},
        ...               account="init0", account_id="1.2.17").data["total_ops"]
        5
    """

    account: str = ""
    account_id: str = ""
    initial: bool = False


@dataclass(frozen=True, slots=True)
class BlockApplied(VenueEvent):
    """A block was applied; ``block_num`` is the first four bytes of the block id.

    Example:
        >>> BlockApplied("bitshares", "", 1.0, 1.0, kind="block", data="00000005ab",
        ...              block_id="00000005ab", block_num=5).block_num
        5
    """

    block_id: str = ""
    block_num: int = 0


@dataclass(frozen=True, slots=True)
class PendingTransaction(VenueEvent):
    """A signed transaction entered the node's pending pool (``data`` is the transaction).

    Example:
        >>> PendingTransaction("bitshares", "", 1.0, 1.0, kind="transaction", data={"operations": []}).kind
        'transaction'
    """


@dataclass(frozen=True, slots=True)
class OrderFill(VenueEvent):
    """A ``fill_order`` operation (op 4) seen in a subscribed market.

    Each match fills two orders, so a match produces two fills (one per side).  ``side`` is the
    filled order's side in this market (``"buy"`` pays base for quote); ``price`` is in base per
    quote and ``size`` in quote units.

    Example:
        >>> OrderFill("bitshares", "BTS:USD", 1.0, 1.0, kind="fill", order_id="1.7.5", side="buy",
        ...           price=0.5, size=10.0).size
        10.0
    """

    order_id: str = ""
    account_id: str = ""
    side: Side | None = None
    price: float = 0.0
    size: float = 0.0
    is_maker: bool | None = None


@dataclass(frozen=True, slots=True)
class CallOrderUpdate(VenueEvent):
    """A margin (call) order ``1.8.x`` changed or was removed; amounts in asset units.

    Example:
        >>> CallOrderUpdate("bitshares", "BTS:USD", 1.0, 1.0, kind="call_order", order_id="1.8.1",
        ...                 borrower="1.2.5", collateral=100.0, debt=1.0).debt
        1.0
    """

    order_id: str = ""
    borrower: str = ""
    collateral: float = 0.0
    debt: float = 0.0
    removed: bool = False


class BitSharesRPCError(RequestError):
    """A JSON-RPC error reply: ``code`` is the fc/JSON-RPC code, ``message`` the node's text.

    ``data`` keeps the node's structured exception (may be None).

    Example:
        >>> str(BitSharesRPCError("bitshares", "Method not found", -32601))
        'bitshares [-32601]: Method not found'
    """

    def __init__(self, venue: str, message: str, code: int | str | None = None, data: Any = None) -> None:
        super().__init__(venue, message, code)
        self.data = data


# ---------------------------------------------------------------------------------------- helpers


def parse_ids(text: str) -> list[str]:
    """Split a comma-joined key symbol back into its parts (order kept, blanks dropped).

    Example:
        >>> parse_ids("1.2.0, 1.3.x")
        ['1.2.0', '1.3.x']
    """
    return [part.strip() for part in text.split(",") if part.strip()]


def _is_object_id(text: str, wildcard: bool) -> bool:
    parts = text.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    return parts[2].isdigit() or (wildcard and parts[2] == "x")


def check_object_ids(ids: list[str], name: str = "ids") -> None:
    """Raise :class:`InvalidArgument` unless every id is ``a.b.c`` or an ``a.b.x`` wildcard."""
    if not ids:
        raise InvalidArgument(name, ids, "give at least one object id")
    for oid in ids:
        if not isinstance(oid, str) or not _is_object_id(oid, wildcard=True):
            raise InvalidArgument(name, oid, "object ids look like '1.2.0', wildcards like '1.7.x'")


def market_symbol(base: str, quote: str) -> str:
    """The key symbol of a market: ``"BASE:QUOTE"`` (prices are in base per quote).

    Example:
        >>> market_symbol("BTS", "USD")
        'BTS:USD'
    """
    return f"{base}:{quote}"


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _amount(value: Any) -> int:
    """A chain amount (an int64 of the asset's smallest unit), checked: not negative, in range."""
    # Big integers arrive as JSON strings; a float or bool is not an amount.
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise BadValue("amount text too long")
        value = int(value)
    elif kind is not int:
        raise BadValue(f"amount is a {kind.__name__}, not an integer")
    if 0 <= value < _MAX_AMOUNT:
        return value  # type: ignore[no-any-return]
    raise BadValue(f"amount out of range: {value!r}"[:100])


_MAX_AMOUNT = 2**63


def _scale(precision: Any) -> float:
    """``10 ** precision`` of an asset; BitShares precisions are 0 to 12 (bounded, so no overflow)."""
    if type(precision) is not int or not 0 <= precision <= 18:
        raise BadValue(f"asset precision out of range: {precision!r}"[:100])
    return 10.0**precision


@dataclass(slots=True)
class _Asset:
    asset_id: str
    symbol: str
    scale: float  # 10 ** precision


class _Market:
    """Per-market state: asset info (from ``lookup_asset_symbols``), order sides, early notices."""

    __slots__ = ("base", "callback", "early", "imaged", "key", "orders", "quote")

    def __init__(self, key: Key, callback: int) -> None:
        self.key = key
        self.callback = callback
        self.base: _Asset | None = None
        self.quote: _Asset | None = None
        self.orders: dict[str, tuple[Side, float]] = {}
        self.early: list[tuple[list[Any], float, bool]] = []
        # Order notices before the first image are covered by it (the node answers in order).
        self.imaged = False


# ---------------------------------------------------------------------------------------- codec


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
        self._lock = threading.Lock()
        # Request id -> (purpose, key or None): replies the codec consumes itself.
        self._internal: dict[int, tuple[str, Key | None]] = {}
        # Registered subscriptions survive reconnects (the subject re-sends their frames).
        self._object_keys: dict[Key, list[str]] = {}
        self._account_keys: dict[Key, list[str]] = {}
        self._markets: dict[Key, _Market] = {}
        self._market_by_callback: dict[int, _Market] = {}
        self._market_callbacks = itertools.count(FIRST_MARKET_CALLBACK)
        self._blocks = False
        self._transactions = False
        # Routing indexes (rebuilt on (un)register; read on the socket thread).
        self._exact: dict[str, tuple[Key, ...]] = {}
        self._wild: dict[str, tuple[Key, ...]] = {}
        self._owners: dict[str, tuple[tuple[Key, str], ...]] = {}  # account id -> (key, spelling)
        # Account names resolved to ids by get_full_accounts replies (kept across reconnects).
        self._resolved: dict[str, list[tuple[Key, str]]] = {}
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
        with self._lock:
            self._internal.clear()
            self._internal_ids = itertools.count(1)
            self.logged_in = None
            for market in self._markets.values():
                market.early.clear()

    def subscribe_frames(self, key: Key) -> list[str]:
        channel, symbol = key
        if channel == "objects":
            ids = parse_ids(symbol)
            with self._lock:
                self._object_keys[key] = ids
                self._reindex()
            concrete = [i for i in ids if not i.endswith(".x")]
            if not concrete:
                return []
            return [self._internal_call("objects", key, DATABASE_API, "get_objects", [concrete, True])]
        if channel == "accounts":
            names = parse_ids(symbol)
            with self._lock:
                self._account_keys[key] = names
                self._reindex()
            return [self._internal_call("accounts", key, DATABASE_API, "get_full_accounts", [names, True])]
        if channel == "blocks":
            self._blocks = True
            return [self._internal_call("blocks", key, DATABASE_API, "set_block_applied_callback", [BLOCK_CALLBACK])]
        if channel == "transactions":
            self._transactions = True
            return [
                self._internal_call(
                    "transactions", key, DATABASE_API, "set_pending_transaction_callback", [TX_CALLBACK]
                )
            ]
        if channel == "market":
            base, _, quote = symbol.partition(":")
            market = _Market(key, next(self._market_callbacks))
            with self._lock:
                old = self._markets.get(key)
                if old is not None:
                    self._market_by_callback.pop(old.callback, None)
                    market.base, market.quote = old.base, old.quote
                self._markets[key] = market
                self._market_by_callback[market.callback] = market
            return [
                self._internal_call("assets", key, DATABASE_API, "lookup_asset_symbols", [[base, quote]]),
                self._internal_call("market", key, DATABASE_API, "subscribe_to_market", [market.callback, base, quote]),
                self._internal_call("snapshot", key, DATABASE_API, "get_limit_orders", [base, quote, SNAPSHOT_LIMIT]),
            ]
        raise InvalidArgument("key", key, "unknown BitShares channel")

    def unsubscribe_frames(self, key: Key) -> list[str]:
        channel, symbol = key
        self._unregister(key)
        if channel == "market":
            base, _, quote = symbol.partition(":")
            return [self._internal_call("unsubscribe", key, DATABASE_API, "unsubscribe_from_market", [base, quote])]
        # Objects, accounts, block and pending-tx callbacks have no per-item cancel short of
        # cancel_all_subscriptions; the codec stops routing them instead.
        return []

    def _unregister(self, key: Key) -> None:
        channel = key[0]
        with self._lock:
            if channel == "objects":
                self._object_keys.pop(key, None)
            elif channel == "accounts":
                self._account_keys.pop(key, None)
            elif channel == "blocks":
                self._blocks = False
            elif channel == "transactions":
                self._transactions = False
            elif channel == "market":
                market = self._markets.pop(key, None)
                if market is not None:
                    self._market_by_callback.pop(market.callback, None)
            self._reindex()

    def _reindex(self) -> None:
        # Caller holds the lock; readers see a complete new table (never a half-built one).
        exact: dict[str, tuple[Key, ...]] = {}
        wild: dict[str, tuple[Key, ...]] = {}
        for key, ids in self._object_keys.items():
            for oid in ids:
                if oid.endswith(".x"):
                    prefix = oid[:-1]
                    wild[prefix] = (*wild.get(prefix, ()), key)
                else:
                    exact[oid] = (*exact.get(oid, ()), key)
        owners: dict[str, tuple[tuple[Key, str], ...]] = {}
        for key, names in self._account_keys.items():
            for name in names:
                if _is_object_id(name, wildcard=False):
                    owners[name] = (*owners.get(name, ()), (key, name))
        for account_id, entries in self._resolved.items():
            for key, name in entries:
                if key in self._account_keys:
                    owners[account_id] = (*owners.get(account_id, ()), (key, name))
        self._exact, self._wild, self._owners = exact, wild, owners

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
            market = self._markets.get(key)
            if market is None:
                return []
            return self._market_items(market, list(result or ()), recv_time, snapshot=True)
        return []

    def _reject(self, key: Key, why: str) -> list[Message]:
        self._unregister(key)
        return [Rejected(key, SubscriptionError(VENUE, key, why))]

    def _initial_objects(self, key: Key, result: Any, recv_time: float) -> list[Message]:
        if key not in self._object_keys:
            return []
        concrete = [i for i in self._object_keys[key] if not i.endswith(".x")]
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
        names = self._account_keys.get(key)
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
        with self._lock:
            for name in names:
                full = found[name]
                account_id = full["account"]["id"]
                entries = self._resolved.setdefault(account_id, [])
                if (key, name) not in entries:
                    entries.append((key, name))
            self._reindex()
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
        market = self._markets.get(key)
        if market is None:
            return []
        base, _, quote = key[1].partition(":")
        if not isinstance(result, list) or len(result) != 2 or result[0] is None or result[1] is None:
            unknown = [n for n, a in zip((base, quote), result or [None, None], strict=False) if a is None]
            return self._reject(key, f"unknown asset(s): {', '.join(unknown) or key[1]}")
        market.base = _Asset(result[0]["id"], result[0]["symbol"], _scale(result[0]["precision"]))
        market.quote = _Asset(result[1]["id"], result[1]["symbol"], _scale(result[1]["precision"]))
        out: list[Message] = []
        early, market.early = market.early, []
        for items, recv_time, snapshot in early:
            out.extend(self._market_items(market, items, recv_time, snapshot))
        return out

    # ------------------------------------------------------------------ notices

    def _notice(self, params: list[Any], recv_time: float) -> list[Message]:
        callback, args = params[0], params[1]
        if callback == OBJECT_CALLBACK:
            return self._object_notice(args, recv_time)
        if callback == BLOCK_CALLBACK:
            if not self._blocks:
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
            if not self._transactions:
                return []
            txs: list[Event] = [
                PendingTransaction(VENUE, "", recv_time, recv_time, kind="transaction", data=tx) for tx in args
            ]
            return [Data(("transactions", ""), txs)]
        market = self._market_by_callback.get(callback)
        if market is None:
            return []
        # one notice is one message: its orders go out as one batch (order_book applies it whole)
        items: list[Any] = []
        for updates in args:
            items.extend(updates if isinstance(updates, list) else [updates])
        return self._market_items(market, items, recv_time, False)

    def _object_notice(self, args: list[Any], recv_time: float) -> list[Message]:
        per_key: dict[Key, list[Event]] = {}
        exact, wild, owners = self._exact, self._wild, self._owners
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

    def _market_items(self, market: _Market, items: list[Any], recv_time: float, snapshot: bool) -> list[Message]:
        base, quote = market.base, market.quote
        if base is None or quote is None:
            if len(market.early) < _EARLY_LIMIT:  # a node that never answers must not grow memory
                market.early.append((items, recv_time, snapshot))
            return []
        symbol = market.key[1]
        events: list[Event] = []
        orders_wanted = snapshot or market.imaged
        if snapshot:
            market.imaged = True
        for item in items:
            if isinstance(item, str):
                if orders_wanted or not item.startswith("1.7."):
                    events.append(self._removed(market, item, recv_time))
            elif isinstance(item, dict):
                if "for_sale" in item and "sell_price" in item:
                    if orders_wanted:
                        events.append(self._limit_order(market, base, quote, item, recv_time, snapshot))
                elif "collateral" in item and "call_price" in item:
                    events.append(_call_order(symbol, base, quote, item, recv_time))
                elif "id" in item:
                    events.append(
                        ObjectUpdate(
                            VENUE,
                            symbol,
                            recv_time,
                            recv_time,
                            kind="object",
                            data=item,
                            object_id=item["id"],
                        )
                    )
            elif isinstance(item, list) and item:
                op = item[0] if isinstance(item[0], list) else item
                if len(op) == 2 and op[0] == 4 and isinstance(op[1], dict):
                    events.append(_fill(symbol, base, quote, op[1], recv_time))
        _mark_frame_end(events, symbol, recv_time, snapshot)
        return [Data(market.key, events)] if events else []

    def _limit_order(
        self,
        market: _Market,
        base: _Asset,
        quote: _Asset,
        order: dict[str, Any],
        recv_time: float,
        snapshot: bool,
    ) -> BookOrder:
        sell = order["sell_price"]
        sells, wants = sell["base"], sell["quote"]
        for_sale = _amount(order["for_sale"])
        if sells["asset_id"] == base.asset_id:  # pays base for quote: a bid
            side: Side = "buy"
            price = (_amount(sells["amount"]) / base.scale) / (_amount(wants["amount"]) / quote.scale)
            size = for_sale / base.scale / price if price else 0.0
        else:
            side = "sell"
            price = (_amount(wants["amount"]) / base.scale) / (_amount(sells["amount"]) / quote.scale)
            size = for_sale / quote.scale
        # zero amounts divide by zero (caught as FrameError); the range checks catch the rest
        price = check_price(price)
        size = check_size(size)
        order_id = order["id"]
        if type(order_id) is not str:
            raise BadValue("order id is not a string")
        market.orders[order_id] = (side, price)
        return BookOrder(
            VENUE,
            market.key[1],
            recv_time,
            recv_time,
            order_id=order_id,
            side=side,
            price=price,
            size=size,
            snapshot=snapshot,
            frame_end=False,  # _mark_frame_end marks the message's last order
        )

    def _removed(self, market: _Market, object_id: str, recv_time: float) -> Event:
        symbol = market.key[1]
        if object_id.startswith("1.7."):
            side, price = market.orders.pop(object_id, ("buy", 0.0))
            return BookOrder(
                VENUE,
                symbol,
                recv_time,
                recv_time,
                order_id=object_id,
                side=side,
                price=price,
                size=0.0,
                removed=True,
                frame_end=False,  # _mark_frame_end marks the message's last order
            )
        if object_id.startswith("1.8."):
            return CallOrderUpdate(
                VENUE, symbol, recv_time, recv_time, kind="call_order", order_id=object_id, removed=True
            )
        return ObjectUpdate(VENUE, symbol, recv_time, recv_time, kind="object", object_id=object_id, removed=True)


def _mark_frame_end(events: list[Event], symbol: str, recv_time: float, snapshot: bool) -> None:
    """Set ``frame_end`` on the message's last order (``ops.order_book`` publishes whole messages).

    An image without orders (an empty market) is one removed order with no id, so the book
    still becomes whole.
    """
    for i in range(len(events) - 1, -1, -1):
        ev = events[i]
        if type(ev) is BookOrder:
            events[i] = dataclasses.replace(ev, frame_end=True)
            return
    if snapshot:
        events.append(
            BookOrder(
                VENUE,
                symbol,
                recv_time,
                recv_time,
                order_id="",
                side="buy",
                price=0.0,
                size=0.0,
                removed=True,
                snapshot=True,
            )
        )


def _asset_amount(amount: dict[str, Any], base: _Asset, quote: _Asset) -> float:
    scale = base.scale if amount["asset_id"] == base.asset_id else quote.scale
    return _amount(amount["amount"]) / scale


def _call_order(symbol: str, base: _Asset, quote: _Asset, order: dict[str, Any], recv_time: float) -> CallOrderUpdate:
    collateral_asset = order.get("call_price", {}).get("base", {}).get("asset_id", base.asset_id)
    collateral_scale = base.scale if collateral_asset == base.asset_id else quote.scale
    debt_scale = quote.scale if collateral_asset == base.asset_id else base.scale
    return CallOrderUpdate(
        VENUE,
        symbol,
        recv_time,
        recv_time,
        kind="call_order",
        data=order,
        order_id=order["id"],
        borrower=order.get("borrower", ""),
        collateral=check_size(_amount(order["collateral"]) / collateral_scale),
        debt=check_size(_amount(order["debt"]) / debt_scale),
    )


def _fill(symbol: str, base: _Asset, quote: _Asset, op: dict[str, Any], recv_time: float) -> OrderFill:
    pays, receives = op["pays"], op["receives"]
    pays_amount = _asset_amount(pays, base, quote)
    receives_amount = _asset_amount(receives, base, quote)
    if pays["asset_id"] == base.asset_id:  # paid base, got quote: bought
        side: Side = "buy"
        size, notional = receives_amount, pays_amount
    else:
        side = "sell"
        size, notional = pays_amount, receives_amount
    return OrderFill(
        VENUE,
        symbol,
        recv_time,
        recv_time,
        kind="fill",
        data=op,
        order_id=op.get("order_id", ""),
        account_id=op.get("account_id", ""),
        side=side,
        price=check_size(notional / size) if size else 0.0,
        size=check_size(size),
        is_maker=op.get("is_maker"),
    )


def rpc_error(error: Any) -> BitSharesRPCError:
    """The typed error of a JSON-RPC ``error`` member (message shortened to one screenful).

    Example:
        >>> rpc_error({"code": -32601, "message": "Method not found"}).code
        -32601
    """
    if not isinstance(error, dict):
        return BitSharesRPCError(VENUE, str(error)[:_MESSAGE_SHOWN])
    message = str(error.get("message", "error"))
    if len(message) > _MESSAGE_SHOWN:
        message = message[:_MESSAGE_SHOWN] + "..."
    code = error.get("code")
    return BitSharesRPCError(VENUE, message, code if isinstance(code, (int, str)) else None, error.get("data"))

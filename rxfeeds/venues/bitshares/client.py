"""``BitShares``: a BitShares (graphene) node's notifications as Observables.

Everything python-bitshares' ``BitSharesWebsocket`` offered, as streams on one shared socket:

==========================  ======================================================================
``objects(ids)``             chain objects by id, or ``a.b.x`` wildcards (``on_object``)
``accounts(names_or_ids)``   account statistics objects ``2.6.x`` (``on_account``)
``blocks()``                 applied block ids (``on_block``)
``transactions()``           pending transactions (``on_tx``)
``market(base, quote)``      limit orders as :class:`~rxfeeds.events.BookOrder` (removed orders
                             included, ``removed=True``), fills, call orders (``on_market``)
``call(api, method, params)``  any JSON-RPC call, as a single-value Observable
==========================  ======================================================================

One connection serves everything.  Give several node URLs to fail over: each failed connection
moves on to the next URL, and on every (re)connection the session is set up again (login when
credentials are given, ``database``, ``set_subscribe_callback``) and every active subscription
is re-sent, behind a :class:`~rxfeeds.events.StreamReset` marker.  A keep-alive
``get_objects(["2.8.0"])`` goes out every ``keep_alive`` seconds; a node that stops answering
for ``2 * keep_alive`` seconds (``stale_timeout``) is dropped for the next URL.

Example::

    import rxfeeds
    from rxfeeds import ops

    bts = rxfeeds.BitShares(["wss://node-a.example", "wss://node-b.example"])
    bts.blocks().subscribe(lambda b: print("block", b.block_num))
    bts.market("BTS", "USD").pipe(ops.order_book(depth=10)).subscribe(print)
    print(bts.call(0, "get_chain_id", []).run())

Wildcards match whatever the node pushes on the object callback for this connection (objects
fetched by ``objects([...])`` and everything touching accounts subscribed by ``accounts``); a
node cannot be asked for "every ``1.7.x``" without ``enable-subscribe-to-all``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from ...aio import awaitable
from ...codec import Key
from ...errors import AuthError, InvalidArgument
from ...events import BookOrder, Event, StreamReset, Trade
from ...feed import Feed
from ...transport import Backoff, Transport
from ...transport.redact import redact_url
from ..base import VenueClient, as_list, check_seconds, check_secure_url, check_url, feed
from ..symbols import common_symbols, one_or_many
from .codec import (
    AccountUpdate,
    BitSharesCodec,
    BlockApplied,
    CallOrderUpdate,
    ObjectUpdate,
    OrderFill,
    PendingTransaction,
    check_object_ids,
    market_symbol,
)

__all__ = ["BitShares", "DEFAULT_URL"]

#: python-bitshares' default mainnet node
DEFAULT_URL = "wss://api.bts.mobi"
_ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9.-]{0,62}\Z")
_ACCOUNT_ID = re.compile(r"^1\.2\.\d+\Z")
_ASSET = re.compile(r"^([A-Z][A-Z0-9.]{2,15}|1\.3\.\d+)\Z")


class BitShares(VenueClient):
    """A BitShares node's notifications and RPC (see the module docstring).

    Args:
        urls: one ``ws://``/``wss://`` node URL or a list to fail over across.
        user, password: login API credentials (login is sent only when given).
        keep_alive: seconds between keep-alive RPCs (``get_objects(["2.8.0"])``).
        num_retries: reconnect attempts before giving up; ``-1`` retries forever.
        url: alias of ``urls`` (every client takes ``url=``).
        transport_factory, backoff, **socket_options: see :class:`~rxfeeds.venues.base.VenueClient`;
            ``stale_timeout`` defaults to ``2 * keep_alive``.

    The password is handed to the codec and never appears in reprs, logs or errors.
    """

    venue: ClassVar[str] = "bitshares"

    def __init__(
        self,
        urls: str | Sequence[str] = DEFAULT_URL,
        user: str = "",
        password: str = "",
        keep_alive: float = 25,
        num_retries: int = -1,
        *,
        url: str | Sequence[str] | None = None,
        transport_factory: Any = None,
        backoff: Backoff | None = None,
        **socket_options: Any,
    ) -> None:
        chosen = url if url is not None else urls
        name = "url" if url is not None else "urls"
        url_list = [chosen] if isinstance(chosen, str) else list(chosen) if isinstance(chosen, (list, tuple)) else []
        if not url_list or not all(isinstance(u, str) for u in url_list):
            raise InvalidArgument(name, chosen, "give a ws:// or wss:// node URL or a list of them", secret=True)
        check_url(name, url_list)  # scheme, host and port, at construction
        check_seconds("keep_alive", keep_alive)
        if isinstance(num_retries, bool) or not isinstance(num_retries, int) or (num_retries < 1 and num_retries != -1):
            raise InvalidArgument("num_retries", num_retries, "use -1 (retry forever) or a positive count")
        if not isinstance(user, str) or not isinstance(password, str):
            raise InvalidArgument("user", user if not isinstance(user, str) else "***", "user and password are strings")
        if backoff is not None and not isinstance(backoff, Backoff):
            raise InvalidArgument("backoff", backoff, "must be a Backoff (num_retries sets its max_attempts)")
        if user or password:
            # The login sends the password as it is: never over plain ws:// to a remote node.
            insecure_ok = socket_options.get("allow_insecure", False) is True
            for u in url_list:
                check_secure_url(name, u, insecure_ok)
        max_attempts = None if num_retries == -1 else num_retries
        policy = backoff if backoff is not None else Backoff(initial=0.5, max_delay=10.0)
        policy = dataclasses.replace(policy, max_attempts=max_attempts)
        socket_options.setdefault("stale_timeout", 2.0 * keep_alive)
        super().__init__(transport_factory=transport_factory, backoff=policy, **socket_options)
        self.urls: tuple[str, ...] = tuple(url_list)
        self.user = user
        self.keep_alive = float(keep_alive)
        self._codec_factory = lambda: BitSharesCodec(user, password)
        self._keys: set[Key] = set()

    def __repr__(self) -> str:
        urls = [redact_url(u) for u in self.urls]
        return f"BitShares(urls={urls!r}, user={self.user!r}, connections={sorted(self.connections)})"

    # ------------------------------------------------------------------ plumbing

    def _node(self) -> Transport:
        return self._transport("node", list(self.urls), self._codec_factory, app_ping_interval=self.keep_alive)

    def _codec(self) -> BitSharesCodec:
        return cast(BitSharesCodec, self._node().codec)

    def _stream(self, key: Key) -> Observable[Any]:
        self._keys.add(key)
        return self._node().multiplex(key)

    # ------------------------------------------------------------------ streams

    def objects(self, ids: str | Sequence[str]) -> Observable[ObjectUpdate | Event]:
        """Changes of chain objects: the current state first (``initial=True``), then updates.

        ``ids`` are object ids (``"2.1.0"``) or ``a.b.x`` wildcards.  A removed object arrives
        with ``removed=True`` and ``data=None``.  An id the node does not know ends this
        Observable with :class:`~rxfeeds.errors.SubscriptionError`.

        Example::

            bts.objects(["2.1.0"]).subscribe(lambda o: print(o.data["head_block_number"]))
        """
        id_list = as_list("ids", ids)
        check_object_ids(id_list, "ids")
        return self._stream(("objects", ",".join(dict.fromkeys(id_list))))

    def accounts(self, names_or_ids: str | Sequence[str]) -> Observable[AccountUpdate | Event]:
        """Account statistics (``2.6.x``) of these accounts: current state, then every change.

        Unknown accounts end this Observable with :class:`~rxfeeds.errors.SubscriptionError`.

        Example::

            bts.accounts(["init0", "1.2.30"]).subscribe(lambda a: print(a.account, a.data["total_ops"]))
        """
        names = as_list("names_or_ids", names_or_ids)
        if not names:
            raise InvalidArgument("names_or_ids", names_or_ids, "give at least one account")
        for name in names:
            if not isinstance(name, str) or not (_ACCOUNT_NAME.match(name) or _ACCOUNT_ID.match(name)):
                raise InvalidArgument("names_or_ids", name, "account names look like 'init0', ids like '1.2.17'")
        if len(names) > 50:
            raise InvalidArgument("names_or_ids", len(names), "a node answers at most 50 accounts per call")
        return self._stream(("accounts", ",".join(dict.fromkeys(names))))

    def blocks(self) -> Observable[BlockApplied | Event]:
        """Every applied block (id and number).

        Example::

            bts.blocks().subscribe(lambda b: print(b.block_num, b.block_id))
        """
        return self._stream(("blocks", ""))

    def transactions(self) -> Observable[PendingTransaction | Event]:
        """Transactions entering the node's pending pool.

        Example::

            bts.transactions().subscribe(lambda t: print(t.data["operations"]))
        """
        return self._stream(("transactions", ""))

    def market(self, base: str, quote: str) -> Feed[BookOrder | OrderFill | CallOrderUpdate | Event]:
        """A market's order-level book and activity; prices in ``base`` per ``quote``.

        Emits the current limit orders (up to 300 per side, ``snapshot=True``), then every new
        or changed order, removed orders (``BookOrder(removed=True)``), fills (one
        :class:`OrderFill` per filled order) and call orders.  Order notices that arrive before
        the image are dropped: the node answers in order, so the image already contains them.
        ``ops.order_book`` aggregates the orders to levels; the returned Feed's ``resync``
        resubscribes.  An unknown asset ends this Observable with :class:`~rxfeeds.errors.SubscriptionError`.

        Example::

            bts.market("BTS", "USD").pipe(ops.order_book(depth=5)).subscribe(print)
        """
        for name, value in (("base", base), ("quote", quote)):
            if not isinstance(value, str) or not _ASSET.match(value):
                raise InvalidArgument(name, value, "asset symbols look like 'BTS', ids like '1.3.0'")
        if base == quote:
            raise InvalidArgument("quote", quote, "must differ from base")
        key = ("market", market_symbol(base, quote))
        source = self._stream(key)
        node = self._node()

        def resync(_symbol: str) -> None:
            node.resubscribe(key)

        return feed(source, resync)

    @common_symbols
    @one_or_many
    def book(
        self, symbol: str | Sequence[str], depth: int | None = None
    ) -> Feed[BookOrder | OrderFill | CallOrderUpdate | Event]:
        """The common book method of every client: :meth:`market` for ``"BASE:QUOTE"``.

        ``depth`` is only checked (the node sends an order-level book); trim with
        ``ops.order_book(depth=...)``.

        Example::

            bts.book("BTS:USD", depth=10).pipe(ops.order_book(depth=10)).subscribe(print)
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0):
            raise InvalidArgument("depth", depth, "must be a positive int or None")
        base, quote = _split_market(symbol)
        return self.market(base, quote)

    @common_symbols
    @one_or_many
    def trades(self, symbol: str | Sequence[str]) -> Observable[Trade | Event]:
        """Matches in ``"BASE:QUOTE"`` as :class:`~rxfeeds.events.Trade` (the common trades method).

        Built from the market's fills: each match fills a maker and a taker order, and the
        taker's fill becomes one Trade (price in base per quote, size in quote, taker side).
        Shares the :meth:`market` subscription.

        Example::

            bts.trades("BTS:USD").pipe(ops.klines("1m")).subscribe(print)
        """
        base, quote = _split_market(symbol)

        def as_trade(event: Any) -> Any:
            if isinstance(event, OrderFill):
                return Trade(
                    self.venue,
                    event.symbol,
                    event.time,
                    event.recv_time,
                    price=event.price,
                    size=event.size,
                    side=event.side,
                    trade_id=event.order_id,
                )
            return event

        def wanted(event: Any) -> bool:
            return (isinstance(event, OrderFill) and event.is_maker is False) or isinstance(event, StreamReset)

        trades: Observable[Trade | Event] = self.market(base, quote).pipe(ops.filter(wanted), ops.map(as_trade))
        return trades

    # ------------------------------------------------------------------ requests

    def call(self, api: int | str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Observable[Any]:
        """Single-value Observable of ``api.method(*params)``'s result.

        ``api`` is an API id (0 = database, 1 = login) or a login-API getter name
        (``"network_broadcast"``, ``"history"``).  Node errors arrive as
        :class:`~rxfeeds.venues.bitshares.codec.BitSharesRPCError` (``code``, ``message``).

        Example::

            bts.call(0, "get_objects", [["2.1.0"]]).subscribe(print)
        """
        if isinstance(api, bool) or not isinstance(api, (int, str)):
            raise InvalidArgument("api", api, "an API id (0, 1, ...) or a name such as 'network_broadcast'")
        if not isinstance(method, str) or not method:
            raise InvalidArgument("method", method, "a method name such as 'get_objects'")
        if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
            raise InvalidArgument("params", params, "a list of positional arguments")
        args = list(params)
        return self._request(lambda codec, rid: codec.call_frame(rid, api, method, args), timeout)

    def _request(self, build: Any, timeout: float) -> Observable[Any]:
        def factory(_scheduler: Any = None) -> Observable[Any]:
            node = self._node()
            codec = cast(BitSharesCodec, node.codec)
            rid = codec.next_id()
            return node.request(build(codec, rid), rid, timeout)

        return awaitable(reactivex.defer(factory))

    def login(self, timeout: float = 10.0) -> Observable[bool]:
        """Single-value Observable: ``True`` when the node accepts this client's credentials.

        A refusal is :class:`~rxfeeds.errors.AuthError` (the password is never shown).

        Example::

            BitShares(url, user="alice", password=pw).login().run()
        """
        user = self.user

        def check(ok: Any) -> bool:
            if ok is True or ok == 1:
                return True
            raise AuthError(self.venue, f"login refused for user {user!r}: wrong user name or password")

        return self._request(lambda codec, rid: codec.login_frame(rid), timeout).pipe(ops.map(check))

    def reset_subscriptions(self) -> None:
        """Cancel every node-side subscription and set them all up again (python-bitshares' name).

        Each active stream gets a :class:`~rxfeeds.events.StreamReset` then fresh data.
        """
        node = self._node()
        codec = self._codec()
        try:
            node.send(codec.cancel_all_frame())
            for frame in codec.session_frames():
                node.send(frame)
        except ConnectionError:
            return  # not connected: the next connection sets everything up anyway
        for key in list(self._keys):
            node.resubscribe(key, "reset")


def _split_market(symbol: Any) -> tuple[str, str]:
    if not isinstance(symbol, str) or symbol.count(":") != 1:
        raise InvalidArgument("symbol", symbol, "markets are written 'BASE:QUOTE', e.g. 'BTS:USD'")
    base, quote = symbol.split(":")
    return base, quote

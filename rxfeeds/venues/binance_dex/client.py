"""``BinanceDex``: the Binance DEX (Binance Chain) websocket streams as Observables.

**The live venue is gone**: the DEX module was decommissioned (BEP-151) and BNB Beacon Chain
shut down on 2024-12-03, so ``wss://dex.binance.org/api/`` no longer answers.  This client is
kept for replaying recorded history, for code written against the original ``binance_dex``
sockets API, and for the simulator (``rxfeeds sim binance-dex``).

Streams (each method returns an Observable; several symbols are merged):

=========================  ==============================================================
method                     events
=========================  ==============================================================
``account(address)``       ``DexAccount`` (``kind="accounts"``), ``DexOrderUpdate``
                           (``channel="orders"``), ``DexTransfer`` (``kind="transfers"``):
                           pick one with ``ops.of_channel("orders")``
``trades(symbols)``        ``Trade``
``market_diff(symbols)``   ``BookDelta`` (absolute sizes, no sequence number)
``market_depth(symbols)``  ``BookSnapshot`` of the top 20/100/500/1000 levels
``klines(symbols, i)``     ``Kline`` (``1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M``)
``ticker(symbols)``        ``Ticker`` (24 h), ``all_tickers()`` for every market
``mini_ticker(symbols)``   ``Ticker`` (last/open/high/low/volume), ``all_mini_tickers()``
``block_height()``         ``BlockHeight``
=========================  ==============================================================

Market streams share one socket (``…/api/ws``) with ``{"method": "subscribe", "topic": …,
"symbols": […]}`` / ``unsubscribe`` frames; ``keepAlive`` is sent every ``keepalive_interval``
seconds (the server closes a connection 30-60 min after the last one).  The venue allows one
address per connection, so each ``account(address)`` gets its own connection; it sends both
``address`` and the older ``userAddress`` field.  ``close()`` sends ``{"method": "close"}`` on
every open connection before closing it.

One-off mode (the original library's ``one_off=True``): every stream method takes
``one_off=True`` and then returns a single-value Observable that opens the URL stream form
(``…/api/ws/<symbol>@<topic>``, ``…/api/ws/<address>``), emits the first data message's first
event and closes.

Example::

    from rxfeeds import BinanceDex, ops
    from rxfeeds.sim import simulator_class

    with simulator_class("binance-dex")(seed=1) as sim:
        dex = BinanceDex(url=sim.url)
        dex.market_depth("BNB_BTCB-1DE", one_off=True).subscribe(print)
        dex.account("bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4v").pipe(ops.of_channel("orders")).subscribe(print)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Final

import reactivex as rx
from reactivex import Observable, abc
from reactivex import operators as rx_ops
from reactivex.disposable import CompositeDisposable, Disposable

from ...codec import Key
from ...errors import InvalidArgument
from ...events import Event, StreamReset
from ...intervals import IntervalLike, parse_interval
from ...transport import Transport
from ..base import VenueClient, check_seconds, check_url
from ..symbols import check_symbols, common_symbols
from .codec import (
    ACCOUNT_TOPICS,
    ALL_SYMBOLS,
    DEPTH_TOPICS,
    KLINE_INTERVALS,
    BinanceDexCodec,
    is_address,
    stream_name,
)

__all__ = ["BinanceDex"]

_KEEPALIVE: Final = 20 * 60.0


class BinanceDex(VenueClient):
    """Binance DEX / Binance Chain client; the live venue shut down in December 2024 (see the module docstring).

    Args:
        testnet: use the testnet endpoint and ``tbnb1…`` addresses.
        url: base URL ending in ``/api/`` (a simulator's ``url``); default the mainnet/testnet one.
        keepalive_interval: seconds between ``keepAlive`` messages (<= 30 min).
        **options: :class:`~rxfeeds.venues.base.VenueClient` / socket options.

    Example:
        >>> dex = BinanceDex(url="ws://127.0.0.1:9/api/")
        >>> try:
        ...     dex.account("tbnb1notmine")
        ... except ValueError as e:
        ...     print(e.name)
        address
    """

    venue: ClassVar[str] = "binance-dex"
    MAINNET_URL: ClassVar[str] = "wss://dex.binance.org/api/"
    TESTNET_URL: ClassVar[str] = "wss://testnet-dex.binance.org/api/"

    def __init__(
        self,
        testnet: bool = False,
        url: str | None = None,
        *,
        keepalive_interval: float = _KEEPALIVE,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if not isinstance(testnet, bool):
            raise InvalidArgument("testnet", testnet, "must be True or False")
        check_seconds("keepalive_interval", keepalive_interval)
        if keepalive_interval > 30 * 60:
            raise InvalidArgument("keepalive_interval", keepalive_interval, "must be in (0, 1800] seconds")
        base = url if url is not None else (self.TESTNET_URL if testnet else self.MAINNET_URL)
        if not isinstance(base, str) or not base.startswith(("ws://", "wss://")):
            raise InvalidArgument("url", url, "must be a ws:// or wss:// URL (the base ending in /api/)")
        check_url("url", base)
        self.base_url = base if base.endswith("/") else base + "/"
        self.testnet = testnet
        self.address_prefix = "tbnb" if testnet else "bnb"
        self._keepalive = keepalive_interval

    # ------------------------------------------------------------------ plumbing

    def _socket(self, name: str = "public") -> Transport:
        return self._transport(name, self.base_url + "ws", BinanceDexCodec, app_ping_interval=self._keepalive)

    def _address(self, address: str) -> str:
        if not is_address(address, self.address_prefix):
            net = "testnet" if self.testnet else "mainnet"
            raise InvalidArgument(
                "address", address, f"not a {net} Binance Chain address (bech32 '{self.address_prefix}1…')"
            )
        return address

    def _keys_stream(self, transport: Transport, keys: Sequence[Key]) -> Observable[Event]:
        streams = [transport.multiplex(k) for k in keys]
        return streams[0] if len(streams) == 1 else rx.merge(*streams)

    def _market(self, topic: str, symbols: str | Iterable[str], one_off: bool) -> Observable[Event]:
        keys = [(topic, s) for s in check_symbols(self.venue, symbols)]
        if one_off:
            return self._one_off(keys)
        return self._keys_stream(self._socket(), keys)

    def _one_off(self, keys: Sequence[Key], address: str | None = None) -> Observable[Event]:
        """First event of the URL stream form, then close (one connection per subscription)."""
        if address is not None:
            url = f"{self.base_url}ws/{address}"
        elif len(keys) == 1:
            url = f"{self.base_url}ws/{stream_name(keys[0])}"
        else:
            url = f"{self.base_url}stream?streams={'/'.join(stream_name(k) for k in keys)}"
        options: dict[str, Any] = dict(self._socket_options)
        if self._backoff is not None:
            options.setdefault("backoff", self._backoff)

        def subscribe(observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> Any:
            codec = BinanceDexCodec()
            if address is not None:
                codec.use_address(address)
            transport = self._transport_factory(url, codec, venue=self.venue, **options)
            # The URL already names the streams: nothing to send on subscribe or dispose.
            streams = [transport.multiplex(k, subscribe=(), unsubscribe=()) for k in keys]
            source = streams[0] if len(streams) == 1 else rx.merge(*streams)
            first = source.pipe(rx_ops.filter(lambda e: type(e) is not StreamReset), rx_ops.take(1))
            return CompositeDisposable(first.subscribe(observer, scheduler=scheduler), Disposable(transport.close))

        return rx.create(subscribe)

    # ------------------------------------------------------------------ streams

    def account(
        self, address: str, streams: Iterable[str] = ACCOUNT_TOPICS, *, one_off: bool = False
    ) -> Observable[Event]:
        """The address's ``accounts``, ``orders`` and ``transfers`` streams, merged.

        ``streams`` picks a subset; ``ops.of_channel("orders")`` splits the merged stream.

        Example::

            dex.account(address).pipe(ops.of_channel("transfers")).subscribe(print)
        """
        self._address(address)
        chosen = [streams] if isinstance(streams, str) else list(streams)
        if not chosen or any(s not in ACCOUNT_TOPICS for s in chosen):
            raise InvalidArgument("streams", streams, f"choose from {', '.join(ACCOUNT_TOPICS)}")
        keys = [(topic, address) for topic in dict.fromkeys(chosen)]
        if one_off:
            return self._one_off(keys, address=address)
        # One address per connection on this venue: each address gets its own socket.
        return self._keys_stream(self._socket(f"account:{address}"), keys)

    @common_symbols
    def trades(self, symbols: str | Iterable[str], *, one_off: bool = False) -> Observable[Event]:
        """Trades (``<symbol>@trades``) as :class:`~rxfeeds.events.Trade` (taker side from ``tt``).

        Example::

            dex.trades(["BNB_BTCB-1DE", "BNB_USDT.B-B7C"]).subscribe(print)
        """
        return self._market("trades", symbols, one_off)

    @common_symbols
    def market_diff(self, symbols: str | Iterable[str], *, one_off: bool = False) -> Observable[Event]:
        """Book changes (``marketDiff``) as :class:`~rxfeeds.events.BookDelta`; no sequence number.

        Example::

            dex.market_diff("BNB_BTCB-1DE").subscribe(print)
        """
        return self._market("marketDiff", symbols, one_off)

    @common_symbols
    def market_depth(
        self, symbols: str | Iterable[str], levels: int = 20, *, one_off: bool = False
    ) -> Observable[Event]:
        """Top-``levels`` books (``marketDepth``, ``marketDepth100|500|1000``) as :class:`~rxfeeds.events.BookSnapshot`.

        Each snapshot is authoritative for its depth (``sequence`` = the venue's ``lastUpdateId``).
        The live venue sent ``marketDepth1000`` only over permessage-deflate, which
        websocket-client does not negotiate; the simulator sends it uncompressed.

        Example::

            dex.market_depth("BNB_BTCB-1DE", levels=100).pipe(ops.order_book()).subscribe(print)
        """
        topic = DEPTH_TOPICS.get(levels) if isinstance(levels, int) and not isinstance(levels, bool) else None
        if topic is None:
            raise InvalidArgument("levels", levels, "must be 20, 100, 500 or 1000")
        return self._market(topic, symbols, one_off)

    def book(self, symbols: str | Iterable[str], depth: int = 20, *, one_off: bool = False) -> Observable[Event]:
        """The common name of :meth:`market_depth`: full top-``depth`` images (20, 100, 500, 1000).

        Example::

            dex.book("BNB_BTCB-1DE").pipe(ops.order_book()).subscribe(print)
        """
        return self.market_depth(symbols, levels=depth, one_off=one_off)

    @common_symbols
    def klines(
        self, symbols: str | Iterable[str], interval: IntervalLike = "1m", *, one_off: bool = False
    ) -> Observable[Event]:
        """Candles (``kline_<interval>``) as :class:`~rxfeeds.events.Kline`.

        Example::

            dex.klines("BNB_BTCB-1DE", "1h").subscribe(print)
        """
        name = parse_interval(interval, "interval").name
        if name not in KLINE_INTERVALS:
            raise InvalidArgument("interval", interval, f"Binance DEX klines take one of {', '.join(KLINE_INTERVALS)}")
        return self._market(f"kline_{name}", symbols, one_off)

    @common_symbols
    def ticker(self, symbols: str | Iterable[str], *, one_off: bool = False) -> Observable[Event]:
        """24-hour tickers (``ticker``) as :class:`~rxfeeds.events.Ticker`, pushed every second.

        Example::

            dex.ticker("BNB_BTCB-1DE").subscribe(lambda t: print(t.last, t.volume))
        """
        return self._market("ticker", symbols, one_off)

    @common_symbols
    def mini_ticker(self, symbols: str | Iterable[str], *, one_off: bool = False) -> Observable[Event]:
        """Mini tickers (``miniTicker``) as :class:`~rxfeeds.events.Ticker` (no bid/ask).

        Example::

            dex.mini_ticker("BNB_BTCB-1DE").subscribe(print)
        """
        return self._market("miniTicker", symbols, one_off)

    def _all(self, topic: str, one_off: bool) -> Observable[Event]:
        keys = [(topic, ALL_SYMBOLS)]
        return self._one_off(keys) if one_off else self._keys_stream(self._socket(), keys)

    def all_tickers(self, *, one_off: bool = False) -> Observable[Event]:
        """Tickers of every market (``$all@allTickers``): one :class:`~rxfeeds.events.Ticker` per market.

        Example::

            dex.all_tickers().subscribe(print)
        """
        return self._all("allTickers", one_off)

    def all_mini_tickers(self, *, one_off: bool = False) -> Observable[Event]:
        """Mini tickers of every market (``$all@allMiniTickers``).

        Example::

            dex.all_mini_tickers().subscribe(print)
        """
        return self._all("allMiniTickers", one_off)

    def block_height(self, *, one_off: bool = False) -> Observable[Event]:
        """New blocks (``$all@blockheight``) as :class:`~rxfeeds.venues.binance_dex.codec.BlockHeight`.

        Example::

            dex.block_height(one_off=True).subscribe(lambda b: print(b.height))
        """
        return self._all("blockheight", one_off)

    # ------------------------------------------------------------------ life cycle

    def close(self) -> None:
        """Send ``{"method": "close"}`` on every open connection, then close them all."""
        for transport in self.connections.values():
            codec = transport.codec
            frame = codec.close_frame() if isinstance(codec, BinanceDexCodec) else None
            if frame is not None:
                try:
                    transport.send(frame)
                except Exception:  # not open (or closing): nothing to tell the server
                    pass
        super().close()

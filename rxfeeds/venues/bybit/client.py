"""``Bybit`` and ``BybitLinear``: Bybit's v5 public websocket endpoints as Observables.

``Bybit`` speaks to ``wss://stream.bybit.com/v5/public/spot``, ``BybitLinear`` to
``.../v5/public/linear`` (USDT/USDC perpetuals and futures); both have the common vocabulary:

* ``book(symbols, depth=50)``: ``orderbook.{depth}.{symbol}`` snapshot then deltas, a
  :class:`~rxfeeds.feed.Feed` for ``ops.order_book()``.  The update id ``u`` must grow by exactly
  one per message; a gap makes the order book ask ``resync(symbol)``, which resubscribes that
  symbol's topic only (Bybit answers a subscribe with a fresh snapshot).  A snapshot with
  ``u == 1`` (the venue restarted its book service) arrives after a
  :class:`~rxfeeds.events.StreamReset` and replaces the book;
* ``trades(symbols)``: ``publicTrade`` as :class:`~rxfeeds.events.Trade` (side = taker side);
* ``ticker(symbols)``: ``tickers`` as :class:`~rxfeeds.events.Ticker`, linear deltas merged into
  the full ticker;
* ``klines(symbols, interval="1m")``: ``kline.{interval}`` as :class:`~rxfeeds.events.Kline`
  (``closed`` when Bybit says ``confirm``).

Bybit asks clients to send ``{"op": "ping"}`` every 20 seconds; the client does
(``app_ping_interval=20``, pass ``None`` to stop) and the venue drops connections that stay silent.

Example::

    from rxfeeds import Bybit, ops

    bybit = Bybit()
    bybit.book("BTC/USDT", depth=50).pipe(ops.order_book(depth=10)).subscribe(print)
    BybitLinear().klines("BTCUSDT", "1m").subscribe(print)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import reactivex as rx
from reactivex import Observable

from ...errors import InvalidArgument
from ...events import Event
from ...feed import Feed
from ...intervals import IntervalLike, parse_interval
from ...transport import Transport
from ..base import VenueClient, check_url, feed
from ..symbols import check_symbols, common_symbols
from .codec import BOOK_DEPTHS, PING_ID, BybitCodec, BybitLinearCodec, kline_interval

__all__ = ["Bybit", "BybitLinear"]

#: seconds between application pings (Bybit's recommendation)
PING_INTERVAL = 20.0


class Bybit(VenueClient):
    """Bybit v5 public spot client (see the module docstring).

    Args:
        url: the public endpoint (or a list to fail over across); a simulator's ``url``.
        **options: :class:`~rxfeeds.venues.base.VenueClient` / socket options
            (``app_ping_interval`` defaults to 20 s).

    Example:
        >>> bybit = Bybit(url="ws://127.0.0.1:9/v5/public/spot")
        >>> try:
        ...     bybit.book("BTC/USDT", depth=25)
        ... except ValueError as e:
        ...     print(e.name)
        depth
    """

    venue: ClassVar[str] = "bybit"
    category: ClassVar[str] = "spot"
    DEFAULT_URL: ClassVar[str] = "wss://stream.bybit.com/v5/public/spot"
    _codec_class: ClassVar[type[BybitCodec]] = BybitCodec

    def __init__(self, url: str | Sequence[str] | None = None, **options: Any) -> None:
        options.setdefault("app_ping_interval", PING_INTERVAL)
        super().__init__(**options)
        if url is not None:
            check_url("url", url)
        self.url: str | Sequence[str] = url or self.DEFAULT_URL

    def _socket(self) -> Transport:
        return self._transport("public", self.url, self._codec_class)

    def _streams(self, channel: str, symbols: str | Iterable[str]) -> tuple[Transport, Observable[Event]]:
        keys = [(channel, s) for s in check_symbols(self.venue, symbols)]
        transport = self._socket()
        streams = [transport.multiplex(k) for k in keys]
        return transport, streams[0] if len(streams) == 1 else rx.merge(*streams)

    @property
    def book_depths(self) -> tuple[int, ...]:
        """The ``depth`` values this endpoint offers."""
        return BOOK_DEPTHS[self.category]

    @common_symbols
    def book(self, symbols: str | Iterable[str], depth: int = 50) -> Feed[Event]:
        """Order book of ``depth`` levels: a snapshot then deltas numbered by ``u``.

        ``resync(symbol)`` resubscribes that symbol's topic (a new snapshot follows).

        Example::

            bybit.book(["BTCUSDT", "ETHUSDT"], depth=200).pipe(ops.order_book()).subscribe(print)
        """
        if isinstance(depth, bool) or depth not in self.book_depths:
            depths = ", ".join(map(str, self.book_depths))
            raise InvalidArgument("depth", depth, f"Bybit {self.category} books take one of {depths}")
        channel = f"orderbook.{depth}"
        transport, source = self._streams(channel, symbols)

        def resync(symbol: str) -> None:
            transport.resubscribe((channel, symbol))

        return feed(source, resync)

    orderbook = book

    @common_symbols
    def trades(self, symbols: str | Iterable[str]) -> Observable[Event]:
        """Public trades (``publicTrade``), oldest first within a message.

        Example::

            bybit.trades("BTCUSDT").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._streams("publicTrade", symbols)[1]

    @common_symbols
    def ticker(self, symbols: str | Iterable[str]) -> Observable[Event]:
        """The 24-hour ticker (``tickers``); linear deltas are merged into the full ticker.

        Example::

            BybitLinear().ticker("BTCUSDT").subscribe(lambda t: print(t.bid, t.ask, t.last))
        """
        return self._streams("tickers", symbols)[1]

    tickers = ticker

    @common_symbols
    def klines(self, symbols: str | Iterable[str], interval: IntervalLike = "1m") -> Observable[Event]:
        """The venue's candles (``kline.{interval}``); the last update of a bar has ``closed=True``.

        ``interval`` is any spelling :func:`rxfeeds.intervals.parse_interval` reads that Bybit
        offers: 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M.

        Example::

            bybit.klines("BTCUSDT", "5m").pipe(ops.filter(lambda k: k.closed)).subscribe(print)
        """
        bybit = kline_interval(parse_interval(interval, "interval").name)
        return self._streams(f"kline.{bybit}", symbols)[1]

    kline = klines

    def ping(self, *, timeout: float = 10.0) -> Observable[Any]:
        """Send ``{"op": "ping"}``; emits ``"pong"`` when the venue answers, then completes.

        (The client also pings every ``app_ping_interval`` seconds on its own, as Bybit asks.)

        Example::

            bybit.ping().run()
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")
        from ...aio import awaitable

        frame = '{"op":"ping","req_id":"' + PING_ID + '"}'
        return awaitable(self._socket().request(frame, PING_ID, float(timeout)))


class BybitLinear(Bybit):
    """Bybit v5 public linear client (USDT/USDC perpetuals and futures); as :class:`Bybit`.

    Example:
        >>> BybitLinear(url="ws://127.0.0.1:9/v5/public/linear").book_depths
        (1, 50, 200, 500, 1000)
    """

    venue: ClassVar[str] = "bybit-linear"
    category: ClassVar[str] = "linear"
    DEFAULT_URL: ClassVar[str] = "wss://stream.bybit.com/v5/public/linear"
    _codec_class: ClassVar[type[BybitCodec]] = BybitLinearCodec

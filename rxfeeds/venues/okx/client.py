"""``OKX``: the OKX v5 public websocket as Observables.

Channels take one instrument or many (``BTC-USDT``, ``BTC-USDT-SWAP``, ``BTC-USD-251226``, or the
common ``BTC/USDT`` for a spot pair) and merge their per-instrument subscriptions on one shared
socket:

* :meth:`OKX.book` - ``books`` (400 levels): ``BookSnapshot`` then ``BookDelta`` s with OKX's
  CRC32 ``checksum`` and ``seqId`` continuity; a :class:`~rxfeeds.feed.Feed` whose
  ``resync(symbol)`` resubscribes that instrument's book only;
* :meth:`OKX.book5` (``books5``, whole five-level images) and :meth:`OKX.bbo` (``bbo-tbt``,
  :class:`~rxfeeds.events.Quote`);
* :meth:`OKX.trades`, :meth:`OKX.ticker` (``tickers``), :meth:`OKX.klines` (``candle*``: since
  2023 OKX serves candles on the ``/ws/v5/business`` endpoint, ``business_url``).

OKX closes a connection that received nothing for 30 s: the client sends the text ``ping``
every ``keep_alive`` seconds (default 20) and the venue answers ``pong``.

Example::

    from rxfeeds import OKX, ops
    okx = OKX()
    okx.book("BTC/USDT").pipe(ops.order_book(depth=10)).subscribe(print)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

import reactivex
from reactivex import Observable

from ...errors import InvalidArgument
from ...events import Event
from ...feed import Feed
from ...intervals import IntervalLike
from ...transport import Transport
from ..base import VenueClient, check_url, feed
from ..symbols import check_symbols, common_symbols
from .codec import PING_ID, OKXCodec, candle_channel

__all__ = ["BUSINESS_URL", "OKX", "PUBLIC_URL"]

PUBLIC_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
BUSINESS_URL: Final = "wss://ws.okx.com:8443/ws/v5/business"


def _business(url: str) -> str:
    """The business endpoint next to a public one (``.../public`` -> ``.../business``)."""
    head, sep, tail = url.rpartition("/public")
    return f"{head}/business{tail}" if sep else url


class OKX(VenueClient):
    """OKX v5 public websocket client (see the module docstring).

    Args:
        url: public endpoint (default ``wss://ws.okx.com:8443/ws/v5/public``).
        business_url: candle endpoint (default: ``url`` with ``/public`` -> ``/business``).
        keep_alive: seconds between text ``ping`` s (OKX drops a connection idle for 30 s).
        **options: :class:`~rxfeeds.venues.base.VenueClient` options.

    Example::

        with OKX(url=sim.url + "ws/v5/public") as okx:
            okx.trades("BTC-USDT-SWAP").subscribe(print)
    """

    venue: ClassVar[str] = "okx"

    def __init__(
        self,
        url: str | None = None,
        *,
        business_url: str | None = None,
        keep_alive: float = 20.0,
        **options: Any,
    ) -> None:
        if isinstance(keep_alive, bool) or not isinstance(keep_alive, (int, float)) or not 0 < keep_alive < 30:
            raise InvalidArgument("keep_alive", keep_alive, "must be a number of seconds in (0, 30)")
        for name, value in (("url", url), ("business_url", business_url)):
            if value is not None:
                if not isinstance(value, str):  # one endpoint each (no failover list)
                    raise InvalidArgument(name, value, "must be a ws:// or wss:// URL")
                check_url(name, value)
        super().__init__(**options)
        self.url = url or PUBLIC_URL
        self.business_url = business_url or _business(self.url)
        self.keep_alive = float(keep_alive)

    def _connection(self, name: str, url: str) -> Transport:
        return self._transport(name, url, OKXCodec, app_ping_interval=self.keep_alive)

    def _channel(self, channel: str, symbols: list[str], business: bool = False) -> tuple[Transport, Observable[Any]]:
        name, url = ("business", self.business_url) if business else ("public", self.url)
        transport = self._connection(name, url)
        streams = [transport.multiplex((channel, s)) for s in symbols]
        return transport, streams[0] if len(streams) == 1 else reactivex.merge(*streams)

    @common_symbols
    def book(self, symbols: str | Sequence[str], depth: int | None = None) -> Feed[Event]:
        """Order book (``books``, 400 levels), checksummed; feed it to ``ops.order_book()``.

        ``depth`` (1-400) is only checked, as on the other venues' ``book(symbol, depth)``: the
        channel always sends 400 levels, which the checksum needs; trim with
        ``ops.order_book(depth=...)``.

        Example::

            okx.book(["BTC-USDT", "BTC-USDT-SWAP"]).pipe(ops.order_book(depth=25)).subscribe(print)
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 400):
            raise InvalidArgument("depth", depth, "must be an int from 1 to 400 or None (OKX sends 400 levels)")
        transport, source = self._channel("books", check_symbols(self.venue, symbols))

        def resync(symbol: str) -> None:
            transport.resubscribe(("books", symbol))

        return feed(source, resync)

    @common_symbols
    def book5(self, symbols: str | Sequence[str]) -> Observable[Event]:
        """The top five levels (``books5``), each push a whole ``BookSnapshot`` (``depth=5``).

        Example::

            okx.book5("BTC-USDT").pipe(ops.order_book()).subscribe(print)
        """
        return self._channel("books5", check_symbols(self.venue, symbols))[1]

    @common_symbols
    def bbo(self, symbols: str | Sequence[str]) -> Observable[Event]:
        """Best bid and offer, tick by tick (``bbo-tbt``), as :class:`~rxfeeds.events.Quote`.

        Example::

            okx.bbo("BTC-USDT").subscribe(lambda q: print(q.bid, q.ask))
        """
        return self._channel("bbo-tbt", check_symbols(self.venue, symbols))[1]

    @common_symbols
    def trades(self, symbols: str | Sequence[str]) -> Observable[Event]:
        """Public trades (:class:`~rxfeeds.events.Trade` with OKX's ``tradeId``).

        Example::

            okx.trades("BTC-USDT").subscribe(lambda t: print(t.trade_id, t.price))
        """
        return self._channel("trades", check_symbols(self.venue, symbols))[1]

    @common_symbols
    def ticker(self, symbols: str | Sequence[str]) -> Observable[Event]:
        """Tickers (:class:`~rxfeeds.events.Ticker`; 24 h ``volume`` in the base currency).

        Example::

            okx.ticker("BTC-USDT").subscribe(lambda t: print(t.bid, t.ask))
        """
        return self._channel("tickers", check_symbols(self.venue, symbols))[1]

    def tickers(self, symbols: str | Sequence[str]) -> Observable[Event]:
        """OKX's name of :meth:`ticker`."""
        return self.ticker(symbols)

    @common_symbols
    def klines(self, symbols: str | Sequence[str], interval: IntervalLike = "1m") -> Observable[Event]:
        """Candles (``candle1m``, ``candle1H``...; :class:`~rxfeeds.events.Kline`, ``closed`` when confirmed).

        Example::

            okx.klines("BTC-USDT-SWAP", "1h").subscribe(print)
        """
        channel = candle_channel(interval)
        return self._channel(channel, check_symbols(self.venue, symbols), business=True)[1]

    def candles(self, symbols: str | Sequence[str], interval: IntervalLike = "1m") -> Observable[Event]:
        """OKX's name of :meth:`klines`."""
        return self.klines(symbols, interval)

    def ping(self, *, timeout: float = 10.0) -> Observable[Any]:
        """Send the text ``ping``; emits ``"pong"`` when the venue answers, then completes.

        Example::

            okx.ping().run()
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidArgument("timeout", timeout, "must be a positive number of seconds")
        from ...aio import awaitable

        transport = self._connection("public", self.url)
        return awaitable(transport.request("ping", PING_ID, float(timeout)))

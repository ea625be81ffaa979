"""``Coinbase``: Coinbase Advanced Trade market data as Observables.

One websocket (``wss://advanced-trade-ws.coinbase.com``) carries every channel; each product of
each channel is one subscription (``{"type":"subscribe","product_ids":[P],"channel":C}``),
shared by every subscriber and unsubscribed when the last one leaves.  The first subscription
of every connection also subscribes ``heartbeats``, which keeps quiet channels open (the venue
closes a channel with no update for 60-90 s otherwise) and proves the connection alive.

``book()`` is a :class:`~rxfeeds.feed.Feed` for ``ops.order_book``: a ``level2`` snapshot then
updates, numbered so that any lost message of the connection (a ``sequence_num`` gap) shows as a
``gap`` in every book, each of which is then resubscribed for a fresh snapshot (see
:mod:`rxfeeds.venues.coinbase.codec`).  Symbols are ``BTC-USD`` or ``BTC/USD``.

Example::

    from rxfeeds import Coinbase, ops
    coinbase = Coinbase()
    coinbase.book("BTC/USD").pipe(ops.order_book(depth=10)).subscribe(print)
    coinbase.trades(["BTC-USD", "ETH-USD"]).subscribe(print)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

import reactivex
from reactivex import Observable

from ...errors import InvalidArgument
from ...events import Event
from ...feed import Feed
from ...intervals import IntervalLike, parse_interval
from ...transport import Transport
from ...transport.redact import redact_url
from ..base import VenueClient, check_url, feed
from ..symbols import check_symbols, common_symbols
from .codec import CANDLE_SECONDS, CoinbaseCodec

__all__ = ["Coinbase", "URL"]

URL: Final = "wss://advanced-trade-ws.coinbase.com"


def _merged(streams: list[Observable[Any]]) -> Observable[Any]:
    return streams[0] if len(streams) == 1 else reactivex.merge(*streams)


def _check_connection(connection: Any) -> str:
    if not isinstance(connection, str) or not connection:
        raise InvalidArgument("connection", connection, "must be a non-empty connection name")
    return connection


class Coinbase(VenueClient):
    """Coinbase Advanced Trade market data client (see the module docstring).

    Args:
        url: the market data endpoint (default ``wss://advanced-trade-ws.coinbase.com``).
        jwt: optional; a JWT text or a function returning a fresh one (JWTs expire after two
            minutes, so a function is the useful form).  Public channels need none; when given,
            every subscribe carries one and ``url`` must be ``wss://`` (or this machine).  Never
            logged or recorded.
        **options: :class:`~rxfeeds.venues.base.VenueClient` options (``backoff``,
            ``transport_factory``, socket options such as ``stale_timeout``).

    Example::

        with Coinbase(url=sim.url) as coinbase:
            coinbase.ticker("BTC-USD").subscribe(print)
    """

    venue: ClassVar[str] = "coinbase"

    def __init__(self, url: str | None = None, *, jwt: str | Callable[[], str] | None = None, **options: Any) -> None:
        if url is not None:
            check_url("url", url)
        if jwt is not None and not (callable(jwt) or (isinstance(jwt, str) and jwt)):
            raise InvalidArgument("jwt", "***", "must be a JWT text or a function returning one", secret=True)
        super().__init__(**options)
        self.url = url or URL
        if jwt is not None:
            self._require_secure("url", self.url)
        token = jwt
        self._jwt: Callable[[], str] | None = None if token is None else token if callable(token) else lambda: token

    def __repr__(self) -> str:
        return f"Coinbase(url={redact_url(self.url)!r}, connections={sorted(self.connections)})"

    def _public(self, connection: str) -> Transport:
        jwt = self._jwt
        return self._transport(_check_connection(connection), self.url, lambda: CoinbaseCodec(jwt, venue=self.venue))

    def _channel(self, channel: str, symbols: Any, connection: str) -> tuple[Transport, list[str], Observable[Any]]:
        products = check_symbols(self.venue, symbols)
        transport = self._public(connection)
        return transport, products, _merged([transport.multiplex((channel, p)) for p in products])

    # -- channels ------------------------------------------------------------------------------

    @common_symbols
    def book(
        self, symbols: str | Sequence[str], depth: int | None = None, *, connection: str = "public"
    ) -> Feed[Event]:
        """Order book (``level2``): a ``BookSnapshot`` of the whole book, then ``BookDelta`` s.

        ``depth`` is only checked (the venue sends every level): trim with
        ``ops.order_book(depth=...)``.  A lost message of the connection makes every book
        report a gap; ``ops.order_book`` then resubscribes each one.

        Example::

            coinbase.book("BTC-USD").pipe(ops.order_book(depth=10)).subscribe(print)
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0):
            raise InvalidArgument("depth", depth, "must be a positive integer or None (the venue sends every level)")
        transport, _, source = self._channel("level2", symbols, connection)

        def resync(product: str) -> None:
            transport.resubscribe(("level2", product))

        return feed(source, resync)

    def level2(self, symbols: str | Sequence[str], *, connection: str = "public") -> Feed[Event]:
        """The venue's name of :meth:`book`.

        Example::

            coinbase.level2("ETH-USD").pipe(ops.order_book()).subscribe(print)
        """
        return self.book(symbols, connection=connection)

    @common_symbols
    def trades(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Public trades (``market_trades``): the venue's recent trades (oldest first), then each new one.

        ``side`` is the venue's ``BUY``/``SELL`` in lower case; ``trade_id`` its id text.

        Example::

            coinbase.trades("BTC-USD").subscribe(lambda t: print(t.price, t.size, t.side))
        """
        return self._channel("market_trades", symbols, connection)[2]

    def market_trades(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """The venue's name of :meth:`trades`.

        Example::

            coinbase.market_trades("BTC-USD").subscribe(print)
        """
        return self.trades(symbols, connection=connection)

    @common_symbols
    def ticker(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """Ticker (:class:`~rxfeeds.events.Ticker`): last price, best bid/ask with sizes, 24 h
        high, low and volume; a snapshot, then an update per trade.

        Example::

            coinbase.ticker("BTC-USD").subscribe(lambda t: print(t.last, t.bid, t.ask))
        """
        return self._channel("ticker", symbols, connection)[2]

    @common_symbols
    def klines(
        self, symbols: str | Sequence[str], interval: IntervalLike = "5m", *, connection: str = "public"
    ) -> Observable[Event]:
        """Venue candles (``candles``): five-minute :class:`~rxfeeds.events.Kline` s, the only
        granularity the feed has (``interval`` defaults to it; anything else is refused: build
        other bars from :meth:`trades` with ``ops.klines``).  Recent candles first (oldest
        first), then updates of the running one about every second (``closed=False``).

        Example::

            coinbase.klines("BTC-USD").subscribe(lambda k: print(k.open_time, k.close))
        """
        found = parse_interval(interval)
        if found.seconds != CANDLE_SECONDS:
            raise InvalidArgument("interval", interval, "Coinbase streams five-minute candles only: use '5m'")
        return self._channel("candles", symbols, connection)[2]

    def candles(self, symbols: str | Sequence[str], *, connection: str = "public") -> Observable[Event]:
        """The venue's name of :meth:`klines` (five-minute candles).

        Example::

            coinbase.candles("ETH-USD").subscribe(print)
        """
        return self.klines(symbols, connection=connection)

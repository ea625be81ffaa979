"""The Binance spot simulator's shared base (venue-private): symbols, stream names, book state.

:class:`BinanceSpotBase` holds what every part reads: the listed symbols, the per-symbol update
ids and pending diffs (:class:`_SymbolState`), the stream watchers, the stream-name rule and the
book a synced client has.  The market feed (:mod:`~rxfeeds.sim.binance_spot.feed`), the REST
endpoints (:mod:`~rxfeeds.sim.binance_spot.rest`) and the websocket protocol
(:mod:`~rxfeeds.sim.binance_spot.ws`) build on it.

Example:
    >>> BinanceSpotBase.parse_stream("btcusdt@depth@100ms")
    ('depth@100ms', 'BTCUSDT')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ...codec import Key
from ...errors import InvalidArgument
from ...venues.binance_spot.codec import KLINE_INTERVALS
from ..kit.klines import KlineBar
from ..kit.presets import market_options_for
from ..server import SimConnection, SimServer

__all__ = ["SPOT_INTERVALS", "BinanceSpotBase"]

SPOT_INTERVALS: Final = KLINE_INTERVALS
_SYMBOL: Final = re.compile(r"^[a-z0-9]{2,20}\Z")
#: diff stream channel -> seconds between diffs
_DEPTH_SPEEDS: Final = {"depth@100ms": 0.1, "depth": 1.0, "depth@1000ms": 1.0}
_PLAIN_CHANNELS: Final = frozenset({"trade", "aggTrade", "bookTicker", "ticker", "miniTicker"})
#: all-market array streams (no symbol): stream name -> per-symbol channel they gather
_ARRAY_STREAMS: Final = {"!ticker@arr": "ticker", "!miniTicker@arr": "miniTicker"}
#: rolling-window tickers are pushed once a second
_TICKER_PERIOD: Final = 1.0
_REST_LIMIT_MAX: Final = 5000
_MAX_STREAMS: Final = 1024
_DECIMALS: Final = 8


@dataclass
class _SymbolState:
    update_id: int
    top: tuple[Any, Any] = (None, None)
    slow_first: int | None = None  # first U of the pending 1000 ms diff
    slow_changes: dict[tuple[str, int], int] = field(default_factory=dict)
    slow_emitted: float = 0.0
    ticker_emitted: float = 0.0
    last_trade_id: int = -1
    bars: dict[str, KlineBar] = field(default_factory=dict)


class _RequestError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class BinanceSpotBase(SimServer):
    """Symbols, stream names and book state of the Binance spot simulator.

    Its arguments are documented on :class:`~rxfeeds.sim.binance_spot.BinanceSpotSim`.
    """

    venue = "binance-spot"
    path = "/stream"
    ping_interval = 20.0

    def __init__(
        self,
        *,
        listed: Iterable[str] | None = None,
        max_messages_per_second: int | None = 5,
        **options: Any,
    ) -> None:
        symbols = options.pop("symbols", ())
        options["symbols"] = [s.upper() for s in ([symbols] if isinstance(symbols, str) else symbols)]
        super().__init__(**options)
        if isinstance(listed, str):
            listed = [listed]
        self.listed: frozenset[str] | None = None if listed is None else frozenset(s.upper() for s in listed)
        if max_messages_per_second is not None and max_messages_per_second < 1:
            raise InvalidArgument("max_messages_per_second", max_messages_per_second, "must be >= 1 or None")
        self.max_messages_per_second = max_messages_per_second
        self._states: dict[str, _SymbolState] = {}
        #: (channel, SYMBOL) -> connections subscribed to that stream
        self._watchers: dict[Key, dict[int, SimConnection]] = {}
        #: tickers pushed in the current tick, gathered for the ``!…@arr`` streams
        self._array_pending: dict[str, list[dict[str, Any]]] | None = None

    # -- venue helpers ----------------------------------------------------------------------

    def market_options(self, symbol: str) -> dict[str, Any]:
        return market_options_for(symbol)

    def truth(self, key: Any, depth: int | None = None) -> Any:
        """The book a synced client has for ``key`` (a symbol, any case)."""
        if isinstance(key, str):
            key = key.upper()
            if self.running:
                self.call(self._state, key)  # a market nobody stepped yet still has a book
        return super().truth(key, depth)

    def update_id(self, symbol: str) -> int:
        """The last update id (``u``) of ``symbol``'s book (any case; thread-safe)."""
        return self.call(lambda: self._state(symbol.upper()).update_id)

    def is_listed(self, symbol: str) -> bool:
        """Whether ``symbol`` (any case) exists on this simulated venue."""
        if not _SYMBOL.match(symbol.lower()):
            return False
        return self.listed is None or symbol.upper() in self.listed

    def _state(self, symbol: str) -> _SymbolState:
        """Per-symbol venue state; creates the market (and the sent book) on first use."""
        st = self._states.get(symbol)
        if st is None:
            market = self.market(symbol)
            st = _SymbolState(update_id=1_000_000 + self.symbol_seed(symbol) % 1_000_000)
            self._states[symbol] = st
            book = self.sent_book(symbol)
            book.replace(
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.bids()],
                [(market.price_text(p, _DECIMALS), market.size_text(q, _DECIMALS)) for p, q in market.asks()],
            )
            self.record_truth(symbol, st.update_id)
        return st

    @staticmethod
    def parse_stream(name: Any) -> Key:
        """``"btcusdt@depth@100ms"`` -> ``("depth@100ms", "BTCUSDT")``; raises ``ValueError`` if invalid."""
        if not isinstance(name, str):
            raise ValueError(f"stream name must be a string: {name!r}")
        if name in _ARRAY_STREAMS:
            return (name, "")
        symbol, sep, channel = name.partition("@")
        if not sep or not _SYMBOL.match(symbol):
            raise ValueError(f"invalid stream name {name!r}")
        if channel in _DEPTH_SPEEDS or channel in _PLAIN_CHANNELS:
            return (channel, symbol.upper())
        if channel.startswith("kline_") and channel[6:] in SPOT_INTERVALS:
            return (channel, symbol.upper())
        raise ValueError(f"invalid stream name {name!r}")

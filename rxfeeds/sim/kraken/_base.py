"""The Kraken simulators' shared base (venue-private): state, number formatting, truth, connections.

:class:`KrakenBase` holds what every part of a Kraken simulator reads: the pairs it refuses, the
API keys and tokens, the account's orders, the sent book views, the fixed-precision number texts,
the ``systemStatus`` greeting and the heartbeat timer.  The public market feed
(:mod:`~rxfeeds.sim.kraken.book`), the account (:mod:`~rxfeeds.sim.kraken.account`), the REST
endpoints (:mod:`~rxfeeds.sim.kraken.rest`) and the protocols (:mod:`~rxfeeds.sim.kraken.v1`,
:mod:`~rxfeeds.sim.kraken.v2`) build on it.

Example:
    >>> bool(PAIR_RE.match("XBT/USD")), bool(PAIR_RE.match("xbt/usd"))
    (True, False)
"""

from __future__ import annotations

import base64
import itertools
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import orjson

from ..market import SyntheticMarket
from ..server import SimConnection, SimServer

__all__ = [
    "BOOK_DEPTHS",
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "OHLC_INTERVALS",
    "PAIR_RE",
    "PRIVATE_V1",
    "PUBLIC",
    "TOKEN_PATH",
    "AccountOrder",
    "BookView",
    "KrakenBase",
    "SimSub",
]


#: REST path of the token endpoint.
TOKEN_PATH: Final = "/0/private/GetWebSocketsToken"
DEFAULT_API_KEY: Final = "sim-api-key"
#: base64 of the secret bytes, as Kraken hands them out
DEFAULT_API_SECRET: Final = base64.b64encode(b"rxfeeds simulator secret, not a real one").decode()

BOOK_DEPTHS: Final = (10, 25, 100, 500, 1000)
OHLC_INTERVALS: Final = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
PAIR_RE: Final = re.compile(r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}\Z")
PUBLIC: Final = ("book", "trade", "ticker", "ohlc", "spread")
PRIVATE_V1: Final = ("ownTrades", "openOrders")


@dataclass(slots=True)
class SimSub:
    """One subscription on one connection."""

    channel: str  # wire channel name: "book-10", "ohlc-5", "trade", "ownTrades" ...
    name: str  # "book", "ohlc", "trade", ...
    pair: str
    channel_id: int
    depth: int = 0
    interval: int = 0
    snapshot: bool = True  # v2: whether the subscription asked for the initial snapshot


@dataclass(slots=True)
class AccountOrder:
    """An order of the simulated account."""

    txid: str
    pair: str
    side: str
    ordertype: str
    volume: float
    price: float | None
    status: str = "open"
    vol_exec: float = 0.0
    userref: int | None = None
    opentm: float = 0.0
    cl_ord_id: str | None = None


@dataclass(slots=True)
class BookView:
    """What the server has sent for (pair, depth): price ticks -> (price_text, size_text) per side."""

    bids: dict[int, tuple[str, str]] = field(default_factory=dict)
    asks: dict[int, tuple[str, str]] = field(default_factory=dict)


class KrakenBase(SimServer):
    """State and helpers shared by every part of the Kraken simulators (see the module docstring).

    Args:
        unknown_pairs: well-formed pairs answered with "Currency pair not supported".
        api_keys: API key -> base64 secret accepted by the token endpoint.
        heartbeat_interval: seconds between ``heartbeat`` frames (connections with subscriptions).
        **options: :class:`~rxfeeds.sim.server.SimServer` options (``seed``, ``port``...).
    """

    venue: ClassVar[str] = "kraken"
    version: ClassVar[str] = "1.9.2"
    public_channels: ClassVar[tuple[str, ...]] = PUBLIC
    private_channels: ClassVar[tuple[str, ...]] = PRIVATE_V1

    def __init__(
        self,
        *,
        unknown_pairs: Iterable[str] = ("NOPE/USD",),
        api_keys: Mapping[str, str] | None = None,
        heartbeat_interval: float = 1.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.unknown_pairs = set(unknown_pairs)
        self.api_keys = dict(api_keys) if api_keys is not None else {DEFAULT_API_KEY: DEFAULT_API_SECRET}
        self.heartbeat_interval = heartbeat_interval
        self.tokens: set[str] = set()
        self.orders: dict[str, AccountOrder] = {}
        self.fills: list[dict[str, Any]] = []
        self.dead_man_trigger: float | None = None
        self._nonces: dict[str, int] = {}
        self._channel_ids = itertools.count(42)
        self._order_ids = itertools.count(1)
        self._views: dict[tuple[str, int], BookView] = {}
        self._tops: dict[str, tuple[Any, Any]] = {}
        # book frame shapes (which levels share a frame) draw from their own seeded stream, so
        # the market's own sequence of steps does not depend on them
        self._shape_rng = random.Random(self.seed ^ 0x4B524B)

    # ------------------------------------------------------------------ formatting

    def market_options(self, symbol: str) -> dict[str, Any]:
        base, _, quote = symbol.partition("/")
        if quote in ("XBT", "BTC", "ETH"):
            return {"mid": "0.05", "tick_size": "0.000001", "size_decimals": 8, "levels": 150}
        mid, tick = {"XBT": ("50000", "0.1"), "BTC": ("50000", "0.1"), "ETH": ("3000", "0.01")}.get(
            base, ("10", "0.0001")
        )
        return {"mid": mid, "tick_size": tick, "size_decimals": 8, "levels": 150}

    def price_text(self, market: SyntheticMarket, ticks: int) -> str:
        """v1 prices: fixed precision per pair, at least 5 decimals (``"50000.10000"``)."""
        return market.price_text(ticks, max(5, market.price_decimals))

    def size_text(self, market: SyntheticMarket, units: int) -> str:
        """v1 volumes: 8 decimals."""
        return market.size_text(units, max(8, market.size_decimals))

    def truth(self, key: Any, depth: int | None = None) -> Any:
        """The book sent for ``(pair, depth)``; a bare ``pair`` means depth 10.

        ``depth`` (with a tuple key) trims the copy like the base class does.
        """
        if isinstance(key, str):
            key, depth = (key, depth or 10), None
        return super().truth(key, depth)

    # ------------------------------------------------------------------ connection

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["last_out"] = self.clock()
        conn.state["seq"] = {}
        self.send(conn, self.status_message(conn))

    def status_message(self, conn: SimConnection) -> str:
        connection_id = 2**63 + 1_000_003 * conn.id + self.seed
        status = {
            "connectionID": connection_id,
            "event": "systemStatus",
            "status": "online",
            "version": self.version,
        }
        return orjson.dumps(status).decode()

    def send(self, conn: SimConnection, text: str | bytes) -> None:
        """Send and note the time of the last frame out."""
        conn.state["last_out"] = self.clock()
        conn.send(text)

    def on_tick(self, now: float) -> None:
        super().on_tick(now)
        self.expire_dead_man(now)
        for conn in self.connections:
            # About once a second while subscribed, busy or not: the shared book capture has
            # 31 heartbeats in 31 s amid ~90 updates a second.
            if not conn.subscriptions:
                conn.state["last_heartbeat"] = now
            elif now - conn.state.setdefault("last_heartbeat", now) >= self.heartbeat_interval:
                conn.state["last_heartbeat"] = now
                self.send(conn, self.heartbeat_message())

    def heartbeat_message(self) -> str:
        return '{"event":"heartbeat"}'

    # ------------------------------------------------------------------ hooks and checks

    def expire_dead_man(self, now: float) -> None:
        """Act on the cancel-all timer once it is due (the account does; the base has none)."""

    def pair_error(self, pair: Any) -> str | None:
        """Kraken's error text for a pair it would refuse, else None."""
        if not isinstance(pair, str) or not PAIR_RE.match(pair):
            return f"Currency pair not in ISO 4217-A3 format {pair}"
        if pair in self.unknown_pairs or self.faults.should_reject(pair):
            return f"Currency pair not supported {pair}"
        return None

    @staticmethod
    def _candle_dict(c: Any, seconds: int) -> dict[str, Any]:
        """A candle in the fields both API versions send (``time``, ``begin``, ``end``, ``vwap`` ...)."""
        return {
            "time": c.last_trade_time,
            "begin": c.open_time,
            "end": c.open_time + seconds,
            "open": c.open,
            "high": c.high,
            "low": c.low,
            "close": c.close,
            "vwap": c.quote_volume // c.volume if c.volume else c.close,
            "volume": c.volume,
            "count": c.count,
        }

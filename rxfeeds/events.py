"""Typed, immutable event values shared by every venue.

Every event is a frozen, slotted dataclass.  Market-data events derive from :class:`Event` and
carry ``venue``, ``symbol`` (in the venue's own spelling), ``time`` (exchange time, epoch
seconds, or the receive time when the venue sends none) and ``recv_time`` (local receive time,
epoch seconds).

Number representation
---------------------
Prices and sizes are ``float``: fast to parse and to compare, and exact enough for display and
analytics.  Where a venue's integrity check needs the exact wire text (Kraken's CRC32 book
checksum), book levels also keep the strings as received, so no float round trip can break it.
A book level is therefore a plain 4-tuple ``(price, size, price_text, size_text)``; the texts are
``""`` when a venue gives numbers rather than strings and no checksum needs them.

Example:
    >>> t = Trade("kraken", "XBT/USD", 1.0, 1.1, price=100.5, size=0.2, side="buy")
    >>> t.price, t.side
    (100.5, 'buy')
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias, TypeVar

_T = TypeVar("_T")


def fast_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass a faster ``__init__`` with the same signature.

    The dataclass-generated ``__init__`` of a frozen class calls ``object.__setattr__`` by name
    for every field; this one calls each slot's descriptor directly, about twice as fast.  Codecs
    build an event per message, so this is on every venue's hot path.  Venue-specific event
    classes may apply it too (after ``@dataclass``).
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": object.__new__, "_MISSING": dataclasses.MISSING}
    params: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        slot = next(k.__dict__[f.name] for k in cls.__mro__ if f.name in k.__dict__)
        namespace[f"_set{i}"] = slot.__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{i}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"if {f.name} is _MISSING: {f.name} = _factory{i}()")
        else:
            params.append(f.name)
        body.append(f"_set{i}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


# ---------------------------------------------------------------------- instrument hook
# The venue layer (above this module) knows each venue's symbol notation; it registers a resolver
# here when ``rxfeeds.venues`` is imported, so this bottom layer never imports venues.

InstrumentResolver: TypeAlias = Callable[[str, str], "str | None"]

_resolver: InstrumentResolver | None = None
#: (venue, symbol) -> instrument; bounded: a stream of hostile symbols cannot grow it without end
_instruments: dict[tuple[str, str], str] = {}
_INSTRUMENT_CACHE: Final = 4096


def set_instrument_resolver(resolver: InstrumentResolver | None) -> None:
    """Install the function mapping ``(venue, symbol)`` to ``BASE/QUOTE`` (None when unknown).

    ``rxfeeds.venues`` installs one built from the venue specs (and installs it again when a venue
    is registered); the cache of resolved instruments is cleared either way.
    """
    global _resolver
    _resolver = resolver
    _instruments.clear()


def instrument_of(venue: str, symbol: str) -> str:
    """``symbol`` of ``venue`` in the ``BASE/QUOTE`` notation, or ``symbol`` when it cannot be read."""
    key = (venue, symbol)
    found = _instruments.get(key)
    if found is not None:
        return found
    resolver = _resolver
    found = (resolver(venue, symbol) if resolver is not None and symbol else None) or symbol
    if len(_instruments) >= _INSTRUMENT_CACHE:
        _instruments.clear()
    _instruments[key] = found
    return found


Side: TypeAlias = Literal["buy", "sell"]

#: One book level: ``(price, size, price_text, size_text)``.  ``size == 0`` in a delta removes
#: the level.  The texts are the exact wire strings (``""`` when the venue sent numbers).
Level: TypeAlias = tuple[float, float, str, str]

__all__ = [
    "fast_init",
    "set_instrument_resolver",
    "Side",
    "Level",
    "Event",
    "Trade",
    "Quote",
    "Ticker",
    "Kline",
    "BookSnapshot",
    "BookDelta",
    "BookOrder",
    "OrderUpdate",
    "VenueEvent",
    "StreamReset",
    "IntegrityEvent",
    "ConnectionState",
    "ConnectionStatus",
]


@fast_init
@dataclass(frozen=True, slots=True)
class Event:
    """Base of every market-data event.

    Attributes:
        venue: venue name as in the command line (``"kraken"``, ``"hitbtc"``, ...).
        symbol: instrument in the venue's spelling (``"XBT/USD"``, ``"ETHBTC"``); ``""`` for
            events that belong to no instrument.
        time: exchange time in epoch seconds (receive time when the venue sends none).
        recv_time: local receive time in epoch seconds.
    """

    venue: str
    symbol: str
    time: float
    recv_time: float

    @property
    def instrument(self) -> str:
        """The instrument in the common ``BASE/QUOTE`` notation (``"BTC/USD"`` for Kraken's ``XBT/USD``).

        Computed on access from ``(venue, symbol)`` (no field: codecs, captures and the bus
        envelope are unchanged), so pipelines across venues can group by it.  A symbol the
        venue's notation cannot read, an unknown venue or an event without a symbol gives
        ``symbol`` itself.

        Example:
            >>> import rxfeeds.venues
            >>> Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=1.0).instrument
            'BTC/USD'
            >>> Trade("binance-spot", "BTCUSDT", 1.0, 1.0, price=1.0, size=1.0).instrument
            'BTC/USDT'
        """
        return instrument_of(self.venue, self.symbol)


@fast_init
@dataclass(frozen=True, slots=True)
class Trade(Event):
    """One public trade.

    ``side`` is the taker side when the venue tells it, else ``None``.

    Example:
        >>> Trade("hitbtc", "ETHBTC", 1.0, 1.0, price=0.05, size=2.0, side="sell", trade_id=7).size
        2.0
    """

    price: float
    size: float
    side: Side | None = None
    trade_id: str | int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Quote(Event):
    """Best bid and offer (Kraken ``spread``, Binance ``bookTicker``).

    Example:
        >>> Quote("kraken", "XBT/USD", 1.0, 1.0, bid=99.0, bid_size=1.0, ask=101.0, ask_size=2.0).ask
        101.0
    """

    bid: float
    bid_size: float
    ask: float
    ask_size: float


@fast_init
@dataclass(frozen=True, slots=True)
class Ticker(Event):
    """Rolling market summary; any field the venue does not send is ``None``.

    Example:
        >>> Ticker("kraken", "XBT/USD", 1.0, 1.0, last=100.0).last
        100.0
    """

    bid: float | None = None
    bid_size: float | None = None
    ask: float | None = None
    ask_size: float | None = None
    last: float | None = None
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None
    quote_volume: float | None = None
    vwap: float | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Kline(Event):
    """One candle (bar) over ``[open_time, close_time)`` in exchange time.

    ``time`` is the time of the last trade in the bar (or ``open_time`` for an empty bar).
    ``closed`` is ``False`` for a bar still accumulating; ``revision`` counts corrections of a
    closed bar (late trades with ``late="amend"``).  Fields a venue's own klines do not carry
    are ``None``.

    Example:
        >>> k = Kline("kraken", "XBT/USD", 60.0, 61.0, interval="1m", open_time=0.0,
        ...           close_time=60.0, open=1.0, high=2.0, low=0.5, close=1.5, volume=3.0)
        >>> k.high - k.low
        1.5
    """

    interval: str
    open_time: float
    close_time: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None = None
    trades: int | None = None
    vwap: float | None = None
    buy_volume: float | None = None
    sell_volume: float | None = None
    first_trade_time: float | None = None
    last_trade_time: float | None = None
    closed: bool = True
    revision: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class BookSnapshot(Event):
    """A full (or depth-limited) order book as sent by the venue.

    Sequence fields, when the venue has them:

    * ``sequence``: the last update id the snapshot includes (HitBTC ``sequence``, Binance
      ``lastUpdateId``).
    * ``checksum``: the venue's checksum of the book after this message (Kraken v2), else ``None``.

    Example:
        >>> s = BookSnapshot("kraken", "XBT/USD", 1.0, 1.0,
        ...                  bids=((99.0, 1.0, "99.0", "1.0"),), asks=((101.0, 2.0, "101.0", "2.0"),))
        >>> s.bids[0][0]
        99.0
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int | None = None
    checksum: int | None = None
    depth: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class BookDelta(Event):
    """Changed book levels; sizes are absolute and ``0`` removes the level.

    * ``sequence``: the last update id this delta covers (HitBTC ``sequence``, Binance ``u``).
    * ``first_sequence``: the first update id it covers (Binance ``U``); equals ``sequence`` for
      venues numbering every update (HitBTC).
    * ``checksum``: the venue's checksum of the book after applying this delta (Kraken).

    Example:
        >>> d = BookDelta("kraken", "XBT/USD", 1.0, 1.0, bids=(), asks=((101.0, 0.0, "101.0", "0.0"),))
        >>> d.asks[0][1] == 0
        True
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int | None = None
    first_sequence: int | None = None
    checksum: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class BookOrder(Event):
    """One order of an order-level (L3) book (Midchains, BitShares markets).

    ``removed`` marks a deleted order; otherwise the order is inserted or replaced by id.
    ``snapshot`` is ``True`` for orders that belong to a full book image (the first message
    after a subscribe).  ``frame_end`` is ``True`` on the last order of a venue message and
    ``False`` on the others: a message is applied as a whole, so ``ops.order_book`` publishes
    a book only after an order with ``frame_end=True`` (never half-applied); the default
    ``True`` makes a hand-made order a message of its own.  An image is the ``snapshot``
    orders of one message; an empty image is one ``removed`` order with an empty ``order_id``.

    Example:
        >>> BookOrder("midchains", "BTCUSD", 1.0, 1.0, order_id="7", side="buy", price=10.0, size=1.0).removed
        False
    """

    order_id: str
    side: Side
    price: float
    size: float
    removed: bool = False
    snapshot: bool = False
    frame_end: bool = True


@fast_init
@dataclass(frozen=True, slots=True)
class OrderUpdate(Event):
    """State of one of the user's orders (Kraken openOrders, HitBTC reports, DEX orders...).

    ``raw`` keeps the venue's full record for fields this type does not name.

    Example:
        >>> OrderUpdate("hitbtc", "ETHBTC", 1.0, 1.0, order_id="1", status="new").status
        'new'
    """

    order_id: str
    status: str
    client_order_id: str | None = None
    side: Side | None = None
    price: float | None = None
    size: float | None = None
    filled: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True)
class VenueEvent(Event):
    """Base for venue-specific events (block height, object notices, balances, ...).

    ``kind`` names the stream type (``"block_height"``, ``"object"``, ``"transfer"``...); ``data``
    holds the decoded payload.  Venues may subclass it with typed fields.

    Example:
        >>> VenueEvent("bitshares", "", 1.0, 1.0, kind="block", data="0062f19d").kind
        'block'
    """

    kind: str
    data: Any = None


@fast_init
@dataclass(frozen=True, slots=True)
class StreamReset(Event):
    """Continuity marker: the stream for ``(channel, symbol)`` restarted.

    The socket subject emits one into every affected subscription after a reconnect (and after
    an explicit resubscribe), *before* any data from the new subscription.  Operators that keep
    state across messages (the order book) must treat everything before it as unrelated to what
    follows.

    Example:
        >>> StreamReset("kraken", "XBT/USD", 1.0, 1.0, channel="book-10", reason="reconnect").reason
        'reconnect'
    """

    channel: str
    reason: str


IntegrityKind = Literal["gap", "checksum", "crossed", "invalid", "reset", "resync", "synced", "stale", "failed"]


@fast_init
@dataclass(frozen=True, slots=True)
class IntegrityEvent(Event):
    """Book (or stream) integrity news, emitted into the stream next to the values it concerns.

    ``kind`` is one of ``gap`` (sequence gap), ``checksum`` (mismatch), ``crossed`` (best bid >=
    best ask), ``invalid`` (an event that cannot be applied: a NaN, infinite, negative or absurd
    number, a wrong field type), ``reset`` (a :class:`StreamReset` was seen), ``resync`` (a fresh snapshot was
    requested), ``synced`` (the book is valid again), ``stale``, ``failed``.

    Example:
        >>> IntegrityEvent("hitbtc", "ETHBTC", 1.0, 1.0, kind="gap", detail="expected 5, got 7").kind
        'gap'
    """

    kind: IntegrityKind
    detail: str = ""


class ConnectionState(str, enum.Enum):
    """Life cycle of one socket connection."""

    IDLE = "idle"
    CONNECTING = "connecting"
    OPEN = "open"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"
    FAILED = "failed"


@fast_init
@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A change of connection state, as published on a socket subject's ``state`` stream.

    ``attempt`` counts consecutive failed connection attempts (0 once stable); ``delay`` is the
    back-off before the next attempt (only for ``RECONNECTING``); ``reason`` says why a
    connection ended.

    Example:
        >>> ConnectionStatus("kraken", "wss://ws.kraken.com", ConnectionState.OPEN, 0.0).state.value
        'open'
    """

    venue: str
    url: str
    state: ConnectionState
    time: float
    attempt: int = 0
    delay: float | None = None
    reason: str = ""

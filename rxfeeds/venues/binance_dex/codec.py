"""Binance DEX (Binance Chain) websocket codec (sans-I/O): method/topic subscriptions, twelve streams.

The live venue was shut down in December 2024 (BNB Beacon Chain); this codec serves replay and
the simulator.

Routing keys ``(channel, symbol)``:

==================  =============================  =========================================
stream              key                            event
==================  =============================  =========================================
accounts            ``("accounts", address)``      :class:`DexAccount` (``kind="accounts"``)
orders              ``("orders", address)``        :class:`DexOrderUpdate` (``channel="orders"``)
transfers           ``("transfers", address)``     :class:`DexTransfer` (``kind="transfers"``)
trades              ``("trades", SYMBOL)``         :class:`~rxfeeds.events.Trade`
marketDiff          ``("marketDiff", SYMBOL)``     :class:`~rxfeeds.events.BookDelta` (no sequence)
marketDepth[N]      ``("marketDepth100", SYMBOL)``  :class:`~rxfeeds.events.BookSnapshot`
kline_<i>           ``("kline_1h", SYMBOL)``       :class:`~rxfeeds.events.Kline`
ticker              ``("ticker", SYMBOL)``         :class:`~rxfeeds.events.Ticker`
miniTicker          ``("miniTicker", SYMBOL)``     :class:`~rxfeeds.events.Ticker`
allTickers          ``("allTickers", "$all")``      one :class:`~rxfeeds.events.Ticker` per market
allMiniTickers      ``("allMiniTickers", "$all")``  one :class:`~rxfeeds.events.Ticker` per market
blockheight         ``("blockheight", "$all")``     :class:`BlockHeight` (``kind="block_height"``)
==================  =============================  =========================================

Symbols in keys are upper case (the venue's canonical spelling, e.g. ``BNB_BTCB-1DE``).  The
server envelope is ``{"stream": <topic>, "data": …}`` and names only the topic, so account
streams are routed to the address this codec last subscribed (the venue allows one address per
connection) and market streams by the payload's symbol.

Subscriptions send both ``address`` (current docs) and ``userAddress`` (the pre-2019 name both
python clients kept), so either server generation accepts them.  The venue documented no
acknowledgement and no error format; the project's simulator answers a refused subscription
with ``{"error": {"code", "msg"}, "topic": …, "symbols": […]}`` (or ``"address"``), which this
codec turns into :class:`~rxfeeds.codec.Rejected` for exactly those keys.

``E`` is a block height on this venue, not a time; event times come from the millisecond
timestamps where a payload has them (``T``, kline ``t``) and the receive time otherwise.

Example:
    >>> c = BinanceDexCodec()
    >>> c.subscribe_frames(("trades", "BNB_BTCB-1DE"))
    ['{"method":"subscribe","topic":"trades","symbols":["BNB_BTCB-1DE"]}']
    >>> c.ping_frame()
    '{"method":"keepAlive"}'
    >>> (m,) = c.decode(b'{"stream":"blockheight","data":{"h":42}}', 1.0)
    >>> m.key, m.events[0].height
    (('blockheight', '$all'), 42)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from ...codec import BaseCodec, Data, Key, Message, Notice, Rejected
from ...errors import FrameError, RequestError, SubscriptionError, UnknownMessage
from ...events import (
    BookDelta,
    BookSnapshot,
    Event,
    Kline,
    OrderUpdate,
    Side,
    Ticker,
    Trade,
    VenueEvent,
)
from ...numeric import DECODE_ERRORS, BadValue, opt_size, price, size, text_levels
from ...numeric import symbol as check_symbol

__all__ = [
    "VENUE",
    "ACCOUNT_TOPICS",
    "ALL_SYMBOLS",
    "DEPTH_TOPICS",
    "KLINE_INTERVALS",
    "BinanceDexCodec",
    "BlockHeight",
    "DexAccount",
    "DexOrderUpdate",
    "DexTransfer",
    "is_address",
    "is_symbol",
    "bech32_encode",
    "stream_name",
    "event_seconds",
]

VENUE: Final = "binance-dex"
ALL_SYMBOLS: Final = "$all"
ACCOUNT_TOPICS: Final = ("accounts", "orders", "transfers")
ALL_MARKET_TOPICS: Final = ("allTickers", "allMiniTickers", "blockheight")
#: levels -> depth topic
DEPTH_TOPICS: Final = {
    20: "marketDepth",
    100: "marketDepth100",
    500: "marketDepth500",
    1000: "marketDepth1000",
}
KLINE_INTERVALS: Final = (
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)

_KEEPALIVE: Final = '{"method":"keepAlive"}'
_CLOSE: Final = '{"method":"close"}'
_ORDER_SIDES: Final[dict[int, Side]] = {1: "buy", 2: "sell"}
#: trade ``tt`` (tick type): 1 SellTaker, 2 BuyTaker; others (surplus, neutral, unknown) have no taker side
_TAKER_SIDES: Final[dict[int, Side]] = {1: "sell", 2: "buy"}


@dataclass(frozen=True, slots=True)
class BlockHeight(VenueEvent):
    """A new block (``$all@blockheight``).

    Example:
        >>> BlockHeight("binance-dex", "", 1.0, 1.0, kind="block_height", data={"h": 7}, height=7).height
        7
    """

    height: int = 0


@dataclass(frozen=True, slots=True)
class DexOrderUpdate(OrderUpdate):
    """An order update from the ``orders`` stream: an :class:`~rxfeeds.events.OrderUpdate` whose
    ``channel`` field lets ``ops.of_channel("orders")`` select it from ``account()``.

    ``raw`` keeps the venue's ``executionReport`` (fees ``n``, last fill ``l``/``L``, ...).

    Example:
        >>> DexOrderUpdate("binance-dex", "ETH_BTC", 1.0, 1.0, order_id="1", status="Ack").channel
        'orders'
    """

    channel: str = "orders"


@dataclass(frozen=True, slots=True)
class DexAccount(VenueEvent):
    """Account balances (``accounts`` stream): ``balances`` are ``(asset, free, locked, frozen)``.

    Example:
        >>> a = DexAccount("binance-dex", "", 1.0, 1.0, kind="accounts", balances=(("BNB", 1.0, 0.0, 0.0),))
        >>> a.balances[0][1]
        1.0
    """

    address: str = ""
    height: int | None = None
    balances: tuple[tuple[str, float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class DexTransfer(VenueEvent):
    """A transfer touching the account (``transfers`` stream).

    ``outputs`` are ``(to_address, asset, amount)`` triples.

    Example:
        >>> t = DexTransfer("binance-dex", "", 1.0, 1.0, kind="transfers", outputs=(("bnb1x", "BNB", 1.5),))
        >>> t.outputs[0][2]
        1.5
    """

    address: str = ""
    height: int | None = None
    tx_hash: str = ""
    memo: str = ""
    from_address: str = ""
    outputs: tuple[tuple[str, str, float], ...] = ()


# --- addresses (BIP-173 bech32) --------------------------------------------------------------

_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX: Final = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: Sequence[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= _GENERATOR[i]
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_encode(hrp: str, payload: bytes) -> str:
    """Encode 20 (or any number of) bytes as a bech32 address (used by the simulator and tests).

    Example:
        >>> is_address(bech32_encode("tbnb", bytes(20)), "tbnb")
        True
    """
    acc, bits, data = 0, 0, []
    for byte in payload:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


_ADDRESS_SHAPE: Final = re.compile(r"^(t?bnb)1([qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38})\Z")


def is_address(address: object, prefix: str | None = None) -> bool:
    """Whether ``address`` is a well-formed Binance Chain address (``bnb1…``/``tbnb1…``, valid checksum).

    ``prefix`` (``"bnb"`` or ``"tbnb"``) also requires that network.

    Example:
        >>> is_address("bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4v")
        True
        >>> is_address("bnb1m4m9etgf3ca5wpgkqe5nr6r33a4ynxfln3yz4w")   # last character changed
        False
    """
    if not isinstance(address, str):
        return False
    match = _ADDRESS_SHAPE.match(address)
    if match is None or (prefix is not None and match.group(1) != prefix):
        return False
    hrp, data = match.group(1), [_CHARSET_INDEX[c] for c in match.group(2)]
    return _polymod([*_hrp_expand(hrp), *data]) == 1


# --- helpers ---------------------------------------------------------------------------------

_SYMBOL_SHAPE: Final = re.compile(r"^[A-Z0-9.]{2,14}(-[0-9A-Z]{3,4})?_[A-Z0-9.]{2,14}(-[0-9A-Z]{3,4})?\Z")


def is_symbol(symbol: object) -> bool:
    """Whether ``symbol`` is a well-formed DEX market symbol ``BASE_QUOTE`` (any case).

    Tokens are letters/digits with an optional ``-XXX`` suffix (``BNB_BTCB-1DE``, ``ANKR-E97_BNB``).

    Example:
        >>> is_symbol("bnb_btcb-1de"), is_symbol("BNBBTC"), is_symbol("BNB/BTC")
        (True, False, False)
    """
    return isinstance(symbol, str) and _SYMBOL_SHAPE.match(symbol.upper()) is not None


def stream_name(key: Key) -> str:
    """The URL stream name of a market key (``<symbol>@<topic>``, ``$all@allTickers``).

    Example:
        >>> stream_name(("marketDepth", "BNB_BTCB-1DE"))
        'BNB_BTCB-1DE@marketDepth'
    """
    topic, symbol = key
    return f"{symbol}@{topic}"


def event_seconds(value: Any, fallback: float) -> float:
    """A venue timestamp in seconds: milli-, micro- and nanoseconds are told apart by size.

    Values below 1e11 (block heights, counters) are not timestamps; ``fallback`` is returned.

    Example:
        >>> event_seconds(1_600_000_000_000, 0.0), event_seconds(1_600_000_000_000_000_000, 0.0)
        (1600000000.0, 1600000000.0)
        >>> event_seconds(5, 9.0)
        9.0
    """
    if isinstance(value, str):
        value = int(value)
    if not isinstance(value, (int, float)) or value < 1e11:
        return fallback
    if not value < 1e20:  # beyond nanoseconds in the year 5138 (also NaN): compared before float()
        raise BadValue(f"time out of range: {value!r}"[:100])
    if value < 1e14:
        return float(value) / 1e3
    if value < 1e17:
        return float(value) / 1e6
    return float(value) / 1e9


_levels = text_levels  # [[price, qty], ...]: checked number strings
_float = opt_size


class BinanceDexCodec(BaseCodec):
    """Codec for the Binance DEX websocket (see the module docstring)."""

    venue = VENUE

    def __init__(self, venue: str = VENUE) -> None:
        self.venue = venue
        self._address = ""

    # -- frames -------------------------------------------------------------------------------

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        topic, symbol = key
        if topic in ACCOUNT_TOPICS:
            self._address = symbol
            body: dict[str, Any] = {
                "method": "subscribe",
                "topic": topic,
                "address": symbol,
                "userAddress": symbol,
            }
        else:
            body = {"method": "subscribe", "topic": topic, "symbols": [symbol]}
        return [orjson.dumps(body).decode()]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        topic, symbol = key
        if topic in ACCOUNT_TOPICS:
            return [orjson.dumps({"method": "unsubscribe", "topic": topic}).decode()]
        return [orjson.dumps({"method": "unsubscribe", "topic": topic, "symbols": [symbol]}).decode()]

    def ping_frame(self) -> str:
        """``keepAlive``: each one extends the connection's life by 30 minutes."""
        return _KEEPALIVE

    def close_frame(self) -> str:
        """``close``: asks the server to end the connection."""
        return _CLOSE

    def use_address(self, address: str) -> None:
        """Route account streams to ``address`` (URL form ``/ws/<address>``, nothing subscribed)."""
        self._address = address

    # -- decoding -----------------------------------------------------------------------------

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except DECODE_ERRORS as exc:
            raise FrameError(f"not JSON ({exc})", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("not a JSON object", frame, self.venue)
        try:
            stream = msg.get("stream")
            if isinstance(stream, str) and "data" in msg:
                return self._decode_stream(stream, msg["data"], recv_time, frame)
            if "error" in msg:
                return self._decode_error(msg)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"bad message ({type(exc).__name__}: {exc})"[:300], frame, self.venue) from None
        raise UnknownMessage("unknown message", frame, self.venue)

    def _decode_error(self, msg: dict[str, Any]) -> list[Message]:
        error = msg["error"]
        if not isinstance(error, dict):
            error = {"msg": str(error)}
        code, text = error.get("code"), str(error.get("msg", "error"))
        topic = msg.get("topic")
        if isinstance(topic, str):
            if topic in ACCOUNT_TOPICS:
                symbols = [str(msg.get("address") or msg.get("userAddress") or self._address)]
            else:
                symbols = [str(s).upper() for s in msg.get("symbols") or ()]
            keys = [(topic, s) for s in symbols]
            if keys:
                return [Rejected(k, SubscriptionError(self.venue, k, f"[{code}] {text}")) for k in keys]
        return [Notice(RequestError(self.venue, text, code))]

    def _decode_stream(self, stream: str, data: Any, recv_time: float, frame: str | bytes) -> list[Message]:
        # URL stream forms may name the stream "<symbol>@<topic>"; the topic decides the decoding.
        topic = stream.rpartition("@")[2]
        venue = self.venue
        if topic == "trades":
            by_symbol: dict[str, list[Event]] = {}
            for t in data:
                name = check_symbol(t["s"])
                by_symbol.setdefault(name.upper(), []).append(
                    Trade(
                        venue,
                        name,
                        event_seconds(t.get("T"), recv_time),
                        recv_time,
                        price=price(t["p"]),
                        size=size(t["q"]),
                        side=_TAKER_SIDES.get(t.get("tt", 0)),
                        trade_id=t["t"],
                    )
                )
            return [Data(("trades", s), events) for s, events in by_symbol.items()]
        if topic == "marketDiff":
            symbol = check_symbol(data["s"])
            delta = BookDelta(venue, symbol, recv_time, recv_time, bids=_levels(data["b"]), asks=_levels(data["a"]))
            return [Data((topic, symbol.upper()), [delta])]
        if topic.startswith("marketDepth"):
            symbol = check_symbol(data["symbol"])
            levels = int(topic[len("marketDepth") :] or 20)
            snapshot = BookSnapshot(
                venue,
                symbol,
                recv_time,
                recv_time,
                bids=_levels(data["bids"]),
                asks=_levels(data["asks"]),
                sequence=int(data["lastUpdateId"]),
                depth=levels,
            )
            return [Data((topic, symbol.upper()), [snapshot])]
        if topic.startswith("kline_"):
            kline = self._kline(data, recv_time)
            return [Data((topic, kline.symbol.upper()), [kline])]
        if topic in ("ticker", "miniTicker"):
            ticker = self._ticker(data, recv_time)
            return [Data((topic, ticker.symbol.upper()), [ticker])]
        if topic in ("allTickers", "allMiniTickers"):
            return [Data((topic, ALL_SYMBOLS), [self._ticker(t, recv_time) for t in data])]
        if topic == "blockheight":
            height = int(data["h"])
            event = BlockHeight(venue, "", recv_time, recv_time, kind="block_height", data=data, height=height)
            return [Data((topic, ALL_SYMBOLS), [event])]
        if topic == "orders":
            return [Data((topic, self._address), [self._order(o, recv_time) for o in data])]
        if topic == "accounts":
            return [Data((topic, self._address), [self._account(a, recv_time) for a in _listed(data)])]
        if topic == "transfers":
            return [Data((topic, self._address), [self._transfer(t, recv_time) for t in _listed(data)])]
        raise UnknownMessage(f"unknown stream {stream!r}", frame, venue)

    def _kline(self, data: dict[str, Any], recv_time: float) -> Kline:
        k = data["k"]
        volume, quote_volume = size(k["v"]), size(k["q"])
        open_time = event_seconds(k["t"], recv_time)
        return Kline(
            self.venue,
            check_symbol(data["s"]),
            event_seconds(data.get("E"), open_time),
            recv_time,
            interval=check_symbol(k["i"]),
            open_time=open_time,
            close_time=event_seconds(int(k["T"]) + 1, recv_time),  # T is the bar's last millisecond
            open=size(k["o"]),
            high=size(k["h"]),
            low=size(k["l"]),
            close=size(k["c"]),
            volume=volume,
            quote_volume=quote_volume,
            trades=int(k["n"]),
            vwap=quote_volume / volume if volume > 0 else None,
            closed=bool(k["x"]),
        )

    def _ticker(self, t: dict[str, Any], recv_time: float) -> Ticker:
        return Ticker(
            self.venue,
            check_symbol(t["s"]),
            event_seconds(t.get("E"), recv_time),
            recv_time,
            bid=_float(t.get("b")),
            bid_size=_float(t.get("B")),
            ask=_float(t.get("a")),
            ask_size=_float(t.get("A")),
            last=size(t["c"]),
            open=_float(t.get("o")),
            high=_float(t.get("h")),
            low=_float(t.get("l")),
            volume=_float(t.get("v")),
            quote_volume=_float(t.get("q")),
            vwap=_float(t.get("w")),
        )

    def _order(self, o: dict[str, Any], recv_time: float) -> DexOrderUpdate:
        return DexOrderUpdate(
            self.venue,
            check_symbol(o["s"]),
            event_seconds(o.get("T"), recv_time),
            recv_time,
            order_id=str(o["i"]),
            status=str(o["X"]),
            side=_ORDER_SIDES.get(o.get("S", 0)),
            price=_float(o.get("p")),
            size=_float(o.get("q")),
            filled=_float(o.get("z")),
            raw=o,
        )

    def _account(self, a: dict[str, Any], recv_time: float) -> DexAccount:
        balances = tuple((b["a"], size(b["f"]), size(b["l"]), size(b["r"])) for b in a["B"])
        return DexAccount(
            self.venue,
            "",
            recv_time,
            recv_time,
            kind="accounts",
            data=a,
            address=self._address,
            height=a.get("E"),
            balances=balances,
        )

    def _transfer(self, t: dict[str, Any], recv_time: float) -> DexTransfer:
        outputs = tuple((o["o"], c["a"], size(c["A"])) for o in t["t"] for c in o["c"])
        return DexTransfer(
            self.venue,
            "",
            recv_time,
            recv_time,
            kind="transfers",
            data=t,
            address=self._address,
            height=t.get("E"),
            tx_hash=str(t.get("H", "")),
            memo=str(t.get("M", "")),
            from_address=str(t.get("f", "")),
            outputs=outputs,
        )


def _listed(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]

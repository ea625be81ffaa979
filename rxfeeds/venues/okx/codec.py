"""OKX v5 public websocket codec (sans-I/O).

Keys are ``(channel, instId)`` with OKX's own channel names: ``("books", "BTC-USDT")``,
``("books5", ...)``, ``("bbo-tbt", ...)``, ``("trades", ...)``, ``("tickers", ...)``,
``("candle1m", ...)`` (every ``candle*`` channel).  Frames out are
``{"op":"subscribe","args":[{"channel":...,"instId":...}]}`` (``unsubscribe`` alike) and the text
``ping``; frames in are the text ``pong``, ``event`` replies (``subscribe``, ``unsubscribe``,
``error``, ``notice``) and pushes ``{"arg":{...},"data":[...]}``.

Books (``books``, 400 levels): ``action`` ``snapshot`` then ``update``; levels are
``[price, size, "0", orders]`` strings (kept exactly: the checksum is computed from them).

* ``checksum``: CRC32 of the top 25 bids and asks interleaved (:mod:`.checksum`), sent signed; the
  events carry it **unsigned**.  OKX deprecated the field in 2026 (it then always reads ``0``):
  ``0`` is taken as "no checksum" and the book relies on the sequence alone.
* ``seqId`` / ``prevSeqId``: a snapshot has ``prevSeqId`` -1; an update continues the previous
  message when its ``prevSeqId`` equals that message's ``seqId``.  Events carry
  ``sequence=seqId`` and ``first_sequence=prevSeqId + 1``, so the order book's sequence rule
  (``first_sequence == last + 1``) is exactly OKX's.  An update with ``seqId == prevSeqId`` (no
  change, a keep-alive) carries no sequence.  A sequence reset (``seqId < prevSeqId``, after a
  maintenance) is renumbered by the codec so the numbers the book sees keep increasing.
* ``books5`` (five levels, whole every time) becomes a ``BookSnapshot`` with ``depth=5`` each push;
  ``bbo-tbt`` a :class:`~rxfeeds.events.Quote`.

Example:
    >>> codec = OKXCodec()
    >>> codec.subscribe_frames(("books", "BTC-USDT"))[0]
    '{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}'
    >>> [m] = codec.decode(b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":'
    ...     b'[{"asks":[["41006.8","0.6","0","1"]],"bids":[],"ts":"1629966436396","checksum":-1,'
    ...     b'"seqId":7,"prevSeqId":5}]}', 1.0)
    >>> ev = m.events[0]
    >>> m.key, ev.asks[0], ev.checksum, ev.sequence, ev.first_sequence
    (('books', 'BTC-USDT'), (41006.8, 0.6, '41006.8', '0.6'), 4294967295, 7, 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson

from ...codec import Ack, BaseCodec, Data, Key, Message, Notice, Pong, Reply
from ...codec import Rejected as RejectedMsg
from ...errors import FrameError, SubscriptionError, UnknownMessage
from ...events import BookDelta, BookSnapshot, Event, Kline, Quote, Ticker, Trade, VenueEvent
from ...intervals import parse_interval
from ...numeric import DECODE_ERRORS, BadValue, ms_seconds, opt_size, price, size, text_level_sides, text_levels
from ...numeric import symbol as check_symbol

__all__ = ["BOOK_DEPTH", "CANDLE_CHANNELS", "PING_ID", "VENUE", "OKXCodec", "candle_channel", "subscribe_frame"]

VENUE: Final = "okx"
#: levels per side of the ``books`` channel
BOOK_DEPTH: Final = 400
#: candle channel suffix -> canonical interval name (``rxfeeds.intervals``); ``utc`` variants
#: (``candle6Hutc``) align to UTC instead of Hong Kong time and share the interval
CANDLE_CHANNELS: Final = {
    "1s": "1s",
    "1m": "1m",
    "3m": "3m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1H": "1h",
    "2H": "2h",
    "4H": "4h",
    "6H": "6h",
    "12H": "12h",
    "1D": "1d",
    "2D": "2d",
    "3D": "3d",
    "5D": "5d",
    "1W": "1w",
    "1M": "1M",
    "3M": "3M",
    "6M": "6M",
    "1Y": "12M",
}
_BY_INTERVAL: Final = {v: k for k, v in CANDLE_CHANNELS.items()}
_SIDES: Final = {"buy": "buy", "sell": "sell"}
#: the answer to the text ping: liveness, and the reply of a pending ``ping()`` request
PING_ID: Final = "ping"
_PONG: Final = (Pong(PING_ID), Reply(PING_ID, result="pong"))


def candle_channel(interval: Any) -> str:
    """The candle channel of an interval (any :func:`~rxfeeds.intervals.parse_interval` spelling).

    Example:
        >>> candle_channel("1m"), candle_channel("1h"), candle_channel("D1"), candle_channel("1y")
        ('candle1m', 'candle1H', 'candle1D', 'candle1Y')
    """
    if isinstance(interval, str) and interval.lower() in ("1y", "12m") and interval != "12m":
        return "candle1Y"
    name = parse_interval(interval).name
    suffix = _BY_INTERVAL.get(name)
    if suffix is None:
        from ...errors import InvalidArgument

        raise InvalidArgument(
            "interval", interval, f"OKX has no {name} candles; choose one of {', '.join(_BY_INTERVAL)}"
        )
    return f"candle{suffix}"


def subscribe_frame(op: str, keys: Sequence[Key]) -> str:
    """One ``op`` frame for several keys (OKX takes a list of ``args``).

    Example:
        >>> subscribe_frame("unsubscribe", [("trades", "BTC-USDT")])
        '{"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}'
    """
    args = [{"channel": c, "instId": s} for c, s in keys]
    return orjson.dumps({"op": op, "args": args}).decode()


def _opt(value: Any) -> float | None:
    return None if value is None or value == "" else opt_size(value)


def _int(value: Any, what: str) -> int:
    if type(value) is int:
        return value
    raise BadValue(f"{what} is not an integer: {value!r}"[:100])


class OKXCodec(BaseCodec):
    """OKX v5 public codec (see the module docstring).

    Example:
        >>> OKXCodec().decode("pong", 0.0)[0]
        Pong(request_id='ping')
    """

    venue = VENUE

    def __init__(self) -> None:
        # per book key: offset added to seqId (grows at each OKX sequence reset)
        self._offsets: dict[Key, int] = {}

    # --- frames out ---------------------------------------------------------------------------
    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [subscribe_frame("subscribe", [key])]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return [subscribe_frame("unsubscribe", [key])]

    def ping_frame(self) -> str | None:
        return "ping"

    def reset(self) -> None:
        self._offsets.clear()

    # --- frames in ----------------------------------------------------------------------------
    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        if frame == "pong" or frame == b"pong":
            return _PONG
        try:
            message = orjson.loads(frame)
        except (orjson.JSONDecodeError, *DECODE_ERRORS) as exc:
            raise FrameError(f"invalid JSON ({type(exc).__name__}: {exc})", frame, VENUE) from None
        if type(message) is not dict:
            raise UnknownMessage("not a JSON object", frame, VENUE)
        try:
            arg = message.get("arg")
            data = message.get("data")
            if data is not None and type(arg) is dict:
                return self._push(arg, message, data, frame, recv_time)
            event = message.get("event")
            if event is not None:
                return self._event(str(event), arg, message, recv_time)
        except FrameError:
            raise
        except DECODE_ERRORS as exc:
            raise FrameError(f"malformed frame ({type(exc).__name__}: {exc})", frame, VENUE) from None
        raise UnknownMessage("neither a push nor an event reply", frame, VENUE)

    def _event(self, event: str, arg: Any, message: dict[str, Any], t: float) -> list[Message]:
        if event == "subscribe" and type(arg) is dict:
            return [Ack((check_symbol(arg["channel"]), check_symbol(arg.get("instId", ""))))]
        if event == "unsubscribe":
            return []
        if event == "error":
            text = f"{message.get('code', '')} {message.get('msg', '')}".strip()
            key = _error_key(str(message.get("msg", "")))
            if key is not None:
                return [RejectedMsg(key, SubscriptionError(VENUE, key, text))]
        # connection-wide news: notice (service upgrade), an error naming no subscription, counts
        return [Notice(VenueEvent(VENUE, "", t, t, event, message))]

    def _push(self, arg: dict[str, Any], message: dict[str, Any], data: Any, frame: Any, t: float) -> list[Message]:
        channel = arg["channel"]
        inst = check_symbol(arg["instId"])
        if type(data) is not list:
            raise BadValue("data is not a list")
        key = (channel, inst)
        if channel == "books":
            return [Data(key, [self._book(key, message.get("action"), d, t) for d in data])]
        if channel == "trades":
            return [Data(key, [_trade(inst, d, t) for d in data])]
        if channel == "tickers":
            return [Data(key, [_ticker(inst, d, t) for d in data])]
        if type(channel) is str and channel.startswith("candle"):
            interval = CANDLE_CHANNELS.get(channel[6:].removesuffix("utc"))
            if interval is None:
                raise BadValue(f"unknown candle channel {channel!r}"[:100])
            return [Data(key, [_kline(inst, interval, d, t) for d in data])]
        if channel == "books5":
            return [Data(key, [_image(inst, d, t) for d in data])]
        if channel == "bbo-tbt":
            return [Data(key, [_bbo(inst, d, t) for d in data])]
        raise UnknownMessage(f"unknown channel {channel!r}"[:100], frame, VENUE)

    def _book(self, key: Key, action: Any, d: dict[str, Any], t: float) -> Event:
        inst = key[1]
        bids, asks = text_level_sides(d["bids"], d["asks"])
        time = ms_seconds(d["ts"]) if "ts" in d else t
        checksum = d.get("checksum")
        if checksum is not None:
            checksum = _int(checksum, "checksum")
            if not -0x8000_0000 <= checksum <= 0xFFFF_FFFF:
                raise BadValue(f"checksum is not 32-bit: {checksum}")
            checksum = (checksum & 0xFFFF_FFFF) or None  # 0: deprecated field, no checksum
        seq = d.get("seqId")
        prev = d.get("prevSeqId")
        if action == "snapshot":
            sequence = None
            if seq is not None:
                sequence = _int(seq, "seqId") + self._offsets.get(key, 0)
            return BookSnapshot(
                VENUE, inst, time, t, bids, asks, sequence=sequence, checksum=checksum, depth=BOOK_DEPTH
            )
        if action != "update":
            raise BadValue(f"unknown book action {action!r}"[:100])
        first = sequence = None
        if seq is not None and prev is not None:
            seq, prev = _int(seq, "seqId"), _int(prev, "prevSeqId")
            offset = self._offsets.get(key, 0)
            if seq < prev:  # OKX reset its numbering: keep ours increasing across it
                new = offset + prev + 1 - seq
                self._offsets[key] = new
                first, sequence = prev + offset + 1, seq + new
            elif seq > prev:
                first, sequence = prev + offset + 1, seq + offset
        return BookDelta(VENUE, inst, time, t, bids, asks, sequence=sequence, first_sequence=first, checksum=checksum)


def _error_key(text: str) -> Key | None:
    """The subscription an ``error`` names (OKX writes ``channel:books,instId:BTC-XYZ``)."""
    _, found, rest = text.partition("channel:")
    if not found:
        return None
    channel, comma, rest = rest.partition(",")
    if not comma or not rest.startswith("instId:"):
        return None
    inst = rest[7:].split(" ", 1)[0].rstrip(".,")
    return (channel.strip(), inst)


def _trade(inst: str, d: dict[str, Any], t: float) -> Trade:
    side = d.get("side")
    return Trade(
        VENUE,
        inst,
        ms_seconds(d["ts"]),
        t,
        price=price(d["px"]),
        size=size(d["sz"]),
        side=_SIDES.get(side) if type(side) is str else None,  # type: ignore[arg-type]
        trade_id=check_symbol(d["tradeId"]),
    )


def _ticker(inst: str, d: dict[str, Any], t: float) -> Ticker:
    # SPOT: vol24h is base, volCcy24h quote; derivatives: vol24h contracts, volCcy24h base
    spot = d.get("instType", "SPOT") == "SPOT"
    return Ticker(
        VENUE,
        inst,
        ms_seconds(d["ts"]),
        t,
        bid=_opt(d.get("bidPx")),
        bid_size=_opt(d.get("bidSz")),
        ask=_opt(d.get("askPx")),
        ask_size=_opt(d.get("askSz")),
        last=_opt(d.get("last")),
        open=_opt(d.get("open24h")),
        high=_opt(d.get("high24h")),
        low=_opt(d.get("low24h")),
        volume=_opt(d.get("vol24h") if spot else d.get("volCcy24h")),
        quote_volume=_opt(d.get("volCcy24h")) if spot else None,
    )


def _kline(inst: str, interval: str, row: Sequence[Any], t: float) -> Kline:
    if type(row) is not list or len(row) < 6:
        raise BadValue("a candle is a list of at least 6 strings")
    begin = ms_seconds(row[0])
    iv = parse_interval(interval)
    end = iv.bucket(begin)[1] if iv.seconds is None else begin + iv.seconds
    return Kline(
        VENUE,
        inst,
        begin,
        t,
        interval=iv.name,
        open_time=begin,
        close_time=end,
        open=size(row[1]),
        high=size(row[2]),
        low=size(row[3]),
        close=size(row[4]),
        volume=size(row[5]),
        quote_volume=_opt(row[7]) if len(row) > 7 else None,
        closed=len(row) > 8 and row[8] == "1",
    )


def _image(inst: str, d: dict[str, Any], t: float) -> BookSnapshot:
    time = ms_seconds(d["ts"]) if "ts" in d else t
    return BookSnapshot(VENUE, inst, time, t, text_levels(d["bids"]), text_levels(d["asks"]), depth=5)


def _bbo(inst: str, d: dict[str, Any], t: float) -> Event:
    bids = text_levels(d["bids"])
    asks = text_levels(d["asks"])
    time = ms_seconds(d["ts"]) if "ts" in d else t
    if not bids or not asks:
        raise BadValue("bbo-tbt without a bid or an ask")
    return Quote(VENUE, inst, time, t, bid=bids[0][0], bid_size=bids[0][1], ask=asks[0][0], ask_size=asks[0][1])

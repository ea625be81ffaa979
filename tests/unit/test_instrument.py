"""Events keep the venue spelling and carry the common ``BASE/QUOTE`` instrument (issue 17)."""

from __future__ import annotations

from typing import Any

import reactivex
from reactivex import operators as rx_ops

import rxfeeds.events as events
from rxfeeds.codec import Data
from rxfeeds.events import BookSnapshot, Trade, VenueEvent
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec
from rxfeeds.venues.kraken.codec import KrakenCodec
from rxfeeds.venues.kraken.codec_v2 import KrakenV2Codec
from rxfeeds.venues.registry import register, unregister
from rxfeeds.venues.spec import Channel, VenueSpec
from rxfeeds.venues.symbols import SymbolNotation


def _events(messages: Any) -> list[Any]:
    return [e for m in messages if isinstance(m, Data) for e in m.events]


KRAKEN_V1_TRADE = '[0,[["5541.2","0.1585","1534614057.321597","s","l",""]],"trade","XBT/USD"]'
KRAKEN_V2_TRADE = (
    '{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":5541.3,'
    '"qty":0.5,"ord_type":"limit","trade_id":7,"timestamp":"2023-09-25T07:49:37.708706Z"}]}'
)
BINANCE_TRADE = b'{"e":"trade","E":1,"s":"BTCUSDT","t":12,"p":"5541.0","q":"1.5","T":2000,"m":true}'


def test_decoded_trades_keep_the_venue_spelling_and_carry_the_instrument() -> None:
    [v1] = _events(KrakenCodec().decode(KRAKEN_V1_TRADE, 1.0))
    [v2] = _events(KrakenV2Codec().decode(KRAKEN_V2_TRADE, 1.0))
    [spot] = _events(BinanceSpotCodec().decode(BINANCE_TRADE, 1.0))
    assert (v1.symbol, v1.instrument) == ("XBT/USD", "BTC/USD")
    assert (v2.symbol, v2.instrument) == ("BTC/USD", "BTC/USD")
    assert (spot.symbol, spot.instrument) == ("BTCUSDT", "BTC/USDT")


def test_cross_venue_group_by_instrument() -> None:
    trades = [
        *_events(KrakenCodec().decode(KRAKEN_V1_TRADE, 1.0)),
        *_events(KrakenV2Codec().decode(KRAKEN_V2_TRADE, 1.0)),
        *_events(BinanceSpotCodec().decode(BINANCE_TRADE, 1.0)),
    ]
    groups: dict[str, list[str]] = {}
    reactivex.from_iterable(trades).pipe(
        rx_ops.group_by(lambda t: t.instrument),
        rx_ops.flat_map(lambda g: g.pipe(rx_ops.to_list(), rx_ops.map(lambda ts, k=g.key: (k, ts)))),
    ).subscribe(lambda kv: groups.__setitem__(kv[0], [t.venue for t in kv[1]]))
    assert groups == {"BTC/USD": ["kraken", "kraken-v2"], "BTC/USDT": ["binance-spot"]}


def test_every_event_kind_has_it_and_unreadable_symbols_fall_back_to_themselves() -> None:
    assert BookSnapshot("kraken", "XDG/EUR", 1.0, 1.0, bids=(), asks=()).instrument == "DOGE/EUR"
    assert VenueEvent("bitshares", "", 1.0, 1.0, kind="block").instrument == ""
    assert Trade("no-such-venue", "AB", 1.0, 1.0, price=1.0, size=1.0).instrument == "AB"
    assert Trade("binance-spot", "NOQUOTEKNOWNZZ", 1.0, 1.0, price=1.0, size=1.0).instrument == "NOQUOTEKNOWNZZ"
    assert Trade("hitbtc", "ethbtc", 1.0, 1.0, price=1.0, size=1.0).instrument == "ETH/BTC"


def test_a_venue_registered_later_resolves_and_the_cache_stays_bounded() -> None:
    toy = VenueSpec(
        "toy-instrument",
        "m:C",
        "m:Codec",
        None,
        "retired",
        (Channel("trades", ("Trade",)),),
        "ab-cd",
        symbol_notation=SymbolNotation("{base}-{quote}"),
    )
    before = Trade("toy-instrument", "ab-cd", 1.0, 1.0, price=1.0, size=1.0)
    assert before.instrument == "ab-cd"  # not a venue yet
    register(toy)
    try:
        assert before.instrument == "AB/CD"  # registering cleared the cached answer
    finally:
        unregister("toy-instrument")
    for i in range(events._INSTRUMENT_CACHE + 10):
        Trade("binance-spot", f"X{i}USDT", 1.0, 1.0, price=1.0, size=1.0).instrument  # noqa: B018
    assert len(events._instruments) <= events._INSTRUMENT_CACHE

"""Hostile frames for every codec: each must raise FrameError, in bounded time and memory.

Regression tests for issue 16: one number costing gigabytes (1), wrong-typed prices and symbols
that broke ``order_book`` or the multiplexer later (4, 5), NaN / infinite / negative / absurd
numbers accepted (10), and exceptions other than FrameError escaping ``decode`` (12).
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from rxfeeds.errors import FrameError
from tests.codec_cases import make

DEEP = b"[" * 100_000 + b"]" * 100_000
CB_L2 = b'{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":9,"events":[{"type":"update",'
CB_L2 += b'"product_id":"BTC-USD",'
_OKX_BOOK = b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{%s}]}'

# (venue, why, frame)
HOSTILE: list[tuple[str, str, bytes | str]] = [
    # --- Kraken v1 ----------------------------------------------------------------------------
    ("kraken", "price as a JSON number", b'[0,{"a":[[5541.3,"2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "size as a JSON number", b'[0,{"b":[["5541.3",2.5,"1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "NaN price text", b'[0,{"a":[["nan","2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "infinite price", b'[0,{"a":[["1e400","2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "zero price", b'[0,{"a":[["0.0","2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "negative size", b'[0,{"b":[["5541.3","-2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]'),
    (
        "kraken",
        "100-digit price",
        b'[0,{"a":[["' + b"1" * 100 + b'","2.5","1534614248.4"]],"c":"1"},"book-10","XBT/USD"]',
    ),
    (
        "kraken",
        "NaN in a snapshot",
        b'[0,{"as":[["5541.3","NaN","1534614248.4"]],"bs":[]},"book-10","XBT/USD"]',
    ),
    ("kraken", "NaN in a multi-level update", b'[0,{"a":[["1","1","1"],["inf","1","1"]],"c":"1"},"book-10","XBT/USD"]'),
    ("kraken", "NaN trade price", b'[0,[["nan","0.1","1534614057.3","s","l",""]],"trade","XBT/USD"]'),
    ("kraken", "negative trade size", b'[0,[["5541.2","-0.1","1534614057.3","s","l",""]],"trade","XBT/USD"]'),
    ("kraken", "infinite time", b'[0,[["5541.2","0.1","1e400","s","l",""]],"trade","XBT/USD"]'),
    ("kraken", "lone surrogate", '[0,{"a":[["5541.3","2.5","1534614248.4"]],"c":"1"},"book-10","\ud800"]'),
    # --- Kraken v2 ----------------------------------------------------------------------------
    (
        "kraken-v2",
        "exponent of a billion",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e999999999,'
        b'"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "exponent of ten million",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e9999999,'
        b'"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "negative exponent of ten million",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,'
        b'"qty":0e-9999999}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "NaN token",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":NaN,'
        b'"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "Infinity token",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,'
        b'"qty":Infinity}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "negative qty",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,'
        b'"qty":-1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "price as a string",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"nan",'
        b'"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "huge integer price",
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":'
        + b"9" * 4000
        + b',"qty":1.0}],"asks":[],"checksum":7}]}',
    ),
    ("kraken-v2", "deep nesting", b'{"channel":"book","type":"update","data":' + DEEP + b"}"),
    (
        "kraken-v2",
        "lone surrogate",
        '{"channel":"book","type":"update","data":[{"symbol":"\ud800","bids":[],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "ohlc symbol is a list",
        b'{"channel":"ohlc","type":"update","data":[{"symbol":["BTC/USD"],"open":26.5,"high":26.7,'
        b'"low":26.4,"close":26.6,"trades":3,"volume":5.5,"vwap":26.55,'
        b'"interval_begin":"2023-10-04T16:25:00.000000000Z","interval":5}]}',
    ),
    (
        "kraken-v2",
        "book symbol is an object",
        b'{"channel":"book","type":"update","data":[{"symbol":{"a":1},"bids":[],"asks":[],"checksum":7}]}',
    ),
    (
        "kraken-v2",
        "negative trade price",
        b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":-26.5,'
        b'"qty":0.1,"trade_id":1,"timestamp":"2023-09-25T07:49:37.708706Z"}]}',
    ),
    # --- HitBTC v2 ----------------------------------------------------------------------------
    (
        "hitbtc",
        "updateOrderbook symbol is a list",
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],"bid":[{"price":"0.05","size":"1"}],'
        b'"symbol":["ETHBTC"],"sequence":7}}',
    ),
    (
        "hitbtc",
        "NaN size",
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],"bid":[{"price":"0.05","size":"NaN"}],'
        b'"symbol":"ETHBTC","sequence":7}}',
    ),
    (
        "hitbtc",
        "negative price",
        b'{"jsonrpc":"2.0","method":"snapshotOrderbook","params":{"ask":[{"price":"-0.05","size":"1"}],"bid":[],'
        b'"symbol":"ETHBTC","sequence":7}}',
    ),
    (
        "hitbtc",
        "price as a JSON number",
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[{"price":0.05,"size":"1"}],"bid":[],'
        b'"symbol":"ETHBTC","sequence":7}}',
    ),
    (
        "hitbtc",
        "infinite trade price",
        b'{"jsonrpc":"2.0","method":"updateTrades","params":{"data":[{"id":1,"price":"inf","quantity":"1",'
        b'"side":"buy","timestamp":"2017-10-19T16:34:25.041Z"}],"symbol":"ETHBTC"}}',
    ),
    # --- HitBTC v3 ----------------------------------------------------------------------------
    ("hitbtc-v3", "NaN level", b'{"ch":"orderbook/full","update":{"ETHBTC":{"t":1,"s":2,"a":[["nan","1"]],"b":[]}}}'),
    (
        "hitbtc-v3",
        "negative size",
        b'{"ch":"orderbook/full","update":{"ETHBTC":{"t":1,"s":2,"a":[],"b":[["1","-1"]]}}}',
    ),
    ("hitbtc-v3", "absurd time", b'{"ch":"orderbook/full","update":{"ETHBTC":{"t":1e300,"s":2,"a":[],"b":[]}}}'),
    (
        "hitbtc-v3",
        "candle time overflows",
        b'{"ch":"candles/M1","update":{"ETHBTC":[{"t":1e308,"o":"1","c":"1","h":"1","l":"1","v":"1"}]}}',
    ),
    (
        "hitbtc-v3",
        "zero trade price",
        b'{"ch":"trades","update":{"BTCUSDT":[{"t":1626861123552,"i":1,"p":"0","q":"1","s":"sell"}]}}',
    ),
    # --- Binance spot -------------------------------------------------------------------------
    (
        "binance-spot",
        "depthUpdate symbol is a list",
        b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":["BTCUSDT"],'
        b'"U":157,"u":160,"b":[["0.0024","10"]],"a":[]}}',
    ),
    (
        "binance-spot",
        "raw depthUpdate symbol is a list",
        b'{"e":"depthUpdate","E":1633998512068,"s":["BTCUSDT"],"U":161,"u":162,"b":[],"a":[]}',
    ),
    (
        "binance-spot",
        "NaN level",
        b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT",'
        b'"U":157,"u":160,"b":[["NaN","10"]],"a":[]}}',
    ),
    (
        "binance-spot",
        "negative trade size",
        b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"0.001","q":"-100",'
        b'"T":1672515782136,"m":true}}',
    ),
    # --- Binance DEX --------------------------------------------------------------------------
    (
        "binance-dex",
        "huge trade time",
        b'{"stream":"trades","data":[{"e":"trade","s":"BNB_BTCB-1DE","t":"1","p":"0.001","q":"1",'
        b'"T":"' + b"9" * 400 + b'","tt":1}]}',
    ),
    (
        "binance-dex",
        "infinite level",
        b'{"stream":"marketDiff","data":{"e":"depthUpdate","s":"BNB_BTCB-1DE","b":[["Infinity","1"]],"a":[]}}',
    ),
    (
        "binance-dex",
        "symbol is an object",
        b'{"stream":"marketDepth","data":{"lastUpdateId":1,"symbol":{"x":1},"bids":[],"asks":[]}}',
    ),
    # --- BitShares ----------------------------------------------------------------------------
    (
        "bitshares",
        "zero amount divides by zero",
        b'{"method":"notice","params":[4,[[{"id":"1.7.9","seller":"1.2.5","for_sale":"1000",'
        b'"sell_price":{"base":{"amount":1000,"asset_id":"1.3.0"},"quote":{"amount":0,"asset_id":"1.3.121"}}}]]]}',
    ),
    (
        "bitshares",
        "zero price",
        b'{"method":"notice","params":[4,[[{"id":"1.7.9","seller":"1.2.5","for_sale":"1000",'
        b'"sell_price":{"base":{"amount":0,"asset_id":"1.3.0"},"quote":{"amount":10,"asset_id":"1.3.121"}}}]]]}',
    ),
    (
        "bitshares",
        "huge amount overflows",
        b'{"method":"notice","params":[4,[[{"id":"1.7.9","seller":"1.2.5","for_sale":"' + b"9" * 400 + b'",'
        b'"sell_price":{"base":{"amount":1000,"asset_id":"1.3.0"},"quote":{"amount":10,"asset_id":"1.3.121"}}}]]]}',
    ),
    (
        "bitshares",
        "negative amount",
        b'{"method":"notice","params":[4,[[{"id":"1.7.9","seller":"1.2.5","for_sale":"-5",'
        b'"sell_price":{"base":{"amount":1000,"asset_id":"1.3.0"},"quote":{"amount":10,"asset_id":"1.3.121"}}}]]]}',
    ),
    # --- Coinbase Advanced Trade ---------------------------------------------------------------
    ("coinbase", "NaN book price", CB_L2 + b'"updates":[{"side":"bid","price_level":"NaN","new_quantity":"1"}]}]}'),
    (
        "coinbase",
        "infinite book size",
        CB_L2 + b'"updates":[{"side":"bid","price_level":"1","new_quantity":"1e400"}]}]}',
    ),
    (
        "coinbase",
        "negative book size",
        CB_L2 + b'"updates":[{"side":"offer","price_level":"1","new_quantity":"-2"}]}]}',
    ),
    (
        "coinbase",
        "book price as a number",
        CB_L2 + b'"updates":[{"side":"bid","price_level":1.5,"new_quantity":"1"}]}]}',
    ),
    (
        "coinbase",
        "book price as a list",
        CB_L2 + b'"updates":[{"side":"bid","price_level":["1"],"new_quantity":"1"}]}]}',
    ),
    (
        "coinbase",
        "100-digit book price",
        CB_L2 + b'"updates":[{"side":"bid","price_level":"' + b"1" * 100 + b'","new_quantity":"1"}]}]}',
    ),
    ("coinbase", "unknown book side", CB_L2 + b'"updates":[{"side":"ask","price_level":"1","new_quantity":"1"}]}]}'),
    (
        "coinbase",
        "product id as a number",
        b'{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":9,'
        b'"events":[{"type":"update","product_id":7,"updates":[]}]}',
    ),
    ("coinbase", "huge sequence_num", b'{"channel":"ticker","sequence_num":' + b"9" * 400 + b',"events":[]}'),
    ("coinbase", "negative sequence_num", b'{"channel":"ticker","sequence_num":-1,"events":[]}'),
    (
        "coinbase",
        "NaN trade price",
        b'{"channel":"market_trades","sequence_num":9,"events":[{"type":"update","trades":[{"trade_id":"1",'
        b'"product_id":"BTC-USD","price":"nan","size":"1","side":"BUY","time":"2019-08-14T20:42:27Z"}]}]}',
    ),
    (
        "coinbase",
        "year 99999 trade time",
        b'{"channel":"market_trades","sequence_num":9,"events":[{"type":"update","trades":[{"trade_id":"1",'
        b'"product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"99999-08-14T20:42:27Z"}]}]}',
    ),
    (
        "coinbase",
        "huge candle start",
        b'{"channel":"candles","sequence_num":9,"events":[{"type":"update","candles":[{"start":"'
        + b"9" * 400
        + b'","high":"1","low":"1","open":"1","close":"1","volume":"1","product_id":"BTC-USD"}]}]}',
    ),
    (
        "coinbase",
        "heartbeat counter of 400 digits",
        b'{"channel":"heartbeats","sequence_num":9,"events":[{"heartbeat_counter":"' + b"9" * 400 + b'"}]}',
    ),
    (
        "coinbase",
        "lone surrogate product",
        '{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":9,'
        '"events":[{"type":"update","product_id":"\ud800","updates":[]}]}',
    ),
    ("coinbase", "deep nesting", b'{"channel":"ticker","sequence_num":9,"events":' + DEEP + b"}"),
    # --- OKX ---------------------------------------------------------------------------------
    ("okx", "price as a JSON number", _OKX_BOOK % b'"asks":[[41006.8,"1","0","1"]],"bids":[],"checksum":1'),
    ("okx", "NaN size text", _OKX_BOOK % b'"asks":[["41006.8","nan","0","1"]],"bids":[],"checksum":1'),
    ("okx", "infinite price", _OKX_BOOK % b'"asks":[],"bids":[["1e400","1","0","1"]],"checksum":1'),
    ("okx", "negative size", _OKX_BOOK % b'"asks":[],"bids":[["41006.8","-1","0","1"]],"checksum":1'),
    ("okx", "100-digit price", _OKX_BOOK % (b'"asks":[["' + b"1" * 100 + b'","1","0","1"]],"bids":[],"checksum":1')),
    ("okx", "checksum as a string", _OKX_BOOK % b'"asks":[],"bids":[],"checksum":"-12"'),
    ("okx", "checksum beyond 32 bits", _OKX_BOOK % b'"asks":[],"bids":[],"checksum":1099511627776'),
    ("okx", "seqId as a float", _OKX_BOOK % b'"asks":[],"bids":[],"checksum":1,"seqId":5.5,"prevSeqId":4'),
    ("okx", "huge ts", _OKX_BOOK % (b'"asks":[],"bids":[],"ts":"' + b"9" * 400 + b'"')),
    ("okx", "levels not a list", _OKX_BOOK % b'"asks":7,"bids":[]'),
    (
        "okx",
        "unknown book action",
        b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"partial","data":[{"asks":[],"bids":[]}]}',
    ),
    ("okx", "data not a list", b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":{"px":"1"}}'),
    ("okx", "instId a list", b'{"arg":{"channel":"trades","instId":["BTC-USDT"]},"data":[]}'),
    (
        "okx",
        "negative trade size",
        b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"1","px":"1","sz":"-3",'
        b'"side":"buy","ts":"1630048897897"}]}',
    ),
    (
        "okx",
        "infinite candle close",
        b'{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026383085","1","1","1","inf","1"]]}',
    ),
    ("okx", "candle row not a list", b'{"arg":{"channel":"candle1H","instId":"BTC-USDT"},"data":[{"o":"1"}]}'),
    ("okx", "unknown candle channel", b'{"arg":{"channel":"candle7m","instId":"BTC-USDT"},"data":[]}'),
    ("okx", "unknown channel", b'{"arg":{"channel":"mark-price","instId":"BTC-USDT"},"data":[]}'),
    (
        "okx",
        "bbo without an ask",
        b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[["1","1","0","1"]],"ts":"1"}]}',
    ),
    ("okx", "lone surrogate", '{"arg":{"channel":"trades","instId":"\ud800"},"data":[]}'),
    ("okx", "not an object", b"[1,2,3]"),
    ("okx", "deep nesting", DEEP),
    ("okx", "binary garbage", b"\xff\xfe\x00"),
    # --- Midchains ----------------------------------------------------------------------------
    (
        "midchains",
        "huge ms time overflows",
        b'{"security":"BTCUSD","price":"150","qty":"1","time":"' + b"9" * 400 + b'","type":"trade"}',
    ),
    ("midchains", "NaN trade price", b'{"security":"BTCUSD","price":"NaN","qty":"1","type":"trade"}'),
    (
        "midchains",
        "negative order size",
        b'{"security":"LTCUSD","books":[{"side":"B","act":"U","price":"184.3","qty":"-2","id":1}],"type":"book"}',
    ),
    (
        "midchains",
        "infinite order price",
        b'{"security":"LTCUSD","books":[{"side":"S","act":"U","price":"inf","qty":"2","id":1}],"type":"book"}',
    ),
    # --- Bybit v5 (spot and linear share the codec) ---------------------------------------------
    (
        "bybit",
        "NaN book price",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[["NaN","1"]],"a":[],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "book price as a JSON number",
        b'{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[[30000.1,"1"]],"a":[],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "negative book size",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[["30000.1","-1"]],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "100-digit book price",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[["' + b"9" * 100 + b'","1"]],"a":[],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "update id as text",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[],"u":"2","seq":3}}',
    ),
    (
        "bybit",
        "update id zero",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[],"u":0,"seq":3}}',
    ),
    (
        "bybit",
        "huge timestamp",
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":' + b"9" * 400 + b',"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "depth that is not a number",
        b'{"topic":"orderbook.x.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[],"u":2,"seq":3}}',
    ),
    (
        "bybit",
        "negative depth",
        b'{"topic":"orderbook.-5.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[],"a":[],"u":2,"seq":3}}',
    ),
    ("bybit", "topic is a number", b'{"topic":7,"type":"snapshot","ts":1700000000000,"data":{}}'),
    ("bybit", "topic without a symbol", b'{"topic":"publicTrade","type":"snapshot","ts":1,"data":[]}'),
    (
        "bybit",
        "infinite trade price",
        b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000000,"data":[{"T":1700000000000,'
        b'"s":"BTCUSDT","S":"Buy","v":"1","p":"1e400","i":"1","BT":false}]}',
    ),
    (
        "bybit",
        "unknown trade side",
        b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000000,"data":[{"T":1700000000000,'
        b'"s":"BTCUSDT","S":"Both","v":"1","p":"1","i":"1","BT":false}]}',
    ),
    (
        "bybit",
        "trade id is an object",
        b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000000,"data":[{"T":1700000000000,'
        b'"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":{"x":1},"BT":false}]}',
    ),
    (
        "bybit",
        "NaN ticker field",
        b'{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"symbol":"BTCUSDT",'
        b'"lastPrice":"nan"}}',
    ),
    ("bybit", "ticker data is a list", b'{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1700000000000,"data":[]}'),
    (
        "bybit",
        "unknown kline interval",
        b'{"topic":"kline.7.BTCUSDT","data":[{"start":0,"end":1,"interval":"7","open":"1","close":"1",'
        b'"high":"1","low":"1","volume":"1","turnover":"1","confirm":false,"timestamp":1}],"ts":1,"type":"snapshot"}',
    ),
    (
        "bybit",
        "negative kline volume",
        b'{"topic":"kline.1.BTCUSDT","data":[{"start":0,"end":59999,"interval":"1","open":"1","close":"1",'
        b'"high":"1","low":"1","volume":"-1","turnover":"1","confirm":false,"timestamp":1}],"ts":1,"type":"snapshot"}',
    ),
    ("bybit", "lone surrogate symbol", '{"topic":"publicTrade.\ud800","type":"snapshot","ts":1,"data":[]}'),
    ("bybit", "not JSON", b'{"topic":'),
    ("bybit", "deep nesting", DEEP),
    (
        "bybit-linear",
        "NaN in a ticker delta",
        b'{"topic":"tickers.BTCUSDT","type":"delta","ts":1700000000000,"data":{"symbol":"BTCUSDT","bid1Price":"NaN"}}',
    ),
    (
        "bybit-linear",
        "ticker of unknown type",
        b'{"topic":"tickers.BTCUSDT","type":"patch","ts":1700000000000,"data":{"symbol":"BTCUSDT"}}',
    ),
]


@pytest.mark.parametrize(("venue", "why", "frame"), HOSTILE, ids=[f"{v}: {w}" for v, w, _ in HOSTILE])
def test_hostile_frame_is_a_frame_error_in_bounded_time_and_memory(venue: str, why: str, frame: bytes | str) -> None:
    codec = make(venue)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(FrameError) as caught:
            codec.decode(frame, 1.0)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.raw == frame  # the error carries the frame as received
    assert elapsed < 0.5, f"{why}: {elapsed:.2f} s"
    # the parsers alone allocate ~12-16 bytes per input byte; what must not happen is amplification
    assert peak < len(frame) * 20 + 1_000_000, f"{why}: {peak} bytes"


@pytest.mark.parametrize(
    "venue", ["kraken", "kraken-v2", "hitbtc", "binance-spot", "bybit", "bybit-linear", "coinbase", "okx"]
)
def test_codec_still_decodes_after_a_hostile_frame(venue: str) -> None:
    from tests.codec_cases import FRAMES

    codec = make(venue)
    for _, _, frame in (case for case in HOSTILE if case[0] == venue):
        with pytest.raises(FrameError):
            codec.decode(frame, 1.0)
    assert all(codec.decode(frame, 1.0) is not None for frame in FRAMES[venue])

"""Every codec, ready to decode market data, with representative frames of each venue.

Shared by the hostile-input regression tests (``tests/unit/test_codec_hostile.py``) and the codec fuzz
tests (``tests/fuzz/``).  ``make(venue)`` returns a codec that was subscribed (and, for BitShares,
given its market's assets), so book and trade frames route instead of being ignored; the frames
in ``FRAMES[venue]`` are valid and decode to events.  The Kraken v1, HitBTC v2 and Binance spot
seeds are taken from the shared real captures too (``capture_frames``), when present.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from rxfeeds.codec import BaseCodec
from rxfeeds.venues.binance_dex.codec import BinanceDexCodec
from rxfeeds.venues.binance_spot.codec import BinanceSpotCodec
from rxfeeds.venues.bitshares.codec import BitSharesCodec
from rxfeeds.venues.bybit.codec import BybitCodec, BybitLinearCodec
from rxfeeds.venues.coinbase.codec import CoinbaseCodec
from rxfeeds.venues.hitbtc.codec import HitBTCCodec
from rxfeeds.venues.hitbtc.codec_v3 import HitBTCV3Codec
from rxfeeds.venues.kraken.codec import KrakenCodec
from rxfeeds.venues.kraken.codec_v2 import KrakenV2Codec
from rxfeeds.venues.midchains.codec import MidchainsCodec
from rxfeeds.venues.okx.codec import OKXCodec
from tests.helpers import captures_path

VENUES = (
    *("kraken", "kraken-v2", "hitbtc", "hitbtc-v3", "binance-spot", "binance-dex", "bitshares", "midchains"),
    *("bybit", "bybit-linear", "coinbase", "okx"),
)

BITSHARES_ASSETS = [
    {"id": "1.3.0", "symbol": "BTS", "precision": 5},
    {"id": "1.3.121", "symbol": "USD", "precision": 4},
]


def _bitshares() -> BitSharesCodec:
    codec = BitSharesCodec()
    codec.on_open_frames()
    ids = {}
    for frame in codec.subscribe_frames(("market", "BTS:USD")):
        msg = orjson.loads(frame)
        ids[msg["params"][1]] = msg["id"]
    # the market's assets arrive, then its first image (one bid)
    codec.decode(orjson.dumps({"id": ids["lookup_asset_symbols"], "jsonrpc": "2.0", "result": BITSHARES_ASSETS}), 0.0)
    image = {"id": ids["get_limit_orders"], "jsonrpc": "2.0", "result": [_bts_order("1.7.1", True)]}
    codec.decode(orjson.dumps(image), 0.0)
    return codec


def _bts_order(oid: str, bid: bool) -> dict[str, Any]:
    sells, wants = ((2_000_000, "1.3.0"), (10_000, "1.3.121")) if bid else ((30_000, "1.3.121"), (6_600_000, "1.3.0"))
    return {
        "id": oid,
        "seller": "1.2.5",
        "for_sale": "1000000" if bid else "30000",
        "sell_price": {
            "base": {"amount": sells[0], "asset_id": sells[1]},
            "quote": {"amount": wants[0], "asset_id": wants[1]},
        },
        "expiration": "2030-01-01T00:00:00",
    }


def _coinbase() -> CoinbaseCodec:
    codec = CoinbaseCodec()
    codec.subscribe_frames(("level2", "BTC-USD"))
    codec.decode(FRAMES["coinbase"][0], 0.0)  # the book's snapshot: later frames are numbered after it
    return codec


def _subscribed(codec: BaseCodec, *keys: tuple[str, str]) -> BaseCodec:
    for key in keys:
        codec.subscribe_frames(key)
    return codec


MAKERS: dict[str, Callable[[], BaseCodec]] = {
    "kraken": KrakenCodec,
    "kraken-v2": lambda: _subscribed(KrakenV2Codec(), ("book-10", "BTC/USD")),
    "hitbtc": HitBTCCodec,
    "hitbtc-v3": HitBTCV3Codec,
    "binance-spot": BinanceSpotCodec,
    "binance-dex": BinanceDexCodec,
    "bitshares": _bitshares,
    "midchains": lambda: _subscribed(MidchainsCodec(), ("book", "LTCUSD"), ("book", "BTCUSD"), ("trade", "BTCUSD")),
    "bybit": lambda: _subscribed(BybitCodec(), ("orderbook.50", "BTCUSDT")),
    "bybit-linear": lambda: _subscribed(BybitLinearCodec(), ("orderbook.50", "BTCUSDT")),
    "coinbase": _coinbase,
    "okx": OKXCodec,
}


def make(venue: str) -> BaseCodec:
    """A codec of ``venue`` ready to decode its market-data frames."""
    return MAKERS[venue]()


_BTS_FILL = [
    4,
    {
        "order_id": "1.7.2",
        "account_id": "1.2.5",
        "pays": {"amount": 10_000, "asset_id": "1.3.121"},
        "receives": {"amount": 2_200_000, "asset_id": "1.3.0"},
        "is_maker": True,
    },
]

#: Valid frames per venue (each decodes to at least one message).
FRAMES: dict[str, list[bytes]] = {
    "kraken": [
        b'[0,{"as":[["5541.30000","2.50700000","1534614248.123678"]],'
        b'"bs":[["5541.20000","1.52900000","1534614248.765567"]]},"book-10","XBT/USD"]',
        b'[0,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-10","XBT/USD"]',
        b'[0,{"a":[["5541.30000","0.00000000","1534614248.456738"],["5541.80000","0.33000000",'
        b'"1534614248.456738","r"]]},{"b":[["5541.20000","1.52900000","1534614248.765567"]],"c":"974942666"},'
        b'"book-10","XBT/USD"]',
        b'[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""]],"trade","XBT/USD"]',
        b'[0,{"a":["5525.40000",1,"1.000"],"b":["5525.10000",1,"1.000"],"c":["5525.10000","0.00398963"],'
        b'"v":["2634.11501494","3591.17907851"],"p":["5631.44067","5653.78939"],"t":[11493,16267],'
        b'"l":["5505.00000","5505.00000"],"h":["5783.00000","5783.00000"],"o":["5760.70000","5763.40000"]},'
        b'"ticker","XBT/USD"]',
        b'[0,["5698.40000","5700.00000","1542057299.545897","1.01234567","0.98765432"],"spread","XBT/USD"]',
        b'[0,["1542057314.748456","1542057360.435743","3586.70000","3586.70000","3586.60000","3586.60000",'
        b'"3586.68894","0.03373000",2],"ohlc-5","XBT/USD"]',
    ],
    "kraken-v2": [
        b'{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,'
        b'"qty":0.10000000}],"asks":[{"price":45285.2,"qty":0.00100000}],"checksum":3310070434}]}',
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.50,'
        b'"qty":0.10000000}],"asks":[],"checksum":7,"timestamp":"2023-10-06T17:35:55.440295Z"}]}',
        b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":26.5,'
        b'"qty":0.1,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}',
        b'{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":26.5,"bid_qty":1.0,'
        b'"ask":26.6,"ask_qty":2.0,"last":26.55,"volume":100.0,"vwap":26.4,"low":25.0,"high":27.0,'
        b'"change":0.5,"change_pct":1.9}]}',
        b'{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":26.5,"high":26.7,"low":26.4,'
        b'"close":26.6,"trades":3,"volume":5.5,"vwap":26.55,"interval_begin":"2023-10-04T16:25:00.000000000Z",'
        b'"interval":5,"timestamp":"2023-10-04T16:30:00.000000Z"}]}',
        b'{"channel":"heartbeat"}',
    ],
    "hitbtc": [
        b'{"jsonrpc":"2.0","method":"snapshotOrderbook","params":{"ask":[{"price":"0.054588","size":"0.245"}],'
        b'"bid":[{"price":"0.054558","size":"0.500"}],"symbol":"ETHBTC","sequence":8073827,'
        b'"timestamp":"2018-11-19T05:00:28.193Z"}}',
        b'{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[{"price":"0.054590","size":"0.000"}],'
        b'"bid":[{"price":"0.054504","size":"0.000"}],"symbol":"ETHBTC","sequence":8073830,'
        b'"timestamp":"2018-11-19T05:00:28.700Z"}}',
        b'{"jsonrpc":"2.0","method":"updateTrades","params":{"data":[{"id":54469813,"price":"0.054670",'
        b'"quantity":"0.183","side":"buy","timestamp":"2017-10-19T16:34:25.041Z"}],"symbol":"ETHBTC"}}',
        b'{"jsonrpc":"2.0","method":"updateCandles","params":{"data":[{"timestamp":"2017-10-19T16:30:00.000Z",'
        b'"open":"0.054614","close":"0.054465","min":"0.054339","max":"0.054724","volume":"141.268",'
        b'"volumeQuote":"7.709"}],"symbol":"ETHBTC","period":"M30"}}',
        b'{"jsonrpc":"2.0","method":"ticker","params":{"ask":"0.054464","bid":"0.054463","last":"0.054463",'
        b'"open":"0.057133","low":"0.053615","high":"0.057559","volume":"33068.346",'
        b'"volumeQuote":"1832.687","timestamp":"2017-10-19T15:45:44.941Z","symbol":"ETHBTC"}}',
    ],
    "hitbtc-v3": [
        b'{"ch":"orderbook/full","snapshot":{"ETHBTC":{"t":1626866578796,"s":27617207,'
        b'"a":[["0.060506","0"],["0.060549","12.6431"]],"b":[["0.060416","4.8464"]]}}}',
        b'{"ch":"orderbook/full","update":{"ETHBTC":{"t":1626866578902,"s":27617208,'
        b'"a":[["0.060584","0"]],"b":[["0.060250","10.2500"]]}}}',
        b'{"ch":"trades","update":{"BTCUSDT":[{"t":1626861123552,"i":1555634969,"p":"30877.68",'
        b'"q":"0.00006","s":"sell"}]}}',
        b'{"ch":"candles/M1","update":{"ETHBTC":[{"t":1626860340000,"o":"0.060506","c":"0.060549",'
        b'"h":"0.060600","l":"0.060400","v":"12.6431","q":"0.7651"}]}}',
        b'{"ch":"ticker/1s","data":{"BTCUSDT":{"t":1614815872000,"a":"0.031175","A":"0.03329",'
        b'"b":"0.031148","B":"0.10565","c":"0.031210","o":"0.030781","h":"0.031788","l":"0.030733",'
        b'"v":"62.587","q":"1.951420577","p":"0.000429","P":"1.39","L":1182694927}}}',
    ],
    "binance-spot": [
        b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT",'
        b'"U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}',
        b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,'
        b'"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}}',
        b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,'
        b'"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}}',
        b'{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{'
        b'"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"0.0010",'
        b'"c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500",'
        b'"Q":"0.500","B":"123456"}}}',
        b'{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"25.35190000",'
        b'"B":"31.21000000","a":"25.36520000","A":"40.66000000"}}',
        b'{"e":"depthUpdate","E":1633998512068,"s":"BTCUSDT","U":161,"u":162,"b":[["0.0024","0"]],"a":[]}',
    ],
    "binance-dex": [
        b'{"stream":"marketDiff","data":{"e":"depthUpdate","E":1600000000,"s":"BNB_BTCB-1DE",'
        b'"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}',
        b'{"stream":"marketDepth","data":{"lastUpdateId":160,"symbol":"BNB_BTCB-1DE",'
        b'"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}',
        b'{"stream":"trades","data":[{"e":"trade","E":123456795,"s":"BNB_BTCB-1DE","t":"12345-0",'
        b'"p":"0.001","q":"100","b":"88","a":"50","T":1600000000000,"sa":"bnb1a","ba":"bnb1b","tt":1}]}',
        b'{"stream":"kline_1m","data":{"e":"kline","E":1600000000000,"s":"BNB_BTCB-1DE","k":{'
        b'"t":1600000000000,"T":1600000059999,"s":"BNB_BTCB-1DE","i":"1m","f":"100","L":"200","o":"0.0010",'
        b'"c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000"}}}',
        b'{"stream":"ticker","data":{"e":"24hrTicker","E":1600000000000,"s":"BNB_BTCB-1DE","p":"0.0015",'
        b'"P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026",'
        b'"A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,'
        b'"F":"0","L":"18150","n":18151}}',
    ],
    "bitshares": [
        orjson.dumps({"method": "notice", "params": [4, [[_bts_order("1.7.2", False)]]]}),
        orjson.dumps({"method": "notice", "params": [4, [[[_BTS_FILL, [0, {}]], "1.7.2"]]]}),
        orjson.dumps({"method": "notice", "params": [4, [[_bts_order("1.7.3", True), "1.7.1"]]]}),
    ],
    "okx": [
        b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["41006.8",'
        b'"0.60038921","0","1"]],"bids":[["41006.3","0.30178218","0","2"]],"ts":"1629966436396",'
        b'"checksum":-1200119424,"prevSeqId":-1,"seqId":123456}]}',
        b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["41006.8",'
        b'"0","0","0"]],"bids":[],"ts":"1629966436496","checksum":0,"prevSeqId":123456,"seqId":123457}]}',
        b'{"arg":{"channel":"books5","instId":"BTC-USDT-SWAP"},"data":[{"asks":[["8446","95","0","3"]],'
        b'"bids":[["8445","37","0","1"]],"instId":"BTC-USDT-SWAP","ts":"1597026383085","seqId":9}]}',
        b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["8446","95","0","3"]],'
        b'"bids":[["8445","37","0","1"]],"ts":"1597026383085","seqId":10}]}',
        b'{"arg":{"channel":"trades","instId":"BTC-USD-251226"},"data":[{"instId":"BTC-USD-251226",'
        b'"tradeId":"130639474","px":"42219.9","sz":"3","side":"buy","ts":"1630048897897","count":"1"}]}',
        b'{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT",'
        b'"last":"9999.99","lastSz":"0.1","askPx":"9999.99","askSz":"11","bidPx":"8888.88","bidSz":"5",'
        b'"open24h":"9000","high24h":"10000","low24h":"8888.88","volCcy24h":"2222","vol24h":"2222",'
        b'"sodUtc0":"2222","sodUtc8":"2222","ts":"1597026383085"}]}',
        b'{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026383085","8533.02","8553.74",'
        b'"8527.17","8548.26","45247","529.5858061","529.5858061","0"]]}',
        b'{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
        b"pong",
    ],
    "midchains": [
        b'{"security":"LTCUSD","books":[{"side":"B","act":"U","src":"CROX","price":"184.3","qty":"2.85",'
        b'"id":120946647655360,"time":"1614331055706","mpid":"ANON","key":"NA"},{"side":"S","act":"U",'
        b'"src":"CROX","price":"185.1","qty":"1.5","id":120946647655361,"time":"1614331055707"}],"type":"book"}',
        b'{"security":"LTCUSD","books":[{"side":"B","act":"R","src":"CROX","price":"184.3","qty":"0",'
        b'"id":120946647655360,"time":"1614331055708"}],"type":"book"}',
        b'{"security":"BTCUSD","src":"CROX","price":"150","qty":"1","time":"1614334523954","type":"trade",'
        b'"matchid":"5Z3YF5Z0N8PK","maker_side":"B"}',
    ],
    "bybit": [
        b'{"success":true,"ret_msg":"","conn_id":"c1","req_id":"1","op":"subscribe"}',
        b'{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[["30000.10","1.5"],["30000.00","2"]],"a":[["30000.20","0.7"]],"u":41,"seq":9001},"cts":1700000000000}',
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000020,"data":{"s":"BTCUSDT",'
        b'"b":[["30000.10","0"]],"a":[["30000.30","1"]],"u":42,"seq":9004},"cts":1700000000019}',
        b'{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000040,"data":{"s":"BTCUSDT",'
        b'"b":[["30000.00","2"]],"a":[["30000.20","0.7"]],"u":1,"seq":9010},"cts":1700000000040}',
        b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000050,"data":[{"T":1700000000049,'
        b'"s":"BTCUSDT","S":"Buy","v":"0.01","p":"30000.20","i":"2290000000036455162","BT":false}]}',
        b'{"topic":"tickers.BTCUSDT","ts":1700000000060,"type":"snapshot","data":{"symbol":"BTCUSDT",'
        b'"lastPrice":"30000.2","highPrice24h":"30500","lowPrice24h":"29500","prevPrice24h":"29900",'
        b'"volume24h":"1234.5","turnover24h":"37000000","price24hPcnt":"0.0033","usdIndexPrice":"30001"}}',
        b'{"topic":"kline.5.BTCUSDT","data":[{"start":1699999800000,"end":1700000099999,"interval":"5",'
        b'"open":"29990","close":"30000.2","high":"30010","low":"29980","volume":"12.5","turnover":"375000",'
        b'"confirm":false,"timestamp":1700000000060}],"ts":1700000000060,"type":"snapshot"}',
        b'{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"","op":"ping"}',
    ],
    "bybit-linear": [
        b'{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT",'
        b'"b":[["30000.1","15"]],"a":[["30000.2","7"]],"u":400,"seq":77},"cts":1700000000000}',
        b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000020,"data":{"s":"BTCUSDT",'
        b'"b":[["30000.0","3"]],"a":[],"u":401,"seq":79},"cts":1700000000019}',
        b'{"topic":"tickers.BTCUSDT","type":"snapshot","cs":5,"ts":1700000000000,"data":{"symbol":"BTCUSDT",'
        b'"lastPrice":"30000.1","bid1Price":"30000.1","bid1Size":"15","ask1Price":"30000.2","ask1Size":"7",'
        b'"prevPrice24h":"29000","highPrice24h":"30500","lowPrice24h":"28900","volume24h":"100",'
        b'"turnover24h":"3000000","markPrice":"30000.15","fundingRate":"0.0001"}}',
        b'{"topic":"tickers.BTCUSDT","type":"delta","cs":6,"ts":1700000000100,"data":{"symbol":"BTCUSDT",'
        b'"bid1Price":"30000.0","bid1Size":"3"}}',
        b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000050,"data":[{"T":1700000000049,'
        b'"s":"BTCUSDT","S":"Sell","v":"0.010","p":"30000.1","L":"MinusTick",'
        b'"i":"ec7a5c0b-2a0f-5b0a-9e4b-3c9a1f7e0d11","BT":false}]}',
        b'{"req_id":"","op":"pong","args":["1700000000000"],"conn_id":"c2"}',
    ],
}

_CB = b'"client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z"'
FRAMES["coinbase"] = [
    b'{"channel":"l2_data",' + _CB + b',"sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD",'
    b'"updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06"},'
    b'{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"1.5"}]}]}',
    b'{"channel":"l2_data",' + _CB + b',"sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD",'
    b'"updates":[{"side":"offer","event_time":"2023-02-09T20:32:50.7Z","price_level":"21921.74","new_quantity":"0"}]}]}',
    b'{"channel":"market_trades",' + _CB + b',"sequence_num":2,"events":[{"type":"update","trades":[{"trade_id":'
    b'"000000000","product_id":"BTC-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}',
    b'{"channel":"ticker",' + _CB + b',"sequence_num":3,"events":[{"type":"update","tickers":[{"type":"ticker",'
    b'"product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","low_24_h":"21835.29",'
    b'"high_24_h":"23011.18","low_52_w":"15460","high_52_w":"48240","price_percent_chg_24_h":"-4.15"}]}]}',
    b'{"channel":"candles",' + _CB + b',"sequence_num":4,"events":[{"type":"update","candles":[{"start":"1688998200",'
    b'"high":"1867.72","low":"1865.63","open":"1867.38","close":"1866.81","volume":"0.20269406",'
    b'"product_id":"BTC-USD"}]}]}',
    b'{"channel":"heartbeats",' + _CB + b',"sequence_num":5,"events":[{"current_time":'
    b'"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]}',
    b'{"channel":"subscriptions",' + _CB + b',"sequence_num":6,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]}',
]

#: capture file -> venue, for the venues the shared real recordings cover
CAPTURES = {
    "kraken-book-1000.dev.capture": "kraken",
    "kraken-trade.dev.capture": "kraken",
    "kraken-ticker.dev.capture": "kraken",
    "hitbtc-v2-public.dev.capture": "hitbtc",
    "binance-spot-depth.dev.capture": "binance-spot",
    "okx-v5-public.dev.capture": "okx",
}


def capture_frames(venue: str, limit: int = 60) -> list[bytes]:
    """Up to ``limit`` received frames of ``venue`` from the shared captures ([] when absent).

    Taken spread over each file (every n-th frame), so snapshots, updates and trades all appear.
    """
    folder: Path = captures_path()
    frames: list[bytes] = []
    for name, owner in CAPTURES.items():
        path = folder / name
        if owner != venue or not path.is_file():
            continue
        received = []
        with path.open("rb") as handle:
            for line in handle:
                if line.startswith((b"wss://", b"ws://", b"https://", b"http://")):
                    continue  # connection lines, sent frames, REST bodies
                frame = line.rstrip(b"\n").partition(b": ")[2]
                if frame:
                    received.append(frame)
        step = max(1, len(received) // limit)
        frames.extend(received[::step][:limit])
    return frames

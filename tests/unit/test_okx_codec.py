"""The OKX codec: frames out, every frame kind in, the checksum and seqId rules it hands the book."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from rxfeeds.codec import Ack, Data, Notice, Pong, Rejected, Reply
from rxfeeds.errors import InvalidArgument, UnknownMessage
from rxfeeds.events import BookDelta, BookSnapshot, Kline, Quote, Ticker, Trade
from rxfeeds.ops import order_book
from rxfeeds.venues.okx.checksum import checksum_text, okx_checksum, signed
from rxfeeds.venues.okx.codec import OKXCodec, candle_channel


def book(action: str, inst: str = "BTC-USDT", **fields: Any) -> bytes:
    data = {"asks": [], "bids": [], "ts": "1629966436396", **fields}
    return json.dumps({"arg": {"channel": "books", "instId": inst}, "action": action, "data": [data]}).encode()


def only(messages: Any) -> Any:
    [message] = messages
    assert isinstance(message, Data)
    [event] = message.events
    return event


def test_frames_out() -> None:
    codec = OKXCodec()
    assert json.loads(codec.subscribe_frames(("candle1H", "BTC-USDT-SWAP"))[0]) == {
        "op": "subscribe",
        "args": [{"channel": "candle1H", "instId": "BTC-USDT-SWAP"}],
    }
    assert json.loads(codec.unsubscribe_frames(("books", "BTC-USDT"))[0])["op"] == "unsubscribe"
    assert codec.ping_frame() == "ping"


def test_checksum_interleaves_bids_and_asks_then_the_longer_side_alone() -> None:
    bids = [(3.0, 1.0, "3.0", "1"), (2.0, 2.0, "2", "2.50")]
    asks = [(4.0, 1.0, "4", "0.1")]
    assert checksum_text(bids, asks) == "3.0:1:4:0.1:2:2.50"
    assert okx_checksum(bids, asks) == zlib.crc32(b"3.0:1:4:0.1:2:2.50")
    many = [(float(100 - i), 1.0, str(100 - i), "1") for i in range(30)]
    assert checksum_text(many, []).count(":") == 25 * 2 - 1  # only the top 25
    assert signed(0x8000_0000) == -(2**31) and signed(0x7FFF_FFFF) == 2**31 - 1


def test_book_snapshot_and_update_carry_the_unsigned_checksum_and_the_sequence() -> None:
    codec = OKXCodec()
    snap = only(codec.decode(book("snapshot", asks=[["8476.98", "415", "0", "13"]], checksum=-855196043,
                                  prevSeqId=-1, seqId=100), 2.0))  # fmt: skip
    assert type(snap) is BookSnapshot and snap.depth == 400
    assert snap.asks == ((8476.98, 415.0, "8476.98", "415"),)
    assert snap.checksum == -855196043 & 0xFFFFFFFF and snap.sequence == 100
    assert snap.time == 1629966436.396 and snap.recv_time == 2.0
    delta = only(codec.decode(book("update", bids=[["8476.97", "0", "0", "0"]], checksum=5, prevSeqId=100,
                                   seqId=104), 2.0))  # fmt: skip
    assert type(delta) is BookDelta and (delta.first_sequence, delta.sequence, delta.checksum) == (101, 104, 5)


def test_an_update_without_change_and_the_deprecated_zero_checksum() -> None:
    codec = OKXCodec()
    keep_alive = only(codec.decode(book("update", checksum=7, prevSeqId=104, seqId=104), 1.0))
    assert keep_alive.sequence is None and keep_alive.checksum == 7  # no sequence: never "stale"
    assert only(codec.decode(book("update", checksum=0, prevSeqId=104, seqId=105), 1.0)).checksum is None


def test_a_sequence_reset_keeps_the_numbers_the_book_sees_increasing() -> None:
    codec = OKXCodec()
    snap = only(codec.decode(book("snapshot", bids=[["1", "1", "0", "1"]], asks=[["2", "1", "0", "1"]],
                                  prevSeqId=-1, seqId=900), 1.0))  # fmt: skip
    reset = only(codec.decode(book("update", bids=[["1", "2", "0", "1"]], prevSeqId=900, seqId=3), 1.0))
    after = only(codec.decode(book("update", bids=[["1", "3", "0", "1"]], prevSeqId=3, seqId=8), 1.0))
    assert reset.first_sequence == snap.sequence + 1 and reset.sequence > snap.sequence
    assert after.first_sequence == reset.sequence + 1
    books = []
    import reactivex

    reactivex.of(snap, reset, after).pipe(order_book(integrity=True)).subscribe(books.append)
    assert [type(b).__name__ for b in books] == ["IntegrityEvent", "OrderBook", "OrderBook", "OrderBook"]
    assert books[-1].synced and books[-1].bids[0][1] == 3.0


def test_a_gap_in_seq_ids_fails_the_book() -> None:
    codec = OKXCodec()
    events = [
        only(
            codec.decode(
                book("snapshot", bids=[["1", "1", "0", "1"]], asks=[["2", "1", "0", "1"]], prevSeqId=-1, seqId=10), 1.0
            )
        ),
        only(codec.decode(book("update", bids=[["1", "2", "0", "1"]], prevSeqId=10, seqId=12), 1.0)),
        only(codec.decode(book("update", bids=[["1", "3", "0", "1"]], prevSeqId=13, seqId=15), 1.0)),
    ]
    import reactivex

    out: list[Any] = []
    reactivex.of(*events).pipe(order_book(integrity=True)).subscribe(out.append)
    kinds = [getattr(v, "kind", "book") for v in out]
    assert kinds[:3] == ["synced", "book", "book"] and "gap" in kinds


def test_trades_tickers_candles_books5_and_bbo() -> None:
    codec = OKXCodec()
    trade = only(codec.decode(b'{"arg":{"channel":"trades","instId":"BTC-USD-251226"},"data":[{"instId":'
                              b'"BTC-USD-251226","tradeId":"130639474","px":"42219.9","sz":"3","side":"sell",'
                              b'"ts":"1630048897897","count":"1"}]}', 1.0))  # fmt: skip
    assert type(trade) is Trade and (trade.price, trade.size, trade.side, trade.trade_id) == (42219.9, 3, "sell",
                                                                                            "130639474")  # fmt: skip
    assert trade.instrument == "BTC-USD-251226"  # a future has no BASE/QUOTE spelling: its own id is kept
    swap = {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "last": "1", "bidPx": "0.9", "bidSz": "5",
            "askPx": "1.1", "askSz": "", "vol24h": "1000", "volCcy24h": "10", "ts": "1"}  # fmt: skip
    ticker = only(codec.decode(json.dumps({"arg": {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
                                           "data": [swap]}), 1.0))  # fmt: skip
    assert type(ticker) is Ticker and ticker.volume == 10 and ticker.quote_volume is None and ticker.ask_size is None
    spot = dict(swap, instType="SPOT", instId="BTC-USDT")
    ticker = only(codec.decode(json.dumps({"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [spot]}), 1))
    assert (ticker.volume, ticker.quote_volume) == (1000, 10) and ticker.instrument == "BTC/USDT"
    row = ["1597026360000", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.58", "529.58", "1"]
    kline = only(codec.decode(json.dumps({"arg": {"channel": "candle1H", "instId": "BTC-USDT"}, "data": [row]}), 1))
    assert type(kline) is Kline and kline.interval == "1h" and kline.closed
    assert (kline.open_time, kline.close_time, kline.close) == (1597026360.0, 1597029960.0, 8548.26)
    month = only(codec.decode(json.dumps({"arg": {"channel": "candle1Mutc", "instId": "BTC-USDT"},
                                          "data": [["1704067200000", *row[1:8], "0"]]}), 1))  # fmt: skip
    assert month.interval == "1M" and month.close_time == 1706745600.0 and not month.closed
    five = only(codec.decode(b'{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["2","1","0","1"]],'
                             b'"bids":[["1","1","0","1"]],"instId":"BTC-USDT","ts":"1","seqId":3}]}', 1))  # fmt: skip
    assert type(five) is BookSnapshot and five.depth == 5 and five.checksum is None
    bbo = only(codec.decode(b'{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["2","4","0","1"]],'
                            b'"bids":[["1","3","0","1"]],"ts":"1","seqId":3}]}', 1))  # fmt: skip
    assert type(bbo) is Quote and (bbo.bid, bbo.bid_size, bbo.ask, bbo.ask_size) == (1, 3, 2, 4)


def test_replies_pong_errors_and_notices() -> None:
    codec = OKXCodec()
    assert codec.decode(b'{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"1"}', 1) == [
        Ack(("books", "BTC-USDT"))
    ]
    assert codec.decode(b'{"event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT"}}', 1) == []
    pong = codec.decode("pong", 1.0)
    assert type(pong[0]) is Pong and pong[1] == Reply("ping", result="pong")
    [refused] = codec.decode(b'{"event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:BTC-XYZ '
                             b'doesn\'t exist. Please use the correct URL.","connId":"1"}', 1)  # fmt: skip
    assert type(refused) is Rejected and refused.key == ("books", "BTC-XYZ") and "60018" in str(refused.error)
    [notice] = codec.decode(b'{"event":"notice","code":"64008","msg":"The connection will soon be closed"}', 1)
    assert type(notice) is Notice and notice.event.kind == "notice"
    [illegal] = codec.decode(b'{"event":"error","code":"60012","msg":"Illegal request"}', 1)
    assert type(illegal) is Notice and illegal.event.data["code"] == "60012"
    with pytest.raises(UnknownMessage):
        codec.decode(b'{"hello":1}', 1.0)


def test_candle_channels_from_intervals() -> None:
    assert [candle_channel(i) for i in ("1s", "3m", "2h", "12h", "1d", "1w", "1M", "3M", "1y")] == [
        "candle1s", "candle3m", "candle2H", "candle12H", "candle1D", "candle1W", "candle1M", "candle3M", "candle1Y",
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="OKX has no 7m candles"):
        candle_channel("7m")


def test_a_process_that_never_imported_the_venue_still_verifies_okx_books() -> None:
    """Regression: events from a bus or a file reach ``order_book`` without the OKX codec ever being
    imported; the book must still use OKX's checksum, not Kraken's."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys, zlib
import reactivex
from rxfeeds.events import BookSnapshot, BookDelta
from rxfeeds.ops import order_book
assert "rxfeeds.venues.okx" not in sys.modules
crc = lambda text: zlib.crc32(text.encode())
snap = BookSnapshot("okx", "BTC-USDT", 1.0, 1.0, bids=((99.0, 1.0, "99", "1"),), asks=((101.0, 2.0, "101", "2"),),
                    checksum=crc("99:1:101:2"), depth=400)
delta = BookDelta("okx", "BTC-USDT", 2.0, 2.0, bids=((100.0, 3.0, "100", "3"),), asks=(),
                  checksum=crc("100:3:101:2:99:1"))
out = []
reactivex.of(snap, delta).pipe(order_book(integrity=True)).subscribe(out.append)
kinds = [getattr(v, "kind", "book") for v in out]
assert kinds == ["synced", "book", "book"], kinds
print("ok")
"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize(
    "module",
    [
        "rxfeeds.venues.okx",
        "rxfeeds.venues.okx.spec",
        "rxfeeds.venues.okx.codec",
        "rxfeeds.venues.okx.checksum",
        "rxfeeds.venues.okx.client",
        "rxfeeds.books.checksum",
        "rxfeeds.sim.okx",
    ],
)
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0

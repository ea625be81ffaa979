"""Fuzzing every codec's ``decode`` (issue 16): only FrameError, bounded cost, sane numbers.

Seeds: hand-written frames of every venue (``tests/codec_cases.py``), frames recorded from a
short run of every venue's simulator, and frames of the shared real captures (skipped with a
reason when absent).  Each example mutates a seed (``tests/fuzz/mutations.py``) and decodes it:

* the only exception that may escape is :class:`~rxfeeds.errors.FrameError`;
* one decode takes < 0.5 s and its peak allocation is < 1 MB plus 20 times the frame's size
  (the JSON parsers alone build ~12-16 bytes of objects per input byte; what is ruled out is
  amplification, a 170-byte frame costing gigabytes).  A safety bound, not a benchmark;
* every book level, order and trade decoded has a finite price > 0 and a finite size >= 0, and
  every symbol and routing key is made of strings.

Deterministic: ``derandomize=True`` and a CI-sized ``max_examples``.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import pytest
import reactivex as rx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxfeeds.books.book import OrderBook
from rxfeeds.codec import BaseCodec, Data
from rxfeeds.errors import FrameError
from rxfeeds.events import BookDelta, BookOrder, BookSnapshot, Trade
from rxfeeds.ops import order_book
from tests.codec_cases import CAPTURES, FRAMES, VENUES, capture_frames, make
from tests.fuzz.mutations import mutated, random_json

# hostile frames are large (deep nesting): their repr in a failure report is long, not a problem
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TIME_BOUND = 0.5
MEMORY_BOUND = 1_000_000
MEMORY_PER_BYTE = 20


def _bad_number(price: float, size: float) -> bool:
    return not (math.isfinite(price) and price > 0 and math.isfinite(size) and size >= 0)


def check_messages(messages: Sequence[Any]) -> None:
    """Every decoded book/trade number is sane; keys and symbols are strings."""
    for message in messages:
        if not isinstance(message, Data):
            continue
        channel, symbol = message.key
        assert type(channel) is str and type(symbol) is str, message.key
        for event in message.events:
            assert type(event.symbol) is str, event
            assert math.isfinite(event.time) and math.isfinite(event.recv_time), event
            if isinstance(event, (BookSnapshot, BookDelta)):
                for price, size, price_text, size_text in (*event.bids, *event.asks):
                    assert not _bad_number(price, size), event
                    assert type(price_text) is str and type(size_text) is str, event
            elif isinstance(event, Trade) or (isinstance(event, BookOrder) and not event.removed):
                assert not _bad_number(event.price, event.size), event


def decode_checked(codec: BaseCodec, frame: bytes | str, valid: bool = False) -> Sequence[Any]:
    """Decode under the fuzz assertions; returns the messages ([] for a FrameError).

    ``valid``: the frame is a real one (a seed), so even a FrameError is a failure: the checks
    must not refuse what venues and simulators really send.
    """
    tracemalloc.start()
    start = time.perf_counter()
    try:
        messages = codec.decode(frame, 1.0)
    except FrameError as exc:
        if valid:
            pytest.fail(f"a real frame was refused: {exc}")
        messages = []
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__} escaped {type(codec).__name__}.decode: {exc!r:.200} for {frame!r:.300}")
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < TIME_BOUND, f"{elapsed:.2f} s for {frame!r:.200}"
    assert peak < MEMORY_PER_BYTE * len(frame) + MEMORY_BOUND, f"{peak} bytes for {frame!r:.200}"
    check_messages(messages)
    return messages


def fuzz(venue: str, seeds: list[bytes]) -> None:
    codec = make(venue)
    for seed in seeds:  # the seeds themselves decode (and prime per-connection state)
        decode_checked(codec, seed, valid=True)

    @FUZZ
    @given(frame=mutated(seeds))
    def run(frame: bytes | str) -> None:
        decode_checked(codec, frame)

    run()


@pytest.mark.parametrize("venue", VENUES)
def test_fuzz_examples(venue: str) -> None:
    fuzz(venue, FRAMES[venue])


@pytest.mark.parametrize("venue", VENUES)
def test_fuzz_simulator_frames(venue: str, simulator_frames: dict[str, list[bytes]]) -> None:
    assert len(simulator_frames[venue]) >= 10
    fuzz(venue, simulator_frames[venue])


@pytest.mark.captures
@pytest.mark.parametrize("venue", sorted(set(CAPTURES.values())))
def test_fuzz_capture_frames(venue: str, captures_dir: Any) -> None:
    seeds = capture_frames(venue)
    if not seeds:
        pytest.skip(f"no {venue} capture in {captures_dir}")
    fuzz(venue, seeds)


KEYS = {
    "kraken": ["event", "a", "b", "c", "as", "bs", "pair", "status"],
    "kraken-v2": ["channel", "type", "data", "method", "req_id", "success", "result", "symbol"],
    "hitbtc": ["jsonrpc", "method", "params", "id", "result", "error"],
    "hitbtc-v3": ["ch", "snapshot", "update", "data", "method", "params", "id", "result"],
    "binance-spot": ["stream", "data", "e", "s", "b", "a", "id", "result", "u"],
    "binance-dex": ["stream", "data", "error", "topic", "symbols"],
    "bitshares": ["method", "params", "id", "result", "error"],
    "midchains": ["type", "security", "books", "price", "qty", "result", "msg"],
    "bybit": ["topic", "type", "data", "ts", "u", "b", "a", "op", "success", "req_id"],
    "bybit-linear": ["topic", "type", "data", "ts", "u", "b", "a", "op", "success", "req_id"],
    "coinbase": ["channel", "sequence_num", "events", "type", "product_id", "updates", "trades", "timestamp"],
    "okx": ["arg", "data", "action", "event", "channel", "instId", "checksum", "seqId", "prevSeqId", "asks"],
}


@pytest.mark.parametrize("venue", VENUES)
def test_fuzz_random_json(venue: str) -> None:
    codec = make(venue)

    @FUZZ
    @given(frame=random_json(KEYS[venue]))
    def run(frame: bytes) -> None:
        decode_checked(codec, frame)

    run()


BOOK_VENUES = [
    *("kraken", "kraken-v2", "hitbtc", "hitbtc-v3", "binance-spot", "binance-dex", "bitshares", "midchains"),
    *("bybit", "bybit-linear", "coinbase"),
]


@pytest.mark.parametrize("venue", BOOK_VENUES)
def test_fuzzed_events_never_put_a_bad_level_in_a_book(venue: str, simulator_frames: dict[str, list[bytes]]) -> None:
    """Decoded events of fuzzed frames, fed to ``order_book``: no NaN or negative level in any book."""
    seeds = FRAMES[venue] + simulator_frames[venue]

    @settings(FUZZ, max_examples=25)
    @given(frames=st.lists(mutated(seeds), min_size=1, max_size=8), order=st.randoms(use_true_random=False))
    def run(frames: list[bytes | str], order: Any) -> None:
        codec = make(venue)
        events: list[Any] = []
        stream = list(seeds)  # real frames build the book; fuzzed ones are mixed in among them
        for frame in frames:
            stream.insert(order.randint(0, len(stream)), frame)
        for frame in stream:
            for message in decode_checked(codec, frame):
                if isinstance(message, Data):
                    events.extend(message.events)
        books: list[OrderBook] = []
        errors: list[Exception] = []
        rx.from_iterable(events).pipe(order_book()).subscribe(
            lambda v: books.append(v) if isinstance(v, OrderBook) else None, errors.append
        )
        assert not errors, errors
        for book in books:
            for price, size in (*book.bids, *book.asks):
                assert math.isfinite(price) and price > 0 and math.isfinite(size) and size >= 0, book

    run()

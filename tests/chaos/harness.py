"""Chaos harness: seeded faults against every venue simulator, every synced book checked against truth.

For each venue a simulator is started with a bounded truth history
(:meth:`rxfeeds.sim.server.SimServer.record_truth`), a client subscribes a few symbols, each
through its own ``ops.order_book(depth=DEPTH)``, and a seeded schedule of faults is injected
through ``sim.faults`` (plus simulator restarts on the same ports).  Every book emitted with
``synced=True`` is compared, at the book's depth, with the simulator's truth at the same point:

* ``sequence`` venues (HitBTC v2/v3, Binance spot, Binance DEX, Bybit): the truth recorded under the
  book's ``sequence``;
* ``time`` venues (Kraken v1/v2, Midchains): the truth recorded under the book's exchange time
  (each book frame carries the time of its step);
* ``recv`` venues (BitShares: neither a sequence nor a time on the wire): one of the truths
  recorded before the book was received.

A synced book that equals none of its candidates is *corrupted*; one with no candidate at all
is *unmatched* (the harness could not check it; reported, and expected to stay 0).

After each fault the harness waits (on conditions, bounded by ``recovery_budget``) until every
affected symbol has emitted a synced book again; for faults that break continuity (close,
reset, restart, refused resubscription, skipped sequence, bad checksum) an integrity event
(``reset``/``gap``/``checksum``...) must come before that book, else the gap was *invisible*.
A symbol that does not recover within the budget, or whose stream terminates, is a *lost
subscription* (it is then subscribed afresh so the campaign goes on).

The fault schedule (kinds, symbols, stall lengths, pauses) comes from ``random.Random`` seeded
with ``(seed, venue)``: the same seed injects the same faults in the same order.  Markets are
seeded too; only thread timing differs between runs.

Used by ``tests/chaos`` (CI budget) and ``benchmarks/chaos.py`` (soak).
"""

from __future__ import annotations

import bisect
import math
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reactivex.abc import DisposableBase, ObserverBase

from rxfeeds import ops
from rxfeeds.books.book import OrderBook
from rxfeeds.events import IntegrityEvent
from rxfeeds.sim import simulator_class
from rxfeeds.sim.server import SimServer, TruthRecord
from rxfeeds.transport.backoff import Backoff

__all__ = ["ALL_KINDS", "VENUES", "CampaignResult", "Fault", "VenueResult", "plan", "run_campaign", "run_venue"]

DEPTH = 10
#: reconnects and resyncs fast: the campaign measures correctness, not the production back-off
FAST = Backoff(initial=0.05, max_delay=0.5, jitter="none", reset_after=1.0)
#: integrity kinds that say "continuity broke here"
#: seconds a book waits before it is checked (the truth record follows the frame by microseconds)
SETTLE = 0.3
#: how long a book without a truth record is looked at again before it counts as unmatched
RETRY_FOR = 10.0
BREAK_KINDS = frozenset({"gap", "checksum", "crossed", "reset", "stale", "failed"})
ALL_KINDS = (
    "close",
    "reset",
    "stall",
    "malformed",
    "skip_sequence",
    "corrupt_checksum",
    "reject",
    "restart",
    "hostile",
)
#: faults after which every affected symbol must show an integrity event before its next synced book
BREAKING = frozenset({"close", "reset", "restart", "reject", "skip_sequence", "corrupt_checksum"})
NETWORK = frozenset({"close", "reset", "stall", "malformed", "reject", "restart"})
#: faults that must not cost a reconnect (one bad frame never tears the socket down)
FRAME_FAULTS = frozenset({"malformed", "hostile"})
_DEEP = '{"x":' + "[" * 3000 + "]" * 3000 + "}"
#: relative weights of the kinds in the schedule (restarts are the slowest)
WEIGHTS = {
    "close": 3,
    "reset": 3,
    "stall": 2,
    "malformed": 3,
    "skip_sequence": 3,
    "corrupt_checksum": 3,
    "reject": 1,
    "restart": 1,
    "hostile": 2,
}
#: well-formed but meaningless or broken frames no venue should choke on
MALFORMED: tuple[str | bytes, ...] = (
    "{not json",
    "",
    "[]",
    "{}",
    "null",
    "42",
    '"text"',
    '{"event":"mystery"}',
    '{"method":"notice","params":"x"}',
    '[0,{"a":1},"book-10"]',
    '{"stream":"nowhere","data":{}}',
    "x" * 4096,
    b"\x00\xff\x10binary",
)


@dataclass(frozen=True)
class VenueSetup:
    """How to run one venue under chaos."""

    name: str
    symbols: tuple[str, ...]
    match: str  # "sequence" | "time" | "recv"
    kinds: tuple[str, ...]
    make_sim: Callable[..., SimServer]
    make_client: Callable[..., Any]  # (sim, **client options)
    feed: Callable[[Any, str], Any]
    truth_key: Callable[[str], Hashable] = lambda s: s
    fault_key: Callable[[str], str] = lambda s: s
    size_tol: float = 0.0
    #: venue-shaped frames no codec may accept ("<S>"/"<s>" stand for the symbol, upper/lower case):
    #: wrong types, NaN, a list where a symbol belongs, too deep a nesting
    hostile: tuple[str, ...] = ()

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        """Every fault kind that applies to this venue."""
        return (*self.kinds, "hostile") if self.hostile else self.kinds


def _sim(venue: str, **extra: Any) -> Callable[..., SimServer]:
    def make(*, seed: int, port: int = 0, http_port: int = 0, tick_interval: float) -> SimServer:
        cls = simulator_class(venue)
        sim: SimServer = cls(seed=seed, port=port, http_port=http_port, tick_interval=tick_interval, **extra)
        return sim

    return make


def _kraken(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.kraken.client import Kraken

    return Kraken(url=sim.url, auth_url=sim.url, ping_interval=None, **options)


def _kraken_v2(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.kraken.client_v2 import KrakenV2

    return KrakenV2(url=sim.url, auth_url=sim.url, ping_interval=None, **options)


def _hitbtc(sim: Any, **options: Any) -> Any:
    from rxfeeds.venues.hitbtc.client import HitBTC

    return HitBTC(sim.public_url, trading_url=sim.trading_url, ping_interval=None, **options)


def _hitbtc_v3(sim: Any, **options: Any) -> Any:
    from rxfeeds.venues.hitbtc.client_v3 import HitBTCV3

    return HitBTCV3(sim.public_url, trading_url=sim.trading_url, ping_interval=None, **options)


def _binance_spot(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.binance_spot import BinanceSpot

    return BinanceSpot(url=sim.url, rest_url=sim.http_url, min_send_interval=0.0, rest_rate=100.0, **options)


def _bybit(sim: Any, **options: Any) -> Any:
    from rxfeeds.venues.bybit.client import Bybit, BybitLinear

    cls = BybitLinear if sim.category == "linear" else Bybit
    return cls(url=sim.url, **options)


def _binance_dex(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.binance_dex.client import BinanceDex

    return BinanceDex(url=sim.url, **options)


def _bitshares(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.bitshares.client import BitShares

    return BitShares(sim.url, **options)


def _okx(sim: Any, **options: Any) -> Any:
    from rxfeeds.venues.okx.client import OKX

    return OKX(url=sim.url, business_url=sim.business_url, ping_interval=None, **options)


def _midchains(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.midchains.client import Midchains

    return Midchains(sim.url, **options)


def _coinbase(sim: SimServer, **options: Any) -> Any:
    from rxfeeds.venues.coinbase.client import Coinbase

    return Coinbase(sim.url, **options)


_NET = ("close", "reset", "stall", "malformed", "reject", "restart")

VENUES: dict[str, VenueSetup] = {
    s.name: s
    for s in (
        VenueSetup(
            "kraken",
            ("XBT/USD", "ETH/USD"),
            "time",
            (*_NET, "corrupt_checksum"),
            _sim("kraken"),
            _kraken,
            lambda c, s: c.book(s, depth=DEPTH),
            truth_key=lambda s: (s, DEPTH),
            hostile=(
                '[1,{"a":[[1.5,"1.00000000","1.0"]],"c":"0"},"book-10","<S>"]',
                '[1,{"b":[["NaN","1.00000000","1.0"]],"c":"0"},"book-10","<S>"]',
                '[1,{"a":[]},"book-10",["<S>"]]',
                '[1,[],"ohlc-1",{"pair":"<S>"}]',
            ),
        ),
        VenueSetup(
            "kraken-v2",
            ("BTC/USD", "ETH/USD"),
            "time",
            (*_NET, "corrupt_checksum"),
            _sim("kraken-v2"),
            _kraken_v2,
            lambda c, s: c.book(s, depth=DEPTH),
            truth_key=lambda s: (s, DEPTH),
            hostile=(
                '{"channel":"ohlc","type":"update","data":[{"symbol":["<S>"]}]}',
                '{"channel":"book","type":"update","data":[{"symbol":{"s":"<S>"},"bids":[],"asks":[],"checksum":0}]}',
                '{"channel":"book","type":"update","data":[{"symbol":"<S>","bids":[{"price":NaN,"qty":1}],'
                '"asks":[],"checksum":0,"timestamp":"2026-01-01T00:00:00.000000Z"}]}',
                '{"channel":"book","type":"update","data":[{"symbol":"<S>","bids":' + "[" * 3000 + "]" * 3000 + "}]}",
            ),
        ),
        VenueSetup(
            "hitbtc",
            ("ETHBTC", "LTCBTC"),
            "sequence",
            (*_NET, "skip_sequence"),
            _sim("hitbtc"),
            _hitbtc,
            lambda c, s: c.book(s),
            hostile=(
                '{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[],"bid":[],"symbol":["<S>"],"sequence":1}}',
                '{"jsonrpc":"2.0","method":"updateOrderbook","params":{"ask":[{"price":"NaN","size":"1"}],"bid":[],'
                '"symbol":"SYM","sequence":"x"}}',
                '{"jsonrpc":"2.0","method":"snapshotOrderbook","params":{"ask":[],"bid":[],"symbol":{"<S>":1}}}',
            ),
        ),
        VenueSetup(
            "hitbtc-v3",
            ("ETHBTC", "LTCBTC"),
            "sequence",
            (*_NET, "skip_sequence"),
            _sim("hitbtc-v3"),
            _hitbtc_v3,
            lambda c, s: c.book(s),
            hostile=(
                '{"ch":"orderbook/full","update":{"<S>":{"t":1,"s":"x","a":[["NaN","1"]],"b":[]}}}',
                '{"ch":"orderbook/full","update":[["<S>"]]}',
                '{"ch":"orderbook/full","update":{"<S>":' + "[" * 3000 + "]" * 3000 + "}}",
            ),
        ),
        VenueSetup(
            "binance-spot",
            ("BTCUSDT", "ETHBTC"),
            "sequence",
            (*_NET, "skip_sequence"),
            _sim("binance-spot", listed=["BTCUSDT", "ETHBTC"]),
            _binance_spot,
            lambda c, s: c.book(s),
            hostile=(
                '{"stream":"<s>@depth@100ms","data":{"e":"depthUpdate","E":1,"s":["<S>"],"U":1,"u":2,"b":[],"a":[]}}',
                '{"stream":"<s>@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"<S>","U":"a","u":null,'
                '"b":[["NaN","1"]],"a":[]}}',
                '{"stream":["<s>@depth@100ms"],"data":{}}',
            ),
        ),
        VenueSetup(
            "binance-dex",
            ("BNB_BTCB-1DE", "BNB_USDT.B-B7C"),
            "sequence",
            _NET,
            _sim("binance-dex"),
            _binance_dex,
            lambda c, s: c.market_depth(s, levels=20),
            truth_key=str.upper,
            fault_key=str.upper,
            hostile=(
                '{"stream":"marketDepth","data":{"lastUpdateId":"x","symbol":"<S>","bids":[["NaN","1"]],"asks":[]}}',
                '{"stream":"marketDepth","data":{"lastUpdateId":1,"symbol":["<S>"],"bids":[],"asks":[]}}',
                '{"stream":"marketDiff","data":{"e":"depthUpdate","E":1,"s":{"<S>":1},"b":[],"a":[]}}',
            ),
        ),
        VenueSetup(
            "bitshares",
            ("BTS:USD", "BTS:CNY"),
            "recv",
            _NET,
            _sim("bitshares"),
            _bitshares,
            lambda c, s: c.book(s),
            size_tol=1e-6,  # sizes come from integer satoshi amounts and price ratios
        ),
        VenueSetup(
            "okx",
            ("BTC-USDT", "BTC-USDT-SWAP"),
            "sequence",
            (*_NET, "skip_sequence", "corrupt_checksum"),
            _sim("okx"),
            _okx,
            lambda c, s: c.book(s),
            hostile=(
                '{"arg":{"channel":"books","instId":["<S>"]},"action":"update","data":[]}',
                '{"arg":{"channel":"books","instId":"<S>"},"action":"update","data":[{"asks":[[1.5,"1","0","1"]],'
                '"bids":[],"ts":"1","checksum":1}]}',
                '{"arg":{"channel":"books","instId":"<S>"},"action":"update","data":[{"asks":[["NaN","1","0","1"]],'
                '"bids":[],"ts":"1","checksum":1}]}',
                '{"arg":{"channel":"books","instId":"<S>"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1",'
                '"seqId":"x","prevSeqId":1}]}',
                '{"arg":{"channel":"books","instId":"<S>"},"data":' + "[" * 3000 + "]" * 3000 + "}",
            ),
        ),
        VenueSetup(
            "midchains",
            ("BTCUSD", "ETHUSD"),
            "time",
            _NET,
            _sim("midchains"),
            _midchains,
            lambda c, s: c.book(s),
            size_tol=1e-9,  # a level's size is a float sum of its orders' sizes
            hostile=(
                '{"type":"book","security":["<S>"],"books":[]}',
                '{"type":"book","security":"<S>","books":[{"side":"B","act":"U","price":"NaN","qty":"1",'
                '"id":"h1","time":"99999999999999999999999"}]}',
                '{"type":"book","security":"<S>","books":' + "[" * 3000 + "]" * 3000 + "}",
            ),
        ),
        *(
            VenueSetup(
                name,
                ("BTCUSDT", "ETHUSDT"),
                "sequence",
                (*_NET, "skip_sequence"),
                _sim(name),
                _bybit,
                lambda c, s: c.book(s, depth=50),
                truth_key=lambda s: (s, 50),
                hostile=(
                    '{"topic":"orderbook.50.<S>","type":"delta","ts":1,"data":{"s":"<S>","b":[["NaN","1"]],'
                    '"a":[],"u":"x","seq":1}}',
                    '{"topic":["orderbook.50.<S>"],"type":"delta","ts":1,"data":{}}',
                    '{"topic":"orderbook.50.<S>","type":"snapshot","ts":1,"data":{"s":"<S>","b":[[1.5,"1"]],'
                    '"a":[],"u":1,"seq":1}}',
                    '{"topic":"orderbook.50.<S>","type":"delta","ts":1,"data":' + "[" * 3000 + "]" * 3000 + "}",
                ),
            )
            for name in ("bybit", "bybit-linear")
        ),
        VenueSetup(
            "coinbase",
            ("BTC-USD", "ETH-USD"),
            "time",
            (*_NET, "skip_sequence"),
            _sim("coinbase"),
            _coinbase,
            lambda c, s: c.book(s),
            hostile=(
                '{"channel":"l2_data","timestamp":"2026-01-01T00:00:00Z","sequence_num":"x","events":[{"type":"update",'
                '"product_id":"<S>","updates":[{"side":"bid","price_level":"NaN","new_quantity":"1"}]}]}',
                '{"channel":"l2_data","timestamp":"2026-01-01T00:00:00Z","sequence_num":1,"events":[{"type":"update",'
                '"product_id":["<S>"],"updates":[]}]}',
                '{"channel":"l2_data","sequence_num":1,"events":' + "[" * 3000 + "]" * 3000 + "}",
            ),
        ),
    )
}


# -- results ------------------------------------------------------------------------------------


@dataclass
class VenueResult:
    """What one venue's campaign found."""

    venue: str
    seed: int
    planned: int
    faults: Counter[str] = field(default_factory=Counter)
    #: faults whose protocol flag the simulator never consumed (nothing to apply it to in time)
    not_taken: Counter[str] = field(default_factory=Counter)
    checked: int = 0
    corrupted: int = 0
    corrupted_by_kind: Counter[str] = field(default_factory=Counter)
    unmatched: int = 0
    lost: int = 0
    lost_by_kind: Counter[str] = field(default_factory=Counter)
    invisible: int = 0
    #: single bad frames after which the client had to reconnect (the socket was torn down)
    torn: Counter[str] = field(default_factory=Counter)
    invisible_by_kind: Counter[str] = field(default_factory=Counter)
    recoveries: list[float] = field(default_factory=list)
    stream_errors: list[str] = field(default_factory=list)
    hook_errors: int = 0
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def injected(self) -> int:
        return sum(self.faults.values())

    @property
    def recovery_median(self) -> float | None:
        return statistics.median(self.recoveries) if self.recoveries else None

    @property
    def recovery_max(self) -> float | None:
        return max(self.recoveries) if self.recoveries else None

    def example(self, text: str) -> None:
        if len(self.examples) < 8:
            self.examples.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "seed": self.seed,
            "planned": self.planned,
            "injected": self.injected,
            "faults": dict(sorted(self.faults.items())),
            "not_taken": dict(self.not_taken),
            "synced_books_checked": self.checked,
            "corrupted": self.corrupted,
            "corrupted_by_fault": dict(self.corrupted_by_kind),
            "unmatched": self.unmatched,
            "lost_subscriptions": self.lost,
            "lost_by_fault": dict(self.lost_by_kind),
            "torn_by_bad_frame": dict(self.torn),
            "invisible_gaps": self.invisible,
            "invisible_by_fault": dict(self.invisible_by_kind),
            "recovery_median_s": _round(self.recovery_median),
            "recovery_max_s": _round(self.recovery_max),
            "stream_errors": self.stream_errors[:8],
            "hook_errors": self.hook_errors,
            "examples": self.examples,
            "seconds": round(self.seconds, 2),
            "stopped_early": self.stopped_early,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


@dataclass
class CampaignResult:
    """Every venue's result plus the campaign settings."""

    seed: int
    faults: int
    venues: list[VenueResult]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "faults": self.faults,
            "seconds": round(self.seconds, 2),
            "venues": [v.as_dict() for v in self.venues],
        }

    def table(self) -> str:
        """A plain-text table, one row per venue."""
        head = (
            f"{'venue':<13}{'faults':>7}  {'by kind':<58}{'checked':>9}{'corrupt':>8}{'unmatch':>8}"
            f"{'lost':>5}{'invis':>6}{'torn':>5}{'rec med':>8}{'rec max':>8}"
        )
        lines = [head, "-" * len(head)]
        for v in self.venues:
            kinds = " ".join(f"{_SHORT.get(k, k)}={n}" for k, n in sorted(v.faults.items()))
            med, mx = v.recovery_median, v.recovery_max
            lines.append(
                f"{v.venue:<13}{v.injected:>7}  {kinds:<58}{v.checked:>9}{v.corrupted:>8}{v.unmatched:>8}"
                f"{v.lost:>5}{v.invisible:>6}{sum(v.torn.values()):>5}{_fmt(med):>8}{_fmt(mx):>8}"
            )
        total = sum(v.injected for v in self.venues)
        lines.append("-" * len(head))
        lines.append(
            f"{'total':<13}{total:>7}  {'':<58}{sum(v.checked for v in self.venues):>9}"
            f"{sum(v.corrupted for v in self.venues):>8}{sum(v.unmatched for v in self.venues):>8}"
            f"{sum(v.lost for v in self.venues):>5}{sum(v.invisible for v in self.venues):>6}"
            f"{sum(sum(v.torn.values()) for v in self.venues):>5}"
        )
        for v in self.venues:
            if v.stopped_early:
                lines.append(f"{v.venue}: stopped at max_seconds after {v.injected} of {v.planned} faults")
        lines.append(
            f"seed {self.seed}, {self.seconds:.1f} s; recovery: seconds from the end of a fault to the next synced book"
        )
        lines.append("kinds: " + ", ".join(f"{s}={k}" for k, s in _SHORT.items()))
        return "\n".join(lines)


_SHORT = {
    "close": "cl",
    "reset": "rst",
    "stall": "st",
    "malformed": "mal",
    "skip_sequence": "skip",
    "corrupt_checksum": "crc",
    "reject": "rej",
    "restart": "rs",
    "hostile": "hos",
}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


# -- one subscription -----------------------------------------------------------------------------


class _Watch(ObserverBase[Any]):
    """Collects one symbol's ``order_book`` output on the socket thread for the harness thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[tuple[OrderBook, str]] = []
        #: (arrival wall time, kind) of every integrity event
        self.events: list[tuple[float, str]] = []
        #: arrival wall times of synced books
        self.synced_at: list[float] = []
        self.error: BaseException | None = None
        self.completed = False
        self.context = "start"  # the fault in effect (for attributing corrupted books)
        self.disposable: DisposableBase | None = None

    def on_next(self, value: Any) -> None:
        now = time.time()
        with self.lock:
            if isinstance(value, OrderBook):
                if value.synced:
                    self.pending.append((value, self.context))
                    self.synced_at.append(now)
            elif isinstance(value, IntegrityEvent):
                self.events.append((now, value.kind))

    def on_error(self, error: BaseException) -> None:
        with self.lock:
            self.error = error

    def on_completed(self) -> None:
        with self.lock:
            self.completed = True

    @property
    def terminated(self) -> bool:
        return self.error is not None or self.completed

    def take(self) -> list[tuple[OrderBook, str]]:
        with self.lock:
            out, self.pending = self.pending, []
            return out

    def recovered(self, since: float, need_break: bool) -> tuple[float | None, bool]:
        """(arrival of the first qualifying synced book after ``since`` or None, break seen)."""
        with self.lock:
            breaks = [t for t, k in self.events if t >= since and k in BREAK_KINDS]
            if need_break and not breaks:
                return None, False  # books from before the break may still be arriving
            start = breaks[0] if need_break else since
            for t in self.synced_at:
                if t > start:
                    return t, bool(breaks)
            return None, bool(breaks)

    def synced_after(self, since: float) -> bool:
        with self.lock:
            return bool(self.synced_at) and self.synced_at[-1] > since


# -- checking books against truth --------------------------------------------------------------


def _pairs(levels: Iterable[Sequence[Any]], depth: int) -> tuple[tuple[float, float], ...]:
    return tuple((lv[0], lv[1]) for lv in list(levels)[:depth])


def _same(a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...], tol: float) -> bool:
    if a == b:
        return True
    if tol <= 0 or len(a) != len(b):
        return False
    return all(
        math.isclose(pa, pb, rel_tol=1e-9) and math.isclose(sa, sb, rel_tol=1e-9, abs_tol=tol)
        for (pa, sa), (pb, sb) in zip(a, b, strict=True)
    )


class _Checker:
    """Compares synced books with the truth of the simulator that sent them."""

    def __init__(self, setup: VenueSetup, result: VenueResult) -> None:
        self.setup = setup
        self.result = result
        #: (start wall time, simulator) newest last; restarts add one
        self.sims: list[tuple[float, SimServer]] = []
        #: books received but not checked yet, per symbol, oldest first
        self.waiting: dict[str, list[tuple[OrderBook, str]]] = {}

    def sims_for(self, recv_time: float) -> list[SimServer]:
        """The simulators that may have sent a book received at ``recv_time``, likeliest first.

        A lagging client can still be reading the frames of a simulator that was restarted
        meanwhile, so older simulators follow (for ``recv`` matching only the previous one).
        """
        current = 0
        for i, (start, _) in enumerate(self.sims):
            if start <= recv_time:
                current = i
        order = [self.sims[current][1]] + [sim for _, sim in reversed(self.sims[:current])]
        return order[:2] if self.setup.match == "recv" else order

    def check(self, symbol: str, items: list[tuple[OrderBook, str]], *, final: bool = False) -> None:
        # A simulator records its truth right after writing the frame; the client may have
        # built its book before that, so books are checked once they are a little old.
        waiting = self.waiting.setdefault(symbol, [])
        waiting.extend(items)
        if final:
            items, waiting[:] = list(waiting), []
        else:
            ripe = time.time() - SETTLE
            items = [i for i in waiting if i[0].recv_time <= ripe]
            waiting[:] = [i for i in waiting if i[0].recv_time > ripe]
        if not items:
            return
        key = self.setup.truth_key(symbol)
        indexes: dict[int, _Index] = {}
        tol = self.setup.size_tol
        for book, context in items:
            self.result.checked += 1
            candidates: list[TruthRecord] = []
            for sim in self.sims_for(book.recv_time):
                index = indexes.get(id(sim))
                if index is None:
                    index = indexes[id(sim)] = _Index(sim.truth_history(key))
                candidates += index.candidates(self.setup.match, book)
            if not candidates and not final and book.recv_time > time.time() - RETRY_FOR:
                # a starved simulator thread may not have recorded it yet: look again later
                self.result.checked -= 1
                waiting.append((book, context))
                continue
            if not candidates:
                self.result.unmatched += 1
                self.result.example(f"unmatched {symbol} seq={book.sequence} time={book.time:.6f} after {context}")
                continue
            bids, asks = _pairs(book.bids, DEPTH), _pairs(book.asks, DEPTH)
            if not any(
                _same(bids, _pairs(r.book.bids, DEPTH), tol) and _same(asks, _pairs(r.book.asks, DEPTH), tol)
                for r in candidates
            ):
                self.result.corrupted += 1
                self.result.corrupted_by_kind[context] += 1
                truth = candidates[0].book
                self.result.example(
                    f"corrupted {symbol} seq={book.sequence} time={book.time:.6f} after {context}: "
                    f"book {len(bids)}/{len(asks)} levels best {bids[:1]}/{asks[:1]}, "
                    f"truth {len(truth.bids)}/{len(truth.asks)} best {_pairs(truth.bids, 1)}/{_pairs(truth.asks, 1)}"
                )


class _Index:
    """One simulator's truth history of one key, indexed for the three ways of matching."""

    def __init__(self, history: list[TruthRecord]) -> None:
        self.history = history
        self.by_marker: dict[int, list[TruthRecord]] = {}
        for r in history:
            if r.marker is not None:
                self.by_marker.setdefault(self._bucket(r.marker), []).append(r)
        self.wall_times = [r.wall_time for r in history]

    @staticmethod
    def _bucket(marker: float) -> int:
        return round(marker * 1e5)

    def candidates(self, mode: str, book: OrderBook) -> list[TruthRecord]:
        if mode == "sequence":
            if book.sequence is None:
                return []
            return [r for r in self.by_marker.get(self._bucket(book.sequence), ()) if r.marker == book.sequence]
        if mode == "time":
            k = self._bucket(book.time)
            near = [r for b in (k - 1, k, k + 1) for r in self.by_marker.get(b, ())]
            return [r for r in near if r.marker is not None and abs(r.marker - book.time) <= 1e-5]
        # "recv": a state written before the book was received; the most recent ones first
        end = bisect.bisect_right(self.wall_times, book.recv_time + 0.05)
        return self.history[max(0, end - 400) : end][::-1]


@dataclass(frozen=True)
class Fault:
    """One planned fault."""

    kind: str
    symbol: str
    stall_for: float
    payload: str | bytes
    pause: float


def plan(venue: str, faults: int, seed: int = 0, kinds: Iterable[str] | None = None, pace: float = 0.05) -> list[Fault]:
    """The fault schedule of ``venue``: a pure function of its arguments (seeded, deterministic).

    Example:
        >>> [f.kind for f in plan("kraken", 3, seed=1)] == [f.kind for f in plan("kraken", 3, seed=1)]
        True
    """
    setup = VENUES[venue]
    allowed = set(kinds) if kinds is not None else set(ALL_KINDS)
    usable = [k for k in setup.fault_kinds if k in allowed]
    if not usable:
        raise ValueError(f"none of the fault kinds {sorted(allowed)} applies to {venue}")
    rng = random.Random(f"{seed}:{venue}")
    out = []
    for _ in range(faults):
        kind = rng.choices(usable, [WEIGHTS[k] for k in usable])[0]
        symbol = rng.choice(setup.symbols)
        stall_for = rng.uniform(0.1, 1.5)
        payload = rng.choice(MALFORMED)
        if kind == "hostile":
            payload = rng.choice(setup.hostile).replace("<S>", symbol).replace("<s>", symbol.lower())
        out.append(Fault(kind, symbol, stall_for, payload, rng.uniform(0, pace) if pace else 0.0))
    return out


# -- one venue --------------------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        setup: VenueSetup,
        faults: int,
        seed: int,
        *,
        tick_interval: float,
        recovery_budget: float,
        max_seconds: float,
        pace: float,
        kinds: Iterable[str] | None,
        production_backoff: bool = False,
    ) -> None:
        self.setup = setup
        self.n = faults
        self.seed = seed
        self.tick = tick_interval
        self.budget = recovery_budget
        self.deadline = time.monotonic() + max_seconds
        self.pace = pace
        self.kinds = kinds
        # FAST back-off by default: the campaign is about correctness; production_backoff=True
        # keeps the clients' and order_book's own defaults (to measure real recovery times)
        self.client_options: dict[str, Any] = {"stale_timeout": 1.0}
        self.book_backoff: Backoff | None = None
        if not production_backoff:
            self.client_options["backoff"] = FAST
            self.book_backoff = FAST
        self.result = VenueResult(setup.name, seed, faults)
        self.checker = _Checker(setup, self.result)
        self.watches: dict[str, _Watch] = {}
        self.sim: SimServer | None = None
        self.client: Any = None
        self.reconnect_reasons: list[str] = []

    # plumbing

    def start_sim(self, port: int = 0, http_port: int = 0) -> SimServer:
        sim = self.setup.make_sim(seed=self.seed, port=port, http_port=http_port, tick_interval=self.tick)
        sim.truth_history_size = 4096
        start = time.time()
        sim.start()
        self.checker.sims.append((start, sim))
        self.sim = sim
        return sim

    def subscribe(self, symbol: str) -> _Watch:
        old = self.watches.get(symbol)
        if old is not None and old.disposable is not None:
            self.drain()
            old.disposable.dispose()
        watch = _Watch()
        self.watches[symbol] = watch
        feed = self.setup.feed(self.client, symbol)
        watch.disposable = feed.pipe(
            ops.order_book(depth=DEPTH, integrity=True, backoff=self.book_backoff, resync_timeout=5.0, max_resyncs=10)
        ).subscribe(watch)
        return watch

    def drain(self, final: bool = False) -> None:
        for symbol, watch in self.watches.items():
            self.checker.check(symbol, watch.take(), final=final)

    def wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            self.drain()
            if condition():
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(0.02)

    # the campaign

    def run(self) -> VenueResult:
        began = time.monotonic()
        sim = self.start_sim()
        try:
            self.client = self.setup.make_client(sim, **self.client_options)
            # why each reconnect happened: a stale timeout on a CPU-starved machine is not a torn socket
            self.client.state.subscribe(
                lambda st: self.reconnect_reasons.append(st.reason) if st.state.value == "reconnecting" else None
            )
            t0 = time.time()
            for symbol in self.setup.symbols:
                self.subscribe(symbol)
            for symbol, watch in self.watches.items():
                if not self.wait(lambda w=watch: w.synced_after(t0), self.budget * 2):
                    self.lose(symbol, "start")
            for fault in plan(self.setup.name, self.n, self.seed, self.kinds, self.pace):
                if time.monotonic() > self.deadline:
                    self.result.stopped_early = True
                    break
                self.one_fault(fault)
                if fault.pause:
                    time.sleep(fault.pause)  # pacing of the injections only
            self.drain()
        finally:
            self.close()
        self.result.seconds = time.monotonic() - began
        return self.result

    def close(self) -> None:
        for watch in self.watches.values():
            if watch.disposable is not None:
                watch.disposable.dispose()
        # Books of the last moments get the same grace as the others (SETTLE, and RETRY_FOR for a
        # truth record a starved simulator thread has not written yet) before the final check.
        end = time.monotonic() + RETRY_FOR + SETTLE
        while time.monotonic() < end and any(self.checker.waiting.get(s) for s in self.watches):
            self.drain()
            time.sleep(0.02)
        self.drain(final=True)
        if self.client is not None:
            self.client.close()
        for _, sim in self.checker.sims:
            self.result.hook_errors += len(sim.hook_errors)
            sim.stop()

    def lose(self, symbol: str, kind: str) -> None:
        watch = self.watches[symbol]
        self.result.lost += 1
        self.result.lost_by_kind[kind] += 1
        reason = repr(watch.error) if watch.error is not None else ("completed" if watch.completed else "silent")
        self.result.example(f"lost {symbol} after {kind}: {reason}")
        if watch.error is not None:
            self.result.stream_errors.append(f"{symbol}: {watch.error!r}")
        since = time.time()
        fresh = self.subscribe(symbol)
        # the next fault starts from a synced book (a fault before the first snapshot breaks nothing)
        if not self.wait(lambda: fresh.synced_after(since), self.budget):
            self.result.lost += 1
            self.result.lost_by_kind["resubscribe"] += 1

    def one_fault(self, fault: Fault) -> None:
        assert self.sim is not None
        kind, symbol, stall_for, payload = fault.kind, fault.symbol, fault.stall_for, fault.payload
        for watch in self.watches.values():
            watch.context = kind
        affected = list(self.setup.symbols) if kind in NETWORK else [symbol]
        faults = self.sim.faults
        reasons_before = len(self.reconnect_reasons)
        t0 = time.time()
        ready = t0
        need_break = kind in BREAKING
        hit = 1
        if kind == "close":
            hit = faults.close_all(1001, "chaos")
        elif kind == "reset":
            hit = faults.reset_all()
        elif kind == "stall":
            faults.stall(stall_for)
            ready = t0 + stall_for
        elif kind in FRAME_FAULTS:
            newest = self.sim.newest_connection_id  # type: ignore[union-attr]
            faults.send_malformed(payload, binary=isinstance(payload, bytes))
        elif kind == "skip_sequence":
            faults.skip_sequence(symbol)
        elif kind == "corrupt_checksum":
            faults.corrupt_checksum(self.setup.fault_key(symbol))
        elif kind == "reject":
            refused = faults.counts["reject_subscription"]
            faults.reject_subscriptions(self.setup.fault_key(symbol))
            faults.close_all(1001, "chaos")
        elif kind == "restart":
            old = self.sim
            port, http_port = old.port, old.http_port
            faults.reset_all()  # like a killed process: connections die without a close frame
            old.stop()
            self.start_sim(port, http_port)
        self.result.faults[kind] += 1
        if not hit:  # no connection open at that instant: nothing broke
            self.result.not_taken[kind] += 1
            need_break = False
        if kind in ("skip_sequence", "corrupt_checksum"):
            counter = kind
            before = faults.counts[counter]
            if not self.wait(lambda: faults.counts[counter] > before, self.budget):
                faults.clear()
                self.result.not_taken[kind] += 1
                return
        if kind == "reject":
            # refuse until the resubscription was refused at least once, then let it through
            if not self.wait(lambda: faults.counts["reject_subscription"] > refused, self.budget):
                self.result.not_taken[kind] += 1
            faults.accept_subscriptions()
        self.await_recovery(kind, affected, t0, ready, need_break)
        if kind in FRAME_FAULTS:
            sim = self.sim
            stale = any(r.startswith("stale") for r in self.reconnect_reasons[reasons_before:])
            if not stale and sim.newest_connection_id > newest:
                self.result.torn[kind] += 1
                self.result.example(f"{kind} frame made the client reconnect: {payload[:100]!r}")

    def await_recovery(self, kind: str, affected: list[str], t0: float, ready: float, need_break: bool) -> None:
        def done() -> bool:
            return all(
                self.watches[s].terminated or self.watches[s].recovered(ready, need_break)[0] is not None
                for s in affected
            )

        self.wait(done, self.budget + max(0.0, ready - time.time()))
        worst = 0.0
        for symbol in affected:
            watch = self.watches[symbol]
            when, broke = watch.recovered(ready, need_break)
            if when is not None and not watch.terminated:
                worst = max(worst, when - ready)
            elif not watch.terminated and need_break and not broke and watch.synced_after(ready):
                # books kept coming but no integrity event said that continuity broke
                self.result.invisible += 1
                self.result.invisible_by_kind[kind] += 1
                with watch.lock:
                    seen = [k for t, k in watch.events if t >= t0]
                self.result.example(
                    f"invisible gap {symbol} after {kind} (fault {self.result.injected}, books kept coming,"
                    f" integrity events since: {seen})"
                )
            else:
                self.lose(symbol, kind)
        self.result.recoveries.append(worst)


def run_venue(
    venue: str,
    faults: int,
    seed: int = 0,
    *,
    tick_interval: float = 0.05,
    recovery_budget: float = 10.0,
    max_seconds: float = 600.0,
    pace: float = 0.05,
    kinds: Iterable[str] | None = None,
    production_backoff: bool = False,
) -> VenueResult:
    """Run ``faults`` seeded faults against one venue (see the module docstring)."""
    run = _Run(
        VENUES[venue],
        faults,
        seed,
        tick_interval=tick_interval,
        recovery_budget=recovery_budget,
        max_seconds=max_seconds,
        pace=pace,
        kinds=kinds,
        production_backoff=production_backoff,
    )
    return run.run()


def run_campaign(
    faults: int,
    seed: int = 0,
    venues: Sequence[str] | None = None,
    **options: Any,
) -> CampaignResult:
    """Spread ``faults`` over ``venues`` (all by default) and run the venues in parallel."""
    names = list(venues) if venues else list(VENUES)
    for name in names:
        if name not in VENUES:
            raise ValueError(f"unknown venue {name!r}; choose from {', '.join(VENUES)}")
    share = [faults // len(names) + (1 if i < faults % len(names) else 0) for i in range(len(names))]
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="chaos") as pool:
        futures = [pool.submit(run_venue, n, k, seed, **options) for n, k in zip(names, share, strict=True)]
        results = [f.result() for f in futures]
    return CampaignResult(seed, faults, results, time.monotonic() - began)

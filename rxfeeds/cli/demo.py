"""``rxfeeds demo``: a simulated venue in-process, shown through the real client stack.

It starts the venue simulator on 127.0.0.1, points the real client at it
(``rxfeeds.Kraken(url=sim.url)``, and ``rest_url=`` for venues with REST snapshots), and pipes

* ``client.book(symbol, depth)`` through ``ops.order_book(depth)`` — a book verified by the venue's
  rule (Kraken's and OKX's checksums, Bybit's and Coinbase's sequence numbers, Binance's snapshot
  plus update ids),
* ``client.trades(symbol)`` through ``ops.klines("1s", emit="update")`` — one-second candles,

into a ``rich`` live view (top of book, spread, the last klines).  Without a terminal (CI,
pipes) it prints one plain line per second instead.  When it ends (``--duration`` or Ctrl-C)
it freezes the simulated market and checks the client's state against the simulator's own
truth: the book equals what the server sent, and every complete kline equals the candle the
simulator aggregated from its own trades.  Exit code 1 if either check fails.

Example::

    $ rxfeeds demo --duration 10
    $ rxfeeds demo --venue kraken-v2 --depth 25
    $ rxfeeds demo --venue okx --symbol ETH/USDT
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import InvalidArgument

__all__ = ["DEMO_VENUES", "DemoResult", "command", "run_demo"]

#: venue -> default symbol (venues whose client has ``book(symbol, depth)`` and ``trades(symbol)``)
DEMO_VENUES: dict[str, str] = {
    "kraken": "XBT/USD",
    "kraken-v2": "BTC/USD",
    "hitbtc": "ETHBTC",
    "hitbtc-v3": "ETHBTC",
    "binance-spot": "BTCUSDT",
    "okx": "BTC-USDT",
    "bybit": "BTCUSDT",
    "bybit-linear": "BTCUSDT",
    "coinbase": "BTC-USD",
}

KLINES_SHOWN = 8


@dataclass
class _State:
    """What the subscriptions delivered (written on the socket thread, read under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    book: Any = None
    books: int = 0
    first_book_after: float | None = None
    klines: dict[float, Any] = field(default_factory=dict)
    first_bar: float | None = None
    integrity: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoResult:
    """The demo's outcome: counts and the two checks against the simulator's truth."""

    books: int
    first_book_after: float | None
    klines_checked: int
    klines_matching: int
    book_matches: bool
    integrity: dict[str, int]
    errors: list[str]

    @property
    def ok(self) -> bool:
        """True when a book was shown, it matched the server, and every checked kline matched."""
        return self.books > 0 and self.book_matches and self.klines_matching == self.klines_checked and not self.errors


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def _spread(bid: float, ask: float) -> str:
    """``ask - bid`` with as many decimals as the prices show (floats print 0.1 + 0.2 badly)."""
    places = max(len(repr(bid).partition(".")[2]), len(repr(ask).partition(".")[2]))
    return f"{ask - bid:.{places}f}"


def _render(state: _State, venue: str, symbol: str, url: str, depth: int, started: float) -> Group:
    with state.lock:
        book, books = state.book, state.books
        bars = [state.klines[k] for k in sorted(state.klines)[-KLINES_SHOWN:]]
        integrity = dict(state.integrity)
    levels = Table(title=f"{symbol} top {depth}", expand=False)
    for name, style in (("bid size", "green"), ("bid", "bold green"), ("ask", "bold red"), ("ask size", "red")):
        levels.add_column(name, justify="right", style=style)
    if book is not None:
        bids, asks = book.top(depth)
        for i in range(depth):
            b = bids[i] if i < len(bids) else None
            a = asks[i] if i < len(asks) else None
            levels.add_row(
                f"{b[1]:.8f}" if b else "",
                str(b[0]) if b else "",
                str(a[0]) if a else "",
                f"{a[1]:.8f}" if a else "",
            )
    candles = Table(title="1-second klines (ops.klines)")
    for name in ("UTC", "open", "high", "low", "close", "volume", "n", ""):
        candles.add_column(name, justify="right")
    for k in bars:
        candles.add_row(
            _utc(k.open_time),
            str(k.open),
            str(k.high),
            str(k.low),
            str(k.close),
            f"{k.volume:.4f}",
            str(k.trades),
            "" if k.closed else "open",
        )
    spread = (
        _spread(*book.best_bid[:1], *book.best_ask[:1]) if book is not None and book.best_bid and book.best_ask else "-"
    )
    header = Text.assemble(
        ("rxfeeds demo", "bold"),
        f"  {venue} simulator {url}  |  {books} books  |  spread {spread}  |  ",
        f"integrity {integrity or 'clean'}  |  {time.monotonic() - started:4.1f} s  (Ctrl-C to stop)",
    )
    waiting = Text("waiting for the first book...", style="dim") if book is None else Text("")
    return Group(Panel(header), waiting, levels, candles)


def _plain_line(state: _State, symbol: str, started: float) -> str | None:
    with state.lock:
        book = state.book
        closed = [k for k in state.klines.values() if k.closed]
        last = max(closed, key=lambda k: k.open_time) if closed else None
        books = state.books
    if book is None or book.best_bid is None or book.best_ask is None:
        return None
    (bid, bid_size), (ask, ask_size) = book.best_bid, book.best_ask
    line = (
        f"[{time.monotonic() - started:5.1f}s] {symbol} book bid {bid} x {bid_size} | ask {ask} x {ask_size}"
        f" | spread {_spread(bid, ask)} | {books} books"
    )
    if last is not None:
        line += (
            f" | kline {_utc(last.open_time)} o={last.open} h={last.high} l={last.low} c={last.close}"
            f" v={last.volume:.8f} n={last.trades}"
        )
    return line


def _book_matches(book: Any, truth: Any, depth: int) -> bool:
    bids, asks = book.top(depth)
    return [(p, s) for p, s, *_ in truth.bids[:depth]] == list(bids) and [
        (p, s) for p, s, *_ in truth.asks[:depth]
    ] == list(asks)


def _kline_matches(kline: Any, candle: Any, market: Any) -> bool:
    exact = (kline.open, kline.high, kline.low, kline.close) == tuple(
        market.price(x) for x in (candle.open, candle.high, candle.low, candle.close)
    )
    volume = market.size(candle.volume)
    return exact and kline.trades == candle.count and math.isclose(kline.volume, volume, rel_tol=1e-9)


def run_demo(
    venue: str = "kraken",
    symbol: str | None = None,
    *,
    duration: float | None = None,
    depth: int = 10,
    seed: int = 0,
    tick_interval: float = 0.05,
    console: Console | None = None,
    live: bool | None = None,
    stop: threading.Event | None = None,
) -> DemoResult:
    """Run the demo (see the module docstring); blocks for ``duration`` s or until ``stop`` is set / Ctrl-C.

    Example::

        result = run_demo(duration=5)
        assert result.ok
    """
    from rxfeeds import ops
    from rxfeeds.books.book import OrderBook
    from rxfeeds.events import IntegrityEvent, Kline
    from rxfeeds.sim import simulator_class
    from rxfeeds.venues import client_class
    from rxfeeds.venues.registry import spec
    from rxfeeds.venues.symbols import check_symbol

    if venue not in DEMO_VENUES:
        raise InvalidArgument("venue", venue, f"the demo runs on {', '.join(DEMO_VENUES)}")
    # the simulator lists the venue's own spelling; BASE/QUOTE (BTC/USDT) is accepted too
    symbol = check_symbol(venue, spec(venue).symbol_notation.to_venue(symbol or DEMO_VENUES[venue]))
    console = console or Console()
    live = console.is_terminal if live is None else live
    stop = stop or threading.Event()
    state = _State()
    started = time.monotonic()

    def on_book(value: Any) -> None:
        with state.lock:
            if isinstance(value, OrderBook) and value.synced:
                state.book = value
                state.books += 1
                if state.first_book_after is None:
                    state.first_book_after = time.monotonic() - started
            elif isinstance(value, IntegrityEvent) and value.kind != "synced":
                state.integrity[value.kind] = state.integrity.get(value.kind, 0) + 1

    def on_kline(k: Any) -> None:
        if isinstance(k, Kline):
            with state.lock:
                if state.first_bar is None:
                    state.first_bar = k.open_time
                state.klines[k.open_time] = k
                if len(state.klines) > 4 * KLINES_SHOWN + 100:
                    del state.klines[min(state.klines)]

    def on_error(name: str) -> Callable[[Exception], None]:
        def record(exc: Exception) -> None:
            with state.lock:
                state.errors.append(f"{name}: {type(exc).__name__}: {exc}")

        return record

    sim = simulator_class(venue)(seed=seed, tick_interval=tick_interval, symbols=[symbol])
    sim.start()
    cls = client_class(venue)
    rest = {"rest_url": sim.http_url} if "rest_url" in inspect.signature(cls).parameters else {}
    client = cls(url=sim.url, **rest)
    book_depth = _book_depth(client, depth)
    subscriptions = []
    try:
        book = client.book(symbol) if book_depth is None else client.book(symbol, depth=book_depth)
        subscriptions.append(
            book.pipe(ops.order_book(depth=depth, integrity=True)).subscribe(on_book, on_error("book"))
        )
        # the klines' first bucket starts after the subscription: it is partial, not checked
        subscribed_at = time.time()
        subscriptions.append(
            client.trades(symbol)
            # a trade delivered after its bar closed on a loaded machine amends that bar
            .pipe(ops.klines("1s", emit="update", grace=0.5, late="amend"))
            .subscribe(on_kline, on_error("klines"))
        )
        header = (
            f"rxfeeds demo: {venue} simulator at {sim.url}; client rxfeeds.{type(client).__name__}"
            f" -> ops.order_book(depth={depth}), trades -> ops.klines('1s')"
        )
        deadline = None if duration is None else time.monotonic() + duration
        try:
            if live:
                with Live(
                    get_renderable=lambda: _render(state, venue, symbol, sim.url, depth, started),
                    console=console,
                    refresh_per_second=4,
                    transient=False,
                ):
                    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                        stop.wait(0.1)
            else:
                console.print(header, soft_wrap=True, highlight=False)
                next_line = time.monotonic()
                while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                    if time.monotonic() >= next_line:
                        line = _plain_line(state, symbol, started)
                        if line is not None:
                            console.print(line, soft_wrap=True, highlight=False)
                            next_line = time.monotonic() + 1.0
                    stop.wait(0.05)
        except KeyboardInterrupt:
            pass
        return _verify(sim, state, symbol, depth, book_depth, subscribed_at, console)
    finally:
        for s in subscriptions:
            s.dispose()
        client.close()
        sim.stop()


def _book_depth(client: Any, depth: int) -> int | None:
    """The depth to subscribe with: ``depth`` itself, the venue's smallest allowed depth holding it
    (Bybit's 1/50/200/...), or None for a venue whose book channel takes no depth (Binance spot)."""
    if "depth" not in inspect.signature(client.book).parameters:
        return None
    allowed: tuple[int, ...] = tuple(getattr(client, "book_depths", ()))
    if allowed:
        return min((d for d in allowed if d >= depth), default=max(allowed))
    return depth


def _verify(
    sim: Any, state: _State, symbol: str, depth: int, book_depth: int | None, subscribed_at: float, console: Console
) -> DemoResult:
    """Freeze the market, let the client catch up, compare it with the simulator's truth."""
    sim.freeze()

    def truth() -> Any:
        # read again while waiting: a subscription answered after the freeze still sends its book
        # venues that keep one sent book per subscribed depth (Kraken, Bybit), else per symbol
        sent = sim.truth((symbol, book_depth if book_depth is not None else depth))
        return sent if sent.bids or sent.asks else sim.truth(symbol)

    market_candles = sim.call(lambda: {c.open_time: c for c in sim.market(symbol).candles(1.0)})
    market = sim.call(lambda: sim.market(symbol))

    def checked_klines() -> tuple[int, int]:
        # Caller holds state.lock.  The first bar seen may have started before the trades
        # subscription took effect: it is partial, so only later bars are checked.
        first = state.first_bar if state.first_bar is not None else math.inf
        closed = [k for k in state.klines.values() if k.closed and k.open_time >= subscribed_at and k.open_time > first]
        matching = sum(
            1
            for k in closed
            if k.open_time in market_candles and _kline_matches(k, market_candles[k.open_time], market)
        )
        return len(closed), matching

    # The market is frozen: wait (bounded) until the client has caught up with what was sent.
    matches = False
    deadline = time.monotonic() + 10.0
    settled = time.monotonic() + 2.0  # the bar open at the freeze closes by then (1 s + grace)
    while True:
        with state.lock:
            book = state.book
            checked, matching = checked_klines()
        matches = book is not None and _book_matches(book, truth(), depth)
        now = time.monotonic()
        if (matches and checked == matching and (checked > 0 or now >= settled)) or now >= deadline:
            break
        time.sleep(0.05)
    with state.lock:
        checked, matching = checked_klines()
        result = DemoResult(
            books=state.books,
            first_book_after=state.first_book_after,
            klines_checked=checked,
            klines_matching=matching,
            book_matches=matches,
            integrity=dict(state.integrity),
            errors=list(state.errors),
        )
    first = f"{result.first_book_after:.2f} s" if result.first_book_after is not None else "never"
    console.print(
        f"first book after {first}; {result.books} books; integrity events: {result.integrity or 'none'}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"book vs simulator truth (top {depth}): {'match' if result.book_matches else 'MISMATCH'}; "
        f"closed 1s klines vs simulator candles: {result.klines_matching}/{result.klines_checked} match",
        highlight=False,
        soft_wrap=True,
    )
    for err in result.errors:
        console.print(f"error: {err}", highlight=False, soft_wrap=True)
    return result


@click.command("demo")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option(
    "--venue", type=click.Choice(sorted(DEMO_VENUES)), default="kraken", show_default=True, help="Simulated venue."
)
@click.option("--symbol", default=None, help="Symbol: the venue's spelling or BASE/QUOTE (default: its main pair).")
@click.option("--depth", type=click.IntRange(1, 25), default=10, show_default=True, help="Book levels shown.")
@click.option("--seed", type=int, default=0, show_default=True, help="Market seed.")
@click.option("--live/--plain", default=None, help="Force the live view or plain lines (default: live on a terminal).")
def command(duration: float | None, venue: str, symbol: str | None, depth: int, seed: int, live: bool | None) -> None:
    """Run a simulator in-process and show a live book and 1-second klines."""
    try:
        result = run_demo(venue, symbol, duration=duration, depth=depth, seed=seed, live=live)
    except InvalidArgument as exc:
        raise click.UsageError(str(exc)) from None
    if not result.ok:
        raise click.exceptions.Exit(1)

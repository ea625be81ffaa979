"""``rxfeeds watch``: a live terminal view of a venue channel.

Book channels go through ``ops.order_book`` and show the top of each book; trade channels show
the latest trades; candle channels the latest bars; anything else the latest events.  The
socket thread only updates a small state object; the terminal is redrawn from the main thread
four times a second, so a slow terminal never slows the feed.  Without a terminal (pipes, CI)
it prints one line per second.

With ``--bus URL`` the events come from a message bus (``rxfeeds publish`` on another machine)
instead of the venue: each subject starts at its newest snapshot (``start="last"``), so books
are synced at once; without SYMBOLS every symbol published for VENUE CHANNEL is shown.

Example::

    rxfeeds watch kraken book XBT/USD --duration 30
    rxfeeds watch hitbtc trades ETHBTC --url ws://127.0.0.1:8765
    rxfeeds watch kraken book XBT/USD --bus nats://127.0.0.1:4222
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import click

from ..events import BookDelta, BookSnapshot, IntegrityEvent, Kline, Quote, Ticker, Trade
from ._channels import (
    CONNECT_TIMEOUT,
    VenueChoice,
    channels_epilog,
    check_channel,
    connection_options,
    make_client,
    open_channel,
)
from ._connection import ConnectionView
from ._format import describe, difference, level_texts, num

__all__ = ["command", "WatchState"]


class WatchState:
    """What the view shows; written by the socket thread, read by the drawing thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.books: dict[str, Any] = {}
        self.trades: deque[Trade] = deque(maxlen=15)
        self.klines: dict[tuple[str, float], Kline] = {}
        self.other: deque[Any] = deque(maxlen=15)
        self.quotes: dict[str, Quote] = {}
        self.tickers: dict[str, Ticker] = {}
        self.integrity: deque[IntegrityEvent] = deque(maxlen=5)
        #: integrity event kind -> how many (``synced`` not counted: it is the repair, not a fault)
        self.integrity_counts: dict[str, int] = {}
        self.count = 0
        self.error: BaseException | None = None

    def on_next(self, value: Any) -> None:
        with self.lock:
            self.count += 1
            if isinstance(value, IntegrityEvent):
                self.integrity.append(value)
                if value.kind != "synced":
                    self.integrity_counts[value.kind] = self.integrity_counts.get(value.kind, 0) + 1
            elif hasattr(value, "best_bid") and hasattr(value, "symbol"):
                self.books[value.symbol] = value
            elif isinstance(value, Trade):
                self.trades.append(value)
            elif isinstance(value, Kline):
                self.klines[(value.symbol, value.open_time)] = value
                while len(self.klines) > 15:
                    del self.klines[next(iter(self.klines))]
            elif isinstance(value, Quote):
                self.quotes[value.symbol] = value
            elif isinstance(value, Ticker):
                self.tickers[value.symbol] = value
            else:
                self.other.append(value)

    def render(self, title: str, connection: str = "") -> Any:
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        with self.lock:
            parts: list[Any] = []
            for symbol, book in sorted(self.books.items()):
                table = Table(title=f"{symbol}  {'synced' if getattr(book, 'synced', True) else 'NOT SYNCED'}")
                table.add_column("bid size", justify="right")
                table.add_column("bid", justify="right", style="green")
                table.add_column("ask", justify="right", style="red")
                table.add_column("ask size", justify="right")
                bids, asks = _top_levels(book, 10)
                for i in range(max(len(bids), len(asks))):
                    bp, bs = level_texts(bids[i]) if i < len(bids) else ("", "")
                    ap, as_ = level_texts(asks[i]) if i < len(asks) else ("", "")
                    table.add_row(bs, bp, ap, as_)
                if bids and asks:
                    table.caption = f"spread {difference(asks[0][0], bids[0][0])}"
                parts.append(table)
            if self.quotes:
                table = Table(title="best bid / ask")
                for col in ("symbol", "bid size", "bid", "ask", "ask size", "spread", "time"):
                    table.add_column(col, justify="left" if col == "symbol" else "right")
                for symbol, q in sorted(self.quotes.items()):
                    table.add_row(
                        symbol,
                        num(q.bid_size),
                        num(q.bid),
                        num(q.ask),
                        num(q.ask_size),
                        difference(q.ask, q.bid),
                        time.strftime("%H:%M:%S", time.gmtime(q.time)),
                    )
                parts.append(table)
            if self.tickers:
                table = Table(title="ticker")
                columns = ("bid", "ask", "last", "open", "high", "low", "volume", "vwap")
                table.add_column("symbol")
                for col in columns:
                    table.add_column(col, justify="right")
                for symbol, tk in sorted(self.tickers.items()):
                    table.add_row(symbol, *(num(getattr(tk, col)) for col in columns))
                parts.append(table)
            if self.trades:
                table = Table(title="trades")
                for col in ("time", "symbol", "side", "price", "size"):
                    table.add_column(col)
                for t in reversed(self.trades):
                    table.add_row(
                        time.strftime("%H:%M:%S", time.gmtime(t.time)),
                        t.symbol,
                        t.side or "",
                        num(t.price),
                        num(t.size),
                    )
                parts.append(table)
            if self.klines:
                table = Table(title="klines")
                for col in ("open time", "symbol", "open", "high", "low", "close", "volume", "closed"):
                    table.add_column(col)
                for k in list(self.klines.values())[::-1]:
                    table.add_row(
                        time.strftime("%H:%M:%S", time.gmtime(k.open_time)),
                        k.symbol,
                        num(k.open),
                        num(k.high),
                        num(k.low),
                        num(k.close),
                        num(k.volume),
                        "yes" if k.closed else "",
                    )
                parts.append(table)
            for v in list(self.other)[-5:]:
                parts.append(describe(v))
            for ev in self.integrity:
                parts.append(f"[yellow]{escape(f'{ev.symbol}: {ev.kind} {ev.detail}')}[/yellow]")
            # escaped: "[kraken open]" would otherwise be read as a rich markup tag and vanish
            parts.append(escape(f"{title}: {self.count} updates" + (f"  [{connection}]" if connection else "")))
            return Group(*parts)

    def line(self) -> str:
        with self.lock:
            if self.books:
                tops = []
                for symbol, book in sorted(self.books.items()):
                    bids, asks = _top_levels(book, 1)
                    bid = level_texts(bids[0])[0] if bids else "-"
                    ask = level_texts(asks[0])[0] if asks else "-"
                    synced = "" if getattr(book, "synced", True) else " (not synced)"
                    tops.append(f"{symbol} {bid} / {ask}{synced}")
                faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.integrity_counts.items()))
                return f"{self.count} updates; " + "; ".join(tops) + (f"; integrity: {faults}" if faults else "")
            if self.quotes:
                quotes = [
                    f"{q.symbol} {num(q.bid)} / {num(q.ask)} spread {difference(q.ask, q.bid)}"
                    for _, q in sorted(self.quotes.items())
                ]
                return f"{self.count} updates; " + "; ".join(quotes)
            if self.tickers:
                tickers = [
                    f"{tk.symbol} last {num(tk.last) or '-'} bid {num(tk.bid) or '-'} ask {num(tk.ask) or '-'}"
                    f" volume {num(tk.volume) or '-'}"
                    for _, tk in sorted(self.tickers.items())
                ]
                return f"{self.count} updates; " + "; ".join(tickers)
            if self.trades:
                t = self.trades[-1]
                return f"{self.count} updates; last trade {t.symbol} {t.side or ''} {num(t.size)} @ {num(t.price)}"
            if self.klines:
                k = next(reversed(self.klines.values()))
                return (
                    f"{self.count} updates; kline {k.symbol} {k.interval}"
                    f" {time.strftime('%H:%M', time.gmtime(k.open_time))}"
                    f" o={num(k.open)} h={num(k.high)} l={num(k.low)} c={num(k.close)} v={num(k.volume)}"
                    + (" closed" if k.closed else "")
                )
            if self.other:
                return f"{self.count} updates; last {describe(self.other[-1])}"
            return f"{self.count} updates"


def _top_levels(book: Any, n: int) -> tuple[Sequence[Any], Sequence[Any]]:
    """The best ``n`` levels of each side, with the venue's texts when the book keeps them."""
    depth = getattr(book, "depth", None)
    n = min(n, depth) if depth else n
    if hasattr(book, "levels"):
        bids, asks = book.levels()
        return bids[:n], asks[:n]
    return book.bids[:n], book.asks[:n]


def _pipeline(observable: Any) -> Any:
    """Books are rebuilt; every other stream is shown as it comes."""
    import reactivex
    from reactivex import operators as rx_ops

    from ..ops import order_book

    shared = observable.pipe(rx_ops.share())
    books = shared.pipe(rx_ops.filter(lambda e: isinstance(e, (BookSnapshot, BookDelta))))
    rest = shared.pipe(rx_ops.filter(lambda e: not isinstance(e, (BookSnapshot, BookDelta))))

    return reactivex.merge(books.pipe(order_book(integrity=True)), rest)


def _bus_source(
    bus_url: str, stream: str, prefix: str, venue: str, channel: str, symbols: tuple[str, ...]
) -> tuple[Any, Any]:
    """The bus and the merged sources of the symbols (from each one's newest snapshot)."""
    import reactivex

    from ..bus import connect
    from ..errors import RxfeedsError

    try:
        bus = connect(bus_url, stream=stream, prefix=prefix)
    except RxfeedsError as exc:
        click.echo(f"watch failed: {exc}", err=True)
        sys.exit(1)
    if not symbols:
        return bus, bus.source(venue, None, channel, start="last")
    return bus, reactivex.merge(*[bus.source(venue, s, channel, start="last") for s in symbols])


@click.command("watch", epilog=channels_epilog())
@click.argument("venue", type=VenueChoice())
@click.argument("channel")
@click.argument("symbols", nargs=-1)
@click.option("--url", help="Websocket URL (default: the venue's production endpoint).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@connection_options
@click.option("--bus", "bus_url", help="Read from a message bus (e.g. nats://127.0.0.1:4222) instead of the venue.")
@click.option("--stream", default="RXFEEDS", show_default=True, help="JetStream stream name (with --bus).")
@click.option("--prefix", default="rxfeeds", show_default=True, help="Subject prefix (with --bus).")
def command(
    venue: str,
    channel: str,
    symbols: tuple[str, ...],
    url: str | None,
    duration: float | None,
    rest_url: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    bus_url: str | None = None,
    stream: str = "RXFEEDS",
    prefix: str = "rxfeeds",
) -> None:
    """Show CHANNEL of SYMBOL(s) on VENUE live in the terminal until Ctrl-C (or --duration)."""
    if not symbols and not bus_url:
        raise click.UsageError("Missing argument 'SYMBOLS...' (only --bus may watch every symbol).")
    state = WatchState()
    done = threading.Event()
    failure: list[str] = []
    client: Any = None
    bus: Any = None
    connection: Any = None
    if bus_url:
        bus, source = _bus_source(bus_url, stream, prefix, venue, channel, symbols)
    else:
        check_channel(venue, channel)  # before any client exists: a trading call never gets one
        client = make_client(venue, url, rest_url=rest_url)
        connection = ConnectionView(client)
        source = open_channel(client, channel, symbols)

    def on_error(exc: Exception) -> None:
        state.error = exc
        done.set()

    subscription = _pipeline(source).subscribe(state.on_next, on_error, done.set)
    started = time.monotonic()
    title = f"{venue} {channel} {' '.join(symbols)}"

    def status() -> str:
        return f"bus {bus_url}" if connection is None else str(connection.line())

    def stop_now() -> bool:
        elapsed = time.monotonic() - started
        problem = None if connection is None else connection.never_connected(elapsed, connect_timeout)
        if problem is not None:
            failure.append(problem)
            return True
        wrong = None if connection is None else connection.wrong_protocol(venue, elapsed, connect_timeout, state.count)
        if wrong is not None:
            failure.append(wrong)
            return True
        return duration is not None and elapsed >= duration

    try:
        if sys.stdout.isatty():
            from rich.live import Live

            with Live(state.render(title, status()), refresh_per_second=4) as live:
                while not done.wait(0.25):
                    live.update(state.render(title, status()))
                    if stop_now():
                        break
        else:
            while not done.wait(1.0):
                click.echo(f"{status()} | {state.line()}")
                if stop_now():
                    break
    except KeyboardInterrupt:
        pass
    finally:
        subscription.dispose()
        if connection is not None:
            connection.dispose()
        if client is not None:
            client.close()
        if bus is not None:
            bus.close()
    if state.error is not None:
        raise click.ClickException(f"watch failed: {state.error}")
    if failure:
        raise click.ClickException(f"watch failed: {failure[0]}")

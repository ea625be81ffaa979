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
from typing import Any

import click

from ..events import BookDelta, BookSnapshot, IntegrityEvent, Kline, Trade
from ..venues import VENUES
from ._channels import make_client, open_channel

__all__ = ["command", "WatchState"]


class WatchState:
    """What the view shows; written by the socket thread, read by the drawing thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.books: dict[str, Any] = {}
        self.trades: deque[Trade] = deque(maxlen=15)
        self.klines: dict[tuple[str, float], Kline] = {}
        self.other: deque[Any] = deque(maxlen=15)
        self.integrity: deque[IntegrityEvent] = deque(maxlen=5)
        self.count = 0
        self.error: BaseException | None = None

    def on_next(self, value: Any) -> None:
        with self.lock:
            self.count += 1
            if isinstance(value, IntegrityEvent):
                self.integrity.append(value)
            elif hasattr(value, "best_bid") and hasattr(value, "symbol"):
                self.books[value.symbol] = value
            elif isinstance(value, Trade):
                self.trades.append(value)
            elif isinstance(value, Kline):
                self.klines[(value.symbol, value.open_time)] = value
                while len(self.klines) > 15:
                    del self.klines[next(iter(self.klines))]
            else:
                self.other.append(value)

    def render(self, title: str) -> Any:
        from rich.console import Group
        from rich.table import Table

        with self.lock:
            parts: list[Any] = []
            for symbol, book in sorted(self.books.items()):
                table = Table(title=f"{symbol}  {'synced' if getattr(book, 'synced', True) else 'NOT SYNCED'}")
                table.add_column("bid size", justify="right")
                table.add_column("bid", justify="right", style="green")
                table.add_column("ask", justify="right", style="red")
                table.add_column("ask size", justify="right")
                bids, asks = book.top(10) if hasattr(book, "top") else (book.bids[:10], book.asks[:10])
                for i in range(max(len(bids), len(asks))):
                    b = bids[i] if i < len(bids) else None
                    a = asks[i] if i < len(asks) else None
                    table.add_row(
                        f"{b[1]:g}" if b else "",
                        f"{b[0]:g}" if b else "",
                        f"{a[0]:g}" if a else "",
                        f"{a[1]:g}" if a else "",
                    )
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
                        f"{t.price:g}",
                        f"{t.size:g}",
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
                        f"{k.open:g}",
                        f"{k.high:g}",
                        f"{k.low:g}",
                        f"{k.close:g}",
                        f"{k.volume:g}",
                        "yes" if k.closed else "",
                    )
                parts.append(table)
            for v in list(self.other)[-5:]:
                parts.append(str(v)[:200])
            for ev in self.integrity:
                parts.append(f"[yellow]{ev.symbol}: {ev.kind} {ev.detail}[/yellow]")
            parts.append(f"{title}: {self.count} updates")
            return Group(*parts)

    def line(self) -> str:
        with self.lock:
            if self.books:
                tops = []
                for symbol, book in sorted(self.books.items()):
                    bid, ask = getattr(book, "best_bid", None), getattr(book, "best_ask", None)
                    tops.append(f"{symbol} {bid[0] if bid else '-'} / {ask[0] if ask else '-'}")
                return f"{self.count} updates; " + "; ".join(tops)
            if self.trades:
                t = self.trades[-1]
                return f"{self.count} updates; last trade {t.symbol} {t.side or ''} {t.size:g} @ {t.price:g}"
            return f"{self.count} updates"


def _pipeline(observable: Any) -> Any:
    """Books are rebuilt; every other stream is shown as it comes."""
    import reactivex
    from reactivex import operators as rx_ops

    from ..ops import order_book

    shared = observable.pipe(rx_ops.share())
    books = shared.pipe(rx_ops.filter(lambda e: isinstance(e, (BookSnapshot, BookDelta))))
    rest = shared.pipe(rx_ops.filter(lambda e: not isinstance(e, (BookSnapshot, BookDelta))))

    return reactivex.merge(books.pipe(order_book()), rest)


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


@click.command("watch")
@click.argument("venue", type=click.Choice(list(VENUES)))
@click.argument("channel")
@click.argument("symbols", nargs=-1)
@click.option("--url", help="Websocket URL (default: the venue's production endpoint).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--bus", "bus_url", help="Read from a message bus (e.g. nats://127.0.0.1:4222) instead of the venue.")
@click.option("--stream", default="RXFEEDS", show_default=True, help="JetStream stream name (with --bus).")
@click.option("--prefix", default="rxfeeds", show_default=True, help="Subject prefix (with --bus).")
def command(
    venue: str,
    channel: str,
    symbols: tuple[str, ...],
    url: str | None,
    duration: float | None,
    bus_url: str | None,
    stream: str,
    prefix: str,
) -> None:
    """Show CHANNEL of SYMBOL(s) on VENUE live in the terminal until Ctrl-C (or --duration)."""
    if not symbols and not bus_url:
        raise click.UsageError("Missing argument 'SYMBOLS...' (only --bus may watch every symbol).")
    state = WatchState()
    done = threading.Event()
    client: Any = None
    bus: Any = None
    if bus_url:
        bus, source = _bus_source(bus_url, stream, prefix, venue, channel, symbols)
    else:
        client = make_client(venue, url)
        source = open_channel(client, channel, symbols)

    def on_error(exc: Exception) -> None:
        state.error = exc
        done.set()

    subscription = _pipeline(source).subscribe(state.on_next, on_error, done.set)
    started = time.monotonic()
    title = f"{venue} {channel} {' '.join(symbols)}"
    try:
        if sys.stdout.isatty():
            from rich.live import Live

            with Live(state.render(title), refresh_per_second=4) as live:
                while not done.wait(0.25):
                    live.update(state.render(title))
                    if duration is not None and time.monotonic() - started >= duration:
                        break
        else:
            while not done.wait(1.0):
                click.echo(state.line())
                if duration is not None and time.monotonic() - started >= duration:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        subscription.dispose()
        if client is not None:
            client.close()
        if bus is not None:
            bus.close()
    if state.error is not None:
        click.echo(f"watch failed: {state.error}", err=True)
        sys.exit(1)

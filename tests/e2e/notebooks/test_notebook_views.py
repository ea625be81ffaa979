"""``rxfeeds.notebook`` in-process: live views over real sockets, pictures, pandas and HTML helpers.

The live views run against a Kraken simulator on 127.0.0.1 through the real client stack; the
drawn book is compared with the simulator's own truth and the rendered PNGs are decoded and
checked for the bid/ask/candle colours (headless: Agg figures, no pyplot).
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import reactivex as rx
from reactivex.subject import Subject

from rxfeeds.books.book import OrderBook
from rxfeeds.books.side import BookSide
from rxfeeds.errors import InvalidArgument
from rxfeeds.events import BookDelta, BookSnapshot, Kline, Trade
from tests.helpers import wait_until

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")
pytest.importorskip("IPython")

from rxfeeds import notebook as nb  # noqa: E402  (after the optional-dependency skips)

SYMBOL, DEPTH = "XBT/USD", 25


def _book(venue: str, symbol: str, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> OrderBook:
    bid_side, ask_side = BookSide(descending=True), BookSide(descending=False)
    for p, s in bids:
        bid_side.set(p, s, repr(p), repr(s), "")
    for p, s in asks:
        ask_side.set(p, s, repr(p), repr(s), "")
    return OrderBook(venue, symbol, 1.0, 1.0, bid_side.freeze(), ask_side.freeze(), synced=True)


def _kline(open_time: float, close: float, *, closed: bool = True, volume: float = 1.0) -> Kline:
    return Kline(
        "sim",
        "BTC",
        open_time + 0.5,
        open_time + 0.5,
        interval="1s",
        open_time=open_time,
        close_time=open_time + 1.0,
        open=10.0,
        high=max(10.0, close) + 1.0,
        low=min(10.0, close) - 1.0,
        close=close,
        volume=volume,
        trades=3,
        closed=closed,
    )


def _colour_pixels(png: bytes) -> tuple[int, int, float]:
    """(greenish, reddish, std) of a PNG: the bid/up colour, the ask/down colour, overall variation."""
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png), format="png")[..., :3]
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    green = int(np.count_nonzero((g > r + 0.05) & (g > b + 0.03)))
    red = int(np.count_nonzero((r > g + 0.08) & (r > b + 0.08)))
    return green, red, float(pixels.std())


@pytest.fixture
def kraken() -> Iterator[tuple[Any, Any]]:
    import rxfeeds
    from rxfeeds.sim.kraken import KrakenSim

    with KrakenSim(symbols=[SYMBOL], tick_interval=0.05) as sim:
        client = rxfeeds.Kraken(url=sim.url)
        try:
            yield sim, client
        finally:
            client.close()


# ----------------------------------------------------------------------------- live, real sockets


def test_depth_chart_draws_the_simulators_book(kraken: tuple[Any, Any], tmp_path: Any) -> None:
    sim, client = kraken
    chart = nb.DepthChart(client.book(SYMBOL, depth=DEPTH), depth=DEPTH, display=False).start()
    try:
        wait_until(lambda: chart.books >= 5, timeout=15)
        sim.freeze()
        truth = sim.truth((SYMBOL, DEPTH))
        want = (
            tuple((p, s) for p, s, *_ in truth.bids[:DEPTH]),
            tuple((p, s) for p, s, *_ in truth.asks[:DEPTH]),
        )
        wait_until(lambda: chart.book is not None and chart.book.top(DEPTH) == want, timeout=10)
        assert chart.refresh(force=True)
        assert chart.error is None and chart.integrity == {}
        green, red, std = _colour_pixels(chart.png)
        pixels = chart.figure.bbox.width * chart.figure.bbox.height
        assert std > 0.05
        assert green > pixels * 0.01 and red > pixels * 0.01, (green, red, pixels)
        path = tmp_path / "depth.png"
        chart.save(str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        chart.stop()
    assert not chart.running


def test_candlestick_chart_builds_candles_from_trades_and_draws_them(kraken: tuple[Any, Any]) -> None:
    _, client = kraken
    chart = nb.CandlestickChart(client.trades(SYMBOL), interval="1s", display=False).start()
    try:
        wait_until(lambda: len(chart.klines) >= 2, timeout=15)
        chart.refresh(force=True)
    finally:
        chart.stop()
    bars = list(chart.klines.values())
    assert all(k.symbol == SYMBOL and k.interval == "1s" for k in bars)
    assert all(k.low <= min(k.open, k.close) and k.high >= max(k.open, k.close) for k in bars)
    green, red, std = _colour_pixels(chart.png)
    assert std > 0.05 and green + red > 200  # candle bodies and volume bars


def test_run_for_redraws_only_on_news_and_stops(kraken: tuple[Any, Any]) -> None:
    _, client = kraken
    table = nb.trades_table(client.trades(SYMBOL), rows=5, seconds=1.5, display=False)
    assert not table.running
    assert table.count > 0 and len(table.trades) == min(5, table.count)
    frames = table.frames
    assert not table.refresh()  # nothing new after stop
    assert table.frames == frames
    assert table.html.count("<tr>") == len(table.trades) + 1  # header + rows
    assert table._repr_html_() == table.html  # never displayed (display=False): the cell result shows it
    assert repr(table).startswith("TradesTable(") and "stopped" in repr(table)
    buys = sum(t.size for t in table.trades if t.side == "buy")
    assert table.buy_volume >= buys


def test_several_views_run_together(kraken: tuple[Any, Any]) -> None:
    _, client = kraken
    depth = nb.DepthChart(client.book(SYMBOL, depth=10), depth=10, display=False)
    candles = nb.CandlestickChart(client.trades(SYMBOL), interval="1s", display=False)
    nb.run_for(1.5, depth, candles)
    assert depth.books > 0 and candles.klines
    assert not depth.running and not candles.running


def test_collect_gathers_a_count_or_for_a_time(kraken: tuple[Any, Any]) -> None:
    _, client = kraken
    trades = nb.collect(client.trades(SYMBOL), count=3, seconds=15)
    assert len(trades) == 3 and all(isinstance(t, Trade) for t in trades)
    from rxfeeds import ops

    books = nb.collect(
        client.book(SYMBOL, depth=10).pipe(ops.order_book(depth=10)),
        count=2,
        seconds=15,
        where=lambda v: isinstance(v, OrderBook),
    )
    assert len(books) == 2 and all(b.synced for b in books)


# ----------------------------------------------------------------------------- without sockets


def test_run_for_returns_when_the_source_completes_and_shows_errors() -> None:
    events = [
        BookSnapshot("demo", "X", 1.0, 1.0, bids=((99.0, 1.0, "", ""),), asks=((101.0, 1.0, "", ""),)),
        BookDelta("demo", "X", 2.0, 2.0, bids=((100.0, 3.0, "", ""),), asks=()),
    ]
    from rxfeeds import ops

    chart = nb.DepthChart(rx.from_iterable(events).pipe(ops.order_book()), display=False)
    chart.run_for(60)  # completes immediately: must not wait 60 s
    assert chart.completed and chart.books == 2
    assert chart.book is not None and chart.book.best_bid == (100.0, 3.0)

    failing = nb.TradesTable(rx.throw(RuntimeError("boom")), display=False)
    failing.run_for(60)
    assert isinstance(failing.error, RuntimeError)
    assert "boom" in failing.html


def test_collect_raises_the_sources_error_and_checks_arguments() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        nb.collect(rx.throw(RuntimeError("boom")), seconds=5)
    assert nb.collect(rx.of(1, 2, 3), seconds=5) == [1, 2, 3]
    with pytest.raises(InvalidArgument):
        nb.collect(rx.of(1))
    with pytest.raises(InvalidArgument):
        nb.collect(rx.of(1), seconds=-1)
    with pytest.raises(InvalidArgument):
        nb.collect(rx.of(1), count=0)
    with pytest.raises(InvalidArgument):
        nb.DepthChart(rx.of(1), fps=0)
    with pytest.raises(InvalidArgument):
        nb.DepthChart("not an observable")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        nb.run_for(1)


def test_values_from_another_thread_are_conflated_and_drawn_on_the_callers_thread() -> None:
    subject: Subject[Any] = Subject()
    table = nb.TradesTable(subject, rows=3, display=False).start()
    drew_on: list[int] = []
    render = table._render

    def spy() -> Any:
        drew_on.append(threading.get_ident())
        return render()

    table._render = spy  # type: ignore[method-assign]
    sizes = [float(i) for i in range(1, 11)]

    def produce() -> None:
        for i, size in enumerate(sizes):
            subject.on_next(Trade("sim", "BTC", float(i), float(i), price=100.0 + i, size=size, side="buy"))

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join()
    assert table.refresh()
    table.stop()
    assert [t.size for t in table.trades] == sizes[-3:]
    assert table.count == 10 and table.buy_volume == sum(sizes)
    assert set(drew_on) == {threading.get_ident()}


def test_on_kernel_delivers_on_the_loops_thread() -> None:
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, daemon=True)
    loop_thread.start()
    try:
        seen: list[tuple[int, int]] = []
        done = threading.Event()
        subject: Subject[int] = Subject()
        subject.pipe(nb.on_kernel(loop)).subscribe(
            lambda v: seen.append((v, threading.get_ident())), on_completed=done.set
        )

        def produce() -> None:
            subject.on_next(1)
            subject.on_next(2)
            subject.on_completed()

        producer = threading.Thread(target=produce)
        producer.start()
        producer.join()
        assert done.wait(5)
        assert [v for v, _ in seen] == [1, 2]
        assert {t for _, t in seen} == {loop_thread.ident}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(5)
        loop.close()
    with pytest.raises(InvalidArgument):
        nb.on_kernel()  # no running loop in this thread


def test_klines_to_dataframe_keeps_the_last_version_of_each_bar() -> None:
    bars = [_kline(0.0, 11.0, closed=False), _kline(1.0, 9.0), _kline(0.0, 12.0, volume=2.0)]
    df = nb.klines_to_dataframe(bars)
    assert list(df.index) == [pd.Timestamp(0, unit="s", tz="UTC"), pd.Timestamp(1, unit="s", tz="UTC")]
    assert list(df["close"]) == [12.0, 9.0] and list(df["volume"]) == [2.0, 1.0]
    assert list(df["closed"]) == [True, True]
    assert nb.to_dataframe(bars).equals(df)


def test_trades_to_dataframe_and_generic_events() -> None:
    trades = [
        Trade("sim", "BTC", 10.0 + i, 10.5 + i, price=100.0 + i, size=0.5 * i, side=("buy", "sell")[i % 2])
        for i in range(6)
    ]
    df = nb.trades_to_dataframe(trades)
    assert len(df) == 6 and df["size"].sum() == pytest.approx(sum(t.size for t in trades))
    assert df.groupby("side")["size"].sum()["sell"] == pytest.approx(0.5 + 1.5 + 2.5)
    assert df.index[0] == pd.Timestamp(10.0, unit="s", tz="UTC")
    mixed = nb.to_dataframe([trades[0], _kline(0.0, 11.0)])
    assert list(mixed["type"]) == ["Trade", "Kline"]


def test_book_to_dataframe_cumulates_from_the_touch() -> None:
    book = _book("sim", "BTC", [(99.0, 1.0), (98.0, 2.0), (97.0, 4.0)], [(101.0, 0.5), (102.0, 1.5)])
    df = nb.book_to_dataframe(book)
    bids = df[df.side == "bid"]
    asks = df[df.side == "ask"]
    assert list(bids.price) == [99.0, 98.0, 97.0] and list(bids.cumulative) == [1.0, 3.0, 7.0]
    assert list(asks.price) == [101.0, 102.0] and list(asks.cumulative) == [0.5, 2.0]
    assert len(nb.book_to_dataframe(book, depth=1)) == 2
    assert nb.to_dataframe(book).equals(df)


def test_html_views_escape_and_show_the_levels() -> None:
    book = _book("sim", "<b>X</b>", [(99.0, 1.0)], [(101.0, 2.0)])
    html = book._repr_html_()
    assert "<b>X</b>" not in html and "&lt;b&gt;X&lt;/b&gt;" in html
    assert html.index("99") < html.index("101") and "spread 2" in html
    kline = _kline(0.0, 12.0)
    assert "12" in nb.kline_html(kline) and "closed" in nb.kline_html(kline)
    assert nb.trades_html([Trade("sim", "BTC", 1.0, 1.0, price=5.25, size=1.0, side="sell")]).count("5.25") == 1


def test_formatters_render_klines_and_trades_in_ipython() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    formatter: Any = shell.display_formatter
    try:
        assert nb.register_formatters(shell)
        data, _ = formatter.format(_kline(0.0, 12.0))
        assert "<table" in data["text/html"]
        data, _ = formatter.format([_kline(0.0, 12.0), _kline(1.0, 9.0)])
        assert data["text/html"].count("<tr>") == 3
        data, _ = formatter.format([1, 2])
        assert "text/html" not in data  # other lists keep their plain repr
    finally:
        InteractiveShell.clear_instance()  # later tests must not see a running IPython


def test_stop_button_stops_a_running_view() -> None:
    pytest.importorskip("ipywidgets")
    subject: Subject[Any] = Subject()
    table = nb.TradesTable(subject, display=False).start()
    button = table.stop_button()
    assert table.running and len(subject.observers) == 1
    button.click()
    assert not table.running and subject.observers == []
    assert button.disabled


def test_background_redraws_run_on_the_asyncio_loop_and_stop_after_a_drawing_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subject: Subject[Any] = Subject()
    table = nb.TradesTable(subject, display=False, fps=50)

    def trade(i: int) -> Trade:
        return Trade("sim", "BTC", float(i), float(i), price=100.0 + i, size=1.0, side="buy")

    async def until(condition: Any, timeout: float = 5.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def main() -> tuple[int, int]:
        table.start()
        for i in range(3):
            subject.on_next(trade(i))
            assert await until(lambda i=i: table.count == i + 1 and table.frames >= i + 2)

        def broken() -> Any:
            raise RuntimeError("drawing bug")

        table._render = broken  # type: ignore[method-assign]
        subject.on_next(trade(3))
        assert await until(lambda: "drawing bug" in caplog.text)
        frames = table.frames
        subject.on_next(trade(4))
        await asyncio.sleep(0.2)  # several tick periods: no more attempts (no new log records)
        return frames, len([r for r in caplog.records if r.name == "rxfeeds.notebook"])

    with caplog.at_level("ERROR", logger="rxfeeds.notebook"):
        frames, errors = asyncio.run(main())
    assert errors == 1 and table.frames == frames
    table.stop()  # still stops cleanly (the final frame's failure is logged)
    assert not table.running and subject.observers == []


# --- issue 18 item 8: notebook glitches -------------------------------------------------------------


def test_a_stopped_view_says_stopped_even_when_nothing_arrived_since_the_last_frame() -> None:
    subject: Subject[Any] = Subject()
    table = nb.TradesTable(subject, rows=5, display=False)
    table.start()
    subject.on_next(Trade("kraken", "XBT/USD", 1.0, 1.0, price=1.0, size=2.0, side="buy"))
    assert table.refresh() and "live" in table.html
    table.stop()
    assert "stopped" in table.html and "| live" not in table.html


def _label_clear_of_ticks(chart: Any) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = chart.figure
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        label = ax.yaxis.label.get_window_extent(renderer)
        low, high = sorted(ax.get_ylim())
        ticks = [
            t.get_window_extent(renderer)
            for t in ax.get_yticklabels()
            if t.get_text() and low <= t.get_position()[1] <= high  # labels outside the view are not drawn
        ]
        assert ticks
        assert label.x0 >= 0, f"{ax.yaxis.label.get_text()!r} label cut off at the left edge ({label.x0:.1f} px)"
        assert all(label.x1 <= t.x0 for t in ticks), "the axis label overlaps the tick labels"


def test_candle_chart_axis_labels_stay_inside_the_picture() -> None:
    bars = [
        Kline("kraken", "XBT/USD", float(i), float(i), interval="1s", open_time=1.7e9 + i, close_time=1.7e9 + i + 1,
              open=50000.12345 + i * 0.01, high=50000.5 + i * 0.01, low=49999.8, close=50000.2 + i * 0.01,
              volume=1234.5 + i)
        for i in range(30)
    ]  # fmt: skip
    chart = nb.CandlestickChart(rx.from_iterable(bars), display=False).run_for(5)
    _label_clear_of_ticks(chart)


def test_depth_chart_axis_labels_stay_inside_the_picture() -> None:
    book = _book(
        "kraken", "XBT/USD", [(100.0 - i, 123456.0) for i in range(20)], [(101.0 + i, 99999.0) for i in range(20)]
    )
    chart = nb.DepthChart(rx.of(book), display=False).run_for(5)
    _label_clear_of_ticks(chart)

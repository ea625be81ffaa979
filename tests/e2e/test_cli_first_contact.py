"""What a new user meets on the command line: visible connection state, non-zero exits, and
one-line errors instead of tracebacks (issue 18 items 3 and 4)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import reactivex as rx
from click.testing import CliRunner

import rxfeeds
from rxfeeds.cli import cli, main
from rxfeeds.errors import InvalidArgument
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.transport.backoff import Backoff
from tests.helpers import ROOT, wait_until
from tests.support.cli import SimProcess

pytestmark = pytest.mark.timeout(120)

# nothing listens on port 1 (a privileged port): every connection attempt is refused at once
DEAD = "ws://127.0.0.1:1"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- never connects: state shown, exit 1 --------------------------------------------------------


def test_watch_that_never_connects_shows_the_state_and_exits_1() -> None:
    result = invoke("watch", "kraken", "book", "XBT/USD", "--url", DEAD, "--connect-timeout", "4")
    assert result.exit_code == 1, result.output
    assert "reconnecting in" in result.output and "Connection refused" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: watch failed: could not connect to ws://127.0.0.1:1 within 4 s"), last
    assert "check --url" in last


def test_record_that_never_connects_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = invoke("record", "kraken", "book", "XBT/USD", "-o", str(out), "--url", DEAD, "--connect-timeout", "2")
    assert result.exit_code == 1, result.output
    assert "record failed: could not connect to ws://127.0.0.1:1" in result.output


def test_watch_shows_the_open_connection() -> None:
    with KrakenSim(seed=5, tick_interval=0.02) as sim:
        result = invoke("watch", "kraken", "book", "XBT/USD", "--duration", "2.5", "--url", sim.url)
    assert result.exit_code == 0, result.output
    assert "kraken open | " in result.output.strip().splitlines()[-1]


def test_the_library_logs_each_reconnect_at_warning_with_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rxfeeds.transport")
    kraken = rxfeeds.Kraken(url=DEAD, backoff=Backoff(initial=0.01, max_delay=0.05))
    sub = kraken.trades("XBT/USD").subscribe(lambda _: None, lambda _: None)
    try:

        def reconnects() -> list[logging.LogRecord]:
            return [r for r in caplog.records if r.levelno == logging.WARNING and "reconnecting in" in r.getMessage()]

        wait_until(lambda: len(reconnects()) >= 2, timeout=30)
        assert "Connection refused" in reconnects()[0].getMessage()
        assert reconnects()[0].getMessage().startswith("kraken: ")
    finally:
        sub.dispose()
        kraken.close()


# --- misuse: one line naming the problem and the fix, exit 2 ------------------------------------


@pytest.mark.parametrize("url", ["not-a-url", "http://127.0.0.1:8765"])
def test_a_url_that_is_no_websocket_url_is_one_line(url: str) -> None:
    assert_one_line_error(invoke("watch", "kraken", "book", "XBT/USD", "--url", url), 2, f"--url {url!r}", "ws://")


def test_bitshares_market_without_quote_is_one_line() -> None:
    result = invoke("watch", "bitshares", "book", "BTS", "--url", DEAD)
    assert_one_line_error(result, 2, "SYMBOL 'BTS'", "BTS:USD")


def test_midchains_symbol_in_the_wrong_form_is_one_line() -> None:
    # BTC/USD is the common BASE/QUOTE notation (mapped to BTCUSD); btcusd is neither spelling
    result = invoke("watch", "midchains", "book", "btcusd", "--url", DEAD)
    assert_one_line_error(result, 2, "SYMBOL 'btcusd'", "BTCUSD")


def test_a_malformed_pair_is_one_line_naming_the_notation() -> None:
    result = invoke("watch", "kraken", "book", "BTC/USD/EUR", "--url", DEAD)
    assert_one_line_error(result, 2, "SYMBOL 'BTC/USD/EUR'", "BASE/QUOTE")


def test_record_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.jsonl"
    result = invoke("record", "kraken", "book", "XBT/USD", "-o", str(target), "--url", DEAD)
    assert_one_line_error(result, 2, str(target), "does not exist", "create it")
    assert not target.parent.exists()


def test_unknown_channel_is_one_line() -> None:
    assert_one_line_error(invoke("watch", "kraken", "nonsense", "XBT/USD", "--url", DEAD), 2, "choose one of", "book")


def test_rest_url_for_a_venue_without_rest_is_one_line() -> None:
    result = invoke("watch", "kraken", "book", "XBT/USD", "--url", DEAD, "--rest-url", "http://127.0.0.1:1")
    assert_one_line_error(result, 2, "--rest-url", "kraken")


def test_debug_shows_the_traceback_instead() -> None:
    result = invoke("--debug", "watch", "kraken", "book", "XBT/USD", "--url", "not-a-url")
    assert isinstance(result.exception, InvalidArgument)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "from rxfeeds.cli import main; main()"
    args = ["watch", "kraken", "book", "XBT/USD", "--url", "not-a-url"]
    plain = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60)
    debug = subprocess.run(
        [sys.executable, "-c", code, *args, "--debug"], env=env, capture_output=True, text=True, timeout=60
    )
    assert plain.returncode == 2 and plain.stderr.strip().count("\n") == 0 and "Traceback" not in plain.stderr
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "InvalidArgument" in debug.stderr


def test_main_moves_debug_to_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidArgument):
        main(["watch", "kraken", "book", "XBT/USD", "--url", "not-a-url", "--debug"])


# --- replay: the venue is read from the capture --------------------------------------------------


def kraken_capture(tmp_path: Path, url: str) -> Path:
    """A plain-text capture of a few Kraken v1 trade frames received from ``url``."""
    trade = '[0,[["50000.1","0.5","1618678133.1","b","l",""]],"trade","XBT/USD"]'
    lines = [f"{url} <-> 1618678132.0"] + [f"{1618678133.0 + i}: {trade}" for i in range(5)]
    path = tmp_path / "k.capture"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_with_a_venue_the_capture_contradicts_exits_2_naming_the_right_one(tmp_path: Path) -> None:
    capture = kraken_capture(tmp_path, "wss://ws.kraken.com")
    result = invoke("replay", str(capture), "--venue", "hitbtc", "--json")
    assert_one_line_error(result, 2, "--venue hitbtc", "recorded from kraken", "--venue kraken")


def test_replay_infers_the_venue_from_the_capture(tmp_path: Path) -> None:
    capture = kraken_capture(tmp_path, "wss://ws.kraken.com")
    result = invoke("replay", str(capture), "--json")
    assert result.exit_code == 0, result.output
    assert '"venue": "kraken"' in result.output and '"Trade": 5' in result.output


def test_replay_infers_the_venue_from_a_recorded_header(tmp_path: Path) -> None:
    with KrakenSim(seed=5, tick_interval=0.02) as sim:
        out = tmp_path / "rec.jsonl"
        recorded = invoke(
            "record", "kraken", "trades", "XBT/USD", "-o", str(out), "--url", sim.url, "--duration", "1.5"
        )
    assert recorded.exit_code == 0, recorded.output
    result = invoke("replay", str(out), "--venue", "hitbtc-v3")
    assert_one_line_error(result, 2, "recorded from kraken (its header)")


def test_replay_of_an_unlabelled_capture_that_never_decodes_exits_1(tmp_path: Path) -> None:
    capture = kraken_capture(tmp_path, "ws://127.0.0.1:8765")  # a simulator: the URL says nothing
    assert_one_line_error(invoke("replay", str(capture)), 2, "pass --venue")
    result = invoke("replay", str(capture), "--venue", "hitbtc", "--json")
    assert result.exit_code == 1, result.output
    assert "none of the 5 frames decoded as hitbtc" in result.output
    ok = invoke("replay", str(capture), "--venue", "kraken", "--json")
    assert ok.exit_code == 0, ok.output


def test_run_source_is_checked() -> None:
    with pytest.raises(InvalidArgument):
        rxfeeds.run(rx.of(1), duration=True)  # type: ignore[arg-type]


# --- sim: URLs and fault options; watch/record --rest-url (issue 18 item 6) ---------------------


def test_watch_binance_spot_against_its_simulator_with_rest_url() -> None:
    sim = SimProcess("binance-spot", "--tick-interval", "0.02", "--symbol", "BTCUSDT")
    try:
        result = invoke(
            "watch", "binance-spot", "book", "BTCUSDT", "--url", sim.url, "--rest-url", sim.rest_url, "--duration", "3"
        )
        assert result.exit_code == 0, result.output
        assert "binance-spot open" in result.output
        last = [line for line in result.output.splitlines() if "BTCUSDT " in line][-1]
        bid, ask = (float(x) for x in last.split("BTCUSDT ")[1].split(";")[0].split(" / "))
        assert 0 < bid < ask
    finally:
        sim.stop()


def test_sim_fault_options_inject_and_announce_faults() -> None:
    from rxfeeds import ops
    from rxfeeds.events import IntegrityEvent, StreamReset

    sim = SimProcess(
        "kraken",
        "--tick-interval",
        "0.02",
        "--symbol",
        "XBT/USD",
        "--bad-checksum-every",
        "0.5",
        "--garbage-every",
        "0.5",
        "--drop-every",
        "2",
        "--stall-every",
        "1",
        "--stall-for",
        "0.2",
    )
    kraken = rxfeeds.Kraken(url=sim.url, backoff=Backoff(initial=0.05, max_delay=0.2))
    seen: list[Any] = []
    errors: list[Exception] = []
    resets: list[Any] = []
    unsub_errors = kraken.errors.subscribe(errors.append)
    feed = kraken.book("XBT/USD", depth=10)
    sub = feed.pipe(ops.order_book(depth=10, integrity=True)).subscribe(seen.append)
    sub_raw = kraken.book("XBT/USD", depth=10).subscribe(lambda e: resets.append(e) if type(e) is StreamReset else None)
    try:
        wait_until(lambda: any(isinstance(v, IntegrityEvent) and v.kind == "checksum" for v in seen), timeout=60)
        wait_until(lambda: resets, timeout=60)  # a drop: the stream restarted
        wait_until(lambda: errors, timeout=60)  # the garbage frame, reported, the connection kept
        wait_until(
            lambda: (
                {"dropped", "stalled", "garbage", "bad checksum"}
                <= {w for line in sim.lines for w in ("dropped", "stalled", "garbage", "bad checksum") if w in line}
            ),
            timeout=60,
        )
        # and the book heals after all of it
        n = len(seen)
        wait_until(lambda: any(isinstance(v, ops.OrderBook) and v.synced for v in seen[n:]), timeout=60)
    finally:
        sub.dispose()
        sub_raw.dispose()
        unsub_errors.dispose()
        kraken.close()
        sim.stop()
    assert any(line.startswith("fault drop-every 2 s") for line in sim.lines[:10]), sim.lines[:10]


def test_sim_skip_sequence_option_makes_gaps_the_book_repairs() -> None:
    from rxfeeds import ops
    from rxfeeds.events import IntegrityEvent

    sim = SimProcess("binance-spot", "--tick-interval", "0.02", "--symbol", "BTCUSDT", "--skip-sequence-every", "0.5")
    spot = rxfeeds.BinanceSpot(url=sim.url, rest_url=sim.rest_url, backoff=Backoff(initial=0.05, max_delay=0.2))
    seen: list[Any] = []
    sub = spot.book("BTCUSDT").pipe(ops.order_book(integrity=True)).subscribe(seen.append)
    try:
        wait_until(lambda: any(isinstance(v, IntegrityEvent) and v.kind == "gap" for v in seen), timeout=60)
        gap = next(i for i, v in enumerate(seen) if isinstance(v, IntegrityEvent) and v.kind == "gap")
        wait_until(lambda: any(isinstance(v, ops.OrderBook) and v.synced for v in seen[gap:]), timeout=60)
    finally:
        sub.dispose()
        spot.close()
        sim.stop()
    assert any("sequence skip armed for BTCUSDT" in line for line in sim.lines)


def test_record_takes_rest_url(tmp_path: Path) -> None:
    sim = SimProcess("binance-spot", "--tick-interval", "0.02", "--symbol", "BTCUSDT")
    out = tmp_path / "spot.jsonl"
    try:
        result = invoke(
            "record", "binance-spot", "book", "BTCUSDT", "-o", str(out), "--url", sim.url,
            "--rest-url", sim.rest_url, "--duration", "2",
        )  # fmt: skip
    finally:
        sim.stop()
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert '"dir":"http"' in text.replace(" ", "") and sim.rest_url in text


# --- watch display: tables, numbers as sent, no float noise (issue 18 item 7) ---------------------


def rendered(state: Any) -> str:
    from rich.console import Console

    console = Console(record=True, width=200, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(state.render("test"))
    text = console.export_text()
    console.file.close()
    return text


def test_watch_shows_ticker_and_spread_as_tables_without_float_noise() -> None:
    from rxfeeds.books.book import OrderBook
    from rxfeeds.books.side import BookSide
    from rxfeeds.cli.watch import WatchState
    from rxfeeds.events import Kline, Quote, Ticker

    state = WatchState()
    state.on_next(Quote("kraken", "XBT/USD", 1.0, 1.0, bid=50000.1, bid_size=1.35412825, ask=50000.2, ask_size=0.5))
    state.on_next(
        Ticker("kraken", "XBT/USD", 1.0, 1.0, bid=50000.1, ask=50000.2, last=50000.15, volume=36.05017662000001)
    )
    bids, asks = BookSide(descending=True), BookSide(descending=False)
    bids.set(50000.1, 1.35412825, "50000.10000", "1.35412825", None)
    asks.set(50000.2, 0.1 + 0.2, "50000.20000", "0.30000000", None)
    state.on_next(OrderBook("kraken", "ETH/USD", 1.0, 1.0, bids.freeze(), asks.freeze(), synced=True))
    state.on_next(
        Kline("kraken", "XBT/USD", 1.0, 1.0, interval="1m", open_time=0.0, close_time=60.0,
              open=1.0, high=2.0, low=0.5, close=1.5, volume=36.05017662000001)
    )  # fmt: skip
    text = rendered(state)
    assert "best bid / ask" in text and "ticker" in text
    assert "1.35412825" in text and "50000.20000" in text and "0.30000000" in text  # as sent
    assert "36.05017662" in text and "36.050176620000" not in text
    assert "0.1" in text and "0.0999999" not in text and "0.30000000000000004" not in text
    assert "Quote(" not in text and "Ticker(" not in text
    line = state.line()
    assert "ETH/USD 50000.10000 / 50000.20000" in line


def test_watch_spread_and_ticker_against_the_simulator_print_clean_numbers() -> None:
    with KrakenSim(seed=5, tick_interval=0.02) as sim:
        spread = invoke("watch", "kraken", "spread", "XBT/USD", "--duration", "2.5", "--url", sim.url)
        ticker = invoke("watch", "kraken", "ticker", "XBT/USD", "--duration", "2.5", "--url", sim.url)
    assert spread.exit_code == 0, spread.output
    last = [line for line in spread.output.splitlines() if " spread " in line][-1]
    value = last.split(" spread ")[1].split()[0]
    assert len(value) <= 12 and float(value) > 0, last  # 0.1, never 0.09999999999854481
    assert ticker.exit_code == 0, ticker.output
    assert "XBT/USD last " in ticker.output and "Ticker(" not in ticker.output


def test_the_live_view_shows_the_connection_state() -> None:
    from rich.console import Console

    from rxfeeds.cli.watch import WatchState

    state = WatchState()
    console = Console(record=True, width=200, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(state.render("kraken book XBT/USD", "kraken reconnecting in 2.0 s (attempt 3: [Errno 111] refused)"))
    console.file.close()
    text = console.export_text()
    assert "[kraken reconnecting in 2.0 s (attempt 3: [Errno 111] refused)]" in text


def test_replay_of_a_venue_rxfeeds_does_not_speak_names_its_host(tmp_path: Path) -> None:
    capture = kraken_capture(tmp_path, "wss://feed.unknown-venue.invalid/ws")
    assert_one_line_error(
        invoke("replay", str(capture)), 2, "wss://feed.unknown-venue.invalid", "not a venue rxfeeds speaks"
    )


@pytest.mark.parametrize("command", ["watch", "record", "publish"])
def test_a_misspelt_venue_is_named_once_with_the_choices(command: str) -> None:
    result = (
        invoke(command, "okex", "book", "BTC-USDT", "-o", "x")
        if command == "record"
        else invoke(command, "okex", "book", "BTC-USDT")
    )
    assert result.exit_code == 2, result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("Error: Invalid value for 'VENUE': 'okex' is not a venue; choose one of "), error
    assert "okx" in error and "[binance-dex|" not in result.output  # the twelve names once, not three times

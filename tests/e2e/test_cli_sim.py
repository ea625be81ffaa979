"""``rxfeeds sim`` and ``rxfeeds demo`` end to end: real processes, real sockets."""

from __future__ import annotations

import signal
import socket

import pytest
import websocket
from click.testing import CliRunner

from rxfeeds.cli import cli
from rxfeeds.sim import SIMULATORS
from tests.helpers import ROOT
from tests.support.cli import rxfeeds_process

pytestmark = pytest.mark.timeout(90)


def test_unknown_venue_exits_2_naming_the_choices() -> None:
    result = CliRunner().invoke(cli, ["sim", "no-such-venue"])
    assert result.exit_code == 2
    assert "unknown venue 'no-such-venue'" in result.output
    assert "kraken" in result.output


def test_a_simulator_not_written_yet_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SIMULATORS, "future-venue", "rxfeeds.sim.future_venue:FutureSim")
    result = CliRunner().invoke(cli, ["sim", "future-venue"])
    assert result.exit_code == 1
    assert "future-venue simulator is not available yet" in result.output
    assert "Traceback" not in result.output


def test_serves_until_interrupted_and_stops_cleanly() -> None:
    proc = rxfeeds_process("sim", "tests.support.sims:EchoSim", "--seed", "3")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("echo simulator: ws://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        assert proc.stdout.readline().startswith("REST: http://127.0.0.1:")
        ws = websocket.create_connection(url, timeout=10)
        ws.send("hello")
        assert ws.recv() == "hello"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a safety bound: shutdown is ~1-6 s, startup slow under load
        ws.close()
        assert proc.returncode == 0, err
        assert "stopped" in out
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_also_stops_cleanly() -> None:
    proc = rxfeeds_process("sim", "tests.support.sims:EchoSim")
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("echo simulator: ws://127.0.0.1:")
        proc.terminate()
        out, err = proc.communicate(timeout=60)  # a safety bound: shutdown is ~1-6 s, startup slow under load
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_duration_and_a_busy_port() -> None:
    result = CliRunner().invoke(cli, ["sim", "tests.support.sims:EchoSim", "--duration", "0.2"])
    assert result.exit_code == 0, result.output
    assert "ws://127.0.0.1:" in result.output and "stopped" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["sim", "tests.support.sims:EchoSim", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


@pytest.mark.parametrize("venue", sorted(SIMULATORS))
def test_every_written_venue_serves(venue: str) -> None:
    module = SIMULATORS[venue].partition(":")[0]
    path = ROOT / module.replace(".", "/")
    if not (path.with_suffix(".py").exists() or (path / "__init__.py").exists()):  # a module or a package
        pytest.skip(f"{module} is not written yet")
    result = CliRunner().invoke(cli, ["sim", venue, "--duration", "0.3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "simulator: ws://127.0.0.1:" in result.output


# -- rxfeeds demo ------------------------------------------------------------------------------


def test_demo_without_a_tty_shows_a_live_book_and_checks_it_against_the_simulator() -> None:
    proc = rxfeeds_process("demo", "--duration", "3")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("rxfeeds demo: kraken simulator at ws://127.0.0.1:")
    books = [line for line in lines if " XBT/USD book bid " in line]
    assert books, out
    for line in books:  # a sane top of book on every line
        bid = float(line.split(" bid ")[1].split(" x ")[0])
        ask = float(line.split(" ask ")[1].split(" x ")[0])
        assert 0 < bid < ask
    first = next(line for line in lines if line.startswith("first book after "))
    assert float(first.split()[3]) < 10.0
    assert "integrity events: none" in first
    verdict = next(line for line in lines if line.startswith("book vs simulator truth"))
    assert "(top 10): match" in verdict
    checked = verdict.rsplit(": ", 1)[1].split()[0]
    matching, total = map(int, checked.split("/"))
    assert total >= 1 and matching == total
    assert "Traceback" not in err
    assert "goodbye" not in err  # websocket-client's shutdown noise stays out of the terminal


def test_demo_live_view_renders_through_rich() -> None:
    result = CliRunner().invoke(cli, ["demo", "--duration", "1.5", "--live", "--venue", "kraken-v2"])
    assert result.exit_code == 0, result.output
    assert "BTC/USD top 10" in result.output
    assert "1-second klines" in result.output
    assert "book vs simulator truth (top 10): match" in result.output


def test_demo_rejects_an_unknown_venue() -> None:
    result = CliRunner().invoke(cli, ["demo", "--venue", "nope"])
    assert result.exit_code == 2
    assert "kraken" in result.output


def test_demo_on_hitbtc_full_books_match_the_simulator() -> None:
    result = CliRunner().invoke(cli, ["demo", "--duration", "2", "--plain", "--venue", "hitbtc"])
    assert result.exit_code == 0, result.output
    assert " ETHBTC book bid " in result.output
    assert "book vs simulator truth (top 10): match" in result.output


@pytest.mark.parametrize(
    ("venue", "symbol"),
    [
        ("okx", "BTC-USDT"),
        ("bybit", "BTCUSDT"),
        ("bybit-linear", "BTCUSDT"),
        ("coinbase", "BTC-USD"),
        ("binance-spot", "BTCUSDT"),
        ("hitbtc-v3", "ETHBTC"),
    ],
)
def test_demo_on_the_newer_venues_book_and_klines_match_the_simulator(venue: str, symbol: str) -> None:
    # each keeps its book by its own rule (checksum, u-sequence, sequence_num, REST snapshot + diffs)
    # and opens it its own way (OKX books take no depth, Bybit only 1/50/200/...)
    result = CliRunner().invoke(cli, ["demo", "--duration", "2.5", "--plain", "--venue", venue])
    assert result.exit_code == 0, result.output
    assert f" {symbol} book bid " in result.output
    assert "integrity events: none" in result.output
    assert "book vs simulator truth (top 10): match" in result.output
    checked = result.output.rsplit("closed 1s klines vs simulator candles: ", 1)[1].split()[0]
    matching, total = map(int, checked.split("/"))
    assert total >= 1 and matching == total, result.output


def test_demo_takes_a_base_quote_symbol_and_names_the_spellings_of_a_wrong_one() -> None:
    result = CliRunner().invoke(cli, ["demo", "--duration", "1", "--plain", "--venue", "okx", "--symbol", "ETH/USDT"])
    assert result.exit_code == 0, result.output
    assert " ETH-USDT book bid " in result.output
    wrong = CliRunner().invoke(cli, ["demo", "--venue", "okx", "--symbol", "ETHUSDT"])
    assert wrong.exit_code == 2
    assert "'ETH-USDT'" not in wrong.output and "'BTC-USDT' (the venue's spelling)" in wrong.output
    assert "Traceback" not in wrong.output


@pytest.mark.parametrize("venue", ["bybit", "coinbase", "binance-spot"])
def test_a_checksum_fault_on_a_venue_without_checksums_is_refused(venue: str) -> None:
    # it used to print "fault: bad checksum armed" every period and inject nothing
    result = CliRunner().invoke(cli, ["sim", venue, "--bad-checksum-every", "1", "--duration", "0.2"])
    assert result.exit_code == 2, result.output
    assert f"{venue} books carry no checksum" in result.output and "okx" in result.output
    assert "simulator:" not in result.output and "Traceback" not in result.output


def test_a_checksum_fault_on_okx_is_announced() -> None:
    result = CliRunner().invoke(
        cli, ["sim", "okx", "--symbol", "BTC-USDT", "--bad-checksum-every", "0.1", "--duration", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "fault: bad checksum armed for BTC-USDT" in result.output


@pytest.mark.parametrize("venue", ["kraken", "coinbase", "okx"])
def test_demo_ended_at_once_still_compares_the_book_sent_after_the_freeze(venue: str) -> None:
    # the truth used to be read once at the freeze, before the subscription's snapshot was sent: MISMATCH
    result = CliRunner().invoke(cli, ["demo", "--duration", "0", "--plain", "--venue", venue])
    assert result.exit_code == 0, result.output
    assert "book vs simulator truth (top 10): match" in result.output

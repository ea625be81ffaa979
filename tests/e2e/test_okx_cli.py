"""OKX on the command line: ``rxfeeds sim okx`` in a child process watched with ``rxfeeds watch okx``
(the common and the venue spelling, a SWAP), and user mistakes as one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rxfeeds.cli import cli
from tests.support.cli import SimProcess

pytestmark = pytest.mark.timeout(90)


def test_watch_okx_books_served_by_rxfeeds_sim_okx() -> None:
    sim = SimProcess("okx", "--seed", "2")
    try:
        assert sim.url.endswith("/ws/v5/public")
        result = CliRunner().invoke(
            cli, ["watch", "okx", "book", "BTC/USDT", "BTC-USDT-SWAP", "--url", sim.url, "--duration", "3"]
        )
        assert result.exit_code == 0, result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("okx open | ") and "BTC-USDT " in last and "BTC-USDT-SWAP " in last, last
        # candles come from the business endpoint next to the public one
        result = CliRunner().invoke(cli, ["watch", "okx", "klines", "BTC-USDT", "--url", sim.url, "--duration", "2"])
        assert result.exit_code == 0, result.output
        last = result.output.strip().splitlines()[-1]
        assert " updates; kline BTC-USDT 1m " in last and " o=" in last and " c=" in last, last  # not a bare count
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["watch", "okx", "book", "BTC/USDT/EUR"], "expected BASE/QUOTE"),
        (["watch", "okx", "book", "btc_usdt"], "not a OKX (v5) symbol"),
        (["watch", "okx", "orders", "BTC-USDT"], "orders"),
    ],
)
def test_mistakes_are_one_line_errors(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--url", "ws://127.0.0.1:1", "--duration", "1"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and needle in result.output, result.output


def test_watch_without_a_terminal_counts_the_integrity_faults_it_repaired() -> None:
    sim = SimProcess("okx", "--symbol", "BTC-USDT", "--bad-checksum-every", "0.3")
    try:
        result = CliRunner().invoke(cli, ["watch", "okx", "book", "BTC-USDT", "--url", sim.url, "--duration", "3"])
        assert result.exit_code == 0, result.output
        last = result.output.strip().splitlines()[-1]
        assert "; integrity: checksum " in last and "resync " in last, last
    finally:
        sim.stop()


@pytest.mark.parametrize("command", ["watch", "record"])
def test_pointed_at_another_venue_it_ends_with_one_line_naming_the_url_mistake(command: str, tmp_path: Path) -> None:
    # it used to show "okx open | 0 updates" until Ctrl-C (record: an empty capture) and exit 0
    from rxfeeds.sim.bybit import BybitSim

    output = ["-o", str(tmp_path / "okx.capture")] if command == "record" else []
    with BybitSim(seed=1) as bybit:
        result = CliRunner().invoke(
            cli, [command, "okx", "book", "BTC-USDT", *output, "--url", bybit.url, "--connect-timeout", "2"]
        )
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: {command} failed: connected, but in 2 s nothing arrived that okx's protocol"), last
    assert last.endswith("is --url an endpoint of okx?") and "Traceback" not in result.output

"""The command line with Coinbase: ``rxfeeds sim coinbase`` (a child process, with its fault options),
``watch``, ``record`` and ``replay --book`` (the venue read from the recording's header)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rxfeeds.cli import cli
from tests.support.cli import SimProcess

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def Sim(*args: str) -> SimProcess:
    """``rxfeeds sim coinbase ...`` in a child process (no REST endpoint: one URL line)."""
    sim = SimProcess("coinbase", *args, rest=False)
    assert sim.url.startswith("ws://127.0.0.1:"), sim.url
    return sim


@pytest.fixture
def sim() -> Iterator[Sim]:
    server = Sim("--tick-interval", "0.02", "--symbol", "BTC-USD", "--skip-sequence-every", "1")
    try:
        yield server
    finally:
        server.stop()


def test_watch_shows_a_live_book_that_heals_from_lost_messages(sim: Sim) -> None:
    result = invoke("watch", "coinbase", "book", "BTC/USD", "--url", sim.url, "--duration", "4")
    assert result.exit_code == 0, result.output
    assert "coinbase open" in result.output
    last = [line for line in result.output.splitlines() if "BTC-USD " in line][-1]
    bid, ask = (float(x) for x in last.split("BTC-USD ")[1].split(";")[0].split(" / "))
    assert 0 < bid < ask
    assert "; integrity: gap " in last, last  # the lost messages, seen and repaired
    assert any("fault: sequence skip armed for BTC-USD" in line for line in sim.lines)


def test_record_then_replay_the_book_finds_the_venue_and_the_gaps(sim: Sim, tmp_path: Path) -> None:
    out = tmp_path / "coinbase.jsonl"
    recorded = invoke("record", "coinbase", "book", "BTC-USD", "-o", str(out), "--url", sim.url, "--duration", "3.5")
    assert recorded.exit_code == 0, recorded.output
    result = invoke("replay", str(out), "--book", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["venue"] == "coinbase" and summary["errors"] == 0
    assert summary["events"]["BookSnapshot"] >= 1 and summary["events"]["BookDelta"] > 10
    assert summary["synced_symbols"] == ["BTC-USD"]
    # the simulator lost a book message every second; nobody resubscribed while recording, so the
    # replayed book reports the first gap and stays unsynced from there
    assert summary["gaps"] >= 1


def test_a_malformed_pair_on_the_command_line_is_one_line() -> None:
    result = invoke("watch", "coinbase", "book", "BTC/USD/EUR", "--url", "ws://127.0.0.1:1")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "BASE/QUOTE" in lines[0]


def test_replay_knows_a_capture_of_the_production_host(tmp_path: Path) -> None:
    from rxfeeds.cli.replay import capture_venue

    capture = tmp_path / "cb.capture"
    ticker = (
        '{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,"events":[{"type":'
        '"snapshot","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98"}]}]}'
    )
    capture.write_text(f"wss://advanced-trade-ws.coinbase.com <-> 1.0\n2.5: {ticker}\n")
    assert capture_venue(capture)[0] == "coinbase"
    result = invoke("replay", str(capture), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["events"] == {"Ticker": 1}

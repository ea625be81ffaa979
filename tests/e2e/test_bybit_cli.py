"""The command line with Bybit: ``rxfeeds sim bybit`` in its own process, ``watch`` against it,
``record`` then ``replay --book`` (with a lost message and a ``u == 1`` restart recorded), and
replay's venue detection from the production URLs."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rxfeeds.cli import cli
from rxfeeds.cli.replay import capture_venue
from rxfeeds.sim.bybit import BybitSim
from tests.helpers import wait_until
from tests.support.cli import rxfeeds_process

pytestmark = pytest.mark.timeout(120)


def test_sim_process_serves_and_watch_shows_its_book() -> None:
    proc = rxfeeds_process("sim", "bybit", "--seed", "4")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("bybit simulator: ws://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        assert url.endswith("/v5/public/spot")
        result = CliRunner().invoke(cli, ["watch", "bybit", "book", "BTC/USDT", "--duration", "2.5", "--url", url])
        assert result.exit_code == 0, result.output
        last = result.stdout.strip().splitlines()[-1]
        assert "BTCUSDT" in last and "updates" in last, last
        bid, ask = (float(x) for x in last.rsplit(" ", 3)[-3::2])
        assert 0 < bid < ask
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped" in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _replay(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["replay", *args, "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_record_then_replay_book_sees_the_recorded_gap_and_restart(tmp_path: Path) -> None:
    out = tmp_path / "bybit.jsonl"
    with BybitSim(seed=3, tick_interval=0.02) as sim:
        done = threading.Event()

        def faults() -> None:
            # once the recording runs: lose one book message, then restart the book service
            wait_until(lambda: sim.connection_count >= 1 and sim.update_id("BTCUSDT", 50) > 0, timeout=30)
            sim.faults.skip_sequence("BTCUSDT")
            wait_until(lambda: sim.faults.counts["skip_sequence"] == 1, timeout=30)
            sim.step(3)  # the next delta shows the gap
            sim.restart("BTCUSDT")
            done.set()

        injector = threading.Thread(target=faults, daemon=True)
        injector.start()
        result = CliRunner().invoke(
            cli, ["record", "bybit", "book", "BTC/USDT", "-o", str(out), "--duration", "3", "--url", sim.url]
        )
        injector.join(30)
    assert result.exit_code == 0, result.output
    assert done.is_set()
    summary = _replay(str(out), "--book")  # the venue comes from the recording's header
    assert summary["venue"] == "bybit"
    assert summary["events"]["BookSnapshot"] == 2 and summary["events"]["StreamReset"] == 1
    assert summary["gaps"] == 1 and summary["errors"] == 0 and summary["frame_errors"] == []
    assert summary["synced_symbols"] == ["BTCUSDT"] and summary["book_updates"] > 10


@pytest.mark.parametrize(
    ("url", "venue"),
    [
        ("wss://stream.bybit.com/v5/public/spot", "bybit"),
        ("wss://stream.bybit.com/v5/public/linear", "bybit-linear"),
        ("wss://stream-testnet.bybit.com/v5/public/linear", "bybit-linear"),
    ],
)
def test_replay_tells_the_bybit_endpoints_apart(tmp_path: Path, url: str, venue: str) -> None:
    path = tmp_path / "plain.capture"
    frame = '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000000,"data":[]}'
    path.write_text(f"{url} <-> 1.0\n2.5: {frame}\n")
    assert capture_venue(path)[0] == venue

"""OKX book checksums against reality and beyond it: the real 2022 capture replays with every
checksummed frame verified (and a corrupted copy does not), and captures of instruments the real
one lacks (SWAP, FUTURES, another spot pair, with ``seqId``) made by the simulator replay clean,
through the same ``rxfeeds replay`` command users run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import websocket
from click.testing import CliRunner

from rxfeeds.cli import cli
from rxfeeds.sim.okx import OKXSim
from tests.helpers import wait_until

pytestmark = pytest.mark.timeout(120)

REAL = "okx-v5-public.dev.capture"
PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
#: instruments the real capture does not have
NEW = ("BTC-USDT-SWAP", "ETH-USD-260327", "ETH-USDT", "SOL-USDT-SWAP")


def replay(path: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["replay", str(path), "--book", "--json", *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output)
    return summary


@pytest.mark.captures
def test_the_real_capture_verifies_every_checksummed_update(captures_dir: Path) -> None:
    summary = replay(captures_dir / REAL, "--venue", "okx")
    assert summary["checksummed_updates"] == 197
    assert summary["checksum_ok"] == 197 and summary["checksum_failed"] == 0
    assert summary["gaps"] == 0 and summary["errors"] == 0 and summary["resyncs"] == 0
    assert summary["synced_symbols"] == ["BTC-USD-220527", "BTC-USDT"]
    assert summary["events"]["Trade"] > 0 and summary["events"]["Ticker"] > 0
    # the venue is told from the capture's URL too
    assert replay(captures_dir / REAL)["venue"] == "okx"


@pytest.mark.captures
def test_a_corrupted_copy_of_the_real_capture_fails_its_checksum(captures_dir: Path, tmp_path: Path) -> None:
    text = (captures_dir / REAL).read_text()
    marker = '"checksum":-914047754'  # one update of the future
    assert text.count(marker) == 1
    bad = tmp_path / "okx-bad.capture"
    bad.write_text(text.replace(marker, '"checksum":-914047755'))
    summary = replay(bad, "--venue", "okx")
    assert summary["checksum_failed"] == 1
    assert summary["checksum_ok"] < 197


def sim_capture(path: Path, faults: Any = None, steps: int = 60) -> int:
    """A plain-text capture (the shared captures' format, OKX's production URL) of the
    simulator's books for :data:`NEW`; returns how many book frames it holds."""
    with OKXSim(seed=11, tick_interval=None) as sim:
        ws = websocket.create_connection(sim.url, timeout=20)
        try:
            lines = [f"{PUBLIC} <-> {time.time()}"]
            request = json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": i} for i in NEW]})
            ws.send(request)
            lines.append(f"{PUBLIC} <- {time.time()}: {request}")
            frames: list[str] = []

            def receive_all() -> None:  # every frame the simulator wrote so far
                wait_until(lambda: sim.connections and sim.connections[0].frames_out >= len(NEW), timeout=20)
                while len(frames) < sim.call(lambda: sim.connections[0].frames_out):
                    frames.append(ws.recv())

            receive_all()  # an ack and a snapshot per instrument
            for n in range(steps):
                if faults is not None:
                    faults(sim, n)
                sim.step()
                receive_all()  # an update (or keep-alive) per instrument, unless one was lost
            lines += [f"{time.time()}: {f}" for f in frames]
        finally:
            ws.close()
        assert sim.hook_errors == []
    path.write_text("\n".join(lines) + "\n")
    return sum('"channel":"books"' in f and '"data"' in f for f in frames)


def test_simulated_captures_of_new_instrument_types_verify_every_update(tmp_path: Path) -> None:
    path = tmp_path / "okx-sim.capture"
    book_frames = sim_capture(path)
    summary = replay(path)  # the venue comes from the URL
    assert summary["venue"] == "okx"
    assert summary["checksummed_updates"] == book_frames == len(NEW) * 61
    assert summary["checksum_ok"] == book_frames and summary["checksum_failed"] == 0
    assert summary["gaps"] == 0 and summary["errors"] == 0
    assert summary["synced_symbols"] == sorted(NEW)


def test_a_lost_update_in_a_simulated_capture_is_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "okx-gap.capture"

    def lose_one(sim: OKXSim, n: int) -> None:
        if n == 20:
            sim.faults.skip_sequence("ETH-USDT")

    book_frames = sim_capture(path, lose_one, steps=40)
    assert book_frames == len(NEW) * 41 - 1  # the lost update is not in the capture
    summary = replay(path)
    assert summary["gaps"] == 1 and summary["checksum_failed"] == 0
    # a replay cannot resubscribe: ETH-USDT stays unsynced after its gap, the others verify to the end
    assert summary["checksum_ok"] == book_frames - (40 - 21)


def test_record_then_replay_through_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "okx.jsonl"
    with OKXSim(seed=3, tick_interval=0.02) as sim:
        result = CliRunner().invoke(
            cli, ["record", "okx", "book", "BTC-USDT-SWAP", "BTC/USDT", "-o", str(out), "--url", sim.url,
                  "--duration", "2"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = replay(out)  # the venue comes from the recording's header
    assert summary["venue"] == "okx"
    assert summary["checksummed_updates"] > 10
    assert summary["checksum_ok"] == summary["checksummed_updates"] and summary["checksum_failed"] == 0
    assert summary["gaps"] == 0 and summary["synced_symbols"] == ["BTC-USDT", "BTC-USDT-SWAP"]

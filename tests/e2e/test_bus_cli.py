"""``rxfeeds publish`` and ``rxfeeds watch --bus`` end to end: real processes, simulator, nats-server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import rxfeeds
from rxfeeds.bus import NatsBus, raw_capture
from rxfeeds.cli import cli
from rxfeeds.events import BookSnapshot
from rxfeeds.sim.kraken import KrakenSim
from tests.bus_support import nats_url  # noqa: F401
from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(90)


def rxfeeds_run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-c", "from rxfeeds.cli import main; main()", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_publish_then_watch_from_the_bus(nats_url: str, tmp_path: Path) -> None:  # noqa: F811
    stream = "CLI" + uuid.uuid4().hex[:8].upper()
    prefix = stream.lower()
    where = ["--bus", nats_url, "--stream", stream, "--prefix", prefix]
    with KrakenSim(seed=51) as sim:
        published = rxfeeds_run(
            "publish", "kraken", "book", "XBT/USD", "--url", sim.url, "--duration", "1.5", "--raw", *where
        )
    assert published.returncode == 0, published.stdout + published.stderr
    summary = published.stderr.strip().splitlines()[-1]
    assert summary.startswith("published ") and int(summary.split()[1]) > 0, published.stderr
    assert "0 dropped" in summary

    bus = NatsBus(nats_url, stream=stream, prefix=prefix)
    try:
        got: list[object] = []
        done = bus.source("kraken", "XBT/USD", "book", start="first", follow=False)
        finished: list[bool] = []
        done.subscribe(got.append, on_completed=lambda: finished.append(True))
        from tests.helpers import wait_until

        wait_until(lambda: finished)
        assert isinstance(got[0], BookSnapshot) and got[0].symbol == "XBT/USD"
        assert len(got) == int(summary.split()[1])

        replayed = CliRunner().invoke(
            cli,
            ["replay", "--venue", "kraken", "--book", "--json", "--bus", f"{nats_url}?stream={stream}&prefix={prefix}"],
        )
        assert replayed.exit_code == 0, replayed.output
        summary_json = orjson.loads(replayed.output)
        assert summary_json["events"]["BookSnapshot"] >= 1
        assert sum(summary_json["events"].values()) == len(got)
        assert summary_json["checksum_ok"] > 0 and summary_json["checksum_failed"] == 0
        assert summary_json["errors"] == 0 and summary_json["frames"] > 0

        raw_bus = NatsBus(nats_url, stream=f"{stream}_RAW", prefix=f"{prefix}-raw")
        try:
            frames = raw_capture(raw_bus, "kraken", tmp_path / "raw.jsonl")
            session = rxfeeds.replay(tmp_path / "raw.jsonl", venue="kraken")
            rebuilt: list[object] = []
            session.book("XBT/USD").subscribe(rebuilt.append)
            session.run()
            assert frames > 2 and rebuilt == got  # the raw frames decode into the very events published
        finally:
            raw_bus.delete()
            raw_bus.close()

        watched = rxfeeds_run("watch", "kraken", "book", "XBT/USD", "--duration", "1.5", *where)
        assert watched.returncode == 0, watched.stdout + watched.stderr
        lines = [line for line in watched.stdout.splitlines() if "XBT/USD" in line]
        assert lines, watched.stdout
        top = lines[-1].split("XBT/USD ")[1]
        bid, ask = (float(x) for x in top.split(";")[0].split(" / "))
        assert 0 < bid < ask
    finally:
        bus.delete()
        bus.close()


def test_watch_needs_symbols_without_bus_and_publish_needs_a_bus() -> None:
    result = CliRunner().invoke(cli, ["replay", "--venue", "kraken"])
    assert result.exit_code == 2 and "FILES" in result.output
    result = CliRunner().invoke(cli, ["watch", "kraken", "book"])
    assert result.exit_code == 2 and "SYMBOLS" in result.output
    result = CliRunner().invoke(cli, ["publish", "kraken", "book", "XBT/USD"])
    assert result.exit_code == 2 and "--bus" in result.output


def test_publish_to_an_unreachable_bus_exits_1() -> None:
    result = CliRunner().invoke(
        cli, ["publish", "kraken", "book", "XBT/USD", "--bus", "nats://127.0.0.1:1", "--connect-timeout", "0.5"]
    )
    assert result.exit_code == 1 and "cannot connect to NATS" in result.output

"""Capture readers, the recorder, replay sessions and the replay/record CLI."""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import rxfeeds
from rxfeeds.capture import Recorder, merge_captures, read_capture
from rxfeeds.capture.records import CaptureProblem
from rxfeeds.cli import cli
from rxfeeds.events import BookDelta, BookSnapshot, StreamReset, Trade
from rxfeeds.sim.kraken import KrakenSim
from tests.helpers import wait_until

# ---------------------------------------------------------------- readers


def test_text_format_kinds_match_an_independent_line_count(capture_file: Any) -> None:
    path = capture_file("kraken-book-1000.dev.capture")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    expected = Counter(
        "open" if " <-> " in ln else "out" if " <- " in ln else "http" if " -> " in ln else "in" for ln in lines
    )
    problems: list[CaptureProblem] = []
    got = Counter(r.kind for r in read_capture(path, problems))
    assert got == expected and not problems
    first_in = next(r for r in read_capture(path) if r.kind == "in")
    assert first_in.url == "wss://ws.kraken.com" and first_in.data.startswith('{"connectionID"')


def test_corrupt_and_truncated_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    text = tmp_path / "bad.capture"
    text.write_text('wss://x <-> 1.0\n2.0: {"a":1}\nthis is garbage\n3.0: {"b":2}\nnot-a-number: {}\n')
    problems: list[CaptureProblem] = []
    records = list(read_capture(text, problems))
    assert [r.t for r in records] == [1.0, 2.0, 3.0]
    assert [(p.line, p.source) for p in problems] == [(3, str(text)), (5, str(text))]
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(
        '{"rxfeeds_capture":1}\n{"t":1.0,"dir":"in","url":"ws://a","data":"{}"}\n{"t":2.0,"dir":"in","ur\n'
    )
    problems = []
    assert len(list(read_capture(jsonl, problems))) == 1
    assert problems[0].line == 3 and "bad.jsonl:3" in str(problems[0])


def test_merge_orders_records_of_several_files_by_time(capture_file: Any) -> None:
    ws = capture_file("binance-spot-depth.dev.capture")
    rest = capture_file("binance-spot-depth-snapshots.dev.capture")
    merged = list(merge_captures([ws, rest]))
    assert [r.t for r in merged] == sorted(r.t for r in merged)
    assert Counter(r.kind for r in merged)["http"] == sum(1 for r in read_capture(rest) if r.kind == "http")
    assert len(merged) == len(list(read_capture(ws))) + len(list(read_capture(rest)))


def test_recorder_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    for name in ("c.jsonl", "c.jsonl.gz"):
        path = tmp_path / name
        with Recorder(path, venue="kraken") as rec:
            rec.connected("ws://a", 1.0)
            rec.frame_out("ws://a", '{"event":"subscribe"}', 1.5)
            rec.frame_in("ws://a", b'{"event":"heartbeat"}', 2.0)
            rec.http("https://r/depth?symbol=X", b'{"lastUpdateId":1}', 2.5)
        if name.endswith(".gz"):
            with gzip.open(path, "rt") as f:
                assert json.loads(f.readline())["rxfeeds_capture"] == 1
        got = [(r.kind, r.t, r.url, r.data) for r in read_capture(path)]
        assert got == [
            ("open", 1.0, "ws://a", ""),
            ("out", 1.5, "ws://a", '{"event":"subscribe"}'),
            ("in", 2.0, "ws://a", '{"event":"heartbeat"}'),
            ("http", 2.5, "https://r/depth?symbol=X", '{"lastUpdateId":1}'),
        ]


def test_recorder_flushes_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    rec = Recorder(path, flush_interval=0.1)
    rec.frame_in("ws://a", b"{}", 1.0)
    wait_until(lambda: path.read_text().count("\n") == 2, timeout=3)  # header + the frame, before close
    rec.close()


# ---------------------------------------------------------------- replay CLI on real captures


def _replay_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["replay", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_replay_kraken_book_checks_every_checksum(capture_file: Any) -> None:
    path = capture_file("kraken-book-1000.dev.capture")
    # Independent count of book updates carrying a checksum: received arrays with a "c" field.
    updates = 0
    for r in read_capture(path):
        if r.kind == "in" and r.data.startswith("["):
            parts = json.loads(r.data)
            if any(isinstance(p, dict) and "c" in p for p in parts):
                updates += 1
    summary = _replay_json(str(path), "--venue", "kraken", "--book")
    assert updates > 2000
    assert summary["checksum_ok"] == updates
    assert summary["checksum_failed"] == 0 and summary["gaps"] == 0 and summary["errors"] == 0
    assert summary["events"]["BookDelta"] == updates


def test_replay_hitbtc_has_no_gaps_and_klines_match_hitbtc_candles(capture_file: Any, tmp_path: Path) -> None:
    path = capture_file("hitbtc-v2-public.dev.capture")
    out = tmp_path / "bars.jsonl"
    summary = _replay_json(str(path), "--venue", "hitbtc", "--book", "--klines", "1m", "--klines-out", str(out))
    assert summary["gaps"] == 0 and summary["errors"] == 0 and summary["book_updates"] > 0
    # HitBTC's own M1 candles and the oldest snapshot trade per symbol, read independently.
    candles: dict[tuple[str, float], dict[str, Any]] = {}
    oldest: dict[str, float] = {}
    for r in read_capture(path):
        if r.kind != "in" or '"method"' not in r.data:
            continue
        msg = json.loads(r.data)
        params = msg["params"]
        if msg["method"] == "snapshotCandles":
            for c in params["data"]:
                t = _iso(c["timestamp"])
                candles[(params["symbol"], t)] = c
        elif msg["method"] == "snapshotTrades":
            oldest[params["symbol"]] = min(_iso(t["timestamp"]) for t in params["data"])
    compared = 0
    for line in out.read_text().splitlines():
        bar = json.loads(line)
        sym, t0 = bar["symbol"], bar["open_time"]
        if sym not in oldest or t0 < (oldest[sym] // 60) * 60 + 60:
            continue  # the oldest trade's bucket is not fully covered by the snapshot
        candle = candles.get((sym, t0))
        assert candle is not None, f"HitBTC has no candle for {sym} {t0}"
        assert (bar["open"], bar["close"], bar["high"], bar["low"]) == pytest.approx(
            (float(candle["open"]), float(candle["close"]), float(candle["max"]), float(candle["min"])), rel=1e-12
        )
        assert bar["volume"] == pytest.approx(float(candle["volume"]), rel=1e-9)
        compared += 1
    assert compared >= 20


def test_replay_binance_diffs_bridge_their_rest_snapshots(capture_file: Any) -> None:
    ws = capture_file("binance-spot-depth.dev.capture")
    rest = capture_file("binance-spot-depth-snapshots.dev.capture")
    symbols = {r.url.split("symbol=")[1].split("&")[0] for r in read_capture(rest) if r.kind == "http"}
    summary = _replay_json(str(ws), str(rest), "--venue", "binance-spot", "--book")
    assert summary["gaps"] == 0 and summary["errors"] == 0
    assert summary["events"]["BookSnapshot"] == len(symbols)
    assert set(summary["synced_symbols"]) == symbols  # every symbol bridged its snapshot
    assert summary["synced_books"] > 100


def _iso(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_replay_reports_bad_lines_and_goes_on(tmp_path: Path, capture_file: Any) -> None:
    src = capture_file("kraken-trade.dev.capture").read_text().splitlines()
    damaged = tmp_path / "damaged.capture"
    src.insert(5, "garbage without separator")
    src.append(src[-1][: len(src[-1]) // 2])  # a truncated last frame
    damaged.write_text("\n".join(src) + "\n")
    result = CliRunner().invoke(cli, ["replay", str(damaged), "--venue", "kraken", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert any(p.startswith(f"{damaged}:6:") for p in summary["problems"])
    assert summary["errors"] >= 2  # the garbage line and the truncated frame
    assert summary["events"].get("Trade", 0) > 0


def test_replay_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text("")
    runner = CliRunner()
    assert runner.invoke(cli, ["replay", str(f), "--venue", "nowhere"]).exit_code == 2
    assert runner.invoke(cli, ["replay", str(f), "--venue", "kraken", "--klines-out", "o.jsonl"]).exit_code == 2
    assert runner.invoke(cli, ["replay", str(f), "--venue", "kraken", "--klines", "7x"]).exit_code == 2
    assert runner.invoke(cli, ["replay", str(tmp_path / "missing"), "--venue", "kraken"]).exit_code == 2


# ---------------------------------------------------------------- record live, replay: same events


def _key(e: Any) -> Any:
    return (
        type(e).__name__,
        e.symbol,
        e.time,
        e.recv_time,
        getattr(e, "bids", None),
        getattr(e, "asks", None),
        getattr(e, "price", None),
        getattr(e, "checksum", None),
    )


def test_record_from_simulator_then_replay_gives_the_live_events(tmp_path: Path) -> None:
    path = tmp_path / "kraken.jsonl.gz"
    live: list[Any] = []
    with KrakenSim(seed=7, tick_interval=0.02) as sim:
        client = rxfeeds.Kraken(url=sim.url)
        recorder = Recorder(path, venue="kraken").attach(client)
        subs = [
            client.book("XBT/USD", depth=10).subscribe(live.append),
            client.trades(["XBT/USD", "ETH/USD"]).subscribe(live.append),
        ]
        wait_until(
            lambda: sum(isinstance(e, Trade) for e in live) >= 5 and sum(isinstance(e, BookDelta) for e in live) >= 20
        )
        unsubscribing = time.time()
        for d in subs:
            d.dispose()
        client.close()
        recorder.close()
    session = rxfeeds.replay(path, venue="kraken")
    replayed: list[Any] = []
    session.book("XBT/USD", depth=10).subscribe(replayed.append)
    session.trades(["XBT/USD", "ETH/USD"]).subscribe(replayed.append)
    session.run()
    # The same market events (order across channels may interleave differently).  A frame that
    # arrived while unsubscribing is in the capture but may have missed the live observer.
    live_events = [e for e in live if not isinstance(e, StreamReset)]
    assert any(isinstance(e, BookSnapshot) for e in live_events)
    extra = Counter(map(_key, replayed))
    extra.subtract(Counter(map(_key, live_events)))
    assert not [k for k, n in extra.items() if n < 0], "a live event is missing from the replay"
    assert all(k[3] >= unsubscribing for k, n in extra.items() if n > 0)
    # And per channel, the order is exactly the live order.
    replayed_trades = [_key(e) for e in replayed if isinstance(e, Trade)]
    live_trades = [_key(e) for e in live_events if isinstance(e, Trade)]
    assert replayed_trades[: len(live_trades)] == live_trades


def test_replay_in_virtual_time_follows_recorded_timestamps(tmp_path: Path, capture_file: Any) -> None:
    from reactivex.scheduler import HistoricalScheduler

    scheduler = HistoricalScheduler()
    session = rxfeeds.replay(capture_file("kraken-trade.dev.capture"), venue="kraken", scheduler=scheduler)
    seen: list[tuple[float, float]] = []
    session.trades(["WAVES/EUR", "SC/EUR", "ETH/CHF", "OCEAN/XBT", "OMG/USD", "ADA/XBT"]).subscribe(
        lambda e: seen.append((scheduler.now.timestamp(), e.recv_time))
    )
    session.run()
    assert seen and all(abs(clock - recv) < 1e-6 for clock, recv in seen)


def test_replay_at_speed_takes_scaled_real_time(capture_file: Any) -> None:
    path = capture_file("kraken-ticker.dev.capture")
    records = list(read_capture(path))
    span = records[-1].t - records[0].t
    session = rxfeeds.replay(path, venue="kraken", speed=span / 0.5)  # the whole capture in ~0.5 s
    started = time.monotonic()
    session.run()
    assert 0.4 <= time.monotonic() - started < 5.0


def test_replay_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="paths"):
        rxfeeds.replay([], venue="kraken")
    with pytest.raises(ValueError, match="paths"):
        rxfeeds.replay(tmp_path / "missing.jsonl", venue="kraken")
    f = tmp_path / "x.jsonl"
    f.write_text("")
    with pytest.raises(ValueError, match="speed"):
        rxfeeds.replay(f, venue="kraken", speed=0)
    with pytest.raises(ValueError, match="venue"):
        rxfeeds.replay(f, venue="nowhere")


def test_record_cli_writes_a_replayable_capture(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    with KrakenSim(seed=3, tick_interval=0.02) as sim:
        result = CliRunner().invoke(
            cli, ["record", "kraken", "book", "XBT/USD", "-o", str(out), "--duration", "1.5", "--url", sim.url]
        )
    assert result.exit_code == 0, result.output
    kinds = Counter(r.kind for r in read_capture(out))
    assert kinds["open"] == 1 and kinds["out"] >= 1 and kinds["in"] > 5
    summary = _replay_json(str(out), "--venue", "kraken", "--book")
    assert summary["checksum_ok"] == summary["checksummed_updates"] > 0 and summary["checksum_failed"] == 0


def test_watch_cli_prints_the_top_of_book_without_a_tty() -> None:
    with KrakenSim(seed=5, tick_interval=0.02) as sim:
        result = CliRunner().invoke(cli, ["watch", "kraken", "book", "XBT/USD", "--duration", "2.5", "--url", sim.url])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert "XBT/USD" in last and "updates" in last
    bid, ask = (float(x) for x in last.split("XBT/USD ")[1].split(";")[0].split(" / "))
    assert bid < ask


def test_unknown_channel_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["watch", "kraken", "nonsense", "XBT/USD", "--url", "ws://127.0.0.1:9"])
    assert result.exit_code == 2 and "choose one of" in result.output


def test_recordings_never_contain_credentials(tmp_path: Path) -> None:
    path = tmp_path / "private.jsonl"
    secret_token = "SECRET-TOKEN-0123456789"
    with KrakenSim(seed=1) as sim:
        client = rxfeeds.Kraken(url=sim.url, auth_url=sim.url)
        recorder = Recorder(path, venue="kraken").attach(client)
        errors: list[Exception] = []
        d = client.own_trades(secret_token).subscribe(lambda e: None, on_error=errors.append)
        wait_until(lambda: any(r.kind == "out" and "ownTrades" in r.data for r in read_capture(path)) or errors)
        d.dispose()
        client.close()
        recorder.close()
    text = path.read_text()
    assert "ownTrades" in text and secret_token not in text and '\\"token\\":\\"***\\"' in text


# ---------------------------------------------------------------- time faults (issue 16 #7)


def _as_jsonl(path: Path, out: Path, *, shift_after: int | None = None, shift: float = 0.0) -> list[Any]:
    """``path`` rewritten as rxfeeds JSON lines; records after index ``shift_after`` moved by ``shift`` s."""
    records = list(read_capture(path))
    with open(out, "wb") as f:
        f.write(b'{"rxfeeds_capture":1,"venue":"kraken","created":0}\n')
        for i, r in enumerate(records):
            t = r.t + shift if shift_after is not None and i > shift_after else r.t
            f.write(json.dumps({"t": t, "dir": r.kind, "url": r.url, "data": r.data}).encode() + b"\n")
    return records


BOOK_PAIRS = ["ADA/XBT", "ETH/CHF", "OCEAN/XBT", "OMG/USD", "SC/EUR", "WAVES/EUR"]


def _checksummed_updates(records: list[Any]) -> int:
    """Independent count of Kraken book updates carrying a checksum (received arrays with "c")."""
    n = 0
    for r in records:
        if (
            r.kind == "in"
            and r.data.startswith("[")
            and any(isinstance(p, dict) and "c" in p for p in json.loads(r.data))
        ):
            n += 1
    return n


def test_a_clock_stepping_back_two_seconds_replays_whole(tmp_path: Path, capture_file: Any) -> None:
    src = capture_file("kraken-book-1000.dev.capture")
    stepped = tmp_path / "stepped.jsonl"
    n = len(list(read_capture(src)))
    records = _as_jsonl(src, stepped, shift_after=n // 2, shift=-2.0)
    updates = _checksummed_updates(records)
    summary = _replay_json(str(stepped), "--venue", "kraken", "--book")
    # every update replayed and verified: nothing aborted at the step
    assert summary["checksum_ok"] == updates > 2000
    assert summary["checksum_failed"] == 0 and summary["gaps"] == 0 and summary["errors"] == 0
    assert summary["clock_steps_back"] == 1 and summary["clock_max_step_back_s"] == pytest.approx(2.0, abs=0.01)
    assert summary["records"] == len(records)
    # the library replay in virtual time: every update, and its clock never goes back
    from reactivex.scheduler import HistoricalScheduler

    scheduler = HistoricalScheduler()
    session = rxfeeds.replay(stepped, venue="kraken", scheduler=scheduler)
    clock: list[float] = []
    deltas: list[Any] = []
    session.book(BOOK_PAIRS, depth=1000).subscribe(
        lambda e: (clock.append(scheduler.now.timestamp()), deltas.append(e) if isinstance(e, BookDelta) else None)
    )
    session.run()
    assert len(deltas) == summary["events"]["BookDelta"] and clock == sorted(clock)
    assert session.clock_repair.steps_back == 1


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_nan_inf_and_garbage_timestamps_are_skipped_and_reported(tmp_path: Path, capture_file: Any, fmt: str) -> None:
    src = capture_file("kraken-book-1000.dev.capture")
    updates = _checksummed_updates(list(read_capture(src)))
    lines = src.read_text().splitlines()
    beats = [i for i, line in enumerate(lines) if '"heartbeat"' in line and line[0].isdigit()]
    bad = {beats[2]: "nan", beats[5]: "inf", beats[8]: "-inf", beats[11]: "1e300"}
    path = tmp_path / "bad.capture"
    path.write_text(
        "\n".join((bad[i] + line[line.index(":") :]) if i in bad else line for i, line in enumerate(lines)) + "\n"
    )
    expected = {i + 1 for i in bad}  # line numbers of the damaged lines
    if fmt == "jsonl":
        jsonl = tmp_path / "bad.jsonl"
        with open(jsonl, "w") as f:
            for r in read_capture(path):
                f.write(json.dumps({"t": r.t, "dir": r.kind, "url": r.url, "data": r.data}) + "\n")
            n = len(list(read_capture(path)))
            f.write('{"t": 1e300, "dir": "in", "url": "x", "data": "[]"}\n')
            f.write('{"t": "soon", "dir": "in", "url": "x", "data": "[]"}\n')
            f.write('{"t": true, "dir": "in", "url": "x", "data": "[]"}\n')
        path = jsonl
        expected = {n + 1, n + 2, n + 3}
    summary = _replay_json(str(path), "--venue", "kraken", "--book")
    assert summary["checksum_ok"] == updates and summary["gaps"] == 0 and summary["checksum_failed"] == 0
    assert {int(p.split(":")[1]) for p in summary["problems"]} == expected
    assert summary["errors"] == len(expected)


def test_a_truncated_gzip_capture_replays_what_it_can(tmp_path: Path, capture_file: Any) -> None:
    src = capture_file("kraken-book-1000.dev.capture")
    whole = tmp_path / "whole.jsonl"
    records = _as_jsonl(src, whole)
    data = gzip.compress(whole.read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    problems: list[CaptureProblem] = []
    read = list(read_capture(cut, problems))
    assert 100 < len(read) < len(records)
    assert [(r.kind, r.t, r.data) for r in read] == [(r.kind, r.t, r.data) for r in records[: len(read)]]
    assert len(problems) == 1 and "truncated" in problems[0].reason
    result = CliRunner().invoke(cli, ["replay", str(cut), "--venue", "kraken", "--book", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["records"] == len(read) and summary["checksum_ok"] > 100 and summary["errors"] >= 1
    assert any("truncated" in p for p in summary["problems"])
    # nothing readable at all: reported, and the command fails
    stub = tmp_path / "stub.jsonl.gz"
    stub.write_bytes(data[:12])
    result = CliRunner().invoke(cli, ["replay", str(stub), "--venue", "kraken", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["records"] == 0 and "truncated" in result.stdout
    session = rxfeeds.replay(stub, venue="kraken")
    assert session.records == [] and len(session.problems) == 1


def test_recorder_keeps_rest_replies_in_time_order_with_their_request_time(tmp_path: Path) -> None:
    path = tmp_path / "order.jsonl"
    rec = Recorder(path)
    rec.frame_in("ws://a", "f1", 100.0)
    rec.frame_in("ws://a", "f2", 100.5)  # received while the REST request below was in flight
    rec.http("http://a/api/v3/depth?symbol=X", "{}", 100.2)  # requested at 100.2, answered later
    rec.frame_in("ws://a", "f3", 100.6)
    rec.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert [(x["dir"], x["t"]) for x in lines] == [("in", 100.0), ("in", 100.5), ("http", 100.5), ("in", 100.6)]
    assert lines[2]["requested"] == 100.2


def test_binance_record_then_replay_keeps_snapshots_in_order_and_books_match(tmp_path: Path) -> None:
    from reactivex import operators as rx_ops

    from rxfeeds import ops
    from rxfeeds.events import IntegrityEvent
    from rxfeeds.sim.binance_spot import BinanceSpotSim

    path = tmp_path / "binance.jsonl.gz"
    symbols = ["BTCUSDT", "ETHBTC"]
    live: list[Any] = []
    with BinanceSpotSim(seed=11, listed=symbols, tick_interval=0.01) as sim:
        client = rxfeeds.BinanceSpot(url=sim.url, rest_url=sim.http_url)
        recorder = Recorder(path, venue="binance-spot").attach(client)
        d = client.book(symbols).pipe(ops.order_book()).subscribe(live.append)
        wait_until(lambda: sum(getattr(b, "synced", False) for b in live) >= 60, timeout=30)
        d.dispose()
        client.close()
        recorder.close()
    records = list(read_capture(path))
    http = [i for i, r in enumerate(records) if r.kind == "http"]
    assert len(http) == 2
    for i in http:  # each REST reply is in time order with everything written before it
        assert records[i].t >= max(r.t for r in records[:i])
    # CLI replay: both snapshots bridge, no gap, nothing unreadable
    summary = _replay_json(str(path), "--venue", "binance-spot", "--book")
    assert summary["gaps"] == 0 and summary["errors"] == 0 and summary["clock_steps_back"] == 0
    assert summary["events"]["BookSnapshot"] == 2 and summary["synced_symbols"] == symbols
    # library replay: one snapshot per recorded reply, at its recorded time, books equal to live
    session = rxfeeds.replay(path, venue="binance-spot")
    assert session.snapshot("BTCUSDT").sequence is not None  # before run(): answered from the capture
    replayed: list[Any] = []
    snapshots: list[Any] = []
    session.book(symbols).pipe(
        rx_ops.do_action(lambda e: snapshots.append(e) if isinstance(e, BookSnapshot) else None),
        ops.order_book(integrity=True),
    ).subscribe(replayed.append)
    session.run()
    assert sorted(s.recv_time for s in snapshots) == sorted(records[i].t for i in http)
    assert not [e for e in replayed if isinstance(e, IntegrityEvent) and e.kind != "synced"]

    def key(b: Any) -> Any:
        return (b.symbol, b.sequence, b.bids, b.asks)

    live_books = {(b.symbol, b.sequence): key(b) for b in live if getattr(b, "synced", False)}
    compared = [key(b) for b in replayed if getattr(b, "synced", False) and (b.symbol, b.sequence) in live_books]
    assert len(compared) >= 60 and all(live_books[k[:2]] == k for k in compared)


def test_capture_clock_fires_timers_as_advancing_per_record_does() -> None:
    """CaptureClock (moved per record, advanced only when work is due) runs every timer at the
    same virtual time and between the same records as a HistoricalScheduler advanced per record,
    including timers scheduled by timers, cancelled ones and ones reading ``now``."""
    import random
    from datetime import UTC, datetime

    from reactivex.scheduler import HistoricalScheduler

    from rxfeeds.capture.replay import CaptureClock

    rng = random.Random(7)
    times = sorted(1000.0 + rng.uniform(0, 60) for _ in range(400))
    plan = [(rng.random() < 0.2, rng.uniform(0.05, 5.0), rng.random() < 0.2) for _ in times]

    def run(scheduler: Any, move: Any) -> list[tuple[int, float, str]]:
        log: list[tuple[int, float, str]] = []
        record = [0]

        def fire(s: Any, label: str) -> None:
            log.append((record[0], round(s.now.timestamp(), 6), label))
            if label.endswith("!"):  # a timer that schedules another one
                s.schedule_relative(0.5, lambda s2, _: fire(s2, label + "+"))

        for i, t in enumerate(times):
            move(t)
            record[0] = i
            schedule, delay, cancel = plan[i]
            if schedule:
                d = scheduler.schedule_relative(delay, lambda s, _, i=i: fire(s, f"{i}!"))
                if cancel:
                    d.dispose()
            if i % 50 == 0:
                log.append((i, round(scheduler.now.timestamp(), 6), "now"))
        move(times[-1] + 100.0)
        return log

    start = datetime.fromtimestamp(times[0], tz=UTC)
    historical = HistoricalScheduler(start)
    expected = run(historical, lambda t: historical.advance_to(datetime.fromtimestamp(t, tz=UTC)))
    clock = CaptureClock(times[0])
    got = run(clock, clock.move)
    assert sum(1 for e in expected if e[2] != "now") > 20
    assert got == expected

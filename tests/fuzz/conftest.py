"""Seed frames for the codec fuzz tests: hand-written examples, real captures, simulator runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from rxfeeds.cli._channels import open_channel
from rxfeeds.sim import simulator_class
from tests.codec_cases import VENUES
from tests.support.venues import client_for

#: venue -> (symbol the simulator serves, channels recorded)
SIM_SESSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kraken": ("XBT/USD", ("book", "trades")),
    "kraken-v2": ("BTC/USD", ("book", "trades")),
    "hitbtc": ("ETHBTC", ("book", "trades")),
    "hitbtc-v3": ("ETHBTC", ("book", "trades")),
    "binance-spot": ("BTCUSDT", ("book", "trades")),
    "binance-dex": ("BNB_BTCB-1DE", ("market_depth", "market_diff", "trades")),
    "bitshares": ("BTS:USD", ("book", "trades")),
    "midchains": ("BTCUSD", ("book", "trades")),
    "bybit": ("BTCUSDT", ("book", "trades", "ticker")),
    "bybit-linear": ("BTCUSDT", ("book", "trades", "ticker")),
    "coinbase": ("BTC-USD", ("book", "trades")),
    "okx": ("BTC-USDT-SWAP", ("book", "trades")),
}
SIM_FRAMES = 60


class _Tap:
    """Collects the frames a client receives (the capture recorder's hook)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.enough = threading.Event()

    def connected(self, url: str, t: float) -> None:
        pass

    def frame_in(self, url: str, data: bytes | str, t: float) -> None:
        self.frames.append(data if isinstance(data, bytes) else data.encode())
        if len(self.frames) >= SIM_FRAMES:
            self.enough.set()

    def frame_out(self, url: str, data: str, t: float) -> None:
        pass

    def http(self, url: str, body: bytes | str, t: float) -> None:
        pass


def record_simulator(venue: str) -> list[bytes]:
    """Frames a client of ``venue`` receives from its simulator for a book and trades session."""
    symbol, channels = SIM_SESSIONS[venue]
    with simulator_class(venue)(seed=16, tick_interval=0.02) as sim:
        client = client_for(venue, sim)
        tap = _Tap()
        client.add_tap(tap)
        errors: list[Any] = []
        subscriptions = [open_channel(client, ch, [symbol]).subscribe(lambda _: None, errors.append) for ch in channels]
        try:
            tap.enough.wait(20.0)  # a condition, not a sleep: returns as soon as enough frames came
        finally:
            for subscription in subscriptions:
                subscription.dispose()
            client.close()
    assert not errors, f"{venue} simulator session failed: {errors[0]!r}"
    return tap.frames[:SIM_FRAMES]


@pytest.fixture(scope="session")
def simulator_frames() -> dict[str, list[bytes]]:
    """``venue -> frames`` recorded from a short run of every venue's simulator."""
    started = time.monotonic()
    frames = {venue: record_simulator(venue) for venue in VENUES}
    assert time.monotonic() - started < 120
    return frames

"""The library's boundary keeps its types for mypy users (``mypy --strict`` on a small user file).

Fails if ``rxfeeds.Kraken()`` (a lazy top-level export), a client's channel, ``Feed.pipe`` or an
operator goes back to ``Any``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(300)


USER_FILE = textwrap.dedent(
    """
    import rxfeeds
    from rxfeeds import ops

    kraken = rxfeeds.Kraken()
    feed = kraken.book("XBT/USD", depth=10)
    reveal_type(kraken)  # Kraken
    reveal_type(feed)  # Feed[Event]
    reveal_type(feed.pipe(ops.order_book()))  # Observable[OrderBook]
    reveal_type(rxfeeds.Kraken().book("XBT/USD").pipe(ops.order_book(), ops.latest()))  # Observable[OrderBook]
    reveal_type(rxfeeds.BinanceDex().book("BNB_BTCB-1DE"))  # Observable[Event]
    reveal_type(rxfeeds.HitBTC().klines("ETHBTC", "1m"))  # Observable[Kline | Event]
    reveal_type(rxfeeds.replay)  # def replay
    """
)

EXPECTED = [
    "rxfeeds.venues.kraken.client.Kraken",
    "rxfeeds.feed.Feed[rxfeeds.events.Event]",
    "reactivex.observable.observable.Observable[rxfeeds.books.book.OrderBook]",
    "reactivex.observable.observable.Observable[rxfeeds.books.book.OrderBook]",
    "reactivex.observable.observable.Observable[rxfeeds.events.Event]",
    "reactivex.observable.observable.Observable[rxfeeds.events.Kline | rxfeeds.events.Event]",
    "def (paths",
]


def test_the_public_boundary_is_typed_for_mypy(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    user = tmp_path / "user_script.py"
    user.write_text(USER_FILE)
    env = dict(os.environ, MYPYPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(user)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    revealed = re.findall(r'Revealed type is "(.*)"', result.stdout)
    assert len(revealed) == len(EXPECTED), result.stdout + result.stderr
    for got, want in zip(revealed, EXPECTED, strict=True):
        assert got.startswith(want), f"revealed {got!r}, expected {want!r}\n{result.stdout}"
        assert "Any" not in got.split("(")[0], got
    assert "error:" not in result.stdout, result.stdout

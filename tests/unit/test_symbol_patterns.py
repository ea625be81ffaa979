"""Symbol and argument patterns end at the end of the text: ``"ETHBTC\\n"`` is refused (issue 16: 13).

``re.match(r"...$")`` also matches before a trailing newline; every pattern now ends with ``\\Z``
(or is used with ``fullmatch``).  Each case: a well-formed value matches, the same value with a
trailing newline does not.
"""

from __future__ import annotations

import importlib
import re

import pytest

from rxfeeds.errors import InvalidArgument
from rxfeeds.venues.binance_dex.codec import is_symbol
from rxfeeds.venues.midchains.codec import check_security
from rxfeeds.venues.registry import specs
from rxfeeds.venues.symbols import check_symbols

PATTERNS = [
    ("rxfeeds.venues.hitbtc.client", "_CURRENCY", "ETH"),
    ("rxfeeds.venues.bitshares.client", "_ACCOUNT_NAME", "init0"),
    ("rxfeeds.venues.bitshares.client", "_ACCOUNT_ID", "1.2.17"),
    ("rxfeeds.venues.bitshares.client", "_ASSET", "BTS"),
    ("rxfeeds.venues.binance_dex.codec", "_SYMBOL_SHAPE", "BNB_BTCB-1DE"),
    ("rxfeeds.venues.binance_dex.codec", "_ADDRESS_SHAPE", "bnb1" + "q" * 38),
    ("rxfeeds.sim.kraken", "PAIR_RE", "XBT/USD"),
    ("rxfeeds.sim.hitbtc", "_SYMBOL", "ETHBTC"),
    ("rxfeeds.sim.hitbtc", "_CURRENCY", "ETH"),
    ("rxfeeds.sim.binance_spot", "_SYMBOL", "btcusdt"),
    ("rxfeeds.sim.midchains", "_SECURITY", "BTCUSD"),
]


@pytest.mark.parametrize(("module", "name", "good"), PATTERNS, ids=[f"{m}.{n}" for m, n, _ in PATTERNS])
def test_pattern_refuses_a_trailing_newline(module: str, name: str, good: str) -> None:
    pattern: re.Pattern[str] = getattr(importlib.import_module(module), name)
    assert pattern.match(good)
    assert pattern.match(good + "\n") is None


def test_validators_refuse_a_trailing_newline() -> None:
    assert is_symbol("BNB_BTCB-1DE") and not is_symbol("BNB_BTCB-1DE\n")
    assert check_security("BTCUSD") == "BTCUSD"
    with pytest.raises(InvalidArgument, match="security"):
        check_security("BTCUSD\n")


@pytest.mark.parametrize("venue", sorted(specs()))
def test_every_venue_symbol_check_refuses_a_trailing_newline(venue: str) -> None:
    example = specs()[venue].symbol_example
    assert check_symbols(venue, example)
    with pytest.raises(InvalidArgument, match="symbol"):
        check_symbols(venue, example + "\n")

"""The simulator toolkit (rxfeeds.sim.kit) and the simulators' import rules.

Simulators are the oracle the codecs are tested against: they share no parsing code with the
codecs (constants only) and do not import other venues' simulators, so one bug cannot hide in
both sides.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from rxfeeds.intervals import parse_interval
from rxfeeds.sim.kit import bech32
from rxfeeds.sim.kit.clock import epoch_ms, iso_ms, parse_iso
from rxfeeds.sim.kit.klines import KlineBar
from rxfeeds.sim.market import SimTrade, SyntheticMarket
from rxfeeds.venues.binance_dex.codec import bech32_encode, is_address

SIM = Path(__file__).resolve().parents[2] / "rxfeeds" / "sim"
#: venue simulator module -> the venue it belongs to (versions of one venue may share code)
VENUE_OF = {
    "binance_dex": "binance-dex",
    "binance_spot": "binance-spot",
    "bitshares": "bitshares",
    "hitbtc": "hitbtc",
    "hitbtc_v3": "hitbtc",
    "kraken": "kraken",
    "kraken_v2": "kraken",
    "midchains": "midchains",
}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every ``from X import names`` (relative modules resolved under rxfeeds)."""
    tree = ast.parse(path.read_text())
    package = ["rxfeeds", *path.relative_to(SIM.parent).with_suffix("").parts[:-1]]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            out.append((module, [a.name for a in node.names]))
    return out


def _files(module: str) -> list[Path]:
    """A venue simulator's module, or every module of its package (``sim/kraken/``)."""
    if (SIM / module).is_dir():
        return sorted((SIM / module).rglob("*.py"))
    return [SIM / f"{module}.py"]


@pytest.mark.parametrize("module", sorted(VENUE_OF))
def test_a_venue_simulator_imports_no_other_venue_simulator_and_no_codec_parser(module: str) -> None:
    files = _files(module)
    assert files and all(f.exists() for f in files), module
    for imported, names in (found for path in files for found in _imports(path)):
        if imported.startswith("rxfeeds.sim."):
            other = imported.split(".")[2]
            if other in VENUE_OF:
                assert VENUE_OF[other] == VENUE_OF[module], f"{module} imports the {other} simulator"
        if imported.startswith("rxfeeds.venues."):
            not_constants = [n for n in names if not n.isupper()]
            assert not_constants == [], f"{module} uses codec code {not_constants} from {imported}"


def test_sim_order_is_defined_once() -> None:
    defined = [
        str(path.relative_to(SIM))
        for path in SIM.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.name == "SimOrder"
    ]
    assert defined == [os.path.join("kit", "orders.py")]


def test_bech32_matches_the_bip173_vectors_and_an_independent_encoder() -> None:
    for valid in ("a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"):
        assert bech32.decode(valid) is not None
    for invalid in ("pzry9x0s0muk", "li1dgmt3", "x1b4n0q5v", "10a06t8", "1qzzfhee", "a12uel5m"):
        assert bech32.decode(invalid) is None
    for i in range(200):
        payload = bytes((i * 7 + k * 13) % 256 for k in range(20))
        for hrp in ("bnb", "tbnb"):
            address = bech32.encode(hrp, payload)
            assert address == bech32_encode(hrp, payload)  # two implementations, one answer
            assert bech32.decode(address) == (hrp, payload)
            assert is_address(address)
            broken = address[:-1] + ("q" if address[-1] != "q" else "p")
            assert bech32.decode(broken) is None and not is_address(broken)


def test_clock_formats_round_trip() -> None:
    t = 1626318403.095
    assert iso_ms(t) == "2021-07-15T03:06:43.095Z"
    assert parse_iso(iso_ms(t)) == t
    assert parse_iso("2021-07-15T05:06:43.095+02:00") == t
    assert epoch_ms(t) == 1626318403095
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_kline_bar_texts_are_exact() -> None:
    market = SyntheticMarket("BTCUSDT", seed=3, mid="100", tick_size="0.01", size_decimals=3)
    bar = KlineBar.start(parse_interval("1m"), 120.5, 10_000)
    bar.add(SimTrade(1, 121.0, 10_001, 1_500, "buy"))
    bar.add(SimTrade(2, 122.0, 9_999, 500, "sell"))
    texts = bar.texts(market, 8)
    prices = (texts.open, texts.high, texts.low, texts.close)
    assert prices == ("100.01000000", "100.01000000", "99.99000000", "99.99000000")
    assert (texts.volume, texts.buy_volume) == ("2.00000000", "1.50000000")
    assert texts.quote_volume == "200.01000000"  # 100.01 * 1.5 + 99.99 * 0.5
    assert (bar.first_id, bar.last_id, bar.count, bar.open_time) == (1, 2, 2, 120.0)

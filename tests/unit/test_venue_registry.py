"""The venue registry: specs declared once, every table derived, third parties added by entry point."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import rxfeeds
from rxfeeds.cli import cli
from rxfeeds.cli._channels import open_channel
from rxfeeds.errors import InvalidArgument
from rxfeeds.sim import SIMULATORS
from rxfeeds.sim.kraken import KrakenSim
from rxfeeds.venues import CODECS, VENUES, client_class, codec_class, load, registry
from rxfeeds.venues.spec import Channel, VenueSpec


def toy_spec(name: str = "toy") -> VenueSpec:
    """A venue declared by a test: Kraken's client and simulator under another name and export."""
    return VenueSpec(
        name=name,
        aliases=(name + "-alias",),
        client="rxfeeds.venues.kraken.client:Kraken",
        codec="rxfeeds.venues.kraken.codec:KrakenCodec",
        simulator="rxfeeds.sim.kraken:KrakenSim",
        status="documentation-only",
        export="ToyClient",
        channels=(Channel("trades", ("Trade",)),),
        trading=("add_order",),
        symbol_example="XBT/USD",
    )


@pytest.fixture
def toy() -> Iterator[VenueSpec]:
    spec = registry.register(toy_spec())
    yield spec
    registry.unregister(spec.name)
    rxfeeds.__dict__.pop("ToyClient", None)


def test_every_builtin_table_is_derived_from_the_specs() -> None:
    specs = registry.specs()
    assert set(specs) >= {  # the shipped venues (a new venue joins by its spec alone)
        "kraken",
        "kraken-v2",
        "hitbtc",
        "hitbtc-v3",
        "binance-spot",
        "binance-dex",
        "bitshares",
        "midchains",
    }
    assert {n: s.client for n, s in specs.items()} == VENUES
    assert {n: s.codec for n, s in specs.items()} == CODECS
    assert {n: s.simulator for n, s in specs.items() if s.simulator} == SIMULATORS
    for name, spec in specs.items():
        assert client_class(name) is load(spec.client)
        assert codec_class(name)().venue == name
        assert spec.export is not None and getattr(rxfeeds, spec.export) is load(spec.client)
        assert spec.export in rxfeeds.__all__


def test_requests_and_trading_calls_are_never_channels() -> None:
    with pytest.raises(ValueError, match="both channel and call"):
        VenueSpec("bad", "m:C", "m:K", None, "retired", (Channel("cancel_all", ("X",)),), "AB", trading=("cancel_all",))
    with pytest.raises(ValueError, match="sync rule"):
        Channel("book", ("BookSnapshot",), book="guesswork")  # type: ignore[arg-type]


def test_a_venue_registered_in_process_reaches_every_table(toy: VenueSpec) -> None:
    assert VENUES["toy"] == VENUES["toy-alias"] == toy.client
    assert SIMULATORS["toy"] == toy.simulator
    assert registry.spec("toy-alias") is toy
    assert rxfeeds.ToyClient is client_class("kraken")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="already registered"):
        registry.register(toy_spec())
    result = CliRunner().invoke(cli, ["venues", "--json"])
    assert '"venue":"toy"' in result.output
    # the CLI accepts it as a venue and holds it to its own channel map
    result = CliRunner().invoke(cli, ["watch", "toy", "book", "XBT/USD", "--url", "ws://127.0.0.1:1"])
    assert result.exit_code == 2 and "choose one of trades" in result.output


def test_unregistered_venues_leave_no_trace(toy: VenueSpec) -> None:
    registry.unregister("toy")
    assert "toy" not in VENUES and "toy-alias" not in VENUES and "toy" not in SIMULATORS
    with pytest.raises(InvalidArgument, match="unknown venue"):
        registry.spec("toy")


def test_third_party_venue_from_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed distribution (dist-info on sys.path) read by importlib.metadata."""
    (tmp_path / "toyvenue_pkg.py").write_text(
        textwrap.dedent(
            """
            from rxfeeds.venues.spec import Channel, VenueSpec

            SPEC = VenueSpec(
                name="toy-ep",
                client="rxfeeds.venues.kraken.client_v2:KrakenV2",
                codec="rxfeeds.venues.kraken.codec_v2:KrakenV2Codec",
                simulator=None,
                status="live",
                channels=(Channel("book", ("BookSnapshot", "BookDelta"), book="checksum"),),
                symbol_example="BTC/USD",
            )
            BROKEN = 42
            """
        )
    )
    info = tmp_path / "toyvenue-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyvenue\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[rxfeeds.venues]\ntoy-ep = toyvenue_pkg:SPEC\nbroken = toyvenue_pkg:BROKEN\nmissing = no_such_module:X\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        assert registry.load_entry_points() == ["toy-ep"]  # the broken ones are logged and skipped
        assert VENUES["toy-ep"] == "rxfeeds.venues.kraken.client_v2:KrakenV2"
        assert registry.spec("toy-ep").book_channel is not None
        assert registry.load_entry_points() == []  # loading twice registers nothing twice
    finally:
        registry.unregister("toy-ep")
        sys.modules.pop("toyvenue_pkg", None)


@pytest.mark.parametrize(
    ("venue", "call"),
    [
        ("kraken", "cancel_all"),
        ("kraken", "add_order"),
        ("kraken-v2", "batch_cancel"),
        ("hitbtc", "new_order"),
        ("hitbtc-v3", "symbols"),
        ("midchains", "login"),
        ("bitshares", "call"),
        ("binance-spot", "snapshot"),
        ("binance-dex", "account"),
    ],
)
def test_watch_refuses_trading_calls_and_requests_without_connecting(venue: str, call: str) -> None:
    with KrakenSim(seed=1, tick_interval=None) as sim:
        result = CliRunner().invoke(cli, ["watch", venue, call, "XBT/USD", "--url", sim.url])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        channels = registry.spec(venue).channel_names()
        assert f"CHANNEL {call!r}" in lines[0] and all(c in lines[0] for c in channels)
        assert sim.connection_count == 0  # refused before any client existed


@pytest.mark.parametrize("command", ["record", "publish"])
def test_record_and_publish_refuse_trading_calls(command: str, tmp_path: Path) -> None:
    args = ["record", "kraken", "add_order", "XBT/USD", "-o", str(tmp_path / "x")]
    if command == "publish":
        args = ["publish", "kraken", "add_order", "XBT/USD", "--bus", "nats://127.0.0.1:1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "a trading call" in result.output, result.output
    assert not (tmp_path / "x").exists()


def test_open_channel_refuses_undeclared_methods() -> None:
    client: Any = client_class("kraken")(url="ws://127.0.0.1:1")
    try:
        with pytest.raises(Exception, match="is not a channel of kraken"):
            open_channel(client, "cancel_all", ["TOKEN"])
    finally:
        client.close()


def test_venues_command_prints_every_venue() -> None:
    result = CliRunner().invoke(cli, ["venues"], terminal_width=200)
    assert result.exit_code == 0
    for name, spec in registry.specs().items():
        assert name in result.output and spec.status in result.output
    assert "checksum" in result.output and "XBT/USD" in result.output


@pytest.mark.parametrize("command", ["watch", "record", "publish"])
def test_help_lists_each_venues_declared_channels(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, spec in registry.specs().items():
        assert f"{name} " in result.output and " ".join(spec.channel_names()) in result.output
    assert "cancel_all" not in result.output


@pytest.mark.parametrize(
    "module",
    [
        "rxfeeds.events",
        "rxfeeds.venues.spec",
        "rxfeeds.venues.registry",
        "rxfeeds.venues.symbols",
        "rxfeeds.venues.base",
        "rxfeeds.venues.tables",
        "rxfeeds.venues.orders",
        "rxfeeds.cli.venues",
        "rxfeeds.venues.kraken.spec",
        "rxfeeds.venues.hitbtc.spec",
        "rxfeeds.venues.binance_spot.spec",
        "rxfeeds.venues.binance_dex.spec",
        "rxfeeds.venues.bitshares.spec",
        "rxfeeds.venues.midchains.spec",
        "rxfeeds.venues.kraken.client",
    ],
)
def test_doctests_of_the_contract_modules(module: str) -> None:
    import doctest

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
